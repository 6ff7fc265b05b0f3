"""OUT_DIR/manifest.json: every output with its sha256, the tool version, and the hashes of the
specs, the mapping folder and the raw inputs, so a reviewer can tell two runs apart (or not)."""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path

from cdisc import __version__
from cdisc.paths import SPECS_DIR


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_hashes(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file below folder (sorted)."""
    return {p.relative_to(folder).as_posix(): sha256(p)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def folder_digest(folder: Path) -> str:
    """One sha256 over a folder's relative paths and file hashes."""
    digest = hashlib.sha256()
    for name, value in folder_hashes(folder).items():
        digest.update(f"{name}\0{value}\n".encode())
    return digest.hexdigest()


# The libraries whose behaviour shapes the bytes of the outputs (installed from requirements/)
OUTPUT_LIBRARIES = ("great-expectations", "lifelines", "lxml", "numpy", "pandas", "pyreadstat",
                    "PyYAML", "scipy", "matplotlib")


def library_versions() -> dict[str, str]:
    """Installed version of each output-shaping library ('not installed' when absent)."""
    versions = {}
    for name in OUTPUT_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def write_manifest(out_dir: Path, raw_dir: Path, mapping_dir: Path) -> Path:
    outputs = {k: v for k, v in folder_hashes(out_dir).items() if k != "manifest.json"}
    doc = {"tool": {"name": "cdisc-pipeline", "version": __version__},
           "python": platform.python_version(),
           "libraries": library_versions(),
           "specs_sha256": folder_digest(SPECS_DIR),
           "mapping_sha256": folder_digest(mapping_dir),
           "inputs": folder_hashes(raw_dir),
           "outputs": outputs}
    path = out_dir / "manifest.json"
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
