"""Value-level metadata for define.xml: which values of a result variable mean what.

A lab result variable holds albumin in g/L on one record and a CAR-T transgene copy number on
the next; the reviewer needs each test's type, length, unit codelist and origin. For every
variable specs/define.yaml lists, one value description per distinct combination of its `by`
variables (--TESTCD, RSTESTCD + RSCAT, QNAM), with a `split_by` variable (--SPEC, --METHOD,
--CAT) added where it takes several values within one test. Everything is computed from the
data written, so the description matches the package.

The descriptions are found from integer codes of the columns (cdisc.column_codes.FrameCodes):
the rows are grouped once by the `by` values, and what each description needs (is anything
recorded, which values, the first record's test name) is read per group from the codes, never
by selecting the group's rows of the frame again. Where the codes could tell values apart
differently from pandas (values other than str), the rows are selected as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import pandas as pd

from cdisc.datatypes import type_info
from cdisc.column_codes import (FrameCodes, both_zeros, first_of_each, is_str_only, max_bytes,
                                  object_addresses)
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
    source: pd.Series  # the variable's values: all of them when rows is given, else these
    where: WhereClause
    codelist: str | SponsorCodelist | None  # CT C-code (every value a term) or the sponsor's
    # pd.unique(values) as a Series of their dtype, when known: what the type, length and
    # codelist are computed from (they depend on which values occur only)
    distinct: pd.Series | None = None
    rows: np.ndarray | None = None  # positions in source of the values described

    @property
    def values(self) -> pd.Series:
        """The values this description covers (for type and length)."""
        return self.source if self.rows is None else self.source.iloc[self.rows]

    def occurring(self) -> pd.Series:
        """The values to compute type, length and codelist from: distinct ones when known."""
        return self.values if self.distinct is None else self.distinct


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
                terms: dict[str, set[str]], codes: FrameCodes | None = None) -> list[ValueList]:
    """The dataset's value lists, one per variable the rules name (with values to describe).
    providers: raw file name -> Define Source; terms: codelist C-code -> its submission
    values; codes: the FrameCodes of ds.data, when the caller keeps them (the distinct values
    found here are kept there)."""
    rule = rule_for(ds)
    if rule is None or ds.data.empty:
        return []
    grouped = _Grouped.of(ds, rule["by"], rule["split_by"], codes or FrameCodes(ds.data))
    if grouped is None:
        return _value_lists_by_rows(ds, rule, providers, terms)
    out = []
    for name in rule["variables"]:
        col = ds.column(name)
        distinct = grouped.distinct(name)  # per description, or None: select its rows
        described = grouped.described(name, distinct)
        items = []
        seen: set[str] = set()
        for g, (clause, rows) in enumerate(grouped.groups):
            values = ds.data[name].iloc[rows] if distinct is None else distinct[g]
            named = _described_by(ds, col, clause, values, seen)
            if named is None:
                continue
            label = grouped.label(col, clause, rows)
            column = _item_column(col, clause, label, grouped.origin(col, g, providers))
            items.append(ValueItem(named[0], _item_name(col, clause), label, column,
                                   ds.data[name], named[1], _codelist(col, clause, values, terms),
                                   None if described is None else described[g], rows))
        if items:
            out.append(ValueList(f"VL.{ds.name}.{name}", ds.name, name, tuple(items),
                                 col.method))
    return out


class _Grouped:
    """A dataset's rows grouped as _groups groups them (by values sorted, a split variable
    added where it varies), found from codes: `groups` holds (clause, row positions) per value
    description. What a description needs of a variable is read from its rows' distinct
    values (group_first_rows), the groups' rows are never selected from the frame."""

    def __init__(self, ds: Dataset, groups: list[tuple[tuple, np.ndarray]],
                 codes: FrameCodes) -> None:
        self.ds, self.groups, self.codes = ds, groups, codes
        self._files: list[set[str]] | None = None

    @classmethod
    def of(cls, ds: Dataset, by: list[str], split_by: list[str],
           codes: FrameCodes) -> _Grouped | None:
        """None when pandas could group differently: a by or split variable that is not all
        str, or an index with repeated labels (rows are selected by label)."""
        data = ds.data
        if not data.index.is_unique or any(data[c].dtype != object for c in by + split_by):
            return None
        ranks = []
        for name in by:
            found = codes.codes(name)
            if found is None:
                return None
            ranks.append(_ranks(data[name].to_numpy()[found.first])[found.codes])
        key = _combined(ranks, [len(codes.codes(c)) for c in by])
        if key is None:
            return None
        order, starts = _sorted_groups(key)
        groups = []
        for start, stop in zip(starts, [*starts[1:], len(key)], strict=True):
            rows = order[start:stop]
            clause = tuple((c, str(data[c].iloc[rows[0]])) for c in by)
            varying = []
            for c in split_by:
                first = group_first_rows(data[c], rows)
                if first is None:
                    return None
                if len(first) > 1:
                    varying.append(c)
            if not varying:
                groups.append((clause, rows))
                continue
            within = FrameCodes(data[varying].iloc[rows])
            if any(within.codes(c) is None for c in varying):
                return None
            sub = _combined([_ranks(data[c].to_numpy()[rows][within.codes(c).first])
                             [within.codes(c).codes] for c in varying],
                            [len(within.codes(c)) for c in varying])
            if sub is None:
                return None
            sub_order, sub_starts = _sorted_groups(sub)
            for part in np.split(sub_order, sub_starts[1:]):
                srows = rows[part]
                groups.append((clause + tuple((c, str(data[c].iloc[srows[0]]))
                                              for c in varying), srows))
        return cls(ds, groups, codes)

    def distinct(self, name: str) -> list[pd.Series] | None:
        """Per description: pd.unique of its values of the variable, as a Series of the
        column's dtype (None when that cannot be told from the codes: values other than str
        or float). The column's own distinct values are kept in the FrameCodes."""
        values = self.ds.data[name]
        firsts = [group_first_rows(values, rows) for _, rows in self.groups]
        if any(first is None for first in firsts):
            return None
        # every value of the column is a value of some description
        self.codes.keep_distinct(name, pd.unique(values.to_numpy()[np.concatenate(firsts)]))
        return [values.iloc[first] for first in firsts]

    def described(self, name: str, distinct: list[pd.Series] | None) -> list[pd.Series] | None:
        """The distinct values a ValueItem keeps for its type, length and codelist; None for
        a float column with both 0.0 and -0.0 (np.unique of all values may keep either)."""
        values = self.ds.data[name]
        if distinct is None or values.dtype != np.float64:
            return distinct
        return None if both_zeros(values.to_numpy()) else distinct

    def label(self, col: Column, clause: tuple, rows: np.ndarray) -> str:
        """_label, read at the description's first row."""
        data, ds = self.ds.data, self.ds
        if col.name == "QVAL" and "QLABEL" in data.columns:
            return str(data["QLABEL"].iloc[rows[0]])
        test = f"{ds.name[:2]}TEST" if ds.name[:2] + "TEST" in data.columns else None
        if ds.standard == "ADaMIG" and "PARAM" in data.columns:
            test = "PARAM"
        what = str(data[test].iloc[rows[0]]) if test else ", ".join(v for _, v in clause)
        return f"{col.label} ({what})"

    def origin(self, col: Column, g: int, providers: dict[str, str]) -> Origin:
        """_origin of description g."""
        ds, rows = self.ds, self.groups[g][1]
        if col.name == "QVAL" and "QORIG" in ds.data.columns:
            return _origin(ds, col, ds.data.index[rows[:1]], providers)
        if col.origin.type != "Collected" or ds.trace is None or "source_file" not in ds.trace:
            return col.origin
        files = self._source_files()
        if files is None:
            return _origin(ds, col, ds.data.index[rows], providers)
        kinds = {providers.get(f) for f in files[g]} - {None}
        if len(kinds) == 1:
            return replace(col.origin, source=kinds.pop())
        return col.origin

    def _source_files(self) -> list[set[str]] | None:
        """Per description: the raw files its records came from (None: no exact answer from
        codes: the trace is not aligned with the data, or holds other than text)."""
        if self._files is None:
            trace, data = self.ds.trace, self.ds.data
            if not trace.index.equals(data.index):
                return None
            cells = trace["source_file"].to_numpy(dtype=object)
            files = _files(cells, np.arange(len(cells)))
            if files is None:
                return None
            if len(files) == 1 and not pd.isna(cells).any():  # one file for every record
                self._files = [files] * len(self.groups)
            else:
                found = [_files(cells, rows) for _, rows in self.groups]
                if any(f is None for f in found):
                    return None
                self._files = found  # type: ignore[assignment]
        return self._files


def _files(cells: np.ndarray, rows: np.ndarray) -> set[str] | None:
    """The distinct non-missing values of cells[rows], all str (None: other values)."""
    objects = cells[rows][first_of_each(object_addresses(cells)[rows])]
    present = [v for v in objects if not pd.isna(v)]
    return set(present) if all(isinstance(v, str) for v in present) else None


def group_first_rows(values: pd.Series, rows: np.ndarray) -> np.ndarray | None:
    """The rows (of `rows`, ascending) where each distinct value of values.iloc[rows] occurs
    first: pd.unique's values and order. None unless the column is object of str only there
    or float64."""
    cells = values.to_numpy()
    if values.dtype == np.float64:
        return rows[first_of_each(cells[rows])]
    if values.dtype != object:
        return None
    candidates = rows[first_of_each(object_addresses(cells)[rows])]  # one row per object
    distinct = cells[candidates]
    if not is_str_only(distinct):
        return None
    return candidates[first_of_each(distinct)]


def _ranks(distinct: np.ndarray) -> np.ndarray:
    """Each distinct str's rank in sorted order (as groupby sorts its keys)."""
    order = sorted(range(len(distinct)), key=distinct.__getitem__)
    ranks = np.empty(len(distinct), dtype=np.int32 if len(distinct) < 2**31 else np.int64)
    ranks[order] = np.arange(len(distinct))
    return ranks


def _combined(ranks: list[np.ndarray], sizes: list[int]) -> np.ndarray | None:
    """One integer per row ordering the rows as the tuples of their ranks (None: too many
    combinations for int64)."""
    combinations = np.prod([float(s) for s in sizes])
    if combinations >= 2.0**62:
        return None
    key = np.zeros(len(ranks[0]), dtype=np.int64)
    for rank, size in zip(ranks, sizes, strict=True):
        key = key * size + rank
    # small keys sort by radix
    return key.astype(np.int16) if combinations < 2**15 else key


def _sorted_groups(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows in key order (rows of one key in their order) and where each key starts."""
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    return order, starts


def _value_lists_by_rows(ds: Dataset, rule: dict, providers: dict[str, str],
                         terms: dict[str, set[str]]) -> list[ValueList]:
    """value_lists selecting each description's rows from the frame."""
    groups = _groups(ds.data, rule["by"], rule["split_by"])
    out = []
    for name in rule["variables"]:
        col = ds.column(name)
        items = []
        seen: set[str] = set()
        for clause, rows in groups:
            values = ds.data.loc[rows, name]
            named = _described_by(ds, col, clause, values, seen)
            if named is None:
                continue
            label = _label(ds, col, clause, rows)
            column = _item_column(col, clause, label, _origin(ds, col, rows, providers))
            items.append(ValueItem(named[0], _item_name(col, clause), label, column, values,
                                   named[1], _codelist(col, clause, values, terms)))
        if items:
            out.append(ValueList(f"VL.{ds.name}.{name}", ds.name, name, tuple(items),
                                 col.method))
    return out


def _described_by(ds: Dataset, col: Column, clause: tuple, values: pd.Series,
                  seen: set[str]) -> tuple[str, WhereClause] | None:
    """The ItemDef OID and where clause of one value description (None when its rows hold
    nothing to describe); seen: the OIDs given so far, to keep them unique."""
    recorded = (values.astype(str) != "").any() if col.type == "Char" else \
        values.notna().any()
    if not recorded:
        return None
    part = ".".join(_oid_part(v) for _, v in clause)
    oid = f"{ds.name}.{col.name}.{part}"
    while oid in seen:  # two values that differ only in punctuation
        oid += "_"
    seen.add(oid)
    # one where clause per combination, shared by the variables it describes
    where = WhereClause(f"WC.{ds.name}." + ".".join(
        f"{variable}.{_oid_part(value)}" for variable, value in clause) +
        "_" * (len(oid) - len(f"{ds.name}.{col.name}.{part}")), clause)
    return f"IT.{oid}", where


def _item_name(col: Column, clause: tuple) -> str:
    """A SUPP-- QVAL description is named by its QNAM, any other by the variable."""
    return str(clause[0][1]) if col.name == "QVAL" else col.name


def _item_column(col: Column, clause: tuple, label: str, origin: Origin) -> Column:
    """The variable as one value description has it: its label, origin and method."""
    return Column(col.name, label, col.type, col.display_format, col.codelist, origin,
                  dict(col.value_methods).get(str(clause[0][1]), col.method), col.core,
                  col.value_domain, col.comment)


def value_type(item: ValueItem, length: int) -> tuple[str, int | None, int | None]:
    """(DataType, Length, SignificantDigits) of a value description from its own values."""
    occurring = item.occurring()
    if item.column.type == "Char":
        if item.distinct is not None and occurring.dtype == object:  # distinct str
            size = max_bytes(occurring.to_numpy()) or 1
        else:
            values = occurring.astype(str)
            size = max((len(v.encode("utf-8")) for v in values.unique()), default=1) or 1
        info = type_info(item.column, occurring, min(size, length) or 1)
    else:
        info = type_info(item.column, occurring, length)
    return info.data_type, info.length, info.significant_digits
