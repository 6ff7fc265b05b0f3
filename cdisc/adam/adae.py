"""ADAE (ADaM OCCDS, ADAE v1.0): one record per SDTM AE record, with analysis dates imputed by
a documented rule, treatment-emergence and period flags, analysis causality and its pooled
groups, the analysis toxicity grade with its grading scale, adverse events of special
interest (CQzzNAM) and first-occurrence flags. Every choice comes from adam.yaml
`adverse_events`; one function per derived variable or tightly bound pair."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc.adam.adrs import study_day
from cdisc.adam.config import AdverseEvents, GroupRule
from cdisc.adam.impute import impute_date
from cdisc.adam.inputs import where_mask

# ADSL variables every ADAE record carries (when ADSL has them)
ADSL_CARRIED = ["SUBJID", "SITEID", "AGE", "AGEGR1", "SEX", "RACE", "TRT01A", "TRT01AN",
                "SAFFL", "TRTFL", "TRTSDT", "TRTEDT", "LDSTDT", "DTHDT", "DTH30FL", "DTH100FL",
                "DCUTDT"]


def supplemental_values(supp: pd.DataFrame, parent: pd.DataFrame, domain: str,
                        qnam: str) -> pd.Series:
    """SUPP--.QVAL of one QNAM placed on the parent records it qualifies (IDVAR/IDVARVAL;
    a subject-level qualifier with a blank IDVAR applies to all the subject's records)."""
    out = pd.Series("", index=parent.index, dtype=object)
    if supp.empty or "QNAM" not in supp:
        return out
    rows = supp[(supp["QNAM"] == qnam) & (supp.get("RDOMAIN", domain) == domain)]
    for idvar, part in rows.groupby(rows["IDVAR"].fillna("").astype(str), sort=True):
        if idvar == "":
            values = part.drop_duplicates("USUBJID").set_index("USUBJID")["QVAL"]
            hit = parent["USUBJID"].map(values)
        else:
            key = parent[idvar].map(_key_text)
            values = part.assign(_k=part["IDVARVAL"].map(_key_text)).drop_duplicates(
                ["USUBJID", "_k"]).set_index(["USUBJID", "_k"])["QVAL"]
            hit = pd.Series(pd.MultiIndex.from_arrays([parent["USUBJID"], key]).map(
                values.to_dict()), index=parent.index)
        out = out.mask(hit.notna(), hit)
    return out.fillna("").astype(object)


def _key_text(value: object) -> str:
    """IDVARVAL text of a key value: a whole float (an --SEQ) without its '.0'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def base_from_ae(ae: pd.DataFrame, adsl: pd.DataFrame) -> pd.DataFrame:
    """The AE records of ADSL subjects with the ADSL variables ADAE carries."""
    carried = ["STUDYID", "USUBJID", *[c for c in ADSL_CARRIED if c in adsl.columns]]
    records = ae.drop(columns=[c for c in carried if c in ae.columns and c != "USUBJID"])
    out = adsl[carried].merge(records, on="USUBJID", how="inner")
    return out.reset_index(drop=True)


def derive_analysis_dates(adae: pd.DataFrame, spec: AdverseEvents) -> pd.DataFrame:
    """ASTDT/ASTDTF from AESTDTC (imputed `first`, not before the onset bounds) and
    AENDT/AENDTF from AEENDTC (imputed `last`, not after the end bounds)."""
    floors = [adae[v] for v in spec.onset_not_before if v in adae.columns]
    ceilings = [adae[v] for v in spec.end_not_after if v in adae.columns]
    astdt, astdtf = impute_date(adae["AESTDTC"], "first", floors)
    aendt, aendtf = impute_date(adae["AEENDTC"], "last", ceilings)
    return adae.assign(ASTDT=astdt, ASTDTF=astdtf, AENDT=aendt, AENDTF=aendtf)


def derive_relative_days(adae: pd.DataFrame, reference: str) -> pd.DataFrame:
    """ASTDY and AENDY relative to the reference date (ADSL.TRTSDT); ADURN/ADURU the duration
    in days when both dates are known."""
    ref = adae[reference]
    duration = (adae["AENDT"] - adae["ASTDT"]).dt.days.astype("float64") + 1
    duration = duration.where(duration > 0)
    return adae.assign(ASTDY=study_day(adae["ASTDT"], ref),
                       AENDY=study_day(adae["AENDT"], ref), ADURN=duration,
                       ADURU=np.where(duration.notna(), "DAYS", ""))


def derive_period_flag(adae: pd.DataFrame, name: str, start: str, before: str | None,
                       days_after: tuple[str, int] | None) -> pd.DataFrame:
    """Y when ASTDT is on or after ADSL `start`, before ADSL `before` (when that date exists)
    and, with days_after (date, n), no later than n days after that date; else blank."""
    onset = adae["ASTDT"]
    hit = onset.notna() & adae[start].notna() & (onset >= adae[start])
    if before:
        hit &= adae[before].isna() | (onset < adae[before])
    if days_after:
        var, days = days_after
        hit &= adae[var].isna() | (onset <= adae[var] + pd.Timedelta(days=days))
    return adae.assign(**{name: np.where(hit, "Y", "")})


def derive_causality(adae: pd.DataFrame, spec: AdverseEvents) -> pd.DataFrame:
    """AREL: the collected causality, or the configured value when none was recorded; ARELN
    (and AERELN) its position in the configured order (1 = least related)."""
    collected = adae[spec.causality_variable].fillna("").astype(str)
    arel = collected.mask(collected == "", spec.causality_missing or "")
    rank = {v: float(i) for i, v in enumerate(spec.causality_order, start=1)}
    return adae.assign(AREL=arel, ARELN=arel.map(rank).astype("float64"),
                       AERELN=collected.map(rank).astype("float64"))


def derive_groups(adae: pd.DataFrame, name: str, rules: list[GroupRule]) -> pd.DataFrame:
    """A pooled group variable (RELGRy) and its number: the first rule whose filter holds
    on the record; records no rule takes stay blank."""
    value = pd.Series("", index=adae.index, dtype=object)
    number = pd.Series(np.nan, index=adae.index)
    for i, rule in enumerate(rules, start=1):
        hit = (value == "") & where_mask(adae, rule.where, "ADAE")
        value = value.mask(hit, rule.value)
        number = number.mask(hit, float(i))
    return adae.assign(**{name: value, f"{name}N": number})


def derive_toxicity(adae: pd.DataFrame, spec: AdverseEvents) -> pd.DataFrame:
    """ATOXGR: the collected grade (never imputed); AETOXGRN/ATOXGRN: the grade as a number."""
    grade = adae[spec.grade_variable].fillna("").astype(str).str.strip()
    number = pd.to_numeric(grade.where(grade != ""), errors="coerce").astype("float64")
    return adae.assign(ATOXGR=grade, ATOXGRN=number, AETOXGRN=number)


def derive_special_interest(adae: pd.DataFrame, spec: AdverseEvents) -> pd.DataFrame:
    """CQzzNAM: the name of the zz-th configured event group when the record belongs to it."""
    out = {}
    for i, group in enumerate(spec.special_interest, start=1):
        hit = where_mask(adae, group.where, "ADAE")
        if group.min_grade is not None:
            hit &= adae["ATOXGRN"] >= group.min_grade
        if group.present_on_day is not None:
            day = float(group.present_on_day)
            hit &= (adae["ASTDY"] <= day) & (adae["AENDY"].isna() | (adae["AENDY"] >= day))
        out[f"CQ{i:02d}NAM"] = np.where(hit, group.name, "")
    return adae.assign(**out)


def _in_order(rows: pd.DataFrame, worst_first: bool) -> pd.DataFrame:
    """The records by earliest onset, or with worst_first by highest grade first, then
    earliest onset; AESEQ breaks ties (then the input order: the sort is stable). The first
    record of any group is then its first occurrence, so one sort serves every level."""
    order = (["ATOXGRN"] if worst_first else []) + ["ASTDT", "AESEQ"]
    ascending = ([False] if worst_first else []) + [True, True]
    return rows.sort_values(order, ascending=ascending, kind="stable", na_position="last")


def _first_flag(adae: pd.DataFrame, ranked: pd.DataFrame, by: list[str]) -> np.ndarray:
    """Y on the first record (of the ranked ones, _in_order) of each group (USUBJID, by)."""
    first = ranked.drop_duplicates(["USUBJID", *by]).index
    return np.where(adae.index.isin(first), "Y", "")


def derive_occurrence_flags(adae: pd.DataFrame, among_flag: str) -> pd.DataFrame:
    """AOCCFL / AOCCSFL / AOCCPFL: first event per subject, per SOC, per SOC and PT;
    AOCCIFL / AOCCSIFL / AOCCPIFL: the first of the highest grade, likewise; all among the
    records whose `among_flag` is Y (the treatment-emergent events)."""
    among = adae[among_flag] == "Y"
    levels = {"": [], "S": ["AEBODSYS"], "P": ["AEBODSYS", "AEDECOD"]}
    # only the columns the flags read: ADAE has dozens
    rows = adae.loc[among, ["USUBJID", "AEBODSYS", "AEDECOD", "ATOXGRN", "ASTDT", "AESEQ"]]
    earliest, worst = _in_order(rows, worst_first=False), _in_order(rows, worst_first=True)
    out = {}
    for tag, by in levels.items():
        out[f"AOCC{tag}FL"] = _first_flag(adae, earliest, by)
        out[f"AOCC{tag}IFL"] = _first_flag(adae, worst, by)
    return adae.assign(**out)


def build_adae(adsl: pd.DataFrame, ae: pd.DataFrame, suppae: pd.DataFrame,
               spec: AdverseEvents) -> pd.DataFrame:
    adae = base_from_ae(ae, adsl)
    for qnam in spec.supplemental:
        adae[qnam] = supplemental_values(suppae, adae, "AE", qnam)
    adae = derive_analysis_dates(adae, spec)
    adae = derive_relative_days(adae, spec.reference)
    for flag in spec.period_flags:
        adae = derive_period_flag(adae, flag.name, flag.start, flag.before, flag.days_after)
    adae = derive_causality(adae, spec)
    adae = derive_toxicity(adae, spec)
    for name, rules in spec.groups.items():
        adae = derive_groups(adae, name, rules)
    adae = derive_special_interest(adae, spec)
    adae = derive_occurrence_flags(adae, spec.occurrence_among)
    return adae.sort_values(["USUBJID", "AESEQ"], kind="stable").reset_index(drop=True)
