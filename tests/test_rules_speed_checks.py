"""Our Python checks' fast paths (per distinct value, integer codes) give the answers of the
plain pandas they replace, on random and on hand-derived inputs."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc.validate import checks

RULE = SimpleNamespace(core_id="X1", severity="Error", message="m", reference="")
_IND = st.sampled_from(["LOW", "HIGH", "NORMAL", "", "ABNORMAL"])
_NUM = st.one_of(st.just(float("nan")), st.sampled_from([0.0, 1.0, 1.5, 2.0, 5.0, -1.0]))
_NRC = st.sampled_from(["", "1.8-7.7", " 0 - 2 ", "x", "1-", "-1.0--0.5"])
_RESC = st.sampled_from(["", "<1", "<=1.5", ">2", ">= 5", "<", "abc", "3"])


class _Pkg:
    def __init__(self, **frames: pd.DataFrame):
        self.tables = {n: SimpleNamespace(data=f) for n, f in frames.items()}

    def get(self, name: str) -> pd.DataFrame | None:
        table = self.tables.get(name)
        return None if table is None else table.data


def _frozen_frame(data: dict) -> pd.DataFrame:
    frame = pd.DataFrame(data)
    for column in frame.columns:
        frame[column].to_numpy().flags.writeable = False
    return frame


def _lb_nrind_reference(lb: pd.DataFrame) -> np.ndarray:
    """The row-by-row pandas of lb_nrind before it worked on distinct values."""
    value = pd.to_numeric(lb["LBSTRESN"], errors="coerce")
    low = pd.to_numeric(lb["LBSTNRLO"], errors="coerce")
    high = pd.to_numeric(lb["LBSTNRHI"], errors="coerce")
    text_range = checks._extract(lb["LBSTNRC"], r"^\s*(-?[0-9.]+)\s*-\s*(-?[0-9.]+)\s*$")
    low = low.fillna(pd.to_numeric(text_range[0], errors="coerce"))
    high = high.fillna(pd.to_numeric(text_range[1], errors="coerce"))
    censored = checks._extract(lb["LBSTRESC"], r"^\s*(<=?|>=?)\s*([0-9]*\.?[0-9]+)\s*$")
    op, limit = censored[0].fillna(""), pd.to_numeric(censored[1], errors="coerce")
    below = value.isna() & (((op == "<") & (limit <= low)) | ((op == "<=") & (limit < low)))
    above = value.isna() & (((op == ">") & (limit >= high)) | ((op == ">=") & (limit > high)))
    bad = ((lb["LBNRIND"] == "LOW") & ~((value < low) | below)) | \
        ((lb["LBNRIND"] == "HIGH") & ~((value > high) | above)) | \
        ((lb["LBNRIND"] == "NORMAL") & ((value < low) | (value > high) | value.isna()))
    return bad.to_numpy(dtype=bool)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_IND, _NUM, _NUM, _NUM, _NRC, _RESC), min_size=1, max_size=40))
def test_lb_nrind_is_the_row_by_row_check(rows: list) -> None:
    columns = ["LBNRIND", "LBSTRESN", "LBSTNRLO", "LBSTNRHI", "LBSTNRC", "LBSTRESC"]
    lb = _frozen_frame({c: [r[i] for r in rows] for i, c in enumerate(columns)})
    want = checks._finding(RULE, "LB", "LBNRIND", _lb_nrind_reference(lb), lb["LBNRIND"],
                           "LBNRIND inconsistent with LBSTRESN (or a censored LBSTRESC) and "
                           "the standard range")
    assert checks.lb_nrind(RULE, _Pkg(LB=lb)) == want


def test_lb_nrind_hand_cases() -> None:
    lb = pd.DataFrame({"LBNRIND": ["LOW", "LOW", "HIGH", "NORMAL", "LOW", "NORMAL"],
                       "LBSTRESN": [1.0, 5.0, np.nan, np.nan, np.nan, 3.0],
                       "LBSTNRLO": [2.0, 2.0, np.nan, 1.0, np.nan, np.nan],
                       "LBSTNRHI": [4.0, 4.0, np.nan, 4.0, np.nan, np.nan],
                       "LBSTNRC": ["", "", "1-4", "", "2-4", "1-4"],
                       "LBSTRESC": ["1", "5", ">5", "", "<2", "3"]})
    # row 2: 5 is not below 2; row 4: no value yet NORMAL; row 5: '<2' with low 2 is LOW
    (found,) = checks.lb_nrind(RULE, _Pkg(LB=lb))
    assert found.rows == (2, 4)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["A", "B", "", "1"]), st.none(),
                          st.just(float("nan")), st.just(1.0)), min_size=1, max_size=40))
def test_distinct_text_is_astype_str(cells: list) -> None:
    values = pd.Series(cells, dtype=object)
    values.to_numpy().flags.writeable = False
    codes, text = checks._distinct_text(values)
    got = text.iloc[codes].reset_index(drop=True)
    pd.testing.assert_series_equal(got, values.astype(str))


def test_distinct_text_of_numbers() -> None:
    values = pd.Series([1.0, np.nan, 2.5, 1.0])
    codes, text = checks._distinct_text(values)
    assert [str(t) for t in text.iloc[codes]] == ["1.0", "nan", "2.5", "1.0"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["A", "B", "", "Z"]), st.none(),
                          st.just(float("nan"))), min_size=1, max_size=30))
def test_define_codelist_values_is_the_row_by_row_check(cells: list) -> None:
    frame = _frozen_frame({"C": pd.Series(cells, dtype=object)})
    pkg = _Pkg(XX=frame)
    pkg.define = "define.xml"
    allowed = {"A", "B"}
    text = frame["C"].astype(str)
    outside = set(pd.unique(text)) - allowed - {""}
    want = checks._finding(RULE, "XX", "C", text.isin(outside), text,
                           "C: value not in its define.xml CodeList") if outside else []
    real = checks._define_metadata
    checks._define_metadata = lambda _: ({}, {("XX", "C"): allowed})
    try:
        assert checks.define_codelist_values(RULE, pkg) == want
    finally:
        checks._define_metadata = real


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["S1", "S2", "S3"]), st.integers(1, 4)), max_size=20),
       st.lists(st.tuples(st.one_of(st.sampled_from(["S1", "S2"]), st.none()),
                          st.one_of(st.integers(0, 4).map(float), st.just(float("nan")),
                                    st.just(-0.0))), max_size=20))
def test_pairs_known_is_a_set_of_tuples(query: list, known: list) -> None:
    subjects = pd.Series([q[0] for q in query], dtype=object)
    seqs = pd.Series([q[1] for q in query], dtype=float)
    known_subjects = pd.Series([k[0] for k in known], dtype=object)
    known_seqs = pd.Series([k[1] for k in known], dtype=float)
    pairs = set(zip(known_subjects, known_seqs, strict=True))
    want = [p in pairs for p in zip(subjects, seqs, strict=True)]
    got = checks._pairs_known(subjects, seqs, known_subjects, known_seqs)
    assert list(got) == want


def test_pairs_known_hand_cases() -> None:
    got = checks._pairs_known(pd.Series(["A", "A", "B"]), pd.Series([1.0, 2.0, 0.0]),
                              pd.Series(["A", "B", "B"]), pd.Series([1.0, np.nan, -0.0]))
    assert list(got) == [True, False, True]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["a", "é", "x" * 201, "é" * 101, "é" * 100 + "a" * 99,
                                           ""]),
                          st.text(st.characters(exclude_categories=("Cs",)), max_size=5)),
                min_size=1, max_size=20))
def test_text_limits_are_the_plain_sets(cells: list) -> None:
    values = pd.Series(cells, dtype=object)
    long = {v for v in cells if len(v) > 200 or len(v.encode("utf-8")) > 200}
    foreign = {v for v in cells if not v.isascii()}
    want = []
    if long:
        want += checks._finding(RULE, "XX", "C", values.isin(long), values,
                                "C: value longer than 200 bytes")
    if foreign:
        want += checks._finding(RULE, "XX", "C", values.isin(foreign), values,
                                "C: non-ASCII text")
    assert checks._text_limits(RULE, "XX", "C", values) == want
