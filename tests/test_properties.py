"""Property tests (hypothesis): distinct-value evaluation, --SEQ, --DY and unit conversions."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc import dates
from cdisc.distinct import on_distinct, on_distinct_rows
from cdisc.sdtm import derive
from cdisc.sdtm.algorithms import Context
from cdisc.sdtm.findings import apply_reference_range, apply_standard_text, apply_standard_value
from cdisc.specs import load_unit_conversions

RAW_DATES = st.sampled_from(["2021-06-15", "15-JUN-2021", "UN-JUN-2021", "2021-06", "2021",
                             "31-FEB-2021", "yesterday", "", "2021-06-15T14:30", "1899-01-01",
                             " 15jun2021 ", "2021/06/15", "UNK-UNK-2021"])
SETTINGS = settings(max_examples=60, deadline=None)


@SETTINGS
@given(st.lists(RAW_DATES, min_size=0, max_size=300))
def test_distinct_evaluation_equals_row_by_row(values: list[str]) -> None:
    """Parsing distinct values and spreading them back gives exactly the row-wise answer."""
    series = pd.Series(values, dtype=object, index=pd.RangeIndex(5, 5 + len(values)))
    spread = dates.parse_raw_dates(series)
    direct = dates._parse_text_dates(series, (1900, 2100))
    assert spread.iso.tolist() == direct.iso.tolist()
    assert spread.error.tolist() == direct.error.tolist()
    assert spread.iso.index.equals(series.index)
    upper = on_distinct(lambda s: s.str.upper(), series)
    assert upper.tolist() == series.str.upper().tolist()


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["S-1", "S-2", None]),
                          st.sampled_from(["2021-01-02", "", "2021-02", None])),
                min_size=0, max_size=400), st.integers(0, 10**6))
def test_distinct_rows_evaluation_equals_row_by_row(pairs: list, offset: int) -> None:
    """A function of two columns computed once per distinct pair and spread back gives the
    row-wise answer, on the original index (long lists take the distinct path)."""
    frame = pd.DataFrame(pairs, columns=["s", "d"], dtype=object,
                         index=pd.RangeIndex(offset, offset + len(pairs)))

    def label(f: pd.DataFrame) -> pd.Series:
        return f["s"].fillna("?").astype(str) + "|" + f["d"].fillna("-").astype(str)

    got = on_distinct_rows(label, frame)
    assert got.tolist() == label(frame).tolist()
    assert got.index.equals(frame.index)


def _records(draw_subjects: list[int], shuffle_seed: int) -> pd.DataFrame:
    rows = [{"USUBJID": f"S-{s}", "AETERM": f"T{i % 3}", "AESTDTC": f"2021-01-{1 + i % 27:02d}",
             "__file": "ae.csv", "__row": i + 1} for i, s in enumerate(draw_subjects)]
    df = pd.DataFrame(rows)
    return df.sample(frac=1.0, random_state=shuffle_seed).reset_index(drop=True)


@SETTINGS
@given(st.lists(st.integers(1, 6), min_size=1, max_size=60), st.integers(0, 10_000))
def test_seq_is_one_to_n_per_subject_and_ignores_row_order(subjects: list[int],
                                                           seed: int) -> None:
    keys = ["USUBJID", "AESTDTC", "AETERM", "__file", "__row"]
    a = _records(subjects, 0)
    b = _records(subjects, seed)
    seq_a = a.assign(SEQ=derive.derive_seq(a, keys))
    seq_b = b.assign(SEQ=derive.derive_seq(b, keys))
    for _, group in seq_a.groupby("USUBJID"):
        assert sorted(group["SEQ"]) == list(map(float, range(1, len(group) + 1)))
    # the same record gets the same number whatever order the rows came in
    left = seq_a.set_index("__row")["SEQ"].sort_index()
    right = seq_b.set_index("__row")["SEQ"].sort_index()
    assert left.equals(right)
    # sorting by the keys and breaking ties by the rest = one sort by every column
    for n_keys in (1, 2, 3):
        assert derive.derive_seq(b, keys, n_keys).equals(seq_b["SEQ"])


DATES = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31))


@SETTINGS
@given(st.lists(st.tuples(DATES, st.sampled_from(["day", "month", "year"])), min_size=1,
                max_size=40), DATES)
def test_study_day_matches_the_calendar_and_partial_dates_have_none(records, ref) -> None:
    text = [d.isoformat() if p == "day" else d.isoformat()[:7] if p == "month"
            else d.isoformat()[:4] for d, p in records]
    usubjid = pd.Series(["S-1"] * len(text))
    dy = derive.derive_study_day(pd.Series(text, dtype=object), usubjid,
                                 pd.Series({"S-1": ref.isoformat()}))
    for (d, p), value in zip(records, dy, strict=True):
        if p != "day":
            assert np.isnan(value)
            continue
        days = (d - ref).days
        assert value == (days + 1 if days >= 0 else days) and value != 0


def _ctx(mapped: dict[str, pd.Series]) -> Context:
    index = next(iter(mapped.values())).index
    return Context(frame=pd.DataFrame(index=index), primary="lb", target="LBSTRESN",
                   target_numeric=True, lookup=lambda name: None, visits=None, domains=None,
                   usubjid=pd.Series("S-1", index=index), default_codelist=None,
                   mapped=mapped)


def _at_collected_precision(text: str, factor: float) -> float:
    """collected x factor rounded to the collected number's significant digits (factor 1:
    the collected number itself), by decimal arithmetic, independent of the code under test."""
    from decimal import ROUND_HALF_UP, Decimal

    collected = Decimal(text)
    if factor == 1:
        return float(collected)
    digits = text.lstrip("-").replace(".", "").lstrip("0")
    if "." not in text:  # trailing zeros of a whole number are not significant
        digits = digits.rstrip("0")
    digits = max(len(digits), 2) if digits else 0  # at least two significant digits
    product = collected * Decimal(repr(float(factor)))
    if product == 0 or digits == 0:
        return float(product)
    exponent = product.adjusted() - digits + 1
    return float(product.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP))


CONVERSIONS = sorted(load_unit_conversions().items())


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(CONVERSIONS),
                          st.floats(0.001, 1e5, allow_nan=False),
                          st.floats(0.001, 1e4), st.floats(1, 50)), min_size=1, max_size=30))
def test_unit_conversion_scales_results_and_ranges_alike(rows) -> None:
    """Standard value = collected x factor at the collected precision (significant digits,
    half away from zero, computed here with decimal arithmetic); the character result is the same
    number; the reference range indicator is the same in collected and standard units."""
    tests = pd.Series([r[0][0][0] for r in rows], dtype=object)
    units = pd.Series([r[0][0][1] for r in rows], dtype=object)
    factors = np.array([r[0][1][1] for r in rows])
    value = np.array([r[1] for r in rows])
    low = np.array([r[2] for r in rows])
    high = low * np.array([r[3] for r in rows])
    text = pd.Series([repr(float(v)) for v in value], dtype=object)
    ctx = _ctx({"LBTESTCD": tests, "LBORRESU": units, "LBORRES": text})
    stresn = apply_standard_value(ctx, {}).values
    stresc = apply_standard_text(ctx, {}).values
    expected = [_at_collected_precision(t, f) for t, f in zip(text, factors, strict=True)]
    assert np.allclose(stresn, expected, rtol=1e-12, atol=1e-9)
    assert (stresc.astype(float) == stresn).all()
    collected = apply_reference_range(_ctx({"LBSTRESN": pd.Series(value),
                                            "LBSTNRLO": pd.Series(low),
                                            "LBSTNRHI": pd.Series(high)}), {}).values
    standard = apply_reference_range(_ctx({"LBSTRESN": pd.Series(value * factors),
                                           "LBSTNRLO": pd.Series(low * factors),
                                           "LBSTNRHI": pd.Series(high * factors)}), {}).values
    assert collected.tolist() == standard.tolist()
