"""Load YAML written by users safely: plain data only, no tags, no aliases, bounded size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cdisc.errors import SpecError

MAX_YAML_BYTES = 1_000_000


def load_yaml(path: Path) -> Any:
    """Parse a YAML file as plain data. Anchors/aliases are refused (alias bombs), so are tags."""
    if not path.exists():
        raise SpecError("file not found", file=str(path))
    text = path.read_bytes()
    if len(text) > MAX_YAML_BYTES:
        raise SpecError(f"file larger than {MAX_YAML_BYTES} bytes", file=str(path))
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                line = event.start_mark.line + 1
                raise SpecError("YAML anchors and aliases are not allowed", file=str(path), row=line)
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"invalid YAML: {problem}", file=str(path), row=line) from None
