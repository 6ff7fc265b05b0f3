"""Great Expectations 1.x suites generated from specs/ (never hand-written), and their run.

One suite per dataset: Req variables present and populated, Exp variables present (warning),
values in non-extensible codelists, ISO 8601 --DTC text, character values <= 200, numeric
types, --SEQ >= 1, --DY never 0, unique keys. The suites are committed as JSON under
validation/suites/ (`python -m cdisc.validate.suites validation/suites` regenerates them; a
test fails when they drift from specs/). Validation runs every dataset in one ephemeral GX
context with analytics and progress bars off; GX is imported only here, lazily.
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
from cdisc.specs import Specs, _placeholder_regex, load_specs
from cdisc.validate.model import MAX_ROWS, Finding

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


def _finding(dataset: str, result) -> Finding | None:  # type: ignore[no-untyped-def]
    if result.success:
        return None
    config = result.expectation_config
    meta = config.meta or {}
    variable = meta.get("variable")
    res = result.result or {}
    count = int(res.get("unexpected_count") or 1)
    index = res.get("unexpected_index_list") or []
    rows = tuple(int(i[ROW]) for i in index[:MAX_ROWS] if isinstance(i, dict) and ROW in i)
    values = tuple(", ".join(str(v) for k, v in sorted(i.items()) if k != ROW)
                   for i in index[:MAX_ROWS] if isinstance(i, dict))
    kind = config.type
    what = {
        "expect_column_to_exist": "variable is missing",
        "expect_column_values_to_not_be_null": "required variable has null values",
        "expect_column_value_lengths_to_be_between": "required variable is empty"
        if meta.get("rule") == "GX.REQ.POPULATED" else "value longer than 200 characters",
        "expect_column_values_to_be_in_set": "values not in the non-extensible codelist",
        "expect_column_values_to_match_regex": "values are not ISO 8601",
        "expect_column_values_to_be_in_type_list": "numeric variable holds non-numeric data",
        "expect_column_values_to_be_between": "--SEQ below 1",
        "expect_column_values_to_not_be_in_set": "study day 0 (there is no day 0)",
        "expect_compound_columns_to_be_unique": "duplicate key values",
        "expect_column_values_to_be_unique": "duplicate key values",
    }.get(kind, kind)
    return Finding(str(meta.get("rule", kind)), str(meta.get("severity", "error")), dataset,
                   variable, f"{variable}: {what}", count, rows, values)


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


def run_suites(datasets: dict[str, pd.DataFrame], specs: Specs) -> tuple[list[Finding], float]:
    """Run each dataset's generated suite in one ephemeral context: (findings, seconds).

    A long table is first screened on its distinct values (a value expectation fails on the
    table exactly when it fails on some distinct value); the expectations that failed there,
    and those comparing rows (key uniqueness), then run on the whole table for the counts
    and row numbers reported."""
    if not datasets:
        return [], 0.0
    start = time.perf_counter()
    runner = _Runner()
    findings: list[Finding] = []
    for name, df in sorted(datasets.items()):
        definition = suite_for(name, specs, list(df.columns))
        needed = sorted({c for e in definition["expectations"]
                         for c in [e["kwargs"].get("column"), *e["kwargs"].get("column_list",
                                                                                 [])]
                         if c and c in df.columns})
        frame = df[needed].copy()
        frame[ROW] = range(1, len(frame) + 1)
        expectations = definition["expectations"]
        if len(frame) >= SCREEN_ROWS:
            by_value = [e for e in expectations if e["type"] not in ROW_EXPECTATIONS]
            tagged = [{**e, "meta": {**e["meta"], "screen": i}} for i, e in enumerate(by_value)]
            screen = runner.run(f"{name}.distinct", {**definition, "expectations": tagged},
                                distinct_frame(df[needed]), {"result_format": "BOOLEAN_ONLY"})
            failed = [by_value[r.expectation_config.meta["screen"]] for r in screen
                      if not r.success]
            expectations = failed + [e for e in expectations if e["type"] in ROW_EXPECTATIONS]
        if expectations:
            results = runner.run(name, {**definition, "expectations": expectations}, frame,
                                 COMPLETE)
            findings += [f for r in results if (f := _finding(name, r)) is not None]
    return findings, time.perf_counter() - start


if __name__ == "__main__":  # python -m cdisc.validate.suites validation/suites
    for p in write_suites(Path(sys.argv[1] if len(sys.argv) > 1 else "validation/suites"),
                          load_specs()):
        print(p)
