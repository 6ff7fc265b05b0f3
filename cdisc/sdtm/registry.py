"""The one registry of mapping algorithms: for each, the function that applies it, its define
origin, its phase and what it reads (raw columns, codelists, hardcoded values), so adding an
algorithm touches one place. Also the rule walker every check uses and the `case` combinator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cdisc.errors import SpecError
from cdisc.sdtm import algorithms as general
from cdisc.sdtm import findings
from cdisc.sdtm.context import (Context, Result, condition_columns, condition_uses_domains,
                                evaluate_condition)


def _no_columns(_: Any) -> list[str]:
    return []


def _column_param(params: Any) -> list[str]:
    return [params["column"] if isinstance(params, dict) else params]


def _datetime_columns(params: Any) -> list[str]:
    spec = params if isinstance(params, dict) else {"date": params}
    return [spec[k] for k in ("date", "time") if k in spec]


@dataclass(frozen=True)
class Algorithm:
    apply: Callable[[Context, Any], Result]
    origin: str  # Define-XML origin type of a variable mapped this way
    phase: int = 1  # 2: needs the built domains
    columns: Callable[[Any], list[str]] = _no_columns  # raw columns its parameters name
    describe: Callable[[Any], str] | None = None  # define.xml method text from its parameters
    check: Callable[[Any], None] | None = None  # parameter check at load time (SpecError)


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


ALGORITHMS: dict[str, Algorithm] = {
    "assign": Algorithm(general.apply_assign, "Collected", columns=lambda p: [p]),
    "split": Algorithm(general.apply_split, "Collected", columns=_column_param),
    "number": Algorithm(general.apply_number, "Collected", columns=_column_param),
    "assign_ct": Algorithm(general.apply_assign_ct, "Collected", columns=_column_param),
    "hardcode": Algorithm(general.apply_hardcode, "Assigned"),
    "datetime": Algorithm(general.apply_datetime, "Collected", columns=_datetime_columns),
    "visit": Algorithm(general.apply_visit, "Assigned", columns=lambda p: [p]),
    "nominal_day": Algorithm(general.apply_nominal_day, "Derived", columns=_column_param,
                             describe=general.describe_nominal_day),
    "iso_duration": Algorithm(general.apply_iso_duration, "Derived",
                              columns=lambda p: [p["column"]] if "column" in p else [],
                              describe=general.describe_iso_duration,
                              check=general.check_iso_duration),
    "case": Algorithm(apply_case, "Derived"),
    "first": Algorithm(general.apply_first, "Derived", phase=2),
    "last": Algorithm(general.apply_last, "Derived", phase=2),
    "most_complete_date": Algorithm(general.apply_most_complete_date, "Derived", phase=2,
                                    columns=lambda p: [s["column"] for s in (
                                        p["sources"] if isinstance(p, dict) else p)
                                        if "column" in s]),
    "standard_value": Algorithm(findings.apply_standard_value, "Derived",
                        describe=findings.describe_standard_value),
    "standard_text": Algorithm(findings.apply_standard_text, "Derived",
                        describe=findings.describe_standard_text),
    "standard_unit": Algorithm(findings.apply_standard_unit, "Derived",
                        describe=findings.describe_standard_unit),
    "reference_range": Algorithm(findings.apply_reference_range, "Derived",
                        describe=findings.describe_reference_range),
    "ctcae_grade": Algorithm(findings.apply_ctcae_grade, "Derived",
                        describe=findings.describe_ctcae_grade),
    "decode": Algorithm(findings.apply_decode, "Assigned"),
}
RULE_OPTIONS = {"origin", "method", "source", "comment"}


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


def describe_rule(rule: dict) -> str | None:
    """The define.xml method text of a rule: its own `method`, else its algorithm's account
    of its parameters (None when neither says anything)."""
    if rule.get("method"):
        return str(rule["method"])
    name, params = rule_algorithm(rule)
    describe = ALGORITHMS[name].describe
    return describe(params) if describe else None


def apply_rule(ctx: Context, rule: dict) -> Result:
    name, params = rule_algorithm(rule)
    return ALGORITHMS[name].apply(ctx, params)


def walk(rule: dict) -> Iterator[tuple[str, Any, list[dict]]]:
    """(algorithm, parameters, conditions guarding it) for a rule and every rule nested in its
    case branches: the one tree walk behind every question asked of a rule."""
    todo: list[tuple[dict, list[dict]]] = [(rule, [])]
    while todo:
        current, guards = todo.pop(0)
        name, params = rule_algorithm(current)
        yield name, params, guards
        if name == "case":
            branches, otherwise = case_branches(params)
            todo += [(b["then"], [*guards, b["when"]]) for b in branches]
            if otherwise is not None:
                todo.append((otherwise, guards))


def check_rule(rule: dict) -> None:
    """The parameter checks of every algorithm in a rule (and its case branches), before any
    data row is read."""
    for name, params, _ in walk(rule):
        check = ALGORITHMS[name].check
        if check is not None:
            check(params)


def rule_phase(rule: dict) -> int:
    """2 when the rule (or any nested branch or condition) reads built domains."""
    for name, _, guards in walk(rule):
        if ALGORITHMS[name].phase == 2 or any(condition_uses_domains(g) for g in guards):
            return 2
    return 1


def rule_columns(rule: dict) -> list[str]:
    """Raw columns a rule reads: the columns its values come from first (the one a data issue
    names), then the columns its conditions test."""
    values: list[str] = []
    conditions: list[str] = []
    for name, params, guards in walk(rule):
        values += ALGORITHMS[name].columns(params)
        conditions += [c for g in guards[-1:] for c in condition_columns(g)]
    return values + conditions


def rule_codelists(rule: dict, default: str | None) -> list[str]:
    """Codelists a rule maps through (assign_ct: its own or the variable's)."""
    out = []
    for name, params, _ in walk(rule):
        if name == "assign_ct":
            cl = params.get("codelist") if isinstance(params, dict) else None
            out.append(cl or default or "<none>")
    return out


def rule_hardcodes(rule: dict) -> list[Any]:
    return [params for name, params, _ in walk(rule) if name == "hardcode"]
