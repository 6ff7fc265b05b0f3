"""Great Expectations suites generated from specs/: no drift, and each check catches its defect
(with the right dataset, variable and row)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc.specs import load_specs
from cdisc.validate.suites import run_suites, suite_for, write_suites
from tests.conftest import REPO


def test_committed_suites_match_specs(tmp_path: Path) -> None:
    written = write_suites(tmp_path, load_specs())
    committed = REPO / "validation" / "suites"
    assert sorted(p.name for p in committed.glob("*.json")) == sorted(p.name for p in written)
    for path in written:
        assert (committed / path.name).read_bytes() == path.read_bytes(), path.name


def test_suite_content_from_specs() -> None:
    suite = suite_for("DM", load_specs())
    by_rule = {}
    for e in suite["expectations"]:
        by_rule.setdefault(e["meta"]["rule"], set()).add(e["meta"]["variable"])
    assert {"STUDYID", "USUBJID", "SEX", "SITEID"} <= by_rule["GX.REQ.POPULATED"]
    assert "RFSTDTC" in by_rule["GX.ISO8601"] and "AGE" in by_rule["GX.TYPE.NUMERIC"]
    assert "SEX" in by_rule["GX.CT.NONEXTENSIBLE"]  # C66731 is not extensible
    assert "ARM" in by_rule["GX.EXP.EXISTS"]


def dm(**over) -> pd.DataFrame:
    base = {"STUDYID": ["S"] * 3, "DOMAIN": ["DM"] * 3, "USUBJID": ["S-1", "S-2", "S-3"],
            "SUBJID": ["1", "2", "3"], "RFSTDTC": ["2021-01-10", "2021-02", ""],
            "SITEID": ["1"] * 3, "SEX": ["M", "F", "M"], "COUNTRY": ["CHN"] * 3,
            "AGE": [30.0, 40.0, np.nan]}
    base.update(over)
    return pd.DataFrame(base).astype({k: object for k in base if k != "AGE"})


def ae(**over) -> pd.DataFrame:
    base = {"STUDYID": ["S"] * 2, "DOMAIN": ["AE"] * 2, "USUBJID": ["S-1", "S-1"],
            "AESEQ": [1.0, 2.0], "AETERM": ["fever", "rash"], "AEDECOD": ["Pyrexia", "Rash"],
            "AESTDTC": ["2021-01-11", "2021-01-12"], "AESTDY": [2.0, 3.0]}
    base.update(over)
    return pd.DataFrame(base).astype({k: object for k in base if k not in ("AESEQ", "AESTDY")})


@pytest.fixture(scope="module")
def results():
    """One GX run over every case (GX's fixed cost is paid once)."""
    specs = load_specs()
    cases = {
        "clean": {"DM": dm(), "AE": ae()},
        "sex": {"DM": dm(SEX=["M", "X", "F"])},
        "iso": {"DM": dm(RFSTDTC=["2021-13-45", "2021-02", ""])},
        "dup": {"DM": dm(USUBJID=["S-1", "S-1", "S-3"])},
        "missing": {"DM": dm().drop(columns=["SITEID"])},
        "empty_req": {"DM": dm(SUBJID=["1", "", "3"])},
        "seq_dy": {"AE": ae(AESEQ=[0.0, 2.0], AESTDY=[2.0, 0.0])},
    }
    return {name: run_suites(data, specs)[0] for name, data in cases.items()}


def only(findings, rule: str):  # type: ignore[no-untyped-def]
    return [f for f in findings if f.rule == rule]


def test_clean_has_no_errors(results) -> None:
    assert [f for f in results["clean"] if f.severity == "error"] == []


def test_codelist(results) -> None:
    [f] = only(results["sex"], "GX.CT.NONEXTENSIBLE")
    assert (f.dataset, f.variable, f.count, f.rows, f.values) == ("DM", "SEX", 1, (2,), ("X",))


def test_iso8601(results) -> None:
    [f] = only(results["iso"], "GX.ISO8601")
    assert (f.variable, f.rows) == ("RFSTDTC", (1,))


def test_duplicate_key(results) -> None:
    [f] = only(results["dup"], "GX.KEYS.UNIQUE")
    assert f.count == 2 and f.rows == (1, 2)


def test_missing_and_empty_required(results) -> None:
    [f] = only(results["missing"], "GX.REQ.EXISTS")
    assert (f.variable, f.severity) == ("SITEID", "error")
    [g] = only(results["empty_req"], "GX.REQ.POPULATED")
    assert (g.variable, g.rows) == ("SUBJID", (2,))


def test_seq_and_study_day(results) -> None:
    [seq] = only(results["seq_dy"], "GX.SEQ.POSITIVE")
    [dy] = only(results["seq_dy"], "GX.DY.NOT_ZERO")
    assert (seq.variable, seq.rows, dy.variable, dy.rows) == ("AESEQ", (1,), "AESTDY", (2,))


def test_distinct_frame_keeps_every_value_and_adds_none() -> None:
    from cdisc.validate.suites import distinct_frame

    df = pd.DataFrame({"A": ["x", "y", "x", None, "y"], "B": [1.0, 1.0, 1.0, 1.0, np.nan]})
    out = distinct_frame(df)
    assert len(out) == 3 and out["B"].dtype == "float64"
    assert set(out["A"].dropna()) == {"x", "y"} and out["A"].isna().any()
    assert set(out["B"].dropna()) == {1.0} and out["B"].isna().any()


def test_screening_on_distinct_values_reports_what_a_full_run_does(monkeypatch) -> None:
    """Long tables are screened on distinct values first; the findings (counts, rows, values)
    must be those of a run on every row."""
    import cdisc.validate.suites as suites

    n = 400
    big = ae(USUBJID=[f"S-{i // 8}" for i in range(n)], AESEQ=[float(i % 8 + 1) for i in range(n)],
             AETERM=["fever"] * n, AEDECOD=["Pyrexia"] * n,
             AESTDTC=["2021-01-11"] * (n - 3) + ["2021-13-01", "bad", "2021-13-01"],
             AESTDY=[2.0] * (n - 1) + [0.0], STUDYID=["S"] * n, DOMAIN=["AE"] * n)
    big.loc[10, "AESEQ"] = big.loc[9, "AESEQ"]  # duplicate key
    big.loc[20, "USUBJID"] = ""  # required value missing
    specs = load_specs()
    monkeypatch.setattr(suites, "SCREEN_ROWS", 10**9)
    full = sorted(run_suites({"AE": big}, specs)[0], key=lambda f: (f.rule, f.variable or ""))
    monkeypatch.setattr(suites, "SCREEN_ROWS", 1)
    screened = sorted(run_suites({"AE": big}, specs)[0], key=lambda f: (f.rule, f.variable or ""))
    assert screened == full
    assert {f.rule for f in full} >= {"GX.ISO8601", "GX.DY.NOT_ZERO", "GX.KEYS.UNIQUE",
                                      "GX.REQ.POPULATED"}
    [iso] = [f for f in full if f.rule == "GX.ISO8601"]
    assert iso.count == 3 and iso.rows == (n - 2, n - 1, n)
