"""A vectorised writer of SAS transport (XPT) version 5, byte-identical to pyreadstat/ReadStat.

XPT v5 (SAS TS-140) is fixed-width: 80-byte header records, a 140-byte NAMESTR per variable,
then the observations back to back, each `row length` bytes, blank-padded to a whole 80-byte
record. So a chunk of rows is one numpy structured array (one field per variable, no gaps):
numbers are converted to IBM hexadecimal floats with uint64 arithmetic in one pass, text is
encoded once per distinct value and spread by codes. Memory is bounded by the chunk size.

The bytes match what `pyreadstat.write_xport(..., file_format_version=5)` writes followed by
pinning the header timestamps; every detail below was found by writing files with pyreadstat
and comparing bytes (tests/test_xpt_encode.py keeps checking it). Where ReadStat departs from
the format's full range (numbers from 2**249 up are saturated, see `float_to_ibm`), this writer
follows ReadStat, so that switching writers changes no file.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from cdisc.errors import OutputError

RECORD = 80
FIXED_STAMP = b"01JAN60:00:00:00"
# rows per chunk when the caller gives none: about this many bytes of observations at a time
CHUNK_BYTES = 32 * 2**20
BLANK = 0x20

_HEADER = b"HEADER RECORD*******%-8sHEADER RECORD!!!!!!!"
# what ReadStat writes as SAS release and host in the library and member headers
_SAS_VERSION = b"6.06"
_SAS_OS = b"bsd4.2"

# IEEE -> IBM: ReadStat writes 0 below 16**-65 (the smallest normalised IBM float) and the
# largest IBM float (with the sign) from 2**249 up, although IBM reaches 16**63 (~7.2e75)
_IEEE_BIAS = 1023
_UNDERFLOW_EXP = -260  # 2**-260 == 16**-65
_SATURATE_EXP = 249
_IBM_MISSING = np.uint64(0x2E << 56)  # "." then seven zero bytes: SAS's plain missing value
_IBM_LARGEST = np.uint64(0x7FFFFFFFFFFFFFFF)
_SIGN = np.uint64(1 << 63)

# a display format as ReadStat accepts it: [$]name width[.decimals]; the name ends in a letter
# (so DATE9 is DATE, width 9; A1B2. is A1B, width 2), at most 32 characters with the "$"
_FORMAT = re.compile(r"(\$?(?:[A-Za-z](?:[A-Za-z0-9]*[A-Za-z])?)?)(\d*)(?:\.(\d*))?")
_FORMAT_NAME_MAX = 32


class Unwritable(ValueError):
    """Metadata or a value that XPT v5 cannot hold as given (too long, unknown format)."""


@dataclass(frozen=True)
class XptVariable:
    """One variable as the file describes it: length is bytes (char: the longest value, at
    least 1; numbers are always 8); format is a SAS display format such as DATE9. or None."""

    name: str
    label: str
    type: str  # "Char" or "Num"
    length: int = 8
    format: str | None = None

    @property
    def numeric(self) -> bool:
        return self.type == "Num"


# -- header records ---------------------------------------------------------------------------


def _field(text: str | bytes, width: int, what: str) -> bytes:
    """Text blank-padded to a fixed-width header field; refused when it does not fit."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if len(raw) > width:
        raise Unwritable(f"{what} {text!r} is longer than {width} bytes")
    return raw.ljust(width, b" ")


def _record(*fields: bytes) -> bytes:
    raw = b"".join(fields)
    assert len(raw) <= RECORD, raw
    return raw.ljust(RECORD, b" ")


def _header_record(kind: bytes, numbers: bytes) -> bytes:
    return _record(_HEADER % kind, numbers)


def library_header(stamp: bytes) -> bytes:
    """Records 1-3: library header, the SAS/SASLIB record with the created stamp, and the
    modified stamp."""
    return (_header_record(b"LIBRARY", b"0" * 30)
            + _record(b"SAS     SAS     SASLIB  ", _field(_SAS_VERSION, 8, "version"),
                      _field(_SAS_OS, 8, "OS"), b" " * 24, stamp)
            + _record(stamp))


def member_header(name: str, label: str, count: int, stamp: bytes) -> bytes:
    """Records 4-8: member and descriptor headers, the dataset name and label (type blank), and
    the NAMESTR header. ReadStat writes the variable count as 5 digits from byte 53 (SAS's
    4 digits from byte 54 whenever there are fewer than 10,000 variables)."""
    if not 0 <= count <= 99_999:
        raise Unwritable(f"{count} variables: at most 99,999 fit the NAMESTR header")
    return (_header_record(b"MEMBER", b"0" * 17 + b"16" + b"0" * 8 + b"140")
            + _header_record(b"DSCRPTR", b"0" * 30)
            + _record(b"SAS     ", _field(name, 8, "dataset name"), b"SASDATA ",
                      _field(_SAS_VERSION, 8, "version"), _field(_SAS_OS, 8, "OS"), b" " * 24,
                      stamp)
            + _record(stamp, b" " * 16, _field(label, 40, "dataset label"), b" " * 8)
            + _header_record(b"NAMESTR", b"0" * 5 + b"%05d" % count + b"0" * 20))


def obs_header() -> bytes:
    return _header_record(b"OBS", b"0" * 30)


def parse_format(text: str | None) -> tuple[bytes, int, int]:
    """(name, width, decimals) of a display format as ReadStat stores them: "DATE9." ->
    (b"DATE", 9, 0), "8.2" -> (b"", 8, 2), "$CHAR20." -> (b"$CHAR", 20, 0). The name is cut to
    its first 8 characters, width and decimals to 16 bits (ReadStat's own overflow)."""
    if not text:
        return b"", 0, 0
    text = text.split("\x00", 1)[0]  # ReadStat reads the format as a C string
    match = _FORMAT.fullmatch(text)
    if not match or len(match.group(1)) > _FORMAT_NAME_MAX:
        raise Unwritable(f"display format {text!r} is not understood")
    name, width, decimals = match.groups()
    return name[:8].encode("ascii"), int(width or 0) % 65536, int(decimals or 0) % 65536


_NAMESTR = struct.Struct(">hhHH8s40s8sHHhh8shhi52x")


def namestr(var: XptVariable, number: int, position: int) -> bytes:
    """The 140-byte NAMESTR: type (1 num, 2 char), length, 1-based number, name, label,
    format name/width/decimals, justification (ReadStat: 1 for numbers, 0 for text, whatever
    the format), a blank informat, the byte offset in the row, and 52 zero bytes."""
    fmt_name, width, decimals = parse_format(var.format)
    return _NAMESTR.pack(1 if var.numeric else 2, 0, var.length, number % 65536,
                         _field(var.name, 8, "variable name"),
                         _field(var.label, 40, f"label of {var.name}"),
                         _field(fmt_name, 8, "format name"), width, decimals,
                         1 if var.numeric else 0, 0, b" " * 8, 0, 0, position)


def namestr_block(variables: Sequence[XptVariable]) -> bytes:
    """All NAMESTRs back to back, blank-padded to a whole 80-byte record."""
    positions = np.cumsum([0] + [v.length for v in variables])
    block = b"".join(namestr(v, i + 1, int(positions[i])) for i, v in enumerate(variables))
    return block + b" " * (-len(block) % RECORD)


def _check_variable(var: XptVariable) -> None:
    if var.type not in ("Char", "Num"):
        raise Unwritable(f"{var.name}: type {var.type!r} (Char or Num expected)")
    if var.numeric and var.length != 8:
        raise Unwritable(f"{var.name}: numeric length {var.length} (this writer writes 8)")
    if not var.numeric and not 1 <= var.length <= 32767:
        raise Unwritable(f"{var.name}: character length {var.length} (1 to 32767)")


def headers(name: str, label: str, variables: Sequence[XptVariable], stamp: bytes) -> bytes:
    """Everything before the first observation."""
    if len(stamp) != 16:
        raise Unwritable(f"timestamp {stamp!r} is not 16 bytes (ddMMMyy:hh:mm:ss)")
    for var in variables:
        _check_variable(var)
    return (library_header(stamp) + member_header(name, label, len(variables), stamp)
            + namestr_block(variables) + obs_header())


# -- observations -----------------------------------------------------------------------------


def float_to_ibm(values: np.ndarray) -> np.ndarray:
    """IEEE doubles as IBM hexadecimal floats (uint64, the first byte most significant).

    IBM: sign bit, 7-bit exponent E biased by 64, 56-bit fraction F: value = 0.F * 16**(E-64),
    normalised so the first hex digit of F is not 0. An IEEE double is 1.m * 2**e with a 53-bit
    significand M = 1m. With e + 1 = 4*E' - s (s in 0..3) the value is M * 2**(-53 - s) *
    16**E', so F = M << (3 - s): 53 bits shifted by 0-3 bits always fit 56, the conversion is
    exact, nothing to round. As ReadStat: NaN -> "." + seven zeros; |x| < 2**-260 (0, -0,
    subnormals) -> eight zero bytes, sign dropped; |x| >= 2**249 (and infinities) -> the
    largest IBM float with the sign.
    """
    floats = np.ascontiguousarray(values, dtype=np.float64)
    bits = floats.view(np.uint64)
    sign = bits & _SIGN
    exp = ((bits >> np.uint64(52)) & np.uint64(0x7FF)).astype(np.int64) - _IEEE_BIAS
    significand = (bits & np.uint64((1 << 52) - 1)) | np.uint64(1 << 52)
    ibm_exp = (exp + 4) >> 2  # floor((e + 4) / 4): arithmetic shift floors negatives too
    shift = ((exp + 4) & 3).astype(np.uint64)  # == 3 - s
    out = sign | ((ibm_exp + 64).astype(np.uint64) << np.uint64(56)) | (significand << shift)
    out = np.where(exp < _UNDERFLOW_EXP, np.uint64(0), out)
    out = np.where(exp >= _SATURATE_EXP, sign | _IBM_LARGEST, out)
    return np.where(np.isnan(floats), _IBM_MISSING, out)


def encode_text(distinct: Sequence[object], length: int, what: str = "value") -> np.ndarray:
    """Distinct values as blank-padded byte strings (numpy S<length>), plus one blank entry at
    the end, which code -1 (missing) picks. Values are str() of the value, UTF-8 (ASCII in
    practice: the XPT checks refuse the rest); as ReadStat, a value ends at its first NUL."""
    values = np.asarray(distinct, dtype=object)
    if len(values) and pd.api.types.infer_dtype(values, skipna=False) != "string":
        values = np.array([str(v) for v in values], dtype=object)
    try:
        raw = values.astype("S")  # ASCII in one C loop
    except UnicodeEncodeError:
        raw = np.array([v.encode("utf-8") for v in values], dtype="S")
    if len(raw) and raw.itemsize > length:
        raise Unwritable(f"{what}: a value of {raw.itemsize} bytes is longer than the variable "
                         f"length {length}")
    # numpy already drops trailing NULs; a NUL inside a value (rare) leaves fewer non-zero
    # bytes than the value's length: those are cut one by one
    if len(raw):
        grid = raw.view(np.uint8).reshape(len(raw), raw.itemsize)
        inner_nul = np.count_nonzero(grid, axis=1) != np.strings.str_len(raw)
        for at in np.flatnonzero(inner_nul):
            raw[at] = raw[at].split(b"\x00", 1)[0]
    table = np.full(len(raw) + 1, b" " * length, dtype=f"S{length}")
    if len(raw):
        table[:-1] = np.strings.ljust(raw, length, b" ")
    return table


# per character variable: each row's code (0..k-1) into its k distinct values
CodedText = Mapping[str, tuple[np.ndarray, Sequence[object]]]


def row_dtype(variables: Sequence[XptVariable]) -> np.dtype:
    """One observation: a field per variable in order, no gaps (itemsize = row length)."""
    offsets = np.cumsum([0] + [v.length for v in variables])
    return np.dtype({"names": [f"v{i}" for i in range(len(variables))],
                     "formats": [">u8" if v.numeric else f"S{v.length}" for v in variables],
                     "offsets": [int(o) for o in offsets[:-1]],
                     "itemsize": int(offsets[-1])})


def observation_chunks(variables: Sequence[XptVariable], data: pd.DataFrame,
                       chunk_rows: int, text_codes: CodedText | None = None
                       ) -> Iterator[np.ndarray]:
    """The observations as structured arrays of at most chunk_rows rows. text_codes: for some
    character variables, each row's code into their distinct values (encoded once)."""
    dtype = row_dtype(variables)
    columns = [data[v.name] for v in variables]
    text_codes = text_codes or {}
    tables = {v.name: encode_text(text_codes[v.name][1], v.length, v.name)
              for v in variables if v.name in text_codes}
    for start in range(0, len(data), chunk_rows):
        stop = min(start + chunk_rows, len(data))
        chunk = np.empty(stop - start, dtype=dtype)
        for i, (var, column) in enumerate(zip(variables, columns, strict=True)):
            part = column.iloc[start:stop]
            if var.numeric:
                chunk[f"v{i}"] = float_to_ibm(part.to_numpy(dtype=np.float64, na_value=np.nan))
            elif var.name in tables:
                # take into the field: no intermediate array (wrap: code -1 is the last)
                np.take(tables[var.name], text_codes[var.name][0][start:stop],
                        out=chunk[f"v{i}"], mode="wrap")
            else:
                # per chunk, so that memory stays bounded; repeated values are encoded once
                codes, distinct = pd.factorize(part, use_na_sentinel=True)
                table = encode_text(distinct, var.length, var.name)
                # code -1 (missing) takes the last entry, the blank
                np.take(table, codes, out=chunk[f"v{i}"], mode="wrap")
        yield chunk


def _write_observations(fh: BinaryIO, variables: Sequence[XptVariable], data: pd.DataFrame,
                        chunk_rows: int, text_codes: CodedText | None) -> None:
    row_length = sum(v.length for v in variables)
    if not row_length:
        return  # no variables: no observation bytes at all
    for chunk in observation_chunks(variables, data, chunk_rows, text_codes):
        fh.write(memoryview(chunk.view(np.uint8)))
    fh.write(b" " * (-len(data) * row_length % RECORD))


def write_xpt_v5(path: Path | str, name: str, label: str, variables: Sequence[XptVariable],
                 data: pd.DataFrame, *, stamp: bytes = FIXED_STAMP,
                 chunk_rows: int | None = None, text_codes: CodedText | None = None) -> None:
    """Write one dataset as an XPT v5 file: the columns of data named by variables, in the
    order of variables. Numbers: anything numpy takes as float64 (NaN, None, pd.NA are
    missing); text: str (None/NaN/pd.NA written as blanks, like ""), other objects as str().
    text_codes: for some character variables, the rows' codes into their distinct values,
    which are then written in place of the column's own values (each encoded once).

    No checks of the FDA's rules (ASCII, 200 bytes, names) here: cdisc.io.xpt does those;
    this refuses only what cannot be written at all. A partly written file is removed."""
    path = Path(path)
    try:
        head = headers(name, label, variables, stamp)
    except Unwritable as exc:
        raise OutputError(f"cannot write XPT: {exc}", file=str(path)) from None
    if chunk_rows is None:
        chunk_rows = CHUNK_BYTES // max(1, sum(v.length for v in variables))
    chunk_rows = max(1, int(chunk_rows))
    try:
        fh = path.open("wb")
    except OSError as exc:  # nothing was created: nothing to remove
        raise OutputError(f"cannot write XPT: {exc}", file=str(path)) from None
    try:
        with fh:
            fh.write(head)
            _write_observations(fh, variables, data, chunk_rows, text_codes)
    except BaseException as exc:
        path.unlink(missing_ok=True)  # no partial file is left for a later step to take
        # OSError: disk full and the like; Unwritable: a value longer than its length
        if isinstance(exc, (OSError, Unwritable)):
            raise OutputError(f"cannot write XPT: {exc}", file=str(path)) from None
        raise
