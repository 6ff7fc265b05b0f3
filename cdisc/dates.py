"""ISO 8601 dates for SDTM: parse the date styles raw exports use, keep partial dates partial,
compute study days and SAS dates. Vectorised over pandas Series (regex per style, no row loops).

Accepted raw date styles (case-insensitive, surrounding blanks ignored):
  ISO      2021, 2021-06, 2021-06-15, 2021-06-15T14:30(:05) (or a space instead of T)
  DMY      15-JUN-2021, 15 JUN 2021, 15JUN2021 (SAS DATE9.)
  partial  UN-JUN-2021 / UNK-JUN-2021 -> 2021-06; UN-UNK-2021 -> 2021; 15-UNK-2021 -> 2021---15;
           2021-UN-UN -> 2021; 2021-06-UN -> 2021-06
  slash    2021/06/15, 2021/06
  month    JUN-2021, JUN 2021 -> 2021-06
Ambiguous numeric styles (03/04/2021) and free text are errors, never guesses.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cdisc.distinct import on_distinct
from cdisc.text import stripped_text, text_column

MONTHS = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1)}
_UNK = r"(?:UNK|UN|U|--|XX)"
_MON = r"(?P<mon>JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)"
_TIME = r"(?:[T ](?P<hh>\d{2}):(?P<mi>\d{2})(?::(?P<ss>\d{2}))?)?"

# Each style: a regex with named groups y, m (digits) or mon (name), d; unknown parts absent.
STYLES: list[str] = [
    rf"(?P<y>\d{{4}})-(?P<m>\d{{2}})-(?P<d>\d{{2}}){_TIME}",
    r"(?P<y>\d{4})-(?P<m>\d{2})(?:-" + _UNK + r")?",
    r"(?P<y>\d{4})(?:-" + _UNK + r"-" + _UNK + r")?",
    r"(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})",
    r"(?P<y>\d{4})/(?P<m>\d{2})",
    rf"(?P<d>\d{{1,2}})[- ]?{_MON}[- ]?(?P<y>\d{{4}})",
    rf"{_UNK}[- ]?{_MON}[- ]?(?P<y>\d{{4}})",
    rf"{_UNK}[- ]?{_UNK}[- ]?(?P<y>\d{{4}})",
    rf"(?P<d>\d{{1,2}})[- ]?{_UNK}[- ]?(?P<y>\d{{4}})",
    rf"{_MON}[- ](?P<y>\d{{4}})",
]
_AMBIGUOUS = r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"

ISO8601_DTC_REGEX = (
    r"^(?:\d{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01])"
    r"(?:T(?:[01]\d|2[0-3])(?::[0-5]\d(?::[0-5]\d)?)?)?)?)?"
    r"|\d{4}---(?:0[1-9]|[12]\d|3[01]))$"
)
# ISO 8601 durations (--DUR, --ELTM, TEDUR; negative for --EVLINT): PnYnMnDTnHnMnS or PnW
ISO8601_DURATION_REGEX = (
    r"^-?P(?:\d+(?:\.\d+)?W|(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+D)?"
    r"(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?)$"
)


@dataclass
class DateParse:
    iso: pd.Series  # ISO 8601 text, "" when missing or invalid
    error: pd.Series  # "" when fine, else the reason
    # what is reliable in an invalid value: 2021/02/31 -> 2021-02, 2021-13-05 -> 2021, a bad
    # time drops the time; "" where nothing is (and where the value is fine: see iso)
    reliable: pd.Series | None = None

    def kept(self) -> pd.Series:
        """The value to submit: the ISO text, or the reliable part of an invalid value."""
        if self.reliable is None:
            return self.iso
        return self.iso.where(self.error == "", self.reliable)


def _blank(index: pd.Index) -> pd.Series:
    return pd.Series("", index=index, dtype=object)


def _as_text(values: pd.Series) -> pd.Series:
    return stripped_text(values).str.upper()


def _typed_dates(values: pd.Series) -> DateParse | None:
    """SAS readers give datetime64 or datetime.date objects: format them directly."""
    if pd.api.types.is_datetime64_any_dtype(values):
        ts = pd.to_datetime(values)
        iso = ts.dt.strftime("%Y-%m-%dT%H:%M:%S").where(ts.notna(), "")
        return DateParse(iso.astype(object), _blank(values.index), _blank(values.index))
    if pd.api.types.is_numeric_dtype(values):
        err = pd.Series(np.where(values.notna(), "numeric value, not a date", ""),
                        index=values.index, dtype=object)
        return DateParse(_blank(values.index), err, _blank(values.index))
    sample = values.dropna()
    sample = sample[sample.astype(str) != ""]
    if len(sample) and all(isinstance(v, (_dt.date, pd.Timestamp)) for v in sample.iloc[:50]):
        def fmt(v: object) -> str:
            if isinstance(v, (_dt.datetime, pd.Timestamp)) and (v.hour or v.minute or v.second):
                return v.strftime("%Y-%m-%dT%H:%M:%S")
            return v.strftime("%Y-%m-%d") if isinstance(v, (_dt.date, pd.Timestamp)) else ""
        # a date column from a SAS file: one call per distinct value, not per row
        iso = values.map({v: fmt(v) for v in sample.unique()}).fillna("")
        return DateParse(iso.astype(object), _blank(values.index), _blank(values.index))
    return None


def _days_in_month(y: pd.Series, m: pd.Series) -> pd.Series:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    out = pd.Series(days[m.fillna(1).astype(int).clip(0, 12).to_numpy()], index=m.index)
    return out + ((m == 2) & leap).astype(int)


def parse_raw_dates(values: pd.Series, year_range: tuple[int, int] = (1900, 2100)) -> DateParse:
    """Raw date text of any accepted style -> ISO 8601 (partial kept partial) and errors."""
    typed = _typed_dates(values)
    if typed is not None:
        return typed
    return on_distinct(_parse_text_dates, values, year_range)


# The common forms, parsed directly when valid (ASCII digits only: the slow path's \d also
# takes other scripts' digits): ISO 8601 text parses to itself (not with a space before the
# time), DD-MON-YYYY to YYYY-MM-DD
_VALID_ISO_FORM = (r"[0-9]{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12][0-9]|3[01])"
                   r"(?:T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?)?)?)?")
_DMY_FORM = r"(?P<d>0[1-9]|[12][0-9]|3[01])-" + _MON + r"-(?P<y>[0-9]{4})"
_MONTH_TEXT = {name: f"{number:02d}" for name, number in MONTHS.items()}


def _parse_text_dates(values: pd.Series, year_range: tuple[int, int]) -> DateParse:
    """_parse_all_dates, with values in a common form taken directly (_common_dates)."""
    text = _as_text(values)
    iso = _common_dates(text, year_range)
    fast = pd.notna(iso)
    if not fast.any():
        return _parse_all_dates(values, year_range)
    error = np.full(len(text), "", dtype=object)
    reliable = np.full(len(text), "", dtype=object)
    slow = ~fast
    if slow.any():
        rest = _parse_all_dates(values[slow], year_range)
        iso[slow] = rest.iso.to_numpy()
        error[slow] = rest.error.to_numpy()
        reliable[slow] = rest.reliable.to_numpy()
    return DateParse(*(pd.Series(a, index=text.index, dtype=object)
                       for a in (iso, error, reliable)))


def _common_dates(text: pd.Series, year_range: tuple[int, int]) -> np.ndarray:
    """Per value (object array): the ISO 8601 of upper-cased text that is a valid date in a
    common form (a day that exists, a year in range); None for any other text."""
    iso = np.where(text.str.fullmatch(_VALID_ISO_FORM).to_numpy(dtype=bool),
                   text.to_numpy(dtype=object), None)
    dmy = text.str.extract(f"^{_DMY_FORM}$")
    hit = dmy["y"].notna().to_numpy()
    iso[hit] = (dmy["y"] + "-" + dmy["mon"].map(_MONTH_TEXT) + "-" + dmy["d"]).to_numpy()[hit]
    known = pd.notna(iso)
    found = pd.Series(iso[known], dtype=object)
    if not len(found):
        return iso
    y = found.str[:4].astype(int)
    m = pd.to_numeric(found.str[5:7], errors="coerce")
    d = pd.to_numeric(found.str[8:10], errors="coerce")
    ok = (y >= year_range[0]) & (y <= year_range[1]) & (d.isna() | (d <= _days_in_month(y, m)))
    iso[known] = found.where(ok, None).to_numpy()
    return iso


def _parse_all_dates(values: pd.Series, year_range: tuple[int, int]) -> DateParse:
    text = _as_text(values)
    y = pd.Series(np.nan, index=text.index)
    m = pd.Series(np.nan, index=text.index)
    d = pd.Series(np.nan, index=text.index)
    hh = pd.Series(np.nan, index=text.index)
    mi = pd.Series(np.nan, index=text.index)
    ss = pd.Series(np.nan, index=text.index)
    matched = text == ""
    for style in STYLES:
        todo = ~matched
        if not todo.any():
            break
        parts = text[todo].str.extract(f"^{style}$")
        hit = parts["y"].notna()
        if not hit.any():
            continue
        idx = parts.index[hit]
        parts = parts.loc[idx]
        y.loc[idx] = parts["y"].astype(float)
        if "m" in parts:
            m.loc[idx] = pd.to_numeric(parts["m"], errors="coerce")
        if "mon" in parts:
            mon = parts["mon"].map(MONTHS)
            m.loc[idx] = m.loc[idx].where(mon.isna(), mon)
        if "d" in parts:
            d.loc[idx] = pd.to_numeric(parts["d"], errors="coerce")
        for name, target in (("hh", hh), ("mi", mi), ("ss", ss)):
            if name in parts:
                target.loc[idx] = pd.to_numeric(parts[name], errors="coerce")
        matched.loc[idx] = True
    error = _blank(text.index)
    error = error.mask(~matched, "not a date")
    error = error.mask(~matched & text.str.fullmatch(_AMBIGUOUS), "ambiguous date format")
    ok = matched & (text != "")
    low, high = year_range
    error = error.mask(ok & ((y < low) | (y > high)),
                       "year " + y.fillna(0).astype(int).astype(str) + f" outside {low}-{high}")
    error = error.mask(ok & ((m < 1) | (m > 12)),
                       "month " + m.fillna(0).astype(int).astype(str) + " out of range")
    dim = _days_in_month(y.fillna(2000), m)
    bad_day = ok & d.notna() & ((d < 1) | (m.notna() & (d > dim)) | (m.isna() & (d > 31)))
    error = error.mask(bad_day & (error == ""),
                       "day " + d.fillna(0).astype(int).astype(str) + " does not exist in "
                       + y.fillna(0).astype(int).astype(str) + "-"
                       + m.fillna(0).astype(int).astype(str).str.zfill(2))
    bad_time = ok & ((hh > 23) | (mi > 59) | (ss > 59))
    error = error.mask(bad_time & (error == ""), "time out of range")
    iso = _format_iso(y, m, d, hh, mi, ss).where(ok & (error == ""), "")
    reliable = _reliable_part(y, m, d, ok & (error != ""), year_range, bad_day)
    return DateParse(iso.astype(object), error, reliable)


def _reliable_part(y: pd.Series, m: pd.Series, d: pd.Series, invalid: pd.Series,
                   year_range: tuple[int, int], bad_day: pd.Series) -> pd.Series:
    """The known-good prefix of each invalid date, never past the part that is wrong: an
    impossible day keeps year and month, an impossible month keeps the year, a time out of
    range keeps the date; a year out of range keeps nothing."""
    none = pd.Series(np.nan, index=y.index)
    year_ok = (y >= year_range[0]) & (y <= year_range[1])
    month_ok = year_ok & m.notna() & (m >= 1) & (m <= 12)
    day_ok = month_ok & d.notna() & ~bad_day
    text = _format_iso(y, m.where(month_ok), d.where(day_ok), none, none, none)
    return text.where(invalid & year_ok, "").astype(object)


def _two(s: pd.Series) -> pd.Series:
    return s.fillna(0).astype(int).astype(str).str.zfill(2)


def _format_iso(y: pd.Series, m: pd.Series, d: pd.Series, hh: pd.Series, mi: pd.Series,
                ss: pd.Series) -> pd.Series:
    out = y.fillna(0).astype(int).astype(str).str.zfill(4)
    out = out.where(m.isna(), out + "-" + _two(m))
    out = out.where(~(m.notna() & d.notna()), out + "-" + _two(d))
    out = out.where(~(m.isna() & d.notna()), out + "---" + _two(d))
    has_time = m.notna() & d.notna() & hh.notna()
    out = out.where(~has_time, out + "T" + _two(hh) + ":" + _two(mi))
    out = out.where(~(has_time & ss.notna()), out + ":" + _two(ss))
    return out.astype(object)


def parse_raw_times(values: pd.Series) -> DateParse:
    """Raw time (14:30, 14:30:05, 1430, 2:30 PM) -> hh:mm(:ss); unknown (UN:UN, UNK) -> ""."""
    return on_distinct(_parse_text_times, values)


def _parse_text_times(values: pd.Series) -> DateParse:
    text = _as_text(values)
    parts = text.str.extract(
        r"^(?P<h>\d{1,2}):?(?P<m>\d{2})(?::(?P<s>\d{2}))?\s*(?P<ap>AM|PM)?$")
    h = pd.to_numeric(parts["h"], errors="coerce")
    mi = pd.to_numeric(parts["m"], errors="coerce")
    s = pd.to_numeric(parts["s"], errors="coerce")
    pm = parts["ap"] == "PM"
    am = parts["ap"] == "AM"
    ampm_bad = parts["ap"].notna() & ((h < 1) | (h > 12))
    h = h.where(~(pm & (h < 12)), h + 12).where(~(am & (h == 12)), 0)
    unknown = text.str.fullmatch(r"(?:UNK|UN|U)(?::(?:UNK|UN|U))?") | (text == "")
    ok = h.notna() & ~unknown
    error = _blank(text.index)
    error = error.mask(~ok & ~unknown, "not a time")
    error = error.mask(ok & ((h > 23) | (mi > 59) | (s > 59) | ampm_bad), "time out of range")
    iso = (_two(h) + ":" + _two(mi)).where(s.isna(), _two(h) + ":" + _two(mi) + ":" + _two(s))
    return DateParse(iso.where(ok & (error == ""), "").astype(object), error, _blank(text.index))


def combine_date_time(date_iso: pd.Series, time_iso: pd.Series) -> pd.Series:
    """Attach a time only to a complete date; otherwise keep the date as it is."""
    date_iso = date_iso.astype(object).fillna("")
    time_iso = time_iso.astype(object).fillna("")
    complete = on_distinct(_is_complete_date, date_iso) & (time_iso != "")
    return date_iso.where(~complete, date_iso + "T" + time_iso).astype(object)


def _is_complete_date(text: pd.Series) -> pd.Series:
    return text.astype(str).str.fullmatch(r"\d{4}-\d{2}-\d{2}")


def precision(dtc: pd.Series) -> pd.Series:
    """How much of the date/time is known: year, month, day, minute, second (or '')."""
    return on_distinct(_precision, dtc)


def _precision(dtc: pd.Series) -> pd.Series:
    text = text_column(dtc)
    out = pd.Series("", index=text.index, dtype=object)
    for name, pattern in (("year", r"\d{4}|\d{4}---\d{2}"), ("month", r"\d{4}-\d{2}"),
                          ("day", r"\d{4}-\d{2}-\d{2}"), ("minute", r".{10}T\d{2}:\d{2}"),
                          ("second", r".{10}T\d{2}:\d{2}:\d{2}")):
        out = out.mask(text.str.fullmatch(pattern), name)
    return out


def iso_to_date(dtc: pd.Series) -> pd.Series:
    """Date part of complete ISO dates as datetime64 (NaT when the date is partial)."""
    return on_distinct(_iso_to_date, dtc)


def _iso_to_date(dtc: pd.Series) -> pd.Series:
    text = text_column(dtc).str[:10]
    text = text.where(text.str.fullmatch(r"\d{4}-\d{2}-\d{2}"), None)
    return pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")


def iso_bounds(dtc: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(earliest, latest) day an ISO 8601 date can be: 2021-02 -> (2021-02-01, 2021-02-28),
    2021 -> (2021-01-01, 2021-12-31), a complete date -> itself twice; NaT when unknown."""
    bounds = on_distinct(_iso_bounds, dtc)
    return bounds.lo, bounds.hi


@dataclass
class _Bounds:
    lo: pd.Series
    hi: pd.Series


def _iso_bounds(dtc: pd.Series) -> _Bounds:
    text = text_column(dtc)
    day = _iso_to_date(text)
    partial = day.isna().to_numpy()
    if partial.all():
        return _partial_bounds(text, day)
    # complete dates are their own bounds: only the others are read as a month or a year
    lo, hi = day.copy(), day.copy()
    if partial.any():
        rest = _partial_bounds(text[partial], day[partial])
        lo.iloc[np.flatnonzero(partial)] = rest.lo.to_numpy()
        hi.iloc[np.flatnonzero(partial)] = rest.hi.to_numpy()
    return _Bounds(lo, hi)


def _partial_bounds(text: pd.Series, day: pd.Series) -> _Bounds:
    """_iso_bounds of ISO text, given its complete dates (day)."""
    month = pd.to_datetime(text.str[:7].where(text.str.fullmatch(r"\d{4}-\d{2}")), format="%Y-%m",
                           errors="coerce")
    year = pd.to_datetime(text.str[:4].where(text.str.fullmatch(r"\d{4}(?:---\d{2})?")),
                          format="%Y", errors="coerce")
    lo = day.fillna(month).fillna(year)
    hi = day.fillna(month + pd.offsets.MonthEnd(0)).fillna(year + pd.offsets.YearEnd(0))
    return _Bounds(lo, hi)


def study_day(dtc: pd.Series, ref_dtc: pd.Series) -> pd.Series:
    """SDTM --DY: date - ref + 1 on or after the reference, date - ref before; no day 0."""
    return study_day_of(iso_to_date(dtc), iso_to_date(ref_dtc.reindex(dtc.index)))


def study_day_of(day: pd.Series, reference: pd.Series) -> pd.Series:
    """study_day of datetime64 days (NaT: no study day)."""
    diff = (day - reference).dt.days.astype("float64")
    return diff.where(diff < 0, diff + 1)


_SAS_EPOCH = pd.Timestamp("1960-01-01")


def sas_date(values: pd.Series) -> pd.Series:
    """datetime64 -> float days since 1960-01-01 (NaN for NaT)."""
    return ((pd.to_datetime(values) - _SAS_EPOCH).dt.total_seconds() / 86400).astype("float64")


def sas_datetime(values: pd.Series) -> pd.Series:
    """datetime64 -> float seconds since 1960-01-01T00:00:00 (NaN for NaT)."""
    return (pd.to_datetime(values) - _SAS_EPOCH).dt.total_seconds().astype("float64")


_FORMAT_TOKENS = {"YYYY": r"(?P<y>\d{4})", "MM": r"(?P<m>\d{1,2})", "DD": r"(?P<d>\d{1,2})",
                  "MON": r"(?P<mon>[A-Za-z]{3})"}
EXPLICIT_FORMATS = ("MM/DD/YYYY", "DD/MM/YYYY", "MM-DD-YYYY", "DD-MM-YYYY", "DD.MM.YYYY",
                    "YYYY/MM/DD", "YYYYMMDD")


def parse_with_format(values: pd.Series, fmt: str,
                      year_range: tuple[int, int] = (1900, 2100)) -> DateParse:
    """Dates in one declared numeric layout (e.g. MM/DD/YYYY, which is ambiguous without the
    declaration). Values that do not fit the layout fall back to the general parser."""
    if fmt not in EXPLICIT_FORMATS:
        raise ValueError(f"unknown date format {fmt!r} (known: {', '.join(EXPLICIT_FORMATS)})")
    pattern = re.escape(fmt)
    for token in ("YYYY", "MON", "MM", "DD"):
        pattern = pattern.replace(token, _FORMAT_TOKENS[token])
    text = _as_text(values)
    parts = text.str.extract(f"^{pattern}$")
    hit = parts["y"].notna()
    rewritten = text.where(~hit, parts["y"] + "-" + parts["m"].str.zfill(2) + "-"
                           + parts["d"].str.zfill(2))
    return parse_raw_dates(rewritten, year_range)
