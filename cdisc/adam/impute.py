"""Partial ISO 8601 dates to analysis dates with an imputation flag (ADaMIG DATEFL: "D" day
imputed, "M" month and day imputed). The convention a statistician expects from admiral's
date imputation with the highest imputation level "month": a missing day becomes the first (or
last) day of the month, a missing month the first (or last) of the year; a missing year is
never imputed. A bound date (the first dose for an onset, the death or cut-off date for an end)
replaces the imputed date only when it lies inside the range the partial date allows, so an
imputed onset is never placed before the first dose in the month it happened, and an imputed
end never after death."""

from __future__ import annotations

import pandas as pd

from cdisc import dates

FIRST, LAST = "first", "last"
# DATEFL by how much of the date is known (cdisc.dates.precision); "2021---15" is a year
FLAGS = {"year": "M", "month": "D"}


def imputation_flag(dtc: pd.Series) -> pd.Series:
    """'' for a complete date (or none), 'D' when the day is missing, 'M' when the month is."""
    return dates.precision(dtc).map(FLAGS).fillna("").astype(object)


def impute_date(dtc: pd.Series, how: str, bounds: list[pd.Series] | None = None
                ) -> tuple[pd.Series, pd.Series]:
    """(analysis date, DATEFL flag) of ISO 8601 text. how = 'first' or 'last'. With 'first'
    each bound is a floor (the imputed date is not before it when it lies within the partial
    date's range); with 'last' a ceiling. Complete dates are never changed."""
    if how not in (FIRST, LAST):
        raise ValueError(f"imputation is 'first' or 'last', not {how!r}")
    start, end = dates.iso_bounds(dtc)
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
