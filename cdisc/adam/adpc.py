"""ADPC (ADaM BDS): one record per PC sample with a result (quantifiable or BLQ) of a subject
in ADSL. One parameter per analyte and specimen (PARAMCD e.g. CARTBL, CARTBM); AVAL is
PCSTRESN, null when BLQ (BLQFL = Y, AVALC = PCSTRESC, e.g. "<50"). Not-done samples have no
analysis value and stay in SDTM PC only.

ANL01FL marks the samples the NCA (SDTM PP) uses, by the rules of cdisc.nca: not BLQ samples
between quantifiable ones, not earlier pre-infusion samples, not samples without a time.
ANL02FL marks the samples of the median profile plot: those with a nominal time.
ARELTM is the actual time by cdisc.sdtm.pp.TIME_RULE, unclipped (a pre-infusion sample may be
negative; the NCA puts it at time 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc import nca
from cdisc.adam.adrs import study_day
from cdisc.adam.inputs import to_date
from cdisc.distinct import on_distinct
from cdisc.sdtm import pp as sdtm_pp

# specimen (SPECTYPE C78734) -> (2-letter PARAMCD suffix, name in PARAM, order)
SPECIMENS = {"BLOOD": ("BL", "Blood", 1), "BONE MARROW": ("BM", "Bone Marrow", 2),
             "PLASMA": ("PL", "Plasma", 3), "SERUM": ("SE", "Serum", 4)}
ANALYTE_STEMS = {"CARTCOPY": "CART"}  # PCTESTCD -> PARAMCD stem (<= 6 characters)
ADSL_CARRIED = ["SUBJID", "SITEID", "TRT01A", "TRT01AN", "TRTSDT", "SAFFL"]
TIME_UNIT = "DAYS"  # UNIT (C71620) C25301
ADPC_COLUMNS = ["STUDYID", "USUBJID", *ADSL_CARRIED, "PARCAT1", "PARAMCD", "PARAM", "PARAMN",
                "AVAL", "AVALC", "ALLOQ", "BLQFL", "ADTM", "ADT", "ATMF", "ADY", "AVISIT",
                "AVISITN", "ATPT", "ATPTN", "ATPTREF", "ARELTM", "ARELTMU", "NRELTM",
                "NRELTMU", "ANL01FL", "ANL02FL", "SRCDOM", "SRCVAR", "SRCSEQ", "ASEQ"]
METHODS = {
    "PARCAT1": "PC.PCTEST (the analyte).",
    "PARAMCD": "Analyte stem (CART for PCTESTCD CARTCOPY) + specimen code (BL blood, "
               "BM bone marrow).",
    "PARAM": "PCTEST in <specimen> (PCSTRESU).",
    "PARAMN": "Order of the parameters by analyte, then specimen (blood, bone marrow, others).",
    "AVAL": "PC.PCSTRESN; null when the sample is BLQ.",
    "AVALC": "PC.PCSTRESC (e.g. <50 when BLQ).",
    "ALLOQ": "PC.PCLLOQ.",
    "BLQFL": f"Y when the sample is BLQ, else N. {sdtm_pp.BLQ_DEFINITION}",
    "ADTM": "PC.PCDTC; a date without a time at 00:00 (ATMF = H).",
    "ADT": "Date part of ADTM.",
    "ATMF": "H when PCDTC has a date but no time.",
    "ADY": "ADT - TRTSDT + 1 on or after TRTSDT, ADT - TRTSDT before.",
    "ARELTM": f"Days from PC.PCRFTDTC. {sdtm_pp.TIME_RULE}",
    "NRELTM": "PC.PCTPTNUM (nominal day from the reference).",
    "ANL01FL": "Y on the samples used by the NCA of SDTM PP: quantifiable, and BLQ before the "
               "first or after the last quantifiable concentration (set to 0); not BLQ "
               "between quantifiable ones, earlier pre-infusion samples or samples without a "
               "time.",
    "ANL02FL": "Y on the samples of the median profile plot: those with a nominal time "
               "(NRELTM) and AVAL, or BLQ with ALLOQ (plotted at ALLOQ / 2).",
    "ASEQ": "1..n per subject after sorting by PARAMN, ADTM, ARELTM and SRCSEQ.",
}


def specimen_code(spec: str) -> str:
    """Two-letter PARAMCD suffix: the table's, else the initials of a two-word name or the
    first two letters of a one-word name."""
    if spec in SPECIMENS:
        return SPECIMENS[spec][0]
    words = spec.split()
    return (words[0][0] + words[1][0]) if len(words) > 1 else spec[:2]


def specimen_name(spec: str) -> str:
    return SPECIMENS[spec][1] if spec in SPECIMENS else spec.title()


def specimen_rank(spec: str) -> int:
    return SPECIMENS[spec][2] if spec in SPECIMENS else len(SPECIMENS) + 1


def check_unique_codes(params: pd.DataFrame, by: list[str]) -> None:
    """PARAMCD must name one parameter (ADaMIG: PARAMCD and PARAM one to one)."""
    clash = params[params.duplicated("PARAMCD", keep=False)]
    if len(clash):
        raise ValueError(f"PARAMCD {clash['PARAMCD'].iloc[0]} would name several parameters "
                         f"({'; '.join(clash[by].astype(str).agg(' '.join, axis=1))})")


def _one_unit(units: pd.Series) -> str:
    found = sorted(set(units) - {""})
    if len(found) > 1:
        raise ValueError(f"one parameter has several units: {', '.join(found)}")
    return found[0] if found else ""


def concentration_params(data: pd.DataFrame) -> pd.DataFrame:
    """PARAMCD, PARAM, PARAMN per (PCTESTCD, PCSPEC) of nca_inputs rows."""
    # one row per parameter and unit is enough (the first row of each parameter stays first)
    rows = data.drop_duplicates(["PCTESTCD", "PCSPEC", "PCSTRESU"])
    params = rows.groupby(["PCTESTCD", "PCSPEC"], sort=False).agg(
        PCTEST=("PCTEST", "first"), UNIT=("PCSTRESU", _one_unit)).reset_index()
    stem = params["PCTESTCD"].map(lambda c: ANALYTE_STEMS.get(c, c[:6]))
    params["PARAMCD"] = stem + params["PCSPEC"].map(specimen_code)
    params["PARAM"] = (params["PCTEST"] + " in " + params["PCSPEC"].map(specimen_name)
                       + " (" + params["UNIT"] + ")")
    params["RANK"] = params["PCSPEC"].map(specimen_rank)
    params = params.sort_values(["PCTESTCD", "RANK", "PCSPEC"], kind="stable")
    params["PARAMN"] = np.arange(1, len(params) + 1, dtype="float64")
    check_unique_codes(params, ["PCTESTCD", "PCSPEC"])
    return params[["PCTESTCD", "PCSPEC", "PARAMCD", "PARAM", "PARAMN"]]


def nca_roles(data: pd.DataFrame) -> pd.Series:
    """cdisc.nca.sample_roles of each nca_inputs row; all profiles in one call (the profile
    keys are text, never missing, so every row has a profile number)."""
    if data.empty:
        return pd.Series(dtype=object)
    profile = data.groupby(sdtm_pp.PROFILE, sort=False).ngroup().to_numpy()
    roles = nca.sample_roles_of(profile, data["NCATIME"], data["NCACONC"], data["NCABLQ"],
                                int(profile.max()) + 1)
    return pd.Series(roles, index=data.index, dtype=object)


def analysis_datetime(dtc: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(ADTM, ATMF): the datetime of PCDTC; a complete date without a time at 00:00, ATMF H."""
    out = on_distinct(_analysis_datetime, dtc)  # both parsings once per distinct PCDTC
    return out["ADTM"], out["ATMF"]


def _analysis_datetime(dtc: pd.Series) -> pd.DataFrame:
    timed = sdtm_pp.iso_datetime(dtc)
    dated = to_date(dtc)  # sdtm_pp.iso_date, once per distinct date (not date/time)
    imputed = timed.isna() & dated.notna()
    return pd.DataFrame({"ADTM": timed.where(timed.notna(), dated),
                         "ATMF": pd.Series(np.where(imputed, "H", ""), index=dtc.index,
                                           dtype=object)}, index=dtc.index, copy=False)


def _flag(mask: pd.Series, no: str = "") -> pd.Series:
    return pd.Series(np.where(mask, "Y", no), index=mask.index, dtype=object)


def _with_results(pc: pd.DataFrame, adsl: pd.DataFrame) -> pd.DataFrame:
    """nca_inputs rows (with their NCA role) of samples with a result, of subjects in ADSL."""
    data = sdtm_pp.nca_inputs(pc)
    data["ROLE"] = nca_roles(data)
    result = data["NCABLQ"] | sdtm_pp.number_column(data, "PCSTRESN").notna()
    keep = result & ~_not_done(data) & data["USUBJID"].isin(adsl["USUBJID"])
    return data[keep]


def _not_done(data: pd.DataFrame) -> pd.Series:
    """sdtm_pp.is_not_done of each row, once per distinct PCSTAT."""
    if "PCSTAT" not in data.columns:
        return sdtm_pp.is_not_done(data)
    return on_distinct(_status_not_done, data["PCSTAT"])


def _status_not_done(status: pd.Series) -> pd.Series:
    return sdtm_pp.is_not_done(status.to_frame("PCSTAT"))


def _adsl_part(adsl: pd.DataFrame) -> pd.DataFrame:
    return adsl[["USUBJID", *[c for c in ADSL_CARRIED if c in adsl.columns]]]


def _values(data: pd.DataFrame) -> pd.DataFrame:
    """AVAL, AVALC, ALLOQ, BLQFL and the source of each record."""
    blq = data["NCABLQ"].astype(bool)
    stresn = sdtm_pp.number_column(data, "PCSTRESN")
    return pd.DataFrame({
        "AVAL": stresn.where(~blq), "AVALC": sdtm_pp.text_column(data, "PCSTRESC"),
        "ALLOQ": sdtm_pp.number_column(data, "PCLLOQ"),
        "BLQFL": _flag(blq, "N"), "SRCDOM": "PC",
        "SRCVAR": np.where(blq, "PCSTRESC", "PCSTRESN"),
        "SRCSEQ": sdtm_pp.number_column(data, "PCSEQ")},
        index=data.index, copy=False)


def _timing(data: pd.DataFrame) -> pd.DataFrame:
    """ADTM, ADT, ATMF, visits, time points, ARELTM and NRELTM of each record."""
    adtm, atmf = analysis_datetime(sdtm_pp.text_column(data, "PCDTC"))
    nominal = sdtm_pp.number_column(data, "PCTPTNUM")
    return pd.DataFrame({
        "ADTM": adtm, "ADT": adtm.dt.normalize(), "ATMF": atmf,
        "AVISIT": sdtm_pp.text_column(data, "VISIT"),
        "AVISITN": sdtm_pp.number_column(data, "VISITNUM"),
        "ATPT": sdtm_pp.text_column(data, "PCTPT"), "ATPTN": nominal,
        "ATPTREF": data["PCTPTREF"], "ARELTM": data["NCATIME"].astype("float64"),
        "ARELTMU": np.where(data["NCATIME"].notna(), TIME_UNIT, ""),
        "NRELTM": nominal, "NRELTMU": np.where(nominal.notna(), TIME_UNIT, "")},
        index=data.index, copy=False)


def _sequence(adpc: pd.DataFrame) -> pd.Series:
    order = adpc.sort_values(["USUBJID", "PARAMN", "ADTM", "ARELTM", "SRCSEQ"], kind="stable")
    return (order.groupby("USUBJID").cumcount() + 1).astype("float64").reindex(adpc.index)


def build_adpc(pc: pd.DataFrame, adsl: pd.DataFrame) -> pd.DataFrame:
    """ADPC from SDTM PC and ADSL: the ADPC_COLUMNS present (ADSL variables when ADSL has
    them), sorted by USUBJID and ASEQ; ADTM and ADT are datetime64."""
    data = _with_results(pc, adsl)
    if data.empty:
        return pd.DataFrame(columns=[c for c in ADPC_COLUMNS
                                     if c not in ADSL_CARRIED or c in adsl.columns])
    params = concentration_params(data)
    base = data[["STUDYID", "USUBJID", "PCTESTCD", "PCSPEC"]].assign(PARCAT1=data["PCTEST"])
    out = pd.concat([base, _values(data), _timing(data)], axis=1)
    out["ANL01FL"] = _flag(data["ROLE"].isin(nca.USED))
    blq_plotted = (out["BLQFL"] == "Y") & out["ALLOQ"].notna()  # drawn at ALLOQ / 2
    plotted = out["NRELTM"].notna() & (out["AVAL"].notna() | blq_plotted)
    out["ANL02FL"] = _flag(plotted)
    out = out.merge(params, on=["PCTESTCD", "PCSPEC"], how="left")
    out = out.merge(_adsl_part(adsl), on="USUBJID", how="left")
    out["ADY"] = study_day(out["ADT"], out["TRTSDT"]) if "TRTSDT" in out else np.nan
    out["ASEQ"] = _sequence(out)
    out = out.sort_values(["USUBJID", "ASEQ"], kind="stable").reset_index(drop=True)
    return out[[c for c in ADPC_COLUMNS if c in out.columns]]
