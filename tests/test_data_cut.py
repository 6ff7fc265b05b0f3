"""cdisc.pipeline.data_cut_datetime: the latest complete date in any --DTC variable."""

from __future__ import annotations

import pandas as pd

from cdisc.model import Column, Dataset
from cdisc.pipeline import data_cut_datetime


def _ds(name: str, columns: dict[str, list]) -> Dataset:
    return Dataset(name, "", [Column(c, "", "Char") for c in columns],
                   pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in columns.items()}))


def test_latest_complete_date_of_any_dtc_variable() -> None:
    ae = _ds("AE", {"AESTDTC": ["2021-03-04", "2021-05", None, "2021-04-30T10:15"],
                    "AETERM": ["9999-12-31", "", "", ""]})  # not a --DTC variable
    lb = _ds("LB", {"LBDTC": ["2021-04-30T23:59", "", "2021", "2021-04-29"] * 3})
    assert data_cut_datetime({"AE": ae, "LB": lb}) == "2021-04-30T00:00:00"
    shared = "2022-01-02"  # one object shared by many rows, as the mapping writes them
    lb = _ds("LB", {"LBDTC": [shared] * 5 + ["2021-12-31T08:00"]})
    assert data_cut_datetime({"AE": ae, "LB": lb}) == "2022-01-02T00:00:00"


def test_no_complete_date_gives_the_sas_epoch() -> None:
    dm = _ds("DM", {"RFSTDTC": ["2021-05", None, "", "2021"]})
    assert data_cut_datetime({"DM": dm}) == "1960-01-01T00:00:00"
    assert data_cut_datetime({}) == "1960-01-01T00:00:00"
