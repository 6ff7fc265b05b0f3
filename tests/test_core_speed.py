"""The fast paths of the CORE interpreter give the answers of plain reference implementations
(pandas or the row-by-row definition), on random and on hand-derived inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc.validate.core import Check, codes, operations, operators
from cdisc.validate.core.engine import _cell, _cells_text, _key_positions, _lookup_join

_CELL = st.one_of(st.sampled_from(["A", "B", "", "C D"]), st.none(), st.just(float("nan")),
                  st.integers(0, 3).map(float))


def _frozen(values: list, dtype: object = object) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    array = array.astype(dtype)
    array.flags.writeable = False
    return array


# --- codes -----------------------------------------------------------------------------------

@settings(max_examples=100, deadline=None)
@given(st.lists(_CELL, max_size=60))
def test_factorize_keeping_missing_is_pandas(cells: list) -> None:
    values = _frozen(cells)
    got_codes, got_uniques = codes._factorize_keeping_missing(values)
    want_codes, want_uniques = pd.factorize(values, use_na_sentinel=False)
    np.testing.assert_array_equal(got_codes, want_codes)
    assert len(got_uniques) == len(want_uniques)
    assert [pd.isna(u) for u in got_uniques] == [pd.isna(u) for u in want_uniques]
    assert [u for u in got_uniques if not pd.isna(u)] == [u for u in want_uniques
                                                          if not pd.isna(u)]


def test_factorize_keeping_missing_places_the_gap_where_it_first_appears() -> None:
    values = _frozen(["a", None, "b", np.nan, "a"])
    got_codes, got_uniques = codes._factorize_keeping_missing(values)
    assert got_codes.tolist() == [0, 1, 2, 1, 0]
    assert got_uniques[0] == "a" and pd.isna(got_uniques[1]) and got_uniques[2] == "b"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["x", "y", "", None]), min_size=1, max_size=40),
       st.integers(1, 30))
def test_factorize_by_identity_is_pandas(pool: list, repeat: int) -> None:
    # shared objects (as readers give text), long enough to take the identity path
    cells = (pool * repeat)[:max(len(pool) * repeat, 1)]
    values = _frozen(cells)
    shared = codes._factorize_shared_objects(values)
    want_codes, _ = pd.factorize(values, use_na_sentinel=False)
    if shared is not None:
        np.testing.assert_array_equal(shared[0], want_codes)


def test_factorize_by_identity_groups_equal_texts_of_different_objects(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codes, "BY_IDENTITY_FROM", 4)
    monkeypatch.setattr(codes, "CACHED_FROM_ROWS", 10**9)
    one, other = "ab", "".join(["a", "b"])  # equal text, two objects
    assert one is not other
    values = _frozen([one, one, other, other, None, one] * 5)
    got, uniques = codes.factorize(values)
    assert got.tolist() == [0, 0, 0, 0, 1, 0] * 5
    assert uniques[0] == "ab" and pd.isna(uniques[1])


def test_object_ids_are_id() -> None:
    cells = np.array(["a", 1, None, ["x"], "a"], dtype=object)
    assert codes.object_ids(cells).tolist() == [id(c) for c in cells]
    assert codes.object_ids(cells[::2]).tolist() == [id(c) for c in cells[::2]]  # a view
    assert len(codes.object_ids(cells[:0])) == 0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 3), st.integers(0, 200)),
                max_size=80), st.integers(0, 2))
def test_combine_with_first_is_factorised_tuples(rows: list, small_span: int) -> None:
    parts = [np.asarray([r[i] for r in rows], dtype=np.int64) for i in range(3)]
    want, _ = pd.factorize(pd.Series([tuple(r) for r in rows], dtype=object))
    old = codes.SMALL_SPAN
    try:
        codes.SMALL_SPAN = (0, 8, 2**16)[small_span]  # direct addressing or hashing
        got, first = codes.combine_with_first(parts, len(rows))
    finally:
        codes.SMALL_SPAN = old
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(first, codes.first_rows(want.astype(np.int64)))


def test_renumber_direct_numbers_by_first_appearance() -> None:
    got, first = codes._renumber_direct(np.array([5, 2, 5, 7, 2, 0]), 8)
    assert got.tolist() == [0, 1, 0, 2, 1, 3]
    assert first.tolist() == [0, 1, 3, 5]


def test_kept_computes_once_per_frozen_column(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codes, "CACHED_FROM_ROWS", 4)
    codes.clear()
    calls: list[int] = []

    def count(values: np.ndarray) -> int:
        calls.append(1)
        return len(values)
    frozen = _frozen(["a", "b"] * 5)
    assert codes.kept(frozen, "n", count) == 10 and codes.kept(frozen, "n", count) == 10
    assert len(calls) == 1
    assert codes.kept(frozen, "other fact", count) == 10 and len(calls) == 2
    writeable = np.array(["a", "b"] * 5, dtype=object)  # may change: never kept
    codes.kept(writeable, "n", count)
    codes.kept(writeable, "n", count)
    assert len(calls) == 4
    assert codes.is_shared(frozen) and not codes.is_shared(writeable)
    assert codes.frozen_identity(writeable) is None
    assert codes.frozen_identity(frozen) == codes.frozen_identity(pd.Series(frozen, copy=False))


# --- operators -------------------------------------------------------------------------------

_DIGITS = st.integers(0, 9999)


@st.composite
def _plain_like_dtc(draw: st.DrawFn) -> str:
    """Texts shaped like YYYY-MM-DDTHH:MM:SS cut at a part, with out-of-range numbers and
    now and then a wrong character."""
    year = draw(st.sampled_from([0, 1, 1970, 2000, 2020, 2024, 2100, 9999]) | _DIGITS)
    month, day = draw(st.integers(0, 13)), draw(st.integers(0, 32))
    hour, minute, second = draw(st.integers(0, 25)), draw(st.integers(0, 61)), \
        draw(st.integers(0, 61))
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    text = text[:draw(st.sampled_from([4, 7, 10, 13, 16, 19]))]
    if draw(st.booleans()) and draw(st.booleans()):
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + draw(st.sampled_from(["-", "T", ":", "x", " ", "1"])) + text[at + 1:]
    return text


def _reference_facts(text: str) -> tuple:
    ok, precision, keys, fields = operators._dtc_info(text)
    usable = ok and precision >= 0
    return (usable, precision if usable else -1, keys if usable else (0,) * 7,
            fields if usable else (0,) * 7)


@settings(max_examples=300, deadline=None)
@given(st.lists(_plain_like_dtc() | st.text(max_size=12), min_size=1, max_size=20))
def test_dtc_facts_are_dtc_info(texts: list[str]) -> None:
    facts = operators._DtcFacts()
    rows = facts.rows_of(np.asarray(list(dict.fromkeys(texts)), dtype=object))
    for text, row in zip(dict.fromkeys(texts), rows, strict=True):
        usable, precision, keys, fields = _reference_facts(text)
        assert bool(facts.usable[row]) == usable, text
        if usable:
            assert int(facts.precision[row]) == precision, text
            assert tuple(facts.keys[row]) == keys, text
            assert tuple(facts.fields[row]) == fields, text


@pytest.mark.parametrize("text, usable, precision", [
    ("2024", True, 0), ("2024-02", True, 1), ("2024-02-29", True, 2), ("2023-02-29", False, -1),
    ("2024-02-29T23", True, 3), ("2024-02-29T24", False, -1), ("2024-02-29T23:59:59", True, 5),
    ("0000", False, -1), ("2024-13", False, -1), ("2024-1-01", False, -1)])
def test_dtc_facts_by_hand(text: str, usable: bool, precision: int) -> None:
    facts = operators._DtcFacts()
    row = facts.rows_of(np.array([text], dtype=object))[0]
    assert bool(facts.usable[row]) == usable
    if usable:
        assert int(facts.precision[row]) == precision
        assert facts.fields[row].tolist()[:3] == [int(p) for p in
                                                 (text[:4], text[5:7] or 1, text[8:10] or 1)]


def test_dtc_facts_grow_and_start_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    facts = operators._DtcFacts()
    texts = np.array([f"2020-01-{d:02d}T{h:02d}" for d in range(1, 29) for h in range(24)] * 3,
                     dtype=object)
    distinct = np.asarray(list(dict.fromkeys(texts)), dtype=object)
    rows = facts.rows_of(distinct)
    assert len(set(rows.tolist())) == len(distinct) and facts.usable[rows].all()
    assert (facts.rows_of(distinct) == rows).all()  # the same rows the second time
    monkeypatch.setattr(operators._DtcFacts, "LIMIT", 10)
    facts.bound()
    assert facts.size == 1 and not facts.row


@settings(max_examples=300, deadline=None)
@given(st.lists(_plain_like_dtc() | st.text(max_size=12) | st.none() | st.just(3.0),
                max_size=20))
def test_complete_flags_are_fromisoformat(values: list) -> None:
    cells = np.empty(len(values), dtype=object)
    cells[:] = values
    expected = [operators._complete_date(v) for v in values]
    assert operators._complete_flags(cells).tolist() == expected


def test_complete_flags_by_hand() -> None:
    cells = np.array(["2024-02-29", "2023-02-29", "2024-02", "2024-02-29T10", "", None,
                      "2024-02-29T10:00Z"], dtype=object)
    assert operators._complete_flags(cells).tolist() == [True, False, False, True, False,
                                                         False, True]


def _blank_reference(values: np.ndarray) -> np.ndarray:
    return np.array([v is None or (isinstance(v, float) and v != v) or v == "" or
                     (isinstance(v, (str, dict, list, tuple, set, frozenset)) and len(v) == 0)
                     for v in values], dtype=bool)


@settings(max_examples=100, deadline=None)
@given(st.lists(_CELL | st.sampled_from([(), ("a",), "x"]).map(
    lambda v: list(v) if isinstance(v, tuple) else v), max_size=30))
def test_blank_cells_is_the_row_by_row_definition(cells: list) -> None:
    values = np.empty(len(cells), dtype=object)
    values[:] = cells
    np.testing.assert_array_equal(operators._blank_cells(values), _blank_reference(values))


def test_blank_of_a_shared_column_judges_its_distinct_values(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codes, "CACHED_FROM_ROWS", 4)
    codes.clear()
    values = _frozen(["a", "", None, "b", float("nan")] * 4)
    assert operators._blank(values).tolist() == [False, True, True, False, True] * 4


def test_first_present_skips_missing_cells() -> None:
    assert operators._first_present(np.array([None, np.nan, "x"], dtype=object)) == "x"
    assert operators._first_present(np.array([None] * 100 + [["a"]], dtype=object)) == ["a"]
    assert operators._first_present(np.array([None, np.nan], dtype=object)) is None


def _in_cells_reference(values: list, cells: list, fold: bool) -> list[bool]:
    out = []
    for value, cell in zip(values, cells, strict=True):
        items = operators._as_list(cell)
        if fold:
            value, items = operators._fold(value), [operators._fold(x) for x in items]
        blank = value is None or value == "" or (isinstance(value, float) and value != value)
        out.append(not blank and operators._member(value, items))
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "A", "b", "", None, 1.0, 1]),
                          st.integers(0, 3)), max_size=30),
       st.lists(st.lists(st.sampled_from(["a", "B", "b", "", 1, 2.0]), max_size=4),
                min_size=4, max_size=4), st.booleans())
def test_in_cells_is_row_by_row_membership(rows: list, lists: list, fold: bool) -> None:
    values = np.empty(len(rows), dtype=object)
    values[:] = [v for v, _ in rows]
    cells = np.empty(len(rows), dtype=object)
    cells[:] = [lists[i] for _, i in rows]  # rows share a list object, as operations give
    got = operators._in_cells(values, cells, fold).tolist()
    assert got == _in_cells_reference(list(values), list(cells), fold)


def test_in_cells_by_hand() -> None:
    shared = ["X", "y"]
    values = np.array(["X", "Y", "", "z"], dtype=object)
    cells = np.array([shared, shared, [""], ["z"]], dtype=object)
    assert operators._in_cells(values, cells).tolist() == [True, False, False, True]
    assert operators._in_cells(values, cells, fold=True).tolist() == [True, True, False, True]


def _many_to_one_reference(key: np.ndarray, value: np.ndarray) -> np.ndarray:
    table = pd.DataFrame({"k": key, "v": np.where(value >= 0, value, np.nan)})
    out = np.zeros(len(key), dtype=bool)
    keyed = key >= 0
    if not keyed.any():
        return out
    table = table[keyed]
    by_key = table.groupby("k")["v"]
    distinct = by_key.transform("nunique").to_numpy()
    has_empty = table["v"].isna().groupby(table["k"]).transform("any").to_numpy()
    out[keyed] = (distinct > 1) | ((distinct >= 1) & has_empty)
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(-1, 4), st.integers(-1, 4)), max_size=40))
def test_many_to_one_is_groupby(pairs: list) -> None:
    key = np.asarray([p[0] for p in pairs], dtype=np.int64)
    value = np.asarray([p[1] for p in pairs], dtype=np.int64)
    np.testing.assert_array_equal(operators._many_to_one(key, value),
                                  _many_to_one_reference(key, value))


def test_not_unique_relationship_by_hand() -> None:
    frame = pd.DataFrame({"T": ["a", "a", "b", "c", "c", ""], "C": ["1", "2", "3", "4", "4",
                                                                  "4"]}, dtype=object)
    got = operators._not_unique_relationship(frame, Check("T", "C"))
    # a has two values; 4 belongs to c and to an empty target
    assert got.tolist() == [True, True, False, True, True, True]


def _inconsistent_reference(groups: np.ndarray, codes_: np.ndarray) -> np.ndarray:
    table = pd.DataFrame({"g": groups, "v": codes_, "one": 1})
    count = table.groupby(["g", "v"])["one"].transform("size").to_numpy()
    top = pd.Series(count).groupby(groups).transform("max").to_numpy()
    distinct = table.groupby("g")["v"].transform("nunique").to_numpy()
    pairs = table.assign(c=count).drop_duplicates(["g", "v"])
    pairs["top"] = pairs["c"] == pairs.groupby("g")["c"].transform("max")
    tied = pairs.groupby("g")["top"].sum()
    shared_top = pd.Series(groups).map(tied).to_numpy() > 1
    return (distinct > 1) & (shared_top | (count < top))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["g1", "g2", "", "g3"]),
                          st.sampled_from(["a", "b", "", "c"])), max_size=40))
def test_inconsistent_across_dataset_is_the_groupby_definition(rows: list) -> None:
    frame = pd.DataFrame({"G": [r[0] for r in rows], "V": [r[1] for r in rows]}, dtype=object)
    got = operators.is_inconsistent_across_dataset(frame, Check("V", "G")).tolist()
    groups = operators._key_codes(frame, ["G"])
    values = operators._values_codes(operators._objects(frame["V"]))
    assert got == (_inconsistent_reference(groups, values).tolist() if rows else [])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", ""]), st.sampled_from([1.0, 2.0,
                                                                            float("nan")])),
                max_size=30))
def test_not_unique_is_duplicated(rows: list) -> None:
    frame = pd.DataFrame({"A": pd.Series([r[0] for r in rows], dtype=object),
                          "N": pd.Series([r[1] for r in rows], dtype=float)})
    got = operators._not_unique(frame, Check("A", ["N"]))
    want = pd.Series(operators._key_codes(frame, ["A", "N"])).duplicated(keep=False)
    assert got.tolist() == want.tolist()


# --- engine ----------------------------------------------------------------------------------

_KEY = st.sampled_from(["S1", "S2", "S3", "S4"])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_KEY, st.sampled_from(["V1", "V2", "V3"])), max_size=25),
       st.lists(st.tuples(_KEY, st.sampled_from(["V1", "V2"]), st.integers(0, 9)),
                max_size=10))
def test_lookup_join_on_two_keys_is_the_inner_merge(left: list, right: list) -> None:
    frame = pd.DataFrame({"USUBJID": [r[0] for r in left], "VISIT": [r[1] for r in left],
                          "X": range(len(left))})
    frame[["USUBJID", "VISIT"]] = frame[["USUBJID", "VISIT"]].astype(object)
    other = pd.DataFrame({"USUBJID": pd.Series([r[0] for r in right], dtype=object),
                          "VISIT": pd.Series([r[1] for r in right], dtype=object),
                          "X": pd.Series([float(r[2]) for r in right], dtype=float),
                          "Y": pd.Series([str(r[2]) for r in right], dtype=object)})
    keys = ["USUBJID", "VISIT"]
    got = _lookup_join(frame, other, keys, keys, "SV")
    if got is None:  # only when the other's keys repeat (the merge then decides)
        assert other.duplicated(keys).any()
        return
    want = frame.merge(other, how="inner", on=keys, suffixes=("", ".SV"))
    pd.testing.assert_frame_equal(got, want)


def test_key_positions_by_hand() -> None:
    frame = pd.DataFrame({"A": ["x", "y", "x", "z"], "B": ["1", "1", "2", "1"]}, dtype=object)
    right = pd.DataFrame({"A": ["x", "x", "z"], "B": ["2", "1", "1"]}, dtype=object)
    assert _key_positions(frame, right, ["A", "B"], ["A", "B"]).tolist() == [1, -1, 0, 2]
    with_gap = right.assign(B=["2", None, "1"])
    assert _key_positions(frame, with_gap, ["A", "B"], ["A", "B"]) is None  # the merge decides


def _cells_text_reference(frame: pd.DataFrame, names: list[str], rows: np.ndarray) -> list[str]:
    part = frame.iloc[rows][names]
    text = [part[c].map(_cell) for c in names]
    return [", ".join(f"{c}={t.iloc[i]}" for c, t in zip(names, text, strict=True))
            for i in range(len(rows))]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["x", "", None]), st.sampled_from([1.0, 2.5,
                                                                            float("nan")])),
                min_size=1, max_size=10), st.lists(st.integers(0, 9), max_size=8))
def test_cells_text_is_the_row_by_row_text(cells: list, rows: list) -> None:
    frame = pd.DataFrame({"A": pd.Series([c[0] for c in cells], dtype=object),
                          "N": [c[1] for c in cells], "B": "p"})
    at = np.asarray([r % len(cells) for r in rows], dtype=int)
    assert _cells_text(frame, ["N", "A"], at) == _cells_text_reference(frame, ["N", "A"], at)


def test_cells_text_by_hand() -> None:
    frame = pd.DataFrame({"A": ["x", "y"], "N": [1.0, np.nan]})
    assert _cells_text(frame, ["A", "N"], np.array([1, 0])) == ["A=y, N=", "A=x, N=1"]


# --- operations ------------------------------------------------------------------------------

def _distinct_per_group_reference(data: pd.DataFrame, key: str, values: pd.Series) -> dict:
    groups: dict = {}
    for k, v in zip(data[key], values, strict=True):
        items = groups.setdefault(k, [])
        if not pd.isna(v) and v not in items:
            items.append(v)
    return groups


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_KEY, st.sampled_from(["V1", "V2", "", None])), min_size=1,
                max_size=30))
def test_distinct_per_key_is_the_grouped_lists(rows: list) -> None:
    data = pd.DataFrame({"USUBJID": pd.Series([r[0] for r in rows], dtype=object),
                         "VISIT": pd.Series([r[1] for r in rows], dtype=object)})
    if data["VISIT"].isna().all():
        return  # the general path decides (see _distinct_per_group)
    got = operations._distinct_per_key(data, "USUBJID", data["VISIT"])
    want = _distinct_per_group_reference(data, "USUBJID", data["VISIT"])
    assert got["USUBJID"].tolist() == list(want)
    assert got["__values"].tolist() == list(want.values())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["S1", "S2", "", None, "1"]), max_size=20),
       st.lists(st.sampled_from(["S1", "S3", "1", ""]), max_size=4, unique=True))
def test_looked_up_is_the_harmonised_left_merge(left: list, right: list) -> None:
    lhs = pd.Series(left, dtype=object)
    rhs = pd.Series(right, dtype=object)
    position = operations._looked_up(lhs, rhs)
    a, b = operations._harmonise(pd.DataFrame({"k": lhs}), pd.DataFrame({"k": rhs}), ["k"])
    b["at"] = range(len(b))
    merged = a.merge(b, on="k", how="left", sort=False)
    assert position is not None
    assert position.tolist() == merged["at"].fillna(-1).astype(int).tolist()


def _dy_reference(frame: pd.DataFrame, dm: pd.DataFrame, target: str) -> list:
    reference = dm.drop_duplicates("USUBJID").set_index("USUBJID")["RFSTDTC"]
    start = operations._complete_dates(frame["USUBJID"].map(reference))
    days = (operations._complete_dates(frame[target]) - start).dt.days
    return days.where(days < 0, days + 1).astype("float64").tolist()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["S1", "S2", "S3"]),
                          st.sampled_from(["2024-01-10", "2024-01-09", "2024-03-01T10:00",
                                           "2024-01", "", None])), max_size=20))
def test_dy_is_the_study_day_of_each_record(rows: list) -> None:
    from cdisc.validate.core.library import load_library

    dm = pd.DataFrame({"USUBJID": ["S1", "S2"], "RFSTDTC": ["2024-01-10", "2024-01"]},
                      dtype=object)
    frame = pd.DataFrame({"USUBJID": pd.Series([r[0] for r in rows], dtype=object),
                          "AESTDTC": pd.Series([r[1] for r in rows], dtype=object)},
                         index=pd.RangeIndex(5, 5 + len(rows)))
    ctx = operations.OperationContext(frame=frame, dataset_name="AE", domain="AE",
                                      datasets={"DM": dm, "AE": frame}, library=load_library())
    got = operations.op_dy(ctx, {"operator": "dy", "id": "$dy", "name": "AESTDTC"})
    assert list(got.index) == list(frame.index)
    want = _dy_reference(frame, dm, "AESTDTC")
    assert [None if v != v else v for v in got.tolist()] == [None if v != v else v
                                                             for v in want]


# --- variable metadata -----------------------------------------------------------------------

_TEXTISH = st.one_of(st.text(alphabet=st.sampled_from(["a", "é", " ", "\t", "\xa0", "\u3000",
                                                       "\u200b", "\x1c", "€", "𝄞"]),
                             max_size=5),
                     st.none(), st.just(float("nan")))


@settings(max_examples=150, deadline=None)
@given(st.lists(_TEXTISH, max_size=20), st.lists(st.integers(0, 3) | st.floats(0, 9),
                                                 max_size=2))
def test_text_lengths_and_blanks_are_the_row_by_row_text(texts: list, others: list) -> None:
    from cdisc.validate.core.engine import blank_texts, text_lengths

    for cells in (texts, texts + others):  # plain text, then mixed values
        values = np.empty(len(cells), dtype=object)
        values[:] = cells
        missing = [v is None or v != v for v in cells]
        assert text_lengths(values).tolist() == [
            0 if m else len(str(v)) for v, m in zip(cells, missing, strict=True)]
        assert text_lengths(values, encoded=True).tolist() == [
            0 if m else len(str(v).encode("utf-8")) for v, m in zip(cells, missing,
                                                                    strict=True)]
        assert blank_texts(values).tolist() == [
            m or str(v).strip() == "" for v, m in zip(cells, missing, strict=True)]


def test_text_lengths_and_blanks_by_hand() -> None:
    from cdisc.validate.core.engine import blank_texts, text_lengths

    values = np.array(["ab", "é", None, " \xa0", "", float("nan")], dtype=object)
    assert text_lengths(values).tolist() == [2, 1, 0, 2, 0, 0]
    assert text_lengths(values, encoded=True).tolist() == [2, 2, 0, 3, 0, 0]
    assert blank_texts(values).tolist() == [False, False, True, True, True, True]
    assert text_lengths(np.array([3.0, "x"], dtype=object)).tolist() == [3, 1]


def _per_text_reference(values: list, test) -> list[bool]:  # type: ignore[no-untyped-def]
    out = []
    for value in values:
        text = value if isinstance(value, str) else operators._text_of(value)
        out.append(isinstance(text, str) and bool(test(text)))
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["A1", "a", " x", "", "3", None, float("nan")]), max_size=25),
       st.lists(st.sampled_from([3.0, 2.5, 7, True, ["A1"]]), max_size=2))
def test_per_text_is_the_test_of_each_value_as_text(texts: list, others: list) -> None:
    import re

    rx = re.compile(r"^[A-Z]?\d")
    def test(text: str) -> bool:
        return rx.match(text) is not None
    for cells in (texts, texts + others):  # text only, then mixed (or unhashable) values
        values = np.empty(len(cells), dtype=object)
        values[:] = cells
        assert operators._per_text(values, test).tolist() == _per_text_reference(cells, test)


def test_dtc_rows_of_missing_and_other_values_are_row_zero() -> None:
    facts = operators._DtcFacts()
    rows = facts.rows_of(np.array(["2024-01-01", None, float("nan"), "x"], dtype=object))
    assert rows[0] > 0 and rows[1] == 0 and rows[2] == 0 and rows[3] > 0
    assert not facts.usable[rows[3]]
    mixed = facts.rows_of(np.array(["2024-01-01", 3], dtype=object))
    assert mixed.tolist() == [rows[0], 0]
