"""Compute once per distinct value, then spread the answer back over the rows.

Clinical columns repeat a few values millions of times (dates, units, test codes, CT terms).
Parsing or mapping the distinct values only is faster, and the spread result shares one
object per distinct value instead of one per row, which keeps large domains small in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, is_dataclass, replace
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from cdisc.column_codes import SAMPLE, object_addresses, object_codes

T = TypeVar("T")


def factorize(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(codes per row, distinct values as a Series with a 0..k-1 index); missing kept as a value."""
    if values.dtype == object:
        codes, uniques = factorize_objects(values.to_numpy())
    else:
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
    distinct = pd.Series(uniques)
    if values.dtype.kind not in "fiumbM":  # text stays plain Python objects, as the callers expect
        distinct = distinct.astype(object)
    return codes, distinct


def factorize_objects(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pd.factorize(cells, use_na_sentinel=False) of a 1-d object array. When cells share
    objects (raw columns, values spread by take), the objects are told apart by address first
    and only one cell per object is hashed as a value: integers hash much faster than str."""
    if len(cells) < SHARED_MIN_ROWS or not _shares_objects(cells):
        return pd.factorize(cells, use_na_sentinel=False)
    identity = object_codes(cells)
    codes, uniques = pd.factorize(cells[identity.first], use_na_sentinel=False)
    return codes[identity.codes], uniques


# below this many rows hashing the values at once is as fast as anything
SHARED_MIN_ROWS = 4096


def _shares_objects(cells: np.ndarray) -> bool:
    """The leading cells repeat objects (at most half of them distinct objects)."""
    sample = object_addresses(cells[:SAMPLE])
    return len(pd.unique(sample)) * 2 <= len(sample)


def spread(result: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """The per-distinct result laid back over the original rows (same dtype, original index)."""
    return pd.Series(result.to_numpy()[codes], index=index, name=result.name)


def on_distinct(func: Callable[..., T], values: pd.Series, *args: Any, **kwargs: Any) -> T:
    """func(values, ...) computed on the distinct values only; func must be row-wise (each
    output row depends on its input row alone). Works for a Series result, a DataFrame result,
    or a dataclass of Series (e.g. DateParse)."""
    if len(values) < 64:
        return func(values, *args, **kwargs)
    codes, uniques = factorize(values)
    if len(uniques) * 2 > len(values):  # mostly distinct: nothing to gain
        return func(values, *args, **kwargs)
    result = func(uniques, *args, **kwargs)
    return _spread_any(result, codes, values.index)


def on_distinct_rows(func: Callable[..., T], frame: pd.DataFrame, *args: Any,
                     **kwargs: Any) -> T:
    """func(frame, ...) computed once per distinct combination of the frame's columns (a
    record's subject and date, say); func must be row-wise, as for on_distinct. The rows
    func sees are the first of each combination, with a 0..k-1 index."""
    if len(frame) < 64:
        return func(frame, *args, **kwargs)
    combined = np.zeros(len(frame), dtype=np.int64)
    for col in frame.columns:
        codes, uniques = factorize(frame[col])
        # renumbered after each column so the combined code never exceeds the row count
        combined, _ = pd.factorize(combined * len(uniques) + codes)
    count = int(combined.max()) + 1 if len(combined) else 0
    if count * 2 > len(frame):  # mostly distinct: nothing to gain
        return func(frame, *args, **kwargs)
    first = np.empty(count, dtype=np.int64)
    first[combined[::-1]] = np.arange(len(frame) - 1, -1, -1)  # earliest row of each wins
    result = func(frame.iloc[first].reset_index(drop=True), *args, **kwargs)
    return _spread_any(result, combined, frame.index)


def _spread_any(result: Any, codes: np.ndarray, index: pd.Index) -> Any:
    if isinstance(result, pd.Series):
        return spread(result, codes, index)
    if isinstance(result, pd.DataFrame):
        return pd.DataFrame({c: spread(result[c], codes, index) for c in result.columns},
                            index=index, copy=False)
    if is_dataclass(result) and not isinstance(result, type):
        return replace(result, **{f.name: _spread_any(getattr(result, f.name), codes, index)
                                  for f in fields(result)})
    raise TypeError(f"cannot spread a {type(result).__name__}")
