"""The check operators of the CDISC CORE rule catalogue, vectorised with pandas / numpy.

OPERATORS maps an operator name to function(frame, check) -> boolean Series aligned with
frame.index, True where the condition holds. The semantics are those of the CORE rule schema
(resources/schema/rule/Operator.md); where it is silent they follow the CORE engine's observable
behaviour (its check_operators), re-implemented here: the same answers, computed per distinct
value or per group instead of per row.

Conventions shared by every operator:
- A value is empty when it is None, NaN, "" or an empty collection (CORE's null flavours).
- The comparator is resolved by `comparand`: a string naming a frame column (and
  value_is_literal not set) is that column; value_is_reference makes the comparator column hold,
  per row, the name of the column to compare with; anything else is a literal.
- Text operators read numbers as text the way CORE does: 3.0 -> "3", 2.5 -> "2.5".
- A malformed check (a missing parameter, a bad regex, an unknown date component ...) raises
  OperatorError; the engine reports the rule as not executable with that reason.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable
from itertools import chain, repeat
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from dateutil.parser import isoparse

from cdisc.validate.core import Check
from cdisc.validate.core.codes import factorize as column_factorize
from cdisc.validate.core.codes import (
    combine, combine_with_first, first_rows, is_shared, kept, known_codes, object_ids)

__all__ = ["OPERATORS", "OperatorError", "comparand", "run"]


class OperatorError(Exception):
    """The check cannot be evaluated as written (unknown operator, missing or malformed
    parameter). The message says why."""


Operator = Callable[[pd.DataFrame, Check], pd.Series]
OPERATORS: dict[str, Operator] = {}


def _register(name: str) -> Callable[[Operator], Operator]:
    def add(func: Operator) -> Operator:
        OPERATORS[name] = func
        return func
    return add


def run(name: str, frame: pd.DataFrame, check: Check) -> pd.Series:
    """OPERATORS[name](frame, check), with an unknown name reported as OperatorError."""
    func = OPERATORS.get(name)
    if func is None:
        raise OperatorError(f"unknown operator {name!r}")
    return func(frame, check)


# =============================================================================================
# shared helpers: values, emptiness, comparator resolution
# =============================================================================================

_COLLECTION = (list, tuple, set, frozenset)
_SIZED = (str, dict) + _COLLECTION
_HOLDERS = (dict,) + _COLLECTION


def _result(frame: pd.DataFrame, values: Any) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=bool), index=frame.index)


def _constant(frame: pd.DataFrame, flag: bool) -> pd.Series:
    return pd.Series(np.full(len(frame), bool(flag)), index=frame.index)


def _objects(values: Any, n: int | None = None) -> np.ndarray:
    """An object array of the values (a Series, an array, or a scalar broadcast to n rows)."""
    if isinstance(values, pd.Series):
        array = values.to_numpy()
        # a column without missing values is its own object array: no NaN to fill in (whether
        # a dataset column has any is known after the first look)
        if array.dtype == object and not kept(array, "missing", _any_missing):
            return array
        return values.to_numpy(dtype=object, na_value=np.nan)
    if isinstance(values, np.ndarray):
        return values.astype(object, copy=False)
    out = np.empty(n or 0, dtype=object)
    out.fill(values)
    return out


def _any_missing(values: np.ndarray) -> bool:
    # a column whose codes are kept: a missing value is one of its few distinct values
    known = known_codes(values)
    return bool(pd.isna(known[1] if known is not None else values).any())


def _fill(items: list, dtype: Any = object) -> np.ndarray:
    if dtype is not object:
        return np.array(items, dtype=dtype)
    return np.fromiter(items, dtype=object, count=len(items))  # cells may be lists: one each


def _per_value(values: np.ndarray, func: Callable[[Any], Any], dtype: Any = object) -> np.ndarray:
    """func(value) for every row, computed once per distinct value (rows repeat values)."""
    if len(values) == 0:
        return np.empty(0, dtype=dtype)
    found = _codes_or_none(values)
    if found is None:  # unhashable cells (lists): no sharing possible
        return _fill([func(v) for v in values], dtype)
    codes, uniques = found
    return _fill([func(v) for v in uniques], dtype)[codes]


def _codes_or_none(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """column_factorize(values), or None when a cell is unhashable (a list)."""
    try:
        return column_factorize(values)
    except TypeError:
        return None


def _is_blank(value: Any) -> bool:
    """One value is empty: None, NaN, NA, "" or an empty collection."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (float, np.floating)):
        return bool(np.isnan(value))
    if isinstance(value, _SIZED):
        return len(value) == 0
    return False


_PLAIN_KINDS = {"string", "empty", "floating", "integer", "mixed-integer-float", "boolean",
                "decimal", "bytes", "datetime", "date", "timedelta", "time", "period"}


def _blank(values: np.ndarray) -> np.ndarray:
    """Row mask of empty values (None, NaN, "" or an empty collection)."""
    kind = values.dtype.kind
    if kind in "biu":
        return np.zeros(len(values), dtype=bool)
    if kind == "f":
        return np.isnan(values)
    if kind != "O":
        return np.asarray(pd.isna(values), dtype=bool)
    if is_shared(values):  # a dataset column: judge its distinct values (codes are kept)
        try:
            codes, uniques = column_factorize(values)
        except TypeError:  # unhashable cells
            return _blank_cells(values)
        return _blank_cells(np.asarray(uniques, dtype=object))[codes]
    return _blank_cells(values)


def _blank_cells(values: np.ndarray) -> np.ndarray:
    """_blank of an object array."""
    out = np.asarray(pd.isna(values), dtype=bool)
    with np.errstate(all="ignore"):
        out |= np.asarray(values == "", dtype=bool)
    if pd.api.types.infer_dtype(values, skipna=True) in _PLAIN_KINDS:
        return out
    # an empty text is "" (above); an empty collection or dict is found among the few cells
    # that hold one
    if not _any_holder(values):
        return out
    holders = np.fromiter((isinstance(v, _HOLDERS) for v in values), dtype=bool,
                          count=len(values))
    if holders.any():
        rows = np.flatnonzero(holders)
        out[rows] |= np.fromiter((len(values[i]) == 0 for i in rows), dtype=bool,
                                 count=len(rows))
    return out


def _any_holder(values: np.ndarray) -> bool:
    """Whether any cell is a collection or dict, judged on the distinct types of the cells
    (a set of type() per cell is far cheaper than isinstance per cell in a generator)."""
    return any(issubclass(t, _HOLDERS) for t in set(map(type, values)))


def _blank_of(values: pd.Series) -> np.ndarray:
    """Row mask of empty values of a column (numeric columns: NaN only)."""
    if values.dtype.kind in "biu":
        return np.zeros(len(values), dtype=bool)
    if values.dtype.kind == "f":
        return np.isnan(values.to_numpy(dtype=float))
    return _blank(_objects(values))


def _blank_any(values: Any, n: int) -> np.ndarray:
    if isinstance(values, (pd.Series, np.ndarray)):
        return _blank(_objects(values))
    return np.full(n, _is_blank(values))


def _name(check: Check, name: Any) -> Any:
    """A variable name with "--" replaced by the domain prefix (the engine already does this
    for target, comparator and params; names nested in dicts arrive unexpanded)."""
    domain = check.context.get("domain") if check.context else None
    if isinstance(name, str) and domain and name.startswith("--"):
        return domain + name[2:]
    return name


def _column(frame: pd.DataFrame, name: Any) -> pd.Series:
    if not isinstance(name, str) or name not in frame.columns:
        raise OperatorError(f"the frame has no column {name!r}")
    column = frame[name]
    if isinstance(column, pd.DataFrame):
        raise OperatorError(f"the frame has more than one column {name!r}")
    return column


def _target(frame: pd.DataFrame, check: Check) -> pd.Series:
    return _column(frame, check.target)


def _flag(check: Check, name: str) -> bool:
    value = check.param(name, False)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "y")
    return bool(value)


def _by_reference(frame: pd.DataFrame, names: pd.Series) -> np.ndarray:
    """Per row, the value of the column whose name that row holds (NaN when there is none)."""
    labels = _objects(names)
    out = np.full(len(frame), np.nan, dtype=object)
    for name in pd.unique(labels[~_blank(labels)]):
        if isinstance(name, str) and name in frame.columns:
            rows = labels == name
            out[rows] = _objects(frame[name])[rows]
    return out


def comparand(frame: pd.DataFrame, check: Check) -> Any:
    """The comparator of a check: a Series (a column, or per-row values picked by
    value_is_reference) or the literal itself (str, number, list, None)."""
    comparator = check.comparator
    if _flag(check, "value_is_reference"):
        if not isinstance(comparator, str) or comparator not in frame.columns:
            raise OperatorError(f"value_is_reference needs a column, got {comparator!r}")
        return pd.Series(_by_reference(frame, frame[comparator]), index=frame.index)
    if isinstance(comparator, str) and not _flag(check, "value_is_literal"):
        if comparator in frame.columns:
            return _column(frame, comparator)
        if comparator.startswith("$"):  # an operation result that was not computed
            raise OperatorError(f"the frame has no column {comparator!r}")
    return comparator


def _text_of(value: Any) -> str | None:
    """A value as text the way CORE reads it for string operators (3.0 -> "3"); None when
    missing or a collection."""
    if isinstance(value, str):
        return value
    if _is_blank(value) or isinstance(value, (_COLLECTION, dict)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return f"{number:.0f}" if number.is_integer() else str(number)
    return str(value)


def _texts(values: Any, n: int) -> np.ndarray:
    if isinstance(values, (pd.Series, np.ndarray)):
        return _per_value(_objects(values), _text_of)
    return _objects(_text_of(values), n)


def _number_of(value: Any) -> float:
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return math.nan
    return math.nan


def _numbers(values: Any) -> np.ndarray:
    """Numbers of a column (unparseable text -> NaN, as pandas.to_numeric(errors="coerce"))."""
    if isinstance(values, pd.Series) and values.dtype.kind in "biuf":
        return values.to_numpy(dtype=float)
    return _per_value(_objects(values), _number_of, dtype=float)


def _literal_number(value: Any, what: str) -> float:
    """A literal that must be a number (a number, or text holding one)."""
    if value is None or isinstance(value, (bool, np.bool_, list, tuple, dict, set)):
        raise OperatorError(f"{what} must be a number, got {value!r}")
    number = _number_of(value)
    if math.isnan(number):
        raise OperatorError(f"{what} must be a number, got {value!r}")
    return number


def _regex(pattern: Any) -> re.Pattern:
    """The compiled regex (cached); OperatorError when it is not a valid pattern."""
    if not isinstance(pattern, str):
        raise OperatorError(f"a regular expression must be text, got {pattern!r}")
    return _compiled(pattern)


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise OperatorError(f"invalid regular expression {pattern!r}: {exc}") from None


def _int_param(check: Check, name: str) -> int:
    value = check.param(name)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise OperatorError(f"parameter {name} must be an integer, got {value!r}") from None
    if number < 0:
        raise OperatorError(f"parameter {name} must not be negative, got {value!r}")
    return number


def _names(value: Any, what: str) -> list[str]:
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return list(dict.fromkeys(value))
    raise OperatorError(f"{what} must name one or more columns, got {value!r}")


def _is_list_column(values: Any) -> bool:
    """Every non-empty cell is a list/set (an operation result such as "$distinct_values").
    A column of values is told by its first value; a column of lists is judged on its
    distinct cell objects (an operation's rows share one list per group)."""
    if not isinstance(values, (pd.Series, np.ndarray)):
        return False
    cells = _objects(values)
    if cells.dtype.kind != "O" or len(cells) == 0:
        return False
    if not isinstance(_first_present(cells), _COLLECTION):
        return False
    _, rows = _identity_codes(cells)
    distinct = cells[rows]
    present = distinct[~np.asarray(pd.isna(distinct), dtype=bool)]
    return all(isinstance(v, _COLLECTION) for v in present)


def _first_present(cells: np.ndarray) -> Any:
    """The first cell that is not missing (None when all are); usually the first cell."""
    head = cells[:64]
    missing = np.asarray(pd.isna(head), dtype=bool)
    if missing.all():
        head = cells
        missing = np.asarray(pd.isna(head), dtype=bool)
        if missing.all():
            return None
    return head[int(np.argmin(missing))]


def _as_list(cell: Any) -> list:
    """A cell as a list of items: a collection's items, a scalar as itself, empty as []."""
    if isinstance(cell, _COLLECTION):
        return list(cell)
    if _is_blank(cell):
        return []
    return [cell]


def _identity_codes(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, first row of each code) grouping cells by object identity: a list broadcast to
    every row (operation results) is one group."""
    codes, _ = pd.factorize(object_ids(cells))
    return codes, first_rows(codes)


def _in_cells(values: np.ndarray, cells: np.ndarray, fold: bool = False) -> np.ndarray:
    """Row-wise: the row's value is an item of the row's collection cell (an empty value never
    is). The items of each distinct cell object and the rows' values are numbered together
    (hash equality, as isin), so membership is one lookup of (cell, value) pairs."""
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    if fold:
        values = _per_value(values, _fold)
    present = ~_blank(values)
    codes, first = _identity_codes(cells)
    lists = [_as_list(cells[row]) for row in first]
    if fold:
        lists = [[_fold(x) for x in items] for items in lists]
    flat = list(chain.from_iterable(lists))
    try:
        numbered = _numbered(_objects(values), flat)
    except TypeError:  # list items count as tuples (as isin takes them)
        try:
            numbered = _numbered(_objects(values), _hashable(flat))
        except TypeError:  # unhashable values: compare row by row
            return _in_cells_by_row(values, cells, present, fold)
    width = len(numbered) + 1  # a missing item (-1) pairs with no present value
    owners = np.repeat(np.arange(len(lists), dtype=np.int64), [len(x) for x in lists])
    pairs = owners * width + numbered[len(values):]
    rows = codes.astype(np.int64) * width + numbered[:len(values)]
    return pd.Series(rows).isin(pairs).to_numpy() & present


def _numbered(values: np.ndarray, items: list) -> np.ndarray:
    """Codes of the values then the items, numbered together (equal values, equal codes)."""
    both = np.concatenate([values, np.fromiter(items, dtype=object, count=len(items))])
    return pd.factorize(both)[0]


def _in_cells_by_row(values: np.ndarray, cells: np.ndarray, present: np.ndarray,
                     fold: bool) -> np.ndarray:
    out = np.zeros(len(values), dtype=bool)
    for i, (value, cell) in enumerate(zip(values, cells, strict=True)):
        items = [_fold(x) for x in _as_list(cell)] if fold else _as_list(cell)
        out[i] = bool(present[i]) and _member(value, items)
    return out


def _member(value: Any, items: list) -> bool:
    try:
        return value in items
    except TypeError:
        return False


def _hashable(items: Iterable) -> list:
    return [tuple(x) if isinstance(x, list) else x for x in items]


def _pairwise(a: np.ndarray, b: np.ndarray, func: Callable[[Any, Any], bool]) -> np.ndarray:
    """func(a_cell, b_cell) per row, computed once per distinct pair of cell objects."""
    if len(a) == 0:
        return np.zeros(0, dtype=bool)
    ca, _ = _identity_codes(a)
    cb, _ = _identity_codes(b)
    pair = ca.astype(np.int64) * (int(cb.max()) + 1) + cb
    codes, _ = pd.factorize(pair)
    first = first_rows(codes)
    answers = np.array([bool(func(a[r], b[r])) for r in first], dtype=bool)
    return answers[codes]


def _fold(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _key_codes(frame: pd.DataFrame, names: list[str], blank_as_missing: bool = False) -> np.ndarray:
    """One integer per row identifying the combination of the named columns' values.
    Empty values are a value of their own, or -1 for the whole row with blank_as_missing."""
    if not names:
        return np.zeros(len(frame), dtype=np.int64)
    parts = []
    missing = np.zeros(len(frame), dtype=bool)
    for name in names:
        codes, blank = _codes_and_blanks(_column(frame, name))
        missing |= blank
        if not blank_as_missing:  # all empties alike ("" and NaN are one value)
            codes = np.where(blank, -1, codes)
        parts.append(codes)
    # blanks' -1 shifted to 0 (combine pairs non-negative codes), then paired
    combined = combine([codes + 1 for codes in parts], len(frame))
    if blank_as_missing:
        combined[missing] = -1
    return combined


def _codes_and_blanks(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(integer code per row, empty-value mask); emptiness judged once per distinct value.
    List cells are grouped by their items."""
    try:
        codes, uniques = column_factorize(values)
    except TypeError:  # list cells
        cells = _objects(values)
        codes, _ = pd.factorize(_fill([tuple(_as_list(v)) for v in cells]),
                                use_na_sentinel=False)
        return codes, _blank(cells)
    return codes, _blank(_objects(uniques))[codes]


def _values_codes(values: np.ndarray) -> np.ndarray:
    """Integer code per row for one column's values; all empties share one code."""
    codes, blank = _codes_and_blanks(values)
    return np.where(blank, -1, codes).astype(np.int64)


def _flatten_names(frame: pd.DataFrame, items: Any) -> list:
    """Items of a list, where an item naming a column of lists stands for the list held in its
    first row (CORE: "$TIMING_VARIABLES" inside a key list)."""
    out: list = []
    for item in items if isinstance(items, (list, tuple)) else [items]:
        if isinstance(item, (list, tuple)):
            out.extend(_flatten_names(frame, item))
        elif isinstance(item, str) and item in frame.columns and len(frame) \
                and isinstance(frame[item].iloc[0], _COLLECTION):
            out.extend(frame[item].iloc[0])
        elif item is not None:
            out.append(item)
    return out


def _sort_positions(keys: list[np.ndarray]) -> np.ndarray:
    """Row positions in the stable ascending order of the keys (first key first); empty keys
    (NaN / None) sort last."""
    data = {f"k{i}": k for i, k in enumerate(keys)}
    data["pos"] = np.arange(len(keys[0]))
    ordered = pd.DataFrame(data).sort_values(list(data), kind="stable", na_position="last")
    return ordered["pos"].to_numpy()


_NUMERIC_KINDS = {"integer", "floating", "mixed-integer-float", "decimal", "empty"}


def _sortable(values: np.ndarray) -> np.ndarray:
    """A column as sort keys: numbers (NaN when empty) when it holds numbers, else text
    (None when empty). Text sorts as text: ISO 8601 dates sort chronologically."""
    if values.dtype.kind in "biuf":
        return values.astype(float)
    blank = _blank(values)
    if pd.api.types.infer_dtype(values[~blank], skipna=True) in _NUMERIC_KINDS:
        return np.where(blank, np.nan, _per_value(values, _number_of, dtype=float))
    text = _per_value(values, _text_of)
    out = text.astype(object)
    out[blank] = None
    return out


# =============================================================================================
# relational: equality, order, presence of a value
# =============================================================================================

def _canonical_text(value: Any) -> Any:
    """CORE's type-insensitive form: numbers and numeric text alike ("2.50", 2.5 -> "2.5",
    "007" -> "7"), other text stripped."""
    if _is_blank(value):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value.strip()
        return str(int(number)) if number.is_integer() else str(number)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return f"{number:.0f}" if number.is_integer() else str(number)
    return value


def _rounded(value: Any) -> Any:
    """CORE's round_values: the nearest integer (half to even) when the value is numeric."""
    if value is None:
        return None
    try:
        return round(float(value))
    except (TypeError, ValueError, OverflowError):
        return value


def _prepare(values: Any, n: int, check: Check, fold: bool) -> Any:
    """Rounding, type-insensitive text, case folding, as the check's parameters ask."""
    steps = []
    if _flag(check, "round_values"):
        steps.append(_rounded)
    if _flag(check, "type_insensitive"):
        steps.append(_canonical_text)
    if fold:
        steps.append(_fold)
    if not steps:
        return values

    def apply(v: Any) -> Any:
        for step in steps:
            v = step(v)
        return v
    if isinstance(values, np.ndarray):
        return _per_value(values, apply)
    return apply(values)


def _equal_values(a: np.ndarray, b: Any) -> np.ndarray:
    """Element-wise Python equality of an object array with an array or a scalar."""
    if isinstance(b, _COLLECTION) or isinstance(b, dict):
        return np.array([x == b for x in a], dtype=bool)
    with np.errstate(all="ignore"):
        out = a == b
    if not isinstance(out, np.ndarray) or out.shape != a.shape:
        return np.array([x == y for x, y in zip(a, _objects(b, len(a)), strict=True)],
                        dtype=bool)
    return np.asarray(out, dtype=bool)


def _equality(frame: pd.DataFrame, check: Check, fold: bool = False) -> tuple[np.ndarray,
                                                                           np.ndarray]:
    """(equal, not equal) per row. When both sides are empty neither holds (CORE's truth
    table: empty vs empty is False for equal_to and for not_equal_to)."""
    n = len(frame)
    target = _objects(_target(frame, check))
    other = comparand(frame, check)
    if isinstance(other, (list, tuple, set, frozenset, dict)):
        raise OperatorError("equality compares with one value or a column, not a list "
                            "(use is_contained_by)")
    if isinstance(other, pd.Series):
        other = _objects(other)
    both_empty = _blank(target) & _blank_any(other, n)
    left = _prepare(target, n, check, fold)
    right = _prepare(other, n, check, fold)
    same = _equal_values(left, right)
    return same & ~both_empty, ~same & ~both_empty


@_register("equal_to")
def equal_to(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Target equals the comparator (text or number; type_insensitive, round_values,
    value_is_reference as documented). Empty never equals anything."""
    return _result(frame, _equality(frame, check)[0])


@_register("not_equal_to")
def not_equal_to(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Target differs from the comparator; a populated side against an empty one differs,
    two empty sides do not."""
    return _result(frame, _equality(frame, check)[1])


@_register("equal_to_case_insensitive")
def equal_to_case_insensitive(frame: pd.DataFrame, check: Check) -> pd.Series:
    """equal_to after lower-casing text on both sides."""
    return _result(frame, _equality(frame, check, fold=True)[0])


@_register("not_equal_to_case_insensitive")
def not_equal_to_case_insensitive(frame: pd.DataFrame, check: Check) -> pd.Series:
    """not_equal_to after lower-casing text on both sides."""
    return _result(frame, _equality(frame, check, fold=True)[1])


def _numeric_order(frame: pd.DataFrame, check: Check,
                   compare: Callable[[np.ndarray, Any], np.ndarray]) -> pd.Series:
    target = _numbers(_target(frame, check))
    other = comparand(frame, check)
    if isinstance(other, pd.Series):
        right: Any = _numbers(other)
    else:
        right = _literal_number(other, "the comparator")
    with np.errstate(invalid="ignore"):
        return _result(frame, compare(target, right))


@_register("greater_than")
def greater_than(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Target > comparator as numbers (text that is not a number, and empties, never hold)."""
    return _numeric_order(frame, check, operator.gt)


@_register("greater_than_or_equal_to")
def greater_than_or_equal_to(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Target >= comparator as numbers."""
    return _numeric_order(frame, check, operator.ge)


@_register("less_than")
def less_than(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Target < comparator as numbers."""
    return _numeric_order(frame, check, operator.lt)


@_register("less_than_or_equal_to")
def less_than_or_equal_to(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Target <= comparator as numbers."""
    return _numeric_order(frame, check, operator.le)


@_register("empty")
def empty(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Target is None, NaN, "" or an empty collection."""
    return _result(frame, _blank_of(_target(frame, check)))


# =============================================================================================
# string operators
# =============================================================================================

def _regex_test(frame: pd.DataFrame, check: Check, test: Callable[[str], bool]) -> np.ndarray:
    """test(text) per row; a missing value (None/NaN) never matches nor fails to match."""
    return _per_text(_objects(_target(frame, check)), test)


def _per_text(values: np.ndarray, test: Callable[[str], bool]) -> np.ndarray:
    """test(text) per row of an object array, the value read as text (_text_of); computed
    once per distinct value. False where the value has no text (missing, a collection)."""
    def judged(value: Any) -> bool:
        text = value if isinstance(value, str) else _text_of(value)
        return isinstance(text, str) and bool(test(text))
    found = _codes_or_none(values) if len(values) else None
    if found is None:  # no rows, or unhashable cells (lists): no sharing possible
        return _fill([judged(v) for v in values], bool)
    codes, uniques = found
    uniques = np.asarray(uniques, dtype=object)
    if pd.api.types.infer_dtype(uniques, skipna=True) != "string":
        return _fill([judged(v) for v in uniques], bool)[codes]
    # text and missing values only: the test mapped over the texts
    present = ~np.asarray(pd.isna(uniques), dtype=bool)
    out = np.zeros(len(uniques), dtype=bool)
    out[present] = np.fromiter(map(test, uniques[present]), dtype=bool,
                               count=int(present.sum()))
    return out[codes]


@_register("matches_regex")
def matches_regex(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The text starts with a match of the regex (Python re.match, as pandas str.match);
    numbers are read as text ("3"), missing values never match."""
    rx = _regex(check.comparator)
    return _result(frame, _regex_test(frame, check, lambda v: rx.match(v) is not None))


@_register("not_matches_regex")
def not_matches_regex(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The text does not start with a match of the regex; missing values are not judged."""
    rx = _regex(check.comparator)
    return _result(frame, _regex_test(frame, check, lambda v: rx.match(v) is None))


def _part_regex(frame: pd.DataFrame, check: Check, part: str, negate: bool) -> pd.Series:
    rx = _regex(check.comparator)
    size = _int_param(check, part)

    def cut(v: str) -> str:
        return v[:size] if part == "prefix" else v[-size:]
    return _result(frame, _regex_test(
        frame, check, lambda v: (rx.search(cut(v)) is None) == negate))


@_register("prefix_matches_regex")
def prefix_matches_regex(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The first `prefix` characters contain a match of the regex (re.search)."""
    return _part_regex(frame, check, "prefix", negate=False)


@_register("not_prefix_matches_regex")
def not_prefix_matches_regex(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The first `prefix` characters contain no match of the regex; missing values are not
    judged."""
    return _part_regex(frame, check, "prefix", negate=True)


@_register("suffix_matches_regex")
def suffix_matches_regex(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The last `suffix` characters contain a match of the regex (re.search)."""
    return _part_regex(frame, check, "suffix", negate=False)


@_register("not_suffix_matches_regex")
def not_suffix_matches_regex(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The last `suffix` characters contain no match of the regex; missing values are not
    judged."""
    return _part_regex(frame, check, "suffix", negate=True)


def _affix(frame: pd.DataFrame, check: Check, ends: bool) -> pd.Series:
    texts = _texts(_target(frame, check), len(frame))
    other = comparand(frame, check)
    if isinstance(other, pd.Series):
        # CORE: a column comparator means "any of that column's values" (str.startswith(tuple))
        choices = tuple(v for v in pd.unique(_texts(other, len(frame))) if v)
    elif isinstance(other, (list, tuple)):
        choices = tuple(t for t in (_text_of(v) for v in other) if t)
    else:
        text = _text_of(other)
        if text is None:
            raise OperatorError(f"{'ends_with' if ends else 'starts_with'} needs a value")
        choices = (text,)
    if not choices:
        return _constant(frame, False)

    def test(v: Any) -> bool:
        if not isinstance(v, str):
            return False
        return v.endswith(choices) if ends else v.startswith(choices)
    return _result(frame, _per_value(texts, test, dtype=bool))


@_register("starts_with")
def starts_with(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The text begins with the comparator (a column comparator: with any of its values)."""
    return _affix(frame, check, ends=False)


@_register("ends_with")
def ends_with(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The text ends with the comparator (a column comparator: with any of its values)."""
    return _affix(frame, check, ends=True)


def _string_part(frame: pd.DataFrame, check: Check, part: str) -> np.ndarray:
    """The first `prefix` / last `suffix` characters of each text (None when missing)."""
    size = _int_param(check, part)
    texts = _texts(_target(frame, check), len(frame))
    if part == "prefix":
        return _per_value(texts, lambda v: v[:size] if isinstance(v, str) else None)
    return _per_value(texts, lambda v: (v[-size:] if size else "") if isinstance(v, str)
                      else None)


def _part_comparand(frame: pd.DataFrame, check: Check, part: str) -> Any:
    """The comparator of prefix_/suffix_equal_to. For prefix_equal_to CORE reads the name
    DOMAIN as the dataset's domain prefix (dataset_name is compared with it on metadata
    frames, which have no DOMAIN column)."""
    if part == "prefix" and check.comparator == "DOMAIN" and not _flag(check, "value_is_literal"):
        domain = check.context.get("domain") if check.context else None
        if domain:
            return domain
    other = comparand(frame, check)
    return _texts(other, len(frame)) if isinstance(other, pd.Series) else _text_of(other)


def _part_equal(frame: pd.DataFrame, check: Check, part: str) -> np.ndarray:
    piece = _string_part(frame, check, part)
    other = _part_comparand(frame, check, part)
    return _equal_values(piece, other) & ~np.asarray(pd.isna(piece), dtype=bool)


@_register("prefix_equal_to")
def prefix_equal_to(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The first `prefix` characters equal the comparator (DOMAIN: the domain prefix)."""
    return _result(frame, _part_equal(frame, check, "prefix"))


@_register("suffix_equal_to")
def suffix_equal_to(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The last `suffix` characters equal the comparator."""
    return _result(frame, _part_equal(frame, check, "suffix"))


def _first_found(rx: re.Pattern, value: Any) -> Any:
    """CORE's apply_regex: the first re.findall result (the first group's text), else None."""
    text = _text_of(value)
    if text is None:
        return None
    found = rx.findall(text)
    return found[0] if found else None


def _string_part_equal(frame: pd.DataFrame, check: Check) -> np.ndarray:
    rx = _regex(check.param("regex"))
    n = len(frame)
    target = _objects(_target(frame, check))
    other = comparand(frame, check)
    if isinstance(other, pd.Series):
        parsed: Any = _per_value(_objects(other), lambda v: _first_found(rx, v))
    else:
        parsed = _first_found(rx, other)
    both_empty = _blank(target) & _blank_any(parsed, n)
    left = _prepare(target, n, check, fold=False)
    right = _prepare(parsed, n, check, fold=False)
    return _equal_values(left, right) & ~both_empty


@_register("equals_string_part")
def equals_string_part(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The target equals the part of the comparator captured by `regex` (first group of the
    first match); type_insensitive as for equal_to."""
    return _result(frame, _string_part_equal(frame, check))


def _contains(frame: pd.DataFrame, check: Check, fold: bool) -> np.ndarray:
    """CORE's contains: list cells -> membership of the comparator; a literal text ->
    substring of the target text; a column comparator (plain cells) -> the row's comparator
    value occurs somewhere in the target column; a number -> equality."""
    n = len(frame)
    target = _target(frame, check)
    cells = _objects(target)
    other = comparand(frame, check)
    if isinstance(other, (list, tuple, set, dict)):
        raise OperatorError("contains takes one value, not a list (use contains_all)")
    if _is_list_column(cells):
        values = _objects(other) if isinstance(other, pd.Series) else _objects(other, n)
        return _in_cells(values, cells, fold)
    if isinstance(other, str):
        needle = _fold(other) if fold else other

        def has(v: Any) -> bool:
            text = _text_of(v)
            return text is not None and needle in (_fold(text) if fold else text)
        return _per_value(cells, has, dtype=bool)
    if isinstance(other, pd.Series):
        values = _objects(other)
        pool = _per_value(cells, _fold) if fold else cells
        probe = _per_value(values, _fold) if fold else values
        return pd.Series(probe, dtype=object).isin(pool[~_blank(pool)]).to_numpy() \
            & ~_blank(values)
    if _is_blank(other):
        raise OperatorError("contains needs a value")
    return _equal_values(cells, other)


@_register("contains")
def contains(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The comparator is contained in the target: an item of a list cell, or a substring of
    the target text."""
    return _result(frame, _contains(frame, check, fold=False))


@_register("contains_case_insensitive")
def contains_case_insensitive(frame: pd.DataFrame, check: Check) -> pd.Series:
    """contains, ignoring case."""
    return _result(frame, _contains(frame, check, fold=True))


def _length_of(value: Any) -> float:
    if isinstance(value, _SIZED):
        return float(len(value))
    text = _text_of(value)
    return math.nan if text is None else float(len(text))


def _lengths(values: Any) -> np.ndarray:
    return _per_value(_objects(values), _length_of, dtype=float)


def _length_compare(frame: pd.DataFrame, check: Check,
                    compare: Callable[[np.ndarray, Any], np.ndarray]) -> np.ndarray:
    """compare(len(target), n): n is the literal, or per row the comparator column's number
    (numeric column) or the length of its text (text column). A missing target has no length:
    never holds."""
    lengths = _lengths(_target(frame, check))
    other = comparand(frame, check)
    if isinstance(other, pd.Series):
        right: Any = (other.to_numpy(dtype=float) if other.dtype.kind in "iuf"
                      else _lengths(other))
    else:
        right = _literal_number(other, "the length")
    with np.errstate(invalid="ignore"):
        return np.asarray(compare(lengths, right), dtype=bool)


@_register("longer_than")
def longer_than(frame: pd.DataFrame, check: Check) -> pd.Series:
    """len(target) > comparator."""
    return _result(frame, _length_compare(frame, check, operator.gt))


@_register("longer_than_or_equal_to")
def longer_than_or_equal_to(frame: pd.DataFrame, check: Check) -> pd.Series:
    """len(target) >= comparator."""
    return _result(frame, _length_compare(frame, check, operator.ge))


@_register("has_equal_length")
def has_equal_length(frame: pd.DataFrame, check: Check) -> pd.Series:
    """len(target) equals the comparator (a number, an integer column, or the length of a
    text column's value)."""
    return _result(frame, _length_compare(frame, check, operator.eq))


def _split_equal(value: Any, separator: str) -> bool:
    text = _text_of(value)
    if not text:
        return True
    parts = text.split(separator)
    if len(parts) == 1:
        return True
    return len(parts) == 2 and len(parts[0]) == len(parts[1])


@_register("split_parts_have_equal_length")
def split_parts_have_equal_length(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Split at `separator` (default "/"): no separator or two parts of equal length hold;
    more than two parts do not; empty values hold."""
    separator = check.param("separator", "/") or "/"
    if not isinstance(separator, str):
        raise OperatorError(f"separator must be text, got {separator!r}")
    values = _objects(_target(frame, check))
    return _result(frame, _per_value(values, lambda v: _split_equal(v, separator), dtype=bool))


# =============================================================================================
# dates (ISO 8601 text)
# =============================================================================================

def _time_rx(tag: str) -> str:
    return (rf"(?P<h{tag}>[01]\d|2[0-3]|-)"
            rf"(?::(?P<mi{tag}>[0-5]\d|-)(?::(?P<s{tag}>[0-5]\d|-)?(?:\.(?P<f{tag}>\d+))?)?)?"
            rf"(?P<z{tag}>Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?")


def _point_rx(tag: str) -> str:
    return (rf"(?P<y{tag}>-?\d{{4}}|-)"
            rf"(?:-{{1,2}}(?P<mo{tag}>0[1-9]|1[0-2]|-))?"
            rf"(?:-{{1,2}}(?P<d{tag}>0[1-9]|[12]\d|3[01]|-))?"
            rf"(?:T{_time_rx(tag)})?")


# An ISO 8601 date/time as SDTM writes it: partial (2003-12), with missing parts as "-"
# (2003---15, 2003-12-15T-:30), an interval (a/b), or a time alone (-----T10:30).
_ISO_DTC = re.compile(rf"^(?:{_point_rx('')}(?:/{_point_rx('2')})?|-{{4,8}}T{_time_rx('3')})$")
_UNCERTAIN = ("/", "--", "-:")
_PARTS = ("year", "month", "day", "hour", "minute", "second", "microsecond")
_GROUPS = ("y", "mo", "d", "h", "mi", "s", "f")
_DEFAULTS = (1970, 1, 1, 0, 0, 0, 0)
_EPOCH = datetime(1, 1, 1, tzinfo=timezone.utc)
_MICRO = timedelta(microseconds=1)


def _is_valid_dtc(text: Any) -> bool:
    """CORE's is_valid_date: the ISO 8601 pattern matches and, unless the text carries
    uncertainty ("/", "--", "-:"), dateutil's isoparse accepts it (a real calendar date)."""
    if not isinstance(text, str) or not text or _ISO_DTC.match(text) is None:
        return False
    if any(u in text for u in _UNCERTAIN):
        return True
    try:
        isoparse(text)
    except (ValueError, OverflowError, TypeError):
        return False
    return True


def _dtc_parts(text: str) -> tuple[list[str | None], str | None]:
    """The seven components (None when absent or "-") and the time zone of an ISO text."""
    match = _ISO_DTC.match(text)
    assert match is not None
    groups = match.groupdict()
    parts: list[str | None] = []
    for g in _GROUPS:
        value = groups.get(g)
        if value is None:
            value = groups.get(g + "2")
        if value is None:
            value = groups.get(g + "3")
        parts.append(None if value in (None, "-", "") else value)
    return parts, groups.get("z") or groups.get("z3")


def _dtc_precision(parts: list[str | None]) -> int:
    """Index of the last component before the first missing one (-1: no year)."""
    for i, part in enumerate(parts):
        if part is None:
            return i - 1
    return len(parts) - 1


def _dtc_datetime(text: str, parts: list[str | None], zone: str | None) -> datetime | None:
    """The UTC datetime of an ISO text, missing parts defaulted (1970-01-01T00:00:00); a time
    zone applies unless the text carries uncertainty (CORE parses those part by part)."""
    numbers = [int(p) if p is not None else d for p, d in zip(parts[:6], _DEFAULTS, strict=False)]
    fraction = parts[6]
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    try:
        moment = datetime(*numbers, micro, tzinfo=timezone.utc)
    except (ValueError, OverflowError):
        return None
    if zone and zone != "Z" and not any(u in text for u in _UNCERTAIN):
        sign = 1 if zone[0] == "+" else -1
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        try:
            moment = moment - sign * offset
        except OverflowError:
            return None
    return moment


_NO_DATE = (False, -1, (0,) * 7, (0,) * 7)


def _dtc_info(text: Any) -> tuple[bool, int, tuple[int, ...], tuple[int, ...]]:
    """(comparable, precision, keys truncated at each precision, UTC components) of one
    value. Keys are microseconds since 0001-01-01 UTC; key[p] resets everything below p."""
    if not _is_valid_dtc(text):
        return _NO_DATE
    parts, zone = _dtc_parts(text)
    moment = _dtc_datetime(text, parts, zone)
    if moment is None:
        return _NO_DATE
    fields = (moment.year, moment.month, moment.day, moment.hour, moment.minute,
              moment.second, moment.microsecond)
    keys = []
    for level in range(7):
        kept = fields[:level + 1] + _DEFAULTS[level + 1:]
        truncated = datetime(*kept, tzinfo=timezone.utc)
        keys.append((truncated - _EPOCH) // _MICRO)
    return True, _dtc_precision(parts), tuple(keys), fields


class _DtcFacts:
    """_dtc_info of every distinct text seen, kept for the run as arrays (a large lab domain
    has some 200,000 distinct date-times, read by many rules): each text is parsed once and
    looked up by a dict; row 0 is "not a date"."""

    LIMIT = 2**19  # texts kept; beyond, start afresh (a long-lived process stays bounded)

    def __init__(self) -> None:
        self.row: dict[str, int] = {}
        self.size = 1
        self.usable = np.zeros(1024, dtype=bool)  # comparable, with a year at least
        self.precision = np.full(1024, -1, dtype=np.int8)
        self.keys = np.zeros((1024, 7), dtype=np.int64)
        self.fields = np.zeros((1024, 7), dtype=np.int32)

    def bound(self) -> None:
        """Start afresh when too many texts are kept (between comparisons only: rows handed
        out must stay valid while one comparison runs)."""
        if len(self.row) > self.LIMIT:
            self.__init__()  # type: ignore[misc]

    def rows_of(self, values: np.ndarray) -> np.ndarray:
        """The row of each value (the values are distinct)."""
        rows = self._known_rows(values)
        new = np.flatnonzero(rows < 0)
        if len(new):
            rows[new] = self._add([values[i] for i in new])
        return rows

    def _known_rows(self, values: np.ndarray) -> np.ndarray:
        """The row of each value already kept, -1 for new text, 0 for any other value."""
        get = self.row.get
        values = np.asarray(values, dtype=object)
        if pd.api.types.infer_dtype(values, skipna=True) == "string":
            # text and missing values only: looked up by the dict's get mapped over them
            present = ~np.asarray(pd.isna(values), dtype=bool)
            rows = np.zeros(len(values), dtype=np.int64)
            rows[present] = np.fromiter(map(get, values[present], repeat(-1)), dtype=np.int64,
                                        count=int(present.sum()))
            return rows
        return np.fromiter((get(v, -1) if isinstance(v, str) else 0 for v in values),
                           dtype=np.int64, count=len(values))

    def _add(self, texts: list[str]) -> np.ndarray:
        start, end = self.size, self.size + len(texts)
        if end > len(self.usable):
            self._grow(2 * end)
        rows = np.arange(start, end)
        plain = _plain_dtc(texts)
        if plain is not None:
            simple, usable, precision, keys, fields = plain
            at = rows[simple]
            self.usable[at], self.precision[at] = usable, precision
            self.keys[at], self.fields[at] = keys, fields
            other = [t for t, s in zip(texts, simple, strict=True) if not s]
            rest = rows[~simple]
        else:
            other, rest = texts, rows
        if other:
            infos = [_dtc_info(t) for t in other]
            self.usable[rest] = [i[0] and i[1] >= 0 for i in infos]
            self.precision[rest] = [i[1] for i in infos]
            self.keys[rest] = [i[2] for i in infos]
            self.fields[rest] = [i[3] for i in infos]
        self.size = end
        self.row.update(zip(texts, range(start, end), strict=True))
        return rows

    def _grow(self, capacity: int) -> None:
        for name in ("usable", "precision", "keys", "fields"):
            old = getattr(self, name)
            new = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
            new[:len(old)] = old
            setattr(self, name, new)


_DTC = _DtcFacts()

# the date/times datasets hold by the million: YYYY, YYYY-MM, YYYY-MM-DD, then THH, :MM, :SS
# (no zone, fraction or missing part); their facts are worked out with numpy
_PLAIN_LENGTHS = (4, 7, 10, 13, 16, 19)
_PLAIN_DIGITS = (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18)
_PLAIN_MARKS = {4: "-", 7: "-", 10: "T", 13: ":", 16: ":"}
_MICROS = (86_400_000_000, 3_600_000_000, 60_000_000, 1_000_000)


def _plain_dtc(texts: list[str]) -> tuple[np.ndarray, ...] | None:
    """(plain?, usable, precision, keys, fields) of the plain texts among `texts`, the same
    facts _dtc_info gives them (checked by tests); None when there are none."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    simple = np.isin(lengths, _PLAIN_LENGTHS)
    if not simple.any():
        return None
    chars = np.array([t for t, s in zip(texts, simple, strict=True) if s], dtype="<U19")
    codes = chars.view(np.uint32).reshape(len(chars), 19).astype(np.int64)
    size = lengths[simple]
    digits = codes - ord("0")
    ok = np.ones(len(chars), dtype=bool)
    for i in _PLAIN_DIGITS:  # a digit wherever the text reaches
        ok &= (size <= i) | ((digits[:, i] >= 0) & (digits[:, i] <= 9))
    for i, mark in _PLAIN_MARKS.items():
        ok &= (size <= i) | (codes[:, i] == ord(mark))
    simple[np.flatnonzero(simple)[~ok]] = False  # the rest go the long way
    digits, size = digits[ok], size[ok]

    def number(at: int, default: int) -> np.ndarray:
        value = digits[:, at] * 10 + digits[:, at + 1]
        return np.where(size > at, value, default)
    year = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    month, day = number(5, 1), number(8, 1)
    hour, minute, second = number(11, 0), number(14, 0), number(17, 0)
    # the ISO pattern's ranges and a real calendar date (as isoparse), year 1 at least
    first_day = (year - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (month - 1)
    month_days = ((first_day + 1).astype("datetime64[D]") -
                  first_day.astype("datetime64[D]")).astype(np.int64)
    valid = (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days) & \
        (hour <= 23) & (minute <= 59) & (second <= 59)
    precision = np.searchsorted(_PLAIN_LENGTHS, size).astype(np.int8)
    date = np.where(valid, (np.maximum(year, 1) - 1970), 0).astype("datetime64[Y]")
    start_of = {0: date.astype("datetime64[D]"),
                1: (date.astype("datetime64[M]") + np.where(valid, month - 1, 0))
                .astype("datetime64[D]")}
    start_of[2] = start_of[1] + np.where(valid, day - 1, 0)
    days = {k: (v - np.datetime64("0001-01-01", "D")).astype(np.int64) for k, v in start_of.items()}
    keys = np.empty((len(size), 7), dtype=np.int64)
    keys[:, 0], keys[:, 1] = days[0] * _MICROS[0], days[1] * _MICROS[0]
    keys[:, 2] = days[2] * _MICROS[0]
    keys[:, 3] = keys[:, 2] + hour * _MICROS[1]
    keys[:, 4] = keys[:, 3] + minute * _MICROS[2]
    keys[:, 5] = keys[:, 6] = keys[:, 4] + second * _MICROS[3]
    fields = np.column_stack([year, month, day, hour, minute, second, np.zeros_like(year)])
    keys[~valid], fields[~valid] = 0, 0
    precision[~valid] = -1
    return simple, valid, precision, keys, fields


def _dtc_rows(values: Any, n: int) -> np.ndarray:
    """Per row, its row in _DTC (computed per distinct value)."""
    if isinstance(values, (pd.Series, np.ndarray)):
        cells = _objects(values)
    else:
        text = str(values) if isinstance(values, (int, np.integer)) else values
        cells = _objects(text, 1)
        return np.repeat(_DTC.rows_of(cells), n)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    try:
        codes, uniques = column_factorize(cells)
    except TypeError:
        codes, uniques = np.arange(n), cells
    return _DTC.rows_of(uniques)[codes]


def _date_compare(frame: pd.DataFrame, check: Check, op: Callable) -> pd.Series:
    """CORE's compare_dates: both sides valid ISO 8601 (else False). date_component
    year..microsecond compares that component of the UTC datetimes; "auto" compares at the
    common (coarser) precision; without it: equal needs the same precision, not-equal holds
    for different precisions, and an ordering compares at the common precision, refining to
    the full values when the two are equal there and the target is the more precise one."""
    n = len(frame)
    component = check.param("date_component")
    if component is not None and component != "auto" and component not in _PARTS:
        raise OperatorError(f"unknown date_component {component!r}")
    _DTC.bound()
    t = _dtc_rows(_target(frame, check), n)
    other = comparand(frame, check)
    if isinstance(other, (list, dict, set, tuple)):
        raise OperatorError("a date comparator must be one value or a column")
    c = _dtc_rows(other, n)
    ok = _DTC.usable[t] & _DTC.usable[c]
    if component in _PARTS:
        i = _PARTS.index(component)
        return _result(frame, op(_DTC.fields[t, i], _DTC.fields[c, i]) & ok)
    t_prec, c_prec = _DTC.precision[t], _DTC.precision[c]
    common = np.clip(np.minimum(t_prec, c_prec), 0, 6)
    left, right = _DTC.keys[t, common], _DTC.keys[c, common]
    if component == "auto":
        out = op(left, right)
    elif op is operator.eq:
        out = (t_prec == c_prec) & (left == right)
    elif op is operator.ne:
        out = (t_prec != c_prec) | (left != right)
    else:
        out = op(left, right)
        refine = (left == right) & (t_prec > c_prec)
        out = np.where(refine, op(_DTC.keys[t, 6], _DTC.keys[c, 6]), out)
    return _result(frame, out & ok)


@_register("date_equal_to")
def date_equal_to(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The dates are equal (same precision and same instant; see _date_compare)."""
    return _date_compare(frame, check, operator.eq)


@_register("date_not_equal_to")
def date_not_equal_to(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The dates differ (or have different precisions); empty or invalid dates never hold."""
    return _date_compare(frame, check, operator.ne)


@_register("date_greater_than")
def date_greater_than(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Target date is after the comparator date (see _date_compare)."""
    return _date_compare(frame, check, operator.gt)


@_register("date_greater_than_or_equal_to")
def date_greater_than_or_equal_to(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Target date is on or after the comparator date."""
    return _date_compare(frame, check, operator.ge)


@_register("date_less_than")
def date_less_than(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Target date is before the comparator date."""
    return _date_compare(frame, check, operator.lt)


@_register("date_less_than_or_equal_to")
def date_less_than_or_equal_to(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Target date is on or before the comparator date."""
    return _date_compare(frame, check, operator.le)


def _complete_date(value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    for text in (value, value.replace("Z", "+00:00")):
        try:
            datetime.fromisoformat(text)
            return True
        except ValueError:
            continue
    return False


@_register("is_complete_date")
def is_complete_date(frame: pd.DataFrame, check: Check) -> pd.Series:
    """CORE: Python's datetime.fromisoformat accepts the text, i.e. at least a full
    YYYY-MM-DD calendar date (a time part is optional). Empty is not complete."""
    values = _objects(_target(frame, check))
    if len(values) == 0:
        return _result(frame, np.zeros(0, dtype=bool))
    try:
        codes, uniques = column_factorize(values)
    except TypeError:  # unhashable cells (lists)
        return _result(frame, _per_value(values, _complete_date, dtype=bool))
    return _result(frame, _complete_flags(uniques)[codes])


def _complete_flags(values: np.ndarray) -> np.ndarray:
    """_complete_date of each value: a plain ISO text (see _plain_dtc) is complete when it is
    a real date with at least a day (as fromisoformat has it, checked by tests); any other
    text asks fromisoformat itself."""
    out = np.zeros(len(values), dtype=bool)
    rows = [i for i, v in enumerate(values) if isinstance(v, str)]
    texts = [values[i] for i in rows]
    plain = _plain_dtc(texts) if texts else None
    simple = plain[0] if plain is not None else np.zeros(len(texts), dtype=bool)
    if plain is not None:
        _, usable, precision, _, _ = plain
        out[np.asarray(rows)[simple]] = usable & (precision >= 2)
    for i, is_plain in zip(rows, simple, strict=True):
        if not is_plain:
            out[i] = _complete_date(values[i])
    return out


@_register("invalid_date")
def invalid_date(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The text is not an ISO 8601 date/time as SDTM allows it (partial, with "-" for missing
    parts, intervals); complete dates must exist in the calendar. Empty is invalid (CORE)."""
    values = _objects(_target(frame, check))
    return _result(frame, ~_per_value(values, _is_valid_dtc, dtype=bool))


_NUM = r"\d+(?:[.,]\d*)?"
_DURATION = re.compile(
    rf"^(?P<sign>-)?P(?!$)(?:(?P<Y>{_NUM}Y)?(?P<Mo>{_NUM}M)?(?P<D>{_NUM}D)?"
    rf"(?P<T>T(?=\d)(?P<H>{_NUM}H)?(?P<Mi>{_NUM}M)?(?P<S>{_NUM}S)?)?|(?P<W>{_NUM}W))$")


def _valid_duration(value: Any, negative_allowed: bool) -> bool:
    """ISO 8601 duration PnYnMnDTnHnMnS or PnW; at least one part, T followed by a time part,
    a decimal fraction only in the smallest part given, a sign only if negatives are allowed."""
    text = value if isinstance(value, str) else str(value)
    match = _DURATION.match(text)
    if match is None:
        return False
    if match["sign"] and not negative_allowed:
        return False
    if match["T"] and not (match["H"] or match["Mi"] or match["S"]):
        return False
    given = [match[k] for k in ("Y", "Mo", "W", "D", "H", "Mi", "S") if match[k]]
    decimals = [i for i, part in enumerate(given) if "." in part or "," in part]
    return not decimals or decimals == [len(given) - 1]


@_register("invalid_duration")
def invalid_duration(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The value is not an ISO 8601 duration; negative durations are allowed unless
    negative is false. Empty is invalid (CORE)."""
    negative = check.param("negative")
    allowed = not (negative is False or (isinstance(negative, str)
                                         and negative.strip().lower() == "false"))
    values = _objects(_target(frame, check))
    return _result(frame, ~_per_value(values, lambda v: _valid_duration(v, allowed), dtype=bool))


# =============================================================================================
# metadata: columns that exist, enumerated columns
# =============================================================================================

@_register("exists")
def exists(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The target is a column of the frame (a variable, or a dataset in the study frame), or
    an item of a list held in some cell (CORE); the answer is the same on every row."""
    name = check.target
    if name in frame.columns:
        return _constant(frame, True)
    for column in frame.columns:
        if not str(column).startswith("$"):
            continue  # list cells come from operations only ($ columns)
        values = frame[column]
        if values.dtype.kind != "O" or not len(values):
            continue
        cells = _objects(values)
        if not _is_list_column(cells):
            continue
        _, first = _identity_codes(cells)
        if any(isinstance(cells[r], _COLLECTION) and _member(name, list(cells[r]))
               for r in first):
            return _constant(frame, True)
    return _constant(frame, False)


@_register("inconsistent_enumerated_columns")
def inconsistent_enumerated_columns(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Over the columns TARGET, TARGET1, TARGET2, ... (in that order): some column is
    populated while the one before it is empty."""
    pattern = re.compile(rf"^{re.escape(check.target)}(\d*)$")
    names = sorted((c for c in frame.columns if isinstance(c, str) and pattern.match(c)),
                   key=lambda c: (len(c), c))
    if len(names) < 2:
        return _constant(frame, False)
    filled = np.column_stack([~_blank(_objects(frame[c])) for c in names])
    return _result(frame, np.any(filled[:, 1:] & ~filled[:, :-1], axis=1))


# =============================================================================================
# set membership
# =============================================================================================

def _contained(values: np.ndarray, other: Any, fold: bool) -> np.ndarray:
    """values[i] is one of the comparator's values: a literal list (or one literal), a column
    of lists (row-wise), or a plain column (any of its values)."""
    if fold:
        values = _per_value(values, _fold)
    if isinstance(other, pd.Series):
        cells = _objects(other)
        if _is_list_column(cells):
            return _in_cells(values, cells, fold)
        pool = _per_value(cells, _fold) if fold else cells
        return pd.Series(values, dtype=object).isin(pool).to_numpy() & ~_blank(values)
    if isinstance(other, dict):
        raise OperatorError("the comparator must be a value, a list or a column")
    items = _as_list(other) if isinstance(other, (list, tuple, set, frozenset)) else [other]
    if fold:
        items = [_fold(v) for v in items]
    return pd.Series(values, dtype=object).isin(_hashable(items)).to_numpy() \
        & ~_blank(values)


def _contained_by(frame: pd.DataFrame, check: Check, fold: bool) -> np.ndarray:
    target = _objects(_target(frame, check))
    other = comparand(frame, check)
    if _is_list_column(target):  # a list target: any of its items is in the comparator
        others = _objects(other) if isinstance(other, pd.Series) else _objects(other, len(frame))

        def any_in(cell: Any, pool: Any) -> bool:
            items = [_fold(x) for x in _as_list(pool)] if fold else _as_list(pool)
            return any(_member(_fold(x) if fold else x, items) for x in _as_list(cell))
        return _pairwise(target, others, any_in)
    return _contained(target, other, fold)


@_register("is_contained_by")
def is_contained_by(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The target value is in the comparator (a list, a "$variable" list column, or the
    values of a column)."""
    return _result(frame, _contained_by(frame, check, fold=False))


@_register("is_contained_by_case_insensitive")
def is_contained_by_case_insensitive(frame: pd.DataFrame, check: Check) -> pd.Series:
    """is_contained_by, ignoring case."""
    return _result(frame, _contained_by(frame, check, fold=True))


def _part_contained(frame: pd.DataFrame, check: Check, part: str) -> np.ndarray:
    piece = _string_part(frame, check, part)
    return _contained(piece, comparand(frame, check), fold=False)


@_register("prefix_is_contained_by")
def prefix_is_contained_by(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The first `prefix` characters are one of the comparator's values."""
    return _result(frame, _part_contained(frame, check, "prefix"))


@_register("suffix_is_contained_by")
def suffix_is_contained_by(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The last `suffix` characters are one of the comparator's values."""
    return _result(frame, _part_contained(frame, check, "suffix"))


# =============================================================================================
# set operations
# =============================================================================================

def _item_set(cell: Any) -> set:
    return set(_hashable(_as_list(cell)))


def _contains_all(frame: pd.DataFrame, check: Check) -> np.ndarray:
    """Two list columns: row-wise, every comparator item is in the target list. Otherwise
    the comparator's values (a literal list whose "$variable" items stand for their lists, or
    a column's values) all occur among the target column's values: one answer for all rows."""
    n = len(frame)
    target = _objects(_target(frame, check))
    comparator = check.comparator
    literal = _flag(check, "value_is_literal")
    if isinstance(comparator, str) and comparator in frame.columns and not literal:
        other = _objects(frame[comparator])
        if _is_list_column(other):
            if _is_list_column(target):
                return _pairwise(target, other, lambda t, c: _item_set(c) <= _item_set(t))
            wanted = _item_set(other[0])
        else:
            wanted = set(_hashable(pd.unique(other)))
    elif isinstance(comparator, (list, tuple)):
        wanted = set(_hashable(_flatten_names(frame, comparator)))
    elif comparator is None:
        raise OperatorError("contains_all needs values to look for")
    else:
        wanted = {comparator}
    if _is_list_column(target):
        return _pairwise(target, _objects(None, n), lambda t, _: wanted <= _item_set(t))
    have = set(_hashable(pd.unique(target))) if n else set()
    return np.full(n, wanted <= have)


@_register("contains_all")
def contains_all(frame: pd.DataFrame, check: Check) -> pd.Series:
    """All comparator values are among the target's values."""
    return _result(frame, _contains_all(frame, check))


def _shared_count(frame: pd.DataFrame, check: Check) -> Callable[[Callable[[int], bool]],
                                                                 np.ndarray]:
    target = _objects(_target(frame, check))
    other = comparand(frame, check)
    others = _objects(other) if isinstance(other, pd.Series) else _objects(other, len(frame))

    def judge(rule: Callable[[int], bool]) -> np.ndarray:
        return _pairwise(target, others, lambda t, c: rule(len(_item_set(t) & _item_set(c))))
    return judge


@_register("shares_at_least_one_element_with")
def shares_at_least_one_element_with(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Row-wise, the target collection and the comparator share an element (a scalar is a
    one-element set, an empty value the empty set)."""
    return _result(frame, _shared_count(frame, check)(lambda k: k >= 1))


@_register("shares_exactly_one_element_with")
def shares_exactly_one_element_with(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Row-wise, the target and the comparator share exactly one element."""
    return _result(frame, _shared_count(frame, check)(lambda k: k == 1))


@_register("shares_no_elements_with")
def shares_no_elements_with(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Row-wise, the target and the comparator share no element."""
    return _result(frame, _shared_count(frame, check)(lambda k: k == 0))


def _ordered_subset(target: Any, reference: Any) -> bool:
    items = _as_list(target)
    position = {}
    for i, item in enumerate(_as_list(reference)):
        position.setdefault(_hashable([item])[0], i)
    places = []
    for item in _hashable(items):
        if item not in position:
            return False
        places.append(position[item])
    return places == sorted(places)


@_register("is_ordered_subset_of")
def is_ordered_subset_of(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Row-wise, every item of the target list is in the comparator list, in the same
    relative order."""
    target = _objects(_target(frame, check))
    other = comparand(frame, check)
    others = _objects(other) if isinstance(other, pd.Series) else _objects(other, len(frame))
    return _result(frame, _pairwise(target, others, _ordered_subset))


# =============================================================================================
# uniqueness and relationships (whole-frame groupby)
# =============================================================================================

def _unique_set_columns(frame: pd.DataFrame, check: Check) -> list[str]:
    items = [check.target] + (_flatten_names(frame, check.comparator)
                              if check.comparator is not None else [])
    names = [n for n in _flatten_names(frame, items) if isinstance(n, str) and n in frame.columns]
    names = list(dict.fromkeys(names))
    if not names:
        raise OperatorError("none of the key columns is in the frame")
    return names


def _regex_keys(frame: pd.DataFrame, names: list[str], pattern: Any) -> pd.DataFrame:
    """The key columns, text columns reduced to their regex part (CORE: applied to a column
    when its first value matches; a value that does not match becomes empty)."""
    rx = _regex(pattern)
    out = {}
    for name in names:
        values = _objects(frame[name])
        present = values[~_blank(values)]
        if len(present) and isinstance(present[0], str) and rx.match(present[0]):
            values = _per_value(values, lambda v: _first_found(rx, v)
                                if isinstance(v, str) and v else v)
        out[name] = values
    return pd.DataFrame(out, index=frame.index)


def _not_unique(frame: pd.DataFrame, check: Check) -> np.ndarray:
    names = _unique_set_columns(frame, check)
    keys = frame if check.param("regex") is None else _regex_keys(frame, names,
                                                                   check.param("regex"))
    codes = _key_codes(keys, names)  # dense: a count per combination
    return np.bincount(codes)[codes] > 1 if len(codes) else np.zeros(0, dtype=bool)


@_register("is_unique_set")
def is_unique_set(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The combination of target and comparator columns ("$variable" lists expand to their
    columns; optional regex reduces text values first) occurs on this row only."""
    return _result(frame, ~_not_unique(frame, check))


@_register("is_not_unique_set")
def is_not_unique_set(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The combination of target and comparator columns occurs on more than one row (every
    row of a duplicated combination holds)."""
    return _result(frame, _not_unique(frame, check))


def _many_to_one(key: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Per row: its (non-empty) key maps to more than one value, an empty value counting as
    one when there is also a populated one."""
    out = np.zeros(len(key), dtype=bool)
    keyed = key >= 0
    if not keyed.any():
        return out
    k, v = key[keyed].astype(np.int64), value[keyed].astype(np.int64)
    size = int(k.max()) + 1
    populated = v >= 0
    # the distinct (key, populated value) pairs, counted per key
    width = int(v.max()) + 1 if populated.any() else 1
    pairs = pd.unique(k[populated] * width + v[populated])
    distinct = np.bincount(pairs // width, minlength=size)[k]
    has_empty = np.bincount(k[~populated], minlength=size)[k] > 0
    out[keyed] = (distinct > 1) | ((distinct >= 1) & has_empty)
    return out


def _not_unique_relationship(frame: pd.DataFrame, check: Check) -> np.ndarray:
    target = _values_codes(_objects(_target(frame, check)))
    names = _names(check.comparator, "the comparator")
    other = _key_codes(frame, names, blank_as_missing=True)
    # a row's answer depends on its (target, comparator) pair and the set of pairs: worked
    # out on the distinct pairs
    pairs, first = combine_with_first([target + 1, other + 1], len(frame))
    t, o = target[first], other[first]
    return (_many_to_one(t, o) | _many_to_one(o, t))[pairs]


@_register("is_not_unique_relationship")
def is_not_unique_relationship(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Target and comparator are not one-to-one: the row's populated target value goes with
    several comparator values (or with a value and an empty one), or its comparator value(s)
    with several target values."""
    return _result(frame, _not_unique_relationship(frame, check))


def _within(check: Check) -> list[str]:
    return _names(check.param("within"), "within")


def _occurrences(frame: pd.DataFrame, check: Check) -> np.ndarray:
    groups = _key_codes(frame, _within(check) + [check.target])
    return pd.Series(groups).groupby(groups).transform("size").to_numpy()


def _allowed_repeats(check: Check) -> float:
    if check.comparator is None or check.comparator == 0:
        return 1.0
    return _literal_number(check.comparator, "the maximum number of rows")


@_register("present_on_multiple_rows_within")
def present_on_multiple_rows_within(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The row's target value occurs on more rows of its `within` group than the comparator
    allows (default 1)."""
    return _result(frame, _occurrences(frame, check) > _allowed_repeats(check))


def _regex_normalised(values: np.ndarray, pattern: Any) -> np.ndarray:
    """The first capture group of a search of the regex (the whole match when it has no
    group); a value that does not match is kept as it is."""
    rx = _regex(pattern)
    if rx.groups == 0:
        rx = _regex(f"({pattern})")

    def part(v: Any) -> Any:
        text = _text_of(v)
        if text is None:
            return v
        found = rx.search(text)
        return v if found is None else found.group(1)
    return _per_value(values, part)


@_register("is_inconsistent_across_dataset")
def is_inconsistent_across_dataset(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Grouped by the comparator columns (those present), the target takes more than one
    value: the rows outside the single most frequent value hold, or every row of the group
    when the top frequency is shared. Optional regex: compare the first captured part."""
    names = [n for n in _names(check.comparator, "the comparator") if n in frame.columns]
    if not names:
        raise OperatorError("none of the grouping columns is in the frame")
    groups = _key_codes(frame, names)
    values = _objects(_target(frame, check))
    if check.param("regex") is not None:
        values = _regex_normalised(values, check.param("regex"))
    codes = _values_codes(values) + 1  # an empty value (-1) is a value of its own
    if len(frame) == 0:
        return _constant(frame, False)
    # per (group, value) pair its number of rows; per group its values, top count, ties
    width = int(codes.max()) + 1
    pair_codes, pairs = pd.factorize(groups.astype(np.int64) * width + codes)
    rows_per_pair = np.bincount(pair_codes)
    pair_group = pairs // width
    size = int(groups.max()) + 1
    top = np.zeros(size, dtype=np.int64)
    np.maximum.at(top, pair_group, rows_per_pair)
    distinct = np.bincount(pair_group, minlength=size)
    tied = np.bincount(pair_group[rows_per_pair == top[pair_group]], minlength=size)
    count = rows_per_pair[pair_codes]
    return _result(frame, (distinct[groups] > 1) &
                   ((tied[groups] > 1) | (count < top[groups])))


@_register("has_same_values")
def has_same_values(frame: pd.DataFrame, check: Check) -> pd.Series:
    """The target holds one value on every row of the frame (empty counts as a value)."""
    codes = _values_codes(_objects(_target(frame, check)))
    return _constant(frame, len(np.unique(codes)) <= 1)


# =============================================================================================
# sequential relationships (order within groups)
# =============================================================================================

def _ordered_groups(frame: pd.DataFrame, groups: np.ndarray, ordering: Any) -> np.ndarray:
    keys = [groups.astype(float)]
    if ordering is not None:
        keys.append(_sortable(_objects(_column(frame, ordering))))
    return _sort_positions(keys)


def _not_last_rows(frame: pd.DataFrame, check: Check) -> tuple[np.ndarray, np.ndarray]:
    """(row is in a group and not its last row, target is empty) with the rows grouped by the
    comparator column(s) and ordered by `ordering` within each group."""
    names = _names(check.comparator, "the grouping comparator")
    groups = _key_codes(frame, names, blank_as_missing=True)
    order = _ordered_groups(frame, groups, check.param("ordering"))
    ordered = groups[order]
    last = np.ones(len(order), dtype=bool)
    if len(order):
        last[:-1] = ordered[:-1] != ordered[1:]
    not_last = np.zeros(len(frame), dtype=bool)
    not_last[order] = ~last
    not_last &= groups >= 0
    return not_last, _blank(_objects(_target(frame, check)))


@_register("empty_within_except_last_row")
def empty_within_except_last_row(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Grouped by the comparator and ordered by `ordering`: the target is empty on a row that
    is not the last of its group (the last row never holds)."""
    not_last, blank = _not_last_rows(frame, check)
    return _result(frame, not_last & blank)


@_register("non_empty_within_except_last_row")
def non_empty_within_except_last_row(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Grouped and ordered likewise: the target is populated on a row that is not the last of
    its group (the last row never holds)."""
    not_last, blank = _not_last_rows(frame, check)
    return _result(frame, not_last & ~blank)


def _next_matches(frame: pd.DataFrame, check: Check) -> np.ndarray:
    ordering = check.param("ordering")
    if ordering is None:
        raise OperatorError("has_next_corresponding_record needs ordering")
    groups = _key_codes(frame, _within(check), blank_as_missing=True)
    target = _objects(_target(frame, check))
    other = _objects(_column(frame, check.comparator))
    order = _ordered_groups(frame, groups, ordering)
    g = groups[order]
    same = np.zeros(len(order), dtype=bool)
    if len(order) > 1:
        same[:-1] = (g[:-1] == g[1:]) & (g[:-1] >= 0)
    good = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        equal = _equal_values(target[order][:-1], other[order][1:])
        good[:-1] = np.where(same[:-1], equal, True)
    out = np.ones(len(frame), dtype=bool)
    out[order] = good
    return out


@_register("has_next_corresponding_record")
def has_next_corresponding_record(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Grouped by `within`, ordered by `ordering`: the target equals the comparator of the
    next row of the group (a group's last row holds)."""
    return _result(frame, _next_matches(frame, check))


_DTC_CUTS = (4, 7, 10, 13, 16, 19)


def _boundary_prefixes(text: str, known: dict[str, int]) -> list[int]:
    """Indices (in known) of the shorter dates this ISO date refines: its prefixes cut at a
    component boundary (2005-10-08 -> 2005-10, 2005)."""
    return [known[text[:cut]] for cut in _DTC_CUTS
            if len(text) > cut and text[cut] in "-T:." and text[:cut] in known]


def _overlapping_dates(groups: np.ndarray, texts: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Rows whose date and another date of the same group have different precisions that
    overlap (2005-10 and 2005-10-08): their order cannot be told, both rows are flagged.
    Worked out on the distinct (group, date) pairs."""
    out = np.zeros(len(texts), dtype=bool)
    rows = np.flatnonzero(usable)
    if len(rows) < 2:
        return out
    text_codes, distinct = pd.factorize(texts[rows])
    if len({len(t) for t in distinct}) < 2:  # one precision only: nothing can overlap
        return out
    known = {t: i for i, t in enumerate(distinct)}
    edges = [(i, j) for i, t in enumerate(distinct) for j in _boundary_prefixes(t, known)]
    if not edges:
        return out
    width = len(distinct) + 1
    pair_codes, pairs = pd.factorize(groups[rows].astype(np.int64) * width + text_codes)
    table = pd.DataFrame({"pair": np.arange(len(pairs)), "g": pairs // width, "t": pairs % width})
    links = table.merge(pd.DataFrame(edges, columns=["t", "p"]), on="t")
    present = np.isin(links["g"].to_numpy() * width + links["p"].to_numpy(), pairs)
    flagged = np.zeros(len(pairs), dtype=bool)
    flagged[links["pair"].to_numpy()[present]] = True  # the more precise date
    coarse = links["g"].to_numpy()[present] * width + links["p"].to_numpy()[present]
    flagged |= np.isin(pairs, coarse)  # the less precise one it overlaps
    out[rows] = flagged[pair_codes]
    return out


def _sort_spec(check: Check, spec: Any) -> tuple[str, bool, bool]:
    if isinstance(spec, str):
        return _name(check, spec), True, True
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise OperatorError(f"a sort key must be {{name, sort_order}}, got {spec!r}")
    order = str(spec.get("sort_order", "asc")).lower()
    nulls = str(spec.get("null_position", "last")).lower()
    if order not in ("asc", "desc", "dsc") or nulls not in ("first", "last"):
        raise OperatorError(f"bad sort_order/null_position in {spec!r}")
    return _name(check, spec["name"]), order == "asc", nulls == "last"


def _sort_target(frame: pd.DataFrame, check: Check) -> np.ndarray:
    """The target as sort keys; with `regex`, its first captured part, as a number when every
    part is one (MIDS1 < MIDS2 < MIDS10)."""
    values = _objects(_target(frame, check))
    if check.param("regex") is None:
        return _sortable(values)
    parts = _regex_normalised(values, check.param("regex"))
    blank = _blank(parts)
    numbers = _per_value(parts, _number_of, dtype=float)
    if np.all(blank | ~np.isnan(numbers)):
        return np.where(blank, np.nan, numbers)
    return _sortable(parts)


def _sorted_by_one(frame: pd.DataFrame, groups: np.ndarray, target: np.ndarray,
                   name: str, ascending: bool, nulls_last: bool) -> np.ndarray:
    """Rows that break the order of the target when the group is sorted by one column."""
    judged = groups >= 0
    t_blank = _blank(_objects(target))
    t_missing = t_blank | ~judged
    raw = _objects(_column(frame, name))
    c_missing = _blank(raw)
    comparator = _sortable(raw)
    bad = judged & t_blank  # an empty target cannot be in order
    # dates of different precision that overlap cannot be ordered
    if comparator.dtype == object:
        texts = _per_value(raw, _text_of)
        datelike = _per_value(texts, lambda v: isinstance(v, str) and _ISO_DTC.match(v)
                              is not None, dtype=bool)
        bad |= _overlapping_dates(groups, texts, judged & ~c_missing & datelike)
    # an empty comparator belongs after (before) every populated one of its group
    ranked = judged & ~t_missing & ~c_missing & ~bad
    nulls = judged & ~t_missing & c_missing
    if nulls.any() and ranked.any():
        t_rank = _dense_rank(target)
        series = pd.Series(np.where(ranked, t_rank, np.nan))
        if nulls_last:
            bound = series.groupby(groups).transform("max").to_numpy()
            bad |= nulls & (t_rank < bound)
        else:
            bound = series.groupby(groups).transform("min").to_numpy()
            bad |= nulls & (t_rank > bound)
    # populated rows: the target order must equal the comparator order, position by position
    rows = np.flatnonzero(ranked)
    if len(rows) > 1:
        t_rank = _dense_rank(target[rows])
        c_rank = _dense_rank(comparator[rows])
        g = groups[rows].astype(float)
        by_target = _sort_positions([g, t_rank])
        by_comparator = _sort_positions([g, c_rank if ascending else -c_rank, t_rank])
        mismatch = t_rank[by_target] != t_rank[by_comparator]
        bad[rows[by_comparator[mismatch]]] = True
    return bad


def _dense_rank(values: np.ndarray) -> np.ndarray:
    """Dense ranks (0, 1, ...) of numbers or of texts; empty values rank NaN."""
    out = np.full(len(values), np.nan)
    present = ~_blank(_objects(values))
    if not present.any():
        return out
    codes, distinct = pd.factorize(values[present])
    order = np.argsort(np.asarray(distinct, dtype=float if values.dtype.kind in "biuf"
                                  else object), kind="stable")
    rank = np.empty(len(distinct), dtype=float)
    rank[order] = np.arange(len(distinct))
    out[present] = rank[codes]
    return out


@_register("target_is_sorted_by")
def target_is_sorted_by(frame: pd.DataFrame, check: Check) -> pd.Series:
    """Within each `within` group the target ascends in the order of each comparator entry
    {name, sort_order asc|desc, null_position last|first}: empty comparator values belong at
    null_position, dates of different precisions that overlap cannot be ordered, an empty
    target is not sorted. Rows whose `within` key is empty are not judged."""
    specs = check.comparator if isinstance(check.comparator, list) else [check.comparator]
    if not specs or specs == [None]:
        raise OperatorError("target_is_sorted_by needs the columns to sort by")
    groups = _key_codes(frame, _within(check), blank_as_missing=True)
    target = _sort_target(frame, check)
    bad = np.zeros(len(frame), dtype=bool)
    for spec in specs:
        name, ascending, nulls_last = _sort_spec(check, spec)
        bad |= _sorted_by_one(frame, groups, target, name, ascending, nulls_last)
    return _result(frame, ~bad)


def _complement(of: Operator) -> Operator:
    def complement(frame: pd.DataFrame, check: Check) -> pd.Series:
        return ~of(frame, check)
    complement.__doc__ = f"Complement of {of.__name__}."
    return complement


# operators that are the exact negation of another (Operator.md's "complement of ...")
COMPLEMENTS: dict[str, Operator] = {
    "non_empty": empty,
    "prefix_not_equal_to": prefix_equal_to,
    "suffix_not_equal_to": suffix_equal_to,
    "does_not_equal_string_part": equals_string_part,
    "does_not_contain": contains,
    "does_not_contain_case_insensitive": contains_case_insensitive,
    "shorter_than": longer_than_or_equal_to,
    "shorter_than_or_equal_to": longer_than,
    "has_not_equal_length": has_equal_length,
    "split_parts_have_unequal_length": split_parts_have_equal_length,
    "is_incomplete_date": is_complete_date,
    "not_exists": exists,
    "is_not_contained_by": is_contained_by,
    "is_not_contained_by_case_insensitive": is_contained_by_case_insensitive,
    "prefix_is_not_contained_by": prefix_is_contained_by,
    "suffix_is_not_contained_by": suffix_is_contained_by,
    "not_contains_all": contains_all,
    "is_not_ordered_subset_of": is_ordered_subset_of,
    "is_unique_relationship": is_not_unique_relationship,
    "not_present_on_multiple_rows_within": present_on_multiple_rows_within,
    "has_different_values": has_same_values,
    "does_not_have_next_corresponding_record": has_next_corresponding_record,
    "target_is_not_sorted_by": target_is_sorted_by}
OPERATORS.update({name: _complement(of) for name, of in COMPLEMENTS.items()})
# the name of the operator each complement negates
COMPLEMENT_OF: dict[str, str] = {
    name: next(n for n, f in OPERATORS.items() if f is of) for name, of in COMPLEMENTS.items()}
