"""The CORE interpreter's shortcuts (facts read off kept column codes, collections found by
the cells' types) give the answers of the plain computations they replace."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc.validate.core import codes, operators

_CELL = st.one_of(st.sampled_from(["A", "B", "", "C D"]), st.none(), st.just(float("nan")),
                  st.integers(0, 3).map(float), st.just(pd.NaT))
_HOLDING = st.one_of(_CELL, st.sampled_from([[], ["A"], (), {}, {"k": 1}, frozenset(), set()]))


def _frozen(values: list) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    array.flags.writeable = False
    return array


def test_known_codes_is_what_factorize_kept() -> None:
    codes.clear()
    values = _frozen(["A", None, "B"] * codes.CACHED_FROM_ROWS)
    assert codes.known_codes(values) is None  # nothing computed yet
    kept = codes.factorize(values)
    got = codes.known_codes(values)
    assert got is not None and got[0] is kept[0] and got[1] is kept[1]
    assert codes.known_codes(values[:10]) is None  # small arrays are never kept
    writable = np.array(["A"] * codes.CACHED_FROM_ROWS, dtype=object)
    codes.factorize(writable)
    assert codes.known_codes(writable) is None  # a writable array's codes are not kept


@settings(max_examples=60, deadline=None)
@given(st.lists(_CELL, min_size=1, max_size=8))
def test_any_missing_is_isna_any(cells: list) -> None:
    codes.clear()
    # large enough to be kept, with or without its codes computed first
    values = _frozen(cells * (codes.CACHED_FROM_ROWS // len(cells) + 1))
    want = bool(pd.isna(values).any())
    assert operators._any_missing(values) == want
    codes.factorize(values)
    assert operators._any_missing(values) == want


@settings(max_examples=150, deadline=None)
@given(st.lists(_HOLDING, max_size=30))
def test_any_holder_is_isinstance_per_cell(cells: list) -> None:
    values = _frozen(cells)
    want = any(isinstance(v, operators._HOLDERS) for v in cells)
    assert operators._any_holder(values) == want


def test_blank_cells_hand_cases() -> None:
    values = _frozen(["", "A", None, float("nan"), 1.0, [], ["x"], {}, ()])
    got = operators._blank_cells(values)
    assert list(got) == [True, False, True, True, False, True, False, True, True]
    assert list(operators._blank_cells(_frozen(["", "A", 2.0, None]))) == \
        [True, False, False, True]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_CELL, st.integers(0, 12), st.just(3.5)),
                min_size=1, max_size=30))
def test_per_text_is_the_test_of_each_text(cells: list) -> None:
    values = _frozen(cells)

    def test(text: str) -> bool:
        return text[:1] in ("A", "1", " ")
    want = [isinstance(operators._text_of(v), str) and test(operators._text_of(v))
            for v in cells]
    assert list(operators._per_text(values, test)) == want


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["2020-01-02", "2020-01-02T10:00", " 2021-12-31",
                                           "2020-01", "2020-13-01", "", "x"]), st.none()),
                min_size=1, max_size=20))
def test_complete_dates_of_distinct_values_need_no_renumbering(cells: list) -> None:
    from cdisc.validate.core import operations

    _, distinct = codes.factorize(np.asarray(cells, dtype=object))
    values = pd.Series(distinct, dtype=object)
    pd.testing.assert_series_equal(operations._complete_dates_of(values),
                                   operations._complete_dates(values))
