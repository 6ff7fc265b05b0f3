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
_BLANK = " \t\r\n"


def _skip_quoted(text: str, i: int) -> int:
    """Index just past the quoted scalar that starts at text[i] (' doubles, " escapes)."""
    quote, i = text[i], i + 1
    while i < len(text):
        if quote == '"' and text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            if quote == "'" and text[i + 1 : i + 2] == "'":
                i += 2
                continue
            return i + 1
        i += 1
    return i


def _skip_block_scalar(text: str, i: int, indent: int) -> int:
    """Index of the first line after a literal/folded scalar whose header line ends at text[i]."""
    while i < len(text):
        end = text.find("\n", i + 1)
        end = len(text) if end < 0 else end
        line = text[i + 1 : end]
        if line.strip() and len(line) - len(line.lstrip(" ")) <= indent:
            return i
        i = end
    return i


def flow_nesting_depth(text: str, limit: int) -> tuple[int, int]:
    """(depth, line) of the first flow collection ([ or {) nested deeper than limit, or (0, 0).

    Our own scan, before any YAML parser: a parser that reads ahead (libyaml does, across a
    flow collection) or has a nesting limit of its own must never decide this message. Flow
    indicators count inside flow collections, and in block context only where a node starts;
    quoted scalars, comments and literal/folded block scalars are skipped.
    """
    depth, line, i = 0, 1, 0
    node_start, line_indent, line_start = True, 0, True
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            line, node_start, line_start = line + 1, True, True
            i += 1
            continue
        if ch in " \t\r":
            i += 1
            continue
        if line_start:
            line_indent = i - (text.rfind("\n", 0, i) + 1)
            line_start = False
        prev = text[i - 1] if i else "\n"
        if ch == "#" and prev in _BLANK:
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        if ch in "'\"" and node_start:
            line += text.count("\n", i, _skip_quoted(text, i))
            i, node_start = _skip_quoted(text, i), False
            continue
        if depth == 0 and ch in "|>" and node_start:
            end = text.find("\n", i)
            if end < 0:
                break
            i = _skip_block_scalar(text, end, line_indent)
            line = text.count("\n", 0, i) + 1
            continue
        nxt = text[i + 1 : i + 2] or "\n"
        if ch in "[{" and (depth > 0 or node_start):
            depth += 1
            if depth > limit:
                return depth, line
            node_start = True
        elif ch in "]}" and depth > 0:
            depth -= 1
            node_start = False
        elif ch == "," and depth > 0:
            node_start = True
        elif ch == ":" and (nxt in _BLANK or depth > 0):
            node_start = True  # a value follows
        elif ch in "-?" and nxt in _BLANK and node_start:
            node_start = True  # an entry or a key follows; inside a plain scalar, "- " is text
        else:
            node_start = False
        i += 1
    return 0, 0


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
    too_deep, line = flow_nesting_depth(text, MAX_DEPTH)
    if too_deep:
        raise SpecError(f"YAML nested deeper than {MAX_DEPTH} levels", file=str(path), row=line)
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
