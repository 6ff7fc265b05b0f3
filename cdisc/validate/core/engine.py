"""Run catalogue rules on a package: scope, the frame each rule type judges, match_datasets
joins, operations, the condition tree, and findings with their records.

A rule ends in one of four states: failed (findings), passed, skipped (what it needs is not in
the package: the reason says which dataset or variable) or not executable (the catalogue asks
for something this interpreter cannot do: the reason says what). Nothing is dropped silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cdisc.validate.core import Check
from cdisc.validate.core.catalogue import Rule
from cdisc.validate.core.codes import (
    combine_with_first, first_rows, freeze, frozen_identity, is_shared, kept, object_ids)
from cdisc.validate.core.codes import factorize as column_factorize
from cdisc.validate.model import MAX_RECORDS, MAX_ROWS, Finding, Record, RuleRun

ROW = "__row"
# frames with fewer rows have their elementwise leaves judged on every row
DISTINCT_FROM_ROWS = 4096
# cells of other datasets' columns looked up for joins and kept per dataset (8 bytes each)
MAX_JOINED_CELLS = 8 * 2**20
# operators that judge the presence of a column (or dataset), not its values
PRESENCE_OPERATORS = {"exists", "not_exists"}
GROUP_OPERATORS = {
    "is_not_unique_set", "is_unique_set", "is_not_unique_relationship",
    "is_unique_relationship", "is_inconsistent_across_dataset",
    "present_on_multiple_rows_within", "not_present_on_multiple_rows_within",
    "does_not_have_next_corresponding_record", "has_next_corresponding_record",
    "empty_within_except_last_row", "non_empty_within_except_last_row",
    "target_is_not_sorted_by", "target_is_sorted_by", "has_same_values",
    "has_different_values", "inconsistent_enumerated_columns", "is_not_ordered_subset_of",
    "is_ordered_subset_of"}


# operators whose answer for a record depends on that record alone (or on a column's set of
# values, which judging distinct combinations keeps)
_ELEMENTWISE = {
    "equal_to", "not_equal_to", "equal_to_case_insensitive", "not_equal_to_case_insensitive",
    "greater_than", "greater_than_or_equal_to", "less_than", "less_than_or_equal_to",
    "empty", "non_empty", "matches_regex", "not_matches_regex", "prefix_matches_regex",
    "not_prefix_matches_regex", "suffix_matches_regex", "not_suffix_matches_regex",
    "starts_with", "ends_with", "prefix_equal_to", "prefix_not_equal_to", "suffix_equal_to",
    "suffix_not_equal_to", "contains", "does_not_contain", "contains_case_insensitive",
    "does_not_contain_case_insensitive", "longer_than", "longer_than_or_equal_to",
    "shorter_than", "shorter_than_or_equal_to", "has_equal_length", "has_not_equal_length",
    "date_equal_to", "date_not_equal_to", "date_greater_than", "date_greater_than_or_equal_to",
    "date_less_than", "date_less_than_or_equal_to", "is_complete_date", "is_incomplete_date",
    "invalid_date", "invalid_duration", "exists", "not_exists", "is_contained_by",
    "is_not_contained_by", "is_contained_by_case_insensitive",
    "is_not_contained_by_case_insensitive", "prefix_is_contained_by",
    "prefix_is_not_contained_by", "suffix_is_contained_by", "suffix_is_not_contained_by"}


class Skip(Exception):
    """The rule cannot run on this dataset: what it needs is absent (a reason, not a fault)."""


class NotExecutable(Exception):
    """The catalogue asks for something this interpreter does not do."""


class Missing(Exception):
    """A condition names a column the frame does not have."""


@dataclass
class DatasetInfo:
    """One dataset of the package as the rules see it (split parts already joined)."""

    name: str  # "AE", "SUPPAE"
    domain: str  # the "--" prefix: DOMAIN's value, else the name ("SUPPAE")
    cls: str  # SDTM class, upper case: "EVENTS", "SPECIAL PURPOSE", "RELATIONSHIP", ...
    frame: pd.DataFrame
    label: str = ""
    column_labels: dict = field(default_factory=dict)
    lengths: dict = field(default_factory=dict)  # declared XPT lengths of text variables
    formats: dict = field(default_factory=dict)
    file: str = ""
    size: int = 0  # file bytes (0 when held in memory only)
    keys: tuple[str, ...] = ()  # natural keys that identify a record across cuts
    is_split: bool = False
    cache: dict = field(default_factory=dict, repr=False)  # frames built once per dataset

    def with_rows(self) -> pd.DataFrame:
        """The data with its 1-based record numbers (ROW), built once."""
        if "rows" not in self.cache:
            frame = self.frame.copy(deep=False)
            frame[ROW] = np.arange(1, len(frame) + 1)
            self.cache["rows"] = frame
        return self.cache["rows"]


@dataclass
class Study:
    """Everything a rule may look at: the datasets by name, the library, define.xml."""

    datasets: dict[str, DatasetInfo]
    library: object
    define: object | None = None  # cdisc.validate.core.define_meta.DefineMeta

    def frames(self) -> dict[str, pd.DataFrame]:
        return {n: d.frame for n, d in self.datasets.items()}


# --- scope ------------------------------------------------------------------------------------

def _domain_matches(ds: DatasetInfo, names: tuple[str, ...]) -> bool:
    for name in names:
        if name == "ALL" or name == ds.name or name == ds.domain:
            return True
        if name.endswith("--"):  # SUPP--, AP--, SQ--
            stem = name[:-2]
            if ds.name.startswith(stem) and len(ds.name) > len(stem):
                return True
    return False


def _class_matches(ds: DatasetInfo, classes: tuple[str, ...]) -> bool:
    return "ALL" in classes or ds.cls in classes or (
        ds.cls == "FINDINGS ABOUT" and "FINDINGS" in classes)


def in_scope(rule: Rule, ds: DatasetInfo) -> bool:
    if rule.include_split and not rule.domains_in and not ds.is_split:
        return False  # a rule about split datasets only
    if rule.domains_in and not _domain_matches(ds, rule.domains_in):
        if not (rule.include_split and ds.is_split):
            return False
    if rule.domains_out and _domain_matches(ds, rule.domains_out):
        return False
    if rule.include_split is False and ds.is_split:
        return False
    if rule.classes_in and not _class_matches(ds, rule.classes_in):
        return False
    return not (rule.classes_out and _class_matches(ds, rule.classes_out))


# --- "--" and references ---------------------------------------------------------------------

def _expand(value: object, prefix: str) -> object:
    if isinstance(value, str):
        return value.replace("--", prefix, 1) if "--" in value and not value.endswith("--") \
            else value
    if isinstance(value, list):
        return [_expand(v, prefix) for v in value]
    return value


def _leaves(node: object) -> list[dict]:
    if isinstance(node, dict):
        for key in ("all", "any"):
            if key in node:
                return [leaf for child in node[key] for leaf in _leaves(child)]
        if "not" in node:
            return _leaves(node["not"])
        return [node] if "operator" in node else []
    if isinstance(node, list):
        return [leaf for child in node for leaf in _leaves(child)]
    return []


def referenced_columns(rule: Rule, prefix: str) -> set[str]:
    """Every dataset column the conditions name (targets, and comparators that look like
    variables), after "--" expansion."""
    out: set[str] = set()
    for leaf in _leaves(rule.conditions):
        value = leaf.get("value") or {}
        target = _expand(value.get("target"), prefix)
        if isinstance(target, str):
            out.add(target)
        comparator = _expand(value.get("comparator"), prefix)
        if isinstance(comparator, str) and not value.get("value_is_literal"):
            out.add(comparator)
    return out


# --- frames per rule type --------------------------------------------------------------------

def _record_frame(rule: Rule, ds: DatasetInfo, study: Study) -> pd.DataFrame:
    frame = ds.with_rows()
    if not rule.match:
        return frame
    referenced = referenced_columns(rule, ds.domain)
    named = _named(rule, ds.domain)
    if not any(m.get("child") for m in rule.match):  # joins: only the columns the rule names
        frame = frame[[c for c in frame.columns if c in named or c == ROW]]
    for match in rule.match:
        frame = _merge(frame, ds, match, study, referenced, named)
    return frame


def _named(rule: Rule, prefix: str) -> set[str]:
    """Every text the rule holds (conditions, operations, outputs, join keys), "--" expanded:
    a superset of the columns it can read."""
    out: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, str):
            out.add(node)
            out.add(str(_expand(node, prefix)))
            if "." in node:
                out.add(node.split(".", 1)[1])
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v)
    walk([rule.conditions, list(rule.operations), list(rule.output_variables),
          list(rule.match)])
    return out


def _merge(frame: pd.DataFrame, ds: DatasetInfo, match: dict, study: Study,
           referenced: set[str], named: set[str]) -> pd.DataFrame:
    other_name = str(match.get("domain_name", ""))
    if match.get("child"):
        return _merge_parent(frame, ds, match, study) if _domain_matches(
            ds, (other_name,)) else frame
    other = study.datasets.get(other_name)
    if other is None:
        raise Skip(f"needs dataset {other_name}")
    if other_name == "RELREC":
        raise NotExecutable("joins through RELREC (related records of another domain) are "
                            "not interpreted yet")
    if other_name == ds.name:
        return frame  # a split dataset with itself: already one frame
    keys = [str(k) for k in match.get("match_key") or []]
    left_keys = [k.replace("--", ds.domain, 1) for k in keys]
    right_keys = [k.replace("--", other.domain, 1) for k in keys]
    missing = [k for k in left_keys if k not in frame.columns] + \
        [k for k in right_keys if k not in other.frame.columns]
    if missing:
        raise Skip(f"match key {', '.join(missing)} absent")
    wanted = {c.split(".", 1)[1] for c in referenced if c.startswith(f"{other_name}.")}
    right = other.frame[[c for c in other.frame.columns
                         if c in named or c in right_keys or
                         any(k.replace("--", other.domain, 1) == c for k in named)]]
    right = right.rename(columns={c: f"{other_name}.{c}" for c in other.frame.columns
                                        if c in wanted and c not in right_keys})
    kept = _join_cache(ds, frame, other, left_keys, right_keys)
    joined = _lookup_join(frame, right, left_keys, right_keys, other_name, kept)
    if joined is not None:
        return joined
    return frame.merge(right, how="inner", left_on=left_keys, right_on=right_keys,
                       suffixes=("", f".{other_name}"))


def _lookup_join(frame: pd.DataFrame, right: pd.DataFrame, left_keys: list[str],
                 right_keys: list[str], other_name: str,
                 kept: dict | None = None) -> pd.DataFrame | None:
    """The inner merge pandas would make when each record of the other dataset has its own key
    (DM by USUBJID, SV by USUBJID and VISIT): the other's columns looked up by position, the
    left columns kept as they are (no copy), left order kept, a new 0..n-1 index. None when
    the other's keys repeat (or, for several keys, hold missing values or another dtype).
    `kept` (see _join_cache) holds the positions and looked-up columns of earlier joins of
    the same records."""
    if kept is not None and "position" in kept:
        position, matched = kept["position"], kept["matched"]
    else:
        located = _key_positions(frame, right, left_keys, right_keys)
        if located is None:
            return None
        found = located >= 0
        # the left rows with a match (None: all of them) and their right rows, kept small
        matched = None if found.all() else np.flatnonzero(found)
        position = located[found].astype(np.int32 if len(right) < 2**31 else np.int64)
        if kept is not None:
            kept.update(position=position, matched=matched)
    left = frame if matched is None else frame.iloc[matched]
    # one key, as the lookup always did: columns typed as DataFrame.assign would type them;
    # several keys, as the merge did: the other's dtypes
    as_merge = len(left_keys) > 1
    added = {}
    for column in right.columns:
        if any(column == r and column == k for k, r in zip(left_keys, right_keys, strict=True)):
            continue  # one key column, as pandas keeps it
        name = f"{column}.{other_name}" if column in frame.columns else column
        added[name] = _looked_up_column(right[column], position, left.index, kept, as_merge)
    if set(added) & set(left.columns):  # assign replaces a column of that name
        out = left.assign(**{name: column.array for name, column in added.items()})
    else:  # side by side without copying (a lab domain has millions of rows)
        out = pd.concat([left, *(c.rename(n) for n, c in added.items())], axis=1) \
            if added else left.copy(deep=False)
    out.index = pd.RangeIndex(len(out))
    return out


def _key_positions(frame: pd.DataFrame, right: pd.DataFrame, left_keys: list[str],
                   right_keys: list[str]) -> np.ndarray | None:
    """Per left row, the right row with the same key values (-1: none), worked out on the
    left columns' distinct values; None when it is not the merge's answer to give (see
    _lookup_join)."""
    if len(left_keys) == 1:
        right_key = right[right_keys[0]]
        if right_key.duplicated().any():
            return None
        codes, distinct = column_factorize(frame[left_keys[0]])
        return pd.Index(right_key.to_numpy()).get_indexer(distinct)[codes]
    left_key = np.zeros(len(frame), dtype=np.int64)
    right_key = np.zeros(len(right), dtype=np.int64)
    matchable = np.ones(len(right), dtype=bool)
    span = 1
    for name, other in zip(left_keys, right_keys, strict=True):
        values, theirs = frame[name], right[other]
        if values.dtype != theirs.dtype or values.dtype.kind not in "Of" or \
                theirs.isna().any():
            return None
        codes, distinct = column_factorize(values)
        their_codes = pd.Index(distinct, dtype=values.dtype).get_indexer(theirs.to_numpy())
        span *= len(distinct)
        if span >= 2**62:
            return None
        matchable &= their_codes >= 0
        left_key = left_key * len(distinct) + codes
        right_key = right_key * len(distinct) + np.maximum(their_codes, 0)
    rows = np.flatnonzero(matchable)
    index = pd.Index(right_key[rows])
    if not index.is_unique:
        return None
    position = index.get_indexer(left_key)
    found = position >= 0
    position[found] = rows[position[found]]
    return position


def _looked_up_column(values: pd.Series, position: np.ndarray, index: pd.Index,
                      kept: dict | None, as_merge: bool = False) -> pd.Series:
    """values at the positions, as a column of the joined frame (the dtype DataFrame.assign
    would give it, or with as_merge the dtype of values); kept read-only when `kept` has room,
    so later joins reuse it and its codes are shared like a dataset column's."""
    source = frozen_identity(values) if kept is not None else None
    if source is not None and source in kept["columns"]:  # type: ignore[index]
        return kept["columns"][source]  # type: ignore[index]
    if as_merge:
        taken = pd.Series(values.array.take(position), index=index, dtype=values.dtype,
                          copy=False)
    else:
        taken = _typed_take(values, position)
    column = pd.DataFrame({"column": taken}, index=index)
    if source is not None and kept["room"][0] >= len(column):  # type: ignore[index]
        freeze(column)
        kept["columns"][source] = column["column"]  # type: ignore[index]
        kept["room"][0] -= len(column)  # type: ignore[index]
    return column["column"]


def _typed_take(values: pd.Series, position: np.ndarray) -> object:
    """values.array.take(position). Text without missing values is taken from its str column
    (the dtype DataFrame.assign infers for all of it, and so for any part of it) rather than
    inferred again from the millions of cells taken."""
    if len(position) and values.dtype == object and values.notna().all():
        column = pd.DataFrame({"column": values.array})["column"]
        if column.dtype != values.dtype:
            return column.array.take(position)
    return values.array.take(position)


def _join_cache(ds: DatasetInfo, frame: pd.DataFrame, other: DatasetInfo,
                left_keys: list[str], right_keys: list[str]) -> dict | None:
    """Where joins of the dataset's own records with another dataset keep their work (DM is
    joined to every dataset by a dozen rules); None when the frame's records are not the
    dataset's own (its key columns are not the dataset's columns)."""
    for name, other_name in zip(left_keys, right_keys, strict=True):
        if name not in ds.frame.columns:
            return None
        own = frozen_identity(ds.frame[name])
        if own is None or frozen_identity(frame[name]) != own or \
                frozen_identity(other.frame[other_name]) is None:
            return None
    room = ds.cache.setdefault("joined cells", [MAX_JOINED_CELLS])  # shared by its joins
    return ds.cache.setdefault(("join", other.name, tuple(left_keys), tuple(right_keys)),
                               {"columns": {}, "room": room})


def _key_text(values: pd.Series) -> pd.Series:
    """IDVARVAL-comparable text: numbers without a trailing .0, text as is."""
    if pd.api.types.is_numeric_dtype(values):
        return values.map(lambda v: "" if v != v else (str(int(v)) if float(v).is_integer()
                                                         else repr(float(v))))
    return values.astype(str)


def _merge_parent(frame: pd.DataFrame, ds: DatasetInfo, match: dict,
                  study: Study) -> pd.DataFrame:
    """A relationship dataset (SUPP--, CO, RELREC) beside the parent record each of its rows
    points at: RDOMAIN's dataset, same USUBJID, parent[IDVAR] == IDVARVAL (left join; no
    parent record leaves the parent's columns empty). Rows without IDVAR keep only USUBJID."""
    need = [c for c in ("RDOMAIN", "IDVAR", "IDVARVAL", "USUBJID") if c not in frame.columns]
    if need:
        raise Skip(f"{ds.name} has no {', '.join(need)}")
    pieces = []
    groups = frame.groupby([frame["RDOMAIN"].astype(str), frame["IDVAR"].astype(str)],
                           sort=True)
    for (rdomain, idvar), rows in groups:
        parent = study.datasets.get(rdomain)
        if parent is None or not idvar or idvar not in parent.frame.columns:
            pieces.append(rows)
            continue
        right = parent.frame.drop(columns=[c for c in parent.frame.columns
                                           if c in rows.columns and c != "USUBJID"])
        right = right.assign(__key=_key_text(parent.frame[idvar])).drop_duplicates(
            ["USUBJID", "__key"])
        left = rows.assign(__key=rows["IDVARVAL"].astype(str).str.strip())
        merged = left.merge(right, how="left", on=["USUBJID", "__key"]).drop(columns="__key")
        merged.index = rows.index
        pieces.append(merged)
    out = pd.concat(pieces, sort=False) if pieces else frame
    return out.loc[frame.index]


def dataset_metadata_frame(ds: DatasetInfo) -> pd.DataFrame:
    return pd.DataFrame({ROW: [0], "dataset_name": [ds.name], "dataset_label": [ds.label],
                         "dataset_location": [ds.file], "dataset_size": [ds.size],
                         "record_count": [len(ds.frame)]})


def _data_type(series: pd.Series) -> str:
    return "Num" if pd.api.types.is_numeric_dtype(series) else "Char"


def variable_metadata_frame(ds: DatasetInfo) -> pd.DataFrame:
    if "variables" not in ds.cache:
        ds.cache["variables"] = _variable_metadata(ds)
    return ds.cache["variables"]


def _variable_metadata(ds: DatasetInfo) -> pd.DataFrame:
    columns = list(ds.frame.columns)
    types = [_data_type(ds.frame[c]) for c in columns]
    max_bytes = [_max_bytes(ds.frame[c]) for c in columns]
    sizes = [8 if t == "Num" else int(ds.lengths.get(c) or m)
             for c, t, m in zip(columns, types, max_bytes, strict=True)]
    return pd.DataFrame({
        ROW: 0, "variable_name": columns, "variable_order_number": range(1, len(columns) + 1),
        "variable_label": [ds.column_labels.get(c, "") for c in columns],
        "variable_size": sizes, "variable_data_type": types,
        "variable_format": [ds.formats.get(c, "") for c in columns],
        "variable_max_size": max_bytes,
        "variable_has_empty_values": [_has_empty(ds.frame[c]) for c in columns],
        "dataset_name": ds.name})


def _max_bytes(series: pd.Series) -> int:
    if series.empty:
        return 0
    if pd.api.types.is_numeric_dtype(series):
        return 8
    _, distinct = column_factorize(series)
    # a missing value has no bytes
    return int(text_lengths(np.asarray(distinct, dtype=object), encoded=True).max(initial=0))


def _has_empty(series: pd.Series) -> bool:
    """Whether any value is missing or blank text, judged on the distinct values (far fewer
    than rows; each is some row's value)."""
    if pd.api.types.is_numeric_dtype(series):
        return bool(series.isna().any())
    _, distinct = column_factorize(series)
    return bool(blank_texts(np.asarray(distinct, dtype=object)).any())


def _plain_texts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(missing mask, the other values) of an object array holding only text and missing
    values (None, NaN); None when it holds anything else."""
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return None
    missing = np.asarray(pd.isna(values), dtype=bool)
    return missing, values[~missing]


def text_lengths(values: np.ndarray, encoded: bool = False) -> np.ndarray:
    """len(str(v)) of each value (with `encoded`: of its UTF-8 bytes); 0 when missing (None
    or NaN). Plain text is measured by builtins mapped over it, not a loop of ours."""
    plain = _plain_texts(values)
    if plain is None:
        if encoded:
            return np.fromiter((0 if v is None or v != v else len(str(v).encode("utf-8"))
                                for v in values), np.int64, len(values))
        return np.fromiter((0 if v is None or v != v else len(str(v)) for v in values),
                           np.int64, len(values))
    missing, texts = plain
    measured = map(len, map(str.encode, texts)) if encoded else map(len, texts)
    out = np.zeros(len(values), dtype=np.int64)
    out[~missing] = np.fromiter(measured, np.int64, len(texts))
    return out


def blank_texts(values: np.ndarray) -> np.ndarray:
    """Per value: missing (None, NaN) or text that is empty once stripped (str(v).strip())."""
    plain = _plain_texts(values)
    if plain is None:
        return np.array([v is None or v != v or str(v).strip() == "" for v in values],
                        dtype=bool)
    missing, texts = plain
    out = missing.copy()
    # strip() removes exactly the characters isspace() accepts: stripped to "" is "" or
    # all space
    empty = np.fromiter(map(len, texts), np.int64, len(texts)) == 0
    out[~missing] = empty | np.fromiter(map(str.isspace, texts), bool, len(texts))
    return out


def library_variable_frame(ds: DatasetInfo, study: Study) -> pd.DataFrame:
    """The dataset's variables beside the IG's, CORE's library_variable_* columns."""
    own = variable_metadata_frame(ds)
    lib = library_frame(ds, study)
    # the dataset's variables (CORE's outer join would also report every IG variable the
    # dataset does not have as a mismatch of an empty value)
    return _beside_library(own, "variable_name", lib)


def _beside_library(frame: pd.DataFrame, name: str, lib: pd.DataFrame) -> pd.DataFrame:
    """frame's variables (column `name`) with the library's metadata; none: empty text."""
    merged = frame.merge(lib, how="left", left_on=name, right_on="library_variable_name")
    for column in merged.columns:
        if merged[column].dtype == object:
            merged[column] = merged[column].fillna("")
    merged[ROW] = 0
    return merged


def library_frame(ds: DatasetInfo, study: Study) -> pd.DataFrame:
    """The IG's (and model's) variables of the dataset, "--" expanded."""
    variables = study.library.domain_variables(  # type: ignore[attr-defined]
        ds.name, list(ds.frame.columns), ds.domain[:2])
    return pd.DataFrame({
        "library_variable_name": [v.name for v in variables],
        "library_variable_label": [v.label for v in variables],
        "library_variable_data_type": [v.type for v in variables],
        "library_variable_role": [v.role for v in variables],
        "library_variable_core": [v.core for v in variables],
        "library_variable_order_number": [v.order for v in variables]},
        columns=["library_variable_name", "library_variable_label",
                 "library_variable_data_type", "library_variable_role",
                 "library_variable_core", "library_variable_order_number"])


def define_variable_frame(ds: DatasetInfo, study: Study) -> pd.DataFrame:
    if study.define is None:
        raise Skip("needs define.xml")
    frame = study.define.variables(ds.name)  # type: ignore[attr-defined]
    if frame.empty:
        raise Skip(f"define.xml does not describe {ds.name}")
    return _beside_library(frame, "define_variable_name", library_frame(ds, study))


def domain_list_frame(study: Study) -> pd.DataFrame:
    names = {d.domain if d.domain in study.datasets or not d.name.startswith(d.domain)
             else d.name: d.file for d in study.datasets.values()}
    names.update({d.name: d.file for d in study.datasets.values()})
    return pd.DataFrame({ROW: [0], **{k: [v] for k, v in sorted(names.items())}})


# --- evaluation ------------------------------------------------------------------------------

def evaluate(node: object, frame: pd.DataFrame, context: dict, prefix: str,
             cache: dict | None = None, leaves: _DistinctLeaves | None = None) -> pd.Series:
    """The condition tree on the frame. `cache`: leaf results of this dataset's own records,
    shared by the rules (many rules ask the same question: non_empty USUBJID, ...). `leaves`:
    judges each leaf on distinct values instead of every row (see _judge_on_distinct)."""
    from cdisc.validate.core.operators import OPERATORS, OperatorError

    if isinstance(node, dict):
        if "all" in node:
            parts = [evaluate(c, frame, context, prefix, cache, leaves) for c in node["all"]]
            return _reduce(parts, frame, np.logical_and)
        if "any" in node:
            # a branch about a variable the dataset does not have cannot hold; the rule is
            # skipped only when no branch can be judged
            parts, missing = [], []
            for child in node["any"]:
                try:
                    parts.append(evaluate(child, frame, context, prefix, cache, leaves))
                except Missing as why:
                    missing.append(str(why))
            if not parts:
                raise Missing(", ".join(dict.fromkeys(missing)))
            return _reduce(parts, frame, np.logical_or)
        if "not" in node:
            return ~evaluate(node["not"], frame, context, prefix, cache, leaves).astype(bool)
        name = node.get("operator")
        if name not in OPERATORS:
            raise NotExecutable(f"operator {name} is not implemented")
        value = dict(node.get("value") or {})
        target = _expand(value.get("target"), prefix)
        if name not in PRESENCE_OPERATORS and isinstance(target, str) and \
                target not in frame.columns:
            raise Missing(target)
        for column in _grouping_columns(value, prefix):
            if column not in frame.columns:
                raise Missing(column)
        check = Check(target=str(_expand(value.pop("target", None), prefix)),
                      comparator=_expand(value.pop("comparator", None), prefix),
                      params={k: _expand(v, prefix) for k, v in value.items()},
                      context=context)
        key = _leaf_key(name, check) if cache is not None else None
        if key is not None and key in cache:  # type: ignore[operator]
            return cache[key]  # type: ignore[index]
        try:
            result = leaves(name, check) if leaves is not None else OPERATORS[name](frame, check)
        except OperatorError as exc:
            raise NotExecutable(f"{name}: {exc}") from None
        out = pd.Series(np.asarray(result, dtype=bool), index=frame.index)
        if key is not None:
            cache[key] = out  # type: ignore[index]
        return out
    raise NotExecutable(f"condition node not understood: {str(node)[:80]}")


def _presence_fails(rule: Rule, frame: pd.DataFrame, prefix: str) -> bool:
    """A top-level "all" with an exists / not_exists leaf that is false here holds on no
    record: the rule passes without its operations being run."""
    for leaf in rule.conditions.get("all", []):
        op = leaf.get("operator")
        target = _expand((leaf.get("value") or {}).get("target"), prefix)
        if op in PRESENCE_OPERATORS and isinstance(target, str) and not target.startswith("$"):
            if (target in frame.columns) != (op == "exists"):
                return True
    return False


def _leaf_key(name: str, check: Check) -> str | None:
    """A leaf's identity on a dataset's own records; None when it reads an operation's
    result ($...), which differs from rule to rule."""
    text = json.dumps([name, check.target, check.comparator, check.params,
                       check.context.get("dataset_name")], sort_keys=True, default=str)
    return None if "$" in text else text


def _grouping_columns(value: dict, prefix: str) -> list[str]:
    """Columns a group operator groups or sorts by: `within`, `ordering`, and sort specs
    ({"name": ...}) in the comparator."""
    out = []
    for key in ("within", "ordering"):
        named = _expand(value.get(key), prefix)
        out += [named] if isinstance(named, str) else [w for w in named or [] if
                                                       isinstance(w, str)]
    comparator = value.get("comparator")
    if isinstance(comparator, list):
        out += [str(_expand(c["name"], prefix)) for c in comparator
                if isinstance(c, dict) and isinstance(c.get("name"), str)]
    return [c for c in out if not c.startswith("$")]


def _reduce(parts: list[pd.Series], frame: pd.DataFrame, how) -> pd.Series:  # type: ignore[no-untyped-def]
    if not parts:
        return pd.Series(True, index=frame.index)
    out = parts[0].to_numpy(dtype=bool)
    for p in parts[1:]:
        out = how(out, p.to_numpy(dtype=bool))
    return pd.Series(out, index=frame.index)


def _missing_targets(rule: Rule, frame: pd.DataFrame, prefix: str) -> list[str]:
    """Columns the leaves directly under a top-level "all" judge that the frame does not
    have (presence operators excepted)."""
    missing = []
    for leaf in [c for c in rule.conditions.get("all", []) if "operator" in c]:
        if leaf.get("operator") in PRESENCE_OPERATORS:
            continue
        target = _expand((leaf.get("value") or {}).get("target"), prefix)
        if isinstance(target, str) and target not in frame.columns and target not in missing:
            missing.append(target)
    return missing


def apply_operations(rule: Rule, frame: pd.DataFrame, ds: DatasetInfo,
                     study: Study) -> pd.DataFrame:
    from cdisc.validate.core.operations import (
        OPERATIONS, DatasetNotFoundError, OperationContext, OperationError)

    for raw in rule.operations:
        op = {k: _expand(v, ds.domain) for k, v in raw.items()}
        name = op.get("operator")
        if name not in OPERATIONS:
            raise NotExecutable(f"operation {name} is not implemented")
        domain = str(op.get("domain") or ds.domain)
        _needs_columns(op, frame, ds, domain, study)
        source = frame
        if name == "extract_metadata":  # the file's metadata, as CORE's reader gives it
            source = frame.copy(deep=False)
            source.attrs = {"dataset_name": ds.name, "dataset_label": ds.label,
                            "dataset_size": ds.size, "dataset_location": ds.file}
        ctx = OperationContext(frame=source, dataset_name=ds.name, domain=ds.domain,
                               datasets=study.frames(), library=study.library,
                               define=None)
        try:
            result = OPERATIONS[name](ctx, op)
        except DatasetNotFoundError as exc:
            raise Skip(f"needs dataset {exc.dataset}") from None
        except OperationError as exc:
            raise NotExecutable(f"{name}: {exc}") from None
        frame = frame.copy(deep=False)
        frame[str(op["id"])] = _broadcast(result, frame)
    return frame


def _needs_columns(op: dict, frame: pd.DataFrame, ds: DatasetInfo, domain: str,
                   study: Study) -> None:
    """An operation whose column or grouping is absent (from the dataset checked, or from the
    other dataset it reads): skip (CORE reports the rule skipped for that dataset)."""
    group = [g for g in op.get("group") or [] if isinstance(g, str) and not g.startswith("$")]
    missing = [g for g in group if g not in frame.columns]
    on_self = domain in (ds.domain, ds.name)
    name = op.get("name")
    if on_self and isinstance(name, str) and name and not name.startswith("$") and \
            op.get("operator") not in ("variable_exists", "extract_metadata") and \
            name not in frame.columns and name not in ds.frame.columns:
        missing.append(name)
    if missing:
        raise Skip(f"{ds.name} has no {', '.join(dict.fromkeys(missing))}")
    other = study.datasets.get(domain)
    if not on_self and other is not None and isinstance(name, str) and name and \
            not name.startswith("$") and "--" not in name and \
            op.get("operator") not in ("variable_exists", "extract_metadata") and \
            name not in other.frame.columns:
        raise Skip(f"{other.name} has no {name}")


def _broadcast(result: object, frame: pd.DataFrame) -> object:
    if isinstance(result, pd.Series):
        return result.reindex(frame.index)
    if isinstance(result, (list, tuple, set, frozenset, np.ndarray)):
        column = np.empty(len(frame), dtype=object)
        column.fill(list(result))  # one list object in every row
        return column
    return result


# --- one rule on one frame -------------------------------------------------------------------

def judge(rule: Rule, frame: pd.DataFrame, ds: DatasetInfo,
          study: Study) -> tuple[np.ndarray, pd.DataFrame]:
    """(True for the frame rows the rule reports, the frame with the operations' columns)."""
    if isinstance(rule.conditions, dict) and "all" in rule.conditions:
        # a top-level "all" about an absent variable: skip before any operation runs
        missing = [c for c in _missing_targets(rule, frame, ds.domain)
                   if not c.startswith("$")]
        if missing:
            raise Skip(f"{ds.name} has no {', '.join(missing)}")
        if _presence_fails(rule, frame, ds.domain):
            return np.zeros(len(frame), dtype=bool), frame
    frame = apply_operations(rule, frame, ds, study)
    context = {"dataset_name": ds.name, "domain": ds.domain,
               "rdomain": ds.name[4:] if ds.name.startswith("SUPP") else ""}
    columns = _distinct_key_columns(rule, frame, ds.domain)
    try:
        if columns is not None and len(frame) > 1:
            return _judge_on_distinct(rule, frame, columns, context, ds.domain), frame
        # leaf results are shared across rules on the dataset's own records (no join)
        cache = ds.cache.setdefault("leaves", {}) if frame is ds.cache.get("rows") or (
            not rule.match and rule.rule_type == "Record Data") else None
        # row-group leaves see every row; the others are still judged on distinct values
        leaves = _DistinctLeaves(frame, None) if len(frame) > 1 else None
        mask = evaluate(rule.conditions, frame, context, ds.domain, cache, leaves)
    except Missing as why:
        raise Skip(f"{ds.name} has no {why}") from None
    return mask.to_numpy(dtype=bool), frame


def _distinct_key_columns(rule: Rule, frame: pd.DataFrame, prefix: str) -> list[str] | None:
    """The columns a rule's conditions read, when every leaf judges each record alone (no
    row-group operator, no column named by another column's value): the rule can then be
    judged once per distinct combination of them. None otherwise."""
    columns: list[str] = []
    for leaf in _leaves(rule.conditions):
        value = leaf.get("value") or {}
        if leaf.get("operator") in GROUP_OPERATORS or value.get("value_is_reference") or \
                leaf.get("operator") not in _ELEMENTWISE:
            return None
        for key in ("target", "comparator"):
            named = _expand(value.get(key), prefix)
            names = named if isinstance(named, list) else [named]
            columns += [n for n in names if isinstance(n, str) and n in frame.columns]
    return list(dict.fromkeys(columns))


def _judge_on_distinct(rule: Rule, frame: pd.DataFrame, columns: list[str], context: dict,
                       prefix: str) -> np.ndarray:
    """Judge each leaf once per distinct combination of the columns it reads, spread back over
    the records: each column keeps exactly its set of values, so "any value of the column"
    comparisons are unchanged."""
    if not columns:
        mask = evaluate(rule.conditions, frame.iloc[:1], context, prefix)
        return np.repeat(mask.to_numpy(dtype=bool)[:1], len(frame))
    leaves = _DistinctLeaves(frame, columns)
    return evaluate(rule.conditions, frame, context, prefix, leaves=leaves).to_numpy(dtype=bool)


class _DistinctLeaves:
    """The leaves of a rule on one frame. An elementwise leaf is judged on one row per
    distinct combination of the columns it reads; a leaf reading one column of a dataset is
    judged once per run (its answer per distinct value is kept with the column). A presence
    test that may look at any column is judged on the distinct combinations of all the rule's
    `columns`; with `columns` None (a rule with row-group leaves) it and the row-group leaves
    are judged on every row."""

    def __init__(self, frame: pd.DataFrame, columns: list[str] | None):
        self.frame = frame
        self.columns = columns  # every column the rule reads, when all its leaves are elementwise
        self.codes: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}

    def __call__(self, name: str, check: Check) -> np.ndarray:
        from cdisc.validate.core.operators import COMPLEMENT_OF, OPERATORS

        if name in COMPLEMENT_OF:  # is_incomplete_date: the answers of is_complete_date, negated
            return ~self(COMPLEMENT_OF[name], check)
        operator = OPERATORS[name]
        if name in PRESENCE_OPERATORS and self._constant_presence(check):
            # the same answer on every row
            return np.repeat(self._judge(operator, check, self.frame, np.zeros(1, int)),
                             len(self.frame))
        read = () if name in PRESENCE_OPERATORS else self._read(check)
        if not read or name not in _ELEMENTWISE or check.param("value_is_reference"):
            return self._on_all_columns(operator, check)
        if len(self.frame) < DISTINCT_FROM_ROWS:  # few rows: judging them costs less
            return np.asarray(operator(self.frame, check), dtype=bool)
        codes, first = self._grouping(read)
        sub = self.frame[list(read)]

        def judged(_: object = None) -> np.ndarray:
            return self._judge(operator, check, sub, first)
        key = _leaf_key(name, check) if len(read) == 1 else None
        column = sub[read[0]]
        if key is None or not isinstance(column, pd.Series) or _holds_lists(column):
            return _spread(judged(), codes)
        return _spread(kept(column.to_numpy(), key, judged), codes)

    def _on_all_columns(self, operator: object, check: Check) -> np.ndarray:
        """A leaf that may look at any column: on every row, or (an elementwise rule) on the
        distinct combinations of all the rule's columns."""
        if not self.columns:
            return np.asarray(operator(self.frame, check), dtype=bool)  # type: ignore[operator]
        codes, first = self._grouping(tuple(self.columns))
        return _spread(self._judge(operator, check, self.frame, first), codes)

    def _constant_presence(self, check: Check) -> bool:
        """exists / not_exists of a column, or in a frame without operation results (whose
        lists it would search): no row differs."""
        return check.target in self.frame.columns or not any(
            str(c).startswith("$") for c in self.frame.columns)

    @staticmethod
    def _judge(operator: object, check: Check, frame: pd.DataFrame,
               first: np.ndarray) -> np.ndarray:
        rows = frame if len(first) == len(frame) else frame.iloc[first]
        return np.asarray(operator(rows, check), dtype=bool)  # type: ignore[operator]

    def _read(self, check: Check) -> tuple[str, ...]:
        """The frame's columns a leaf reads: its target and comparator(s) that name one (the
        rule's columns, see _distinct_key_columns)."""
        names: list[str] = []
        for value in (check.target, check.comparator):
            for n in value if isinstance(value, list) else [value]:
                if isinstance(n, str) and n in self.frame.columns:
                    names.append(n)
        return tuple(dict.fromkeys(names))

    def _grouping(self, columns: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """(code per row of its combination of the columns' values, first row of each)."""
        if columns not in self.codes:
            parts = {c: _distinct_codes(self.frame[c]) for c in columns}
            # a column holding one value throughout (an operation's result) splits nothing
            varying = [c for c, codes in parts.items() if len(codes) and codes.max() > 0]
            if len(varying) > 1:
                codes, first = combine_with_first([parts[c] for c in varying], len(self.frame))
            elif varying:
                codes = parts[varying[0]]
                first = _first_rows_of(self.frame[varying[0]], codes)
            else:
                codes = np.zeros(len(self.frame), dtype=np.int8)
                first = np.zeros(min(1, len(self.frame)), dtype=np.int64)
            self.codes[columns] = (codes, first)
        return self.codes[columns]


def _spread(judged: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """judged[codes]: the answer per distinct combination given to its rows (one answer for
    all rows needs no lookup)."""
    if judged.all():
        return np.ones(len(codes), dtype=bool)
    if not judged.any():
        return np.zeros(len(codes), dtype=bool)
    return judged[codes]


def _holds_lists(values: pd.Series) -> bool:
    return values.dtype == object and len(values) > 0 and isinstance(values.iloc[0],
                                                                      (list, tuple, set))


def _distinct_codes(values: pd.Series) -> np.ndarray:
    """Codes of a column's values in order of first appearance; cells holding one list
    object (an operation's result) group by identity, without hashing their contents, and so
    does a column of one object broadcast to every row."""
    array = values.to_numpy()
    if _holds_lists(values):
        return pd.factorize(object_ids(array))[0]
    if array.dtype == object and len(array) and array[0] is array[-1] and not is_shared(array):
        ids = object_ids(array)
        if (ids == ids[0]).all():
            return np.zeros(len(array), dtype=np.int8)
    return column_factorize(values)[0]


def _first_rows_of(values: pd.Series, codes: np.ndarray) -> np.ndarray:
    """first_rows of a column's codes, kept with a dataset column like its codes."""
    if _holds_lists(values):
        return first_rows(codes)
    return kept(values.to_numpy(), "first rows", lambda _: first_rows(codes))


def _record_values(rule: Rule, frame: pd.DataFrame, ds: DatasetInfo, hits: np.ndarray) -> list[str]:
    wanted = [str(_expand(v, ds.domain)) for v in rule.output_variables] or sorted(
        referenced_columns(rule, ds.domain))
    shown = [c for c in wanted if c in frame.columns and not c.startswith("$")]
    if not shown:
        return [""] * len(hits)
    return _cells_text(frame, shown, hits)


def _cells_text(frame: pd.DataFrame, names: list[str], rows: np.ndarray) -> list[str]:
    """"A=1, B=x" for each of the rows (positions in frame), the named columns' cells."""
    if len(set(names)) < len(names) or frame.columns[frame.columns.isin(names)].has_duplicates:
        part = frame.iloc[rows][names]  # a name twice: as it always was shown
        text = [part[c].map(_cell) for c in names]
        return [", ".join(f"{c}={t.iloc[i]}" for c, t in zip(names, text, strict=True))
                for i in range(len(rows))]
    part = frame[names].iloc[rows]
    text = [part[c].map(_cell).tolist() for c in names]
    return [", ".join(f"{c}={t}" for c, t in zip(names, row, strict=True))
            for row in zip(*text, strict=True)]


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if np.isnan(value) else (str(int(value)) if value.is_integer() else repr(value))
    if isinstance(value, (list, tuple, set)):
        return "[" + ", ".join(map(str, value)) + "]"
    return "" if value is None else str(value)


def record_keys(ds: DatasetInfo, rows: np.ndarray) -> list[str]:
    keys = [k for k in ds.keys if k in ds.frame.columns and k not in ("STUDYID", "USUBJID")]
    if not keys:
        return [""] * len(rows)
    return _cells_text(ds.frame, keys, rows - 1)


def findings_of(rule: Rule, ds: DatasetInfo, frame: pd.DataFrame,
                mask: np.ndarray) -> list[Finding]:
    hits = np.flatnonzero(mask)
    if len(hits) == 0:
        return []
    rows = frame[ROW].to_numpy()[hits] if ROW in frame.columns else np.zeros(len(hits), int)
    # a join may repeat a record: report each dataset record once
    _, first = np.unique(rows, return_index=True)
    order = np.sort(first) if rows.any() else np.arange(len(rows))
    hits, rows = hits[order], rows[order]
    count = len(hits)
    kept_hits, kept_rows = hits[:MAX_RECORDS], rows[:MAX_RECORDS]
    values = _record_values(rule, frame, ds, kept_hits)
    by_row = kept_rows > 0
    usubjid = [""] * len(kept_rows)
    keys = [""] * len(kept_rows)
    if by_row.any() and "USUBJID" in ds.frame.columns:
        subjects = ds.frame["USUBJID"].to_numpy()
        usubjid = [str(subjects[r - 1]) if r > 0 else "" for r in kept_rows]
        keys = record_keys(ds, np.where(kept_rows > 0, kept_rows, 1))
        keys = [k if r > 0 else "" for k, r in zip(keys, kept_rows, strict=True)]
    if "variable_name" in frame.columns and not by_row.any():
        names = frame["variable_name"].to_numpy()[kept_hits]
        keys = [f"variable={n}" for n in names]
    records = tuple(Record(int(r), u, k, v) for r, u, k, v in
                    zip(kept_rows, usubjid, keys, values, strict=True))
    variable = _finding_variable(rule, ds)
    if rule.sensitivity == "Dataset":
        # one result per dataset (CORE's Dataset sensitivity); its value lists what was found
        shown = "; ".join(dict.fromkeys(f"{r.key}: {r.value}" if r.key else r.value
                                        for r in records[:MAX_ROWS]))
        first = records[0]
        return [Finding(rule.core_id, rule.severity, ds.name, variable, rule.message, 1,
                        (first.row,) if first.row else (), (shown,), rule.reference,
                        (Record(first.row, first.usubjid, first.key, shown),))]
    return [Finding(rule.core_id, rule.severity, ds.name, variable, rule.message, count,
                    tuple(int(r) for r in kept_rows[:MAX_ROWS] if r > 0),
                    tuple(values[:MAX_ROWS]),
                    rule.reference, records)]


def _finding_variable(rule: Rule, ds: DatasetInfo) -> str | None:
    names = [str(_expand(v, ds.domain)) for v in rule.output_variables] or [
        str(_expand((leaf.get("value") or {}).get("target"), ds.domain))
        for leaf in _leaves(rule.conditions)]
    names = [n for n in names if n and not n.startswith("$") and n in ds.frame.columns]
    return ", ".join(dict.fromkeys(names)) or None


# --- the catalogue on a study ------------------------------------------------------------------

FRAME_BUILDERS = {
    "Record Data": lambda rule, ds, study: _record_frame(rule, ds, study),
    "Dataset Metadata Check": lambda rule, ds, study: dataset_metadata_frame(ds),
    "Variable Metadata Check": lambda rule, ds, study: variable_metadata_frame(ds),
    "Variable Metadata Check against Library Metadata":
        lambda rule, ds, study: library_variable_frame(ds, study),
    "Define Item Metadata Check against Library Metadata":
        lambda rule, ds, study: define_variable_frame(ds, study),
}
VALUE_CHECKS = {"Value Check with Variable Metadata", "Value Check with Dataset Metadata"}


def run_rule(rule: Rule, study: Study) -> tuple[RuleRun, list[Finding]]:
    """One rule on every dataset in its scope."""
    targets = [ds for ds in study.datasets.values() if in_scope(rule, ds)]
    base = dict(rule=rule.core_id, reference=rule.reference, description=rule.message,
                severity=rule.severity)
    if rule.rule_type == "Domain Presence Check":
        targets = _presence_targets(rule, targets, study)
    if not targets:
        return RuleRun(**base, status="skipped", reason=_scope_reason(rule)), []
    findings: list[Finding] = []
    skipped: list[str] = []
    ran: list[str] = []
    try:
        for ds in targets:
            try:
                findings += _run_on(rule, ds, study)
                ran.append(ds.name)
            except Skip as why:
                skipped.append(str(why))
    except NotExecutable as why:
        return RuleRun(**base, status="not executable", reason=str(why),
                       datasets=tuple(d.name for d in targets)), []
    if not ran:
        return RuleRun(**base, status="skipped", reason="; ".join(dict.fromkeys(skipped)),
                       datasets=tuple(d.name for d in targets)), []
    status = "failed" if findings else "passed"
    reason = ("not run on: " + "; ".join(dict.fromkeys(skipped))) if skipped else ""
    if rule.erratum:
        reason = "; ".join(filter(None, [f"erratum: {rule.erratum}", reason]))
    return RuleRun(**base, status=status, reason=reason, datasets=tuple(ran)), findings


def _presence_targets(rule: Rule, targets: list[DatasetInfo], study: Study) -> list[DatasetInfo]:
    """A presence check without operations asks one question of the whole study: run it
    once (on the first dataset in scope); with operations it asks it of each dataset."""
    if rule.operations or not targets:
        return targets
    return targets[:1]


def _run_on(rule: Rule, ds: DatasetInfo, study: Study) -> list[Finding]:
    if rule.rule_type == "Domain Presence Check":
        frame = domain_list_frame(study)
        frame = apply_operations(rule, frame, ds, study)
        context = {"dataset_name": ds.name, "domain": ds.domain}
        mask = evaluate(rule.conditions, frame, context, ds.domain).to_numpy(dtype=bool)
        out = findings_of(rule, ds, frame, mask)
        return [_study_level(f) for f in out] if not rule.operations else out
    if rule.rule_type in VALUE_CHECKS:
        return _value_check(rule, ds, study)
    builder = FRAME_BUILDERS.get(rule.rule_type)
    if builder is None:
        raise NotExecutable(f"rule type {rule.rule_type!r} is not interpreted")
    frame = builder(rule, ds, study)
    mask, frame = judge(rule, frame, ds, study)
    return findings_of(rule, ds, frame, mask)


def _study_level(f: Finding) -> Finding:
    return Finding(f.rule, f.severity, "STUDY", None, f.message, 1, (), (), f.reference,
                   (Record(0),))


def _scope_reason(rule: Rule) -> str:
    parts = []
    if rule.domains_in and "ALL" not in rule.domains_in:
        parts.append("datasets " + ", ".join(rule.domains_in))
    if rule.classes_in and "ALL" not in rule.classes_in:
        parts.append("class " + ", ".join(rule.classes_in))
    what = " of ".join(parts) if parts else "dataset in its scope"
    return f"no {what} in the package"


# --- value checks: one column at a time, judged on its distinct values ---------------------------

def _value_check(rule: Rule, ds: DatasetInfo, study: Study) -> list[Finding]:
    """CORE judges a long frame (one row per value of the dataset). The same answer from a
    long frame of each column's distinct values (far fewer rows), mapped back to records."""
    leaves = _leaves(rule.conditions)
    if any(leaf.get("operator") in GROUP_OPERATORS for leaf in leaves):
        raise NotExecutable("row-group operators in a value check")
    long, codes = _distinct_long_frame(rule, ds)
    mask, long = judge(rule, long, ds, study)
    if not mask.any():
        return []
    hit_rows: list[np.ndarray] = []
    hit_values: list[str] = []
    names: list[str] = []
    for column, (start, distinct) in codes.items():
        bad = np.flatnonzero(mask[start:start + len(distinct)])
        if len(bad) == 0:
            continue
        # the same factorisation as the long frame's, redone for a failing column only:
        # row codes for every column of a large domain would cost 8 bytes per cell
        column_codes, _ = column_factorize(ds.frame[column])
        rows = np.flatnonzero(np.isin(column_codes, bad)) + 1
        hit_rows.append(rows)
        hit_values += [f"{column}={_cell(distinct[column_codes[r - 1]])}"
                       for r in rows[:MAX_RECORDS]]
        names.append(column)
    rows = np.concatenate(hit_rows)  # variable by variable, rows in order within each
    values = hit_values[:MAX_RECORDS]
    count = len(rows)
    kept = rows[:MAX_RECORDS]
    usubjid = ([str(u) for u in ds.frame["USUBJID"].to_numpy()[kept - 1]]
               if "USUBJID" in ds.frame.columns else [""] * len(kept))
    keys = record_keys(ds, kept)
    records = tuple(Record(int(r), u, k, v) for r, u, k, v in
                    zip(kept, usubjid, keys, values, strict=False))
    return [Finding(rule.core_id, rule.severity, ds.name, ", ".join(names), rule.message,
                    count, tuple(int(r) for r in kept[:MAX_ROWS]), tuple(values[:MAX_ROWS]),
                    rule.reference, records)]


def _distinct_long_frame(rule: Rule, ds: DatasetInfo) -> tuple[pd.DataFrame, dict]:
    """One row per (variable, distinct value) with the variable's (or dataset's) metadata;
    and per variable (first row in the long frame, distinct values in pd.factorize order)."""
    key = ("long", rule.rule_type)
    if key in ds.cache:
        return ds.cache[key]
    distinct_values = _distinct_values(ds)
    columns = list(ds.frame.columns)
    counts = [len(distinct_values[c]) for c in columns]
    # each variable's metadata row repeated once per distinct value of the variable
    if rule.rule_type == "Value Check with Dataset Metadata":
        meta = dataset_metadata_frame(ds).drop(columns=[ROW])
        meta = meta.iloc[np.zeros(sum(counts), dtype=np.int64)]
    else:
        meta = variable_metadata_frame(ds).drop(columns=[ROW]).set_index("variable_name")
        meta = meta.loc[columns].iloc[np.repeat(np.arange(len(columns)), counts)]
    values, lengths = _long_values(ds, columns, distinct_values)
    long = meta.reset_index(drop=rule.rule_type == "Value Check with Dataset Metadata")
    if "variable_name" not in long.columns:
        long.insert(0, "variable_name", pd.Series(np.repeat(np.asarray(columns, dtype=object),
                                                            counts)))
    long.insert(1, "variable_value", values)  # as CORE: no str dtype
    long["variable_value_length"] = lengths
    long[ROW] = 0
    codes, start = {}, 0
    for column, count in zip(columns, counts, strict=True):
        codes[column] = (start, distinct_values[column])
        start += count
    freeze(long)  # the value checks share its columns' codes and answers
    ds.cache[key] = (long, codes)
    return long, codes


def _long_values(ds: DatasetInfo, columns: list[str],
                 distinct_values: dict[str, np.ndarray]) -> tuple[pd.Series, np.ndarray]:
    """Every column's distinct values one after the other (object dtype) and their text
    lengths; built once per dataset: both kinds of value check share the column, and so the
    answers kept about its values."""
    if "long values" not in ds.cache:
        values = np.empty(sum(len(distinct_values[c]) for c in columns), dtype=object)
        values[:] = [v for c in columns for v in distinct_values[c]]
        lengths = text_lengths(values)
        ds.cache["long values"] = (pd.Series(values, dtype=object, copy=False), lengths)
    return ds.cache["long values"]


def _distinct_values(ds: DatasetInfo) -> dict[str, np.ndarray]:
    """Each column's distinct values (missing kept as one value), in order of first
    appearance; shared by both kinds of value check."""
    if "distinct" not in ds.cache:
        ds.cache["distinct"] = {
            column: np.asarray(column_factorize(ds.frame[column])[1], dtype=object)
            for column in ds.frame.columns}
    return ds.cache["distinct"]
