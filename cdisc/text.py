"""Text columns as the datasets hold them: str objects, "" for missing.

The one home of the rule "a missing value is the empty string" (SDTM and ADaM character
variables have no other null; XPT writes blanks). Every conversion runs once per distinct value
(cdisc.distinct), so a lab domain of millions of rows converts a few thousand values and shares
one str object per value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc.column_codes import object_addresses
from cdisc.distinct import SHARED_MIN_ROWS, factorize, on_distinct


def is_text(values: pd.Series) -> bool:
    """Already an object column of str only (no missing): nothing to convert. A C-level scan,
    much cheaper than hashing the values."""
    return values.dtype == object and pd.api.types.infer_dtype(values, skipna=False) == "string"


def is_str_column(values: pd.Series) -> bool:
    """Str only (pandas' str dtype, or an object column of str): values equal when their text
    is, so a computation from the text may run once per distinct value. Not so for other
    objects: factorizing equates 1 and 1.0, 0.0 and -0.0."""
    return isinstance(values.dtype, pd.StringDtype) or is_text(values)


def text_column(values: pd.Series) -> pd.Series:
    """Values as str objects (object dtype), "" for missing. Columns of text with gaps, the
    common case, only have their gaps filled; anything else is converted per distinct value."""
    if isinstance(values.dtype, pd.StringDtype):
        values = values.astype(object)
    if values.dtype == object:
        if is_text(values):  # stops at the first value that is not a str
            return values
        filled = values.where(values.notna(), "")
        if is_text(filled):
            return filled
    return on_distinct(_as_text, values)


def stripped_text(values: pd.Series) -> pd.Series:
    """text_column without leading and trailing blanks."""
    return on_distinct(_as_stripped_text, values)


def shared_text(values: pd.Series) -> pd.Series:
    """text_column with one str object per distinct value, whatever the input shares: readers
    make a new object per cell, which for a lab domain of millions of records costs gigabytes."""
    codes, distinct = factorize(values)
    distinct = _as_text(distinct)
    return pd.Series(distinct.to_numpy()[codes], index=values.index, name=values.name,
                     dtype=object)


def _as_text(values: pd.Series) -> pd.Series:
    out = values.astype(object)
    return out.where(out.notna(), "").astype(str).astype(object)


def _as_stripped_text(values: pd.Series) -> pd.Series:
    return _as_text(values).str.strip().astype(object)


def not_equal_text(values: pd.Series, text: str) -> pd.Series:
    """values != text (bool, same index). An object column mostly holding one shared object
    (the "" of no error) has that object compared once and the other cells one by one:
    comparing addresses is much cheaper than comparing millions of str."""
    cells = values.to_numpy()
    if values.dtype != object or len(cells) < SHARED_MIN_ROWS:
        return values != text
    addresses = object_addresses(cells)
    other = addresses != addresses[0]
    out = np.full(len(cells), cells[0] != text, dtype=bool)
    out[other] = cells[other] != text
    return pd.Series(out, index=values.index, name=values.name)
