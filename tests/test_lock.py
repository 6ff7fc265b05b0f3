"""The lock: uv.lock and its pip exports in requirements/ pin the same packages and versions
(a hand edit of one, or a `uv lock` without the exports, fails here, without uv installed)."""

from __future__ import annotations

import tomllib

from packaging.utils import canonicalize_name

from tests.conftest import REPO


def _exported(name: str) -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements" / name).read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            spec = line.split(";")[0].strip().rstrip(" \\")
            package, version = spec.split("==")
            pins[canonicalize_name(package)] = version
    return pins


def test_exports_pin_what_uv_lock_resolved() -> None:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    locked = {canonicalize_name(p["name"]): p["version"] for p in lock["package"]
              if p.get("source", {}).get("editable") != "."}
    dev = _exported("dev.txt")
    assert dev == locked  # the dev export holds every locked package (runtime, tests, build)
    runtime = _exported("runtime.txt")
    assert runtime.items() <= dev.items()
    assert {"pandas", "pyreadstat", "lxml", "great-expectations", "setuptools"} <= set(runtime)
    assert not {"pytest", "hypothesis"} & set(runtime)


def test_every_pin_carries_hashes() -> None:
    for name in ("runtime.txt", "dev.txt"):
        text = (REPO / "requirements" / name).read_text()
        blocks = [b for b in text.split("\n") if "==" in b and not b.startswith((" ", "#"))]
        assert blocks and text.count("--hash=sha256:") >= len(blocks), name
