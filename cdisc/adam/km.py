"""Kaplan-Meier summary of each ADTTE parameter, estimated with lifelines (not by hand).

One row per PARAMCD: N, events, censored, median with its 95% CI, and the event-free rate
with its 95% CI at 6 and 12 months; plus a plot with one panel per parameter.

lifelines and matplotlib are imported inside the functions that need them: both are slow to
import, and the rest of the package works without them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

MONTH = 30.4375  # days in an average month (365.25 / 12)
TIMES: dict[str, float] = {"6M": 6 * MONTH, "12M": 12 * MONTH}  # 182.625 and 365.25 days
ALPHA = 0.05  # 95% confidence intervals
BASE_COLUMNS = ["PARAMCD", "PARAM", "N", "EVENTS", "CENSORED", "MEDIAN_DAYS", "MEDIAN_LCL",
                "MEDIAN_UCL"]


def rate_columns(times: Mapping[str, float]) -> list[str]:
    return [f"RATE_{label}{suffix}" for label in times for suffix in ("", "_LCL", "_UCL")]


COLUMNS = BASE_COLUMNS + rate_columns(TIMES)


def _days(value: Any) -> float:
    value = float(value)
    return round(value, 1) if math.isfinite(value) else math.nan


def _prob(value: Any) -> float:
    value = float(value)
    return round(value, 4) if math.isfinite(value) else math.nan


def _analysable(data: pd.DataFrame) -> pd.DataFrame:
    """Records with a non-missing AVAL; AVAL and CNSR made numeric, EVENT = (CNSR == 0)."""
    out = data.copy()
    out["AVAL"] = pd.to_numeric(out["AVAL"], errors="coerce").astype(float)
    out["CNSR"] = pd.to_numeric(out["CNSR"], errors="coerce").astype(float)
    out = out[out["AVAL"].notna()]
    out["EVENT"] = (out["CNSR"] == 0).to_numpy(dtype=bool)
    return out


def fit_km(durations: Any, events: Any):  # type: ignore[no-untyped-def]
    """A fitted lifelines KaplanMeierFitter (95% CIs, lifelines' default log-log bands)."""
    from lifelines import KaplanMeierFitter

    kmf = KaplanMeierFitter(alpha=ALPHA)
    kmf.fit(np.asarray(durations, dtype=float), event_observed=np.asarray(events, dtype=bool))
    return kmf


def _step_at(frame: pd.DataFrame, t: float) -> pd.Series:
    """The row of a step function (indexed by time) in force at time t: last step at or before t."""
    rows = frame[frame.index <= t]
    return rows.iloc[-1] if len(rows) else frame.iloc[0]


def survival_at(kmf, t: float) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """KM survival probability at time t with its 95% CI, rounded to 4 decimals.

    NaN when t lies beyond the last follow-up time and the curve has not dropped to 0: the
    estimate is not defined there (nobody was still at risk)."""
    survival = kmf.survival_function_
    last_time = float(survival.index.max())
    rate = float(kmf.survival_function_at_times([t]).iloc[0])
    if t > last_time and rate > 0:
        return math.nan, math.nan, math.nan
    band = _step_at(kmf.confidence_interval_survival_function_, t)
    return _prob(rate), _prob(band.iloc[0]), _prob(band.iloc[1])


def km_row(paramcd: str, param: str, data: pd.DataFrame,
           times: Mapping[str, float] = TIMES) -> dict[str, Any]:
    """Summary row of one parameter; data holds its records with a non-missing AVAL."""
    events = int(data["EVENT"].sum()) if len(data) else 0
    row: dict[str, Any] = {"PARAMCD": paramcd, "PARAM": param, "N": len(data),
                           "EVENTS": events, "CENSORED": len(data) - events}
    columns = BASE_COLUMNS + rate_columns(times)
    if data.empty:
        return {c: row.get(c, math.nan) for c in columns}
    from lifelines.utils import median_survival_times

    kmf = fit_km(data["AVAL"], data["EVENT"])
    row["MEDIAN_DAYS"] = _days(kmf.median_survival_time_)
    # the median's CI: where the lower and upper survival bands cross 0.5 (inf: never)
    ci = median_survival_times(kmf.confidence_interval_)
    row["MEDIAN_LCL"] = _days(ci.iloc[0, 0])
    row["MEDIAN_UCL"] = _days(ci.iloc[0, 1])
    for label, t in times.items():
        rate, lcl, ucl = survival_at(kmf, float(t))
        row[f"RATE_{label}"], row[f"RATE_{label}_LCL"], row[f"RATE_{label}_UCL"] = rate, lcl, ucl
    return {c: row.get(c, math.nan) for c in columns}


def _parameters(adtte: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """(PARAMCD, PARAM, all records) of each parameter, sorted by PARAMCD."""
    if adtte.empty or "PARAMCD" not in adtte.columns:
        return []
    out = []
    for paramcd, group in adtte[adtte["PARAMCD"].notna()].groupby("PARAMCD", sort=False):
        params = group["PARAM"].dropna() if "PARAM" in group.columns else pd.Series([])
        out.append((str(paramcd), str(params.iloc[0]) if len(params) else "", group))
    return sorted(out, key=lambda item: item[0])


def km_summary(adtte: pd.DataFrame, times: Mapping[str, float] | None = None) -> pd.DataFrame:
    """One row per PARAMCD (sorted): PARAMCD, PARAM, N, EVENTS, CENSORED, MEDIAN_DAYS,
    MEDIAN_LCL, MEDIAN_UCL, then RATE_<label>, RATE_<label>_LCL, RATE_<label>_UCL for each
    time (days) in times (default: 6M = 182.625 and 12M = 365.25 days).

    N counts records with a non-missing AVAL; a parameter without any has N = 0 and NaN
    statistics; an empty ADTTE gives an empty table with these columns."""
    times = TIMES if times is None else times
    columns = BASE_COLUMNS + rate_columns(times)
    rows = [km_row(paramcd, param, _analysable(group), times)
            for paramcd, param, group in _parameters(adtte)]
    table = pd.DataFrame(rows, columns=columns)
    return table.astype({"N": "int64", "EVENTS": "int64", "CENSORED": "int64"})


def _median_text(days: float) -> str:
    if not math.isfinite(days):
        return "median: not reached"
    return f"median: {days / MONTH:.1f} months ({days:.0f} d)"


def plot_km(adtte: pd.DataFrame, path: Path) -> None:
    """One panel per PARAMCD: KM step curve with 95% band and censor marks, x in months."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    params = _parameters(adtte)
    ncols = min(max(len(params), 1), 3)
    nrows = max(math.ceil(len(params) / ncols), 1)
    with matplotlib.rc_context({"font.family": "DejaVu Sans", "svg.hashsalt": "km"}):
        fig = Figure(figsize=(5 * ncols, 4 * nrows))
        FigureCanvasAgg(fig)
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax in axes[len(params):]:
            ax.set_axis_off()
        if not params:
            axes[0].text(0.5, 0.5, "No time-to-event data", ha="center", va="center",
                         transform=axes[0].transAxes)
        for ax, (paramcd, param, group) in zip(axes, params, strict=False):
            data = _analysable(group)
            ax.set_title(param or paramcd, fontsize=10)
            ax.set_xlabel("Months")
            ax.set_ylabel("Event-free probability")
            ax.set_ylim(0, 1.05)
            if data.empty:
                text = "n=0"
            else:
                kmf = fit_km(data["AVAL"] / MONTH, data["EVENT"])
                kmf.plot_survival_function(ax=ax, show_censors=True, ci_show=True,
                                           legend=False, censor_styles={"marker": "|", "ms": 8})
                median_days = float(kmf.median_survival_time_) * MONTH
                text = (f"n={len(data)}, events={int(data['EVENT'].sum())}\n"
                        + _median_text(median_days))
                ax.set_xlabel("Months")
            ax.text(0.97, 0.97, text, transform=ax.transAxes, ha="right", va="top", fontsize=9,
                    bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8})
        fig.tight_layout()
        fig.savefig(path, format="png", dpi=100, metadata={"Software": None})


def write_km_outputs(adtte: pd.DataFrame, folder: Path) -> None:
    """folder/km_summary.csv (the km_summary table) and folder/km_plot.png."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    km_summary(adtte).to_csv(folder / "km_summary.csv", index=False, lineterminator="\n")
    plot_km(adtte, folder / "km_plot.png")
