"""One exception hierarchy. The CLI turns every CdiscError into a one-line message and an exit code."""

from __future__ import annotations


class CdiscError(Exception):
    """Base class. ``exit_code`` is what the CLI exits with."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.row = row
        self.column = column
        self.value = value

    def one_line(self) -> str:
        """The message with its location, on one line: 'file:row: column 'X': message'."""
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        text = self.message
        if self.value is not None:
            text = f"{text} (value {self.value!r})"
        text = text.replace("\n", " ")
        return f"{', '.join(where)}: {text}" if where else text


class InputError(CdiscError):
    """Raw input that cannot be read or does not have the shape a mapping needs."""


class SpecError(CdiscError):
    """A mapping, spec or config file that is malformed or refers to something missing."""


class OutputError(CdiscError):
    """An output that cannot be written within the standard's limits (XPT v5, Define-XML)."""


class ConformanceError(CdiscError):
    """Data that breaks a rule the output format enforces (e.g. non-ASCII text in an XPT)."""


class ReconciliationError(CdiscError):
    """Raw rows that are neither mapped, rejected with a reason nor dropped by a named filter.
    The outputs are written (so reconciliation.csv can be read); the run still fails."""

    exit_code = 1
