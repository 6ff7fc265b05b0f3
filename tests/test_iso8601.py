"""ISO 8601 parsing of raw date styles, study day and SAS dates: hand-checked and properties."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdisc import dates

S = pd.Series


def iso(*values: object) -> list[str]:
    return list(dates.parse_raw_dates(S(list(values), dtype=object)).iso)


def err(value: object) -> str:
    return dates.parse_raw_dates(S([value], dtype=object)).error.iloc[0]


@pytest.mark.parametrize("raw,expected", [
    ("2021", "2021"), ("2021-06", "2021-06"), ("2021-06-15", "2021-06-15"),
    ("2021-06-15T14:30", "2021-06-15T14:30"), ("2021-06-15 14:30:05", "2021-06-15T14:30:05"),
    ("15-JUN-2021", "2021-06-15"), ("15 jun 2021", "2021-06-15"), ("15JUN2021", "2021-06-15"),
    ("5-Jun-2021", "2021-06-05"), ("UN-JUN-2021", "2021-06"), ("UNK-JUN-2021", "2021-06"),
    ("UN-UNK-2021", "2021"), ("UNK-UNK-2021", "2021"), ("15-UNK-2021", "2021---15"),
    ("2021-UN-UN", "2021"), ("2021-06-UN", "2021-06"), ("2021/06/15", "2021-06-15"),
    ("2021/06", "2021-06"), ("JUN-2021", "2021-06"), ("Jun 2021", "2021-06"),
    ("  29-FEB-2020 ", "2020-02-29"), ("", ""), (None, ""),
])
def test_styles(raw: object, expected: str) -> None:
    assert iso(raw) == [expected]
    assert err(raw) == ""


@pytest.mark.parametrize("raw,reason", [
    ("31-FEB-2021", "day 31 does not exist in 2021-02"),
    ("29-FEB-2021", "day 29 does not exist in 2021-02"),
    ("2021/02/31", "day 31 does not exist in 2021-02"),
    ("2021-13-01", "month 13 out of range"),
    ("1899-12-31", "year 1899 outside 1900-2100"),
    ("2999", "year 2999 outside 1900-2100"),
    ("yesterday", "not a date"),
    ("03/04/2021", "ambiguous date format"),
    ("2021-06-15T25:00", "time out of range"),
])
def test_errors(raw: str, reason: str) -> None:
    assert err(raw) == reason
    assert iso(raw) == [""]


def test_sas_reader_values() -> None:
    assert iso(dt.date(2021, 3, 10)) == ["2021-03-10"]
    typed = dates.parse_raw_dates(S(pd.to_datetime(["2021-03-10 14:30:00", None])))
    assert list(typed.iso) == ["2021-03-10T14:30:00", ""]
    assert dates.parse_raw_dates(S([22349.0])).error.iloc[0] == "numeric value, not a date"


def test_times_and_combine() -> None:
    t = dates.parse_raw_times(S(["14:30", "14:30:05", "1430", "2:30 PM", "12:05 am", "UN:UN",
                                 "", "25:00", "noon"]))
    assert list(t.iso) == ["14:30", "14:30:05", "14:30", "14:30", "00:05", "", "", "", ""]
    assert list(t.error)[-2:] == ["time out of range", "not a time"]
    combined = dates.combine_date_time(S(["2021-06-15", "2021-06", "2021-06-15"]),
                                       S(["14:30", "10:00", ""]))
    assert list(combined) == ["2021-06-15T14:30", "2021-06", "2021-06-15"]


def test_study_day() -> None:
    ref = S(["2021-03-10T14:30"] * 5)
    dtc = S(["2021-03-10", "2021-03-09", "2021-03-11T08:00", "2021-03", "2020-03-10"])
    assert list(dates.study_day(dtc, ref).fillna(0)) == [1.0, -1.0, 2.0, 0.0, -365.0]


def test_sas_dates() -> None:
    values = S(pd.to_datetime(["1960-01-01", "2021-03-10", None]))
    assert list(dates.sas_date(values).fillna(-1)) == [0.0, 22349.0, -1.0]
    assert dates.sas_datetime(S(pd.to_datetime(["1960-01-02 00:00:10"]))).iloc[0] == 86410.0


dates_st = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))
MON = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


@given(dates_st, st.sampled_from(["iso", "dmy", "date9", "slash", "dmy_space"]))
def test_round_trip_every_style(d: dt.date, style: str) -> None:
    text = {"iso": d.isoformat(), "dmy": f"{d.day:02d}-{MON[d.month - 1]}-{d.year}",
            "date9": f"{d.day:02d}{MON[d.month - 1]}{d.year}",
            "slash": d.strftime("%Y/%m/%d"),
            "dmy_space": f"{d.day} {MON[d.month - 1].title()} {d.year}"}[style]
    assert iso(text) == [d.isoformat()]


@given(dates_st, st.sampled_from(["year", "month", "unk_day", "month_name"]))
def test_partial_dates_never_gain_precision(d: dt.date, kind: str) -> None:
    text, expected = {
        "year": (str(d.year), f"{d.year:04d}"),
        "month": (f"{d.year:04d}-{d.month:02d}", f"{d.year:04d}-{d.month:02d}"),
        "unk_day": (f"UN-{MON[d.month - 1]}-{d.year}", f"{d.year:04d}-{d.month:02d}"),
        "month_name": (f"{MON[d.month - 1]}-{d.year}", f"{d.year:04d}-{d.month:02d}"),
    }[kind]
    out = iso(text)[0]
    assert out == expected
    assert dates.precision(S([out])).iloc[0] == ("year" if kind == "year" else "month")


@given(st.lists(st.one_of(st.text(max_size=12), dates_st.map(str)), max_size=20))
def test_output_is_always_valid_iso_or_empty(values: list[str]) -> None:
    out = dates.parse_raw_dates(S(values, dtype=object)).iso
    pattern = re.compile(dates.ISO8601_DTC_REGEX)
    assert all(v == "" or pattern.match(v) for v in out)


@given(dates_st, dates_st)
def test_study_day_never_zero_and_monotonic(a: dt.date, ref: dt.date) -> None:
    nxt = a + dt.timedelta(days=1)
    days = dates.study_day(S([a.isoformat(), nxt.isoformat()]), S([ref.isoformat()] * 2))
    assert 0 not in list(days)
    assert days.iloc[1] > days.iloc[0]
    assert days.iloc[1] - days.iloc[0] == (2 if (a - ref).days == -1 else 1)
