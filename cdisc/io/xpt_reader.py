"""A vectorised reader of SAS transport version 5 (the XPT the FDA takes).

XPT v5 is fixed-width: 80-byte header records, one 140-byte NAMESTR per variable, then the
observations back to back, each the same length, padded with blanks to a whole 80-byte record.
So a block of rows is a 2-D byte array, a variable is a column slice of it, numbers are IBM
hexadecimal floats converted with numpy in one pass, and text is decoded once per distinct
value (every cell of a value shares one str object, which keeps lab domains small).

pyreadstat stays the oracle (tests read every file both ways) and the reader of everything
else: transport version 8 and files holding more than one member go to pyreadstat.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

RECORD = 80
LIBRARY_V5 = b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!"
MEMBER = b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!"
NAMESTR = b"HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!"
OBS = b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!"
# a block of observations is converted at a time: bounded memory for any file size
BLOCK_BYTES = 64 * 2**20
# first byte of a missing numeric: "." (plain), "_" and A-Z (special missing values)
_MISSING_FIRST = frozenset(b"._ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class NotVersion5(Exception):
    """The file is transport, but not a single-member version 5 file this reader handles."""


class XptFormatError(Exception):
    """The bytes are not a readable XPT v5 file (the message says where)."""

    def __init__(self, message: str, row: int | None = None, column: str | None = None) -> None:
        super().__init__(message)
        self.message, self.row, self.column = message, row, column


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    numeric: bool
    length: int
    position: int
    format: str


@dataclass(frozen=True)
class Header:
    table_name: str
    file_label: str
    variables: tuple[Variable, ...]
    row_length: int
    data_start: int

    def rows_in(self, size: int) -> int:
        """Whole observations in a file of `size` bytes (blank padding rows included)."""
        return (size - self.data_start) // self.row_length if self.row_length else 0


def _number(field: bytes, where: str) -> int:
    try:
        return int(field)
    except ValueError:
        raise XptFormatError(f"{where}: {field!r} is not a number") from None


def _text(raw: bytes) -> str:
    return raw.rstrip(b" \x00").decode("latin-1").rstrip()


def _format_name(name: str, width: int, decimals: int) -> str:
    """SAS's spelling of a display format: DATE9., $CHAR20., 8.2; "" when there is none."""
    if not name and not width:
        return ""
    return f"{name}{width or ''}.{decimals or ''}"


def read_header(fh: BinaryIO) -> Header:
    """The library, member and NAMESTR headers, up to the first observation."""
    head = fh.read(RECORD * 8)
    if len(head) < RECORD * 8 or not head.startswith(LIBRARY_V5):
        if b"LIBV8" in head[:RECORD]:
            raise NotVersion5("transport version 8")
        raise XptFormatError("no XPT v5 library header in the first record")
    member = head[RECORD * 3:RECORD * 4]
    if not member.startswith(MEMBER):
        raise XptFormatError("no member header in record 4")
    namestr_length = _number(member[74:78], "NAMESTR length in record 4")
    if namestr_length not in (136, 140):
        raise XptFormatError(f"NAMESTR length {namestr_length} in record 4 (140 expected)")
    descriptor = head[RECORD * 5:RECORD * 6]
    table_name = descriptor[8:16].decode("latin-1").strip()
    file_label = _text(head[RECORD * 6 + 32:RECORD * 6 + 72])
    namestr_header = head[RECORD * 7:RECORD * 8]
    if not namestr_header.startswith(NAMESTR):
        raise XptFormatError("no NAMESTR header in record 8")
    count = _number(namestr_header[54:58], "variable count in record 8")
    block = namestr_length * count
    block += -block % RECORD
    names = fh.read(block)
    if len(names) < block:
        raise XptFormatError(f"file ends inside the {count} variable descriptors")
    variables = tuple(_variable(names[i * namestr_length:(i + 1) * namestr_length])
                      for i in range(count))
    obs = fh.read(RECORD)
    if not obs.startswith(OBS):
        raise XptFormatError(f"no OBS header after the {count} variable descriptors")
    row_length = max((v.position + v.length for v in variables), default=0)
    return Header(table_name, file_label, variables, row_length, RECORD * 9 + block)


def _variable(raw: bytes) -> Variable:
    kind, _, length, _ = np.frombuffer(raw[:8], dtype=">i2")
    fmt_width, fmt_decimals = np.frombuffer(raw[64:68], dtype=">i2")
    position = int(np.frombuffer(raw[84:88], dtype=">i4")[0])
    name = raw[8:16].decode("latin-1").strip()
    if int(kind) not in (1, 2) or not 0 < int(length) <= 32767 or position < 0:
        raise XptFormatError(f"variable {name!r}: type {kind}, length {length}, "
                             f"position {position} in its NAMESTR")
    numeric = int(kind) == 1
    if numeric and not 2 <= int(length) <= 8:
        raise XptFormatError(f"numeric variable {name!r} has length {length} (2 to 8 allowed)")
    return Variable(name, _text(raw[16:56]), numeric, int(length), position,
                    _format_name(raw[56:64].decode("latin-1").strip(), int(fmt_width),
                                 int(fmt_decimals)))


def ibm_to_float(raw: np.ndarray) -> np.ndarray:
    """IBM System/370 floats (rows of 2 to 8 big-endian bytes) as float64; missing -> NaN."""
    rows, width = raw.shape
    full = np.zeros((rows, 8), dtype=np.uint8)
    full[:, :width] = raw
    bits = full.view(">u8").ravel()
    mantissa = bits & np.uint64(0x00FFFFFFFFFFFFFF)
    exponent = ((bits >> np.uint64(56)) & np.uint64(0x7F)).astype(np.int64) - 64
    value = np.ldexp(mantissa.astype(np.float64), 4 * exponent - 56)
    value = np.where(bits >> np.uint64(63), -value, value)
    first = full[:, 0]
    missing = (mantissa == 0) & np.isin(first, np.fromiter(_MISSING_FIRST, dtype=np.uint8))
    value[missing] = np.nan
    return value


class _TextColumn:
    """Decodes one character variable block by block; equal values share one str object."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.seen: dict[bytes, str] = {}

    def decode(self, raw: np.ndarray, where: str, first_row: int) -> np.ndarray:
        width = raw.shape[1]
        cells = np.ascontiguousarray(raw).view(f"S{width}").ravel()
        codes, uniques = pd.factorize(cells)
        out = np.empty(len(uniques), dtype=object)
        for i, value in enumerate(uniques):
            text = self.seen.get(value)
            if text is None:
                try:
                    text = value.rstrip(b" ").decode(self.encoding)
                except UnicodeDecodeError:
                    row = first_row + int(np.flatnonzero(codes == i)[0]) + 1
                    raise XptFormatError(f"text is not {self.encoding}", row,
                                         where) from None
                self.seen[value] = text
            out[i] = text
        return out[codes]


def _blocks(fh: BinaryIO, header: Header, rows: int) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, 2-D uint8 array of whole observations), block by block. A member header
    on an 80-byte boundary inside the data means a second member: NotVersion5."""
    width = header.row_length
    per_block = max(1, BLOCK_BYTES // max(width, 1))
    fh.seek(header.data_start)
    done, offset, tail = 0, header.data_start, b""
    while done < rows:
        take = min(per_block, rows - done)
        buf = fh.read(take * width)
        # the end of the bytes before this block joined to its start: a header across blocks
        if _has_member_header(tail + buf[:len(MEMBER)], offset - len(tail)) or \
                _has_member_header(buf, offset):
            raise NotVersion5("more than one member")
        tail = buf[-len(MEMBER):] if len(buf) >= len(MEMBER) else (tail + buf)[-len(MEMBER):]
        offset += len(buf)
        yield done, np.frombuffer(buf, dtype=np.uint8).reshape(take, width)
        done += take


def _has_member_header(buf: bytes, offset: int) -> bool:
    """buf (starting at file offset `offset`) holds a member header on an 80-byte boundary."""
    at = buf.find(MEMBER)
    while at >= 0:
        if (offset + at) % RECORD == 0:
            return True
        at = buf.find(MEMBER, at + 1)
    return False


def _padding_rows(fh: BinaryIO, header: Header, size: int, rows: int) -> int:
    """Rows at the end that are only the blank padding of the last 80-byte record: padding is
    shorter than a record, so only rows starting in the last record can be padding."""
    width = header.row_length
    drop = 0
    while drop < rows:
        start = header.data_start + (rows - drop - 1) * width
        if size - start >= RECORD:
            break
        fh.seek(start)
        if fh.read(width).strip(b" "):
            break
        drop += 1
    return drop


def read(path: Path, encoding: str = "utf-8") -> tuple[pd.DataFrame, Header]:
    """The observations of a single-member XPT v5 file and its header.

    Numbers are float64 (dates stay days since 1960); text is str with trailing blanks
    removed, "" when blank."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        header = read_header(fh)
        total = header.rows_in(size)
        keep = total - _padding_rows(fh, header, size, total)
        texts = {v.name: _TextColumn(encoding) for v in header.variables if not v.numeric}
        # filled block by block: no second copy of the data for joining blocks
        columns = {v.name: np.empty(keep, dtype=np.float64 if v.numeric else object)
                   for v in header.variables}
        for first, block in _blocks(fh, header, total):
            block = block[:max(0, keep - first)]
            rows = slice(first, first + len(block))
            for var in header.variables:
                raw = block[:, var.position:var.position + var.length]
                columns[var.name][rows] = (ibm_to_float(raw) if var.numeric else
                                           texts[var.name].decode(raw, var.name, first))
    # text stays object (one shared str per value): pandas would otherwise infer its str dtype
    frame = pd.DataFrame({name: pd.Series(values, dtype=values.dtype, copy=False)
                          for name, values in columns.items()}, copy=False)
    return frame, header
