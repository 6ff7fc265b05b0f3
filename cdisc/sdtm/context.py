"""What a mapping algorithm works with: the Context it reads (the record block's joined raw rows,
target variables mapped earlier, built domains in phase 2) and the Result it returns (values plus
an error reason per row). Shared by every algorithm module; imports none of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cdisc import dates
from cdisc.distinct import on_distinct
from cdisc.errors import SpecError
from cdisc.text import stripped_text, text_column


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


# --- built domains (phase 2) and conditions -----------------------------------------------------------

def domain_rows(ctx: Context, spec: dict) -> pd.DataFrame:
    name = spec["domain"].upper()
    if name not in ctx.domains:
        # a domain the study does not map has no records (a mini study of DM and EX only)
        columns = dict.fromkeys(["USUBJID", spec.get("variable", "USUBJID"),
                                 *(spec.get("where") or {})])
        return pd.DataFrame(columns=list(columns), dtype=object)
    df = ctx.domains[name]
    for var, wanted in (spec.get("where") or {}).items():
        if var not in df.columns:
            raise SpecError(f"{name}.{var} is referenced in a 'where' but not mapped")
        allowed = wanted if isinstance(wanted, list) else [wanted]
        df = df[df[var].isin([str(v) for v in allowed])]
    return df


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
        subjects = domain_rows(ctx, spec)["USUBJID"].unique()
        has = ctx.usubjid.isin(subjects)
        return has if "domain_has" in cond else ~has
    if "prior" in cond:
        return _has_prior(ctx, cond["prior"])
    if "after_last" in cond:
        return _after_last(ctx, cond["after_last"])
    col = ctx.frame.get(qualify(cond["column"], ctx.primary, ctx.aliases))
    if col is None:
        raise SpecError(f"condition refers to unknown column {cond['column']}")
    return on_distinct(_column_test, col, cond).astype(bool)


def _column_test(col: pd.Series, cond: dict) -> pd.Series:
    """A condition on one raw column, value by value (run on its distinct values)."""
    if "present" in cond:  # the joined form has a row for this subject
        return col.notna() == bool(cond["present"])
    text = stripped_text(col)
    norm = text.str.casefold()
    if "equals" in cond:
        return norm == str(cond["equals"]).casefold()
    if "in" in cond:
        return norm.isin([str(v).casefold() for v in cond["in"]])
    if "not_in" in cond:
        return ~norm.isin([str(v).casefold() for v in cond["not_in"]])
    if "missing" in cond:
        return (text == "") == bool(cond["missing"])
    if "starts_with" in cond:
        return norm.str.startswith(str(cond["starts_with"]).casefold()).astype(bool)
    raise SpecError(f"unknown condition {sorted(cond)}")


def _has_prior(ctx: Context, spec: dict) -> pd.Series:
    """True where the subject has an earlier row in the same block (by the raw date column
    `order_by`) whose `column` is in `in`: e.g. a relapse after a complete response."""
    for key in ("column", "in", "order_by"):
        if key not in spec:
            raise SpecError(f"'prior' needs column, in and order_by (missing {key})")
    values = stripped_text(ctx.column(spec["column"])).str.casefold()
    hit = values.isin([str(v).casefold() for v in spec["in"]])
    when = dates.parse_raw_dates(ctx.column(spec["order_by"])).kept().astype(str)
    dated_hit = hit & (when != "")
    # ISO 8601 text sorts in time order at equal precision; the subject's first such row
    first = when[dated_hit].groupby(ctx.usubjid[dated_hit]).min()
    first_of_subject = ctx.usubjid.map(first)
    return (first_of_subject.notna() & (when != "") & (first_of_subject < when)).astype(bool)


def _after_last(ctx: Context, spec: dict) -> pd.Series:
    """True where the raw date `column` falls on a later day than the subject's last value of
    a built domain's date (e.g. an adverse event starting after the last CAR-T infusion)."""
    when = dates.parse_raw_dates(ctx.column(spec["column"])).kept().astype(str).str[:10]
    rows = domain_rows(ctx, spec)
    values = text_column(rows[spec["variable"]]).str[:10]
    last = values[values != ""].groupby(rows["USUBJID"][values != ""]).max()
    reference = ctx.usubjid.map(last).astype(object).fillna("")
    # compare known parts only: 2021-03 is after 2021-02-12 but not after 2021-03-05
    width = np.minimum(when.str.len(), reference.str.len())
    later = pd.Series(False, index=ctx.frame.index)
    for w in (4, 7, 10):  # year, month, day: the ISO prefixes
        rows = width == w
        later |= rows & (when.str[:w] > reference.str[:w])
    return later


def condition_columns(cond: dict) -> list[str]:
    """Raw columns a condition reads (through all/any)."""
    if "all" in cond or "any" in cond:
        return [c for sub in cond.get("all", cond.get("any", [])) for c in condition_columns(sub)]
    if "prior" in cond:
        return [cond["prior"]["column"], cond["prior"]["order_by"]]
    if "after_last" in cond:
        return [cond["after_last"]["column"]]
    return [cond["column"]] if "column" in cond else []


def condition_uses_domains(cond: dict) -> bool:
    if "all" in cond or "any" in cond:
        return any(condition_uses_domains(c) for c in cond.get("all", cond.get("any", [])))
    return "domain_has" in cond or "domain_lacks" in cond or "after_last" in cond
