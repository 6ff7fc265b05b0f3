"""Value-level metadata for define.xml: which values of a result variable mean what.

A lab result variable holds albumin in g/L on one record and a CAR-T transgene copy number on
the next; the reviewer needs each test's type, length, unit codelist and origin. For every
variable specs/define.yaml lists, one value description per distinct combination of its `by`
variables (--TESTCD, RSTESTCD + RSCAT, QNAM), with a `split_by` variable (--SPEC, --METHOD,
--CAT) added where it takes several values within one test. Everything is computed from the
data written, so the description matches the package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

import pandas as pd

from cdisc.datatypes import type_info
from cdisc.model import Column, Dataset, Origin, SponsorCodelist
from cdisc.paths import SPECS_DIR
from cdisc.yamlsafe import load_yaml

FINDINGS_CLASSES = ("FINDINGS", "FINDINGS ABOUT")
# QORIG (SUPPQUAL) -> def:Origin Type
QORIG_TYPES = {"CRF": "Collected", "COLLECTED": "Collected", "DERIVED": "Derived",
               "ASSIGNED": "Assigned", "PROTOCOL": "Protocol", "EDT": "Collected",
               "EPRO": "Collected"}


@lru_cache(maxsize=1)
def define_rules() -> dict:
    """specs/define.yaml: origin sources, value-level metadata rules, result roles."""
    return load_yaml(SPECS_DIR / "define.yaml")


@dataclass(frozen=True)
class WhereClause:
    oid: str
    checks: tuple[tuple[str, str], ...]  # (variable, value): variable EQ value, all of them


@dataclass(frozen=True)
class ValueItem:
    oid: str
    name: str  # the variable, or the QNAM for SUPP-- QVAL
    label: str
    column: Column  # the variable's own metadata, with the value's origin
    values: pd.Series  # the values this description covers (for type and length)
    where: WhereClause
    codelist: str | SponsorCodelist | None  # CT C-code (every value a term) or the sponsor's


@dataclass(frozen=True)
class ValueList:
    oid: str
    dataset: str
    variable: str
    items: tuple[ValueItem, ...]
    variable_method: str | None = None  # the variable's own derivation text


def _oid_part(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", value.strip()) or "BLANK"


def _expand(names: list[str], prefix: str) -> list[str]:
    return [n.replace("--", prefix, 1) if n.startswith("--") else n for n in names]


def rule_for(ds: Dataset) -> dict | None:
    """The value-level rule of a dataset (by, split_by, variables), "--" expanded."""
    rules = define_rules()["value_level"]
    prefix = ds.name[:2]
    if ds.name.startswith("SUPP") and ds.standard == "SDTMIG":
        rule = rules["supplemental"]
    elif ds.name in rules.get("datasets", {}):
        rule = rules["datasets"][ds.name]
    elif ds.dataset_class.upper() in FINDINGS_CLASSES and ds.standard == "SDTMIG":
        rule = rules["findings"]
    else:
        return None
    names = set(ds.data.columns)
    by = _expand(list(rule["by"]), prefix)
    if not set(by) <= names:
        return None
    return {"by": by, "split_by": [c for c in _expand(list(rule.get("split_by") or []), prefix)
                                   if c in names],
            "variables": [c for c in _expand(list(rule["variables"]), prefix) if c in names]}


def _groups(data: pd.DataFrame, by: list[str], split_by: list[str]) -> list[tuple[tuple, pd.Index]]:
    """((variable, value) pairs of the where clause, row index) per value description, in the
    order of the by values; a split variable joins the clause only where it varies."""
    out = []
    for key, part in data.groupby(by, sort=True, dropna=False):  # keys are tuples
        rows = part.index
        clause = tuple(zip(by, (str(k) for k in key), strict=True))
        varying = [c for c in split_by if data.loc[rows, c].nunique(dropna=False) > 1]
        if not varying:
            out.append((clause, rows))
            continue
        for skey, spart in data.loc[rows].groupby(varying, sort=True, dropna=False):
            srows = spart.index
            out.append((clause + tuple(zip(varying, (str(k) for k in skey), strict=True)),
                        srows))
    return out


def _label(ds: Dataset, col: Column, clause: tuple, rows: pd.Index) -> str:
    """The value's label: for SUPP-- the QLABEL, else the variable's label with the test."""
    if col.name == "QVAL" and "QLABEL" in ds.data.columns:
        labels = ds.data.loc[rows, "QLABEL"]
        return str(labels.iloc[0]) if len(labels) else col.label
    test = f"{ds.name[:2]}TEST" if ds.name[:2] + "TEST" in ds.data.columns else None
    if ds.standard == "ADaMIG" and "PARAM" in ds.data.columns:
        test = "PARAM"
    what = str(ds.data.loc[rows, test].iloc[0]) if test and len(rows) else \
        ", ".join(v for _, v in clause)
    return f"{col.label} ({what})"


def _origin(ds: Dataset, col: Column, rows: pd.Index,
            providers: dict[str, str]) -> Origin:
    """The value's origin: QORIG for SUPP-- QVAL; otherwise the variable's, its Source the
    provider of the raw form the records came from (lab data from a vendor)."""
    if col.name == "QVAL" and "QORIG" in ds.data.columns:
        qorig = str(ds.data.loc[rows, "QORIG"].iloc[0]).upper() if len(rows) else ""
        kind = QORIG_TYPES.get(qorig, col.origin.type)
        return Origin(kind, col.origin.source if kind == col.origin.type else None,
                      col.origin.description)
    if col.origin.type != "Collected" or ds.trace is None or "source_file" not in ds.trace:
        return col.origin
    files = ds.trace["source_file"].reindex(rows)
    kinds = {providers.get(str(f)) for f in files.dropna().unique()} - {None}
    if len(kinds) == 1:
        return replace(col.origin, source=kinds.pop())
    return col.origin


def _codelist(col: Column, clause: tuple, values: pd.Series,
              terms: dict[str, set[str]]) -> str | SponsorCodelist | None:
    """The value's codelist: the one the variable names for this value (a PARAMCD's), else
    the variable's CT codelist when every value is one of its terms."""
    chosen = dict(col.value_codelists).get(str(clause[0][1]))
    if chosen is not None:
        return chosen
    if not isinstance(col.codelist, str) or col.codelist not in terms:
        return None
    present = {str(v) for v in values.unique()} - {"", "nan"}
    return col.codelist if present and present <= terms[col.codelist] else None


def value_lists(ds: Dataset, providers: dict[str, str],
                terms: dict[str, set[str]]) -> list[ValueList]:
    """The dataset's value lists, one per variable the rules name (with values to describe).
    providers: raw file name -> Define Source; terms: codelist C-code -> its submission
    values."""
    rule = rule_for(ds)
    if rule is None or ds.data.empty:
        return []
    groups = _groups(ds.data, rule["by"], rule["split_by"])
    out = []
    for name in rule["variables"]:
        col = ds.column(name)
        items = []
        seen: set[str] = set()
        for clause, rows in groups:
            values = ds.data.loc[rows, name]
            recorded = (values.astype(str) != "").any() if col.type == "Char" else \
                values.notna().any()
            if not recorded:
                continue  # nothing to describe
            part = ".".join(_oid_part(v) for _, v in clause)
            oid = f"{ds.name}.{name}.{part}"
            while oid in seen:  # two values that differ only in punctuation
                oid += "_"
            seen.add(oid)
            label = _label(ds, col, clause, rows)
            # one where clause per combination, shared by the variables it describes
            where = WhereClause(f"WC.{ds.name}." + ".".join(
                f"{variable}.{_oid_part(value)}" for variable, value in clause) +
                "_" * (len(oid) - len(f"{ds.name}.{name}.{part}")), clause)
            items.append(ValueItem(f"IT.{oid}", str(clause[0][1]) if col.name == "QVAL"
                                   else name, label,
                                   Column(name, label, col.type, col.display_format,
                                          col.codelist,
                                          _origin(ds, col, rows, providers),
                                          dict(col.value_methods).get(str(clause[0][1]),
                                                                      col.method),
                                          col.core, col.value_domain, col.comment),
                                   values, where, _codelist(col, clause, values, terms)))
        if items:
            out.append(ValueList(f"VL.{ds.name}.{name}", ds.name, name, tuple(items),
                                 col.method))
    return out


def value_type(item: ValueItem, length: int) -> tuple[str, int | None, int | None]:
    """(DataType, Length, SignificantDigits) of a value description from its own values."""
    if item.column.type == "Char":
        values = item.values.astype(str)
        size = max((len(v.encode("utf-8")) for v in values.unique()), default=1) or 1
        info = type_info(item.column, item.values, min(size, length) or 1)
    else:
        info = type_info(item.column, item.values, length)
    return info.data_type, info.length, info.significant_digits
