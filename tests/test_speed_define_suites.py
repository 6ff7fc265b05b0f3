"""The fast paths of define.xml, Dataset-JSON, the validation package and the native GX suites
give what the plain paths give, byte for byte and finding for finding.

Each fast path (distinct values found once per column through the addresses of its cells,
value-level metadata grouped from codes, Dataset-JSON rows joined from per-value pieces) falls
back to the plain computation when it cannot be exact; forcing every fallback gives the plain
computation, the oracle here. The data: the demo study as mapped, and generated findings
tables with what the shortcuts must not get wrong (str objects shared or not, missing values,
numbers in text columns, 0.0 beside -0.0, NaN, infinity, trailing blanks, non-ASCII text,
test codes that differ only in punctuation, a specimen varying within a test, a shuffled or
repeated index)."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import cdisc.define_vlm as vlm
import cdisc.column_codes as cc
import cdisc.io.datasetjson as dj
import cdisc.validate.suites as suites
from cdisc.define import StudyInfo, build_define
from cdisc.io.xpt import as_read_back, xpt_lengths
from cdisc.model import Dataset
from cdisc.specs import load_specs
from cdisc.validate.package import package_of

# generated tables per test; more with CDISC_FAST_EXAMPLES=1000
EXAMPLES = int(os.environ.get("CDISC_FAST_EXAMPLES", "60"))
STUDY = StudyInfo("S1", "S1", "Study", "P1", providers=(("lab.csv", "Vendor"),))
ARGS = {"study_oid": "S1", "metadata_version_oid": "MDV.S1.SDTM",
        "creation_datetime": "2024-01-31T00:00:00"}


@pytest.fixture(scope="module")
def demo() -> tuple:
    from cdisc.paths import DEMO_MAPPING_DIR, DEMO_RAW_DIR
    from cdisc.pipeline import map_raw

    specs, _, result = map_raw(DEMO_RAW_DIR, DEMO_MAPPING_DIR)
    return specs, result.datasets


class _Plain:
    """Every fast path switched to its fallback (the plain computation)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def __enter__(self) -> None:
        mp = self.monkeypatch
        mp.setattr(cc, "distinct_values", lambda values: None)
        mp.setattr(cc, "identity_rows", lambda values: None)
        mp.setattr(dj, "_block_codes", lambda values, text: None)
        mp.setattr(vlm._Grouped, "of", classmethod(lambda cls, *args: None))
        mp.setattr(suites, "distinct_values", lambda values: None)
        mp.setattr(suites, "value_codes", lambda values: None)

    def __exit__(self, *exc: object) -> None:
        self.monkeypatch.undo()


def _define(datasets: list[Dataset], specs) -> bytes | str:  # type: ignore[no-untyped-def]
    return _outcome(lambda: build_define(datasets, specs, STUDY,
                                         creation_datetime="2024-01-31T00:00:00"))


def _json(ds: Dataset, path: Path) -> str:
    try:
        dj.write_dataset_json(ds, path, **ARGS)
    except ValueError as exc:  # refused: as json.dumps refuses
        return f"ValueError: {exc}"
    return path.read_text(encoding="utf-8")


def _suite_findings(ds: Dataset, specs) -> list:  # type: ignore[no-untyped-def]
    definition = suites.suite_for(ds.name, specs, list(ds.data.columns))
    return suites.native_findings(ds.name, definition, ds.data,
                                  suites.record_keys(ds.name, specs, ds.data.columns))


def test_demo_define_json_and_suites_as_plain(demo, tmp_path: Path, monkeypatch) -> None:
    specs, datasets = demo
    tables = [datasets[k] for k in sorted(datasets)]
    fast = _define(tables, specs)
    texts = {ds.name: _json(ds, tmp_path / "fast.json") for ds in tables}
    found = {ds.name: _suite_findings(ds, specs) for ds in tables}
    with _Plain(monkeypatch):
        assert _define(tables, specs) == fast
        assert {ds.name: _json(ds, tmp_path / "plain.json") for ds in tables} == texts
        assert {ds.name: _suite_findings(ds, specs) for ds in tables} == found


def test_demo_package_as_read_back(demo, tmp_path: Path) -> None:
    _, datasets = demo
    pkg = package_of(tmp_path, datasets)
    for name, ds in datasets.items():
        table = pkg.tables[name]
        pd.testing.assert_frame_equal(table.data, as_read_back(ds))
        assert table.lengths == {k: v for k, v in xpt_lengths(ds).items()
                                 if ds.column(k).type == "Char"}


def test_distinct_values_are_pd_unique_as_a_set() -> None:
    shared = "NORMAL"
    copies = [("NORMAL" + "x")[:-1] for _ in range(50)]  # equal str, distinct objects
    cases = [
        pd.Series([shared] * 30 + copies + ["HIGH", ""], dtype=object),
        pd.Series(copies, dtype=object),
        pd.Series(["a", None, "b"], dtype=object),  # not str only: no shortcut
        pd.Series([1, 1.0, True, "1"], dtype=object),
        pd.Series([0.0, -0.0, np.nan, 1.5, np.nan]),
        pd.Series([-0.0, 2.0, -0.0]),
        pd.Series([], dtype=object),
        pd.Series([3.0] * 100 + [np.nan] * 100),
    ]
    for values in cases:
        got = cc.distinct_values(values)
        if got is None:
            assert values.dtype != np.float64
            continue
        want = pd.unique(values)
        assert len(got) == len(want)
        assert {repr(v) for v in got} == {repr(v) for v in want}
    # both zeros: pd.unique's, the first of the two
    assert [str(float(v)) for v in cc.distinct_values(pd.Series([0.0, -0.0]))] == ["0.0"]
    assert [str(float(v)) for v in cc.distinct_values(pd.Series([-0.0, 0.0]))] == ["-0.0"]


def test_kept_distinct_values_follow_the_frozen_array() -> None:
    from cdisc.validate.core.codes import freeze

    frame = pd.DataFrame({"A": pd.Series(["x", "y", "x"], dtype=object)})
    freeze(frame)
    first = cc.distinct_values(frame["A"])
    assert sorted(first) == ["x", "y"] and cc.distinct_values(frame["A"]) is first
    writable = pd.DataFrame({"A": pd.Series(["x", "y", "x"], dtype=object)})
    assert cc.distinct_values(writable["A"]) is not cc.distinct_values(writable["A"])
    key = next(k for k in cc._KEPT if cc._KEPT[k][1] is first)
    del frame
    import gc

    gc.collect()
    assert key not in cc._KEPT  # gone with its array


# --- generated findings tables -----------------------------------------------------------------

def _fresh(text: str) -> str:
    """An equal str that is another object (as the mapping makes per row)."""
    return (text + "#")[:-1]


TEXT = ["", "A", "NORMAL", "HIGH ", "é", "x" * 30, "1,2", 'q"u\\o']
NUMBERS = [0.0, -0.0, 1.0, 1.5, 2.0, 1e20, np.nan, 12.125, -3.0]
TESTS = ["ALB", "HGB", "A.B", "A_B", "A B"]
SPECIMENS = ["BLOOD", "SERUM", "BONE MARROW"]
DATES = ["2021-03-10", "2021-03-10T14:30:00", "2021-03", "", "2021-03-10T14:30", "2021---10"]


@st.composite
def findings(draw) -> Dataset:  # type: ignore[no-untyped-def]
    from cdisc.model import Column, Origin

    n = draw(st.integers(1, 40))
    picks = st.lists(st.integers(0, 1000), min_size=n, max_size=n)

    def text(pool: list[str], extra: list = ()) -> pd.Series:  # type: ignore[assignment]
        choices = [*pool, *extra]
        fresh = draw(st.booleans())
        cells = [choices[i % len(choices)] for i in draw(picks)]
        if fresh:
            cells = [_fresh(v) if isinstance(v, str) else v for v in cells]
        return pd.Series(cells, dtype=object)

    # other than str in a text column (mostly none)
    odd = draw(st.sampled_from([[], [], [], [None], [np.nan], [1, 1.0]]))
    numbers = [v for v in NUMBERS if draw(st.booleans())] or [1.0]
    if draw(st.booleans()):
        numbers.append(np.inf)  # JSON refuses it
    data = pd.DataFrame({
        "STUDYID": text(["S1"]), "DOMAIN": text(["LB"]), "USUBJID": text(["S1-1", "S1-2"]),
        "LBSEQ": pd.Series([float(i % 7) for i in draw(picks)]),
        "LBTESTCD": text(TESTS[:draw(st.integers(1, 5))]),
        "LBTEST": text(["Albumin", "Hemoglobin"]),
        "LBSPEC": text(SPECIMENS[:draw(st.integers(1, 3))]),
        "LBORRES": text(TEXT, odd), "LBORRESU": text(["g/L", "", "mmol/L"]),
        "LBSTRESN": pd.Series([numbers[i % len(numbers)] for i in draw(picks)]),
        "LBNRIND": text(["LOW", "NORMAL", "HIGH", ""]),
        "LBDTC": text(DATES),
    })
    if draw(st.booleans()):
        data.index = pd.Index(draw(st.permutations(range(n))))
    elif draw(st.integers(0, 9)) == 0 and n > 1:
        data.index = pd.Index([0] * n)  # repeated labels
    cols = [Column("STUDYID", "Study Identifier", "Char"),
            Column("DOMAIN", "Domain Abbreviation", "Char"),
            Column("USUBJID", "Unique Subject Identifier", "Char"),
            Column("LBSEQ", "Sequence Number", "Num"),
            Column("LBTESTCD", "Lab Test Short Name", "Char", codelist="C65047"),
            Column("LBTEST", "Lab Test Name", "Char", codelist="C67154"),
            Column("LBSPEC", "Specimen Type", "Char", codelist="C78734",
                   origin=Origin("Collected")),
            Column("LBORRES", "Result in Original Units", "Char", origin=Origin("Collected")),
            Column("LBORRESU", "Original Units", "Char", codelist="C71620",
                   origin=Origin("Collected")),
            Column("LBSTRESN", "Numeric Result", "Num"),
            Column("LBNRIND", "Reference Range Indicator", "Char", codelist="C78736"),
            Column("LBDTC", "Date/Time of Collection", "Char",
                   value_domain="ISO 8601 datetime or interval")]
    files = text(["lab.csv", "other.csv"]) if draw(st.booleans()) else text(["lab.csv"])
    trace = pd.DataFrame({"source_file": files.astype("str"),
                          "source_row": np.arange(n, dtype=float)}, index=data.index)
    return Dataset("LB", "Laboratory Test Results", cols, data,
                   keys=("STUDYID", "USUBJID", "LBTESTCD"), dataset_class="Findings",
                   structure="One record per test per subject", trace=trace)


def _outcome(func, *args):  # type: ignore[no-untyped-def]
    """func(*args), or its exception as text."""
    try:
        return func(*args)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(ds=findings())
def test_generated_findings_as_plain(ds: Dataset, tmp_path: Path, monkeypatch) -> None:
    specs = load_specs()
    monkeypatch.setattr(dj, "WRITE_CHUNK_ROWS", 7)  # blocks of rows
    fast_define = _define([ds], specs)
    fast_json = _json(ds, tmp_path / "fast.json")
    fast_found = _suite_findings(ds, specs)
    fast_lists = _outcome(vlm.value_lists, ds, {"lab.csv": "Vendor"}, {})
    with _Plain(monkeypatch):
        assert _define([ds], specs) == fast_define
        assert _json(ds, tmp_path / "plain.json") == fast_json
        assert _suite_findings(ds, specs) == fast_found
        plain_lists = _outcome(vlm.value_lists, ds, {"lab.csv": "Vendor"}, {})
    if isinstance(plain_lists, str):  # the plain computation fails, the same way
        assert fast_lists == plain_lists
        return
    event("value lists described")
    assert [vl.oid for vl in fast_lists] == [vl.oid for vl in plain_lists]
    for fast, plain in zip(fast_lists, plain_lists, strict=True):
        for a, b in zip(fast.items, plain.items, strict=True):
            assert (a.oid, a.name, a.label, a.column, a.where, a.codelist) == \
                (b.oid, b.name, b.label, b.column, b.where, b.codelist)
            pd.testing.assert_series_equal(a.values, b.values)
            assert _outcome(vlm.value_type, a, 200) == _outcome(vlm.value_type, b, 200)
    if not fast_json.startswith("ValueError"):
        whole = json.dumps(dj.dataset_json(ds, **ARGS), ensure_ascii=False,
                           separators=(",", ":"), allow_nan=False) + "\n"
        assert fast_json == whole


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(ds=findings())
def test_generated_package_as_read_back(ds: Dataset, tmp_path: Path) -> None:
    ds = replace(ds, data=ds.data.reset_index(drop=True))
    table = package_of(tmp_path, {"LB": ds}).tables["LB"]
    pd.testing.assert_frame_equal(table.data, as_read_back(ds))
    assert table.lengths == {k: v for k, v in xpt_lengths(ds).items()
                             if ds.column(k).type == "Char"}
