"""The general mapping algorithms: how one target variable gets its values from raw columns.

Each algorithm is one function ``apply(ctx, params) -> Result``: values for every row of the
record block, plus an error reason per row ("" when fine). Where a value cannot be mapped the
result keeps what is reliable in it (a partial date keeps its year and month) and the engine lists
the reason as a data issue; the record is never dropped for it. What else is known about each
algorithm (define origin, phase, the raw columns it reads) is in cdisc/sdtm/registry.py. Nothing
here evaluates spec text.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cdisc import dates
from cdisc.distinct import on_distinct, on_distinct_rows
from cdisc.text import stripped_text, text_column
from cdisc.errors import SpecError
from cdisc.sdtm.context import Context, Result, domain_rows, reasons

# --- assign -------------------------------------------------------------------------------------

def apply_assign(ctx: Context, params: Any) -> Result:
    """Copy the collected value as is (trimmed). Numeric targets parse the text as a number."""
    raw = ctx.column(params)
    if ctx.target_numeric:
        return _to_number(raw, ctx, {})
    return Result(stripped_text(raw), ctx.no_errors())


def apply_number(ctx: Context, params: Any) -> Result:
    """Parse a number; optional min/max bounds query implausible values (kept as collected)."""
    spec = params if isinstance(params, dict) else {"column": params}
    return _to_number(ctx.column(spec["column"]), ctx, spec)


def _to_number(raw: pd.Series, ctx: Context, spec: dict) -> Result:
    if pd.api.types.is_numeric_dtype(raw):
        values = raw.astype("float64")
        text_missing = values.isna()
        bad = pd.Series(False, index=raw.index)
    else:
        text = stripped_text(raw)
        values = on_distinct(_parse_number, text)
        text_missing = text == ""
        bad = values.isna() & ~text_missing
    errors = reasons(bad, "not a number")
    if "min" in spec:
        low = values < float(spec["min"])
        errors = errors.mask(low, f"below the plausible minimum {spec['min']}")
    if "max" in spec:
        high = values > float(spec["max"])
        errors = errors.mask(high, f"above the plausible maximum {spec['max']}")
    return Result(values, errors)  # text that is no number is NaN; an implausible one is kept


def _parse_number(text: pd.Series) -> pd.Series:
    """Text -> float; '', words and non-finite spellings ('inf', '1e400') -> NaN."""
    values = pd.to_numeric(text.where(text != "", None), errors="coerce").astype("float64")
    return values.where(np.isfinite(values))


def apply_split(ctx: Context, params: Any) -> Result:
    """One part of a delimited value: {column: PATNUM, sep: "-", part: 1} -> "701" of "701-1015".
    A value with fewer parts is an error (and gives no value)."""
    text = stripped_text(ctx.column(params["column"]))
    index = int(params["part"]) - 1
    parts = text.str.split(str(params.get("sep", "-")), regex=False)
    value = parts.str[index].fillna("").astype(object)
    short = (parts.str.len() <= index) & (text != "")
    errors = reasons(short, f"has no part {params['part']}")
    return Result(value.where(~short, ""), errors)


# --- controlled terminology ---------------------------------------------------------------------

def apply_assign_ct(ctx: Context, params: Any) -> Result:
    """Collected value -> submission value through the codelist (+ study CT map)."""
    spec = params if isinstance(params, dict) else {"column": params}
    codelist = spec.get("codelist") or ctx.default_codelist
    lookup = ctx.lookup(codelist)
    found = on_distinct(_assigned_term, ctx.column(spec["column"]), lookup)
    reason = f"not in codelist {codelist} nor in the study CT map"
    return Result(found["value"], reasons(found["unmapped"], reason))


def _assigned_term(raw: pd.Series, lookup: Any) -> pd.DataFrame:
    mapped, unmapped = lookup.map(raw)
    # a term the codelist does not know is submitted as collected (the validator reports it)
    return pd.DataFrame({"value": mapped.where(~unmapped, stripped_text(raw)).astype(object),
                         "unmapped": unmapped.astype(bool)}, copy=False)


def apply_hardcode(ctx: Context, params: Any) -> Result:
    """The same value on every record (checked against the target's codelist at load time)."""
    if ctx.target_numeric:
        values = pd.Series(float(params), index=ctx.frame.index)
    else:
        values = pd.Series(str(params), index=ctx.frame.index, dtype=object)
    return Result(values, ctx.no_errors())


# --- dates ----------------------------------------------------------------------------------------

def apply_datetime(ctx: Context, params: Any) -> Result:
    """Raw date (+ optional time) -> ISO 8601; partial dates stay partial, never imputed. An
    invalid date keeps its reliable part (2021/02/31 -> 2021-02) and is an error."""
    spec = params if isinstance(params, dict) else {"date": params}
    raw = {"date": ctx.column(spec["date"])}
    if "time" in spec:
        raw["time"] = ctx.column(spec["time"])
    # once per distinct date (and time): a lab domain repeats each for every test
    found = on_distinct_rows(_iso_datetime, pd.DataFrame(raw, copy=False), spec.get("format"))
    return Result(found["iso"], found["error"])


def _iso_datetime(raw: pd.DataFrame, date_format: str | None) -> pd.DataFrame:
    parsed = (dates.parse_with_format(raw["date"], date_format) if date_format
              else dates.parse_raw_dates(raw["date"]))
    iso, errors = parsed.kept(), parsed.error.astype(object)
    if "time" in raw:
        times = dates.parse_raw_times(raw["time"])
        iso = dates.combine_date_time(iso, times.iso)
        errors = errors.where(errors != "", times.error.astype(object))
    return pd.DataFrame({"iso": iso.astype(object), "error": errors}, copy=False)


# --- visits ---------------------------------------------------------------------------------------

def apply_visit(ctx: Context, params: Any) -> Result:
    """Visit folder -> VISIT and VISITNUM from the study's visit table."""
    if ctx.visits is None:
        raise SpecError("the visit algorithm needs 'visits:' in study.yaml")
    found = on_distinct(_visit_of, ctx.column(params), ctx.visits.set_index("folder"))
    errors = reasons(found["unknown"], "visit folder not in the study visit table")
    return Result(found["visit"], errors, {"VISITNUM": found["visitnum"]})


def _visit_of(raw: pd.Series, table: pd.DataFrame) -> pd.DataFrame:
    folder = stripped_text(raw).str.upper()
    visit = folder.map(table["visit"])
    # unscheduled folders carry no number here: --VISITNUM is derived from their date later
    visitnum = folder.map(table["visitnum"]).astype("float64")
    # an unknown folder is kept as the visit name, without a planned visit number
    return pd.DataFrame({"visit": visit.fillna(folder).astype(object), "visitnum": visitnum,
                         "unknown": (visit.isna() & (folder != "")).astype(bool)}, copy=False)


def apply_nominal_day(ctx: Context, params: Any) -> Result:
    """Visit folder -> the visit's planned day counted from the reference day, day 0 being
    study day 1 (the day of DM.RFSTDTC): the visit table's planned study day (visitdy) minus 1
    from day 1 on, visitdy itself before day 1 (there is no study day 0). A visit without a
    planned day (screening, unscheduled) gives null; a folder outside the table is an error."""
    if ctx.visits is None:
        raise SpecError("the nominal_day algorithm needs 'visits:' in study.yaml")
    if "visitdy" not in ctx.visits.columns:
        raise SpecError("the nominal_day algorithm needs a visitdy column in the visit table")
    spec = params if isinstance(params, dict) else {"column": params}
    folder = stripped_text(ctx.column(spec["column"])).str.upper()
    table = ctx.visits.set_index("folder")
    planned = pd.to_numeric(table["visitdy"].replace("", None), errors="coerce")
    day = folder.map(planned).astype("float64")
    day = day.where(day < 1, day - 1)  # study day 1 is day 0; before it the count has no 0
    unknown = ~folder.isin(table.index) & (folder != "")
    return Result(day, reasons(unknown, "visit folder not in the study visit table"))


# ISO 8601 duration designators: (unit -> (designator, in the time part after 'T'))
DURATION_UNITS = {"years": ("Y", False), "months": ("M", False), "weeks": ("W", False),
                  "days": ("D", False), "hours": ("H", True), "minutes": ("M", True),
                  "seconds": ("S", True)}


def check_iso_duration(params: Any) -> None:
    """iso_duration: {value: VARIABLE or column: COLUMN, unit: days|hours|...}."""
    if not isinstance(params, dict):
        raise SpecError("iso_duration takes {value: VARIABLE, unit: days} or "
                        "{column: COLUMN, unit: days}")
    unknown = sorted(set(params) - {"value", "column", "unit"})
    if unknown:
        raise SpecError(f"iso_duration: unknown parameter(s) {unknown}")
    if ("value" in params) == ("column" in params):
        raise SpecError("iso_duration takes either value (a variable mapped earlier in the "
                        "block) or column (a raw column)")
    unit = str(params.get("unit", "")).strip().lower()
    if unit not in DURATION_UNITS:
        raise SpecError(f"iso_duration needs a unit, one of {', '.join(DURATION_UNITS)} "
                        f"(got {unit or 'none'!r})")


def apply_iso_duration(ctx: Context, params: Any) -> Result:
    """A number of units -> ISO 8601 duration: 7 days 'P7D', 1.5 hours 'PT1.5H', 5 days
    before the reference '-P5D' (the SDTMIG --ELTM convention for a negative duration). The
    number is a target variable mapped earlier in the block (`value`) or a raw column
    (`column`); no number gives null, text that is no number an error."""
    check_iso_duration(params)
    spec = params
    unit = str(spec["unit"]).strip().lower()
    source = ctx.variable(spec["value"]) if "value" in spec else ctx.column(spec["column"])
    if pd.api.types.is_numeric_dtype(source):
        number = source.astype("float64")
        bad = pd.Series(False, index=source.index)
    else:
        text = stripped_text(source)
        number = on_distinct(_parse_number, text)
        bad = number.isna() & (text != "")
    designator, in_time = DURATION_UNITS[unit]
    head = "PT" if in_time else "P"
    text = on_distinct(lambda v: _durations(v, head, designator), number)
    return Result(text.astype(object), reasons(bad, "not a number"))


def _durations(values: pd.Series, head: str, designator: str) -> pd.Series:
    def one(v: float) -> str:
        if not np.isfinite(v):
            return ""
        amount = np.format_float_positional(abs(float(v)), trim="-")
        return ("-" if v < 0 else "") + head + amount + designator
    return values.map(one).astype(object)


def describe_nominal_day(params: Any) -> str:
    column = params["column"] if isinstance(params, dict) else params
    return (f"The planned day of the visit ({column}) counted from the day of the reference "
            "start DM.RFSTDTC (day 0): the visit's planned study day (VISITDY) minus 1 from "
            "study day 1 on, VISITDY itself before it (there is no study day 0); null for a "
            "visit without a planned day.")


def describe_iso_duration(params: Any) -> str:
    spec = params if isinstance(params, dict) else {}
    what = spec.get("value") or spec.get("column") or "the value"
    unit = str(spec.get("unit", "days")).lower()
    designator, in_time = DURATION_UNITS.get(unit, ("D", False))
    example = ("PT" if in_time else "P") + "7" + designator
    return (f"{what} ({unit}) as an ISO 8601 duration: 7 {unit} is {example}, a negative "
            f"value (before the reference) -{example}; null without a value.")


def _aggregate(ctx: Context, spec: dict, take_last: bool) -> Result:
    df = domain_rows(ctx, spec)
    # a list of variables: the first non-empty one per record (EXENDTC, else EXSTDTC)
    names = spec["variable"] if isinstance(spec["variable"], list) else [spec["variable"]]
    var = names[0]
    value = df[var].astype(object).fillna("")
    for other in names[1:]:
        value = value.where(value != "", df[other].astype(object).fillna(""))
    values = pd.DataFrame({"USUBJID": df["USUBJID"], var: value})
    values = values[values[var] != ""]
    # ISO 8601 text sorts chronologically at equal precision; ties keep the more precise value
    ordered = values.sort_values(var, kind="stable")
    pick = ordered.groupby("USUBJID", sort=False)[var].last() if take_last \
        else ordered.groupby("USUBJID", sort=False)[var].first()
    out = ctx.usubjid.map(pick).astype(object).fillna("")  # object first: pick may be empty
    return Result(out, ctx.no_errors())


def apply_first(ctx: Context, params: Any) -> Result:
    """Earliest value of a variable among the subject's records in a built domain."""
    return _aggregate(ctx, params, take_last=False)


def apply_last(ctx: Context, params: Any) -> Result:
    """Latest value of a variable among the subject's records in a built domain."""
    return _aggregate(ctx, params, take_last=True)


def apply_most_complete_date(ctx: Context, params: Any) -> Result:
    """The most complete of several records of one date (e.g. a death date on the death form,
    the DS death record and a fatal AE's end): sources are raw columns ({column: C}) or a
    built domain's values ({domain, variable, where}). Dates that agree (one is a prefix of the
    other: 2021-04 and 2021-04-27) give the most precise; dates that disagree keep the first
    source's value, and the disagreement is an error to query."""
    sources = params["sources"] if isinstance(params, dict) else params
    candidates = [_date_source(ctx, src) for src in sources]
    rows = zip(*(c.tolist() for c in candidates), strict=True)
    picked, problems = [], []
    for values in rows:
        known = [v for v in values if v]
        best = max(known, key=len, default="")
        agree = all(best.startswith(v) for v in known)
        picked.append(best if agree else values[0] or best)
        problems.append("" if agree else "dates disagree: " + ", ".join(dict.fromkeys(known)))
    index = ctx.frame.index
    return Result(pd.Series(picked, index=index, dtype=object),
                  pd.Series(problems, index=index, dtype=object))


def _date_source(ctx: Context, src: dict) -> pd.Series:
    if "column" in src:
        return dates.parse_raw_dates(ctx.column(src["column"])).kept().astype(str)
    if str(src["domain"]).upper() not in ctx.domains:  # a study mapping DM without AE, say
        return pd.Series("", index=ctx.frame.index, dtype=object)
    rows = domain_rows(ctx, src)
    values = text_column(rows[src["variable"]])
    keep = values != ""
    # several records (two fatal events): the most precise, then the latest
    ordered = pd.DataFrame({"USUBJID": rows["USUBJID"][keep], "v": values[keep]})
    ordered = ordered.assign(n=ordered["v"].str.len()).sort_values(["n", "v"], kind="stable")
    best = ordered.groupby("USUBJID", sort=False)["v"].last()
    return ctx.usubjid.map(best).astype(object).fillna("").astype(str)
