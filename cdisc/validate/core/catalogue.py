"""The rule catalogue: CDISC CORE's SDTMIG 3.4 rules (vendored, unchanged) and our own rules
written in the same schema (validation/rules/own.yaml), as `Rule` objects."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cdisc.paths import VALIDATION_DIR

CORE_CATALOGUE = VALIDATION_DIR / "rules" / "core-sdtmig-3-4.json.gz"
OWN_CATALOGUE = VALIDATION_DIR / "rules" / "own.yaml"
ERRATA = VALIDATION_DIR / "rules" / "errata.yaml"


@dataclass(frozen=True)
class Rule:
    core_id: str  # "CORE-000001", or our own id ("CD0004", "TRC1734", "AD0001")
    references: tuple[str, ...]  # CDISC SDTMIG ids (CG...) then FDA ids (FB..., TRC...)
    message: str
    description: str
    rule_type: str  # "Record Data", "Domain Presence Check", ...
    sensitivity: str  # Record | Dataset | Group
    severity: str  # reject | error | warning | notice
    executability: str
    classes_in: tuple[str, ...] = ()
    classes_out: tuple[str, ...] = ()
    domains_in: tuple[str, ...] = ()
    domains_out: tuple[str, ...] = ()
    include_split: bool | None = None
    conditions: dict = field(default_factory=dict, compare=False, hash=False)
    operations: tuple = ()
    match: tuple = ()  # the rule's "datasets" (match_datasets joins)
    output_variables: tuple[str, ...] = ()
    grouping_variables: tuple[str, ...] = ()
    standard: str = "SDTMIG"  # SDTMIG | ADaMIG | package (both, or the whole submission)
    python: str = ""  # a check of cdisc/validate/checks.py, for what the schema cannot say
    source: str = "CORE"  # CORE | own
    erratum: str = ""  # why a correction from validation/rules/errata.yaml was applied

    @property
    def reference(self) -> str:
        return ", ".join(self.references)


def _references(rule: dict) -> tuple[str, ...]:
    """The SDTMIG conformance rule ids (CDISC) and the FDA business / rejection rule ids."""
    cdisc: list[str] = []
    fda: list[str] = []
    for authority in rule.get("authorities") or []:
        for standard in authority.get("Standards") or []:
            if standard.get("Name") != "SDTMIG":
                continue
            for ref in standard.get("References") or []:
                rid = (ref.get("Rule_Identifier") or {}).get("Id")
                bucket = cdisc if authority.get("Organization") == "CDISC" else fda
                if rid and rid not in bucket:
                    bucket.append(rid)
    return tuple(cdisc + fda)


def _severity(rule: dict, references: tuple[str, ...]) -> str:
    if rule.get("severity"):
        return str(rule["severity"])
    if any(r.startswith("TRC") for r in references):
        return "reject"  # an FDA Technical Rejection Criterion
    if "overreporting" in str(rule.get("executability", "")):
        return "warning"  # CORE says it may report records that are fine
    return "error"


def _scope(block: object) -> tuple[tuple[str, ...], tuple[str, ...], bool | None]:
    block = block if isinstance(block, dict) else {}
    return (tuple(block.get("Include") or ()), tuple(block.get("Exclude") or ()),
            block.get("include_split_datasets"))


def rule_from_dict(raw: dict, source: str = "CORE") -> Rule:
    refs = tuple(raw["references"]) if "references" in raw else _references(raw)
    actions = raw.get("actions") or [{}]
    message = str((actions[0].get("params") or {}).get("message") or raw.get("message") or "")
    classes_in, classes_out, _ = _scope(raw.get("classes"))
    domains_in, domains_out, split = _scope(raw.get("domains"))
    return Rule(
        core_id=str(raw["core_id"]), references=refs, message=message,
        description=str(raw.get("description") or message), rule_type=str(raw["rule_type"]),
        sensitivity=str(raw.get("sensitivity") or "Record"),
        severity=_severity(raw, refs), executability=str(raw.get("executability") or ""),
        classes_in=classes_in, classes_out=classes_out, domains_in=domains_in,
        domains_out=domains_out, include_split=split, conditions=raw.get("conditions") or {},
        operations=tuple(raw.get("operations") or ()), match=tuple(raw.get("datasets") or ()),
        output_variables=tuple(raw.get("output_variables") or ()),
        grouping_variables=tuple(raw.get("grouping_variables") or ()),
        standard=str(raw.get("standard") or "SDTMIG"), python=str(raw.get("python") or ""),
        source=source, erratum=str(raw.get("erratum") or ""))


def _substitute(node: object, table: dict) -> object:
    if isinstance(node, str):
        return table.get(node, node)
    if isinstance(node, list):
        return [_substitute(v, table) for v in node]
    if isinstance(node, dict):
        return {k: _substitute(v, table) for k, v in node.items()}
    return node


def apply_erratum(raw: dict, erratum: dict) -> dict:
    """The rule with the erratum's corrections (a new dict; the catalogue is not changed)."""
    out = dict(raw)
    table = {str(k): str(v) for k, v in (erratum.get("substitute") or {}).items()}
    for key in ("conditions", "operations", "output_variables"):
        if key in out and table:
            out[key] = _substitute(out[key], table)
    if "conditions" in erratum:
        out["conditions"] = erratum["conditions"]
    out["erratum"] = str(erratum["reason"])
    return out


def read_core_catalogue(path: Path = CORE_CATALOGUE) -> list[dict]:
    with gzip.open(path, "rb") as handle:
        return json.loads(handle.read())


@lru_cache(maxsize=1)
def load_catalogue() -> tuple[Rule, ...]:
    """Every rule: CORE's (published ones) then ours, each id once."""
    from cdisc.yamlsafe import load_yaml

    errata = {str(e["core_id"]): e for e in (load_yaml(ERRATA) if ERRATA.exists() else [])}
    rules = [rule_from_dict(apply_erratum(r, errata[r["core_id"]]) if r["core_id"] in errata
                            else r)
             for r in read_core_catalogue() if r.get("status") == "Published"]
    if OWN_CATALOGUE.exists():
        rules += [rule_from_dict(r, "own") for r in load_yaml(OWN_CATALOGUE) or []]
    ids = [r.core_id for r in rules]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ValueError(f"rule ids defined twice: {', '.join(duplicated)}")
    return tuple(rules)
