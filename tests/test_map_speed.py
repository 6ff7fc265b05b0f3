"""The SDTM mapping's fast paths equal the plain computations they replace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc.distinct import SHARED_MIN_ROWS, factorize, factorize_objects
from cdisc.errors import SpecError
from cdisc.sdtm.derive import derive_epoch, sorted_positions, sort_codes
from cdisc.text import not_equal_text

CELLS = st.sampled_from(["", "a", "B", "é", "10", None, np.nan, 1.5])
TEXT = st.sampled_from(["", "a", "B", "é", "10"])


def _spread(objects: list, picks: list[int], repeat: int) -> np.ndarray:
    """A column sharing the given objects, long enough for the shared-object path."""
    pool = np.array(objects, dtype=object)
    return pool[np.resize(np.array(picks), max(len(picks), 1) * repeat)]


@settings(max_examples=40, deadline=None)
@given(st.lists(CELLS, min_size=1, max_size=6), st.lists(st.integers(0, 5), min_size=1,
                                                           max_size=40))
def test_factorize_objects_equals_pandas(objects: list, picks: list[int]) -> None:
    picks = [p % len(objects) for p in picks]
    cells = _spread(objects, picks, SHARED_MIN_ROWS // len(picks) + 1)
    codes, uniques = factorize_objects(cells)
    want_codes, want_uniques = pd.factorize(cells, use_na_sentinel=False)
    assert codes.tolist() == want_codes.tolist()
    assert pd.Series(uniques, dtype=object).equals(pd.Series(want_uniques, dtype=object))


def test_factorize_objects_unshared_and_short() -> None:
    cells = np.array([f"v{i % 7}" for i in range(SHARED_MIN_ROWS * 2)], dtype=object)
    for some in (cells, cells[:10]):
        codes, uniques = factorize_objects(some)
        want_codes, want_uniques = pd.factorize(some, use_na_sentinel=False)
        assert codes.tolist() == want_codes.tolist() and list(uniques) == list(want_uniques)


def test_factorize_of_a_shared_column() -> None:
    values = pd.Series(np.array(["b", "a", "b"], dtype=object)[np.arange(9000) % 3])
    codes, distinct = factorize(values)
    assert codes[:4].tolist() == [0, 1, 0, 0] and distinct.tolist() == ["b", "a"]


@settings(max_examples=40, deadline=None)
@given(st.lists(CELLS, min_size=1, max_size=5), st.lists(st.integers(0, 4), min_size=1,
                                                           max_size=30), TEXT)
def test_not_equal_text_equals_comparison(objects: list, picks: list[int], text: str) -> None:
    picks = [p % len(objects) for p in picks]
    for repeat in (1, SHARED_MIN_ROWS // len(picks) + 1):
        values = pd.Series(_spread(objects, picks, repeat), index=np.arange(len(picks) * repeat) * 2)
        got = not_equal_text(values, text)
        assert got.equals(values != text)


def test_not_equal_text_by_hand() -> None:
    values = pd.Series(np.array(["", "not a date"], dtype=object)[np.arange(5000) % 2 * 0])
    values.iloc[7] = "not a date"
    bad = not_equal_text(values, "")
    assert bad.dtype == bool and np.flatnonzero(bad).tolist() == [7]


KEYS = {"a": st.sampled_from(["x", "y", "", "Z", "é", "x "]),
        "b": st.sampled_from([0.0, -0.0, np.nan, 1.5, -2.0, 10.0]),
        "c": st.sampled_from(["p", "q"])}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(KEYS["a"], KEYS["b"], KEYS["c"]), min_size=1, max_size=50),
       st.permutations(["a", "b", "c"]), st.integers(1, 3))
def test_sorted_positions_equal_sort_values(rows: list, names: list[str], count: int) -> None:
    df = pd.DataFrame({"a": pd.Series([r[0] for r in rows], dtype=object),
                       "b": pd.Series([r[1] for r in rows], dtype="float64"),
                       "c": pd.Series([r[2] for r in rows], dtype=object)},
                      index=np.arange(len(rows))[::-1])
    by = names[:count]
    positions, tied = sorted_positions(df, by)
    want = df.reset_index(drop=True).sort_values(by, kind="stable").index.to_numpy()
    assert positions.tolist() == want.tolist()
    assert tied.tolist() == df.duplicated(by, keep=False).tolist()


def test_sort_codes_by_hand() -> None:
    assert sort_codes(pd.Series(["b", "a", "b", "c"], dtype=object)).tolist() == [1, 0, 1, 2]
    assert sort_codes(pd.Series([2.0, np.nan, -0.0, 0.0])).tolist() == [1, 2, 0, 0]
    assert sort_codes(pd.Series([1, 2])) is None  # int64: sorted by pandas
    assert sorted_positions(pd.DataFrame({"a": pd.Series(["x", None], dtype=object)}),
                            ["a"]) is None


def _dm() -> pd.DataFrame:
    return pd.DataFrame({"USUBJID": ["S-1", "S-2"], "RFXSTDTC": ["2021-03-01", ""],
                         "RFSTDTC": ["2021-03-01", "2021-04-01"],
                         "DTHDTC": ["2021-05-01", ""]}, dtype=object)


RULES = [{"epoch": "SCREENING", "before": "RFXSTDTC"},
         {"epoch": "TREATMENT", "from": "RFXSTDTC",
          "through": {"reference": "RFSTDTC", "days": 28}}]


def test_derive_epoch_by_hand() -> None:
    dtc = pd.Series(["2021-02-01", "2021-03-15", "2021-06-01", "2021-02", "", "2021-05-01"],
                    dtype=object)
    usubjid = pd.Series(["S-1", "S-1", "S-1", "S-1", "S-1", "S-2"], dtype=object)
    got = derive_epoch(dtc, usubjid, _dm(), RULES)
    assert got.tolist() == ["SCREENING", "TREATMENT", "", "SCREENING", "", "SCREENING"]


def test_derive_epoch_unknown_bound_is_an_error() -> None:
    dtc = pd.Series(["2021-02-01"], dtype=object)
    usubjid = pd.Series(["S-1"], dtype=object)
    with pytest.raises(SpecError):
        derive_epoch(dtc, usubjid, _dm(), [{"epoch": "X", "before": "RFENDTC"}])
    with pytest.raises(SpecError):
        derive_epoch(dtc, usubjid, _dm(), [{"epoch": "X", "after": ["RFSTDTC"]}])
