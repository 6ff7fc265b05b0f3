"""Median transgene level over nominal time, one line per ADPC parameter (analyte and
specimen: blood, bone marrow), on a log y-axis.

Records: ADPC ANL02FL = Y (a nominal time, and AVAL or, when BLQ, ALLOQ). BLQ samples are
plotted at ALLOQ / 2 (PLOT_BLQ_RULE): excluding them would leave only the subjects with
quantifiable levels and push the median up; 0 cannot be drawn on a log axis. The dashed line
is the LLOQ, so a median below it reads as "more than half BLQ".

matplotlib is imported inside the plot function (slow to import; the rest works without it).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

PLOT_BLQ_RULE = ("BLQ samples count as ALLOQ / 2 in the median; the LLOQ is drawn as a dashed "
                 "line.")
MEDIAN_COLUMNS = ["PARAMN", "PARAMCD", "PARAM", "NRELTM", "N", "N_BLQ", "MEDIAN"]
DAY_TICKS = [0, 7, 14, 28, 56, 91, 182, 365, 730]  # about 0, 1, 2, 4 weeks, 2, 3, 6, 12, 24 months


def plotted_values(adpc: pd.DataFrame) -> pd.DataFrame:
    """ANL02FL records with VALUE = AVAL, or ALLOQ / 2 when BLQ (PLOT_BLQ_RULE)."""
    rows = adpc[adpc["ANL02FL"] == "Y"]
    blq = rows["BLQFL"] == "Y"
    value = rows["AVAL"].astype("float64").where(~blq, rows["ALLOQ"].astype("float64") / 2)
    return rows.assign(VALUE=value, BLQ=blq)[rows.columns.tolist() + ["VALUE", "BLQ"]]


def median_profile(adpc: pd.DataFrame) -> pd.DataFrame:
    """MEDIAN_COLUMNS: per parameter and nominal time, N, N_BLQ and the median VALUE."""
    values = plotted_values(adpc)
    values = values[values["VALUE"].notna()]
    if values.empty:
        return pd.DataFrame(columns=MEDIAN_COLUMNS)
    table = values.groupby(["PARAMN", "PARAMCD", "PARAM", "NRELTM"], sort=True).agg(
        N=("VALUE", "size"), N_BLQ=("BLQ", "sum"), MEDIAN=("VALUE", "median")).reset_index()
    return table.astype({"N": "int64", "N_BLQ": "int64"})[MEDIAN_COLUMNS]


def unit_of(param: str) -> str:
    """The unit PARAM ends with, in parentheses ('' when none)."""
    match = re.search(r"\(([^()]*)\)\s*$", param)
    return match.group(1) if match else ""


def _y_label(table: pd.DataFrame) -> str:
    units = sorted({unit_of(p) for p in table["PARAM"]} - {""})
    return f"Median transgene level ({units[0]})" if len(units) == 1 else "Median transgene level"


def _draw(ax, table: pd.DataFrame, lloqs: list[float]) -> None:  # type: ignore[no-untyped-def]
    """One line per parameter; each LLOQ as a dashed line."""
    from matplotlib.ticker import NullFormatter

    for (_, param), group in table.groupby(["PARAMN", "PARAM"], sort=True):
        ax.plot(group["NRELTM"], group["MEDIAN"], marker="o", ms=4, label=param)
    for lloq in lloqs:
        ax.axhline(lloq, color="grey", ls="--", lw=1, label=f"LLOQ ({lloq:g})")
    ax.set_yscale("log")
    ax.yaxis.set_minor_formatter(NullFormatter())
    # symlog x: day 0 stays on the axis and the first month is not squeezed
    ax.set_xscale("symlog", linthresh=7, linscale=1)
    top = float(table["NRELTM"].max())
    ticks = [d for d in DAY_TICKS if d <= max(top, 28)]
    ax.set_xticks(ticks, [str(d) for d in ticks])
    ax.set_xlim(-1, max(top, 28) * 1.15)
    ax.set_xlabel("Nominal time from infusion (days)")
    ax.set_ylabel(_y_label(table))
    ax.legend(fontsize=8, loc="best")


def plot_median_profile(adpc: pd.DataFrame, path: Path) -> None:
    """PNG of the median level per parameter over NRELTM (deterministic bytes)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    table = median_profile(adpc)
    values = plotted_values(adpc)
    lloqs = sorted(float(v) for v in values["ALLOQ"].dropna().unique())
    with matplotlib.rc_context({"font.family": "DejaVu Sans", "svg.hashsalt": "kinetics"}):
        fig = Figure(figsize=(7, 4.5))
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        ax.set_title("Median CAR-T transgene level (BLQ at LLOQ/2)", fontsize=10)
        if table.empty:
            ax.text(0.5, 0.5, "No concentration data", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_axis_off()
        else:
            _draw(ax, table, lloqs)
        fig.tight_layout()
        fig.savefig(path, format="png", dpi=100, metadata={"Software": None})
