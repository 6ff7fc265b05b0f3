"""Shared column codes and the lookup join: the same answers as pandas, cached or not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc.validate.core import codes
from cdisc.validate.core.engine import _lookup_join

_CELL = st.one_of(st.sampled_from(["A", "B", "", "C D"]), st.none(), st.just(float("nan")),
                  st.integers(0, 3).map(float))


@settings(max_examples=80, deadline=None)
@given(st.lists(_CELL, max_size=60))
def test_factorize_is_pandas_factorize(cells: list) -> None:
    values = pd.Series(cells, dtype=object)
    got_codes, got_uniques = codes.factorize(values)
    want_codes, want_uniques = pd.factorize(values, use_na_sentinel=False)
    np.testing.assert_array_equal(got_codes, want_codes)
    assert len(got_uniques) == len(want_uniques)


def test_large_column_is_factorised_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codes, "CACHED_FROM_ROWS", 10)
    codes.clear()
    frame = pd.DataFrame({"U": ["x", "y"] * 20, "V": ["y", "x"] * 20}, dtype=object)
    assert codes.factorize(frame["U"])[0] is not codes.factorize(frame["U"])[0]  # writeable
    codes.freeze(frame)
    first = codes.factorize(frame["U"])
    assert codes.factorize(frame["U"])[0] is first[0]  # same column: the kept codes
    shallow = frame.copy(deep=False)
    assert codes.factorize(shallow["U"])[0] is first[0]  # a shallow copy shares the array
    other = codes.factorize(frame["V"])  # same length and dtype, other values
    assert other[0] is not first[0] and other[1].tolist() == ["y", "x"]
    changed = frame.assign(U=frame["U"].str.lower())  # a new array: factorised anew
    assert codes.factorize(changed["U"])[0] is not first[0]


def test_freed_array_is_not_mistaken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codes, "CACHED_FROM_ROWS", 10)
    codes.clear()
    for value in ("a", "b", "c"):  # arrays freed and allocated again, maybe at one address
        column = np.array([value] * 30, dtype=object)
        column.flags.writeable = False
        assert codes.factorize(column)[1].tolist() == [value]
        del column


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=80))
def test_first_rows_are_first_appearances(values: list) -> None:
    numbered, _ = pd.factorize(np.asarray(values, dtype=np.int64))
    expected = np.unique(numbered, return_index=True)[1] if values else np.zeros(0, int)
    np.testing.assert_array_equal(codes.first_rows(numbered), expected)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(0, 4)),
                min_size=1, max_size=60))
def test_combine_numbers_distinct_tuples(rows: list) -> None:
    parts = [np.asarray(col, dtype=np.int64) for col in zip(*rows, strict=True)]
    want, _ = pd.factorize(pd.Series([str(r) for r in rows]))
    np.testing.assert_array_equal(codes.combine(parts, len(rows)), want)


def test_object_ids_group_one_broadcast_object() -> None:
    shared, other = ["A"], ["A"]
    cells = np.empty(4, dtype=object)
    cells.fill(shared)
    cells[2] = other
    ids = codes.object_ids(cells)
    assert ids.tolist() == [id(shared), id(shared), id(other), id(shared)]


_KEYS = st.sampled_from(["S1", "S2", "S3", "", "S4"])


@settings(max_examples=80, deadline=None)
@given(left=st.lists(st.tuples(_KEYS, st.integers(0, 9)), max_size=30),
       right=st.lists(st.tuples(_KEYS, st.sampled_from(["F", "M", ""])), max_size=5,
                      unique_by=lambda r: r[0]))
def test_lookup_join_is_the_pandas_inner_merge(left: list, right: list) -> None:
    frame = pd.DataFrame(left, columns=["USUBJID", "AESEQ"]).astype({"USUBJID": object})
    frame["STUDYID"] = "X"
    dm = pd.DataFrame(right, columns=["USUBJID", "DM.SEX"]).astype(object)
    dm["STUDYID"] = "X"
    got = _lookup_join(frame, dm, ["USUBJID"], ["USUBJID"], "DM")
    want = frame.merge(dm, how="inner", on="USUBJID", suffixes=("", ".DM"))
    assert got is not None
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_lookup_join_declines_repeated_keys() -> None:
    frame = pd.DataFrame({"USUBJID": ["S1"]})
    other = pd.DataFrame({"USUBJID": ["S1", "S1"], "X": [1, 2]})
    assert _lookup_join(frame, other, ["USUBJID"], ["USUBJID"], "AE") is None


def test_on_distinct_keeps_dtype_index_and_rows() -> None:
    values = pd.Series(["2024-01-02", "", "2024-01-02", "2023-12"], index=[5, 6, 7, 8],
                       dtype=object, name="LBDTC")
    got = codes.on_distinct(lambda s: pd.to_datetime(s.where(s.str.len() == 10), utc=True),
                            values)
    assert str(got.dtype) == "datetime64[us, UTC]" or str(got.dtype).endswith(", UTC]")
    assert list(got.index) == [5, 6, 7, 8] and got.name == "LBDTC"
    assert got.iloc[0] == got.iloc[2] == pd.Timestamp("2024-01-02", tz="UTC")
    assert got.iloc[1:4:2].isna().all()
    frame = codes.on_distinct(lambda s: s.str.extract(r"^(\d{4})-(\d{2})"), values)
    assert frame.index.tolist() == [5, 6, 7, 8]
    assert frame[0].tolist()[::2] == ["2024", "2024"] and frame[1].iloc[3] == "12"
