"""Kaplan-Meier summary of each ADTTE parameter (lifelines, not a hand-written estimator):
n, events, median with its 95% CI, 6- and 12-month event-free rates with 95% CIs, and a plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

MONTH = 30.4375
TIMES = {"6M": 6 * MONTH, "12M": 12 * MONTH}
COLUMNS = ["PARAMCD", "PARAM", "N", "EVENTS", "CENSORED", "MEDIAN_DAYS", "MEDIAN_LCL",
           "MEDIAN_UCL", "RATE_6M", "RATE_6M_LCL", "RATE_6M_UCL", "RATE_12M", "RATE_12M_LCL",
           "RATE_12M_UCL"]


def _fit(durations: pd.Series, events: pd.Series):  # type: ignore[no-untyped-def]
    from lifelines import KaplanMeierFitter

    kmf = KaplanMeierFitter()
    kmf.fit(durations.to_numpy(dtype=float), event_observed=events.to_numpy(dtype=bool),
            alpha=0.05)
    return kmf


def _step_at(frame: pd.DataFrame, t: float) -> pd.Series:
    """Row of a step function (indexed by time) in force at time t."""
    rows = frame[frame.index <= t]
    return rows.iloc[-1] if len(rows) else frame.iloc[0]


def km_row(paramcd: str, param: str, data: pd.DataFrame) -> dict:
    row: dict = {"PARAMCD": paramcd, "PARAM": param, "N": len(data),
                 "EVENTS": int((data["CNSR"] == 0).sum()),
                 "CENSORED": int((data["CNSR"] > 0).sum())}
    if data.empty:
        return {c: row.get(c, np.nan) for c in COLUMNS}
    from lifelines.utils import median_survival_times

    kmf = _fit(data["AVAL"], data["CNSR"] == 0)
    median = float(kmf.median_survival_time_)
    ci = median_survival_times(kmf.confidence_interval_)
    row["MEDIAN_DAYS"] = round(median, 1) if np.isfinite(median) else np.nan
    lcl, ucl = (float(v) for v in np.asarray(ci).ravel()[:2])
    row["MEDIAN_LCL"] = round(lcl, 1) if np.isfinite(lcl) else np.nan
    row["MEDIAN_UCL"] = round(ucl, 1) if np.isfinite(ucl) else np.nan
    survival = kmf.survival_function_
    bands = kmf.confidence_interval_survival_function_
    for label, t in TIMES.items():
        if t > data["AVAL"].max():  # no one followed that long: the rate is not estimable
            row[f"RATE_{label}"] = row[f"RATE_{label}_LCL"] = row[f"RATE_{label}_UCL"] = np.nan
            continue
        row[f"RATE_{label}"] = round(float(_step_at(survival, t).iloc[0]), 4)
        band = _step_at(bands, t)
        row[f"RATE_{label}_LCL"] = round(float(band.iloc[0]), 4)
        row[f"RATE_{label}_UCL"] = round(float(band.iloc[1]), 4)
    return {c: row.get(c, np.nan) for c in COLUMNS}


def km_summary(adtte: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for paramcd, data in sorted(adtte.groupby("PARAMCD"), key=lambda x: x[0]):
        data = data[data["AVAL"].notna()]
        rows.append(km_row(str(paramcd), str(data["PARAM"].iloc[0]) if len(data) else "", data))
    return pd.DataFrame(rows, columns=COLUMNS)


def plot_km(adtte: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    params = sorted(adtte["PARAMCD"].unique())
    fig, axes = plt.subplots(1, max(len(params), 1), figsize=(5 * max(len(params), 1), 4),
                             squeeze=False)
    for ax, paramcd in zip(axes[0], params, strict=False):
        data = adtte[(adtte["PARAMCD"] == paramcd) & adtte["AVAL"].notna()]
        kmf = _fit(data["AVAL"] / MONTH, data["CNSR"] == 0)
        kmf.plot_survival_function(ax=ax, show_censors=True, ci_show=True, legend=False)
        median = kmf.median_survival_time_
        ax.set_title(str(data["PARAM"].iloc[0]), fontsize=10)
        ax.set_xlabel("Months")
        ax.set_ylabel("Probability")
        ax.set_ylim(0, 1.02)
        text = f"n={len(data)}, events={int((data['CNSR'] == 0).sum())}\nmedian=" + \
            (f"{median:.1f} months" if np.isfinite(median) else "not reached")
        ax.text(0.98, 0.98, text, transform=ax.transAxes, ha="right", va="top", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def write_km_outputs(adtte: pd.DataFrame, folder: Path) -> None:
    km_summary(adtte).to_csv(folder / "km_summary.csv", index=False, lineterminator="\n")
    if len(adtte):
        plot_km(adtte, folder / "km_plot.png")
