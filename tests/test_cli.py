"""The command line through click's CliRunner: outputs, one-line errors, exit codes, no debris."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from cdisc import __version__
from cdisc.cli import main


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_version_and_help() -> None:
    assert __version__ in _invoke("--version").output
    for command in ("demo", "sdtm", "run"):
        result = _invoke(command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output


def test_sdtm_writes_every_output(mini_raw: Path, dm_ex_mapping: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _invoke("sdtm", str(mini_raw), "--mapping", str(dm_ex_mapping), "--out", str(out))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    # the trial design datasets of study.yaml's trial_design section (no SV: no visit records)
    design = [f"{name}.{ext}" for name in ("se", "ta", "te", "ti", "ts", "tv")
              for ext in ("json", "xpt")]
    assert names == sorted(["data_issues.csv", "define.html", "define.xml", "dm.json",
                            "dm.xpt", "ex.json", "ex.xpt", "reconciliation.csv", "rejects.csv",
                            "trace.csv", *design])
    assert "DM: 5 records" in result.output
    assert not list(tmp_path.glob(".out.*"))  # no temp folders left


def test_sdtm_is_byte_identical_on_rerun(mini_raw: Path, dm_ex_mapping: Path, tmp_path: Path) -> None:
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert _invoke("sdtm", str(mini_raw), "--mapping", str(dm_ex_mapping), "--out",
                       str(out)).exit_code == 0
        outs.append({p.name: p.read_bytes() for p in out.iterdir()})
    assert outs[0] == outs[1]


def test_missing_column_is_one_line_exit_2_and_no_output(mini_raw: Path, dm_ex_mapping: Path,
                                                         tmp_path: Path) -> None:
    text = (mini_raw / "cart.csv").read_text().replace("INFDOSE", "DOSE")
    (mini_raw / "cart.csv").write_text(text)
    out = tmp_path / "out"
    result = _invoke("sdtm", str(mini_raw), "--mapping", str(dm_ex_mapping), "--out", str(out))
    assert result.exit_code == 2
    assert result.output.strip() == "error: cart.csv, row 0, column INFDOSE: column INFDOSE " \
        "(needed by EX mapping 'car-t infusion') is missing"
    assert "Traceback" not in result.output
    assert not out.exists() and not list(tmp_path.glob(".out.*"))


def test_bad_mapping_spec_is_one_line_exit_2(mini_raw: Path, dm_ex_mapping: Path,
                                             tmp_path: Path) -> None:
    mapping = dm_ex_mapping
    ex = (mapping / "EX.yaml").read_text().replace("{hardcode: INTRAVENOUS}",
                                                   "{transmogrify: INTRAVENOUS}")
    (mapping / "EX.yaml").write_text(ex)
    out = tmp_path / "out"
    result = _invoke("sdtm", str(mini_raw), "--mapping", str(mapping), "--out", str(out))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {mapping / 'EX.yaml'}: EXROUTE: "
                                                   "unknown algorithm or option ['transmogrify']")
    assert not out.exists()


def test_failed_run_keeps_the_previous_output(mini_raw: Path, dm_ex_mapping: Path,
                                             tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _invoke("sdtm", str(mini_raw), "--mapping", str(dm_ex_mapping), "--out",
                   str(out)).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (mini_raw / "dm.csv").write_text("")
    result = _invoke("sdtm", str(mini_raw), "--mapping", str(dm_ex_mapping), "--out", str(out))
    assert result.exit_code == 2 and "dm.csv" in result.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_run_on_the_embedded_demo(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _invoke("run", "--out", str(out))
    assert result.exit_code == 0, result.output
    for name in ("dm.xpt", "ex.xpt", "define.xml", "define.html", "dm.json", "ex.json"):
        assert (out / "sdtm" / name).stat().st_size > 0


def test_demo_output_is_schema_valid(tmp_path: Path) -> None:
    import json

    import pytest

    from cdisc.define import validate_define
    from tests.conftest import REFERENCE

    if not REFERENCE.exists():
        pytest.skip("../shared/reference not present")
    jsonschema = pytest.importorskip("jsonschema")
    out = tmp_path / "out"
    assert _invoke("run", "--out", str(out)).exit_code == 0
    sdtm = out / "sdtm"
    errors = validate_define((sdtm / "define.xml").read_bytes(),
                             REFERENCE / "define-xml-2.1" / "schema")
    assert errors == []
    schema = json.loads((REFERENCE / "dataset-json-1.1/schema/dataset.schema.json").read_text())
    for name in ("dm.json", "ex.json"):
        jsonschema.validate(json.loads((sdtm / name).read_text()), schema)


def test_demo_command_is_deterministic(tmp_path: Path) -> None:
    outs = []
    for name in ("a", "b"):
        result = _invoke("demo", str(tmp_path / name), "--subjects", "12", "--seed", "7")
        assert result.exit_code == 0, result.output
        outs.append({p.name: p.read_bytes() for p in (tmp_path / name).iterdir()})
    assert outs[0] == outs[1] and "dm.csv" in outs[0] and "ld.xpt" in outs[0]


def test_unwritable_output_is_one_line_exit_2(mini_raw: Path, dm_ex_mapping: Path,
                                              tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = _invoke("sdtm", str(mini_raw), "--mapping", str(dm_ex_mapping), "--out",
                     str(blocker / "out"))
    assert result.exit_code == 2 and result.output.startswith("error: ")
