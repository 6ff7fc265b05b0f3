"""Algorithms for Findings results: standard units, reference range indicator, CTCAE grade,
test-name decode. They read target variables mapped earlier in the same block (LBTESTCD,
LBORRES, LBORRESU...), so the mapping lists those first.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from cdisc.distinct import factorize_objects, on_distinct, on_distinct_rows
from cdisc.text import is_str_column, stripped_text, text_column
from cdisc.sdtm.context import Context, Result, reasons
from cdisc.specs import load_ctcae_grades, load_unit_conversions

CENSORED = r"^\s*([<>]=?)\s*([0-9]*\.?[0-9]+)\s*$"


def _number_text(values: pd.Series, decimals: pd.Series) -> pd.Series:
    """Numbers as plain text with the decimals their precision gives ('5.0' for 4.995 from 90,
    '1.520', '21'), trimmed where the precision is unknown; one str per distinct value."""
    decimals = decimals.reindex(values.index)
    out = pd.Series("", index=values.index, dtype=object)
    unknown = values.notna() & decimals.isna()  # no collected digits (BLQ): plain, trimmed
    plain = {v: np.format_float_positional(round(float(v), 6), trim="-")
             for v in values[unknown].unique()}
    out[unknown] = values[unknown].map(plain)
    for d in decimals[values.notna()].dropna().unique():  # a handful of precisions
        rows = values.notna() & (decimals == d)
        text = {v: f"{v:.{int(d)}f}" for v in values[rows].unique()}
        out[rows] = values[rows].map(text)
    return out


MIN_DIGITS = 2  # a converted result keeps at least two significant digits


def significant_digits(values: pd.Series) -> pd.Series:
    """Significant digits of collected number text, at least two: '89' 2, '0.67' 2, '1.20' 3,
    '<0.10' 2, '125000' 3 and '4500' 2 (trailing zeros of a whole number are not significant),
    '1' 2; NaN when the text is not a number (a word such as BLQ)."""
    text = values.astype(str).str.strip().str.replace(r"^[<>]=?\s*", "", regex=True)
    number = text.str.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)")
    whole = ~text.str.contains(".", regex=False)
    digits = text.str.replace(r"[-+.]", "", regex=True).str.lstrip("0")
    digits = digits.where(~whole, digits.str.rstrip("0"))
    count = digits.str.len().clip(lower=MIN_DIGITS)
    return count.where(number & (digits != ""), np.nan).astype("float64")


def round_significant(values: pd.Series, digits: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(values rounded half away from zero to the given significant digits, the decimals that
    leaves; 6 decimals where the digits are unknown): a converted result keeps the precision it
    was collected with (89 mg/dL glucose x 0.0555 is 4.9 mmol/L, not 4.9395)."""
    x = values.to_numpy(dtype="float64")
    n = digits.reindex(values.index).to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.abs(x)))
        decimals = np.where(np.isnan(n), 6, n - 1 - magnitude)
        decimals = np.where(np.isfinite(decimals), decimals, 6)
        scale = 10.0 ** decimals
        # the small nudge keeps binary halves (4.25 stored as 4.2499999) rounding up
        rounded = np.sign(x) * np.floor(np.abs(x) * scale + 0.5 + 1e-9) / scale
    rounded = np.where(x == 0, 0.0, rounded)
    return (pd.Series(rounded, index=values.index),
            pd.Series(np.where(np.isnan(n), np.nan, np.clip(decimals, 0, None)),
                      index=values.index))


def _conversion(test: pd.Series, unit: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(factor, standard unit, unknown-conversion mask) for each record."""
    table = load_unit_conversions()
    # look up each distinct (test, unit) pair once
    test_codes, tests = factorize_objects(test.astype(object).fillna("").to_numpy())
    unit_codes, units = factorize_objects(unit.astype(object).fillna("").to_numpy())
    pair_codes, pairs = pd.factorize(test_codes * len(units) + unit_codes)
    found = [table.get((str(tests[p // len(units)]), str(units[p % len(units)])))
             for p in pairs]
    factor = np.array([f[1] if f else np.nan for f in found], dtype="float64")[pair_codes]
    std_unit = np.array([f[0] if f else "" for f in found], dtype=object)[pair_codes]
    unknown = np.array([f is None for f in found], dtype=bool)[pair_codes]
    index = test.index
    return (pd.Series(factor, index=index), pd.Series(std_unit, index=index, dtype=object),
            pd.Series(unknown, index=index))


def _parse(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(number, censoring operator '<'/'>' or '', not-a-number mask) of result text."""
    parsed = on_distinct(_parse_results, values)
    return parsed["number"], parsed["operator"], parsed["bad"]


def _parse_results(values: pd.Series) -> pd.DataFrame:
    text = stripped_text(values)
    number = pd.to_numeric(text.where(text != "", None), errors="coerce").astype("float64")
    censored = text.str.extract(CENSORED)
    operator = censored[0].fillna("").astype(object)
    limit = pd.to_numeric(censored[1], errors="coerce")
    bad = number.isna() & limit.isna() & (text != "")
    return pd.DataFrame({"number": number.where(operator == "", limit), "operator": operator,
                         "bad": bad})


def _below_limit(spec: dict, raw: pd.Series, limit_text: pd.Series | None, value: pd.Series,
                 operator: pd.Series, bad: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Results reported as words meaning 'below the limit of quantitation' (e.g. BLQ) become
    '<LLOQ', with the limit read from a raw column (limit_text)."""
    below = spec.get("below_limit")
    if not below:
        return value, operator, bad
    words = {str(w).strip().casefold() for w in below["values"]}
    hit = raw.astype(str).str.strip().str.casefold().isin(words)
    limit = pd.to_numeric(limit_text.astype(str).str.strip(), errors="coerce")
    value = value.mask(hit, limit)
    operator = operator.mask(hit & limit.notna(), "<")
    bad = bad & ~(hit & limit.notna())
    return value, operator, bad


@dataclass
class Standard:
    """A result in its test's standard unit, and what was found on the way."""

    converted: pd.Series  # the number in the standard unit, at the collected precision
    operator: pd.Series  # '<', '>' ... of a censored result, else ''
    unit: pd.Series  # the standard unit
    errors: pd.Series  # '' or why there is no standard result
    decimals: pd.Series  # decimals the collected precision gives (NaN: unknown)
    factor: pd.Series  # the conversion factor (1: unconverted)
    collected: pd.Series  # the collected result text, stripped


# The last standard computed and weak references to what it was computed from: the standard
# text, value and unit of a block share one computation (each input is the same object).
_last_standard: list[tuple[str, tuple[weakref.ref, ...], Standard]] = []


def _standard(ctx: Context, spec: dict) -> Standard:
    inputs = (ctx.frame, ctx.variable(spec.get("value", "LBORRES")),
              ctx.variable(spec.get("test", "LBTESTCD")),
              ctx.variable(spec.get("unit", "LBORRESU")))
    key = repr(sorted(spec.items()))
    if _last_standard:
        last_key, refs, std = _last_standard[0]
        if last_key == key and all(r() is x for r, x in zip(refs, inputs, strict=True)):
            return std
    std = _compute_standard(ctx, spec)
    _last_standard[:] = [(key, tuple(weakref.ref(x) for x in inputs), std)]
    weakref.finalize(ctx.frame, _last_standard.clear)  # not kept past its block
    return std


def _compute_standard(ctx: Context, spec: dict) -> Standard:
    """_standard_of once per distinct record of its inputs (a lab domain repeats each result,
    test and unit); only for str columns (is_str_column)."""
    names = {"value": spec.get("value", "LBORRES"), "test": spec.get("test", "LBTESTCD"),
             "unit": spec.get("unit", "LBORRESU")}
    inputs = {key: ctx.variable(name) for key, name in names.items()}
    if spec.get("below_limit"):
        inputs["limit"] = ctx.column(spec["below_limit"]["limit"])
    frame = pd.DataFrame(inputs, copy=False)
    if not all(is_str_column(frame[c]) for c in frame.columns):
        return _standard_of(frame, spec)
    std = on_distinct_rows(_standard_of, frame, spec)
    # spreading infers pandas' str dtype for text: object, as the plain computation gives
    return replace(std, **{name: getattr(std, name).astype(object)
                           for name in ("operator", "unit", "errors", "collected")})


def _standard_of(inputs: pd.DataFrame, spec: dict) -> Standard:
    """The Standard of each record from its value, test, unit (and below-limit limit) columns."""
    raw = inputs["value"]
    value, operator, bad = _below_limit(spec, raw, inputs.get("limit"), *_parse(raw))
    factor, std_unit, unknown = _conversion(inputs["test"], inputs["unit"])
    collected = stripped_text(raw)
    digits = on_distinct(significant_digits, collected)
    rounded, decimals = round_significant(value * factor, digits)
    converted = rounded.where(factor != 1, value)  # factor 1: the number as collected
    errors = pd.Series("", index=value.index, dtype=object)
    errors = errors.mask(bad, NOT_A_NUMBER)
    errors = errors.mask(~bad & value.notna() & unknown, NO_CONVERSION)
    return Standard(converted, operator, std_unit, errors, decimals, factor, collected)


NOT_A_NUMBER = "result is not a number"
NO_CONVERSION = "no conversion for this test and unit in specs/lb_units.csv"


def apply_standard_value(ctx: Context, params: Any) -> Result:
    """Numeric result in the standard unit (censored '<0.1' results have none)."""
    std = _standard(ctx, params or {})
    return Result(std.converted.where((std.operator == "") & (std.errors == ""), np.nan),
                  std.errors)


def apply_standard_text(ctx: Context, params: Any) -> Result:
    """Character result in the standard unit: '20.52', or '<0.1' for a censored result. A result
    that is not a number ('see comment') is kept as collected, and is an error to query."""
    std = _standard(ctx, params or {})
    # once per distinct record of what the text depends on: a lab domain repeats each result;
    # numbers compared by bit pattern, as 0.0 and -0.0 (and their text) differ
    fields = pd.DataFrame({"operator": std.operator, "collected": std.collected,
                           "errors": std.errors, "converted": _float_bits(std.converted),
                           "decimals": _float_bits(std.decimals),
                           "factor": _float_bits(std.factor)}, copy=False)
    return Result(on_distinct_rows(_standard_text_of, fields), std.errors)


def _float_bits(values: pd.Series) -> pd.Series:
    """float64 values as their int64 bit patterns (_bits_float undoes it)."""
    return pd.Series(values.to_numpy(dtype="float64").view(np.int64), index=values.index)


def _bits_float(bits: pd.Series) -> pd.Series:
    return pd.Series(bits.to_numpy(dtype=np.int64).view(np.float64), index=bits.index)


def _standard_text_of(fields: pd.DataFrame) -> pd.Series:
    """apply_standard_text's values from the Standard's fields (numbers as bit patterns)."""
    converted, decimals = _bits_float(fields["converted"]), _bits_float(fields["decimals"])
    factor, collected, errors = _bits_float(fields["factor"]), fields["collected"], fields["errors"]
    text = (fields["operator"] + _number_text(converted, decimals)).where(converted.notna(), "")
    as_collected = on_distinct(_number_as_collected, collected)
    same = (factor == 1) & converted.notna() & on_distinct(_plain_number, collected)
    text = text.where(~same, as_collected)
    not_number = errors == NOT_A_NUMBER
    return text.where(errors == "", "").where(~not_number, collected).astype(object)


def _number_as_collected(collected: pd.Series) -> pd.Series:
    """Unconverted (factor 1): the number as collected, leading zeros and '+' aside ('067.0')."""
    return collected.str.replace(r"\s+", "", regex=True).str.replace(
        r"^([<>]=?)?\+?0*(?=\d)", r"\1", regex=True).astype(object)


def _plain_number(collected: pd.Series) -> pd.Series:
    return collected.str.fullmatch(r"(?:[<>]=?\s*)?\+?(?:\d+\.?\d*|\.\d+)").astype(bool)


def apply_standard_unit(ctx: Context, params: Any) -> Result:
    """The standard unit of the test (specs/lb_units.csv) when a result exists."""
    std = _standard(ctx, params or {})
    has = (std.collected != "") & (std.errors != NOT_A_NUMBER)  # a text result has no unit
    errors = reasons(has & (std.errors == NO_CONVERSION), NO_CONVERSION)
    return Result(std.unit.where(has, "").astype(object), errors)


def _censored(ctx: Context, spec: dict, index: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """(operator '<', '<=', '>', '>=' or '', limit) of censored standard results ('<0.1'),
    read from the character result named by `text` (none when the rule names no text)."""
    if "text" not in spec:
        return np.full(len(index), "", dtype=object), np.full(len(index), np.nan)
    parsed = on_distinct(_parse_censored, ctx.variable(spec["text"]))
    return parsed["operator"].to_numpy(dtype=object), parsed["limit"].to_numpy(dtype="float64")


def _parse_censored(values: pd.Series) -> pd.DataFrame:
    text = text_column(values)
    parts = text.str.extract(CENSORED)
    return pd.DataFrame({"operator": parts[0].fillna("").astype(object),
                         "limit": pd.to_numeric(parts[1], errors="coerce")}, index=values.index)


def _wholly_below(operator: np.ndarray, limit: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """A censored '<x' ('<=x') result lies wholly below bound: x <= bound (x < bound)."""
    with np.errstate(invalid="ignore"):
        return ((operator == "<") & (limit <= bound)) | ((operator == "<=") & (limit < bound))


def _wholly_above(operator: np.ndarray, limit: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """A censored '>x' ('>=x') result lies wholly above bound: x >= bound (x > bound)."""
    with np.errstate(invalid="ignore"):
        return ((operator == ">") & (limit >= bound)) | ((operator == ">=") & (limit > bound))


def apply_reference_range(ctx: Context, params: Any) -> Result:
    """LOW below the standard low limit, HIGH above the high limit, NORMAL between. With
    `text` (the character result), a censored result is LOW or HIGH when its limit decides it
    ('<0.1' with a low limit of 1.8 is LOW); otherwise it has no indicator."""
    spec = params or {}
    value = ctx.variable(spec.get("value", "LBSTRESN"))
    low = ctx.variable(spec.get("low", "LBSTNRLO"))
    high = ctx.variable(spec.get("high", "LBSTNRHI"))
    out = pd.Series("", index=value.index, dtype=object)
    known = value.notna() & (low.notna() | high.notna())
    out = out.mask(known, "NORMAL")
    out = out.mask(value.notna() & low.notna() & (value < low), "LOW")
    out = out.mask(value.notna() & high.notna() & (value > high), "HIGH")
    operator, limit = _censored(ctx, spec, value.index)
    censored = value.isna().to_numpy()
    out = out.mask(censored & _wholly_below(operator, limit, low.to_numpy(dtype="float64")),
                   "LOW")
    out = out.mask(censored & _wholly_above(operator, limit, high.to_numpy(dtype="float64")),
                   "HIGH")
    return Result(out, pd.Series("", index=value.index, dtype=object))


def _limit(bound: tuple[float, str] | None, lln: np.ndarray, uln: np.ndarray,
           default: float) -> np.ndarray:
    if bound is None:
        return np.full(len(lln), default)
    factor, ref = bound
    if ref == "LLN":
        return lln * factor
    if ref == "ULN":
        return uln * factor
    return np.full(len(lln), factor)


def apply_ctcae_grade(ctx: Context, params: Any) -> Result:
    """CTCAE v5.0 grade of a lab result ('0'..'4'); '' when the test is not graded or the
    needed reference limit is missing. Criteria: specs/ctcae_lab.csv, applied in file order
    (a later matching grade overrides), each on the rows of its test only."""
    spec = params or {}
    test = ctx.variable(spec.get("test", "LBTESTCD"))
    result = ctx.variable(spec.get("value", "LBSTRESN"))
    value = result.to_numpy(dtype="float64")
    lln_all = ctx.variable(spec.get("low", "LBSTNRLO")).to_numpy(dtype="float64")
    uln_all = ctx.variable(spec.get("high", "LBSTNRHI")).to_numpy(dtype="float64")
    operator_all, limit_all = _censored(ctx, spec, result.index)
    grade = np.full(len(value), "", dtype=object)
    rows_of = pd.Series(np.arange(len(test))).groupby(test.astype(str).to_numpy()).indices
    for g in load_ctcae_grades():
        rows = rows_of.get(g.test)
        if rows is None:
            continue
        censored = rows[np.isnan(value[rows]) & (operator_all[rows] != "")]
        rows = rows[~np.isnan(value[rows])]
        v, lln, uln = value[rows], lln_all[rows], uln_all[rows]
        lo = _limit(g.low, lln, uln, -np.inf)
        hi = _limit(g.high, lln, uln, np.inf)
        with np.errstate(invalid="ignore"):
            inside = (v >= lo) & (v < hi) if g.direction == "low" else (v > lo) & (v <= hi)
            normal = (v >= lln) if g.direction == "low" else (v <= uln)
        grade[rows[inside & ~np.isnan(lo) & ~np.isnan(hi)]] = GRADE_TEXT[g.grade]
        grade[rows[(grade[rows] == "") & normal]] = GRADE_TEXT[0]
        _grade_censored(g, censored, operator_all, limit_all, lln_all, uln_all, grade)
    return Result(pd.Series(grade, index=result.index),
                  pd.Series("", index=result.index, dtype=object))


def _grade_censored(g: Any, rows: np.ndarray, operator_all: np.ndarray, limit_all: np.ndarray,
                    lln_all: np.ndarray, uln_all: np.ndarray, grade: np.ndarray) -> None:
    """A censored result gets grade g when its whole range lies in g's interval: '<0.1' is
    neutrophils grade 4 (< 0.5), whatever the true value below 0.1; '<0.6' decides nothing."""
    if not len(rows):
        return
    op, limit, lln, uln = operator_all[rows], limit_all[rows], lln_all[rows], uln_all[rows]
    lo = _limit(g.low, lln, uln, -np.inf)
    hi = _limit(g.high, lln, uln, np.inf)
    if g.direction == "low":  # grades [lo, hi): a '<x' range fits only an open-ended lowest grade
        inside = np.isneginf(lo) & _wholly_below(op, limit, hi)
        normal = _wholly_above(op, limit, lln) | ((op == ">=") & (limit == lln))
    else:  # grades (lo, hi]: a '>x' range fits only an open-ended highest grade
        inside = np.isposinf(hi) & _wholly_above(op, limit, lo) | \
            (np.isposinf(hi) & (op == ">=") & (limit > lo))
        normal = _wholly_below(op, limit, uln) | ((op == "<=") & (limit == uln))
    grade[rows[inside & (grade[rows] == "")]] = GRADE_TEXT[g.grade]
    grade[rows[normal & (grade[rows] == "")]] = GRADE_TEXT[0]


GRADE_TEXT = {g: str(g) for g in range(6)}  # one shared str object per grade


def apply_decode(ctx: Context, params: Any) -> Result:
    """Name of a coded value: the term with the same NCI code in the paired codelist (e.g.
    LBTESTCD -> LBTEST), else the study CT map entry for the code (sponsor-defined tests)."""
    values = ctx.variable(params["variable"])
    lookup = ctx.lookup(params["codelist"])
    # `from`: the codelist of the codes, for pairing by NCI code; without it, the list alone
    source = ctx.lookup(params["from"]) if "from" in params else None
    by_code: dict[str, str] = {}
    if lookup.codelist is not None and source is not None and source.codelist is not None:
        names = {t.code: v for v, t in lookup.codelist.terms.items()}
        by_code = {v: names[t.code] for v, t in source.codelist.terms.items() if t.code in names}
    # once per distinct code when the codes are str (is_str_column)
    decoded = on_distinct(_decoded, values, by_code, lookup) if is_str_column(values) \
        else _decoded(values, by_code, lookup)
    errors = reasons(decoded.isna(), f"no {params['codelist']} name for this code")
    return Result(decoded.fillna("").astype(object), errors)


def _decoded(values: pd.Series, by_code: dict[str, str], lookup: Any) -> pd.Series:
    """apply_decode's name of each code: NaN where a code has none, "" for no code."""
    codes = values.astype(str)
    decoded = codes.map(by_code).astype(object)  # object even when no code decodes (all NaN)
    mapped, unmapped = lookup.map(codes.where(decoded.isna(), ""))
    decoded = decoded.fillna(mapped.where(mapped != "", np.nan))
    return decoded.mask(decoded.isna() & (codes == ""), "")


# --- define.xml method text of each algorithm, from its parameters -----------------------------

def _p(params: Any, key: str, default: str) -> str:
    return str((params or {}).get(key, default))


def describe_standard_value(params: Any) -> str:
    return (f"{_p(params, 'value', 'LBORRES')} as a number in the standard unit of the test "
            f"({_p(params, 'test', 'LBTESTCD')}): multiplied by the factor from "
            f"{_p(params, 'unit', 'LBORRESU')} to the standard unit and rounded to the "
            "significant digits collected; null for a censored result ('<0.1') or text that "
            "is not a number.")


def describe_standard_text(params: Any) -> str:
    return (f"{_p(params, 'value', 'LBORRES')} in the standard unit of the test as text: the "
            "converted number, a censored result with its operator ('<0.1'), or text that is "
            "not a number as collected.")


def describe_standard_unit(params: Any) -> str:
    return (f"The standard unit of the test ({_p(params, 'test', 'LBTESTCD')}) when "
            f"{_p(params, 'value', 'LBORRES')} holds a number; null for a text result.")


def describe_reference_range(params: Any) -> str:
    value, low, high = (_p(params, "value", "LBSTRESN"), _p(params, "low", "LBSTNRLO"),
                        _p(params, "high", "LBSTNRHI"))
    text = (f"LOW when {value} < {low}, HIGH when {value} > {high}, NORMAL otherwise; null "
            "without a result or a limit.")
    if (params or {}).get("text"):
        text += (f" A censored {params['text']} ('<0.1') is LOW or HIGH when its limit "
                 "decides it, otherwise null.")
    return text


def describe_ctcae_grade(params: Any) -> str:
    return (f"CTCAE v5.0 grade (0 to 4) of {_p(params, 'value', 'LBSTRESN')} for the graded "
            f"tests ({_p(params, 'test', 'LBTESTCD')}), from the standard value against the "
            f"lower and upper limits of normal ({_p(params, 'low', 'LBSTNRLO')}, "
            f"{_p(params, 'high', 'LBSTNRHI')}) with the CTCAE thresholds for each test; null "
            "for a test CTCAE does not grade or a missing limit.")
