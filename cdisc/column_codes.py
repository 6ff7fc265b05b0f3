"""Integer codes of a dataset column's values, to do work once per distinct value.

A dataset column repeats a few values millions of times, mostly as one shared str object per
value. Hashing the objects' addresses (integers) finds the shared objects faster than hashing
the strings, and the strings are then hashed once per distinct object. Two kinds of codes, both
exact: identity codes tell the distinct objects (float64: bit patterns) apart, so a function of
one cell gives one answer per code; value codes tell exactly the values pd.unique tells apart,
for the columns where pd.unique and pd.factorize agree on what is equal (all str, or float64).

Used by define.xml, its value-level metadata, Dataset-JSON, the GX suites and the validation
package, which all read data that does not change while they run.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cdisc.model import Column, Dataset

@dataclass(frozen=True)
class Codes:
    """One code per row, numbered 0..k-1 in order of first appearance, and the first row of
    each code (ascending)."""

    codes: np.ndarray
    first: np.ndarray

    def __len__(self) -> int:
        return len(self.first)


class _Addresses:
    """The addresses of an object array's cells as integers: a read-only view that keeps the
    array, and so every object in it, alive."""

    def __init__(self, cells: np.ndarray) -> None:
        self.cells = cells
        self.__array_interface__ = {"version": 3, "shape": cells.shape,
                                    "typestr": np.dtype(np.intp).str,
                                    "data": (cells.__array_interface__["data"][0], True)}


def object_addresses(cells: np.ndarray) -> np.ndarray:
    """The addresses of a 1-d object array's cells, as integers (cells of one object have
    one address)."""
    return np.asarray(_Addresses(np.ascontiguousarray(cells)))


def first_rows(codes: np.ndarray) -> np.ndarray:
    """The first row of each code, for codes numbered in order of first appearance: a row
    starts a code when its code exceeds every code before it."""
    if len(codes) == 0:
        return np.zeros(0, dtype=np.intp)
    running = np.maximum.accumulate(codes)
    starts = np.empty(len(codes), dtype=bool)
    starts[0] = True
    np.not_equal(running[1:], running[:-1], out=starts[1:])
    return np.flatnonzero(starts)


def _narrow(codes: np.ndarray, count: int) -> np.ndarray:
    """Codes in the narrowest integer type that holds them."""
    dtype = next(t for t in (np.int8, np.int16, np.int32, np.int64) if count <= np.iinfo(t).max)
    return codes.astype(dtype, copy=False)


def _run_starts(values: np.ndarray) -> np.ndarray:
    """The rows whose value differs from the row before (sorted data repeats values in runs;
    a value's first row is always one of these)."""
    starts = np.empty(len(values), dtype=bool)
    starts[:1] = True
    np.not_equal(values[1:], values[:-1], out=starts[1:])
    return np.flatnonzero(starts)


def _factorized(values: np.ndarray) -> Codes:
    """pd.factorize(values, use_na_sentinel=False), as codes and first rows; runs of one
    value are factorised once."""
    starts = _run_starts(values) if values.dtype != object else None
    if starts is not None and len(starts) * 4 < len(values):
        inner = _factorized(values[starts])
        runs = np.diff(starts, append=len(values))
        return Codes(np.repeat(inner.codes, runs), starts[inner.first])
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    codes = _narrow(codes, len(uniques))
    return Codes(codes, first_rows(codes))


def object_codes(cells: np.ndarray) -> Codes:
    """Identity codes of the cells of a 1-d object array: one code per distinct object."""
    return _factorized(object_addresses(cells))


def identity_codes(values: pd.Series) -> Codes | None:
    """Codes per distinct object (object columns) or bit pattern (float64 columns); None for
    other dtypes."""
    if values.dtype == object:
        return object_codes(values.to_numpy())
    if values.dtype == np.float64:
        return _factorized(values.to_numpy().view(np.int64))
    return None


def is_str_only(cells: np.ndarray) -> bool:
    """Every cell a str (so none missing): a C-level scan."""
    return pd.api.types.infer_dtype(cells, skipna=False) == "string"


def first_of_each(values: np.ndarray) -> np.ndarray:
    """The rows where a value occurs first (pd.unique's equality)."""
    if values.dtype != object and len(values) > 1 and _runs(values[:SAMPLE]):
        starts = _run_starts(values)
        if len(starts) * 4 < len(values):
            return starts[first_of_each(values[starts])]
    return np.flatnonzero(~pd.Series(values, copy=False).duplicated().to_numpy())


# how many leading cells tell whether a column repeats its values in runs or shares objects
SAMPLE = 4096


def _runs(values: np.ndarray) -> bool:
    """Values repeat in runs (a row mostly has its predecessor's value)."""
    return bool(np.count_nonzero(values[1:] != values[:-1]) * 4 < len(values))


def value_codes(values: pd.Series, identity: Codes | None = None) -> Codes | None:
    """Codes of equal values: the values at .first are pd.unique(values), in its order. None
    unless the column is float64 or object of str only (where pd.unique and pd.factorize
    agree on what is equal). identity: the column's identity codes when already known."""
    if values.dtype == np.float64:
        return _factorized(values.to_numpy())
    if values.dtype != object:
        return None
    cells = values.to_numpy()
    identity = identity or object_codes(cells)
    distinct = cells[identity.first]
    if not is_str_only(distinct):
        return None
    if len(distinct) * 2 > len(cells):  # little shared: hash the strings at once
        return _factorized(cells)
    inner = _factorized(distinct)
    return Codes(inner.codes[identity.codes], identity.first[inner.first])


def distinct_values(values: pd.Series) -> np.ndarray | None:
    """The distinct values of a column as pd.unique tells them apart (in no particular
    order): for what depends on the set of values only. None unless the column is float64 or
    object of str only. Kept for a column whose storage is read-only (frozen, as the
    validation package's tables are: cdisc.validate.core.codes.freeze), so it is found once
    for all who ask."""
    array = values.to_numpy()
    owner = _owner(array)
    if owner is not None:
        kept = _KEPT.get(_identity(array))
        if kept is not None and kept[0]() is owner:
            return kept[1]
    found = _distinct_values(values)
    keep_distinct_values(values, found)
    return found


def keep_distinct_values(values: pd.Series, distinct: np.ndarray | None) -> None:
    """Keep distinct_values(values), found while nothing could change the values, for a
    column whose storage is read-only (frozen) now; nothing for another."""
    array = values.to_numpy()
    owner = _owner(array)
    if owner is not None:
        key = _identity(array)
        _KEPT[key] = (weakref.ref(owner, lambda _, key=key: _KEPT.pop(key, None)), distinct)


# distinct_values of frozen columns: (data address, strides, shape, dtype) -> (a weak
# reference to the read-only array owning the memory, its distinct values); an entry goes
# when its array does, before the memory can hold another array
_KEPT: dict[tuple, tuple[weakref.ref, np.ndarray | None]] = {}


def _owner(array: np.ndarray) -> np.ndarray | None:
    """The read-only array owning the memory a view looks at (None: writeable, or memory
    not owned by an array)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array if array.base is None and not array.flags.writeable else None


def _identity(array: np.ndarray) -> tuple:
    return (array.__array_interface__["data"][0], array.strides, array.shape,
            array.dtype.str)


def _distinct_values(values: pd.Series) -> np.ndarray | None:
    cells = values.to_numpy()
    if values.dtype == np.float64:
        if both_zeros(cells):  # pd.unique keeps the first of 0.0 and -0.0, np.unique either
            return cells[first_of_each(cells)]
        return np.unique(cells)  # one NaN, as pd.unique
    if values.dtype != object:
        return None
    addresses = object_addresses(cells)
    if len(first_of_each(addresses[:SAMPLE])) * 2 > min(len(cells), SAMPLE):
        objects = cells  # mostly one object per cell: hash the str at once
    else:
        objects = cells[first_of_each(addresses)]  # one cell per object
    if not is_str_only(objects):
        return None
    if len(objects) * 4 > len(cells):  # few shared objects: a set hashes str fastest
        return np.array(list(set(objects)), dtype=object)
    return pd.unique(objects)


def both_zeros(numbers: np.ndarray) -> bool:
    """0.0 and -0.0 both occur."""
    zero = numbers == 0
    if not zero.any():
        return False
    signs = np.signbit(numbers[zero])
    return bool(signs.any() and not signs.all())


def max_bytes(texts: np.ndarray) -> int:
    """The longest of some str in UTF-8 bytes (0 for none)."""
    if "".join(texts).isascii():
        return max(map(len, texts), default=0)
    return max((len(v.encode("utf-8")) for v in texts), default=0)


def identity_rows(values: pd.Series) -> np.ndarray | None:
    """identity_codes(values).first, without the rows' codes."""
    if values.dtype == object:
        return first_of_each(object_addresses(values.to_numpy()))
    if values.dtype == np.float64:
        return first_of_each(values.to_numpy().view(np.int64))
    return None


class FrameCodes:
    """What one computation over a frame's data (one define.xml, one Dataset-JSON file, one
    validation package) needs of its columns' distinct values, each found once: for data that
    does not change while the computation runs. The rows' codes (as long as the frame) are
    kept only while asked for."""

    def __init__(self, data: pd.DataFrame) -> None:
        self.data = data
        self._distinct: dict[str, np.ndarray | None] = {}
        self._codes: dict[str, Codes | None] = {}

    def codes(self, name: str) -> Codes | None:
        """Value codes of a column (kept until drop_codes)."""
        if name not in self._codes:
            found = value_codes(self.data[name])
            self._codes[name] = found
            if name not in self._distinct:
                self._distinct[name] = None if found is None else \
                    self.data[name].to_numpy()[found.first]
        return self._codes[name]

    def drop_codes(self) -> None:
        self._codes.clear()

    def keep_distinct(self, name: str, distinct: np.ndarray) -> None:
        """Note a column's distinct values found elsewhere (what distinct_values finds)."""
        self._distinct[name] = distinct

    def distinct_values(self, name: str) -> np.ndarray | None:
        """distinct_values of a column."""
        if name not in self._distinct:
            self._distinct[name] = distinct_values(self.data[name])
        return self._distinct[name]

    def distinct(self, name: str) -> pd.Series:
        """The column's distinct values as a Series of its dtype; the whole column when they
        cannot be told exactly here (anything computed from it as a set of values is then the
        same)."""
        values = self.data[name]
        distinct = self.distinct_values(name)
        return values if distinct is None else pd.Series(distinct, dtype=values.dtype,
                                                         name=values.name)

    def cells(self, name: str) -> pd.Series:
        """Some of the column's cells, at least one per distinct value: whatever any() or
        all() of a function of one cell says of them it says of the column."""
        values = self.data[name]
        if self.distinct_values(name) is not None:
            return self.distinct(name)
        first = identity_rows(values)
        return values if first is None else values.iloc[first]

    def numbers(self, name: str) -> pd.Series:
        """The distinct values of a float64 column, unless it holds both 0.0 and -0.0 (which
        np.unique of all values may keep either of): what type_info computes a Num
        variable's type from. Otherwise the whole column."""
        values = self.data[name]
        if values.dtype != np.float64 or both_zeros(values.to_numpy()):
            return values
        return self.distinct(name)

    def char_length(self, name: str) -> int:
        """xpt_lengths of a Char column: its longest value in UTF-8 bytes, at least 1."""
        values = self.data[name]
        distinct = self.distinct_values(name) if values.dtype == object else None
        if distinct is None:
            from cdisc.io.xpt import xpt_lengths  # xpt imports this module

            one = Dataset("X", "", [Column(name, "", "Char")], self.data[[name]])
            return xpt_lengths(one)[name]
        if not len(values):
            return 1
        return max(1, max_bytes(distinct))

    def lengths(self, columns: list[Column]) -> dict[str, int]:
        """xpt_lengths: char = longest value in bytes (at least 1), num = 8."""
        return {c.name: 8 if c.type == "Num" else self.char_length(c.name) for c in columns}
