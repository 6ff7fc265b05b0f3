"""A finding: one rule broken in one dataset (and variable), with the offending rows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SEVERITIES = ("error", "warning", "notice")
MAX_ROWS = 20


@dataclass(frozen=True)
class Finding:
    rule: str  # our rule id, e.g. "SD0001" or "GX.expect_column_values_to_not_be_null"
    severity: str  # error | warning | notice
    dataset: str  # e.g. "DM"
    variable: str | None
    message: str
    count: int  # offending records (or 1 for a dataset-level finding)
    rows: tuple[int, ...] = field(default=())  # 1-based record numbers, the first 20
    values: tuple[str, ...] = field(default=())  # the offending values of those rows
    reference: str | None = None  # equivalent CDISC CORE / FDA validator rule id, if any

    def as_dict(self) -> dict:
        out = asdict(self)
        out["rows"] = list(self.rows)
        out["values"] = list(self.values)
        return out


def rank(severity: str) -> int:
    """error 0, warning 1, notice 2 (lower is more severe)."""
    return SEVERITIES.index(severity)
