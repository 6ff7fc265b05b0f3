"""Shortcuts of the SDTM mapping stage give what the plain computation gives: raw dates in a
common form parsed directly, the standard result of a lab record and the decode of a test code
computed once per distinct input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc import dates
from cdisc.sdtm import context, derive, findings, registry
from cdisc.specs import load_specs
from cdisc.terminology import StudyCT, build_lookup

YEARS = (1900, 2100)


def _same_parse(values: list) -> dates.DateParse:
    """_parse_text_dates, checked against the plain parser value for value."""
    s = pd.Series(values, dtype=object, index=[2 * i + 3 for i in range(len(values))])
    fast, plain = dates._parse_text_dates(s, YEARS), dates._parse_all_dates(s, YEARS)
    for name in ("iso", "error", "reliable"):
        a, b = getattr(fast, name), getattr(plain, name)
        assert a.dtype == object and b.dtype == object
        assert a.index.equals(b.index)
        assert a.tolist() == b.tolist(), name
    return fast


def test_common_forms_by_hand() -> None:
    cases = {  # raw -> (ISO 8601, reliable part of an invalid value)
        "2021-06-15": ("2021-06-15", ""), "2021-06": ("2021-06", ""), "2021": ("2021", ""),
        "2021-06-15T14:30": ("2021-06-15T14:30", ""),
        "2021-06-15t14:30:05": ("2021-06-15T14:30:05", ""),
        "2021-06-15 14:30": ("2021-06-15T14:30", ""),  # the slow path's space before the time
        "2020-02-29": ("2020-02-29", ""), "2021-02-29": ("", "2021-02"),
        "2021-02-30": ("", "2021-02"), "2021-04-31": ("", "2021-04"),
        "2021-06-15T24:00": ("", "2021-06-15"), "2021-06-15T23:60": ("", "2021-06-15"),
        "2021-06-15T23:59:60": ("", "2021-06-15"), "1899-12-31": ("", ""),
        "17-MAR-2020": ("2020-03-17", ""), "17-mar-2020 ": ("2020-03-17", ""),
        "1-MAR-2020": ("2020-03-01", ""), "17MAR2020": ("2020-03-17", ""),
        "29-FEB-2021": ("", "2021-02"), "31-APR-2020": ("", "2020-04"),
        "00-MAR-2020": ("", "2020-03"), "UN-MAR-2020": ("2020-03", ""),
        "17-MAR-2101": ("", ""), "": ("", ""), "not a date": ("", ""),
    }
    parsed = _same_parse(list(cases))
    assert parsed.iso.tolist() == [iso for iso, _ in cases.values()]
    assert parsed.reliable.tolist() == [part for _, part in cases.values()]
    errors = dict(zip(cases, parsed.error, strict=True))
    assert errors["2021-02-30"] == "day 30 does not exist in 2021-02"
    assert errors["2021-06-15T24:00"] == "time out of range"
    assert errors["2021-06-15"] == ""


def test_unicode_digits_take_the_slow_path() -> None:
    _same_parse(["\u0662\u0660\u0662\u0661-06-15", "15-JUN-\u0662\u0660\u0662\u0661"])


def _two(lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.integers(lo, hi).map(lambda n: f"{n:02d}")


ISO_LIKE = st.builds(lambda y, m, d, h, mi, s, cut: f"{y}-{m}-{d}T{h}:{mi}:{s}"[:cut],
                     st.integers(1890, 2110), _two(0, 13), _two(0, 32), _two(0, 25),
                     _two(0, 61), _two(0, 61), st.sampled_from([4, 7, 10, 13, 16, 19]))
DMY_LIKE = st.builds(lambda d, mon, y, sep: f"{d}{sep}{mon}{sep}{y}", _two(0, 33),
                     st.sampled_from(["JAN", "FEB", "APR", "jun", "SEP", "DEC", "XXX", "UNK"]),
                     st.integers(1890, 2110), st.sampled_from(["-", " ", ""]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(ISO_LIKE, DMY_LIKE, st.text("0123456789-T: UNJA", max_size=12)),
                min_size=1, max_size=80))
def test_fast_dates_equal_the_plain_parser(values: list[str]) -> None:
    _same_parse(values)


LAB = {"LBTESTCD": ["BILI", "CREAT", "HGB", "NEUT", "NEUT", "GLUC", "NEUT", "ALT", "GLUC"],
       "LBORRESU": ["mg/dL", "mg/dL", "g/dL", "10^6/L", "10^9/L", "mg/dL", "10^9/L", "furlong",
                    "mg/dL"],
       "LBORRES": ["1.2", "1", "8.5", "1520", "<0.1", "90", "pending", "40", "-0"]}
STD = {"value": "LBORRES", "unit": "LBORRESU", "test": "LBTESTCD"}


def _ctx(mapped: dict[str, list], repeat: int, dtype: str = "object") -> context.Context:
    n = len(next(iter(mapped.values()))) * repeat
    specs = load_specs()
    series = {k: pd.Series(v * repeat, dtype=dtype) for k, v in mapped.items()}
    return context.Context(pd.DataFrame({"f.X": [""] * n}), "f", "T", False,
                           lambda c: build_lookup(c, specs, StudyCT()), None, None,
                           pd.Series(["S"] * n), None, mapped=series)


@pytest.mark.parametrize("dtype", ["object", "str"])
def test_standard_once_per_distinct_record(dtype: str) -> None:
    repeat = 20  # 180 rows of 9 distinct records: computed on the distinct ones
    c = _ctx(LAB, repeat, dtype)
    frame = pd.DataFrame({"value": c.variable("LBORRES"), "test": c.variable("LBTESTCD"),
                          "unit": c.variable("LBORRESU")})
    shortcut, plain = findings._compute_standard(c, STD), findings._standard_of(frame, STD)
    for name in ("converted", "operator", "unit", "errors", "decimals", "factor", "collected"):
        a, b = getattr(shortcut, name), getattr(plain, name)
        assert a.index.equals(b.index), name
        if a.dtype == np.float64:  # bit patterns: NaN equals NaN, 0.0 differs from -0.0
            a, b = a.to_numpy().view(np.int64), b.to_numpy().view(np.int64)
        assert list(a) == list(b), name
    assert shortcut.unit.dtype == object and shortcut.collected.dtype == object
    # by hand: glucose 90 mg/dL x 0.0555 = 4.995 -> 5.0 mmol/L at 2 significant digits
    text = registry.apply_rule(c, {"standard_text": STD}).values
    assert text.iloc[5] == "5.0" and text.iloc[5 + 9] == "5.0"
    assert text.iloc[6] == "pending" and text.iloc[8] == "0"


@pytest.mark.parametrize("dtype", ["object", "str"])
def test_decode_once_per_distinct_code(dtype: str) -> None:
    codes = ["HGB", "ZZZ", "", "GLUC"]
    c = _ctx({"LBTESTCD": codes}, 20, dtype)
    r = registry.apply_rule(c, {"decode": {"variable": "LBTESTCD", "codelist": "LBTEST",
                                           "from": "LBTESTCD"}})
    assert r.values.tolist() == ["Hemoglobin", "", "", "Glucose"] * 20
    assert r.errors.tolist() == ["", "no LBTEST name for this code", "", ""] * 20


def test_iso_bounds_by_hand_and_as_the_plain_computation() -> None:
    values = ["2021-02-12T10:00", "2021-02", "2024-02", "2021", "2021---05", "", "2021-13",
              "2021-02-30", None]
    s = pd.Series(values, dtype=object, index=[5 * i for i in range(len(values))])
    lo, hi = dates.iso_bounds(s)
    day = pd.Timestamp
    assert lo.tolist()[:5] == [day("2021-02-12"), day("2021-02-01"), day("2024-02-01"),
                               day("2021-01-01"), day("2021-01-01")]
    assert hi.tolist()[:5] == [day("2021-02-12"), day("2021-02-28"), day("2024-02-29"),
                               day("2021-12-31"), day("2021-12-31")]
    assert lo.iloc[5:].isna().all() and hi.iloc[5:].isna().all()
    for subset in (values, values[:1], values[1:5], values[5:], []):
        part = pd.Series(subset, dtype=object)
        text = dates.text_column(part)
        plain = dates._partial_bounds(text, dates._iso_to_date(text))
        found = dates._iso_bounds(part)
        assert found.lo.equals(plain.lo) and found.hi.equals(plain.hi)
        assert found.lo.dtype == plain.lo.dtype and found.hi.dtype == plain.hi.dtype


def test_study_day_per_date_and_subject_by_hand() -> None:
    rfstdtc = pd.Series(["2021-03-10", "", "2021-03"], index=["A", "B", "C"], dtype=object)
    dtc = ["2021-03-10", "2021-03-09", "2021-03-11T08:00", "2021-03", "2021-04-01", "",
           "2021-03-12"] * 12  # 84 rows: repeated, so computed per distinct value
    subject = ["A", "A", "A", "A", "B", "A", "C"] * 12
    got = derive.derive_study_day(pd.Series(dtc, dtype=object), pd.Series(subject, dtype=object),
                                  rfstdtc)
    want = [1.0, -1.0, 2.0, np.nan, np.nan, np.nan, np.nan] * 12
    assert got.dtype == np.float64
    assert np.array_equal(got.to_numpy(), np.array(want), equal_nan=True)
    plain = dates.study_day(pd.Series(dtc, dtype=object),
                            pd.Series(subject, dtype=object).map(rfstdtc).fillna(""))
    assert got.equals(plain)


def test_str_column() -> None:
    from cdisc.text import is_str_column
    assert is_str_column(pd.Series(["a", "b"], dtype=object))
    assert is_str_column(pd.Series(["a", None], dtype="str"))
    assert not is_str_column(pd.Series(["a", 1.0], dtype=object))
    assert not is_str_column(pd.Series([1.0, -0.0]))
