"""ADRS: the investigator's overall response per assessment (PARAMCD OVR) and per-subject
derived parameters: best overall response (BOR), CR or CRi achieved (CRCRI, dated at the first
CR/CRi), overall response (ORR)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc.adam.inputs import to_date, where_mask

PARAMS = {
    "OVR": "Overall Response by Investigator",
    "BOR": "Best Overall Response by Investigator",
    "CRCRI": "CR or CRi Achieved",
    "ORR": "Overall Response Achieved",
}


def study_day(adt: pd.Series, start: pd.Series) -> pd.Series:
    days = (adt - start).dt.days.astype("float64")
    return days.where(days < 0, days + 1)


def derive_ovr(adsl: pd.DataFrame, rs: pd.DataFrame, response: dict,
               stop_at: list[str]) -> pd.DataFrame:
    """One OVR record per assessment; AVAL = rank in the hierarchy; ANL01FL = used for best
    response (after the first dose, up to the first progression, before any stop_at date);
    ANL02FL = adequate (evaluable) assessment after the first dose."""
    hierarchy = list(response["hierarchy"])
    rows = rs[where_mask(rs, response.get("where", {}), "RS")] if not rs.empty else rs
    ovr = pd.DataFrame({
        "USUBJID": rows.get("USUBJID", pd.Series(dtype=object)).astype(object),
        "AVALC": rows.get(response.get("variable", "RSSTRESC"), pd.Series(dtype=object)),
        "ADT": to_date(rows.get(response.get("date", "RSDTC"), pd.Series(dtype=object))),
        "RSSEQ": rows.get("RSSEQ", pd.Series(dtype="float64")),
        "VISIT": rows.get("VISIT", pd.Series("", index=rows.index, dtype=object)),
        "VISITNUM": rows.get("VISITNUM", pd.Series(np.nan, index=rows.index)),
    })
    ovr = ovr[ovr["USUBJID"].isin(adsl["USUBJID"])].copy()
    rank = {v: float(i) for i, v in enumerate(hierarchy, start=1)}
    ovr["AVAL"] = ovr["AVALC"].map(rank).astype("float64")
    ovr["PARAMCD"] = "OVR"
    ovr["PARAM"] = PARAMS["OVR"]
    ctx = ovr[["USUBJID"]].merge(adsl[["USUBJID", "TRTSDT", *stop_at]], on="USUBJID",
                                 how="left").set_index(ovr.index)
    ovr["ADY"] = study_day(ovr["ADT"], ctx["TRTSDT"])
    post = ovr["ADT"].notna() & ctx["TRTSDT"].notna() & (ovr["ADT"] > ctx["TRTSDT"])
    progression = ovr["AVALC"].isin(response.get("progression", []))
    first_pd = ovr["ADT"].where(progression & post).groupby(ovr["USUBJID"]).transform("min")
    window = post & (first_pd.isna() | (ovr["ADT"] <= first_pd))
    for col in stop_at:
        window &= ctx[col].isna() | (ovr["ADT"] < ctx[col])
    ovr["ANL01FL"] = np.where(window, "Y", "")
    evaluable = ~ovr["AVALC"].isin(response.get("not_evaluable", []))
    ovr["ANL02FL"] = np.where(post & evaluable, "Y", "")
    return ovr


def derive_bor(adsl: pd.DataFrame, ovr: pd.DataFrame, hierarchy: list[str]) -> pd.DataFrame:
    """BOR: the best AVAL among ANL01FL assessments, dated at its first occurrence; treated
    subjects without any such assessment get NE with no date."""
    used = ovr[ovr["ANL01FL"] == "Y"].sort_values(["USUBJID", "AVAL", "ADT"], kind="stable")
    best = used.drop_duplicates("USUBJID")[["USUBJID", "AVAL", "AVALC", "ADT", "RSSEQ"]]
    treated = adsl.loc[adsl["SAFFL"] == "Y", ["USUBJID"]]
    bor = treated.merge(best, on="USUBJID", how="left")
    ne = "NE" if "NE" in hierarchy else hierarchy[-1]
    missing = bor["AVALC"].isna()
    bor.loc[missing, "AVALC"] = ne
    bor.loc[missing, "AVAL"] = float(hierarchy.index(ne) + 1)
    return bor.assign(PARAMCD="BOR", PARAM=PARAMS["BOR"])


def derive_achieved(adsl: pd.DataFrame, ovr: pd.DataFrame, values: list[str],
                    paramcd: str) -> pd.DataFrame:
    """Y/N (AVAL 1/0) per treated subject: any ANL01FL assessment in `values`; ADT = the first."""
    hit = ovr[(ovr["ANL01FL"] == "Y") & ovr["AVALC"].isin(values)]
    first = hit.sort_values(["USUBJID", "ADT"], kind="stable").drop_duplicates("USUBJID")
    treated = adsl.loc[adsl["SAFFL"] == "Y", ["USUBJID"]]
    out = treated.merge(first[["USUBJID", "ADT", "RSSEQ"]], on="USUBJID", how="left")
    yes = out["ADT"].notna()
    return out.assign(AVALC=np.where(yes, "Y", "N"), AVAL=yes.astype("float64"),
                      PARAMCD=paramcd, PARAM=PARAMS[paramcd])


def build_adrs(adsl: pd.DataFrame, rs: pd.DataFrame, response: dict) -> pd.DataFrame:
    stop_at = [c for c in response.get("stop_at", []) if c in adsl.columns]
    ovr = derive_ovr(adsl, rs, response, stop_at)
    parts = [ovr, derive_bor(adsl, ovr, list(response["hierarchy"])),
             derive_achieved(adsl, ovr, list(response.get("responders", [])), "CRCRI"),
             derive_achieved(adsl, ovr, list(response.get("overall_responders", [])), "ORR")]
    adrs = pd.concat(parts, ignore_index=True)
    adrs = adrs.merge(adsl[["USUBJID", "TRTSDT"]], on="USUBJID", how="left")
    adrs["ADY"] = study_day(adrs["ADT"], adrs["TRTSDT"])
    order = {p: i for i, p in enumerate(PARAMS)}
    adrs["__p"] = adrs["PARAMCD"].map(order)
    adrs = adrs.sort_values(["USUBJID", "__p", "ADT", "RSSEQ"], kind="stable",
                            na_position="last").drop(columns="__p").reset_index(drop=True)
    adrs["ASEQ"] = adrs.groupby("USUBJID").cumcount().astype("float64") + 1
    for col in ("ANL01FL", "ANL02FL", "VISIT"):
        adrs[col] = adrs[col].fillna("").astype(object)
    return adrs


def first_cr_cri_date(adrs: pd.DataFrame) -> pd.Series:
    """FCRCRIDT per subject (indexed by USUBJID)."""
    hit = adrs[(adrs["PARAMCD"] == "CRCRI") & (adrs["AVALC"] == "Y")]
    return hit.set_index("USUBJID")["ADT"]


def response_rate(adrs: pd.DataFrame, paramcd: str, population: pd.Index,
                  alpha: float = 0.05) -> tuple[int, int, float, float, float]:
    """(responders, n, rate, lower, upper): exact Clopper-Pearson confidence interval."""
    from scipy.stats import beta

    rows = adrs[(adrs["PARAMCD"] == paramcd) & adrs["USUBJID"].isin(population)]
    n = len(rows)
    x = int((rows["AVALC"] == "Y").sum())
    if n == 0:
        return 0, 0, float("nan"), float("nan"), float("nan")
    lower = 0.0 if x == 0 else float(beta.ppf(alpha / 2, x, n - x + 1))
    upper = 1.0 if x == n else float(beta.ppf(1 - alpha / 2, x + 1, n - x))
    return x, n, x / n, lower, upper
