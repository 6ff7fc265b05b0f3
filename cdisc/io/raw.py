"""Read raw EDC exports (CSV, SAS XPT, SAS7BDAT) into string tables that remember their rows.

Every table gets two bookkeeping columns: ``__file`` (file name) and ``__row`` (1-based data row,
the header not counted). Text stays text: no type guessing, no NA-string guessing ("NA" is a value).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from cdisc.errors import InputError
from cdisc.io.xpt import check_whole_records
from cdisc.text import shared_text

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
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = bom + exc.start  # the decoder counts from after the byte-order mark
        if limit is not None and at >= len(data) - 4:
            return data[bom:at].decode("utf-8")
        line = data[:at].count(b"\n") + 1
        raise InputError(f"not UTF-8 text: byte 0x{data[at]:02x} at line {line} "
                         "(re-export the file as UTF-8)", file=path.name) from None


def _check_header(header: list[str], path: Path) -> None:
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise InputError(f"duplicate column names {dupes}", file=path.name, row=0)
    if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
        raise InputError("only one column found: the file does not look comma-separated",
                         file=path.name, row=0)


# ---------------------------------------------------------------------------------------------
# CSV. The reference reader (_read_csv_text) decodes the whole file and runs the csv module over
# every record before pandas parses the text again, then merges equal cells column by column;
# together several times the parse itself. Now _scan_csv finds the reference's answers from the
# bytes, a chunk at a time (NUL and UTF-8 checks, header, ragged rows, unclosed quote; the
# record structure with numpy), and pandas parses the file itself, sharing equal cells as it
# goes. Wherever the scan cannot be sure it agrees with the csv module -- a NUL or non-UTF-8
# byte, no text, a quote inside an unquoted field, text after a closing quote, a CR not before a
# LF, a field over csv.field_size_limit() -- or pandas fails, the reference reader answers, every
# message and quirk as before.

_SCAN_CHUNK = 1 << 20  # bytes per scan step: small enough to stay in the CPU caches
_BOM = b"\xef\xbb\xbf"
_QUOTE, _COMMA, _LF, _CR = 0x22, 0x2C, 0x0A, 0x0D
_UNCLOSED_AT_END = ("unclosed quote: a quoted field starts in this row and the file ends inside "
                    "it (truncated export?)")


def _read_csv(path: Path) -> pd.DataFrame:
    scan = _scan_file(path)
    if scan is None:
        return _read_csv_text(path)
    _check_header(scan.header, path)
    if scan.unclosed is not None:
        raise InputError(_UNCLOSED_AT_END, file=path.name, row=scan.unclosed)
    if scan.ragged is not None:
        row, fields = scan.ragged
        raise InputError(f"row has {fields} fields, header has {len(scan.header)}",
                         file=path.name, row=row)
    df = _parse_shared(path)
    if (df is None or not isinstance(df.index, pd.RangeIndex) or df.shape[1] != len(scan.header)
            or any(dtype != object for dtype in df.dtypes)):
        del df  # pandas failed, or guessed an index column, or took another line as header
        return _read_csv_text(path)
    return df


def _parse_shared(path: Path) -> pd.DataFrame | None:
    """The file parsed by pandas' C parser straight from its bytes, every cell a str, one str
    object per distinct value and column (what shared_text makes). Read in one go
    (low_memory=False), the parser boxes all of a column's cells through one table of the
    values seen, so they come out shared already. None if pandas fails: then the reference
    reader gives its error (or its quirk) as always."""
    try:
        with path.open("rb") as fh:
            if fh.read(len(_BOM)) != _BOM:  # utf-8-sig drops one BOM (pandas a second, as before)
                fh.seek(0)
            return pd.read_csv(fh, dtype=object, keep_default_na=False, na_filter=False,
                               engine="c", encoding="utf-8", compression=None, low_memory=False)
    except Exception:  # noqa: BLE001 - whatever it is, the reference reader reproduces it
        return None


@dataclass
class _Scan:
    header: list[str]
    ragged: tuple[int, int] | None = None  # (1-based data row, fields) of the first ragged row
    unclosed: int | None = None  # row where a quoted field opens that the file ends inside


def _scan_file(path: Path) -> _Scan | None:
    try:
        with path.open("rb") as fh:
            return _scan_csv(fh)
    except OSError:
        return None  # the reference reader reports it


def _scan_csv(fh: BinaryIO, chunk_size: int = _SCAN_CHUNK) -> _Scan | None:
    """What the reference reader finds in the CSV bytes read from `fh` (header, first ragged
    row, unclosed quote at the end), or None when only the reference reader can tell: a NUL
    or non-UTF-8 byte, no text, or bytes that are not plain CSV (see _Records)."""
    scan: _Scan | None = None
    records: _Records | None = None
    content = False  # anything but white space (the reference's text.strip())
    for chunk, last in _newline_chunks(fh, chunk_size):
        if b"\x00" in chunk:
            return None
        text = None
        if not chunk.isascii():
            try:
                text = chunk.decode("utf-8" if scan else "utf-8-sig")
            except UnicodeDecodeError:
                return None
        if not content:
            text = chunk.decode("utf-8" if scan else "utf-8-sig") if text is None else text
            content = bool(text) and not text.isspace()
        del text
        start = 0
        if scan is None:
            start = len(_BOM) if chunk.startswith(_BOM) else 0
            header = _first_line_header(chunk, start)
            if header is None:
                return None
            scan = _Scan(header)
            records = _Records(len(header), csv.field_size_limit())
        assert records is not None
        if not records.done and not records.feed(chunk, start, last):
            return None
    if scan is None or records is None or not content:
        return None
    scan.ragged, scan.unclosed = records.ragged, records.unclosed
    return scan


def _first_line_header(chunk: bytes, start: int) -> list[str] | None:
    """The reference's header, next(csv.reader([text.splitlines()[0]])), from the first chunk
    (it holds the first LF, or the whole file). None if that raises."""
    end = chunk.find(b"\n")
    line = chunk[start: len(chunk) if end < 0 else end + 1].decode("utf-8")
    try:
        return next(csv.reader([line.splitlines()[0]]))
    except Exception:  # noqa: BLE001 - csv.Error (a field over the limit), IndexError (no text)
        return None


def _newline_chunks(fh: BinaryIO, size: int) -> Iterator[tuple[bytes, bool]]:
    """(bytes, last): the file in pieces of about `size` bytes, each ending with a LF but the
    last one (whatever follows the last LF, often b""). So no UTF-8 sequence is cut, and each
    piece but the first starts a line."""
    parts: list[bytes] = []  # the bytes after the last LF so far
    while True:
        block = fh.read(size)
        if not block:
            yield b"".join(parts), True
            return
        cut = block.rfind(b"\n") + 1
        if not cut:  # a line longer than size
            parts.append(block)
            continue
        if parts:
            parts.append(block[:cut])
            yield b"".join(parts), False
        else:
            yield (block if cut == len(block) else block[:cut]), False
        parts = [block[cut:]] if cut < len(block) else []


class _Records:
    """The csv module's records (fields per record, the unclosed quote at the end) counted from
    the bytes, chunk by chunk, for plain CSV: every quote opens a field or closes one (a doubled
    quote inside a quoted field opens and closes), outside quotes CR only before LF, and no
    field over the csv field size limit. Then inside quotes is an odd number of quotes so far,
    separators and record ends are commas and LFs outside quotes, and a record with no bytes or
    just CR is a blank line (csv yields [], the reference skips it but counts it as a row).
    feed() returns False where the bytes are not plain CSV."""

    def __init__(self, width: int, limit: int) -> None:
        self.width, self.limit = width, limit
        self.quoted = 0  # 1 inside a quoted field after the bytes fed so far
        self.record = 0  # records ended so far: the open record's number (the header is 0)
        self.commas = 0  # separators in the open record so far
        self.fresh = True  # the open record has no bytes yet
        self.field = 0  # bytes of the open field so far
        self.line = 0  # bytes of the open record so far
        self.ragged: tuple[int, int] | None = None
        self.unclosed: int | None = None

    @property
    def done(self) -> bool:
        return self.ragged is not None  # the reference stops at the first ragged row

    def feed(self, chunk: bytes, start: int, last: bool) -> bool:
        """Take chunk[start:], which ends with a LF unless it is the last chunk."""
        a = np.frombuffer(chunk, dtype=np.uint8)[start:]
        n = len(a)
        quotes = np.flatnonzero(a == _QUOTE) if chunk.find(b'"', start) >= 0 else a[:0]
        plain = not (len(quotes) or self.quoted)
        if not plain and not self._quotes_plain(a, quotes, last):
            return False
        if chunk.find(b"\r", start) >= 0:
            cr = self._outside(np.flatnonzero(a == _CR), quotes, plain)
            if len(cr) and (cr[-1] + 1 >= n or not np.all(a[cr + 1] == _LF)):
                return False
        marks = self._outside(np.flatnonzero((a == _COMMA) | (a == _LF)), quotes, plain)
        ends_at = np.flatnonzero(a[marks] == _LF)  # record ends, as indexes into marks
        ends = marks[ends_at]
        if not self._fields_fit(n, marks, ends):
            return False
        if len(ends):
            commas = np.empty(len(ends), dtype=np.intp)
            commas[0] = self.commas + ends_at[0]
            commas[1:] = np.diff(ends_at) - 1
            size = np.empty(len(ends), dtype=np.intp)  # bytes before the LF
            size[0] = ends[0] if self.fresh else 2  # a record begun before holds a quote
            size[1:] = np.diff(ends) - 1
            blank = (size == 0) | ((size == 1) & (a[ends - 1] == _CR))
            number = np.arange(self.record, self.record + len(ends))
            bad = np.flatnonzero(~blank & (commas + 1 != self.width) & (number > 0))
            if len(bad):
                self.ragged = (int(number[bad[0]]), int(commas[bad[0]]) + 1)
                return True
            self.record += len(ends)
            self.commas = len(marks) - 1 - int(ends_at[-1])
            self.fresh = bool(ends[-1] == n - 1)
        else:
            self.commas += len(marks)
            self.fresh = self.fresh and n == 0
        self.quoted = (self.quoted + len(quotes)) & 1
        if last:
            if self.quoted:
                self.unclosed = self.record
            elif not self.fresh and self.record and self.commas + 1 != self.width:
                self.ragged = (self.record, self.commas + 1)  # the last record, with no LF
        return True

    def _outside(self, at: np.ndarray, quotes: np.ndarray, plain: bool) -> np.ndarray:
        """The positions `at` that are outside quotes."""
        if plain:
            return at
        return at[((np.searchsorted(quotes, at) + self.quoted) & 1) == 0]

    def _quotes_plain(self, a: np.ndarray, quotes: np.ndarray, last: bool) -> bool:
        """Each quote that opens a field starts it (follows a comma, a LF, the start of the text
        or -- doubled quote -- the quote that just closed), each quote that closes is followed
        by a quote, comma, CR, LF or the end of the file."""
        closing = ((np.arange(len(quotes)) + self.quoted) & 1).astype(bool)
        opening = quotes[~closing]
        before = a[opening[opening > 0] - 1]
        if not np.all((before == _COMMA) | (before == _LF) | (before == _QUOTE)):
            return False
        closers = quotes[closing]
        if len(closers) and closers[-1] == len(a) - 1:
            if not last:
                return False
            closers = closers[:-1]
        after = a[closers + 1]
        return bool(np.all((after == _QUOTE) | (after == _COMMA) | (after == _LF)
                           | (after == _CR)))

    def _fields_fit(self, n: int, marks: np.ndarray, ends: np.ndarray) -> bool:
        """No field over the csv module's field size limit (it counts characters, at most the
        bytes between separators); track the open field and record into the next chunk."""
        longest = self.line + n
        if len(ends):
            longest = max(self.line + int(ends[0]), n - int(ends[-1]) - 1)
            if len(ends) > 1:
                longest = max(longest, int(np.diff(ends).max()) - 1)
            self.line = n - int(ends[-1]) - 1
        else:
            self.line += n
        if len(marks):
            if longest > self.limit:  # a long record: look at its fields
                gaps = np.diff(marks)
                if self.field + int(marks[0]) > self.limit or (
                        len(gaps) and int(gaps.max()) - 1 > self.limit):
                    return False
            self.field = n - int(marks[-1]) - 1
        else:
            self.field += n
        return self.field <= self.limit


def _read_csv_text(path: Path) -> pd.DataFrame:
    """The reference reader: the whole file decoded to text and every record parsed with the
    csv module, then by pandas. Slow; used only for files the byte scan cannot vouch for
    (see _read_csv), so that every error and every quirk comes out as it always has."""
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
            raise InputError(_UNCLOSED_AT_END, row=done) from None
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
