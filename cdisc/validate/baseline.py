"""Data-cut baseline: which findings are new since a previous report.json, which are still open,
and which of the previous ones are resolved.

Records are matched by (rule, dataset, variable, USUBJID, key), never by row numbers (a new data
cut inserts, removes and re-orders records). A finding is "open" when every one of its records
was reported in the baseline, else "new"; a baseline record that no current finding reports any
more is resolved (Report.resolved, the baseline findings narrowed to those records).

Where records cannot be identified, the finding itself is matched by (rule, dataset, variable,
message): dataset-level findings (no records, or only row-0 records without USUBJID/key),
engines that report rows but no records, and schema-1 baselines (no records at all). Only the
records a finding carries (at most MAX_RECORDS) are compared; `count` is not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from cdisc.errors import InputError
from cdisc.validate.model import SEVERITIES, Finding, Record
from cdisc.validate.report import Report, with_records

SCHEMAS = ("cdisc-validate/1", "cdisc-validate/2")
MAX_BASELINE_BYTES = 512 * 1024 * 1024

RecordId = tuple[str, str, str, str, str]


def _group(f: Finding) -> tuple[str, str, str]:
    return (f.rule, f.dataset.upper(), f.variable or "")


def _finding_key(f: Finding) -> tuple[str, str, str, str]:
    return (*_group(f), f.message)


def _record_id(f: Finding, r: Record) -> RecordId | None:
    """(rule, dataset, variable, USUBJID, key), or None for a record neither identifies."""
    if not (r.usubjid.strip() or r.key.strip()):
        return None
    return (*_group(f), r.usubjid.strip(), r.key.strip())


def _record_ids(f: Finding) -> list[RecordId] | None:
    """The identities of all of f's records; None when it has none or one is anonymous."""
    ids = [_record_id(f, r) for r in f.records]
    if not ids or any(i is None for i in ids):
        return None
    return ids  # type: ignore[return-value]


@dataclass
class _Index:
    records: set[RecordId] = field(default_factory=set)
    record_groups: set[tuple[str, str, str]] = field(default_factory=set)  # with identified records
    groups: set[tuple[str, str, str]] = field(default_factory=set)
    findings: set[tuple[str, str, str, str]] = field(default_factory=set)

    @classmethod
    def of(cls, findings: list[Finding]) -> _Index:
        index = cls()
        for f in findings:
            index.groups.add(_group(f))
            index.findings.add(_finding_key(f))
            ids = _record_ids(f)
            if ids is not None:
                index.records.update(ids)
                index.record_groups.add(_group(f))
        return index


# --- reading a previous report.json --------------------------------------------------------------

def _bad(path: Path, what: str) -> InputError:
    return InputError(f"not a cdisc validate report.json (schema 1 or 2): {what}", file=str(path))


def _text(item: dict, name: str, path: Path, n: int, optional: bool = False) -> str:
    value = item.get(name)
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise _bad(path, f"finding {n}: {name!r} is not text")
    return value


def _finding_of(item: object, path: Path, n: int) -> Finding:
    if not isinstance(item, dict):
        raise _bad(path, f"finding {n} is not an object")
    severity = _text(item, "severity", path, n)
    if severity not in SEVERITIES:
        raise _bad(path, f"finding {n}: unknown severity {severity!r}")
    count = item.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool):
        raise _bad(path, f"finding {n}: 'count' is not a whole number")
    rows = item.get("rows") or []
    values = item.get("values") or []
    records = item.get("records") or []
    if not (isinstance(rows, list) and isinstance(values, list) and isinstance(records, list)):
        raise _bad(path, f"finding {n}: 'rows', 'values' and 'records' must be lists")
    recs = []
    for r in records:
        if not isinstance(r, dict) or not isinstance(r.get("row", 0), int):
            raise _bad(path, f"finding {n}: a record is not an object with a row number")
        recs.append(Record(int(r.get("row", 0)), str(r.get("usubjid") or ""),
                           str(r.get("key") or ""), str(r.get("value") or "")))
    return Finding(_text(item, "rule", path, n), severity, _text(item, "dataset", path, n),
                   _text(item, "variable", path, n, optional=True) or None,
                   _text(item, "message", path, n), count,
                   tuple(int(r) for r in rows if isinstance(r, int)),
                   tuple(str(v) for v in values),
                   _text(item, "reference", path, n, optional=True) or None, tuple(recs))


def load_baseline(path: Path) -> list[Finding]:
    """The findings of a previous report.json (schema 1 or 2). InputError naming the file when
    it is missing, unreadable or not such a report."""
    path = Path(path)
    if not path.is_file():
        raise InputError("baseline report not found", file=str(path))
    try:
        if path.stat().st_size > MAX_BASELINE_BYTES:
            raise InputError(f"baseline report larger than {MAX_BASELINE_BYTES} bytes",
                             file=str(path))
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read baseline report: {exc.strerror}", file=str(path)) from None
    except UnicodeDecodeError:
        raise _bad(path, "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise _bad(path, f"invalid JSON at line {exc.lineno}: {exc.msg}") from None
    except RecursionError:
        raise _bad(path, "JSON nested too deeply") from None
    if not isinstance(doc, dict) or doc.get("schema") not in SCHEMAS:
        found = doc.get("schema") if isinstance(doc, dict) else None
        raise _bad(path, f"schema {found!r}")
    findings = doc.get("findings")
    if not isinstance(findings, list):
        raise _bad(path, "no 'findings' list")
    return [_finding_of(item, path, n) for n, item in enumerate(findings, start=1)]


# --- the diff ------------------------------------------------------------------------------------

def _status(f: Finding, base: _Index) -> str:
    ids = _record_ids(f)
    if ids is not None and _group(f) in base.record_groups:
        return "open" if set(ids) <= base.records else "new"
    # records not identifiable here or in the baseline: the finding as a whole
    return "open" if _finding_key(f) in base.findings else "new"


def _resolved(baseline: list[Finding], current: _Index) -> list[Finding]:
    out = []
    for b in baseline:
        ids = _record_ids(b)
        group = _group(b)
        if ids is not None and (group in current.record_groups or group not in current.groups):
            gone = [r for r, i in zip(b.records, ids, strict=True) if i not in current.records]
            if gone:
                count = b.count if len(gone) == len(b.records) else len(gone)
                out.append(with_records(b, gone, count, status="resolved", waiver=""))
        elif _finding_key(b) not in current.findings:
            out.append(replace(b, status="resolved", waiver=""))
    return out


def compare(report: Report, baseline: list[Finding], name: str) -> Report:
    """report with each finding marked new/open against the baseline findings, the resolved
    ones listed and `name` (the baseline file) recorded."""
    base = _Index.of(baseline)
    findings = [replace(f, status=_status(f, base)) for f in report.findings]
    return replace(report, findings=findings, baseline=name,
                   resolved=_resolved(baseline, _Index.of(report.findings)))


def apply_baseline(report: Report, previous_json_path: Path) -> Report:
    """Mark each finding "new" or "open" against a previous report.json, list the resolved."""
    return compare(report, load_baseline(previous_json_path), str(previous_json_path))
