"""Integer codes per row for a column's values, computed once per dataset column.

Hundreds of rules read the same few columns of the same datasets (USUBJID, --TESTCD, --DTC),
and judging a rule once per distinct combination of its columns starts by factorising each of
them. Hashing millions of str objects is the costly part, so the codes of a large dataset
column are kept for the run and shared by every rule that reads it. Only columns frozen with
`freeze` (the package's own datasets, made read-only when the study is built) are kept, so
kept codes can never go stale. A column is known by its array: the data pointer, stride,
length and dtype of the values, checked against a weak reference to the array that owns the
memory (a freed array's address can be reused by another)."""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

# below this many rows factorising is cheaper than looking the column up
CACHED_FROM_ROWS = 50_000
# codes are 1 to 4 bytes a row: a budget keeps a run over many large frames bounded
MAX_BYTES = 384 * 2**20

_cache: dict[tuple, tuple[weakref.ref, np.ndarray, np.ndarray]] = {}


def _identity(values: np.ndarray) -> tuple:
    return (values.__array_interface__["data"][0], values.strides, values.shape,
            values.dtype.str)


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    # the narrowest integer that holds the codes (and -1, which callers use for blanks)
    dtype = next(t for t in (np.int8, np.int16, np.int32, np.int64)
                 if len(uniques) <= np.iinfo(t).max)
    return codes.astype(dtype, copy=False), np.asarray(uniques, dtype=values.dtype
                                                       if values.dtype.kind != "O" else object)


def factorize(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes per row in order of first appearance, distinct values); missing values are one
    value of their own (None and NaN alike, as pd.factorize has it). Raises TypeError for
    unhashable cells."""
    array = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if len(array) < CACHED_FROM_ROWS or array.ndim != 1:
        return _factorize(array)
    key = _identity(array)
    hit = _cache.get(key)
    if hit is not None:
        ref, codes, uniques = hit
        if ref() is not None:
            return codes, uniques
        del _cache[key]
    codes, uniques = _factorize(array)
    base = _owner(array)
    if base.flags.writeable:
        return codes, uniques
    if _cached_bytes() + codes.nbytes > MAX_BYTES:
        _drop_dead()
    if _cached_bytes() + codes.nbytes <= MAX_BYTES:
        try:
            _cache[key] = (weakref.ref(base), codes, uniques)
        except TypeError:  # an array that takes no weak reference is not kept
            pass
    return codes, uniques


def _owner(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory a view looks at."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def freeze(frame: pd.DataFrame) -> None:
    """Make the storage of the frame's columns read-only, so their codes may be kept. A column
    whose to_numpy() is a fresh copy each time (extension dtypes) is left alone."""
    for column in frame.columns:
        values = frame[column]
        if not isinstance(values, pd.Series):
            continue
        array = values.to_numpy()
        if array.ndim == 1 and _identity(array) == _identity(values.to_numpy()):
            _owner(array).flags.writeable = False


def _cached_bytes() -> int:
    return sum(codes.nbytes for _, codes, _ in _cache.values())


def _drop_dead() -> None:
    for key in [k for k, (ref, _, _) in _cache.items() if ref() is None]:
        del _cache[key]


def clear() -> None:
    _cache.clear()


def first_rows(codes: np.ndarray) -> np.ndarray:
    """The first row of each code, for codes numbered in order of first appearance (what
    pd.factorize returns): a row starts a code when its code exceeds every code before it."""
    if len(codes) == 0:
        return np.zeros(0, dtype=np.int64)
    running = np.maximum.accumulate(codes)
    return np.flatnonzero(np.diff(running, prepend=-1) > 0)


def object_ids(cells: np.ndarray) -> np.ndarray:
    """id() of every cell: cells that are one broadcast object (an operation's list result)
    group together without hashing their contents."""
    if len(cells) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.frompyfunc(id, 1, 1)(cells).astype(np.int64)


def combine(parts: list[np.ndarray], n: int) -> np.ndarray:
    """One code per row for the combination of several columns of non-negative codes,
    numbered densely in order of first appearance."""
    combined = np.zeros(n, dtype=np.int64)
    for codes in parts:
        if not len(codes):
            break
        width = int(codes.max()) + 1
        combined, _ = pd.factorize(combined * width + codes.astype(np.int64))
    return combined.astype(np.int64, copy=False)


def on_distinct(func, values: pd.Series, *args):  # type: ignore[no-untyped-def]
    """func(values, *args) for a row-wise func (a Series or DataFrame result), computed on the
    distinct values only and spread back over the rows (values keep their index)."""
    codes, uniques = factorize(values)
    result = func(pd.Series(uniques, dtype=values.dtype if values.dtype.kind != "O"
                            else object), *args)
    out = result.iloc[codes]  # iloc keeps extension dtypes (tz-aware datetimes)
    out.index = values.index
    if isinstance(out, pd.Series):
        out.name = values.name
    return out
