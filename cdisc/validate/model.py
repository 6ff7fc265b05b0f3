"""A finding: one rule broken in one dataset (and variable), with the offending records.

Every finding carries its records (row number, USUBJID, the record's key values and the
offending value), at most MAX_RECORDS of them; `count` is always the full number. The key
values identify a record across data cuts (row numbers move), so a baseline diff matches
findings by (rule, dataset, variable, USUBJID, key)."""

from __future__ import annotations

from dataclasses import dataclass, field

# reject: an FDA Technical Rejection Criterion is broken (the gateway refuses the package)
SEVERITIES = ("reject", "error", "warning", "notice")
MAX_ROWS = 20  # rows shown in console/HTML/JUnit text
MAX_RECORDS = 1000  # records kept per finding in the reports


@dataclass(frozen=True)
class Record:
    row: int  # 1-based record number in the dataset (0 for a dataset-level finding)
    usubjid: str = ""
    key: str = ""  # the record's natural key values, e.g. "AESEQ=3" (stable across cuts)
    value: str = ""  # the offending value(s), "VAR=value, VAR2=value"

    def as_dict(self) -> dict:
        return {"row": self.row, "usubjid": self.usubjid, "key": self.key, "value": self.value}


@dataclass(frozen=True)
class Finding:
    rule: str  # rule id: "CORE-000001", "CD0001", "TRC1734", "GX.REQ.POPULATED", ...
    severity: str  # error | warning | notice
    dataset: str  # e.g. "DM"
    variable: str | None
    message: str
    count: int  # offending records (or 1 for a dataset-level finding)
    rows: tuple[int, ...] = field(default=())  # 1-based record numbers, the first 20
    values: tuple[str, ...] = field(default=())  # the offending values of those rows
    reference: str | None = None  # the CDISC/FDA rule ids, e.g. "CG0069, FB0611"
    records: tuple[Record, ...] = field(default=())  # up to MAX_RECORDS, see Record
    status: str = ""  # against a baseline: new | open ("" without --baseline)
    waiver: str = ""  # the justification when a waiver matches

    def as_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "dataset": self.dataset,
                "variable": self.variable, "message": self.message, "count": self.count,
                "rows": list(self.rows), "values": list(self.values),
                "reference": self.reference,
                "records": [r.as_dict() for r in self.records],
                "status": self.status, "waiver": self.waiver}


RULE_STATUSES = ("failed", "passed", "skipped", "not executable")


@dataclass(frozen=True)
class RuleRun:
    """What became of one rule of the catalogue on this package."""

    rule: str  # "CORE-000001", "CD0004", "TRC1734", "GX.REQ.POPULATED"
    reference: str  # CDISC/FDA ids, e.g. "CG0176, TIG0405"
    description: str  # the rule's message
    severity: str
    status: str  # one of RULE_STATUSES
    reason: str = ""  # why skipped / not executable
    datasets: tuple[str, ...] = ()  # datasets it ran on (or would have)

    def as_dict(self) -> dict:
        return {"rule": self.rule, "reference": self.reference,
                "description": self.description, "severity": self.severity,
                "status": self.status, "reason": self.reason, "datasets": list(self.datasets)}


def rank(severity: str) -> int:
    """reject 0, error 1, warning 2, notice 3 (lower is more severe)."""
    return SEVERITIES.index(severity)
