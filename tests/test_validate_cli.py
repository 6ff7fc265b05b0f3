"""cdisc validate end to end: clean demo output, injected defects, exit codes, reports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cdisc.cli import main
from cdisc.io.xpt import read_xpt
from tests.conftest import REFERENCE


@pytest.fixture(scope="module")
def demo_sdtm(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("v") / "out"
    assert CliRunner().invoke(main, ["run", "--out", str(out)]).exit_code == 0
    return out / "sdtm"


def validate(*args: str):
    return CliRunner().invoke(main, ["validate", *args], catch_exceptions=False)


def rewrite(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    import pyreadstat

    df, meta = read_xpt(path)
    df = change(df)
    pyreadstat.write_xport(df, str(path), file_format_version=5, table_name=meta.table_name,
                           column_labels=[meta.column_labels[c] for c in df.columns])


def test_demo_output_reports_exactly_its_real_data_findings(demo_sdtm: Path,
                                                             tmp_path: Path) -> None:
    """What the demo's data really holds, each kept as collected and reported under its CORE
    rule: a serious AE without a criterion (ae.csv row 110: CORE-000266 / CG0042) and an
    uncoded term (row 236: CORE-000356 and the GX Req check), a lab result that is not a number
    (no standard unit: CORE-000699 / FB3001), MHCAT with one value (CORE-000365 / CG0077),
    partial AE end dates in the start's month (CORE-000718 / FB3209: CORE compares a partial
    date by its first instant), samples timed on the day of RFPENDTC (CORE-000720 in LB and
    in the kinetics' PC and CP, 000952 in SV: CORE compares the date-only RFPENDTC by its
    first instant), deaths without a fatal AE (CORE-001078 / FB0609). One finding is of the
    rules themselves: PP has PPRFTDTC, which CORE-000165 (FB3701) requires PPTPTREF beside,
    and PPTPTREF, which CORE-000080 (CG0093, citing the SDTM v1.4 definition) allows only
    beside --TPT/--TPTNUM/--ELTM; SDTM v2.0 defines --TPTREF as the reference of --STINT and
    --ENINT too, which PP has, so PP keeps PPTPTREF and CORE-000080 is reported."""
    result = validate(str(demo_sdtm), "--json", str(tmp_path / "r.json"), "--junit",
                      str(tmp_path / "j.xml"), "--html", str(tmp_path / "html"))
    assert result.exit_code == 1, result.output
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["schema"] == "cdisc-validate/2"
    errors = sorted((f["rule"], f["reference"], f["dataset"], f["count"])
                    for f in doc["findings"] if f["severity"] == "error")
    assert errors == [
        ("CORE-000080", "CG0093", "PP", 1),
        ("CORE-000266", "CG0042", "AE", 1), ("CORE-000356", "CG0014", "AE", 1),
        ("CORE-000365", "CG0077", "MH", 42), ("CORE-000699", "FB3001", "LB", 1),
        ("CORE-000718", "FB3209", "AE", 17), ("CORE-000720", "FB3406", "CP", 4),
        ("CORE-000720", "FB3406", "LB", 51), ("CORE-000720", "FB3406", "PC", 3),
        ("CORE-000952", "FB3407", "SV", 5), ("CORE-001078", "FB0609", "AE", 146),
        ("GX.REQ.POPULATED", None, "AE", 1)]
    assert doc["summary"]["error"] == 12 and doc["summary"]["rules_not_executable"] == 0
    assert (tmp_path / "html" / "report.html").read_bytes().startswith(b"<!DOCTYPE html>")
    assert b"<testsuite" in (tmp_path / "j.xml").read_bytes()


def test_injected_defects_exit_1(demo_sdtm: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(demo_sdtm, bad)

    def orphan(df):  # type: ignore[no-untyped-def]
        df.loc[0, "USUBJID"] = "NOT-IN-DM"
        return df

    def day_zero(df):  # type: ignore[no-untyped-def]
        df.loc[3, "EXSTDY"] = 0.0
        return df

    rewrite(bad / "ae.xpt", orphan)
    rewrite(bad / "ex.xpt", day_zero)
    result = validate(str(bad), "--json", str(tmp_path / "r.json"), "--no-gx")
    assert result.exit_code == 1
    findings = json.loads((tmp_path / "r.json").read_text())["findings"]
    got = {(f["rule"], f["dataset"], f["variable"]) for f in findings}
    assert ("CORE-000201", "AE", "USUBJID") in got  # USUBJID not in DM (CG0019)
    assert ("CORE-000552", "EX", "EXSTDY, EXSTDTC") in got  # --STDY not the study day
    orphan_finding = next(f for f in findings if f["rule"] == "CORE-000201")
    assert orphan_finding["rows"] == [1] and orphan_finding["values"] == ["USUBJID=NOT-IN-DM"]


def test_fail_on_warning(demo_sdtm: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(demo_sdtm, bad)
    # without the datasets holding the demo's real data errors, one warning is left:
    # CM's EPOCH missing on a record before the first epoch (CORE-000701)
    for name in ("ae", "suppae", "mh", "suppmh", "lb", "pc", "pp", "cp", "sv"):
        for ext in ("xpt", "json"):
            (bad / f"{name}.{ext}").unlink(missing_ok=True)
    assert validate(str(bad), "--no-gx", "--fail-on", "error").exit_code == 0
    assert validate(str(bad), "--no-gx", "--fail-on", "warning").exit_code == 1


def test_cannot_run_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = validate(str(empty))
    assert result.exit_code == 2 and result.output.startswith("error: ")
    (empty / "dm.xpt").write_bytes(b"garbage" * 20)
    result = validate(str(empty))
    assert result.exit_code == 2 and "dm.xpt" in result.output


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference not present")
def test_another_sponsors_datasets(tmp_path: Path) -> None:
    folder = tmp_path / "send"
    shutil.copytree(REFERENCE / "dataset-json-1.1" / "examples" / "send_cber_pilot", folder,
                    ignore=shutil.ignore_patterns("*.json", "*.ndjson"))
    result = validate(str(folder), "--no-gx", "--json", str(tmp_path / "r.json"))
    assert result.exit_code in (0, 1), result.output
    doc = json.loads((tmp_path / "r.json").read_text())
    # SEND datasets under SDTMIG rules: most rules have nothing to look at, none fails to run
    assert doc["summary"]["rules_skipped"] > 300 and doc["summary"]["rules_not_executable"] == 0


def test_injected_defects_with_gx(demo_sdtm: Path, tmp_path: Path) -> None:
    import pandas as pd

    bad = tmp_path / "bad"
    shutil.copytree(demo_sdtm, bad)
    (bad / "define.xml").unlink()  # the define no longer describes the changed files

    def dm_defects(df):  # type: ignore[no-untyped-def]
        df.loc[1, "SEX"] = "X"
        return df.drop(columns=["SITEID"])

    def ae_defects(df):  # type: ignore[no-untyped-def]
        df.loc[2, "AESTDTC"] = "2021-13-45"
        df.loc[4, "AESTDY"] = 0.0
        return pd.concat([df, df.iloc[[5]]], ignore_index=True)  # a duplicated record

    rewrite(bad / "dm.xpt", dm_defects)
    rewrite(bad / "ae.xpt", ae_defects)
    result = validate(str(bad), "--json", str(tmp_path / "r.json"))
    assert result.exit_code == 1
    findings = json.loads((tmp_path / "r.json").read_text())["findings"]
    got = {(f["rule"], f["dataset"], f["variable"]): f for f in findings}
    assert got[("GX.CT.NONEXTENSIBLE", "DM", "SEX")]["rows"] == [2]
    assert ("GX.REQ.EXISTS", "DM", "SITEID") in got
    assert got[("GX.ISO8601", "AE", "AESTDTC")]["rows"] == [3]
    assert got[("GX.DY.NOT_ZERO", "AE", "AESTDY")]["rows"] == [5]
    assert ("GX.KEYS.UNIQUE", "AE", "STUDYID,USUBJID,AESEQ") in got
