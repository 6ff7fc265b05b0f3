"""The operations of the CORE rule catalogue: values computed before a rule's conditions run.

`OPERATIONS[operator](ctx, params)` returns a scalar, a list (the engine broadcasts it to every
row) or a Series aligned with ``ctx.frame.index``. ``params`` is the rule's operation object with
"--" already replaced by the domain prefix ({"id": "$x", "operator": "distinct", "name": "DSDECOD",
"domain": "DS", "group": ["USUBJID"], "filter": {...}, ...}).

Semantics follow CORE (cdisc-org/cdisc-rules-engine, cdisc_rules_engine/operations/) where its
documentation (resources/schema/rule/Operations.md) is silent:

- Which data: an operation reads the dataset being checked, as submitted (``ctx.datasets`` under
  ``ctx.dataset_name``, else ``ctx.frame``), unless its "domain" names another dataset, which is
  then read from ``ctx.datasets`` (by name, else the datasets whose DOMAIN is that domain,
  concatenated). A missing dataset raises `DatasetNotFoundError`: CORE raises
  DomainNotFoundError there and reports the rule as skipped ("operation domain not found") for
  the dataset being checked; it does not compute an empty result.
- Grouped results (group: [...]) are computed per group over the whole source dataset and
  given to every row of ``ctx.frame`` by its group values (a left join, as CORE's
  _handle_grouped_result); group_aliases name the frame's columns to join on. A group item that
  names an earlier operation's list-valued column ("$TIMING_VARIABLES") stands for the
  variables in that list. Rows whose group is not in the source get None (distinct), "" (text
  results) or NaN (counts).
- filter: {variable: value} keeps records equal to the value; a value ending in "&" keeps
  values starting with the rest ("RACE&": RACE1, RACE2, ...).
- Missing values: text "" is a value like any other (CORE keeps it); NaN/None values are
  dropped from distinct results.

Anything that cannot be computed (unknown operator, a variable or codelist that is not there,
an unsupported parameter) raises `OperationError`; the engine reports the rule not executable.
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .codes import combine_with_first, factorize, first_rows, frozen_identity, on_distinct
from cdisc.text import stripped_text, text_column

from .library import Library, LibraryError, is_supp, load_library

# columns CORE adds to split datasets; never dataset variables
METADATA_COLUMNS = frozenset({"source_filename", "source_row_number"})
# datasets CORE always reads from the study, never from the frame being checked
RELATIONSHIP_DATASETS = frozenset({"RELREC", "RELSUB", "CO"})


class OperationError(Exception):
    """The operation cannot be computed for this dataset: the rule is not executable."""


class DatasetNotFoundError(OperationError):
    """The operation needs a dataset the package does not have. CORE skips the rule for the
    dataset being checked ("rule evaluation skipped - operation domain not found")."""

    def __init__(self, dataset: str, operator: str = ""):
        self.dataset = dataset
        self.operator = operator
        super().__init__(
            f"operation {operator or '?'} needs dataset {dataset}, which is not in the package"
        )


@dataclass
class OperationContext:
    """What an operation may read.

    frame: the dataset being checked, as the engine evaluates it (earlier operations' results
        are columns named by their id).
    dataset_name: e.g. "AE", "SUPPAE", "LB1".  domain: e.g. "AE" (for SUPPAE too).
    datasets: the whole package, upper-case dataset name -> frame.
    library: the standards (`load_library()`).  define: reserved for define.xml metadata.
    """

    frame: pd.DataFrame
    dataset_name: str
    domain: str
    datasets: dict[str, pd.DataFrame]
    library: Library = field(default_factory=load_library)
    define: dict | None = None


# --- shared helpers -------------------------------------------------------------------------------


def _domain_of(df: pd.DataFrame) -> str | None:
    """The DOMAIN of a dataset's first record (CORE SDTMDatasetMetadata.domain)."""
    if "DOMAIN" not in df.columns or df.empty:
        return None
    value = df["DOMAIN"].iloc[0]
    return str(value) if isinstance(value, str) and value else None


def _own(ctx: OperationContext) -> pd.DataFrame:
    """The dataset being checked, as submitted."""
    return ctx.datasets.get(ctx.dataset_name.upper(), ctx.frame)


def _current_domain(ctx: OperationContext) -> str:
    """The domain of the dataset being checked: its first record's DOMAIN (as CORE's
    is_current_domain), else ctx.domain."""
    return (_domain_of(_own(ctx)) or ctx.domain or "").upper()


def _source(ctx: OperationContext, params: dict) -> pd.DataFrame:
    """The dataset an operation reads: its "domain", else the dataset being checked."""
    domain = params.get("domain")
    if not domain:
        return _own(ctx)
    name = str(domain).upper()
    own_name = ctx.dataset_name.upper()
    if name.endswith("--"):  # a dataset-name pattern ("SUPP--"): this dataset, or its SUPP
        stem = name[:-2]
        if own_name.startswith(stem) and len(own_name) > len(stem):
            return _own(ctx)
        name = stem + _current_domain(ctx)
    if name == own_name:
        return _own(ctx)
    if (
        name == _current_domain(ctx)
        and not (is_supp(name) or name in RELATIONSHIP_DATASETS)
        and not is_supp(ctx.dataset_name)
    ):
        return _own(ctx)
    if name in ctx.datasets:
        return ctx.datasets[name]
    parts = [df for df in ctx.datasets.values() if _domain_of(df) == name]
    if parts:
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    raise DatasetNotFoundError(name, params.get("operator", ""))


def _standard_name(ctx: OperationContext) -> str:
    """The name the library knows the dataset by: SUPPAE stays SUPPAE (-> SUPPQUAL in the
    library), a split LB1 is LB (its DOMAIN), others their domain."""
    if is_supp(ctx.dataset_name):
        return ctx.dataset_name.upper()
    return _current_domain(ctx) or ctx.dataset_name.upper()


def _name(params: dict) -> str:
    name = params.get("name")
    if not name or not isinstance(name, str):
        raise OperationError(f"operation {params.get('operator')} needs a variable name")
    return name


def _column(df: pd.DataFrame, name: str, params: dict) -> pd.Series:
    if name not in df.columns:
        raise OperationError(
            f"operation {params.get('operator')}: variable {name} is not in the dataset"
        )
    return df[name]


def _filter_mask(df: pd.DataFrame, params: dict) -> pd.Series:
    """CORE _filter_data: equality per variable, "&" at the end of a value = starts with."""
    mask = pd.Series(True, index=df.index)
    for variable, value in (params.get("filter") or {}).items():
        column = _column(df, variable, params)
        if isinstance(value, str) and value.endswith("&"):
            text = column.astype("object").where(column.notna(), "")
            hit = text.astype(str).str.startswith(value.rstrip("&"))
        else:
            hit = column == value
        mask &= hit.fillna(False).astype(bool)
    return mask


def _filtered(df: pd.DataFrame, params: dict) -> pd.DataFrame:
    return df[_filter_mask(df, params)] if params.get("filter") else df


def _group(ctx: OperationContext, params: dict, source: pd.DataFrame) -> list[str]:
    """The group variables, a list-valued earlier result ("$TIMING_VARIABLES") expanded to the
    variables of its list that the source has (CORE _expand_operation_results_in_grouping)."""
    group = params.get("group") or []
    if isinstance(group, str):
        group = [group]
    keys: list[str] = []
    for item in group:
        if item in ctx.frame.columns and not ctx.frame.empty:
            first = ctx.frame[item].iloc[0]
            if isinstance(first, (list, tuple)):
                keys.extend(v for v in first if v in source.columns)
                continue
        keys.append(item)
    keys = list(dict.fromkeys(keys))
    missing = [k for k in keys if k not in source.columns]
    if missing:
        raise OperationError(
            f"operation {params.get('operator')}: group variable(s) {missing} not in the dataset"
        )
    return keys


def _frame_keys(params: dict, keys: list[str]) -> list[str]:
    """The frame's columns to join a grouped result on (group_aliases by position)."""
    aliases = params.get("group_aliases") or []
    return [aliases[i] if i < len(aliases) and aliases[i] else k for i, k in enumerate(keys)]


def _is_number(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _as_text(series: pd.Series) -> pd.Series:
    """Join keys as text: whole numbers without ".0", missing as ""."""
    if _is_number(series):
        whole = series.notna() & (series % 1 == 0)
        text = series.astype("object").where(series.notna(), "")
        text = text.where(~whole, series.where(whole).astype("Int64").astype(str))
        return text.astype(str).astype("object")
    return text_column(series)


def _harmonise(
    left: pd.DataFrame, right: pd.DataFrame, keys: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Give join keys one type on both sides (numbers with numbers, else text)."""
    left, right = left.copy(), right.copy()
    for key in keys:
        if _is_number(left[key]) and _is_number(right[key]):
            continue
        left[key] = _as_text(left[key])
        right[key] = _as_text(right[key])
    return left, right


def _to_rows(
    ctx: OperationContext, params: dict, table: pd.DataFrame, keys: list[str], value: str, fill: Any
) -> pd.Series:
    """A per-group table (keys + value, one row per group) given to every frame row by its
    group values; rows whose group is not in the table get `fill` (a scalar or None)."""
    frame_keys = _frame_keys(params, keys)
    missing = [k for k in frame_keys if k not in ctx.frame.columns]
    if missing:
        raise OperationError(
            f"operation {params.get('operator')}: the dataset checked has no {missing} to join on"
        )
    if len(keys) == 1 and table[value].dtype == object:
        position = _looked_up(ctx.frame[frame_keys[0]], table[keys[0]])
        if position is not None:
            values = np.empty(len(position), dtype=object)
            found = position >= 0
            values[found] = table[value].to_numpy()[position[found]]
            values[~found] = fill
            return pd.Series(values, index=ctx.frame.index, dtype="object", name=params.get("id"))
    left = ctx.frame[frame_keys].copy()
    left.columns = keys
    left, right = _harmonise(left, table[keys + [value]], keys)
    merged = left.merge(right, on=keys, how="left", sort=False, indicator="__match")
    values = merged[value].astype("object").to_numpy(copy=True)
    unmatched = (merged["__match"] == "left_only").to_numpy()
    values[unmatched] = fill
    return pd.Series(values, index=ctx.frame.index, dtype="object", name=params.get("id"))


def _looked_up(left: pd.Series, right: pd.Series) -> np.ndarray | None:
    """Per left row the position of its key among right's keys (-1: none), as the left merge
    of _to_rows pairs them after _harmonise, worked out on the left column's distinct values;
    None when right's keys repeat or the dtypes are not plain (the merge then decides)."""
    plain = (np.dtype(object), np.dtype("float64"), np.dtype("int64"))
    if left.dtype not in plain or right.dtype not in plain:
        return None
    numbers = _is_number(left) and _is_number(right)
    if numbers and left.dtype != right.dtype:
        return None
    codes, distinct = factorize(left)
    keys = pd.Series(distinct, dtype=left.dtype)
    if not numbers:
        keys, right = _as_text(keys), _as_text(right)
    index = pd.Index(right.to_numpy(), dtype=right.dtype)
    if not index.is_unique:
        return None
    return index.get_indexer(keys.to_numpy())[codes]


def _numeric_rows(series: pd.Series) -> pd.Series:
    """Counts as int64, or float64 with NaN where a row's group was not found."""
    numbers = pd.to_numeric(series, errors="coerce")
    if numbers.isna().any():
        return numbers.astype("float64")
    return numbers.astype("int64")


def _unique(values: pd.Series) -> list:
    """Distinct values in order of appearance, without NaN/None ("" is kept)."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "Oif":
        # the distinct values of a dataset column are known (its codes are kept)
        distinct = np.asarray(factorize(values)[1]).astype(object)
        distinct = distinct[~np.asarray(pd.isna(distinct), dtype=bool)]
    else:
        kept = values[values.notna()]
        distinct = pd.unique(kept.astype("object"))
    return [v.decode() if isinstance(v, bytes) else v for v in distinct]


def _lib_names(variables) -> list[str]:
    return list(dict.fromkeys(v.name for v in variables))


def _keyed(variables, params: dict) -> list:
    """Variables whose metadata key_name equals key_value (all when no key_name)."""
    key, value = params.get("key_name"), params.get("key_value")
    if not key:
        return list(variables)
    return [v for v in variables if v.get(key) == value]


def _domain_variables(ctx: OperationContext, params: dict, model_only: bool = False) -> list:
    name = _standard_name(ctx)
    columns = list(_own(ctx).columns)
    try:
        if model_only:
            return ctx.library.domain_model_variables(name, columns)
        return ctx.library.domain_variables(name, columns)
    except LibraryError as error:
        raise OperationError(f"operation {params.get('operator')}: {error}") from error


def _dates(series: pd.Series) -> pd.Series:
    """ISO 8601 text -> UTC timestamps (partial dates at their first instant; NaT when empty
    or not a date)."""
    return on_distinct(_dates_of, series)


def _dates_of(series: pd.Series) -> pd.Series:
    text = stripped_text(series)
    return pd.to_datetime(text.where(text != ""), format="ISO8601", errors="coerce", utc=True)


_COMPLETE_DATE = r"^\d{4}-\d{2}-\d{2}(?:T|$)"


def _complete_dates(series: pd.Series) -> pd.Series:
    """The date part of values that have a complete date (CORE dy: datetime.fromisoformat(x)
    .date()); NaT otherwise."""
    return on_distinct(_complete_dates_of, series)


def _complete_dates_of(series: pd.Series) -> pd.Series:
    text = stripped_text(series)
    complete = text.str.match(_COMPLETE_DATE)
    return pd.to_datetime(text.str[:10].where(complete), format="%Y-%m-%d", errors="coerce")


# --- the operations -------------------------------------------------------------------------------


def _referenced_columns(
    ctx: OperationContext, df: pd.DataFrame, target: str, params: dict
) -> pd.Series:
    """value_is_reference: the target value where it names a column of the dataset named in
    the record's RDOMAIN, else None (CORE _check_column_exists_in_dataset)."""
    values = _column(df, target, params)
    rdomain = (
        df["RDOMAIN"]
        if "RDOMAIN" in df.columns
        else pd.Series(None, index=df.index, dtype="object")
    )
    pairs = pd.DataFrame(
        [(name, column) for name, data in ctx.datasets.items() for column in data.columns],
        columns=["__dataset", "__column"],
    ).drop_duplicates()
    probe = pd.DataFrame(
        {
            "__dataset": rdomain.astype("object").to_numpy(),
            "__column": values.astype("object").to_numpy(),
        }
    )
    found = probe.merge(pairs.assign(__hit=True), on=["__dataset", "__column"], how="left")["__hit"]
    found = found.fillna(False).astype(bool).to_numpy()
    return pd.Series(
        np.where(found, values.astype("object").to_numpy(), None), index=df.index, dtype="object"
    )


def op_distinct(ctx: OperationContext, params: dict):
    """Distinct values of `name` (a list); per group when grouped (each row gets its group's
    list). value_is_reference keeps only values naming a column of the RDOMAIN dataset."""
    source = _source(ctx, params)
    target = _name(params)
    keys = _group(ctx, params, source) if params.get("group") else []
    if keys and not params.get("value_is_reference"):

        def per_group() -> pd.DataFrame:
            data = _filtered(source, params)
            return _distinct_per_group(data, keys, _column(data, target, params))
        groups = _kept_groups(source, params, keys, per_group)
        return _to_rows(ctx, params, groups, keys, "__values", None)
    data = _filtered(source, params)
    if params.get("value_is_reference"):
        values = _referenced_columns(ctx, data, target, params)
    else:
        values = _column(data, target, params)
    if not keys:
        return _unique(values)
    return _to_rows(ctx, params, _distinct_per_group(data, keys, values), keys, "__values",
                    None)


# per-group results over a dataset, kept while it lives (its columns read-only and the same
# arrays): SV's visits per subject are asked for by a rule on every other dataset
_KEPT_GROUPS: dict[tuple, tuple[Any, pd.DataFrame]] = {}
MAX_KEPT_GROUPS = 64


def _kept_groups(source: pd.DataFrame, params: dict, keys: list[str],
                 compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    named = [*keys, params.get("name"), *(params.get("filter") or {})]
    identities = [frozen_identity(source[c]) for c in dict.fromkeys(named)
                  if isinstance(c, str) and c in source.columns]
    if any(i is None for i in identities):
        return compute()
    what = json.dumps({k: v for k, v in params.items() if k != "id"}, sort_keys=True,
                      default=str)
    key = (id(source), what, tuple(keys), tuple(identities))
    hit = _KEPT_GROUPS.get(key)
    if hit is not None and hit[0]() is source:
        return hit[1]
    table = compute()
    if len(_KEPT_GROUPS) >= MAX_KEPT_GROUPS:
        _KEPT_GROUPS.clear()
    _KEPT_GROUPS[key] = (weakref.ref(source), table)
    return table


def _distinct_per_group(data: pd.DataFrame, keys: list[str], values: pd.Series) -> pd.DataFrame:
    """One row per group of `keys` (in order of first appearance): the group's distinct
    non-missing values as a list, in order of first appearance."""
    plain = (np.dtype(object), np.dtype("float64"), np.dtype("int64"))
    # (a missing key, or no value at all: as pandas has it, its merge may refuse the dtypes)
    if len(keys) == 1 and data[keys[0]].dtype in plain and values.dtype in plain and \
            data[keys[0]].notna().all() and values.notna().any():
        try:
            return _distinct_per_key(data, keys[0], values)
        except TypeError:  # unhashable values: as pandas has it
            pass
    table = data[keys].copy()
    table["__value"] = values.to_numpy()
    groups = table[keys].drop_duplicates()
    pairs = table[table["__value"].notna()].drop_duplicates(keys + ["__value"])
    lists = (
        pairs.groupby(keys, sort=False, dropna=False)["__value"]
        .agg(list)
        .rename("__values")
        .reset_index()
    )
    groups = groups.merge(lists, on=keys, how="left")
    groups["__values"] = [v if isinstance(v, list) else [] for v in groups["__values"]]
    return groups


def _distinct_per_key(data: pd.DataFrame, key: str, values: pd.Series) -> pd.DataFrame:
    """_distinct_per_group for one key, on the columns' codes: the first row of each key and
    of each (key, value) pair, the pairs' values listed group by group."""
    key_codes, _ = factorize(data[key])
    groups = data[[key]].iloc[first_rows(key_codes)].reset_index(drop=True)
    value_codes, distinct = factorize(values)
    rows = np.flatnonzero(~np.asarray(pd.isna(distinct), dtype=bool)[value_codes])
    _, first = combine_with_first([key_codes[rows], value_codes[rows]], len(rows))
    pairs = rows[first]  # each (key, value) pair's first row, in row order
    owner = key_codes[pairs]
    items = values.to_numpy()[pairs[np.argsort(owner, kind="stable")]].tolist()
    ends = np.cumsum(np.bincount(owner, minlength=len(groups))).tolist()
    starts = [0, *ends[:-1]] if ends else []
    groups["__values"] = [items[start:end] for start, end in zip(starts, ends, strict=True)]
    return groups


def _regex_keys(data: pd.DataFrame, keys: list[str], regex: str | None) -> pd.DataFrame:
    """Group values with `regex` applied to the text columns it fits (CORE record_count regex:
    "^\\d{4}-\\d{2}-\\d{2}" groups datetimes by their date); other values unchanged."""
    out = data[keys].copy()
    if not regex:
        return out
    try:
        pattern = re.compile(regex)
    except re.error:
        return out
    for key in keys:
        column = out[key]
        sample = column[column.notna() & (column.astype("object") != "")]
        if sample.empty or not isinstance(sample.iloc[0], str) or not pattern.match(sample.iloc[0]):
            continue
        text = column.astype("object")
        extracted = (
            text.where(text.notna(), "").astype(str).str.extract("^(" + regex + ")", expand=True)[0]
        )
        out[key] = extracted.astype("object").where(extracted.notna(), text)
    return out


def op_record_count(ctx: OperationContext, params: dict):
    """Number of records (matching `filter`); grouped: each row gets the number of (matching)
    records of its group, 0 for a group without matching records."""
    source = _source(ctx, params)
    mask = _filter_mask(source, params) if params.get("filter") else None
    if not params.get("group"):
        return int(mask.sum()) if mask is not None else int(len(source))
    if ctx.frame.empty:
        return pd.Series([], index=ctx.frame.index, dtype="int64", name=params.get("id"))
    keys = _group(ctx, params, source)
    grouped = _regex_keys(source, keys, params.get("regex"))
    counted = grouped[mask.to_numpy()] if mask is not None else grouped
    sizes = counted.groupby(keys, sort=False, dropna=False).size().rename("__n").reset_index()
    per_row = grouped.merge(sizes, on=keys, how="left")["__n"].fillna(0).astype("int64").to_numpy()
    table = source[keys].copy()
    table["__n"] = per_row
    table = table.drop_duplicates(keys)
    return _numeric_rows(_to_rows(ctx, params, table, keys, "__n", np.nan))


def op_variable_exists(ctx: OperationContext, params: dict) -> bool:
    """Whether the dataset (as submitted, whatever the rule type) has the variable."""
    return _name(params) in _source(ctx, params).columns


def op_get_column_order_from_dataset(ctx: OperationContext, params: dict) -> list[str]:
    """The dataset's variables in their order."""
    columns = _source(ctx, params).columns
    return [str(c) for c in columns if c not in METADATA_COLUMNS and not str(c).startswith("$")]


def _extreme_date(ctx: OperationContext, params: dict, largest: bool):
    source = _source(ctx, params)
    original = _column(source, _name(params), params)
    text = stripped_text(original)
    parsed = _dates(original)
    if not params.get("group"):
        valid = parsed.reset_index(drop=True)
        if valid.notna().sum() == 0:
            return ""
        at = valid.idxmax() if largest else valid.idxmin()
        return text.iloc[at]
    keys = _group(ctx, params, source)
    table = source[keys].copy()
    table["__text"] = text.to_numpy()
    table["__date"] = parsed.array  # datetimes: no Timestamp object per record
    best = (
        table[table["__date"].notna()]
        .sort_values("__date", ascending=not largest, kind="stable")
        .drop_duplicates(keys, keep="first")
    )
    groups = table[keys].drop_duplicates().merge(best[keys + ["__text"]], on=keys, how="left")
    groups["__text"] = groups["__text"].astype("object").where(groups["__text"].notna(), "")
    return _to_rows(ctx, params, groups, keys, "__text", "")


def op_max_date(ctx: OperationContext, params: dict):
    """The latest ISO 8601 date of `name` as written (its own precision), "" when none; per
    group when grouped. Partial dates count from their first instant; non-dates are ignored."""
    return _extreme_date(ctx, params, largest=True)


def op_min_date(ctx: OperationContext, params: dict):
    """The earliest ISO 8601 date of `name` as written; see max_date."""
    return _extreme_date(ctx, params, largest=False)


def op_max(ctx: OperationContext, params: dict):
    """The largest value of `name` (CORE Maximum: pandas max, so text compares as text and
    "2020-01-01T10:00" > "2020-01-01"); empty text and NaN are skipped; "" / NaN when none."""
    source = _source(ctx, params)
    values = _column(source, _name(params), params)
    numeric = _is_number(values)
    if not numeric:
        text = values.astype("object")
        values = text.where(text.notna() & (text.astype(str) != ""))
    if not params.get("group"):
        kept = values.dropna()
        if kept.empty:
            return np.nan if numeric else ""
        best = kept.max()
        return best.item() if isinstance(best, np.generic) else best
    keys = _group(ctx, params, source)
    table = source[keys].copy()
    table["__value"] = values.to_numpy()
    groups = table.groupby(keys, sort=False, dropna=False)["__value"].max().reset_index()
    if not numeric:
        groups["__value"] = groups["__value"].astype("object").where(groups["__value"].notna(), "")
    result = _to_rows(ctx, params, groups, keys, "__value", np.nan if numeric else "")
    return pd.to_numeric(result, errors="coerce") if numeric else result


def op_study_domains(ctx: OperationContext, params: dict) -> list[str]:
    """The DOMAIN of every dataset (its first record's), "" for datasets without one (SUPP--,
    RELREC, empty datasets), as CORE StudyDomains."""
    return sorted({_domain_of(df) or "" for df in ctx.datasets.values()})


def op_dataset_names(ctx: OperationContext, params: dict) -> list[str]:
    """The names of the submitted datasets, upper case."""
    return sorted(str(name).upper() for name in ctx.datasets)


def op_dy(ctx: OperationContext, params: dict) -> pd.Series:
    """Study day of `name` against DM.RFSTDTC of the record's subject: date difference + 1 on or
    after RFSTDTC, the difference before it (no day 0); NaN when either date is not complete
    or the subject is not in DM. Only the date parts count."""
    target = _name(params)
    frame = ctx.frame
    if target not in frame.columns or "USUBJID" not in frame.columns:
        raise OperationError(f"operation dy needs {target} and USUBJID in the dataset checked")
    dm = _source(ctx, {"domain": "DM", "operator": "dy"})
    if "USUBJID" not in dm.columns or "RFSTDTC" not in dm.columns:
        raise OperationError("operation dy needs DM.USUBJID and DM.RFSTDTC")
    reference = dm.drop_duplicates("USUBJID").set_index("USUBJID")["RFSTDTC"]
    # a record's day depends on its subject and its date only: worked out per distinct pair
    subject_codes, subjects = factorize(frame["USUBJID"])
    date_codes, dates = factorize(frame[target])
    pairs, first = combine_with_first([subject_codes, date_codes], len(frame))
    start = _complete_dates(pd.Series(subjects, dtype=object).map(reference))
    end = _complete_dates_of(pd.Series(dates, dtype=dates.dtype))  # already distinct
    days = (end.iloc[date_codes[first]].reset_index(drop=True) -
            start.iloc[subject_codes[first]].reset_index(drop=True)).dt.days
    per_pair = days.where(days < 0, days + 1).astype("float64").to_numpy()
    return pd.Series(per_pair[pairs], index=frame.index, dtype="float64", name=params.get("id"))


def op_domain_label(ctx: OperationContext, params: dict) -> str:
    """The IG label of the dataset's domain ("" for SUPP-- and custom domains, as CORE)."""
    name = str(params.get("domain") or _standard_name(ctx))
    return ctx.library.label(name)


def _core_variables(ctx: OperationContext, params: dict, core: str) -> list[str]:
    return _lib_names(v for v in _domain_variables(ctx, params) if v.core == core)


def op_required_variables(ctx: OperationContext, params: dict) -> list[str]:
    """The Req variables of the dataset (IG + model as CORE: a custom domain has none, since
    model variables carry no core)."""
    return _core_variables(ctx, params, "Req")


def op_expected_variables(ctx: OperationContext, params: dict) -> list[str]:
    """The Exp variables of the dataset (see required_variables)."""
    return _core_variables(ctx, params, "Exp")


def op_variable_count(ctx: OperationContext, params: dict) -> int:
    """In how many datasets of the package (split datasets counted once) the variable occurs,
    "--" standing for each dataset's own DOMAIN (CORE VariableCount)."""
    name = _name(params)
    original = params.get("original_name") or ctx.library.generic_name(name, _current_domain(ctx))
    found: dict[str, bool] = {}
    for dataset, df in ctx.datasets.items():
        domain = _domain_of(df)
        key = domain or str(dataset).upper()
        variable = original.replace("--", domain, 1) if domain else original
        found[key] = found.get(key, False) or variable in df.columns
    return int(sum(found.values()))


def op_domain_is_custom(ctx: OperationContext, params: dict) -> bool:
    """Whether the dataset is neither an IG nor a model dataset (SUPP-- count as SUPPQUAL)."""
    return ctx.library.is_custom(_standard_name(ctx))


_AP = re.compile(r"^AP[A-Z]{2,4}$")


def _attr(ctx: OperationContext, *names: str):
    for df in (ctx.frame, _own(ctx)):
        for name in names:
            if name in df.attrs:
                return df.attrs[name]
    return None


def op_extract_metadata(ctx: OperationContext, params: dict):
    """Dataset-level metadata by name: dataset_name, domain, record_count, is_ap, ap_suffix
    from the data; dataset_label, dataset_size, dataset_location from the frame's attrs
    (the reader's file metadata), OperationError when the reader gave none."""
    what = _name(params)
    own = _own(ctx)
    name = ctx.dataset_name.upper()
    is_ap = name == "APRELSUB" or bool(_AP.match(name))
    computed = {
        "dataset_name": ctx.dataset_name,
        "domain": _domain_of(own) or ctx.domain,
        "record_count": int(len(own)),
        "is_ap": is_ap,
        "ap_suffix": name[2:4] if is_ap else "",
    }
    if what in computed:
        return computed[what]
    synonyms = {
        "dataset_label": ("dataset_label", "label"),
        "dataset_size": ("dataset_size", "file_size"),
        "dataset_location": ("dataset_location", "filename", "path"),
    }
    if what not in synonyms:
        raise OperationError(f"extract_metadata: unknown metadata {what!r}")
    value = _attr(ctx, *synonyms[what])
    if value is None:
        raise OperationError(f"extract_metadata: the dataset carries no {what}")
    return value


def op_get_model_column_order(ctx: OperationContext, params: dict) -> list[str]:
    """The model's variables for the dataset's class or model dataset, in model order."""
    return _lib_names(_domain_variables(ctx, params, model_only=True))


def op_get_model_filtered_variables(ctx: OperationContext, params: dict) -> list[str]:
    """The model's variables for the dataset (see get_model_column_order) whose key_name
    (role, label, ...) equals key_value."""
    return _lib_names(_keyed(_domain_variables(ctx, params, model_only=True), params))


def op_get_column_order_from_library(ctx: OperationContext, params: dict) -> list[str]:
    """The dataset's variables from the IG and the model in library order (Library.
    domain_variables), optionally only those whose key_name equals key_value."""
    return _lib_names(_keyed(_domain_variables(ctx, params), params))


def op_get_dataset_filtered_variables(ctx: OperationContext, params: dict) -> list[str]:
    """The dataset's own variables whose library metadata key_name equals key_value (e.g. its
    Timing variables), in library order."""
    columns = set(_own(ctx).columns)
    return [n for n in _lib_names(_keyed(_domain_variables(ctx, params), params)) if n in columns]


def op_get_parent_model_column_order(ctx: OperationContext, params: dict) -> pd.Series:
    """Per record of a SUPP-- (or other RDOMAIN) dataset: the model variables of the parent
    dataset named in RDOMAIN (see get_model_column_order); [] when RDOMAIN is blank."""
    frame = ctx.frame if "RDOMAIN" in ctx.frame.columns else _own(ctx)
    if "RDOMAIN" not in frame.columns:
        raise OperationError("get_parent_model_column_order needs RDOMAIN")
    rdomain = text_column(frame["RDOMAIN"])
    orders: dict[str, list[str]] = {"": []}
    for parent in rdomain.unique():
        if parent in orders:
            continue
        data = _source(ctx, {"domain": parent, "operator": "get_parent_model_column_order"})
        try:
            variables = ctx.library.domain_model_variables(parent, list(data.columns))
        except LibraryError as error:
            raise OperationError(f"get_parent_model_column_order: {error}") from error
        orders[parent] = _lib_names(variables)
    values = [orders[r] for r in rdomain]
    if frame is not ctx.frame and len(frame) != len(ctx.frame):
        raise OperationError("get_parent_model_column_order: the frame has no RDOMAIN")
    return pd.Series(values, index=ctx.frame.index, dtype="object", name=params.get("id"))


def op_valid_codelist_dates(ctx: OperationContext, params: dict) -> list[str]:
    """Dates of the published CT packages of ct_package_types (default SDTM): ["2014-09-26",
    ..., "2025-09-26"]."""
    types = params.get("ct_package_types") or ["SDTM"]
    try:
        return ctx.library.published_ct_dates(types)
    except LibraryError as error:
        raise OperationError(f"valid_codelist_dates: {error}") from error


def _codelist_values(codelist, level: str, returntype: str) -> list[str]:
    if level == "codelist":
        return [
            {
                "code": codelist.code,
                "value": codelist.submission_value,
                "pref_term": codelist.preferred_term,
            }[returntype]
        ]
    attribute = {"code": "code", "value": "submission_value", "pref_term": "preferred_term"}[
        returntype
    ]
    return [getattr(term, attribute) for term in codelist.terms]


def op_codelist_terms(ctx: OperationContext, params: dict):
    """The terms (level "term") or the codelists themselves (level "codelist") of `codelists`
    (short names or C-codes), as C-codes (returntype "code"), submission values ("value") or
    NCI preferred terms ("pref_term"). With codelist_code and one of term_code / term_value /
    term_pref_term (column names) each record gets the matching term's value or code instead."""
    if params.get("codelist_code") and any(
        params.get(k) for k in ("term_code", "term_value", "term_pref_term")
    ):
        return _codelist_term_lookup(ctx, params)
    codelists = params.get("codelists")
    level = params.get("level") or "term"
    returntype = params.get("returntype") or "value"
    if (
        not codelists
        or level not in ("term", "codelist")
        or returntype not in ("code", "value", "pref_term")
    ):
        raise OperationError(f"codelist_terms: unsupported parameters {params}")
    values: list[str] = []
    for name in codelists:
        codelist = ctx.library.codelist(str(name))
        if codelist is None:
            raise OperationError(
                f"codelist_terms: codelist {name!r} is not in CT {ctx.library.ct_version}"
            )
        values.extend(_codelist_values(codelist, level, returntype))
    return values


def _codelist_term_lookup(ctx: OperationContext, params: dict) -> pd.Series:
    given = [k for k in ("term_code", "term_value", "term_pref_term") if params.get(k)]
    if len(given) > 1:
        raise OperationError(
            "codelist_terms: give only one of term_code, term_value, term_pref_term"
        )
    kind = given[0]
    column = params[kind]
    frame = ctx.frame
    terms = (
        _column(frame, column, params).astype("object").where(frame[column].notna(), "").astype(str)
    )
    code_param = params["codelist_code"]
    codes = (
        frame[code_param].astype(str)
        if code_param in frame.columns
        else pd.Series(code_param, index=frame.index)
    )
    version = params.get("version")
    versions = (
        frame[version].astype(str)
        if version in frame.columns
        else pd.Series(version or ctx.library.ct_version, index=frame.index)
    )
    field_of = {
        "term_code": "code",
        "term_value": "submission_value",
        "term_pref_term": "preferred_term",
    }[kind]
    default_return = "value" if kind == "term_code" else "code"
    want = {"code": "code", "value": "submission_value", "pref_term": "preferred_term"}[
        params.get("returntype") or default_return
    ]
    rows = []
    for code in codes.unique():
        codelist = ctx.library.codelist(code)
        for term in codelist.terms if codelist else ():
            rows.append((code, str(getattr(term, field_of)).lower(), getattr(term, want)))
    table = pd.DataFrame(rows, columns=["__code", "__key", "__result"]).drop_duplicates(
        ["__code", "__key"]
    )
    probe = pd.DataFrame({"__code": codes.to_numpy(), "__key": terms.str.lower().to_numpy()})
    found = probe.merge(table, on=["__code", "__key"], how="left")["__result"].to_numpy()
    known = (versions == ctx.library.ct_version).to_numpy()
    result = np.where(known & pd.notna(found), found, None)
    return pd.Series(result, index=frame.index, dtype="object", name=params.get("id"))


def op_get_codelist_attributes(ctx: OperationContext, params: dict):
    """The values of ct_attribute ("Term CCODE", ...) in the CT package each record names:
    `name` is the reference column (TSVCDREF: "CDISC" / "CDISC CT" = SDTM CT) and `version` the
    version column (TSVCDVER). A record gets a frozenset of the package's values, empty when the
    package is not the vendored one (CORE: a package it cannot load gives an empty set).
    Without those columns: the values of package `version` (or the vendored one), as a list."""
    attribute = params.get("ct_attribute")
    library = ctx.library
    try:
        values = library.ct_attribute_values(attribute)
    except LibraryError as error:
        raise OperationError(f"get_codelist_attributes: {error}") from error
    reference, version = params.get("name"), params.get("version")
    frame = ctx.frame
    if (
        isinstance(reference, str)
        and isinstance(version, str)
        and reference in frame.columns
        and version in frame.columns
    ):
        ref = (
            frame[reference]
            .astype("object")
            .where(frame[reference].notna(), "")
            .astype(str)
            .str.strip()
        )
        ver = (
            frame[version]
            .astype("object")
            .where(frame[version].notna(), "")
            .astype(str)
            .str.strip()
        )
        package = np.where(ref.isin(["CDISC", "CDISC CT"]), "sdtmct-" + ver, ref + "-" + ver)
        package = np.where(ver == "", "", package)
        empty = frozenset()
        return pd.Series(
            [values if p == library.ct_package else empty for p in package],
            index=frame.index,
            dtype="object",
            name=params.get("id"),
        )
    wanted = version if isinstance(version, str) and version else library.ct_version
    wanted = wanted if "ct-" in wanted else f"sdtmct-{wanted}"
    return sorted(values, key=str) if wanted == library.ct_package else []


OPERATIONS: dict[str, Callable[[OperationContext, dict], Any]] = {
    "distinct": op_distinct,
    "record_count": op_record_count,
    "variable_exists": op_variable_exists,
    "get_column_order_from_dataset": op_get_column_order_from_dataset,
    "max_date": op_max_date,
    "min_date": op_min_date,
    "study_domains": op_study_domains,
    "dy": op_dy,
    "domain_label": op_domain_label,
    "required_variables": op_required_variables,
    "variable_count": op_variable_count,
    "domain_is_custom": op_domain_is_custom,
    "extract_metadata": op_extract_metadata,
    "dataset_names": op_dataset_names,
    "expected_variables": op_expected_variables,
    "get_model_column_order": op_get_model_column_order,
    "get_model_filtered_variables": op_get_model_filtered_variables,
    "max": op_max,
    "valid_codelist_dates": op_valid_codelist_dates,
    "get_parent_model_column_order": op_get_parent_model_column_order,
    "get_column_order_from_library": op_get_column_order_from_library,
    "codelist_terms": op_codelist_terms,
    "get_dataset_filtered_variables": op_get_dataset_filtered_variables,
    "get_codelist_attributes": op_get_codelist_attributes,
}


def run_operation(ctx: OperationContext, params: dict):
    """OPERATIONS[params["operator"]](ctx, params); an unknown operator is an OperationError."""
    operator = params.get("operator")
    if operator not in OPERATIONS:
        raise OperationError(f"operation {operator!r} is not supported")
    return OPERATIONS[operator](ctx, params)
