"""Read raw EDC exports (CSV, SAS XPT, SAS7BDAT) into string tables that remember their rows.

Every table gets two bookkeeping columns: ``__file`` (file name) and ``__row`` (1-based data row,
the header not counted). Text stays text: no type guessing, no NA-string guessing ("NA" is a value).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from cdisc.errors import InputError
from cdisc.io.xpt import check_whole_records, shared_text

FILE_COL = "__file"
ROW_COL = "__row"
READERS = (".csv", ".xpt", ".sas7bdat", ".xml")


def read_header(path: Path, form: str | None = None) -> list[str]:
    """Column names only, so a mapping can be checked before any data is read. `form`: the
    FormOID to read from a CDISC ODM XML export (one file holds every form)."""
    _check_file(path)
    suffix = path.suffix.lower()
    if suffix == ".xml":
        from cdisc.io.odm import odm_form_columns

        return odm_form_columns(path, form)
    if suffix == ".csv":
        text = _decode(path, limit=65536)
        first = text.splitlines()[0] if text.strip() else ""
        if not first:
            raise InputError("file is empty (no header line)", file=path.name)
        header = next(csv.reader([first]))
        _check_header(header, path)
        return header
    if suffix in (".xpt", ".sas7bdat"):
        _, meta = _read_sas(path, metadata_only=True)
        return list(meta.column_names)
    raise InputError(f"unsupported raw file type {suffix!r} (expected {', '.join(READERS)})",
                     file=path.name)


def read_raw(path: Path, form: str | None = None) -> pd.DataFrame:
    """Read one raw export (one form of an ODM XML export); every cell a str ('' when empty)
    except SAS numerics and dates."""
    _check_file(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        df = _read_csv(path)
    elif suffix == ".xml":
        from cdisc.io.odm import read_odm_form

        df = read_odm_form(path, form)
    elif suffix in (".xpt", ".sas7bdat"):
        df, _ = _read_sas(path)
    else:
        raise InputError(f"unsupported raw file type {suffix!r}", file=path.name)
    df.insert(0, ROW_COL, range(1, len(df) + 1))
    df.insert(0, FILE_COL, source_label(path.name, form))
    return df


def source_label(file: str, form: str | None) -> str:
    """How reports name a raw table: the file, or file#FormOID for one form of an ODM file."""
    return f"{file}#{form}" if form and file.lower().endswith(".xml") else file


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError("raw file not found", file=str(path))
    if not path.is_file():
        raise InputError("not a regular file (a folder?)", file=str(path))


def _decode(path: Path, limit: int | None = None) -> str:
    try:
        with path.open("rb") as fh:
            data = fh.read() if limit is None else fh.read(limit)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", file=path.name) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data[:nul].count(b"\n") + 1
        raise InputError(f"NUL byte at line {line}: binary data or UTF-16 text, not a UTF-8 "
                         "CSV export", file=path.name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if limit is not None and exc.start >= len(data) - 4:
            return data[: exc.start].decode("utf-8-sig")
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line} "
                         "(re-export the file as UTF-8)", file=path.name) from None


def _check_header(header: list[str], path: Path) -> None:
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise InputError(f"duplicate column names {dupes}", file=path.name, row=0)
    if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
        raise InputError("only one column found: the file does not look comma-separated",
                         file=path.name, row=0)


def _read_csv(path: Path) -> pd.DataFrame:
    text = _decode(path)
    if not text.strip():
        raise InputError("file is empty (no header line)", file=path.name)
    header = next(csv.reader([text.splitlines()[0]]))
    _check_header(header, path)
    try:
        bad = _ragged_rows(text, len(header))
    except InputError as exc:
        exc.file = path.name
        raise
    if bad is not None:
        raise InputError(f"row has {bad[1]} fields, header has {len(header)}",
                         file=path.name, row=bad[0])
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False,
                         engine="c")
    except (pd.errors.ParserError, ValueError) as exc:
        unclosed = re.search(r"EOF inside string starting at row (\d+)", str(exc))
        if unclosed:
            raise InputError("unclosed quote: a quoted field starts in this row and never ends "
                             "(truncated export?)", file=path.name,
                             row=int(unclosed.group(1))) from None
        detail = " ".join(str(exc).split())
        raise InputError(f"cannot parse CSV: {detail}", file=path.name) from None
    del text
    # one str object per distinct value and column, not one per cell: a lab export of
    # millions of rows repeats a few thousand values
    return pd.DataFrame({c: shared_text(df[c]) for c in df.columns}, index=df.index)


def _ragged_rows(text: str, width: int) -> tuple[int, int] | None:
    """First data row whose field count differs from the header's (pandas pads short rows).
    A quote left open at the end of the file (a cut-off export) is an error naming its row."""
    done = 0  # records read so far (the header is record 0)
    try:
        for number, fields in enumerate(csv.reader(io.StringIO(text), strict=True)):
            if number and fields and len(fields) != width:
                return number, len(fields)
            done = number + 1
        return None
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise InputError("unclosed quote: a quoted field starts in this row and the file "
                             "ends inside it (truncated export?)", row=done) from None
    # strict mode refuses quirks pandas accepts (text after a closing quote): count loosely
    for number, fields in enumerate(csv.reader(io.StringIO(text))):
        if number and fields and len(fields) != width:
            return number, len(fields)
    return None


def _read_sas(path: Path, metadata_only: bool = False):  # type: ignore[no-untyped-def]
    import pyreadstat

    size = path.stat().st_size
    if size == 0:
        raise InputError("file is empty (0 bytes)", file=path.name)
    xpt = path.suffix.lower() == ".xpt"
    if xpt:
        check_whole_records(path, size)
    reader = pyreadstat.read_xport if xpt else pyreadstat.read_sas7bdat
    try:
        df, meta = reader(str(path), metadataonly=metadata_only)
    except Exception as exc:  # pyreadstat raises several private exception types
        detail = " ".join(str(exc).split())
        raise InputError(f"cannot read SAS file (corrupt, truncated or not SAS?): {detail}",
                         file=path.name) from None
    for col in df.columns:
        if df[col].dtype != "float64" and not str(df[col].dtype).startswith("datetime"):
            df[col] = shared_text(df[col])
    return df, meta
