"""ADTTE (ADaM BDS time-to-event) from event and censoring sources, like admiral's
event_source / censor_source: per subject, the earliest event on or after the start date (and
not after the first `censor_at` date); otherwise the latest censoring date, with one CNSR value
per reason. AVAL = ADT - STARTDT + 1 (days)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc.adam.config import Parameter, Source, Without
from cdisc.adam.inputs import to_date, where_mask

CANDIDATE_COLUMNS = ["USUBJID", "ADT", "ORDER", "CNSR", "DESC", "SRCDOM", "SRCVAR", "SRCSEQ"]


def _candidates(src: Source, order: int, adsl: pd.DataFrame, adrs: pd.DataFrame,
                sdtm: dict[str, pd.DataFrame], start: pd.Series) -> pd.DataFrame:
    """Dated candidate records of one source (before any window is applied)."""
    if src.source == "START":
        df = pd.DataFrame({"USUBJID": adsl["USUBJID"], "ADT": start.to_numpy(),
                           "SRCSEQ": np.nan})
        dom, var = "ADSL", None
    elif src.source == "ADSL":
        df = pd.DataFrame({"USUBJID": adsl["USUBJID"], "ADT": adsl[src.date].to_numpy(),
                           "SRCSEQ": np.nan})
        dom, var = "ADSL", src.date
    elif src.source == "ADRS":
        rows = adrs.loc[where_mask(adrs, src.where, "ADRS"), ["USUBJID", "ADT", "ASEQ"]]
        df = pd.DataFrame({"USUBJID": rows["USUBJID"], "ADT": rows["ADT"],
                           "SRCSEQ": rows["ASEQ"]})
        dom, var = "ADRS", "ADT"
    else:
        data = sdtm.get(src.source, pd.DataFrame())
        seq = f"{src.source}SEQ"
        # the columns read below only: filtering would copy every column of the domain
        used = [c for c in ("USUBJID", src.date, seq) if c in data.columns]
        rows = data.loc[where_mask(data, src.where, src.source), used] if not data.empty \
            else data
        df = pd.DataFrame({"USUBJID": rows.get("USUBJID", pd.Series(dtype=object)),
                           "ADT": to_date(rows.get(src.date, pd.Series(dtype=object))),
                           "SRCSEQ": rows.get(seq, pd.Series(np.nan, index=rows.index))})
        dom, var = src.source, src.date
    if src.without is not None:
        df = df[~df["USUBJID"].isin(_achieved(src.without, adrs, adsl, start))]
    df = df.assign(ORDER=order, CNSR=src.cnsr, DESC=src.description,
                   SRCDOM=src.srcdom or dom, SRCVAR=src.srcvar or var or "")
    if src.source == "START":
        df["SRCVAR"] = src.srcvar or ""
    return df[df["ADT"].notna()][CANDIDATE_COLUMNS]


def _achieved(without: Without, adrs: pd.DataFrame, adsl: pd.DataFrame, start: pd.Series
              ) -> set[str]:
    """Subjects with an ADRS record of the filter dated on or after the start and no more
    than `days` days after it."""
    rows = adrs.loc[where_mask(adrs, without.where, "ADRS"), ["USUBJID", "ADT"]]
    origin = rows["USUBJID"].map(pd.Series(start.to_numpy(), index=adsl["USUBJID"]))
    gap = (rows["ADT"] - origin).dt.days
    return set(rows.loc[gap.notna() & (gap >= 0) & (gap <= without.days), "USUBJID"])


def _stop_dates(param: Parameter, adsl: pd.DataFrame, start: pd.Series) -> pd.DataFrame:
    """Per subject the earliest censor_at date on or after the start, with its CNSR/text."""
    parts = []
    for entry in param.censor_at:
        dates = adsl[entry["date"]]
        keep = dates.notna() & start.notna() & (dates >= start)
        parts.append(pd.DataFrame({"USUBJID": adsl.loc[keep, "USUBJID"],
                                   "STOP": dates[keep], "STOPCNSR": int(entry["cnsr"]),
                                   "STOPDESC": str(entry.get("description", ""))}))
    if not parts:
        return pd.DataFrame(columns=["USUBJID", "STOP", "STOPCNSR", "STOPDESC"])
    stops = pd.concat(parts, ignore_index=True).sort_values(["USUBJID", "STOP"], kind="stable")
    return stops.drop_duplicates("USUBJID")


def derive_param(param: Parameter, adsl: pd.DataFrame, adrs: pd.DataFrame,
                 sdtm: dict[str, pd.DataFrame], paramn: int) -> pd.DataFrame:
    start = adsl[param.start]
    pop = adsl.loc[start.notna(), ["USUBJID"]].assign(STARTDT=start[start.notna()].to_numpy())
    stops = _stop_dates(param, adsl, start)
    window = pop.merge(stops, on="USUBJID", how="left")

    def candidates(sources: list[Source]) -> pd.DataFrame:
        parts = [_candidates(s, i, adsl, adrs, sdtm, start) for i, s in enumerate(sources)]
        df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
            columns=CANDIDATE_COLUMNS)
        df = df.merge(window, on="USUBJID", how="inner")
        within = df["ADT"] >= df["STARTDT"]
        if param.censor_at:  # else STOP is all missing (and not even a date column: slow)
            within &= df["STOP"].isna() | (df["ADT"] <= df["STOP"])
        return df[within]

    events = candidates(param.events).sort_values(["USUBJID", "ADT", "ORDER"], kind="stable")
    first_event = events.drop_duplicates("USUBJID")
    censors = candidates(param.censors)
    censors = censors[~censors["USUBJID"].isin(first_event["USUBJID"])]
    censors = censors.sort_values(["USUBJID", "ADT", "ORDER"], ascending=[True, False, True],
                                  kind="stable")
    last_censor = censors.drop_duplicates("USUBJID")
    stopped = last_censor["STOP"].notna()
    last_censor = last_censor.assign(
        CNSR=np.where(stopped, last_censor["STOPCNSR"], last_censor["CNSR"]),
        DESC=np.where(stopped, last_censor["STOPDESC"], last_censor["DESC"]))
    # every subject has a candidate: the START censoring source the config requires
    out = pd.concat([first_event.assign(CNSR=0), last_censor], ignore_index=True)
    out["CNSR"] = out["CNSR"].astype("float64")
    out["EVNTDESC"] = np.where(out["CNSR"] == 0, out["DESC"], "")
    out["CNSDTDSC"] = np.where(out["CNSR"] > 0, out["DESC"], "")
    out["AVAL"] = (out["ADT"] - out["STARTDT"]).dt.days.astype("float64") + 1
    out["PARAMCD"] = param.paramcd
    out["PARAM"] = param.param
    out["PARAMN"] = float(paramn)
    return out[["USUBJID", "PARAMCD", "PARAM", "PARAMN", "AVAL", "STARTDT", "ADT", "CNSR",
                "EVNTDESC", "CNSDTDSC", "SRCDOM", "SRCVAR", "SRCSEQ"]]


def build_adtte(params: list[Parameter], adsl: pd.DataFrame, adrs: pd.DataFrame,
                sdtm: dict[str, pd.DataFrame]) -> pd.DataFrame:
    parts = [derive_param(p, adsl, adrs, sdtm, i) for i, p in enumerate(params, start=1)]
    adtte = pd.concat(parts, ignore_index=True)
    # the order of the dataset's keys (USUBJID, PARAMCD); ASEQ numbers it
    adtte = adtte.sort_values(["USUBJID", "PARAMCD"], kind="stable").reset_index(drop=True)
    adtte["ASEQ"] = adtte.groupby("USUBJID").cumcount().astype("float64") + 1
    return adtte
