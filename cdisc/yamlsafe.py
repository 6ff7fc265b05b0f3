"""Load YAML written by users safely: plain data only, no tags, no aliases, bounded size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cdisc.errors import SpecError

MAX_YAML_BYTES = 1_000_000
MAX_DEPTH = 50
# libyaml when present: the file is scanned three times (events, nodes, data), cheaply
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _no_duplicate_keys(node: yaml.Node | None, path: Path) -> None:
    """PyYAML keeps the last of two equal keys silently; a spec must not lose a rule that way."""
    todo = [node] if node is not None else []
    while todo:
        node = todo.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        raise SpecError(f"duplicate key {key.value!r}", file=str(path),
                                        row=key.start_mark.line + 1)
                    seen.add(key.value)
                todo += [key, value]
        elif isinstance(node, yaml.SequenceNode):
            todo += node.value


def load_yaml(path: Path) -> Any:
    """Parse a YAML file as plain data. Anchors/aliases are refused (alias bombs), so are tags."""
    if not path.exists():
        raise SpecError("file not found", file=str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read file: {exc.strerror}", file=str(path)) from None
    if len(data) > MAX_YAML_BYTES:
        raise SpecError(f"file larger than {MAX_YAML_BYTES} bytes", file=str(path))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpecError(f"not UTF-8 text: byte 0x{data[exc.start]:02x}", file=str(path),
                        row=line) from None
    try:
        depth = 0
        for event in yaml.parse(text, Loader=_LOADER):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                line = event.start_mark.line + 1
                raise SpecError("YAML anchors and aliases are not allowed", file=str(path), row=line)
            if getattr(event, "tag", None) is not None:  # only explicit tags (!!x, !x) get here
                raise SpecError(f"invalid YAML: tags are not allowed (found {event.tag!r})",
                                file=str(path), row=event.start_mark.line + 1)
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:  # the composer recurses: refuse before it overflows
                    raise SpecError(f"YAML nested deeper than {MAX_DEPTH} levels", file=str(path),
                                    row=event.start_mark.line + 1)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
        _no_duplicate_keys(yaml.compose(text, Loader=_LOADER), path)
        return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"invalid YAML: {problem}", file=str(path), row=line) from None
