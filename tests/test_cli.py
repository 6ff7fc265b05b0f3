"""The command line through click's CliRunner: outputs, one-line errors, exit codes, no debris."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from cdisc import __version__
from cdisc.cli import main
from tests.conftest import DEMO_MAPPING


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_version_and_help() -> None:
    assert __version__ in _invoke("--version").output
    for command in ("demo", "sdtm", "run"):
        result = _invoke(command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output


def test_sdtm_writes_every_output(mini_raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _invoke("sdtm", str(mini_raw), "--mapping", str(DEMO_MAPPING), "--out", str(out))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["define.html", "define.xml", "dm.json", "dm.xpt", "ex.json", "ex.xpt",
                     "reconciliation.csv", "rejects.csv", "trace.csv"]
    assert "DM: 4 records" in result.output
    assert not list(tmp_path.glob(".out.*"))  # no temp folders left


def test_sdtm_is_byte_identical_on_rerun(mini_raw: Path, tmp_path: Path) -> None:
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert _invoke("sdtm", str(mini_raw), "--mapping", str(DEMO_MAPPING), "--out",
                       str(out)).exit_code == 0
        outs.append({p.name: p.read_bytes() for p in out.iterdir()})
    assert outs[0] == outs[1]


def test_missing_column_is_one_line_exit_2_and_no_output(mini_raw: Path, tmp_path: Path) -> None:
    text = (mini_raw / "cart.csv").read_text().replace("INFDOSE", "DOSE")
    (mini_raw / "cart.csv").write_text(text)
    out = tmp_path / "out"
    result = _invoke("sdtm", str(mini_raw), "--mapping", str(DEMO_MAPPING), "--out", str(out))
    assert result.exit_code == 2
    assert result.output.strip() == "error: cart.csv, row 0, column INFDOSE: column INFDOSE " \
        "(needed by EX mapping 'car-t infusion') is missing"
    assert "Traceback" not in result.output
    assert not out.exists() and not list(tmp_path.glob(".out.*"))


def test_bad_mapping_spec_is_one_line_exit_2(mini_raw: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "mapping"
    shutil.copytree(DEMO_MAPPING, mapping)
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


def test_failed_run_keeps_the_previous_output(mini_raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _invoke("sdtm", str(mini_raw), "--mapping", str(DEMO_MAPPING), "--out",
                   str(out)).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (mini_raw / "dm.csv").write_text("")
    result = _invoke("sdtm", str(mini_raw), "--mapping", str(DEMO_MAPPING), "--out", str(out))
    assert result.exit_code == 2 and "dm.csv" in result.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_run_on_the_embedded_demo(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _invoke("run", "--out", str(out))
    assert result.exit_code == 0, result.output
    for name in ("dm.xpt", "ex.xpt", "define.xml", "define.html", "dm.json", "ex.json"):
        assert (out / "sdtm" / name).stat().st_size > 0
