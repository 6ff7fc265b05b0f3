"""The native suite evaluator judges as Great Expectations does: GX is the oracle.

Both engines run on the demo SDTM and ADaM output (as written and with defects put in), and on
small generated frames (nulls, empty strings, wrong types, duplicates, long values, bad dates)
for each expectation type the suites use; the findings must be equal (rule, severity,
variable, message, count, rows, values and records)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cdisc.dates import ISO8601_DTC_REGEX, ISO8601_DURATION_REGEX
from cdisc.specs import load_specs
from cdisc.validate import suites
from cdisc.validate.model import Finding, Record
from cdisc.validate.suites import NUMERIC_TYPES, _exp, run_suites
from tests.conftest import REPO

SPECS = load_specs()
# generated frames per expectation type (each one GX run); more with CDISC_NATIVE_EXAMPLES=600
EXAMPLES = int(os.environ.get("CDISC_NATIVE_EXAMPLES", "50"))
SEX = sorted(SPECS.codelists["C66731"].terms) + [""]


def ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.dataset, f.rule, f.variable or "", f.message,
                                           f.rows))


def known_tables(folder: Path) -> dict[str, pd.DataFrame]:
    from cdisc.validate.package import read_package
    from cdisc.validate.run import _known

    pkg = read_package(folder)
    return {n: t.data for n, t in pkg.tables.items() if _known(SPECS, n)}


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The datasets `cdisc run` writes for the demo study, OUT/sdtm and OUT/adam: its SDTM and
    ADaM stages (cdisc.pipeline), without the validation step this module is about."""
    from cdisc.paths import DEMO_MAPPING_DIR, DEMO_RAW_DIR
    from cdisc.pipeline import run_adam_stage, run_sdtm

    out = tmp_path_factory.mktemp("native") / "out"
    run_sdtm(DEMO_RAW_DIR, DEMO_MAPPING_DIR, out / "sdtm", formats=("xpt",))
    run_adam_stage(out / "sdtm", DEMO_MAPPING_DIR / "adam.yaml", out / "adam", formats=("xpt",))
    return out


@pytest.fixture(scope="module")
def demo(demo_out: Path) -> dict[str, pd.DataFrame]:
    """Every SDTM and ADaM dataset of the demo, as `cdisc validate` reads them (the two
    standards share no dataset name)."""
    tables = known_tables(demo_out / "sdtm")
    adam = known_tables(demo_out / "adam")
    assert not set(tables) & set(adam) and {"DM", "AE", "LB", "ADSL", "ADTTE"} <= {*tables, *adam}
    return {**tables, **adam}


@pytest.fixture(scope="module")
def runner() -> suites._Runner:
    """One GX context for every oracle run of this module (each run gets its own names)."""
    return suites._Runner()


RUNS = itertools.count()


def gx_suite(runner: suites._Runner, name: str, definition: dict, frame: pd.DataFrame,
             keys: list[str] | None = None) -> list[Finding]:
    return suites.gx_findings(runner, name, definition, frame, keys, f"{name}.{next(RUNS)}")


def gx_run(runner: suites._Runner, datasets: dict[str, pd.DataFrame]) -> list[Finding]:
    """run_suites(engine="gx") in the shared context."""
    out = []
    for name, df in sorted(datasets.items()):
        definition = suites.suite_for(name, SPECS, list(df.columns))
        out += gx_suite(runner, name, definition, df, suites.record_keys(name, SPECS, df.columns))
    return out


# --- the demo package ------------------------------------------------------------------------

def test_demo_native_equals_gx(demo: dict[str, pd.DataFrame]) -> None:
    native, native_seconds = run_suites(demo, SPECS)
    gx, gx_seconds = run_suites(demo, SPECS, engine="gx")
    assert ordered(native) == ordered(gx)
    assert native, "the demo has known findings (ADSL ARM of screen failures, an AEDECOD)"
    assert native_seconds < gx_seconds
    print(f"\nsuites on the demo: native {native_seconds:.3f} s, GX {gx_seconds:.3f} s")


def with_defects(demo: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Some demo datasets, each with defects every expectation type catches."""
    dm, ae, lb = demo["DM"].copy(), demo["AE"].copy(), demo["LB"].copy()
    adsl, ex, suppae = demo["ADSL"].copy(), demo["EX"].copy(), demo["SUPPAE"].copy()
    dm.loc[1, "SEX"] = "X"
    dm.loc[2, "SUBJID"] = ""
    dm.loc[3, "RFSTDTC"] = "2021-13-45"
    dm.loc[4, "USUBJID"] = dm.loc[5, "USUBJID"]
    dm["AGE"] = dm["AGE"].astype(object)
    dm.loc[6, "AGE"] = "thirty"
    dm = dm.drop(columns=["SITEID"])
    ae.loc[0, "AESEQ"] = 0.0
    ae.loc[1, "AESEQ"] = np.nan
    ae.loc[2, "AESTDY"] = 0.0
    ae.loc[3, "AETERM"] = "x" * 250
    ae.loc[4, "AESTDTC"] = "2021-06-31T25:00"
    lb.loc[[10, 11], "LBDTC"] = ["not a date", "2021-02-30"]
    lb.loc[20] = lb.loc[21]  # a duplicate record
    lb.loc[30, "LBSEQ"] = -1.0
    adsl["AGE"] = adsl["AGE"].astype(str)  # a numeric variable stored as text
    ex["EXSEQ"] = ex["EXSEQ"].astype("float32")
    ex.loc[0, "EXSEQ"] = 0.0
    suppae.loc[0, "QVAL"] = ""
    suppae.loc[1, "QNAM"] = None
    return {"DM": dm, "AE": ae, "LB": lb, "ADSL": adsl, "EX": ex, "SUPPAE": suppae}


@pytest.mark.parametrize("screen", [False, True], ids=["whole", "screened"])
def test_demo_with_defects_native_equals_gx(demo: dict[str, pd.DataFrame], runner,
                                           monkeypatch: pytest.MonkeyPatch, screen: bool) -> None:
    """GX's own screening of long tables on their distinct values (forced here) changes
    nothing either."""
    datasets = with_defects(demo)
    if screen:
        monkeypatch.setattr(suites, "SCREEN_ROWS", 1000)  # LB, EX, AE are screened
    native = run_suites(datasets, SPECS)[0]
    assert ordered(native) == ordered(gx_run(runner, datasets))
    caught = {(f.dataset, f.rule) for f in native}
    assert {("DM", "GX.CT.NONEXTENSIBLE"), ("DM", "GX.REQ.POPULATED"), ("DM", "GX.ISO8601"),
            ("DM", "GX.KEYS.UNIQUE"), ("DM", "GX.TYPE.NUMERIC"), ("DM", "GX.REQ.EXISTS"),
            ("AE", "GX.SEQ.POSITIVE"), ("AE", "GX.DY.NOT_ZERO"), ("AE", "GX.CHAR.MAX200"),
            ("LB", "GX.KEYS.UNIQUE"), ("ADSL", "GX.TYPE.NUMERIC"), ("EX", "GX.SEQ.POSITIVE"),
            } <= caught


def test_records_of_suite_findings(demo: dict[str, pd.DataFrame]) -> None:
    datasets = with_defects(demo)
    by = {(f.dataset, f.rule, f.variable): f for f in run_suites(datasets, SPECS)[0]}
    dup = by[("LB", "GX.KEYS.UNIQUE", "STUDYID,USUBJID,LBSEQ")]
    lb = datasets["LB"]
    assert dup.rows == (21, 22) and len(dup.records) == 2
    first = dup.records[0]
    assert first.row == 21 and first.usubjid == lb.loc[20, "USUBJID"]
    keys = [k for k in SPECS.dataset("LB").keys if k not in ("STUDYID", "USUBJID")]
    assert first.key == ", ".join(f"{k}={lb.loc[20, k]}" for k in keys)
    assert first.value == (f"STUDYID={lb.loc[20, 'STUDYID']}, USUBJID={first.usubjid}, "
                           f"LBSEQ={int(lb.loc[20, 'LBSEQ'])}")
    assert dup.values[0] == f"{lb.loc[20, 'LBSEQ']}, {lb.loc[20, 'STUDYID']}, {first.usubjid}"
    # as in GX, a null (not "") in a Req character variable passes the length check
    assert ("SUPPAE", "GX.REQ.POPULATED", "QNAM") not in by
    [seq] = [f for f in by.values() if f.dataset == "AE" and f.rule == "GX.SEQ.POSITIVE"]
    assert seq.records[0].value == "AESEQ=0" and seq.values == ("0.0",)
    missing = by[("DM", "GX.REQ.EXISTS", "SITEID")]
    assert (missing.count, missing.rows, missing.records) == (1, (), (Record(0),))
    many = run_suites({"LB": lb.assign(LBDTC="bad")}, SPECS)[0]
    [iso] = [f for f in many if f.rule == "GX.ISO8601"]
    assert iso.count == len(lb) and len(iso.rows) == 20
    assert len(iso.records) == min(len(lb), 1000)


def test_native_never_imports_gx(demo_out: Path) -> None:
    """The native suites on the demo (and the validate command's modules) never import GX."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "import cdisc.cli, cdisc.validate.run\n"
        "from tests.test_suites_native import SPECS, known_tables\n"
        "from cdisc.validate.suites import run_suites\n"
        f"out = Path({str(demo_out)!r})\n"
        "found, _ = run_suites({**known_tables(out / 'sdtm'), **known_tables(out / 'adam')},"
        " SPECS)\n"
        "assert found and all(f.records for f in found)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'great_expectations'))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError):
        run_suites({"DM": pd.DataFrame({"STUDYID": ["S"]})}, SPECS, engine="sql")


# --- generated frames, one expectation type at a time -----------------------------------------

LONG = "y" * 201
TEXT = st.one_of(
    st.sampled_from(["", " ", "M", "F", "U", "X", "m", "0", "1", "1.0", "2021-01-10",
                     "2021-13-45", "2021-02", "2021-01-10T10:00", "2021-01-10\n",
                     "2021-01-10T25:61", "--12-01",
                     "P1D", "PT", "UNK", "a\nb", "é", LONG, "y" * 200]),
    st.text(max_size=4))
MISSING = st.sampled_from([None, np.nan, pd.NA, pd.NaT])
NUMBER = st.one_of(st.sampled_from([0, 1, 2, -1, 0.0, -0.0, 1.0, 0.5, 1e300, np.inf, -np.inf,
                                    True, False, np.float64(1.0), np.int64(0)]),
                   st.integers(-3, 3), st.floats(-3, 3, allow_nan=False))
ANY = st.one_of(TEXT, NUMBER, MISSING)
KINDS = ["object", "text", "float64", "int64", "float32", "bool", "Int64", "str", "datetime"]


@st.composite
def column(draw, n: int) -> pd.Series:  # type: ignore[no-untyped-def]
    kind = draw(st.sampled_from(KINDS))
    pool = draw(st.integers(1, 4))  # a small pool of values: duplicates are common

    def values(strategy):  # type: ignore[no-untyped-def]
        chosen = draw(st.lists(strategy, min_size=pool, max_size=pool))
        return [chosen[draw(st.integers(0, pool - 1))] for _ in range(n)]

    if kind == "object":
        return pd.Series(values(ANY), dtype=object)
    if kind == "text":  # character data as read from an XPT: strings, "" for missing
        return pd.Series(values(st.one_of(TEXT, st.none())), dtype=object)
    if kind == "str":
        return pd.Series(values(st.one_of(TEXT, st.none())), dtype="str")
    if kind in ("float64", "float32"):
        return pd.Series(values(st.one_of(st.floats(-3, 3), st.sampled_from([0.0, -0.0, 1.0,
                                                                              np.nan]))),
                         dtype=kind)
    if kind == "int64":
        return pd.Series(values(st.integers(-2, 3)), dtype="int64")
    if kind == "Int64":
        return pd.Series(values(st.one_of(st.integers(-2, 3), st.none())), dtype="Int64")
    if kind == "bool":
        return pd.Series(values(st.booleans()), dtype=bool)
    return pd.to_datetime(pd.Series(values(st.sampled_from(["2021-01-10", "2021-01-10T10:00",
                                                            None])), dtype=object),
                          format="ISO8601")


@st.composite
def frames(draw) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    n = draw(st.integers(0, 8))
    return pd.DataFrame({c: draw(column(n)) for c in ("A", "B", "C")})


EDGES = pd.DataFrame({
    "A": pd.Series(["ab", "", None, np.nan, 5, 2.5, True, LONG, "2021-13-45"], dtype=object),
    "B": [1.0, np.nan, 0.0, -0.0, 2.0, 3.0, 1.0, 0.5, np.nan],
    "C": pd.Series(["M", "F", "M", "", None, "2021-01-10", "X", LONG, LONG], dtype=object)})
KEYS = pd.DataFrame({"A": pd.Series([None, None, "x", "x", None, np.nan, "y"], dtype=object),
                     "B": [np.nan, np.nan, 1.0, 1.0, 2.0, 2.0, 2.0],
                     "C": pd.Series(["1", "1", "1", "1", "", "", None], dtype=object)})


def expectations(kind: str) -> list[dict]:
    """The expectation type on each column, with the kwargs the suites give it."""
    def each(rule: str, **kwargs: object) -> list[dict]:
        return [_exp(kind, rule, "error", c, column=c, **kwargs) for c in "ABC"]

    if kind == "expect_column_to_exist":
        return each("GX.REQ.EXISTS") + [_exp(kind, "GX.EXP.EXISTS", "warning", "Z", column="Z")]
    if kind == "expect_column_value_lengths_to_be_between":
        return each("GX.REQ.POPULATED", min_value=1) + each("GX.CHAR.MAX200", max_value=200)
    if kind == "expect_column_values_to_match_regex":
        return each("GX.ISO8601", regex=f"^$|{ISO8601_DTC_REGEX}") + \
            [_exp(kind, "GX.ISO8601.DUR", "error", "C", column="C",
                  regex=f"^$|{ISO8601_DURATION_REGEX}"),
             _exp(kind, "GX.SEARCH", "error", "B", column="B", regex="1|^$")]  # unanchored
    if kind == "expect_compound_columns_to_be_unique":
        return [_exp(kind, "GX.KEYS.UNIQUE", "error", ",".join(cols), column_list=list(cols))
                for cols in (("A", "B"), ("A", "B", "C"), ("C", "A"))]
    return each({
        "expect_column_values_to_not_be_null": "GX.REQ.POPULATED",
        "expect_column_values_to_be_in_set": "GX.CT.NONEXTENSIBLE",
        "expect_column_values_to_be_in_type_list": "GX.TYPE.NUMERIC",
        "expect_column_values_to_be_between": "GX.SEQ.POSITIVE",
        "expect_column_values_to_not_be_in_set": "GX.DY.NOT_ZERO",
        "expect_column_values_to_be_unique": "GX.KEYS.UNIQUE",
    }[kind], **{
        "expect_column_values_to_be_in_set": {"value_set": SEX},
        "expect_column_values_to_be_in_type_list": {"type_list": NUMERIC_TYPES},
        "expect_column_values_to_be_between": {"min_value": 1},
        "expect_column_values_to_not_be_in_set": {"value_set": [0]},
    }.get(kind, {}))


TYPES = sorted(suites.MESSAGES)


def test_the_ten_types_are_those_of_the_suites() -> None:
    used = {e["type"] for name in SPECS.datasets
            for e in suites.suite_for(name, SPECS)["expectations"]}
    one_key = suites.suite_for("TS", SPECS, ["TSPARMCD"])["expectations"]
    used |= {e["type"] for e in one_key}  # a single key column present: column uniqueness
    assert used == set(TYPES) and len(TYPES) == 10


@pytest.mark.parametrize("kind", TYPES)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames())
@example(frame=EDGES)
@example(frame=KEYS)
def test_native_equals_gx_on_generated_frames(runner, kind: str, frame: pd.DataFrame) -> None:
    definition = {"name": "T", "expectations": expectations(kind)}
    frame = frame.assign(USUBJID=[f"S-{i % 3}" for i in range(len(frame))],
                         TSEQ=[float(i) for i in range(len(frame))])
    native = suites.native_findings("T", definition, frame, ["TSEQ"])
    assert ordered(native) == ordered(gx_suite(runner, "T", definition, frame, ["TSEQ"]))
