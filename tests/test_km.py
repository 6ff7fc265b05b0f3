"""cdisc.adam.km: Kaplan-Meier estimates checked by hand, edge cases, deterministic outputs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc.adam.km import COLUMNS, km_summary, write_km_outputs

pytest.importorskip("lifelines")
pytest.importorskip("matplotlib")


def adtte(aval, cnsr, paramcd="OS", param=None) -> pd.DataFrame:
    return pd.DataFrame({"USUBJID": [f"{paramcd}-{i}" for i in range(len(aval))],
                         "PARAMCD": paramcd, "PARAM": param or f"{paramcd} (days)",
                         "AVAL": [float(a) for a in aval], "CNSR": [float(c) for c in cnsr]})


# 5 subjects: events at 10, 30, 40; censored at 20 and 50.
# S(10) = 4/5 = 0.8; S(30) = 0.8 * 2/3 = 0.5333; S(40) = 0.5333 * 1/2 = 0.2667;
# median = 40 days (first time S <= 0.5).
HAND = adtte([10, 20, 30, 40, 50], [0, 1, 0, 0, 1])
TIMES = {"5D": 5, "10D": 10, "15D": 15, "30D": 30, "35D": 35, "45D": 45, "50D": 50}


def test_hand_checked_counts_median_and_rates() -> None:
    row = km_summary(HAND, times=TIMES).iloc[0]
    assert (row["PARAMCD"], row["PARAM"]) == ("OS", "OS (days)")
    assert (row["N"], row["EVENTS"], row["CENSORED"]) == (5, 3, 2)
    assert row["MEDIAN_DAYS"] == 40.0
    expected = {"5D": 1.0, "10D": 0.8, "15D": 0.8, "30D": 0.5333, "35D": 0.5333,
                "45D": 0.2667, "50D": 0.2667}
    assert {label: row[f"RATE_{label}"] for label in TIMES} == expected
    for label in ("10D", "15D", "30D", "45D"):
        assert 0 <= row[f"RATE_{label}_LCL"] < row[f"RATE_{label}"] < row[f"RATE_{label}_UCL"] <= 1
    # the median's CI: lower band crosses 0.5 at 10 days, the upper band never does
    assert row["MEDIAN_LCL"] == 10.0 and math.isnan(row["MEDIAN_UCL"])


def test_default_columns_and_rates_at_6_and_12_months() -> None:
    data = adtte([10, 20, 30, 40, 400], [0, 1, 0, 0, 1])  # followed past 12 months
    table = km_summary(data)
    assert list(table.columns) == COLUMNS
    row = table.iloc[0]
    assert row["RATE_6M"] == row["RATE_12M"] == 0.2667  # last step (40 days) still holds
    assert row["RATE_6M_LCL"] < 0.2667 < row["RATE_6M_UCL"]


def test_median_not_reached_and_rates_beyond_follow_up() -> None:
    row = km_summary(adtte([10, 20, 30, 40, 50], [0, 1, 1, 1, 1]), times=TIMES).iloc[0]
    assert row["EVENTS"] == 1 and row["RATE_50D"] == 0.8  # S stays at 0.8
    assert math.isnan(row["MEDIAN_DAYS"]) and math.isnan(row["MEDIAN_UCL"])
    assert row["MEDIAN_LCL"] == 10.0  # the lower band (0.20 after day 10) crosses 0.5
    row = km_summary(adtte([10, 20, 30, 40, 50], [0, 1, 1, 1, 1])).iloc[0]
    assert math.isnan(row["RATE_6M"]) and math.isnan(row["RATE_12M_UCL"])  # nobody at risk
    # when the last record is an event the curve is 0 from there on: defined
    row = km_summary(adtte([10, 20], [0, 0])).iloc[0]
    assert row["RATE_6M"] == 0.0 and row["MEDIAN_DAYS"] == 10.0


def test_several_parameters_sorted_missing_aval_and_empty() -> None:
    data = pd.concat([adtte([5, 15, 25], [0, 0, 1], "PFS"), HAND,
                      adtte([np.nan, np.nan], [1, 1], "DOR"),
                      adtte([7, np.nan], [0, 1], "TTR")])
    table = km_summary(data)
    assert list(table["PARAMCD"]) == ["DOR", "OS", "PFS", "TTR"]
    assert list(table["N"]) == [0, 5, 3, 1]
    assert list(table["EVENTS"]) == [1 - 1, 3, 2, 1]
    dor = table.iloc[0]
    assert dor["PARAM"] == "DOR (days)"
    assert all(math.isnan(dor[c]) for c in COLUMNS[5:])
    empty = km_summary(HAND.iloc[0:0])
    assert empty.empty and list(empty.columns) == COLUMNS
    assert km_summary(pd.DataFrame()).empty


def test_outputs_written_and_byte_identical(tmp_path: Path) -> None:
    data = pd.concat([HAND, adtte([5, 15, 25], [0, 0, 1], "PFS"),
                      adtte([np.nan], [1], "DOR")])
    first_dir, second_dir = tmp_path / "a", tmp_path / "b"
    write_km_outputs(data, first_dir)
    write_km_outputs(data, second_dir)
    first = {p.name: p.read_bytes() for p in first_dir.iterdir()}
    assert sorted(first) == ["km_plot.png", "km_summary.csv"]
    assert first == {p.name: p.read_bytes() for p in second_dir.iterdir()}
    assert first["km_plot.png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert b"\r\n" not in first["km_summary.csv"]
    csv = pd.read_csv(first_dir / "km_summary.csv")
    assert list(csv.columns) == COLUMNS
    assert list(csv["PARAMCD"]) == ["DOR", "OS", "PFS"]
    assert csv.loc[1, "MEDIAN_DAYS"] == 40.0


def test_empty_adtte_writes_outputs(tmp_path: Path) -> None:
    write_km_outputs(HAND.iloc[0:0], tmp_path)
    assert (tmp_path / "km_summary.csv").read_text() == ",".join(COLUMNS) + "\n"
    assert (tmp_path / "km_plot.png").read_bytes()[:4] == b"\x89PNG"
