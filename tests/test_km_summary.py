"""Kaplan-Meier summary: values checked by hand on a five-subject example."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cdisc.adam.km import km_summary, write_km_outputs


def adtte(aval, cnsr, paramcd="OS") -> pd.DataFrame:
    return pd.DataFrame({"USUBJID": [f"S{i}" for i in range(len(aval))], "PARAMCD": paramcd,
                         "PARAM": f"{paramcd} (days)", "AVAL": [float(a) for a in aval],
                         "CNSR": [float(c) for c in cnsr]})


def test_hand_checked_estimates() -> None:
    # S(10) = 4/5 = 0.8; censored at 20; S(30) = 0.8 * 2/3 = 0.5333; S(40) = 0.2667
    # -> median = 40 days (first time S <= 0.5)
    long = adtte([10, 20, 30, 40, 400], [0, 1, 0, 0, 1])
    row = km_summary(long).iloc[0]
    assert (row["N"], row["EVENTS"], row["CENSORED"], row["MEDIAN_DAYS"]) == (5, 3, 2, 40.0)
    assert row["RATE_6M"] == 0.2667  # 182.6 days: the step after 40 days holds
    assert row["RATE_6M_LCL"] < row["RATE_6M"] < row["RATE_6M_UCL"]
    assert row["RATE_12M"] == 0.2667  # still followed at 365 days (the 400-day subject)


def test_median_not_reached_and_empty() -> None:
    row = km_summary(adtte([10, 20, 30, 40, 50], [0, 1, 1, 1, 1])).iloc[0]
    assert np.isnan(row["MEDIAN_DAYS"]) and row["EVENTS"] == 1  # S stays at 0.8
    assert np.isnan(row["RATE_6M"])  # nobody followed 6 months: not estimable
    assert km_summary(adtte([], [])).empty


def test_outputs_written_and_deterministic(tmp_path: Path) -> None:
    data = pd.concat([adtte([10, 20, 30, 40, 50], [0, 1, 0, 0, 1]),
                      adtte([5, 15, 25], [0, 0, 1], "PFS")])
    write_km_outputs(data, tmp_path)
    first = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    write_km_outputs(data, tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == first
    csv = pd.read_csv(tmp_path / "km_summary.csv")
    assert list(csv["PARAMCD"]) == ["OS", "PFS"]
    assert first["km_plot.png"][:8] == b"\x89PNG\r\n\x1a\n"
