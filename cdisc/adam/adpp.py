"""ADPP (ADaM BDS): one record per SDTM PP parameter with a result, of a subject in ADSL.
PARAMCD = PPTESTCD + specimen code (CMAXBL, AUCINTBM); PARAM names the parameter, the
specimen, the interval of an AUC and the unit; AVAL = PPSTRESN. Parameters not calculated
(PPSTAT = NOT DONE) have no analysis value and stay in SDTM PP only."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cdisc.adam.adpc import (ADSL_CARRIED, check_unique_codes, specimen_code, specimen_name,
                             specimen_rank)
from cdisc.sdtm import pp as sdtm_pp

PARAMETER_ORDER = list(sdtm_pp.PKPARM)  # CMAX TMAX CLST TLST AUCINT
ADPP_COLUMNS = ["STUDYID", "USUBJID", *ADSL_CARRIED, "PARCAT1", "PARAMCD", "PARAM", "PARAMN",
                "AVAL", "SRCDOM", "SRCVAR", "SRCSEQ", "ASEQ"]
METHODS = {
    "PARCAT1": "PP.PPCAT (the analyte).",
    "PARAMCD": "PP.PPTESTCD + specimen code (BL blood, BM bone marrow).",
    "PARAM": "PP.PPTEST in <specimen> (PPSTRESU); for AUCINT, AUC from Day <PPSTINT> to Day "
             "<PPENINT> in <specimen> (PPSTRESU).",
    "PARAMN": "Order of the parameters by specimen (blood, bone marrow, others), then CMAX, "
              "TMAX, CLST, TLST, AUCINT.",
    "AVAL": "PP.PPSTRESN.",
    "ASEQ": "1..n per subject after sorting by PARAMN.",
}


def _day(duration: str) -> str:
    """'P28D' -> '28'; another ISO 8601 duration is kept as it is."""
    match = re.fullmatch(r"P(\d+(?:\.\d+)?)D", duration)
    return f"{float(match.group(1)):g}" if match else duration


def parameter_label(testcd: str, test: str, spec: str, unit: str, start: str, end: str) -> str:
    """PARAM of one PP parameter in one specimen."""
    where = f"in {specimen_name(spec)} ({unit})"
    if testcd == "AUCINT":
        return f"AUC from Day {_day(start)} to Day {_day(end)} {where}"
    return f"{test} {where}"


def _first_unit(units: pd.Series) -> str:
    found = [u for u in units if u]
    return found[0] if found else ""


def parameter_params(pp: pd.DataFrame) -> pd.DataFrame:
    """PARAMCD, PARAM, PARAMN per (PPTESTCD, PPCAT, PPSPEC, interval) of all PP records
    (calculated or not, so that PARAMN does not depend on which were calculated)."""
    keys = ["PPTESTCD", "PPCAT", "PPSPEC", "PPSTINT", "PPENINT"]
    # one row per parameter and unit is enough (the first row of each parameter stays first)
    rows = pp.drop_duplicates([*keys, "PPSTRESU"])
    params = rows.groupby(keys, sort=False).agg(PPTEST=("PPTEST", "first"),
                                              UNIT=("PPSTRESU", _first_unit)).reset_index()
    params["PARAMCD"] = params["PPTESTCD"] + params["PPSPEC"].map(specimen_code)
    params["PARAM"] = [parameter_label(*row) for row in params[
        ["PPTESTCD", "PPTEST", "PPSPEC", "UNIT", "PPSTINT", "PPENINT"]].itertuples(index=False)]
    rank = params["PPTESTCD"].map(lambda c: PARAMETER_ORDER.index(c)
                                  if c in PARAMETER_ORDER else len(PARAMETER_ORDER))
    params = params.assign(SPECRANK=params["PPSPEC"].map(specimen_rank), TESTRANK=rank)
    params = params.sort_values(["SPECRANK", "PPSPEC", "TESTRANK", "PPTESTCD"], kind="stable")
    params["PARAMN"] = np.arange(1, len(params) + 1, dtype="float64")
    check_unique_codes(params, keys)
    return params[[*keys, "PARAMCD", "PARAM", "PARAMN"]]


def _cleaned(pp: pd.DataFrame) -> pd.DataFrame:
    """PP with its text columns as stripped text and PPSTRESN numeric."""
    data = pp.copy()
    for col in ["STUDYID", "USUBJID", "PPTESTCD", "PPTEST", "PPCAT", "PPSPEC", "PPSTRESU",
                "PPSTAT", "PPSTINT", "PPENINT"]:
        data[col] = sdtm_pp.text_column(pp, col)
    data["PPSTRESN"] = sdtm_pp.number_column(pp, "PPSTRESN")
    return data


def _calculated(data: pd.DataFrame, adsl: pd.DataFrame) -> pd.DataFrame:
    """Cleaned PP records with a result, of subjects in ADSL."""
    keep = (data["PPSTAT"].str.upper() != sdtm_pp.NOT_DONE) & data["PPSTRESN"].notna()
    return data[keep & data["USUBJID"].isin(adsl["USUBJID"])]


def build_adpp(pp: pd.DataFrame, adsl: pd.DataFrame) -> pd.DataFrame:
    """ADPP from SDTM PP and ADSL: the ADPP_COLUMNS present (ADSL variables when ADSL has
    them), sorted by USUBJID and ASEQ."""
    cleaned = _cleaned(pp)
    data = _calculated(cleaned, adsl)
    carried = ["USUBJID", *[c for c in ADSL_CARRIED if c in adsl.columns]]
    if data.empty:
        return pd.DataFrame(columns=[c for c in ADPP_COLUMNS
                                     if c not in ADSL_CARRIED or c in adsl.columns])
    out = data.merge(parameter_params(cleaned), on=["PPTESTCD", "PPCAT", "PPSPEC", "PPSTINT",
                                                    "PPENINT"], how="left")
    out = out.assign(PARCAT1=out["PPCAT"], AVAL=out["PPSTRESN"], SRCDOM="PP",
                     SRCVAR="PPSTRESN", SRCSEQ=sdtm_pp.number_column(out, "PPSEQ"))
    out = out.merge(adsl[carried], on="USUBJID", how="left")
    out = out.sort_values(["USUBJID", "PARAMN", "SRCSEQ"], kind="stable").reset_index(drop=True)
    out["ASEQ"] = (out.groupby("USUBJID").cumcount() + 1).astype("float64")
    return out[[c for c in ADPP_COLUMNS if c in out.columns]]
