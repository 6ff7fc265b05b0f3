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

import sys
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from cdisc.column_codes import first_rows, object_addresses

# below this many rows factorising is cheaper than looking the column up
CACHED_FROM_ROWS = 4_096
# object columns at least this long are first grouped by cell identity
BY_IDENTITY_FROM = 10_000
# codes are 1 to 4 bytes a row: a budget keeps a run over many large frames bounded
MAX_BYTES = 384 * 2**20

# small facts per column (see `kept`): a bound on their number keeps them small
MAX_FACTS = 16_384

_cache: dict[tuple, tuple[weakref.ref, np.ndarray, np.ndarray]] = {}
_facts: dict[tuple, tuple[weakref.ref, Any]] = {}


def _identity(values: np.ndarray) -> tuple:
    return (values.__array_interface__["data"][0], values.strides, values.shape,
            values.dtype.str)


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    shared = _factorize_shared_objects(values) if values.dtype == object and \
        values.ndim == 1 and len(values) >= BY_IDENTITY_FROM else None
    codes, uniques = shared if shared is not None else _factorize_keeping_missing(values)
    # the narrowest integer that holds the codes (and -1, which callers use for blanks)
    dtype = next(t for t in (np.int8, np.int16, np.int32, np.int64)
                 if len(uniques) <= np.iinfo(t).max)
    return codes.astype(dtype, copy=False), np.asarray(uniques, dtype=values.dtype
                                                       if values.dtype.kind != "O" else object)


def _factorize_shared_objects(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """_factorize_keeping_missing of a column whose cells share one object per distinct value
    (as the readers give text): cells grouped by identity (integers hash fast), then the few
    distinct objects by value; the same codes, numbered by first appearance. None when most
    cells are objects of their own."""
    head = object_ids(values[:1024])
    if len(np.unique(head)) * 2 > len(head):  # the first cells hardly share: not worth it
        return None
    by_object, _ = pd.factorize(object_ids(values), size_hint=4096)
    first = first_rows(by_object)
    if len(first) * 2 > len(values):
        return None
    codes, uniques = _factorize_keeping_missing(values[first])
    return codes[by_object], uniques


def _factorize_keeping_missing(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pd.factorize(values, use_na_sentinel=False) (missing values are one value, NaN, in
    order of first appearance). For object arrays pandas would first run isna over every cell
    (as costly as the hashing); the hash table spots missing values itself, so they are
    factorised with the sentinel and given their place among the distinct values after."""
    if values.dtype != object:
        return pd.factorize(values, use_na_sentinel=False)
    codes, uniques = pd.factorize(values)
    missing = codes < 0
    if not missing.any():
        return codes, uniques
    first = int(np.argmax(missing))
    place = int(codes[:first].max()) + 1 if first else 0  # values seen before the first gap
    codes = np.where(codes >= place, codes + 1, codes)
    codes[missing] = place
    return codes, np.insert(np.asarray(uniques, dtype=object), place, np.nan)


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


def known_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """What `factorize` has kept for this array (codes, distinct values), computing nothing;
    None when it has kept nothing."""
    if len(values) < CACHED_FROM_ROWS or values.ndim != 1:
        return None
    hit = _cache.get(_identity(values))
    if hit is None or hit[0]() is None:
        return None
    return hit[1], hit[2]


def kept(values: np.ndarray, name: str, compute: Callable[[np.ndarray], Any]) -> Any:
    """compute(values), worked out once per frozen column like its codes: a small fact about
    its values (whether any is missing) that every rule reading the column would redo."""
    if len(values) < CACHED_FROM_ROWS or values.ndim != 1:
        return compute(values)
    key = (name, *_identity(values))
    hit = _facts.get(key)
    if hit is not None and hit[0]() is not None:
        return hit[1]
    result = compute(values)
    base = _owner(values)
    if not base.flags.writeable:
        if len(_facts) >= MAX_FACTS:
            _facts.clear()
        try:
            _facts[key] = (weakref.ref(base), result)
        except TypeError:  # an array that takes no weak reference is not kept
            pass
    return result


def is_shared(values: np.ndarray) -> bool:
    """Whether `factorize` keeps the codes of this array (a large read-only column), so
    working on its distinct values costs no hashing after the first time."""
    return values.ndim == 1 and len(values) >= CACHED_FROM_ROWS and \
        not _owner(values).flags.writeable


def frozen_identity(values: pd.Series | np.ndarray) -> tuple | None:
    """What `factorize` knows a column by, when its storage is read-only (so what is worked
    out from it stays true while the array lives); None otherwise."""
    array = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if array.ndim != 1 or _owner(array).flags.writeable:
        return None
    return _identity(array)


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
    _facts.clear()


def object_ids(cells: np.ndarray) -> np.ndarray:
    """id() of every cell: cells that are one broadcast object (an operation's list result)
    group together without hashing their contents."""
    if len(cells) == 0:
        return np.zeros(0, dtype=np.int64)
    if sys.implementation.name == "cpython" and cells.dtype == object:
        # an object array holds pointers, and CPython's id() is that pointer: read them all
        # at once instead of calling id() per cell (the view keeps the cells alive)
        return object_addresses(cells)
    return np.fromiter(map(id, cells), dtype=np.int64, count=len(cells))


def combine(parts: list[np.ndarray], n: int) -> np.ndarray:
    """One code per row for the combination of several columns of non-negative codes,
    numbered densely in order of first appearance."""
    return combine_with_first(parts, n)[0]


def combine_with_first(parts: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(combine(parts, n), first_rows of it)."""
    combined = np.zeros(n, dtype=np.int64)
    span = 1  # combined < span
    for codes in parts:
        if not len(codes):
            break
        width = int(codes.max()) + 1
        if span * width >= 2**62:  # the mixed-radix key would overflow: renumber first
            combined, _ = pd.factorize(combined)
            span = int(combined.max()) + 1
        combined = combined * width + codes.astype(np.int64)
        span *= width
    if n and SMALL_SPAN < span <= DIRECT_SPAN * n:
        return _renumber_direct(combined, span)
    # one renumbering of the whole key: dense, in order of first appearance
    combined, _ = pd.factorize(combined)
    combined = combined.astype(np.int64, copy=False)
    return combined, first_rows(combined)


# keys of many combinations, below this many times the number of rows, are renumbered by
# direct addressing (a hash table of millions of entries misses the caches); few combinations
# (up to SMALL_SPAN) hash fast
DIRECT_SPAN = 4
SMALL_SPAN = 2**16


def _renumber_direct(key: np.ndarray, span: int) -> tuple[np.ndarray, np.ndarray]:
    """pd.factorize(key) and its first rows for keys in [0, span), span a small multiple of
    the rows: the first row of every key by a scatter, no hash table."""
    n = len(key)
    index = np.int32 if n < 2**31 else np.int64
    first_of_key = np.full(span, n, dtype=index)
    np.minimum.at(first_of_key, key, np.arange(n, dtype=index))
    starts = np.zeros(n, dtype=bool)
    starts[first_of_key[first_of_key < n]] = True
    first = np.flatnonzero(starts)  # first rows, in order: code i starts at first[i]
    rank = np.zeros(span, dtype=index)
    rank[key[first]] = np.arange(len(first), dtype=index)
    return rank[key].astype(np.int64), first


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
