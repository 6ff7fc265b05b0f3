"""Mapping algorithms: how one target variable gets its values from raw columns.

Each algorithm is one function ``apply(ctx, params) -> Result``: values for every row of the
record block, plus an error reason per row ("" when fine). The engine rejects (or flags) rows
with errors. ``columns(params)`` lists the raw columns an algorithm reads, so a mapping can be
checked against the files' headers before any data is read. Nothing here evaluates spec text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cdisc import dates
from cdisc.distinct import on_distinct
from cdisc.errors import SpecError


@dataclass
class Result:
    values: pd.Series
    errors: pd.Series  # str per row: "" or the reason the value could not be mapped
    extra: dict[str, pd.Series] = field(default_factory=dict)  # companion variables (VISITNUM)


class Context:
    """What an algorithm may read: the block's joined raw rows and, in phase 2, built domains."""

    def __init__(self, frame: pd.DataFrame, primary: str, target: str, target_numeric: bool,
                 lookup: Callable[[str], Any], visits: pd.DataFrame | None,
                 domains: dict[str, pd.DataFrame] | None, usubjid: pd.Series,
                 default_codelist: str | None, aliases: frozenset[str] = frozenset(),
                 mapped: dict[str, pd.Series] | None = None) -> None:
        self.frame = frame
        self.primary = primary
        self.target = target
        self.target_numeric = target_numeric
        self.lookup = lookup
        self.visits = visits
        self.domains = domains if domains is not None else {}
        self.usubjid = usubjid
        self.default_codelist = default_codelist
        self.aliases = aliases | {primary}
        self.mapped = mapped if mapped is not None else {}  # target variables mapped so far

    def column(self, ref: str) -> pd.Series:
        return self.frame[qualify(ref, self.primary, self.aliases)]

    def variable(self, name: str) -> pd.Series:
        """A target variable mapped earlier in the same block (mapping order)."""
        if name not in self.mapped:
            raise SpecError(f"{self.target}: refers to {name}, which must be mapped earlier in "
                            "the same records block")
        return self.mapped[name]

    def no_errors(self) -> pd.Series:
        return pd.Series("", index=self.frame.index, dtype=object)


def reasons(mask: pd.Series, reason: str) -> pd.Series:
    """`reason` where mask is true, else "": one shared str object each, not one per row."""
    out = np.full(len(mask), "", dtype=object)
    out[np.asarray(mask, dtype=bool)] = reason
    return pd.Series(out, index=mask.index)


def qualify(ref: str, primary: str, aliases: frozenset[str] | set[str] = frozenset()) -> str:
    """'COL' -> 'primary.COL'; 'alias.COL' stays when alias is a joined form. Raw column names
    may contain dots themselves (IT.AETERM): only a known alias prefix counts."""
    head = ref.split(".", 1)[0]
    return ref if "." in ref and (head in aliases or head == primary) else f"{primary}.{ref}"


def _text(values: pd.Series) -> pd.Series:
    """Raw cell -> stripped str ('' for missing)."""
    return on_distinct(_strip_text, values)


def _strip_text(values: pd.Series) -> pd.Series:
    out = values.astype(object).where(values.notna(), "")
    return out.astype(str).str.strip().astype(object)


# --- assign -------------------------------------------------------------------------------------

def apply_assign(ctx: Context, params: Any) -> Result:
    """Copy the collected value as is (trimmed). Numeric targets parse the text as a number."""
    raw = ctx.column(params)
    if ctx.target_numeric:
        return _to_number(raw, ctx, {})
    return Result(_text(raw), ctx.no_errors())


def apply_number(ctx: Context, params: Any) -> Result:
    """Parse a number; optional min/max bounds reject implausible values."""
    spec = params if isinstance(params, dict) else {"column": params}
    return _to_number(ctx.column(spec["column"]), ctx, spec)


def _to_number(raw: pd.Series, ctx: Context, spec: dict) -> Result:
    if pd.api.types.is_numeric_dtype(raw):
        values = raw.astype("float64")
        text_missing = values.isna()
        bad = pd.Series(False, index=raw.index)
    else:
        text = _text(raw)
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
    return Result(values.where(errors == "", np.nan), errors)


def _parse_number(text: pd.Series) -> pd.Series:
    """Text -> float; '', words and non-finite spellings ('inf', '1e400') -> NaN."""
    values = pd.to_numeric(text.where(text != "", None), errors="coerce").astype("float64")
    return values.where(np.isfinite(values))


def apply_split(ctx: Context, params: Any) -> Result:
    """One part of a delimited value: {column: PATNUM, sep: "-", part: 1} -> "701" of "701-1015".
    A value with fewer parts is an error."""
    text = _text(ctx.column(params["column"]))
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
    mapped, unmapped = lookup.map(ctx.column(spec["column"]))
    reason = f"not in codelist {codelist} nor in the study CT map"
    errors = reasons(unmapped, reason)
    return Result(mapped, errors)


def apply_hardcode(ctx: Context, params: Any) -> Result:
    """The same value on every record (checked against the target's codelist at load time)."""
    if ctx.target_numeric:
        values = pd.Series(float(params), index=ctx.frame.index)
    else:
        values = pd.Series(str(params), index=ctx.frame.index, dtype=object)
    return Result(values, ctx.no_errors())


# --- dates ----------------------------------------------------------------------------------------

def apply_datetime(ctx: Context, params: Any) -> Result:
    """Raw date (+ optional time) -> ISO 8601; partial dates stay partial, never imputed."""
    spec = params if isinstance(params, dict) else {"date": params}
    raw = ctx.column(spec["date"])
    parsed = (dates.parse_with_format(raw, spec["format"]) if spec.get("format")
              else dates.parse_raw_dates(raw))
    iso, errors = parsed.iso, parsed.error.astype(object)
    if "time" in spec:
        times = dates.parse_raw_times(ctx.column(spec["time"]))
        iso = dates.combine_date_time(iso, times.iso)
        errors = errors.where(errors != "", times.error.astype(object))
    return Result(iso.astype(object), errors)


# --- visits ---------------------------------------------------------------------------------------

def apply_visit(ctx: Context, params: Any) -> Result:
    """Visit folder -> VISIT and VISITNUM from the study's visit table."""
    if ctx.visits is None:
        raise SpecError("the visit algorithm needs 'visits:' in study.yaml")
    folder = _text(ctx.column(params)).str.upper()
    table = ctx.visits.set_index("folder")
    visit = folder.map(table["visit"])
    # unscheduled folders carry no number here: --VISITNUM is derived from their date later
    visitnum = folder.map(table["visitnum"]).astype("float64")
    unknown = visit.isna() & (folder != "")
    errors = reasons(unknown, "visit folder not in the study visit table")
    return Result(visit.fillna("").astype(object), errors, {"VISITNUM": visitnum})


# --- conditions -----------------------------------------------------------------------------------

def evaluate_condition(ctx: Context, cond: dict) -> pd.Series:
    """Boolean mask for one condition: column tests on raw rows or presence in a built domain."""
    if "all" in cond or "any" in cond:
        parts = [evaluate_condition(ctx, c) for c in cond.get("all", cond.get("any", []))]
        if not parts:
            raise SpecError("'all'/'any' need a list of conditions")
        out = parts[0]
        for p in parts[1:]:
            out = (out & p) if "all" in cond else (out | p)
        return out
    if "domain_has" in cond or "domain_lacks" in cond:
        spec = cond.get("domain_has") or cond["domain_lacks"]
        subjects = _domain_rows(ctx, spec)["USUBJID"].unique()
        has = ctx.usubjid.isin(subjects)
        return has if "domain_has" in cond else ~has
    col = ctx.frame.get(qualify(cond["column"], ctx.primary, ctx.aliases))
    if col is None:
        raise SpecError(f"condition refers to unknown column {cond['column']}")
    present_mask = col.notna()
    text = _text(col)
    if "present" in cond:  # the joined form has a row for this subject
        return present_mask == bool(cond["present"])
    norm = text.str.casefold()
    if "equals" in cond:
        return norm == str(cond["equals"]).casefold()
    if "in" in cond:
        return norm.isin([str(v).casefold() for v in cond["in"]])
    if "not_in" in cond:
        return ~norm.isin([str(v).casefold() for v in cond["not_in"]])
    if "missing" in cond:
        return (text == "") == bool(cond["missing"])
    raise SpecError(f"unknown condition {sorted(cond)}")


def case_branches(params: Any) -> tuple[list[dict], dict | None]:
    """A case is a list of {when, then} branches and at most one {else: rule} branch."""
    if not isinstance(params, list):
        raise SpecError("'case' takes a list of {when: ..., then: ...} branches")
    branches, otherwise = [], None
    for b in params:
        if not isinstance(b, dict) or not ({"when", "then"} == set(b) or set(b) == {"else"}):
            raise SpecError(f"a case branch needs 'when' and 'then' (or only 'else'), got {b}")
        if "else" in b:
            otherwise = b["else"]
        else:
            branches.append(b)
    return branches, otherwise


def apply_case(ctx: Context, params: Any) -> Result:
    """First matching 'when' gives the value; rows matching none get 'else' (or null)."""
    n = len(ctx.frame)
    values = (pd.Series(np.nan, index=ctx.frame.index) if ctx.target_numeric
              else pd.Series("", index=ctx.frame.index, dtype=object))
    errors = ctx.no_errors()
    decided = pd.Series(False, index=ctx.frame.index)
    branches, otherwise = case_branches(params)
    for branch in branches:
        mask = evaluate_condition(ctx, branch["when"]) & ~decided
        if mask.any():
            sub = apply_rule(ctx, branch["then"])
            values = values.mask(mask, sub.values)
            errors = errors.mask(mask, sub.errors)
        decided |= mask
    if otherwise is not None and (~decided).any():
        sub = apply_rule(ctx, otherwise)
        values = values.mask(~decided, sub.values)
        errors = errors.mask(~decided, sub.errors)
    assert len(values) == n
    return Result(values, errors)


# --- phase 2: values from built domains -----------------------------------------------------------

def _domain_rows(ctx: Context, spec: dict) -> pd.DataFrame:
    name = spec["domain"].upper()
    if name not in ctx.domains:
        raise SpecError(f"domain {name} is referenced but not mapped (list it in 'domains:')")
    df = ctx.domains[name]
    for var, wanted in (spec.get("where") or {}).items():
        if var not in df.columns:
            raise SpecError(f"{name}.{var} is referenced in a 'where' but not mapped")
        allowed = wanted if isinstance(wanted, list) else [wanted]
        df = df[df[var].isin([str(v) for v in allowed])]
    return df


def _aggregate(ctx: Context, spec: dict, take_last: bool) -> Result:
    df = _domain_rows(ctx, spec)
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


# --- registry ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Algorithm:
    apply: Callable[[Context, Any], Result]
    origin: str  # Define-XML origin type of a variable mapped this way
    phase: int = 1  # 2: needs the built domains


def _column_refs(params: Any, name: str) -> list[str]:
    if name in ("assign", "visit"):
        return [params]
    if name == "split":
        return [params["column"]]
    if name in ("number", "assign_ct"):
        return [params["column"] if isinstance(params, dict) else params]
    if name == "datetime":
        spec = params if isinstance(params, dict) else {"date": params}
        return [spec[k] for k in ("date", "time") if k in spec]
    return []


ALGORITHMS: dict[str, Algorithm] = {
    "assign": Algorithm(apply_assign, "Collected"),
    "split": Algorithm(apply_split, "Collected"),
    "number": Algorithm(apply_number, "Collected"),
    "assign_ct": Algorithm(apply_assign_ct, "Collected"),
    "hardcode": Algorithm(apply_hardcode, "Assigned"),
    "datetime": Algorithm(apply_datetime, "Collected"),
    "visit": Algorithm(apply_visit, "Assigned"),
    "case": Algorithm(apply_case, "Derived"),
    "first": Algorithm(apply_first, "Derived", phase=2),
    "last": Algorithm(apply_last, "Derived", phase=2),
}

def _register_findings() -> None:
    from cdisc.sdtm import findings as f

    ALGORITHMS.update({
        "standard_value": Algorithm(f.apply_standard_value, "Derived"),
        "standard_text": Algorithm(f.apply_standard_text, "Derived"),
        "standard_unit": Algorithm(f.apply_standard_unit, "Derived"),
        "reference_range": Algorithm(f.apply_reference_range, "Derived"),
        "ctcae_grade": Algorithm(f.apply_ctcae_grade, "Derived"),
        "decode": Algorithm(f.apply_decode, "Assigned"),
    })


_register_findings()
RULE_OPTIONS = {"on_error", "origin", "method", "source"}


def rule_algorithm(rule: dict) -> tuple[str, Any]:
    """The one algorithm key of a rule and its parameters."""
    names = [k for k in rule if k in ALGORITHMS]
    unknown = [k for k in rule if k not in ALGORITHMS and k not in RULE_OPTIONS]
    if unknown:
        raise SpecError(f"unknown algorithm or option {unknown} (algorithms: "
                        f"{', '.join(ALGORITHMS)}; options: {', '.join(sorted(RULE_OPTIONS))})")
    if len(names) != 1:
        raise SpecError(f"a variable rule needs exactly one algorithm, got {names or 'none'}")
    return names[0], rule[names[0]]


def apply_rule(ctx: Context, rule: dict) -> Result:
    name, params = rule_algorithm(rule)
    return ALGORITHMS[name].apply(ctx, params)


def rule_phase(rule: dict) -> int:
    """2 when the rule (or any nested branch) reads built domains."""
    name, params = rule_algorithm(rule)
    if ALGORITHMS[name].phase == 2:
        return 2
    if name == "case":
        branches, otherwise = case_branches(params)
        nested = [b["then"] for b in branches] + ([otherwise] if otherwise else [])
        if any(condition_uses_domains(b["when"]) for b in branches):
            return 2
        return max([rule_phase(r) for r in nested] + [1])
    return 1


def condition_columns(cond: dict) -> list[str]:
    """Raw columns a condition reads (through all/any)."""
    if "all" in cond or "any" in cond:
        return [c for sub in cond.get("all", cond.get("any", [])) for c in condition_columns(sub)]
    return [cond["column"]] if "column" in cond else []


def condition_uses_domains(cond: dict) -> bool:
    if "all" in cond or "any" in cond:
        return any(condition_uses_domains(c) for c in cond.get("all", cond.get("any", [])))
    return "domain_has" in cond or "domain_lacks" in cond


def rule_columns(rule: dict) -> list[str]:
    """Raw columns a rule reads (including in conditions and nested branches)."""
    name, params = rule_algorithm(rule)
    refs = _column_refs(params, name)
    if name == "case":
        branches, otherwise = case_branches(params)
        for b in branches:
            refs += condition_columns(b["when"])
            refs += rule_columns(b["then"])
        if otherwise:
            refs += rule_columns(otherwise)
    return refs


def rule_codelists(rule: dict, default: str | None) -> list[str]:
    name, params = rule_algorithm(rule)
    if name == "assign_ct":
        cl = params.get("codelist") if isinstance(params, dict) else None
        return [cl or default] if (cl or default) else ["<none>"]
    if name == "case":
        branches, otherwise = case_branches(params)
        out = [c for b in branches for c in rule_codelists(b["then"], default)]
        if otherwise:
            out += rule_codelists(otherwise, default)
        return out
    return []


def rule_hardcodes(rule: dict) -> list[Any]:
    name, params = rule_algorithm(rule)
    if name == "hardcode":
        return [params]
    if name == "case":
        branches, otherwise = case_branches(params)
        out = [v for b in branches for v in rule_hardcodes(b["then"])]
        if otherwise:
            out += rule_hardcodes(otherwise)
        return out
    return []
