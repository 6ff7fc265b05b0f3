"""Waivers: findings the sponsor has reviewed and accepts, with a justification (for the SDRG).

waivers.yaml is a list of entries, read with the project's safe YAML loader:

    - rule: CD0001            # the finding's rule id, or one of its references ("CG0069")
      dataset: AE             # the finding's dataset (case-insensitive)
      where:                  # optional: which records; without it, every finding of
        USUBJID: CDISC01-001  #   rule/dataset is waived
        AESEQ: [3, 4]         # a list: any of these values
      justification: Duplicate reported by the site, query closed
      author: J. Smith
      date: 2024-05-01        # ISO 8601 date

`where` is a plain mapping VARIABLE -> value or list of values; every variable must match
(AND), a list matches any of its values (OR). It is matched against a record's fields, never
evaluated: USUBJID is the record's USUBJID, the record's key ("AESEQ=3, AETERM=...") gives
its key variables, and the offending value gives the rule's variables ("AESTDY=0"; a plain
value is the finding's variable). A variable the record does not carry does not match. A text
value matches exactly (after trimming blanks); a number also matches the same number written
differently ("3.0"). YAML booleans (yes/no/on/off unquoted) are refused: quote them.

A finding of which only some records match is split: the matched records are waived, the rest
(and records beyond those the finding carries, unknown here) are not. The first matching
waiver in file order wins. Waived findings never count toward --fail-on/--fail-on-new; each
waiver that matched nothing is reported.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from pathlib import Path

from cdisc.errors import InputError, SpecError
from cdisc.validate.model import Finding, Record
from cdisc.validate.report import Report, shown_records, with_records

FIELDS = ("rule", "dataset", "where", "justification", "author", "date")
REQUIRED = ("rule", "dataset", "justification", "author", "date")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
_PAIR_SPLIT = re.compile(r", (?=[A-Za-z_][A-Za-z0-9_]*=)")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Scalar = str | int | float


@dataclass(frozen=True)
class Waiver:
    entry: int  # 1-based position in the file
    rule: str
    dataset: str
    where: tuple[tuple[str, tuple[Scalar, ...]], ...]  # (VARIABLE, allowed values), sorted
    justification: str
    author: str
    date: str

    def as_dict(self) -> dict:
        return {"entry": self.entry, "rule": self.rule, "dataset": self.dataset,
                "where": {k: (list(v) if len(v) > 1 else v[0]) for k, v in self.where},
                "justification": self.justification, "author": self.author, "date": self.date}


# --- reading -------------------------------------------------------------------------------------

def _entry_lines(path: Path) -> list[int]:
    """1-based line of each top-level entry (for messages), [] when not a YAML list."""
    import yaml

    try:
        node = yaml.compose(path.read_text(encoding="utf-8-sig"),
                            Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return []
    if isinstance(node, yaml.SequenceNode):
        return [item.start_mark.line + 1 for item in node.value]
    return []


def _scalar(value: object, what: str, fail) -> Scalar:  # type: ignore[no-untyped-def]
    if isinstance(value, bool):
        raise fail(f"{what}: {value!r} is a YAML boolean; quote it (e.g. \"Y\", \"NO\")")
    if isinstance(value, (str, int, float)):
        return value.strip() if isinstance(value, str) else value
    raise fail(f"{what}: must be a text or a number, not {type(value).__name__}")


def _where(value: object, fail) -> tuple[tuple[str, tuple[Scalar, ...]], ...]:  # type: ignore[no-untyped-def]
    if value is None:
        return ()
    if not isinstance(value, dict) or not value:
        raise fail("'where' must be a mapping of VARIABLE: value (or a list of values)")
    out = []
    for name, allowed in value.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise fail(f"'where': {name!r} is not a variable name")
        values = allowed if isinstance(allowed, list) else [allowed]
        if not values:
            raise fail(f"'where': {name}: empty list of values")
        out.append((name.upper(), tuple(_scalar(v, f"'where': {name}", fail) for v in values)))
    return tuple(sorted(out, key=lambda x: x[0]))


def _date(value: object, fail) -> str:  # type: ignore[no-untyped-def]
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise fail(f"'date': {value!r} is not an ISO 8601 date (YYYY-MM-DD)")


def load_waivers(path: Path) -> list[Waiver]:
    """The waivers of a waivers.yaml (see the module doc). InputError naming the file and the
    entry for anything missing or malformed."""
    from cdisc.yamlsafe import load_yaml

    path = Path(path)
    if not path.is_file():
        raise InputError("waivers file not found", file=str(path))
    try:
        data = load_yaml(path)
    except SpecError as exc:
        raise InputError(exc.message, file=exc.file, row=exc.row) from None
    if data is None:
        return []
    if not isinstance(data, list):
        raise InputError("waivers must be a YAML list of entries (- rule: ..., dataset: ...)",
                         file=str(path))
    lines = _entry_lines(path)
    waivers = []
    for n, item in enumerate(data, start=1):
        row = lines[n - 1] if len(lines) >= n else None

        def fail(message: str, n: int = n, row: int | None = row) -> InputError:
            return InputError(f"waiver {n}: {message}", file=str(path), row=row)

        waivers.append(waiver_of(item, n, fail))
    return waivers


def waiver_of(item: object, n: int, fail=None) -> Waiver:  # type: ignore[no-untyped-def]
    """The n-th waiver from one entry (a waivers.yaml item, or Waiver.as_dict()); `fail` makes
    the InputError for a malformed entry."""
    if fail is None:
        def fail(message: str) -> InputError:
            return InputError(f"waiver {n}: {message}")
    if not isinstance(item, dict):
        raise fail("not a mapping (rule, dataset, justification, author, date)")
    unknown = sorted(str(k) for k in item if k not in FIELDS)
    if unknown:
        raise fail(f"unknown field {unknown[0]!r} (fields: {', '.join(FIELDS)})")
    for name in REQUIRED:
        value = item.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise fail(f"missing {name!r}")
    for name in ("rule", "dataset", "justification", "author"):
        if not isinstance(item[name], str):
            raise fail(f"{name!r} must be text")
    return Waiver(n, item["rule"].strip(), item["dataset"].strip().upper(),
                  _where(item.get("where") or None, fail), item["justification"].strip(),
                  item["author"].strip(), _date(item["date"], fail))


# --- matching ------------------------------------------------------------------------------------

def _pairs(text: str) -> dict[str, str] | None:
    """"A=1, B=x" -> {"A": "1", "B": "x"}; None when text is not in that form."""
    if not text:
        return {}
    parts = _PAIR_SPLIT.split(text)
    out = {}
    for part in parts:
        name, sep, value = part.partition("=")
        if not sep or not _NAME.match(name):
            return None
        out[name.upper()] = value.strip()
    return out


def record_fields(f: Finding, r: Record) -> dict[str, str]:
    """The variables a waiver's `where` can name for one record of f."""
    fields: dict[str, str] = {}
    values = _pairs(r.value)
    if values is None or (not values and r.value):
        if f.variable and "," not in f.variable:
            fields[f.variable.upper()] = r.value.strip()
    else:
        fields.update(values)
    fields.update(_pairs(r.key) or {})
    if r.usubjid:
        fields["USUBJID"] = r.usubjid.strip()
    return fields


def _same(given: str, wanted: Scalar) -> bool:
    if isinstance(wanted, str):
        return given == wanted
    try:
        return float(given) == float(wanted)
    except ValueError:
        return False


def matches(waiver: Waiver, f: Finding, r: Record) -> bool:
    fields = record_fields(f, r)
    return all(name in fields and any(_same(fields[name], v) for v in allowed)
               for name, allowed in waiver.where)


def applies(waiver: Waiver, f: Finding) -> bool:
    """The waiver is for the finding's rule (CORE or CDISC/FDA id) and dataset."""
    if waiver.dataset != f.dataset.upper():
        return False
    refs = {x.strip().upper() for x in (f.reference or "").split(",") if x.strip()}
    return waiver.rule.upper() == f.rule.upper() or waiver.rule.upper() in refs


def _split(f: Finding, waiver: Waiver) -> tuple[Finding | None, Finding | None, int]:
    """(waived part, rest, records waived)."""
    if not waiver.where:
        return replace(f, waiver=waiver.justification), None, f.count
    records = shown_records(f)
    hit = [r for r in records if matches(waiver, f, r)]
    if not hit:
        return None, f, 0
    miss = [r for r in records if not matches(waiver, f, r)]
    hidden = max(0, f.count - len(records))  # records the finding does not carry: not waived
    waived = with_records(f, hit, len(hit), waiver=waiver.justification)
    rest = with_records(f, miss, len(miss) + hidden) if miss or hidden else None
    return waived, rest, len(hit)


def apply_waivers(report: Report, waivers: list[Waiver]) -> Report:
    """report with Finding.waiver set on the findings (or the parts of findings) waivers
    match, and report.waivers listing every waiver with what it matched."""
    used = {w.entry: [0, 0] for w in waivers}
    out: list[Finding] = []
    for f in report.findings:
        if f.waiver:
            out.append(f)
            continue
        pending = [f]
        for w in waivers:
            left = []
            for part in pending:
                if not applies(w, part):
                    left.append(part)
                    continue
                waived, rest, n = _split(part, w)
                if waived is not None:
                    out.append(waived)
                    used[w.entry][0] += 1
                    used[w.entry][1] += n
                if rest is not None:
                    left.append(rest)
            pending = left
        out += pending
    listed = [{**w.as_dict(), "matched_findings": used[w.entry][0],
               "matched_records": used[w.entry][1]} for w in waivers]
    return replace(report, findings=out, waivers=listed)
