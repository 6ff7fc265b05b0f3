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
from cdisc.distinct import on_distinct
from cdisc.text import stripped_text
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
    """Column as stripped text, "" where missing or absent (computed per distinct value)."""
    if col not in df.columns:
        return pd.Series("", index=df.index, dtype=object)
    return stripped_text(df[col]).rename(col)


def number_column(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df.columns:
        return pd.Series(np.nan, index=df.index)
    return pd.to_numeric(df[col], errors="coerce").astype("float64")


def _iso_datetime(dtc: pd.Series) -> pd.Series:
    text = dtc.astype(object).where(dtc.notna(), "").astype(str)
    timed = text.str.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
    return pd.to_datetime(text.where(timed), format="ISO8601", errors="coerce")


def iso_datetime(dtc: pd.Series) -> pd.Series:
    """ISO 8601 date/times with at least hours and minutes -> datetime64; others NaT
    (parsed once per distinct value)."""
    return on_distinct(_iso_datetime, dtc).rename(dtc.name)


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


def sorted_profiles(data: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """(rows, profile, first): nca_inputs rows grouped by profile (the PROFILE keys sorted,
    the samples of a profile in input order, as groupby gives them), the number (0, 1, ...)
    of each row's profile and the row of each profile's first sample."""
    number = data.groupby(PROFILE, sort=True).ngroup().to_numpy()
    order = np.argsort(number, kind="stable")
    profile = number[order]
    first = np.flatnonzero(np.r_[True, profile[1:] != profile[:-1]])
    return data.iloc[order].reset_index(drop=True), profile, first


def profile_units(data: pd.DataFrame, profile: np.ndarray, first: np.ndarray) -> np.ndarray:
    """The concentration unit of each profile: its one PCSTRESU (samples with a result).
    first: the row of each profile's first sample."""
    unit = data["PCSTRESU"].to_numpy(dtype=object)
    has_result = data["NCABLQ"].to_numpy() | data["NCACONC"].notna().to_numpy()
    pairs = pd.DataFrame({"profile": profile, "unit": unit})[has_result & (unit != "")]
    pairs = pairs.drop_duplicates()
    several = np.flatnonzero(np.bincount(pairs["profile"], minlength=len(first)) > 1)
    negative = profile[data["NCACONC"].to_numpy() < 0]
    # profile by profile, the first bad profile raises (a unit before a concentration)
    if len(several) and not (len(negative) and negative.min() < several[0]):
        row = data.iloc[first[several[0]]]
        units = sorted(pairs.loc[pairs["profile"] == several[0], "unit"])
        raise ValueError(f"PC profile of {row['USUBJID']} ({row['PCTESTCD']}, {row['PCSPEC']}) "
                         f"has several units: {', '.join(units)}")
    out = np.full(len(first), "", dtype=object)
    out[pairs["profile"].to_numpy()] = pairs["unit"].to_numpy()
    return out


def first_reference(refs: np.ndarray, profile: np.ndarray, n_profiles: int) -> np.ndarray:
    """PPTPTREF of each profile: the first in sort order of its non-empty PCTPTREF, else ""."""
    names, code = np.unique(refs, return_inverse=True)  # sorted
    given = refs != ""
    best = np.full(n_profiles, len(names))
    np.minimum.at(best, profile[given], code[given])
    return np.append(names, np.array([""], dtype=object))[best]


@lru_cache(maxsize=1)
def _pkunit_terms() -> frozenset[str]:
    return frozenset(load_specs().codelists[PKUNIT].terms)


def auc_unit(conc_unit: str) -> tuple[str, float]:
    """(unit, factor from day*conc_unit) of the AUC, by AUC_UNIT_RULE (a CT term if any)."""
    in_days, in_hours = f"{TIME_UNIT}*{conc_unit}", f"h*{conc_unit}"
    if conc_unit and in_days not in _pkunit_terms() and in_hours in _pkunit_terms():
        return in_hours, 24.0
    return in_days if conc_unit else "", 1.0


def format_result(value: float) -> str:
    """PPORRES/PPSTRESC text: SIGNIFICANT_DIGITS significant digits, no exponent."""
    return np.format_float_positional(np.float64(value), precision=SIGNIFICANT_DIGITS,
                                      unique=False, fractional=False, trim="-")


def _blank(n: int) -> np.ndarray:
    return np.full(n, "", dtype=object)


def parameter_results(data: pd.DataFrame, profile: np.ndarray, conc_unit: np.ndarray,
                      end: float) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """{PPTESTCD: (values, units, reasons)} of every profile by cdisc.nca, the AUC in the unit
    of AUC_UNIT_RULE."""
    n = len(conc_unit)
    results = nca.nca_profiles(profile, data["NCATIME"], data["NCACONC"], data["NCABLQ"], n,
                               end)
    days = np.full(n, TIME_UNIT, dtype=object)
    units = {"CMAX": conc_unit, "TMAX": days, "CLST": conc_unit, "TLST": days}
    by_unit = {unit: auc_unit(unit) for unit in set(conc_unit)}  # few distinct units
    units["AUCINT"] = np.array([by_unit[u][0] for u in conc_unit], dtype=object)
    factor = np.array([by_unit[u][1] for u in conc_unit], dtype=float)
    auc, reason = results["AUCINT"]
    results["AUCINT"] = (auc * factor, reason)
    return {code: (value, units[code], reason) for code, (value, reason) in results.items()}


def result_columns(value: np.ndarray, unit: np.ndarray, reason: np.ndarray) -> dict:
    """PPORRES..PPREASND of each record; units only with a result."""
    done = ~np.isnan(value)
    text, units, reasnd = _blank(len(value)), _blank(len(value)), _blank(len(value))
    stresn = np.full(len(value), np.nan)
    # each distinct value once (distinct bits, so that -0.0 and 0.0 stay apart)
    bits, code = np.unique(value[done].view(np.int64), return_inverse=True)
    texts = [format_result(v) for v in bits.view(np.float64)]
    text[done] = np.array(texts, dtype=object)[code]
    stresn[done] = np.array([float(t) for t in texts], dtype=float)[code]
    units[done] = unit[done]
    reasnd[~done] = reason[~done]
    return {"PPORRES": text, "PPORRESU": units, "PPSTRESC": text.copy(), "PPSTRESN": stresn,
            "PPSTRESU": units.copy(), "PPSTAT": np.where(done, "", NOT_DONE).astype(object),
            "PPREASND": reasnd}


def _interval(testcd: str, end: float) -> dict:
    """PPSTINT/PPENINT (ISO 8601 durations from the reference) and PPANMETH of AUC records."""
    if testcd != "AUCINT":
        return {"PPSTINT": "", "PPENINT": "", "PPANMETH": ""}
    return {"PPSTINT": "P0D", "PPENINT": f"P{end:g}D", "PPANMETH": AUC_METHOD}


def profile_columns(data: pd.DataFrame, profile: np.ndarray, first: np.ndarray,
                    per_profile: int) -> dict[str, np.ndarray]:
    """The columns the records of a profile share, each profile's value once per record."""
    def of_profiles(values: np.ndarray) -> np.ndarray:
        return np.repeat(values, per_profile)

    def at_first(col: str) -> np.ndarray:
        return of_profiles(data[col].to_numpy(dtype=object)[first])

    refs = first_reference(data["PCTPTREF"].to_numpy(dtype=object), profile, len(first))
    return {"STUDYID": at_first("STUDYID"),
            "DOMAIN": np.full(len(first) * per_profile, "PP", dtype=object),
            "USUBJID": at_first("USUBJID"), "PPCAT": at_first("PCTEST"),
            "PPSPEC": at_first("PCSPEC"), "PPTPTREF": of_profiles(refs),
            "PPRFTDTC": at_first("PCRFTDTC")}


def parameter_columns(results: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
                      end: float) -> dict[str, np.ndarray]:
    """The columns of each parameter's record, profile by profile (parameters in the order
    of results, nca.PARAMETERS)."""
    codes = list(results)
    n_profiles = len(results[codes[0]][0])
    value, unit, reason = (np.column_stack([results[c][k] for c in codes]).ravel()
                           for k in range(3))
    per_code = {"PPTESTCD": codes, "PPTEST": [PKPARM[c] for c in codes],
                **{col: [_interval(c, end)[col] for c in codes]
                   for col in ("PPSTINT", "PPENINT", "PPANMETH")}}
    return {**{col: np.tile(np.array(texts, dtype=object), n_profiles)
               for col, texts in per_code.items()},
            **result_columns(value, unit, reason)}


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
    # all profiles at once on arrays: a pandas group per profile is slow at 10,000 subjects
    data, profile, first = sorted_profiles(data)
    results = parameter_results(data, profile, profile_units(data, profile, first), end_day)
    pp = pd.DataFrame({**profile_columns(data, profile, first, len(results)),
                       **parameter_columns(results, end_day)})
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
