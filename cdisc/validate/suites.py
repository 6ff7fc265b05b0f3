"""Great Expectations 1.x suites generated from specs/ (never hand-written), and their run.

One suite per dataset: Req variables present and populated, Exp variables present (warning),
values in non-extensible codelists, ISO 8601 --DTC text, character values <= 200, numeric
types, --SEQ >= 1, --DY never 0, unique keys. The suites are committed as JSON under
validation/suites/ (`python -m cdisc.validate.suites validation/suites` regenerates them; a
test fails when they drift from specs/). Validation judges them natively by default: a
vectorised pandas evaluator of exactly GX's semantics for the expectation types the suites use
(tests/test_suites_native.py holds it to GX's own findings). engine="gx" runs every dataset in
one ephemeral GX context with analytics and progress bars off; GX is imported only then.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc.dates import ISO8601_DTC_REGEX, ISO8601_DURATION_REGEX
from cdisc.column_codes import both_zeros, distinct_values, identity_codes, value_codes
from cdisc.validate.core.codes import factorize as column_factorize
from cdisc.specs import Specs, _placeholder_regex, load_specs
from cdisc.validate.model import MAX_RECORDS, MAX_ROWS, Finding, Record

ROW = "__row"
# ADaMIG 1.3 marks these ADSL copies of DM Req, but SDTMIG 3.4 leaves them null for screen
# failures and unassigned subjects (ARMNRS says why): an empty one is a warning, not an error.
NULL_BY_SDTMIG_34 = {"ARM", "ARMCD", "ACTARM", "ACTARMCD"}
NUMERIC_TYPES = ["float64", "int64", "float32", "int32", "float", "int"]
# expectations that compare rows with each other; every other one judges each value alone
ROW_EXPECTATIONS = {"expect_compound_columns_to_be_unique", "expect_column_values_to_be_unique"}
# tables at least this long are screened on their distinct values first
SCREEN_ROWS = 20_000


def _exp(kind: str, rule: str, severity: str, variable: str | None, **kwargs: object) -> dict:
    return {"type": kind, "kwargs": kwargs,
            "meta": {"rule": rule, "severity": severity, "variable": variable}}


def suite_for(dataset: str, specs: Specs, columns: list[str] | None = None) -> dict:
    """The suite of one dataset as plain data (GX's suite JSON without run-dependent ids).
    With `columns` (the dataset as delivered), checks of absent Perm variables are left out."""
    ds = specs.dataset(dataset)
    present = set(columns) if columns is not None else None
    out: list[dict] = []
    names = []
    for v in ds.variables:
        name = v.name
        if name != name.upper():  # ADaMIG placeholder (TRTxxP, AGEGRy): checked by pattern
            if v.core == "Req" and present is not None and not any(
                    re.match(_placeholder_regex(name), c) for c in present):
                out.append(_exp("expect_column_to_exist", "GX.REQ.EXISTS", "error", name,
                                column=name))
            continue
        if v.core in ("Req", "Exp"):
            out.append(_exp("expect_column_to_exist", f"GX.{v.core.upper()}.EXISTS",
                            "error" if v.core == "Req" else "warning", name, column=name))
        elif present is not None and name not in present:
            continue
        if present is not None and name not in present:
            continue  # its absence is reported by the existence check above
        names.append(name)
        if v.core == "Req":
            if v.is_numeric:
                out.append(_exp("expect_column_values_to_not_be_null", "GX.REQ.POPULATED",
                                "error", name, column=name))
            else:  # SAS has no null text: an empty string is the missing value
                severity = "warning" if ds.standard == "ADaMIG" and name in NULL_BY_SDTMIG_34 \
                    else "error"
                out.append(_exp("expect_column_value_lengths_to_be_between", "GX.REQ.POPULATED",
                                severity, name, column=name, min_value=1))
        if v.is_numeric:
            out.append(_exp("expect_column_values_to_be_in_type_list", "GX.TYPE.NUMERIC",
                            "error", name, column=name, type_list=NUMERIC_TYPES))
            if name.endswith("SEQ") and name != "SRCSEQ":
                out.append(_exp("expect_column_values_to_be_between", "GX.SEQ.POSITIVE",
                                "error", name, column=name, min_value=1))
            if name.endswith("DY") and ds.standard == "SDTMIG":
                out.append(_exp("expect_column_values_to_not_be_in_set", "GX.DY.NOT_ZERO",
                                "error", name, column=name, value_set=[0]))
            continue
        out.append(_exp("expect_column_value_lengths_to_be_between", "GX.CHAR.MAX200", "error",
                        name, column=name, max_value=200))
        if v.is_iso8601:
            regex = ISO8601_DURATION_REGEX if "duration" in v.value_domain \
                else ISO8601_DTC_REGEX
            out.append(_exp("expect_column_values_to_match_regex", "GX.ISO8601", "error", name,
                            column=name, regex=f"^$|{regex}"))
        codelist = specs.codelists.get(v.codelist or "")
        if codelist is not None and not codelist.extensible:
            out.append(_exp("expect_column_values_to_be_in_set", "GX.CT.NONEXTENSIBLE", "error",
                            name, column=name, value_set=sorted(codelist.terms) + [""]))
    keys = [k for k in ds.keys if present is None or k in present]
    seq = f"{dataset}SEQ" if ds.has_variable(f"{dataset}SEQ") else None
    if seq and seq not in keys and (present is None or seq in present):
        keys = [k for k in ("STUDYID", "USUBJID") if k in keys] + [seq]
    if len(keys) > 1:
        out.append(_exp("expect_compound_columns_to_be_unique", "GX.KEYS.UNIQUE", "error",
                        ",".join(keys), column_list=keys))
    elif len(keys) == 1:
        out.append(_exp("expect_column_values_to_be_unique", "GX.KEYS.UNIQUE", "error", keys[0],
                        column=keys[0]))
    return {"name": dataset, "expectations": out,
            "meta": {"generated_from": f"specs/ ({ds.standard} "
                     f"{specs.standards['sdtm' if ds.standard == 'SDTMIG' else 'adam']['version']},"
                     f" CT {specs.standards['ct']['sdtm']})"}}


def write_suites(folder: Path, specs: Specs) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in sorted(specs.datasets):
        path = folder / f"{name.lower()}.json"
        path.write_text(json.dumps(suite_for(name, specs), indent=2, sort_keys=True) + "\n",
                        encoding="utf-8")
        paths.append(path)
    return paths


# --- findings, whichever engine judged the expectations ------------------------------------

MESSAGES = {
    "expect_column_to_exist": "variable is missing",
    "expect_column_values_to_not_be_null": "required variable has null values",
    "expect_column_value_lengths_to_be_between": "value longer than 200 characters",
    "expect_column_values_to_be_in_set": "values not in the non-extensible codelist",
    "expect_column_values_to_match_regex": "values are not ISO 8601",
    "expect_column_values_to_be_in_type_list": "numeric variable holds non-numeric data",
    "expect_column_values_to_be_between": "--SEQ below 1",
    "expect_column_values_to_not_be_in_set": "study day 0 (there is no day 0)",
    "expect_compound_columns_to_be_unique": "duplicate key values",
    "expect_column_values_to_be_unique": "duplicate key values",
}


def _cell(value: object) -> str:
    """A value as a record shows it: "" for a missing one, 3 for 3.0."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if np.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(float(value))
    return str(value)


def record_keys(name: str, specs: Specs, columns) -> list[str]:  # type: ignore[no-untyped-def]
    """The dataset's natural keys (from specs/, present in the data) that tell its records
    apart within a subject: STUDYID and USUBJID left out."""
    return [k for k in specs.dataset(name).keys if k in columns and k not in ("STUDYID", "USUBJID")]


def _records(frame: pd.DataFrame, rows: list[int], columns: list[str],
             keys: list[str]) -> tuple[Record, ...]:
    """Records of the 1-based `rows` of frame: USUBJID, "KEY=value, ..." and the offending
    "VAR=value, ..." of `columns` (the expectation's, in its order)."""
    if not rows:
        return (Record(0),)
    at = np.asarray(rows[:MAX_RECORDS], dtype=np.int64) - 1

    def text(column: str) -> list[str]:
        if column not in frame.columns:
            return [""] * len(at)
        return [_cell(v) for v in frame[column].iloc[at].to_numpy(dtype=object)]

    def pairs(names: list[str]) -> list[str]:
        shown = [(c, text(c)) for c in names if c in frame.columns]
        return [", ".join(f"{c}={t[i]}" for c, t in shown) for i in range(len(at))]

    usubjid = text("USUBJID")
    key, value = pairs(keys), pairs(columns)
    return tuple(Record(int(r), u, k, v) for r, u, k, v in
                 zip(at + 1, usubjid, key, value, strict=True))


def _make_finding(dataset: str, kind: str, meta: dict, count: int, rows: list[int],
                  values: list[str], columns: list[str], frame: pd.DataFrame | None,
                  keys: list[str]) -> Finding:
    variable = meta.get("variable")
    what = "required variable is empty" if (
        kind == "expect_column_value_lengths_to_be_between"
        and meta.get("rule") == "GX.REQ.POPULATED") else MESSAGES.get(kind, kind)
    records = _records(frame, rows, columns, keys) if frame is not None else ()
    return Finding(str(meta.get("rule", kind)), str(meta.get("severity", "error")), dataset,
                   variable, f"{variable}: {what}", count, tuple(rows[:MAX_ROWS]),
                   tuple(values[:MAX_ROWS]), records=records)


def _columns(kwargs: dict) -> list[str]:
    return list(kwargs["column_list"]) if "column_list" in kwargs else [kwargs["column"]]


def _finding(dataset: str, result,  # type: ignore[no-untyped-def]
             frame: pd.DataFrame | None = None, keys: list[str] | None = None) -> Finding | None:
    """The finding of one GX expectation result (None when it passed)."""
    if result.success:
        return None
    config = result.expectation_config
    meta = config.meta or {}
    res = result.result or {}
    count = int(res.get("unexpected_count") or 1)
    index = res.get("unexpected_index_list") or []
    rows = [int(i[ROW]) for i in index if isinstance(i, dict) and ROW in i]
    values = [", ".join(str(v) for k, v in sorted(i.items()) if k != ROW)
              for i in index[:MAX_ROWS] if isinstance(i, dict)]
    return _make_finding(dataset, config.type, meta, count, rows, values,
                         _columns(dict(config.kwargs)), frame, keys or [])


# --- the native engine: GX 1.x's pandas semantics, vectorised ----------------------------------
#
# What GX's PandasExecutionEngine does for the kwargs the suites use (read in its source and
# checked against GX itself by tests/test_suites_native.py):
#  * column map expectations (all but column_to_exist, not_be_null, compound uniqueness)
#    judge the non-null values only (Series.notnull()); the rows reported are the others that
#    fail, with mostly=1 any of them fails the expectation;
#  * value lengths are len(str(value)) (Series.astype(str).str.len()), so 2.5 has length 3;
#  * match_regex is Series.astype(str).str.contains(regex): re.search on str(value);
#  * in_set / not_in_set are Series.isin (1 == 1.0 == True; "1" is not 1);
#  * in_type_list on an object column checks isinstance per value; on any other dtype it is
#    one verdict on the dtype (no rows);
#  * between on int/float64 columns compares vectorised, on others value by value, and a
#    string value (or an incomparable one) raises: GX then reports the expectation failed with
#    no counts, as here;
#  * compound uniqueness ignores rows whose key columns are all missing (ignore_row_if
#    "all_values_are_missing") and compares the rest with DataFrame.duplicated (NaN == None);
#  * column uniqueness is Series.duplicated(keep=False) on the non-null values.

_TYPES: dict[str, type | None] = {"none": type(None), "bool": bool, "int": int, "long": int,
                                  "float": float, "bytes": bytes, "complex": complex,
                                  "str": str, "string_types": str, "list": list, "dict": dict}


def _value_types(type_list: list[str]) -> tuple[type, ...]:
    """The types an object column's values may have (GX's ColumnValuesInTypeList)."""
    out: list[type] = []
    for name in type_list:
        try:
            out.append(np.dtype(name).type)
        except TypeError:
            for where in (pd, pd.core.dtypes.dtypes):
                found = getattr(where, name, None)
                if isinstance(found, type):
                    out.append(found)
        native = _TYPES.get(name.lower())
        if native is not None:
            out.append(native)
    if not out:
        raise ValueError(f"no recognised type in {type_list}")
    return tuple(out)


def _dtype_in(dtype: object, type_list: list[str]) -> bool:
    """GX's verdict on a non-object column: its dtype is one of type_list."""
    allowed: list[object] = []
    for name in type_list:
        try:
            allowed += [np.dtype(name).type, np.dtype(name)]
        except TypeError:
            found = getattr(pd, name, None)
            if isinstance(found, type):
                allowed.append(found)
                try:
                    if isinstance(found(), pd.api.extensions.ExtensionDtype):
                        allowed.append(found())
                except TypeError:
                    pass
            found = getattr(pd.core.dtypes.dtypes, name, None)
            if isinstance(found, type):
                allowed.append(found)
        native = _TYPES.get(name.lower())
        if native is not None:
            allowed.append(native)
    return dtype in allowed


def _between(values: pd.Series, low: object, high: object) -> np.ndarray:
    if values.dtype in [int, float] or isinstance(values.dtype, pd.DatetimeTZDtype) \
            or pd.api.types.is_datetime64_ns_dtype(values.dtype):
        ok = pd.Series(True, index=values.index)
        if low is not None:
            ok &= low <= values
        if high is not None:
            ok &= values <= high
        return np.asarray(ok, dtype=bool)

    def judge(v: object) -> bool:
        for bound in (low, high):
            if bound is not None and isinstance(v, str) != isinstance(bound, str):
                raise TypeError("column values and bounds are not of one type")
        return bool((low is None or v >= low)  # type: ignore[operator]
                    and (high is None or v <= high))  # type: ignore[operator]

    return np.fromiter((judge(v) for v in values.to_numpy(dtype=object)), bool, len(values))


def _of_types(values: pd.Series, types: tuple[type, ...]) -> np.ndarray:
    return np.fromiter((isinstance(v, types) for v in values.to_numpy(dtype=object)), bool,
                       len(values))


def _lengths(values: pd.Series, low: object, high: object) -> np.ndarray:
    array = values.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(array, skipna=False) == "string":  # str(v) is v
        lengths = np.fromiter(map(len, array), np.int64, len(array))
    else:
        lengths = np.asarray(values.astype(str).str.len(), dtype=np.int64)
    ok = np.ones(len(array), dtype=bool)
    if low is not None:
        ok &= lengths >= low
    if high is not None:
        ok &= lengths <= high
    return ok


_MAPS = {  # expectation type -> judge(non-null values, kwargs) -> passes, per value
    "expect_column_value_lengths_to_be_between":
        lambda s, kw: _lengths(s, kw.get("min_value"), kw.get("max_value")),
    "expect_column_values_to_be_between":
        lambda s, kw: _between(s, kw.get("min_value"), kw.get("max_value")),
    "expect_column_values_to_be_in_set":
        lambda s, kw: np.asarray(s.isin(kw["value_set"]), dtype=bool),
    "expect_column_values_to_not_be_in_set":
        lambda s, kw: ~np.asarray(s.isin(kw["value_set"]), dtype=bool),
    "expect_column_values_to_match_regex":
        lambda s, kw: np.asarray(s.astype(str).str.contains(kw["regex"]), dtype=bool),
    "expect_column_values_to_be_in_type_list":
        lambda s, kw: _of_types(s, _value_types(kw["type_list"])),
    "expect_column_values_to_be_unique":
        lambda s, kw: ~np.asarray(s.duplicated(keep=False), dtype=bool),
}


def _unexpected(kind: str, kwargs: dict, frame: pd.DataFrame,
                columns: _Columns | None = None) -> np.ndarray | None:
    """0-based positions of the rows failing one expectation (empty: it passes), or None when
    it fails as a whole (a missing column, a wrong dtype, values it cannot compare).
    columns: what is known of frame's columns (shared by the expectations of a suite)."""
    columns = columns or _Columns(frame)
    none = np.zeros(0, dtype=np.int64)
    if kind == "expect_column_to_exist":
        return none if kwargs["column"] in frame.columns else None
    if kind == "expect_compound_columns_to_be_unique":
        names = list(kwargs["column_list"])
        part = frame[names]
        key = columns.key(names)
        kept = np.zeros(len(frame), dtype=bool)  # rows with a key value (GX ignores the rest)
        for name in names:
            kept |= columns.present(name)
        if key is None:  # more combinations than int64 holds: as GX does it
            return np.flatnonzero(kept)[np.asarray(part[kept].duplicated(keep=False),
                                                   dtype=bool)]
        return np.flatnonzero(kept)[np.asarray(pd.Series(key[kept]).duplicated(keep=False),
                                               dtype=bool)]
    column = frame[kwargs["column"]]
    if kind == "expect_column_values_to_be_in_type_list" \
            and column.dtype.type.__name__ != "object_":  # one verdict on the dtype
        return none if _dtype_in(column.dtype, kwargs["type_list"]) else None
    if kind in _ROW_WISE:
        name = kwargs["column"]
        if _row_wise_passes(kind, kwargs, column, (None, columns.distinct(name))).all():
            return none  # every distinct value passes: no row fails
        passes = _row_wise_passes(kind, kwargs, column, columns.codes(name))
        return np.flatnonzero(columns.present(name) & ~passes)
    present = columns.present(kwargs["column"])
    if kind == "expect_column_values_to_not_be_null":
        return np.flatnonzero(~present)
    values = column[present]
    return np.flatnonzero(present)[~_MAPS[kind](values, kwargs)]


# expectations that judge each value alone: judged once per distinct value
_ROW_WISE = frozenset(_MAPS) - {"expect_column_values_to_be_unique"}


class _Columns:
    """What a suite's expectations read of a frame's columns, found once per column: its
    distinct values, codes per row of them, which values are present (not null).

    A value expectation judges each value alone, so it is judged once per distinct value
    and the verdicts are spread over the rows. Distinct means: equal str (an object column of
    str only, read through the addresses of its cells first: shared str objects hash as
    integers), the same float bits, the same object otherwise; never values that merely
    compare equal (1, 1.0 and True are three values here, as GX judges them)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._distinct: dict[str, np.ndarray] = {}
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._present: dict[str, np.ndarray] = {}
        self._str_only: dict[str, bool] = {}

    def distinct(self, name: str) -> np.ndarray:
        """The column's distinct values (in no particular order: for whether all pass)."""
        if name not in self._distinct:
            column = self.frame[name]
            found = None
            if column.dtype == object or (column.dtype == np.float64
                                          and not both_zeros(column.to_numpy())):
                found = distinct_values(column)  # kept for the package's frozen tables
            self._str_only[name] = found is not None and column.dtype == object
            self._distinct[name] = self.codes(name)[1] if found is None else found
        return self._distinct[name]

    def codes(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(codes per row, the distinct value of each code)."""
        if name not in self._codes:
            column = self.frame[name]
            found = None
            if column.dtype == object:
                found = value_codes(column)
                self._str_only[name] = found is not None
            found = found or identity_codes(column)  # objects, float bits
            self._codes[name] = column_factorize(column) if found is None else \
                (found.codes, column.to_numpy()[found.first])
        return self._codes[name]

    def present(self, name: str) -> np.ndarray:
        """Per row: the value is not null."""
        if name not in self._present:
            if self._str_only.get(name):
                self._present[name] = np.ones(len(self.frame), dtype=bool)
            else:
                self._present[name] = np.asarray(self.frame[name].notna(), dtype=bool)
        return self._present[name]

    def key(self, names: list[str]) -> np.ndarray | None:
        """One int64 per row, equal exactly where the rows' values of names are equal (as
        DataFrame.duplicated compares them: nulls equal each other); None when the
        combinations overflow int64."""
        key = np.zeros(len(self.frame), dtype=np.int64)
        combinations = 1.0
        for name in names:
            column = self.frame[name]
            if column.dtype == object:
                self.codes(name)  # finds out whether it is str only
            if self._str_only.get(name):
                codes, uniques = self._codes[name]
                count = len(uniques)
            else:
                codes, uniques = pd.factorize(column)  # as DataFrame.duplicated: nulls -1
                codes, count = codes + 1, len(uniques) + 1
            combinations *= count
            if combinations >= 2.0**62:
                return None
            key = key * count + codes
        return key


def _row_wise_passes(kind: str, kwargs: dict, column: pd.Series,
                     factorized: tuple[np.ndarray | None, np.ndarray] | None = None
                     ) -> np.ndarray:
    """Per row: its value passes (empty values pass; the caller leaves them out).
    factorized: the column's (codes, distinct values), when known; with codes None, per
    distinct value."""
    codes, uniques = factorized if factorized is not None else column_factorize(column)
    distinct = pd.Series(uniques, dtype=column.dtype if column.dtype.kind != "O" else object)
    present = np.asarray(distinct.notna(), dtype=bool)
    passes = np.ones(len(distinct), dtype=bool)
    passes[present] = _MAPS[kind](distinct[present], kwargs)
    return passes if codes is None else passes[codes]


def native_findings(dataset: str, definition: dict, frame: pd.DataFrame,
                    keys: list[str] | None = None) -> list[Finding]:
    """The findings of a suite on frame, judged without GX but as GX judges (see above)."""
    findings = []
    known = _Columns(frame)  # shared by the expectations
    for e in definition["expectations"]:
        kind, kwargs = e["type"], e["kwargs"]
        if kind not in MESSAGES:
            raise ValueError(f"the native engine does not know {kind}")
        try:
            bad = _unexpected(kind, kwargs, frame, known)
        except Exception:  # GX catches it too: the expectation fails, with no counts
            bad = None
        if bad is not None and len(bad) == 0:
            continue
        rows: list[int] = [] if bad is None else (bad + 1).tolist()
        columns = _columns(kwargs)
        values: list[str] = []
        if bad is not None:
            shown = [frame[c] for c in sorted(columns)]
            values = [", ".join(str(s.iloc[i]) for s in shown) for i in bad[:MAX_ROWS]]
        findings.append(_make_finding(dataset, kind, e["meta"], len(rows) or 1, rows, values,
                                      columns, frame, keys or []))
    return findings


# --- the GX engine -------------------------------------------------------------------------

def _gx_suite(gx, definition: dict):  # type: ignore[no-untyped-def]
    suite = gx.ExpectationSuite(name=definition["name"])
    for e in definition["expectations"]:
        cls = getattr(gx.expectations, "".join(p.title() for p in e["type"].split("_")))
        suite.add_expectation(cls(**e["kwargs"], meta=e["meta"]))
    return suite


def _context():  # type: ignore[no-untyped-def]
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return gx, context


def distinct_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Each column's distinct values (missing included), columns padded to one length by
    repeating their own values: every value of the table appears, and no other."""
    distinct = {c: pd.unique(frame[c]) for c in frame.columns}
    length = max((len(v) for v in distinct.values()), default=0)
    return pd.DataFrame({c: np.resize(v, length) for c, v in distinct.items()})


class _Runner:
    """One ephemeral GX context, one pandas data source; each run gets its own names."""

    def __init__(self) -> None:
        self.gx, self.context = _context()
        self.source = self.context.data_sources.add_pandas("cdisc")

    def run(self, name: str, definition: dict, frame: pd.DataFrame, result_format: dict):  # type: ignore[no-untyped-def]
        gx, context = self.gx, self.context
        batch = self.source.add_dataframe_asset(name=name).add_batch_definition_whole_dataframe(
            name)
        suite = context.suites.add(_gx_suite(gx, {**definition, "name": name}))
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(data=batch, suite=suite, name=name))
        return validation.run(batch_parameters={"dataframe": frame},
                              result_format=result_format).results


COMPLETE = {"result_format": "COMPLETE", "unexpected_index_column_names": [ROW]}


def gx_findings(runner: _Runner, name: str, definition: dict, df: pd.DataFrame,
                keys: list[str] | None = None, run_name: str | None = None) -> list[Finding]:
    """The findings of a suite on df, judged by GX (runner: one context for many runs).

    A long table is first screened on its distinct values (a value expectation fails on the
    table exactly when it fails on some distinct value); the expectations that failed there,
    and those comparing rows (key uniqueness), then run on the whole table for the counts
    and row numbers reported."""
    run_name = run_name or name
    needed = sorted({c for e in definition["expectations"]
                     for c in [e["kwargs"].get("column"), *e["kwargs"].get("column_list", [])]
                     if c and c in df.columns})
    frame = df[needed].copy()
    frame[ROW] = range(1, len(frame) + 1)
    expectations = definition["expectations"]
    if len(frame) >= SCREEN_ROWS:
        by_value = [e for e in expectations if e["type"] not in ROW_EXPECTATIONS]
        tagged = [{**e, "meta": {**e["meta"], "screen": i}} for i, e in enumerate(by_value)]
        screen = runner.run(f"{run_name}.distinct", {**definition, "expectations": tagged},
                            distinct_frame(df[needed]), {"result_format": "BOOLEAN_ONLY"})
        failed = [by_value[r.expectation_config.meta["screen"]] for r in screen
                  if not r.success]
        expectations = failed + [e for e in expectations if e["type"] in ROW_EXPECTATIONS]
    if not expectations:
        return []
    results = runner.run(run_name, {**definition, "expectations": expectations}, frame,
                         COMPLETE)
    return [f for r in results if (f := _finding(name, r, df, keys)) is not None]


ENGINES = ("native", "gx")


def run_suites(datasets: dict[str, pd.DataFrame], specs: Specs,
               engine: str = "native") -> tuple[list[Finding], float]:
    """Run each dataset's generated suite: (findings, seconds).

    engine "native" (the default) judges the expectations here, vectorised, exactly as GX
    would (tests/test_suites_native.py holds it to GX's findings) and never imports GX;
    "gx" runs them in one ephemeral Great Expectations context."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if not datasets:
        return [], 0.0
    start = time.perf_counter()
    runner = _Runner() if engine == "gx" else None
    findings: list[Finding] = []
    for name, df in sorted(datasets.items()):
        definition = suite_for(name, specs, list(df.columns))
        keys = record_keys(name, specs, df.columns)
        if runner is None:
            findings += native_findings(name, definition, df, keys)
        else:
            findings += gx_findings(runner, name, definition, df, keys)
    return findings, time.perf_counter() - start


if __name__ == "__main__":  # python -m cdisc.validate.suites validation/suites
    for p in write_suites(Path(sys.argv[1] if len(sys.argv) > 1 else "validation/suites"),
                          load_specs()):
        print(p)
