"""Partial ISO 8601 dates to analysis dates with an imputation flag (ADaMIG DATEFL: "D" day
imputed, "M" month and day imputed). The convention a statistician expects from admiral's
date imputation with the highest imputation level "month": a missing day becomes the first (or
last) day of the month, a missing month the first (or last) of the year; a missing year is
never imputed. A bound date (the first dose for an onset, the death or cut-off date for an end)
replaces the imputed date only when it lies inside the range the partial date allows, so an
imputed onset is never placed before the first dose in the month it happened, and an imputed
end never after death."""

from __future__ import annotations

import numpy as np
import pandas as pd

FIRST, LAST = "first", "last"


def _parts(dtc: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Year, month and day as numbers (NaN when absent) of ISO 8601 text; '2021---15' (day
    without month) keeps only its year, since a day without its month places nothing."""
    text = dtc.astype(object).fillna("").astype(str).str.strip()
    found = text.str.extract(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", expand=True)
    year, month, day = (pd.to_numeric(found[i], errors="coerce") for i in range(3))
    return year, month, day.where(month.notna())


def _range(year: pd.Series, month: pd.Series, day: pd.Series
           ) -> tuple[pd.Series, pd.Series]:
    """The earliest and latest date each (partial) date allows; NaT without a year. An
    impossible date (2021-02-30) gives NaT."""
    low_m = month.fillna(1)
    high_m = month.fillna(12)
    start = pd.to_datetime(pd.DataFrame({"year": year, "month": low_m, "day": day.fillna(1)}),
                           errors="coerce")
    first_of_high = pd.to_datetime(pd.DataFrame({"year": year, "month": high_m, "day": 1}),
                                   errors="coerce")
    month_end = first_of_high + pd.offsets.MonthEnd(0)
    end = pd.to_datetime(pd.DataFrame({"year": year, "month": high_m, "day": day.fillna(31)}),
                         errors="coerce")
    end = end.where(day.notna(), month_end)
    start = start.where(end.notna())
    return start.astype("datetime64[ns]"), end.astype("datetime64[ns]")


def imputation_flag(dtc: pd.Series) -> pd.Series:
    """'' for a complete date (or none), 'D' when the day is missing, 'M' when the month is."""
    year, month, day = _parts(dtc)
    flag = np.where(year.isna() | day.notna(), "", np.where(month.notna(), "D", "M"))
    return pd.Series(flag, index=dtc.index, dtype=object)


def impute_date(dtc: pd.Series, how: str, bounds: list[pd.Series] | None = None
                ) -> tuple[pd.Series, pd.Series]:
    """(analysis date, DATEFL flag) of ISO 8601 text. how = 'first' or 'last'. With 'first'
    each bound is a floor (the imputed date is not before it when it lies within the partial
    date's range); with 'last' a ceiling. Complete dates are never changed."""
    if how not in (FIRST, LAST):
        raise ValueError(f"imputation is 'first' or 'last', not {how!r}")
    year, month, day = _parts(dtc)
    start, end = _range(year, month, day)
    date = start if how == FIRST else end
    flag = imputation_flag(dtc).where(date.notna(), "")
    partial = flag != ""
    for bound in bounds or []:
        bound = pd.Series(pd.to_datetime(bound).to_numpy(), index=dtc.index).dt.normalize()
        inside = partial & bound.notna() & (bound >= start) & (bound <= end)
        if how == FIRST:
            date = date.mask(inside & (bound > date), bound)
        else:
            date = date.mask(inside & (bound < date), bound)
    return date, flag
