"""SDTM PP (Pharmacokinetic Parameters, SDTMIG v3.4) from SDTM PC.

One profile per subject, analyte (PCTESTCD/PCTEST), specimen (PCSPEC) and reference time
point (PCRFTDTC); per profile the parameters of cdisc.nca (CMAX, TMAX, CLST, TLST, and AUCINT
from day 0 to day 28), one PP record each. PPCAT is the analyte's PCTEST (SDTMIG v3.4 PPCAT:
"the name of the analyte in PCTEST"; CORE-000901 compares them) and PPRFTDTC = PCRFTDTC, which
relates each PP record to its PC records without RELREC (PP_PC_LINK). Units are CDISC PKUNIT
terms: the concentration unit is PCSTRESU, times are in "day", and the AUC unit follows
AUC_UNIT_RULE (for DNA copies/ug: h*DNA copies/ug, as PKUNIT has no day*DNA copies/ug).

Time rule (TIME_RULE). Actual time is PCDTC - PCRFTDTC in days, fractional when both have a
time (hours and minutes); when either has a date but no time, the difference of the dates in
whole days; when either date is partial or missing, the nominal day PCTPTNUM. (A known date
beats the nominal day: a sample taken late keeps its real day.)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from cdisc import dates, nca
from cdisc.io.xpt import text_column as xpt_text
from cdisc.model import Column, Dataset, Origin
from cdisc.sdtm.derive import derive_seq
from cdisc.specs import Specs, load_specs

END_DAY = 28.0  # AUC from day 0 to day 28 (AUCINT, PPSTINT P0D, PPENINT P28D)
# CDISC CT 2025-03-28: PKPARMCD (C85839) -> PKPARM (C85493); the same NCI code in both lists
PKPARM = {
    "CMAX": "Max Conc",  # C70918
    "TMAX": "Time of CMAX Observation",  # C70919
    "CLST": "Last Nonzero Conc",  # C85655
    "TLST": "Time of Last Nonzero Conc",  # C85822
    "AUCINT": "AUC from T1 to T2",  # C85566
}
TIME_UNIT = "day"  # PKUNIT (C85494) C25301; the UNIT codelist (C71620) spells it DAYS
PKUNIT = "C85494"
AUC_METHOD = "LINEAR UP LOG DOWN METHOD"  # PKANMET (C172330) C172581, on AUC records
NOT_DONE = "NOT DONE"  # ND (C66789)
SIGNIFICANT_DIGITS = 10  # PPORRES/PPSTRESC text; PPSTRESN is the same number
PROFILE = ["STUDYID", "USUBJID", "PCTESTCD", "PCTEST", "PCSPEC", "PCRFTDTC"]
PP_COLUMNS = ["STUDYID", "DOMAIN", "USUBJID", "PPSEQ", "PPTESTCD", "PPTEST", "PPCAT",
              "PPORRES", "PPORRESU", "PPSTRESC", "PPSTRESN", "PPSTRESU", "PPSTAT", "PPREASND",
              "PPSPEC", "PPANMETH", "PPTPTREF", "PPRFTDTC", "PPSTINT", "PPENINT"]
PP_KEYS = ["STUDYID", "USUBJID", "PPTESTCD", "PPCAT", "PPSPEC", "PPRFTDTC"]

TIME_RULE = (
    "Actual time is PCDTC - PCRFTDTC in days, fractional when both have a time (hours and "
    "minutes); when either has a date but no time, the difference of the dates in whole days; "
    "when either date is partial or missing, the nominal day PCTPTNUM.")
BLQ_DEFINITION = (
    "A sample is BLQ when PCSTRESN is null and PCSTRESC is '<' followed by the LLOQ (or BLQ), "
    "or when PCSTRESN is below PCLLOQ; samples with PCSTAT = NOT DONE or without a result are "
    "excluded.")
AUC_UNIT_RULE = (
    "The AUC unit is day*<concentration unit> when CDISC PKUNIT has that term; otherwise "
    "h*<concentration unit> (24 times the value in days) when PKUNIT has it, e.g. "
    "h*DNA copies/ug (C172585); otherwise day*<concentration unit>, a sponsor extension.")
PP_METHOD = (
    "Non-compartmental analysis of each PC profile (one per USUBJID, PCTEST, PCSPEC and "
    f"PCRFTDTC) on PCSTRESN. {BLQ_DEFINITION} Time: {TIME_RULE} {nca.TIME_ZERO_RULE} "
    f"BLQ: {nca.BLQ_RULE} {nca.ALL_BLQ_RULE} CMAX is the highest concentration, TMAX the first "
    "time it occurs, CLST the last quantifiable concentration and TLST its time. AUCINT is the "
    f"AUC from day 0 (PPSTINT P0D) to day {END_DAY:g} (PPENINT P{END_DAY:g}D) by the "
    f"{nca.AUC_RULE} {nca.INTERPOLATION_RULE} {nca.SPARSE_RULE} {AUC_UNIT_RULE} Results are "
    "rounded to "
    f"{SIGNIFICANT_DIGITS} significant digits; a parameter that cannot be calculated has PPSTAT = NOT DONE and the "
    "reason in PPREASND.")
PP_PC_LINK = (
    "PP records are related to their PC records without RELREC: a PP record's concentrations "
    "are the PC records of the same USUBJID with PCTEST = PPCAT, PCSPEC = PPSPEC and "
    "PCRFTDTC = PPRFTDTC (SDTMIG v3.4: PPRFTDTC holds the PCRFTDTC of the PC records used). "
    "Which of them enter the calculation follows from the method: not-done samples, BLQ "
    "samples between quantifiable ones and earlier pre-infusion samples are excluded.")


def text_column(df: pd.DataFrame, col: str) -> pd.Series:
    """Column as stripped text, "" where missing or absent."""
    if col not in df.columns:
        return pd.Series("", index=df.index, dtype=object)
    return xpt_text(df[col]).str.strip().astype(object)


def number_column(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df.columns:
        return pd.Series(np.nan, index=df.index)
    return pd.to_numeric(df[col], errors="coerce").astype("float64")


def iso_datetime(dtc: pd.Series) -> pd.Series:
    """ISO 8601 date/times with at least hours and minutes -> datetime64; others NaT."""
    text = dtc.astype(object).where(dtc.notna(), "").astype(str)
    timed = text.str.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
    return pd.to_datetime(text.where(timed), format="ISO8601", errors="coerce")


def iso_date(dtc: pd.Series) -> pd.Series:
    """The date of ISO 8601 values with a complete date -> datetime64 (midnight); others NaT."""
    return dates.iso_to_date(dtc)


def elapsed_days(dtc: pd.Series, ref_dtc: pd.Series, nominal: pd.Series) -> pd.Series:
    """Actual time from the reference in days, by TIME_RULE (NaN when nothing is known)."""
    exact = (iso_datetime(dtc) - iso_datetime(ref_dtc)) / pd.Timedelta(days=1)
    by_date = (iso_date(dtc) - iso_date(ref_dtc)).dt.days.astype("float64")
    nominal = pd.to_numeric(nominal, errors="coerce").astype("float64")
    return exact.where(exact.notna(), by_date).where(lambda s: s.notna(), nominal)


def is_not_done(pc: pd.DataFrame) -> pd.Series:
    return text_column(pc, "PCSTAT").str.upper() == NOT_DONE


def is_blq(pc: pd.DataFrame) -> pd.Series:
    """BLQ by BLQ_DEFINITION (never for a not-done sample)."""
    stresc = text_column(pc, "PCSTRESC").str.upper()
    stresn, lloq = number_column(pc, "PCSTRESN"), number_column(pc, "PCLLOQ")
    reported = stresn.isna() & (stresc.str.startswith("<") | (stresc == "BLQ"))
    below = stresn.notna() & lloq.notna() & (stresn < lloq)
    return (reported | below) & ~is_not_done(pc)


def nca_inputs(pc: pd.DataFrame) -> pd.DataFrame:
    """PC with the profile keys as text plus NCATIME (days), NCACONC (quantifiable PCSTRESN,
    else NaN) and NCABLQ, the three arrays cdisc.nca takes per profile."""
    out = pc.copy()
    for col in [*PROFILE, "PCSTRESU", "PCTPTREF"]:
        out[col] = text_column(pc, col)
    blq = is_blq(pc)
    out["NCATIME"] = elapsed_days(text_column(pc, "PCDTC"), out["PCRFTDTC"],
                                  number_column(pc, "PCTPTNUM"))
    out["NCACONC"] = number_column(pc, "PCSTRESN").where(~blq & ~is_not_done(pc))
    out["NCABLQ"] = blq.to_numpy(dtype=bool)
    return out


def _profile_unit(group: pd.DataFrame) -> str:
    """The concentration unit of a profile: its one PCSTRESU (samples with a result)."""
    has_result = group["NCABLQ"] | group["NCACONC"].notna()
    units = sorted(set(group.loc[has_result, "PCSTRESU"]) - {""})
    if len(units) > 1:
        raise ValueError(f"PC profile of {group['USUBJID'].iloc[0]} "
                         f"({group['PCTESTCD'].iloc[0]}, {group['PCSPEC'].iloc[0]}) has "
                         f"several units: {', '.join(units)}")
    return units[0] if units else ""


@lru_cache(maxsize=1)
def _pkunit_terms() -> frozenset[str]:
    return frozenset(load_specs().codelists[PKUNIT].terms)


def auc_unit(conc_unit: str) -> tuple[str, float]:
    """(unit, factor from day*conc_unit) of the AUC, by AUC_UNIT_RULE (a CT term if any)."""
    in_days, in_hours = f"{TIME_UNIT}*{conc_unit}", f"h*{conc_unit}"
    if conc_unit and in_days not in _pkunit_terms() and in_hours in _pkunit_terms():
        return in_hours, 24.0
    return in_days if conc_unit else "", 1.0


def _in_auc_unit(result: nca.Result, conc_unit: str) -> nca.Result:
    unit, factor = auc_unit(conc_unit)
    return nca.Result(result.value * factor, unit, result.reason)


def format_result(value: float) -> str:
    """PPORRES/PPSTRESC text: SIGNIFICANT_DIGITS significant digits, no exponent."""
    return np.format_float_positional(np.float64(value), precision=SIGNIFICANT_DIGITS,
                                      unique=False, fractional=False, trim="-")


def _result_columns(result: nca.Result) -> dict:
    """PPORRES..PPREASND of one parameter; units only with a result."""
    if np.isnan(result.value):
        return {"PPORRES": "", "PPORRESU": "", "PPSTRESC": "", "PPSTRESN": np.nan,
                "PPSTRESU": "", "PPSTAT": NOT_DONE, "PPREASND": result.reason}
    text = format_result(result.value)
    return {"PPORRES": text, "PPORRESU": result.unit, "PPSTRESC": text,
            "PPSTRESN": float(text), "PPSTRESU": result.unit, "PPSTAT": "", "PPREASND": ""}


def _interval(testcd: str, end: float) -> dict:
    """PPSTINT/PPENINT (ISO 8601 durations from the reference) and PPANMETH of AUC records."""
    if testcd != "AUCINT":
        return {"PPSTINT": "", "PPENINT": "", "PPANMETH": ""}
    return {"PPSTINT": "P0D", "PPENINT": f"P{end:g}D", "PPANMETH": AUC_METHOD}


def profile_records(group: pd.DataFrame, end: float = END_DAY) -> list[dict]:
    """The PP records (without PPSEQ) of one profile, from nca_inputs rows."""
    first = group.iloc[0]
    unit = _profile_unit(group)
    results = nca.nca_profile(group["NCATIME"], group["NCACONC"], group["NCABLQ"], unit,
                              TIME_UNIT, end)
    results["AUCINT"] = _in_auc_unit(results["AUCINT"], unit)
    refs = sorted(set(group["PCTPTREF"]) - {""})
    common = {"STUDYID": first["STUDYID"], "DOMAIN": "PP", "USUBJID": first["USUBJID"],
              "PPCAT": first["PCTEST"], "PPSPEC": first["PCSPEC"],
              "PPTPTREF": refs[0] if refs else "", "PPRFTDTC": first["PCRFTDTC"]}
    return [{**common, "PPTESTCD": code, "PPTEST": PKPARM[code],
             **_result_columns(result), **_interval(code, end)}
            for code, result in results.items()]


def derive_pp(pc: pd.DataFrame, studyid: str | None = None,
              end_day: float = END_DAY) -> pd.DataFrame:
    """SDTM PP from SDTM PC: the PP_COLUMNS, one record per parameter per profile, sorted by
    USUBJID and PPSEQ (1..n per subject in the order of STUDYID USUBJID PPTESTCD PPCAT PPSPEC
    PPRFTDTC). studyid, when given, replaces PC's STUDYID."""
    if pc.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("PPSEQ", "PPSTRESN")
                                          else object) for c in PP_COLUMNS})
    data = nca_inputs(pc)
    if studyid is not None:
        data["STUDYID"] = studyid
    rows = [record for _, group in data.groupby(PROFILE, sort=True)
            for record in profile_records(group, end_day)]
    pp = pd.DataFrame(rows)
    pp["PPSEQ"] = derive_seq(pp, PP_KEYS[1:])
    pp = pp.sort_values(["STUDYID", "USUBJID", "PPSEQ"], kind="stable").reset_index(drop=True)
    return pp[PP_COLUMNS].astype({"PPSEQ": "float64", "PPSTRESN": "float64"})


# PP variables copied from the PC records of the profile, and the ones assigned from CT
PP_PREDECESSORS = {"STUDYID": "PC.STUDYID", "USUBJID": "PC.USUBJID", "PPCAT": "PC.PCTEST",
                   "PPSPEC": "PC.PCSPEC", "PPTPTREF": "PC.PCTPTREF",
                   "PPRFTDTC": "PC.PCRFTDTC"}
PP_ASSIGNED = ("DOMAIN", "PPTESTCD", "PPTEST", "PPANMETH", "PPSTINT", "PPENINT")


def pp_column(var: str, specs: Specs) -> Column:
    """define.xml metadata of one PP variable: its origin and, when derived, the method."""
    v = specs.dataset("PP").variable(var)
    codelist = v.codelist if v.codelist in specs.codelists else None
    if var in PP_PREDECESSORS:
        origin, method = Origin("Predecessor", description=PP_PREDECESSORS[var]), None
    elif var in PP_ASSIGNED:
        origin, method = Origin("Assigned", source="Sponsor"), None
    elif var == "PPSEQ":
        origin = Origin("Derived", source="Sponsor")
        method = "1..n per subject after sorting by " + ", ".join(PP_KEYS[1:]) + "."
    else:
        origin, method = Origin("Derived", source="Sponsor"), PP_METHOD
    return Column(name=var, label=v.label, type=v.type, codelist=codelist, origin=origin,
                  method=method, core=v.core, value_domain=v.value_domain,
                  comment=PP_PC_LINK if var == "PPRFTDTC" else None)


def pp_dataset(pc: pd.DataFrame, end_day: float = END_DAY) -> Dataset | None:
    """SDTM PP as a Dataset (variables in SDTMIG order, Perm ones only when populated);
    None without PC records."""
    from cdisc.build import make_dataset

    if pc.empty:
        return None
    table = derive_pp(pc, end_day=end_day)
    specs = load_specs()
    spec = specs.dataset("PP")
    names = [v.name for v in spec.variables if v.name in table.columns and (
        v.core in ("Req", "Exp") or (table[v.name].astype(object).fillna("") != "").any())]
    columns = [pp_column(var, specs) for var in names]
    return make_dataset("PP", spec.label, columns, table[names], specs,
                        keys=tuple(k for k in spec.keys if k in names),
                        dataset_class=spec.dataset_class, structure=spec.structure,
                        standard=spec.standard)
