"""ADSL (ADaMIG v1.3): one record per subject in DM. One function per derived variable (or per
tightly bound pair such as AGEGR1/AGEGR1N); dates are datetime64 here and become SAS numeric
dates when the dataset is assembled."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc.adam.config import AdamConfig
from cdisc.adam.impute import FIRST, impute_date
from cdisc.adam.inputs import by_subject, to_date, where_mask

DM_VARIABLES = ["STUDYID", "USUBJID", "SUBJID", "SITEID", "AGE", "AGEU", "SEX", "RACE", "ETHNIC",
                "COUNTRY", "ARM", "ARMCD", "ACTARM", "ACTARMCD", "DTHFL"]


def _per_subject(adsl: pd.DataFrame, values: pd.Series) -> pd.Series:
    return by_subject(adsl["USUBJID"], values)


def _dates_of(df: pd.DataFrame, spec: dict, dataset: str, column: str) -> pd.DataFrame:
    """USUBJID and complete dates of one date variable of the filtered records."""
    if df.empty or column not in df.columns:
        return pd.DataFrame({"USUBJID": pd.Series(dtype=object),
                             "date": pd.Series(dtype="datetime64[ns]")})
    where = spec.get("where") or {}
    # the two columns only: filtering a whole domain (LB) would copy all of its columns
    rows = df[["USUBJID", column]]
    if where:
        rows = rows[where_mask(df, where, dataset)]
    out = pd.DataFrame({"USUBJID": rows["USUBJID"].astype(object), "date": to_date(rows[column])},
                       copy=False)
    return out[out["date"].notna()]


def base_from_dm(dm: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in DM_VARIABLES if c in dm.columns]
    return dm[cols].copy().reset_index(drop=True)


def derive_agegr1(adsl: pd.DataFrame, groups: list[dict]) -> pd.DataFrame:
    """AGEGR1 / AGEGR1N from the configured age groups (1-based order of the groups)."""
    label = pd.Series("", index=adsl.index, dtype=object)
    number = pd.Series(np.nan, index=adsl.index)
    for i, g in enumerate(groups, start=1):
        hit = adsl["AGE"].notna() & (label == "")
        if "min" in g:
            hit &= adsl["AGE"] >= g["min"]
        if "max" in g:
            hit &= adsl["AGE"] <= g["max"]
        label = label.mask(hit, str(g["label"]))
        number = number.mask(hit, float(i))
    return adsl.assign(AGEGR1=label, AGEGR1N=number)


def derive_trt01(adsl: pd.DataFrame, arm_order: list[str]) -> pd.DataFrame:
    """TRT01P = DM.ARM, TRT01A = DM.ACTARM (single period); TRT01PN/TRT01AN: the position of
    ARMCD/ACTARMCD in the configured arm order (dose cohorts from the lowest), when given."""
    blank = pd.Series("", index=adsl.index, dtype=object)
    adsl = adsl.assign(TRT01P=adsl.get("ARM", blank), TRT01A=adsl.get("ACTARM", blank))
    if not arm_order:
        return adsl
    rank = {str(code): float(i) for i, code in enumerate(arm_order, start=1)}
    return adsl.assign(TRT01PN=adsl.get("ARMCD", blank).map(rank).astype("float64"),
                       TRT01AN=adsl.get("ACTARMCD", blank).map(rank).astype("float64"))


def derive_trt_dates(adsl: pd.DataFrame, ex: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """TRTSDTM/TRTSDT: first exposure start; TRTEDTM/TRTEDT: last exposure end (or start)."""
    rows = ex[where_mask(ex, spec.get("where", {}), "EX")] if not ex.empty else ex
    if rows.empty:
        empty = pd.Series(pd.NaT, index=adsl.index, dtype="datetime64[ns]")
        return adsl.assign(TRTSDTM=empty, TRTSDT=empty, TRTEDTM=empty, TRTEDT=empty)
    start = pd.to_datetime(rows["EXSTDTC"].where(rows["EXSTDTC"].str.match(r"\d{4}-\d\d-\d\d"),
                                                 None), format="ISO8601", errors="coerce")
    end_text = rows["EXENDTC"].where(rows["EXENDTC"] != "", rows["EXSTDTC"])
    end = pd.to_datetime(end_text.where(end_text.str.match(r"\d{4}-\d\d-\d\d"), None),
                         format="ISO8601", errors="coerce")
    first = start.groupby(rows["USUBJID"]).min()
    last = end.groupby(rows["USUBJID"]).max()
    sdtm = _per_subject(adsl, first)
    edtm = _per_subject(adsl, last)
    return adsl.assign(TRTSDTM=sdtm, TRTSDT=sdtm.dt.normalize(), TRTEDTM=edtm,
                       TRTEDT=edtm.dt.normalize())


def derive_trtdurd(adsl: pd.DataFrame) -> pd.DataFrame:
    """TRTDURD = TRTEDT - TRTSDT + 1 (days)."""
    return adsl.assign(TRTDURD=(adsl["TRTEDT"] - adsl["TRTSDT"]).dt.days + 1)


def derive_first_date(adsl: pd.DataFrame, sdtm: dict[str, pd.DataFrame], name: str, spec: dict,
                      after: str | None = None) -> pd.DataFrame:
    """A first-date variable (adam.yaml first_dates, intercurrent): earliest complete date of
    the configured records, on or after an ADSL date when `after` is given."""
    dataset = spec["dataset"]
    found = _dates_of(sdtm.get(dataset, pd.DataFrame()), spec, dataset, spec["date"])
    if after is not None:
        floor = found["USUBJID"].map(adsl.set_index("USUBJID")[after])
        found = found[floor.notna() & (found["date"] >= floor)]
    return adsl.assign(**{name: _per_subject(adsl, found.groupby("USUBJID")["date"].min())})


def derive_population_flags(adsl: pd.DataFrame, rs: pd.DataFrame, populations: dict,
                            response: dict) -> pd.DataFrame:
    """One Y/N flag per configured population: Y when every `populated` ADSL variable is
    populated, at least one `any_populated` variable is, and, with `assessed_after: VAR`, a
    response assessment is dated after that ADSL date."""
    flags = {}
    assessed = _dates_of(rs, response, "RS", response.get("date", "RSDTC")) if response \
        else pd.DataFrame(columns=["USUBJID", "date"])
    for name, rule in populations.items():
        hit = pd.Series(True, index=adsl.index)
        for var in rule.get("populated") or []:
            hit &= _populated(adsl[var])
        if rule.get("any_populated"):
            hit &= np.logical_or.reduce([_populated(adsl[v]) for v in rule["any_populated"]])
        if rule.get("assessed_after"):
            after = assessed["USUBJID"].map(adsl.set_index("USUBJID")[rule["assessed_after"]])
            post = set(assessed.loc[after.notna() & (assessed["date"] > after), "USUBJID"])
            hit &= adsl["USUBJID"].isin(post)
        flags[name] = np.where(hit, "Y", "N")
    return adsl.assign(**flags)


def _populated(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values.notna()
    return values.fillna("").astype(str).str.strip() != ""


def derive_death_within(adsl: pd.DataFrame, start: str, windows: dict[str, int]
                        ) -> pd.DataFrame:
    """Per configured flag, Y when DTHDT is no more than n days after the ADSL start date
    (DTHDT - start <= n), N when the subject has the start date and no such death, blank
    without a start date."""
    gap = (adsl["DTHDT"] - adsl[start]).dt.days
    flags = {name: np.where(adsl[start].isna(), "", np.where(gap.notna() & (gap <= int(days)),
                                                             "Y", "N"))
             for name, days in windows.items()}
    return adsl.assign(**flags)


def derive_lstalvdt(adsl: pd.DataFrame, sdtm: dict[str, pd.DataFrame], sources: list[dict],
                    cutoff: pd.Timestamp | None) -> pd.DataFrame:
    """LSTALVDT: the latest complete date of any last-known-alive evidence, capped at the cut."""
    parts = [_dates_of(sdtm.get(s["dataset"], pd.DataFrame()), s, s["dataset"], s["date"])
             for s in sources]
    parts.append(pd.DataFrame({"USUBJID": adsl["USUBJID"], "date": adsl["TRTEDT"]}))
    # the latest date of each source first, so that millions of lab records are not stacked
    latest = pd.concat([_latest_date(part, cutoff) for part in parts])
    return adsl.assign(LSTALVDT=_per_subject(adsl, latest.groupby(level=0).max()))


def _latest_date(found: pd.DataFrame, cutoff: pd.Timestamp | None) -> pd.Series:
    """The latest date (not after the cut) per USUBJID of USUBJID / date records (max skips
    missing dates, groupby missing subjects)."""
    if cutoff is not None:
        found = found[found["date"] <= cutoff]
    subjects, dates = found["USUBJID"].to_numpy(), found["date"].to_numpy()
    if not len(found) or dates.dtype.kind != "M":
        return found.groupby("USUBJID")["date"].max()
    # a subject's records usually come together: the latest of each run of records of one
    # subject first, then of the few runs (NaT is the smallest datetime64, so max skips it)
    starts = np.flatnonzero(np.r_[True, subjects[1:] != subjects[:-1]])
    latest = np.maximum.reduceat(dates.view("i8"), starts).view(dates.dtype)
    return pd.Series(latest, index=subjects[starts]).groupby(level=0).max()


def derive_death(adsl: pd.DataFrame, dm: pd.DataFrame, never_before_last_alive: bool = True
                 ) -> pd.DataFrame:
    """DTHDT from DM.DTHDTC; a partial date is imputed to the first day of the month (DTHDTF
    "D") or of the year (DTHDTF "M"), but never before LSTALVDT (the subject was alive then)."""
    dtc = adsl["USUBJID"].map(dm.set_index("USUBJID")["DTHDTC"]).fillna("").astype(str) \
        if "DTHDTC" in dm.columns else pd.Series("", index=adsl.index)
    dthdt, flag = impute_date(dtc, FIRST)
    if never_before_last_alive:
        late = dthdt.notna() & adsl["LSTALVDT"].notna() & (dthdt < adsl["LSTALVDT"]) & \
            (flag != "")
        dthdt = dthdt.mask(late, adsl["LSTALVDT"])
    return adsl.assign(DTHDT=dthdt, DTHDTF=flag)


def derive_dthcaus(adsl: pd.DataFrame, suppdm: pd.DataFrame) -> pd.DataFrame:
    """DTHCAUS from SUPPDM (QNAM DTHCAUS) when the sponsor collected it."""
    if suppdm.empty or "QNAM" not in suppdm:
        return adsl.assign(DTHCAUS="")
    causes = suppdm[suppdm["QNAM"] == "DTHCAUS"].set_index("USUBJID")["QVAL"]
    return adsl.assign(DTHCAUS=_per_subject(adsl, causes).fillna(""))


def derive_eos(adsl: pd.DataFrame, ds: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """EOSSTT: COMPLETED / DISCONTINUED from the end-of-study disposition record, ONGOING when
    there is none (yet, at the cut); DCSREAS: the reason when discontinued."""
    rows = ds[where_mask(ds, spec.get("where", {}), "DS")] if not ds.empty else ds
    decod = rows.drop_duplicates("USUBJID", keep="last").set_index("USUBJID")["DSDECOD"] \
        if not rows.empty else pd.Series(dtype=object)
    value = _per_subject(adsl, decod).fillna("")
    completed = str(spec.get("completed", "COMPLETED"))
    stt = np.where(value == "", "ONGOING", np.where(value == completed, "COMPLETED",
                                                   "DISCONTINUED"))
    return adsl.assign(EOSSTT=stt, DCSREAS=np.where(stt == "DISCONTINUED", value, ""))


def build_adsl(sdtm: dict[str, pd.DataFrame], config: AdamConfig,
               cutoff: pd.Timestamp | None) -> pd.DataFrame:
    dm = sdtm["DM"]
    adsl = base_from_dm(dm)
    adsl = derive_agegr1(adsl, config.get("age_groups", []))
    treatment = config.get("treatment")
    adsl = derive_trt01(adsl, list(treatment.get("arm_order") or []))
    adsl = derive_trt_dates(adsl, sdtm["EX"], treatment["exposure"])
    adsl = derive_trtdurd(adsl)
    for name, spec in (config.get("first_dates") or {}).items():
        adsl = derive_first_date(adsl, sdtm, name, spec)
    response = {"dataset": "RS", **(config.get("response") or {})}
    adsl = derive_population_flags(adsl, sdtm["RS"], config.get("populations") or {},
                                   response if config.get("response") else {})
    adsl = derive_lstalvdt(adsl, sdtm, config.get("alive_evidence", []), cutoff)
    death = config.get("death", {})
    adsl = derive_death(adsl, dm, death.get("never_before", "last_alive") == "last_alive")
    adsl = derive_death_within(adsl, str(death.get("within_days_from", "TRTSDT")),
                               dict(death.get("within_days") or {}))
    adsl = derive_dthcaus(adsl, sdtm.get("SUPPDM", pd.DataFrame()))
    for name, spec in (config.get("intercurrent") or {}).items():
        adsl = derive_first_date(adsl, sdtm, name, spec, after="TRTSDT")
    adsl = derive_eos(adsl, sdtm["DS"], config.get("end_of_study", {}))
    adsl["DCUTDT"] = cutoff if cutoff is not None else pd.NaT
    adsl["DCUTDT"] = pd.to_datetime(adsl["DCUTDT"])
    return adsl
