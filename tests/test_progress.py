"""Progress bars: on stderr at a terminal only; never with --quiet, in CI or on a pipe."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cdisc import progress
from cdisc.cli import main


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[Terminal]:
    """stderr as a terminal; installed in the test body, since pytest's capture replaces
    sys.stderr again after fixtures have run."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    yield Terminal()
    progress.configure(quiet=True)


def test_a_terminal_shows_the_bar(terminal: Terminal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", terminal)
    progress.configure(quiet=False)
    assert list(progress.track(["DM", "LB"], "mapping SDTM", "domain")) == ["DM", "LB"]
    shown = terminal.getvalue()
    assert "mapping SDTM:   0%" in shown and "0/2" in shown and "domain" in shown


@pytest.mark.parametrize("quiet,env", [(True, {}), (False, {"CI": "true"}),
                                       (False, {"TERM": "dumb"})])
def test_quiet_ci_and_dumb_terminals_show_nothing(terminal: Terminal,
                                                  monkeypatch: pytest.MonkeyPatch, quiet: bool,
                                                  env: dict[str, str]) -> None:
    monkeypatch.setattr(sys, "stderr", terminal)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    progress.configure(quiet=quiet)
    assert list(progress.track(iter(range(3)), "validation rules")) == [0, 1, 2]
    assert terminal.getvalue() == ""


def test_a_pipe_shows_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()  # not a terminal
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.delenv("CI", raising=False)
    progress.configure(quiet=False)
    assert list(progress.track([1, 2], "writing sdtm")) == [1, 2]
    assert stream.getvalue() == ""


def test_sdtm_quiet_prints_only_where_the_output_went(mini_raw: Path, dm_ex_mapping: Path,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["sdtm", str(mini_raw), "--mapping", str(dm_ex_mapping),
                                       "--out", str(out), "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.output == f"wrote {out}\n"
    assert (out / "dm.xpt").is_file()
