"""ADRS: the investigator's overall response per assessment (the configured assessment
parameter, OVR in the demo) and the per-subject parameters adam.yaml `response.subject_parameters`
defines: a best overall response (`best: true`) or a response achieved (`achieved: [values]`,
dated at the first such assessment), e.g. BOR, CRCRI, ORR."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc.adam.inputs import to_date, where_mask

DEFAULT_ASSESSMENT = ("OVR", "Overall Response by Investigator")


def assessment_parameter(response: dict) -> tuple[str, str]:
    """(PARAMCD, PARAM) of the per-assessment records."""
    return (str(response.get("paramcd", DEFAULT_ASSESSMENT[0])),
            str(response.get("param", DEFAULT_ASSESSMENT[1])))


def parameter_names(response: dict) -> dict[str, str]:
    """PARAMCD -> PARAM of every ADRS parameter, in ADRS order."""
    code, name = assessment_parameter(response)
    out = {code: name}
    for paramcd, spec in (response.get("subject_parameters") or {}).items():
        out[str(paramcd)] = str(spec.get("param", paramcd))
    return out


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
    ovr["PARAMCD"], ovr["PARAM"] = assessment_parameter(response)
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


def derive_bor(population: pd.DataFrame, ovr: pd.DataFrame, hierarchy: list[str],
               paramcd: str, param: str) -> pd.DataFrame:
    """The best AVAL among ANL01FL assessments, dated at its first occurrence; subjects of the
    population without any such assessment get NE with no date."""
    used = ovr[ovr["ANL01FL"] == "Y"].sort_values(["USUBJID", "AVAL", "ADT"], kind="stable")
    best = used.drop_duplicates("USUBJID")[["USUBJID", "AVAL", "AVALC", "ADT", "RSSEQ"]]
    bor = population.merge(best, on="USUBJID", how="left")
    ne = "NE" if "NE" in hierarchy else hierarchy[-1]
    missing = bor["AVALC"].isna()
    bor.loc[missing, "AVALC"] = ne
    bor.loc[missing, "AVAL"] = float(hierarchy.index(ne) + 1)
    return bor.assign(PARAMCD=paramcd, PARAM=param)


def derive_achieved(population: pd.DataFrame, ovr: pd.DataFrame, values: list[str],
                    paramcd: str, param: str) -> pd.DataFrame:
    """Y/N (AVAL 1/0) per subject of the population: any ANL01FL assessment in `values`;
    ADT = the first."""
    hit = ovr[(ovr["ANL01FL"] == "Y") & ovr["AVALC"].isin(values)]
    first = hit.sort_values(["USUBJID", "ADT"], kind="stable").drop_duplicates("USUBJID")
    out = population.merge(first[["USUBJID", "ADT", "RSSEQ"]], on="USUBJID", how="left")
    yes = out["ADT"].notna()
    return out.assign(AVALC=np.where(yes, "Y", "N"), AVAL=yes.astype("float64"),
                      PARAMCD=paramcd, PARAM=param)


def response_population(adsl: pd.DataFrame, response: dict) -> pd.DataFrame:
    """USUBJID of the subjects the per-subject parameters and rates are for."""
    flag = str(response["population"])
    return adsl.loc[adsl[flag] == "Y", ["USUBJID"]]


def derive_subject_parameter(population: pd.DataFrame, ovr: pd.DataFrame, response: dict,
                             paramcd: str, spec: dict) -> pd.DataFrame:
    param = str(spec.get("param", paramcd))
    if spec.get("best"):
        return derive_bor(population, ovr, list(response["hierarchy"]), paramcd, param)
    return derive_achieved(population, ovr, [str(v) for v in spec["achieved"]], paramcd, param)


def build_adrs(adsl: pd.DataFrame, rs: pd.DataFrame, response: dict) -> pd.DataFrame:
    stop_at = [c for c in response.get("stop_at", []) if c in adsl.columns]
    ovr = derive_ovr(adsl, rs, response, stop_at)
    population = response_population(adsl, response)
    parts = [ovr] + [derive_subject_parameter(population, ovr, response, str(code), spec)
                     for code, spec in (response.get("subject_parameters") or {}).items()]
    adrs = pd.concat(parts, ignore_index=True)
    adrs = adrs.merge(adsl[["USUBJID", "TRTSDT"]], on="USUBJID", how="left")
    adrs["ADY"] = study_day(adrs["ADT"], adrs["TRTSDT"])
    # the order of the dataset's keys (USUBJID, PARAMCD, ADT, ASEQ): ASEQ numbers that order
    adrs = adrs.sort_values(["USUBJID", "PARAMCD", "ADT", "RSSEQ"], kind="stable",
                            na_position="last").reset_index(drop=True)
    adrs["AVISIT"] = adrs["VISIT"].fillna("").astype(object)
    adrs["AVISITN"] = adrs["VISITNUM"].astype("float64")
    adrs["ASEQ"] = adrs.groupby("USUBJID").cumcount().astype("float64") + 1
    for col in ("ANL01FL", "ANL02FL", "VISIT"):
        adrs[col] = adrs[col].fillna("").astype(object)
    return adrs


def subject_values(adrs: pd.DataFrame, spec: dict) -> pd.Series:
    """An ADSL variable from ADRS (adam.yaml response.adsl): the `variable` of the subject's
    record of `parameter` that the filter selects, indexed by USUBJID."""
    rows = adrs[adrs["PARAMCD"] == str(spec["parameter"])]
    rows = rows[where_mask(rows, spec.get("where") or {}, "ADRS")]
    return rows.drop_duplicates("USUBJID").set_index("USUBJID")[str(spec["variable"])]


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
