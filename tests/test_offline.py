"""No network at run time: the whole pipeline (GX included) runs with sockets forbidden."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import socket, sys

MARKER = sys.argv[2]


def refuse(*args, **kwargs):
    # record the attempt even if the caller swallows the error
    with open(MARKER, "a") as fh:
        fh.write(repr(args) + "\\n")
    raise OSError("network access attempted")


class NoNetwork(socket.socket):
    def connect(self, *a, **k):
        refuse(*a)

    def connect_ex(self, *a, **k):
        refuse(*a)


socket.socket = NoNetwork
socket.create_connection = refuse
socket.getaddrinfo = refuse
from cdisc.cli import main
sys.argv = ["cdisc", "run", "--out", sys.argv[1], "--format", "xpt"]
main()
"""


def test_run_without_network(tmp_path: Path) -> None:
    out = tmp_path / "out"
    marker = tmp_path / "attempts.txt"
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(out), str(marker)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert not marker.exists(), marker.read_text()[:500]
    assert (out / "validation" / "report.json").exists()
