"""The row ledger: what happened to every raw row, and every value a data manager must query.

Each raw row ends up mapped (it is in SDTM), filtered (left out by a named filter of the mapping,
e.g. an infusion recorded as not given), rejected (left out because it is not data about a
subject: no subject identifier, a subject unknown to DM, a second demographics row) or unused.
A value that could not be mapped as collected never drops its record: the record is kept with
what is reliable in the value, and the value is listed as a data issue with its query.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cdisc.io.raw import FILE_COL, ROW_COL
from cdisc.text import text_column

REJECT_COLUMNS = ["domain", "block", "file", "row", "column", "value", "reason"]
ISSUE_COLUMNS = ["file", "row", "subject", "domain", "variable", "column", "value", "issue",
                 "query"]
# row states in rank order: a later state beats an earlier one when blocks disagree
STATES = ("unused", "filtered", "rejected", "mapped")


def _text(values: pd.Series) -> np.ndarray:
    return text_column(values).to_numpy()


@dataclass
class Ledger:
    """Status of every raw row (one small integer per row) and the data-issue listing."""

    status: dict[str, np.ndarray] = field(default_factory=dict)
    filters: dict[str, np.ndarray] = field(default_factory=dict)  # filter name per row
    files: dict[str, str] = field(default_factory=dict)
    rejects: list[pd.DataFrame] = field(default_factory=list)
    issues: list[pd.DataFrame] = field(default_factory=list)

    def add_source(self, alias: str, file: str, n: int) -> None:
        self.status[alias] = np.zeros(n, dtype=np.int8)
        self.filters[alias] = np.full(n, "", dtype=object)
        self.files[alias] = file

    def mark(self, alias: str, rows: pd.Series, state: str) -> None:
        """Set 'mapped', 'rejected' or 'filtered:<name>' on 1-based raw rows, unless a row
        already has a state that beats it ('mapped' beats 'rejected' beats 'filtered')."""
        kind, _, name = state.partition(":")
        rank = STATES.index(kind)
        # repeated rows need no np.unique (a sort): assigning the same state twice is harmless
        positions = np.asarray(rows, dtype=np.int64) - 1
        current = self.status[alias]
        better = positions[current[positions] < rank]
        current[better] = rank
        if kind == "filtered":
            self.filters[alias][better] = name

    def not_rejected(self, alias: str) -> np.ndarray:
        return self.status[alias] != STATES.index("rejected")

    def reject(self, alias: str, domain: str, block: str, frame: pd.DataFrame, column: str,
               values: pd.Series, reason: pd.Series | str) -> None:
        """Leave these raw rows out (not data about a known subject), each with its reason."""
        if frame.empty:
            return
        self.rejects.append(pd.DataFrame({
            "domain": domain, "block": block, "file": frame[FILE_COL].to_numpy(),
            "row": frame[ROW_COL].to_numpy(), "column": column, "value": _text(values),
            "reason": reason if isinstance(reason, str) else reason.to_numpy()}))
        self.mark(alias, frame[ROW_COL], "rejected")

    def query(self, domain: str, variable: str, frame: pd.DataFrame, subjects: pd.Series,
              column: str, values: pd.Series, issue: pd.Series | str,
              query: pd.Series | str) -> None:
        """List kept records' values that a data manager must query with the site."""
        if frame.empty:
            return
        self.issues.append(pd.DataFrame({
            "file": frame[FILE_COL].to_numpy(), "row": frame[ROW_COL].to_numpy(),
            "subject": _text(subjects), "domain": domain, "variable": variable,
            "column": column, "value": _text(values),
            "issue": issue if isinstance(issue, str) else _text(issue),
            "query": query if isinstance(query, str) else _text(query)}))

    def reject_table(self) -> pd.DataFrame:
        return _sorted(self.rejects, REJECT_COLUMNS)

    def issue_table(self) -> pd.DataFrame:
        """One line per raw value and issue; the variables it feeds joined ('EXSTDTC EXENDTC')."""
        table = _sorted(self.issues, ISSUE_COLUMNS)
        if table.empty:
            return table
        keys = [c for c in ISSUE_COLUMNS if c not in ("domain", "variable", "query")]
        grouped = table.groupby(keys, sort=False, dropna=False).agg(
            domain=("domain", lambda v: " ".join(sorted(set(v)))),
            variable=("variable", lambda v: " ".join(sorted({x for x in v if x}))),
            query=("query", "first"))
        return grouped.reset_index()[ISSUE_COLUMNS]

    def reconciliation(self) -> pd.DataFrame:
        rows = []
        for alias, status in self.status.items():
            counts = np.bincount(status, minlength=len(STATES))
            filters = pd.Series(self.filters[alias][status == 1]).value_counts()
            rows.append({"file": self.files[alias], "read": len(status),
                         **{state: int(counts[STATES.index(state)])
                            for state in ("mapped", "rejected", "filtered", "unused")},
                         "filters": "; ".join(f"{k}: {v}" for k, v in sorted(filters.items()))})
        return pd.DataFrame(rows).sort_values("file").reset_index(drop=True)


def _sorted(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(columns=columns)
    df = pd.concat(parts, ignore_index=True)[columns]
    keys = [c for c in ("file", "row", "column", "variable") if c in columns]
    return df.sort_values(keys, kind="stable").drop_duplicates().reset_index(drop=True)
