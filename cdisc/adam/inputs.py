"""SDTM input for ADaM: read a folder of SDTM datasets by standard name, apply a data cut-off,
and the small helpers every ADaM derivation uses (filters, ISO text -> dates)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from cdisc import dates
from cdisc.distinct import on_distinct
from cdisc.errors import InputError, SpecError
from cdisc.text import text_column

DOMAINS = ("DM", "EX", "AE", "LB", "PC", "PP", "CP", "RS", "DS", "PR", "CM", "MH")


def read_sdtm(folder: Path, names: tuple[str, ...] = DOMAINS) -> dict[str, pd.DataFrame]:
    """Each domain from <name>.xpt (or <name>.json, Dataset-JSON); absent ones are empty."""
    from cdisc.io.datasetjson import read_dataset_json
    from cdisc.io.xpt import read_xpt

    out: dict[str, pd.DataFrame] = {}
    for name in names:
        xpt = folder / f"{name.lower()}.xpt"
        js = folder / f"{name.lower()}.json"
        if xpt.exists():
            out[name], _ = read_xpt(xpt)
        elif js.exists():
            out[name] = read_dataset_json(js)
        else:
            out[name] = pd.DataFrame(columns=["USUBJID"])
    if out["DM"].empty:
        raise InputError("no DM dataset (dm.xpt or dm.json): ADaM needs one", file=str(folder))
    return out


def record_date_column(df: pd.DataFrame, domain: str) -> str | None:
    for name in (f"{domain}STDTC", f"{domain}DTC"):
        if name in df.columns:
            return name
    return None


def apply_cutoff(domains: dict[str, pd.DataFrame], cutoff: str | None) -> dict[str, pd.DataFrame]:
    """Drop every record dated after the cut (partial dates: when their known part is after);
    a death after the cut is no death at the cut."""
    if not cutoff:
        return domains
    out = {}
    for name, df in domains.items():
        col = record_date_column(df, name)
        if name == "DM":
            df = df.copy()
            if "DTHDTC" in df:
                after = _after(df["DTHDTC"], cutoff)
                df.loc[after, "DTHDTC"] = ""
                if "DTHFL" in df:
                    df.loc[after, "DTHFL"] = ""
            out[name] = df
        elif col is not None:
            out[name] = df[~_after(df[col], cutoff)].reset_index(drop=True)
        else:
            out[name] = df
    return out


def _after(dtc: pd.Series, cutoff: str) -> pd.Series:
    """True when the date is after the cut-off; a partial date only when its known part is."""
    text = dtc.astype(str).str[:10]
    out = pd.Series(False, index=dtc.index)
    for n in (4, 7, 10):
        sel = text.str.len() == n
        out[sel] = text[sel] > cutoff[:n]
    return out


def where_mask(df: pd.DataFrame, where: dict[str, Any], dataset: str) -> pd.Series:
    """Equality filter: {VAR: value} or {VAR: [values]}; every variable must exist."""
    mask = pd.Series(True, index=df.index)
    for var, wanted in (where or {}).items():
        if var not in df.columns:
            raise SpecError(f"filter on {dataset}.{var}, which the dataset does not have")
        allowed = [str(v) for v in (wanted if isinstance(wanted, list) else [wanted])]
        mask &= df[var].astype(str).isin(allowed)
    return mask


def to_date(dtc: pd.Series) -> pd.Series:
    """Complete ISO dates -> datetime64 (partial or missing -> NaT)."""
    return on_distinct(_date_of_text, dtc)


def _date_of_text(dtc: pd.Series) -> pd.Series:
    # only the date part matters: distinct date/times (a lab domain's) share far fewer dates
    return dates.iso_to_date(text_column(dtc).str[:10])


def by_subject(usubjid: pd.Series, values: pd.Series) -> pd.Series:
    """Values indexed by (unique) USUBJID placed on rows identified by usubjid, keeping the
    dtype (Series.map turns an empty datetime Series into an error in pandas 3)."""
    return pd.Series(values.reindex(usubjid.to_numpy()).to_numpy(), index=usubjid.index,
                     dtype=values.dtype)
