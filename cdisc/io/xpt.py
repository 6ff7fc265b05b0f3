"""SAS transport (XPT) version 5, as the FDA Technical Conformance Guide requires.

The checks the FDA asks for come first (ASCII text, values of at most 200 bytes, names and
labels that fit, numbers IBM floats can hold, no all-blank last record); then our own writer
(cdisc/io/xpt_writer.py) writes the file, byte-identical to pyreadstat's with the header
timestamps pinned so that reruns are byte-identical. pyreadstat stays the reader of files
other tools wrote (version 8, several members) and the writer's test oracle.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc.column_codes import distinct_values, object_codes
from cdisc.distinct import factorize, on_distinct
from cdisc.errors import ConformanceError, InputError, OutputError
from cdisc.model import Dataset
from cdisc.io.xpt_writer import FIXED_STAMP, Unwritable, XptVariable, write_xpt_v5
from cdisc.text import shared_text, text_column

NAME_RE = re.compile(r"[A-Z][A-Z0-9_]{0,7}")
MAX_LABEL = 40
MAX_CHAR_BYTES = 200
RECORD = 80
# IBM hexadecimal floating point (XPT v5 numerics): the smallest normalised IBM float is 16**-65;
# IBM reaches 16**63 (~7.2e75), but ReadStat, and our writer with it, writes every magnitude
# from 2**249 (~9.0e74) up as the largest IBM float. Values outside [IBM_MIN, IBM_MAX) are lost.
IBM_MAX = 2.0**249
IBM_MIN = 2.0**-260


@dataclass(frozen=True)
class XptMeta:
    table_name: str
    file_label: str
    column_labels: dict[str, str]
    column_formats: dict[str, str]
    char_lengths: dict[str, int]


def _byte_lengths(values: pd.Series) -> pd.Series:
    return values.astype(str).str.encode("utf-8").str.len()


# as_read_back of a Dataset's data while that frame lives: ADaM and the validation of the
# same run both ask for it (a scan of every text column of millions of records). Keyed by
# the frame's identity and checked by a weak reference; Dataset.data is never changed in place.
_read_backs: dict[int, tuple[weakref.ref, tuple[str, ...], pd.DataFrame]] = {}


def as_read_back(ds: Dataset) -> pd.DataFrame:
    """The data as read_xpt returns it after write_xpt: numbers float64, text without the
    trailing blanks XPT pads with, "" for missing. A shallow copy of the one computed per
    frame, so a caller's changes stay its own (copy-on-write)."""
    key, names = id(ds.data), tuple(f"{c.name}:{c.type}" for c in ds.columns)
    hit = _read_backs.get(key)
    if hit is None or hit[0]() is not ds.data or hit[1] != names:
        ref = weakref.ref(ds.data, lambda _, k=key: _read_backs.pop(k, None))
        hit = _read_backs[key] = (ref, names, _read_back(ds))
    return hit[2].copy(deep=False)


def _read_back(ds: Dataset) -> pd.DataFrame:
    changed = {}
    for col in ds.columns:
        series = ds.data[col.name]
        if col.type == "Num":
            if series.dtype != "float64":
                changed[col.name] = series.astype("float64")
        elif not _plain_text(series):
            changed[col.name] = on_distinct(_rstripped_text, series)
    # unchanged columns are shared with ds.data, not copied (pandas copy-on-write)
    frame = ds.data[[c.name for c in ds.columns]].assign(**changed)
    return frame.reset_index(drop=True)


def _plain_text(values: pd.Series) -> bool:
    """Object column of str without trailing blanks: already what read_xpt would return."""
    if values.dtype != object:
        return False
    distinct = distinct_values(values)  # None: not str only
    return distinct is not None and not any(v.endswith(" ") for v in distinct)


def _rstripped_text(values: pd.Series) -> pd.Series:
    return text_column(values).str.rstrip(" ").astype(object)


def _first_row(codes: np.ndarray, bad_distinct: np.ndarray) -> int:
    """0-based position of the first row whose distinct value is flagged."""
    return int(np.flatnonzero(np.isin(codes, np.flatnonzero(bad_distinct)))[0])


@dataclass(frozen=True)
class TextCodes:
    """A Char column as XPT writes it: each row's code into its distinct values, which are
    str, "" for missing (text_column of the distinct values)."""

    codes: np.ndarray
    distinct: pd.Series

    @cached_property
    def ascii(self) -> bool:
        """Every value is ASCII."""
        return "".join(self.distinct.tolist()).isascii()

    @cached_property
    def byte_lengths(self) -> np.ndarray:
        """The distinct values' lengths in UTF-8 bytes."""
        if self.ascii:
            return np.fromiter(map(len, self.distinct.tolist()), dtype=np.int64,
                               count=len(self.distinct))
        return _byte_lengths(self.distinct).to_numpy(dtype=np.int64)

    def rows(self, start: int, stop: int) -> TextCodes:
        """The codes of rows start..stop-1, renumbered over the values they use."""
        codes = self.codes[start:stop]
        used = np.bincount(codes, minlength=len(self.distinct)) > 0
        renumber = np.cumsum(used) - 1
        return TextCodes(renumber[codes], self.distinct[used].reset_index(drop=True))


# below this share of distinct objects per row the column shares its str objects (as the
# mapping writes it) and codes per object beat hashing the strings
SHARED_OBJECTS = 1 / 8


def text_codes(values: pd.Series) -> TextCodes:
    """The codes of a Char column: per distinct object where the column shares its objects
    (the addresses are hashed, not the strings), else per distinct value. Equal values under
    two codes are written alike, so either is exact."""
    if values.dtype == object:
        cells = values.to_numpy()
        found = object_codes(cells)
        if len(found) <= SHARED_OBJECTS * len(cells):
            distinct = pd.Series(cells[found.first], dtype=object)
            return TextCodes(found.codes, text_column(distinct))
    codes, distinct = factorize(values)
    return TextCodes(codes, text_column(distinct.astype(object)))


def dataset_text_codes(ds: Dataset) -> dict[str, TextCodes]:
    """text_codes of every Char column of ds."""
    return {c.name: text_codes(ds.data[c.name]) for c in ds.columns if c.type == "Char"}


def xpt_lengths(ds: Dataset, text: dict[str, TextCodes] | None = None) -> dict[str, int]:
    """Length each variable gets: char = longest value in bytes (at least 1), num = 8. text:
    the dataset's text codes, when already known."""
    out = {}
    for col in ds.columns:
        if col.type == "Num":
            out[col.name] = 8
        elif not len(ds.data):
            out[col.name] = 1
        else:
            codes = text[col.name] if text is not None else text_codes(ds.data[col.name])
            out[col.name] = max(1, int(codes.byte_lengths.max()))
    return out


def check_xpt_conformance(ds: Dataset, text: dict[str, TextCodes] | None = None) -> None:
    """Raise on anything XPT v5 / the FDA TCG forbids; the message names record and variable.
    text: the dataset's text codes, when already known."""
    names = [c.name for c in ds.columns]
    if list(ds.data.columns) != names:
        raise OutputError(f"{ds.name}: data columns {list(ds.data.columns)} differ from the "
                          f"metadata {names}")
    if not NAME_RE.fullmatch(ds.name):
        raise ConformanceError(f"dataset name {ds.name!r} is not 1-8 upper-case letters/digits")
    _check_label(ds.name, "dataset label", ds.label)
    _check_blank_records(ds)
    for col in ds.columns:
        if not NAME_RE.fullmatch(col.name):
            raise ConformanceError(f"{ds.name}: variable name {col.name!r} is not 1-8 upper-case "
                                   "letters/digits/underscores starting with a letter")
        _check_label(ds.name, f"label of {col.name}", col.label)
        if col.type != "Char":
            _check_numeric(ds, col.name)
            continue
        _check_text(ds, col.name,
                    text[col.name] if text is not None else text_codes(ds.data[col.name]))


def _check_text(ds: Dataset, name: str, text: TextCodes) -> None:
    """ASCII and at most 200 bytes, checked once per distinct value; the first offending row
    is named."""
    codes, distinct = text.codes, text.distinct
    non_ascii = np.zeros(len(distinct), dtype=bool) if text.ascii else \
        ~np.array([v.isascii() for v in distinct], dtype=bool)
    if non_ascii.any():
        row = _first_row(codes, non_ascii)
        raise ConformanceError(f"{ds.name}: non-ASCII text in {name} (FDA TCG: ASCII only)",
                               file=ds.name, row=row + 1, column=name,
                               value=distinct.iloc[codes[row]])
    too_long = text.byte_lengths > MAX_CHAR_BYTES
    if not too_long.any():
        return
    row = _first_row(codes, too_long)
    raise ConformanceError(f"{ds.name}: value longer than {MAX_CHAR_BYTES} bytes in {name}",
                           file=ds.name, row=row + 1, column=name,
                           value=distinct.iloc[codes[row]][:60] + "...")


def _check_numeric(ds: Dataset, name: str) -> None:
    values = ds.data[name]
    if not pd.api.types.is_numeric_dtype(values):
        raise ConformanceError(f"{ds.name}: numeric variable {name} holds text")
    size = values.abs()
    bad = (size >= IBM_MAX) | ((size > 0) & (size < IBM_MIN))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ConformanceError(f"{ds.name}: {name} is outside the XPT (IBM float) range "
                               f"{IBM_MIN:g}..{IBM_MAX:g}", file=ds.name, row=row + 1,
                               column=name, value=float(values.iloc[row]))


def _check_blank_records(ds: Dataset) -> None:
    """XPT pads its last 80-byte record with blanks: an all-blank, all-character record at the
    end of a file would read back as padding, so none may be written."""
    if len(ds.data) == 0 or any(c.type != "Char" for c in ds.columns):
        return
    blank = (ds.data.astype(str) == "").all(axis=1)
    if blank.any():
        row = int(np.flatnonzero(blank.to_numpy())[0])
        raise ConformanceError(f"{ds.name}: record {row + 1} is entirely blank; XPT v5 cannot "
                               "tell it from padding", file=ds.name, row=row + 1)


def _check_label(dataset: str, what: str, label: str) -> None:
    if len(label) > MAX_LABEL or not label.isascii():
        raise ConformanceError(f"{dataset}: {what} {label!r} must be ASCII and at most "
                               f"{MAX_LABEL} characters")


def write_xpt(ds: Dataset, path: Path, text: dict[str, TextCodes] | None = None) -> None:
    """Check, then write XPT v5 with labels, formats, exact char lengths and pinned stamps.
    text: the dataset's text codes, when already known."""
    text = dataset_text_codes(ds) if text is None else text
    check_xpt_conformance(ds, text)
    lengths = xpt_lengths(ds, text)
    variables = [XptVariable(c.name, c.label, c.type, lengths[c.name], c.display_format)
                 for c in ds.columns]
    encoded = {name: (codes.codes, codes.distinct) for name, codes in text.items()}
    try:
        write_xpt_v5(path, ds.name, ds.label, variables, ds.data, stamp=FIXED_STAMP,
                     text_codes=encoded)
    except Unwritable as exc:
        raise OutputError(f"cannot write XPT: {exc}", file=str(path)) from None


READ_CHUNK_ROWS = 250_000


def check_whole_records(path: Path, size: int) -> None:
    """XPT is 80-byte records; pyreadstat silently drops a cut-off tail of observations, so a
    file of another size is refused."""
    if size % RECORD:
        raise InputError(f"truncated or corrupt XPT: {size} bytes is not a whole number of "
                         f"{RECORD}-byte records", file=path.name)


def _read_in_chunks(pyreadstat, path: Path):  # type: ignore[no-untyped-def]
    """pyreadstat makes a str object per text cell; reading a chunk of rows at a time and
    sharing each chunk's distinct values keeps a domain of millions of records small."""
    chunks, offset = [], 0
    while True:
        df, meta = pyreadstat.read_xport(str(path), disable_datetime_conversion=True,
                                         row_offset=offset, row_limit=READ_CHUNK_ROWS)
        for col in df.columns:
            if df[col].dtype != "float64":
                df[col] = shared_text(df[col])
        if len(df) or not chunks:
            chunks.append(df)
        offset += len(df)
        if len(df) < READ_CHUNK_ROWS:
            break
    if len(chunks) == 1:
        return chunks[0], meta
    return pd.concat(chunks, ignore_index=True), meta


def _read_with_pyreadstat(path: Path) -> tuple[pd.DataFrame, XptMeta]:
    """Transport files our own reader leaves alone (version 8, several members)."""
    import pyreadstat

    try:
        df, meta = _read_in_chunks(pyreadstat, path)
    except Exception as exc:
        text = " ".join(str(exc).split())
        raise InputError(f"cannot read XPT (corrupt, truncated or not XPT?): {text}",
                         file=path.name) from None
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    # pyreadstat spells a format "DATE9" in some releases and "DATE9." in others: keep SAS's
    formats = {k: v if "." in v else f"{v}." for k, v in meta.original_variable_types.items()
               if v}
    return df, XptMeta(meta.table_name or "", meta.file_label or "",
                       {k: v or "" for k, v in labels.items()}, formats,
                       dict(meta.variable_storage_width))


def read_xpt(path: Path) -> tuple[pd.DataFrame, XptMeta]:
    """Read an XPT file as written: numeric dates stay numbers (days since 1960)."""
    from cdisc.io import xpt_reader

    if not path.exists():
        raise InputError("XPT file not found", file=str(path))
    if not path.is_file():
        raise InputError("not a regular file (a folder?)", file=str(path))
    size = path.stat().st_size
    if size == 0:
        raise InputError("XPT file is empty (0 bytes)", file=path.name)
    check_whole_records(path, size)
    try:
        df, header = xpt_reader.read(path)
    except xpt_reader.NotVersion5:
        return _read_with_pyreadstat(path)
    except xpt_reader.XptFormatError as exc:
        if exc.row is not None:
            raise InputError(exc.message, file=path.name, row=exc.row,
                             column=exc.column) from None
        raise InputError(f"cannot read XPT (corrupt, truncated or not XPT?): {exc.message}",
                         file=path.name) from None
    variables = header.variables
    return df, XptMeta(header.table_name, header.file_label,
                       {v.name: v.label for v in variables},
                       {v.name: v.format for v in variables if v.format},
                       {v.name: v.length for v in variables})


# -- datasets over the size limit: split into numbered parts (FDA TCG: datasets over 5 GB) ----

DEFAULT_SPLIT_BYTES = 5 * 10**9
SPLIT_FOLDER = "split"


@dataclass(frozen=True)
class XptPart:
    """One numbered part of a split dataset: lb1.xpt holds records first..last (1-based)."""

    dataset: str  # the full dataset, e.g. "LB"
    name: str  # the part's dataset name, e.g. "LB1"
    number: int
    of: int
    first: int
    last: int

    @property
    def href(self) -> str:
        return f"{SPLIT_FOLDER}/{self.name.lower()}.xpt"


def part_ranges(ds: Dataset, max_rows: int) -> list[tuple[int, int]]:
    """[start, stop) row ranges of at most max_rows records, cut only where USUBJID changes so
    a subject's records stay in one part (the data is sorted by its keys, USUBJID first)."""
    n = len(ds.data)
    if "USUBJID" in ds.data.columns:
        subject = ds.data["USUBJID"].to_numpy()
        cuts = np.flatnonzero(subject[1:] != subject[:-1]) + 1  # first row of each new subject
    else:
        cuts = np.arange(1, n)
    ranges, start = [], 0
    while start < n:
        if n - start <= max_rows:
            ranges.append((start, n))
            break
        allowed = cuts[(cuts > start) & (cuts <= start + max_rows)]
        if not len(allowed):
            raise OutputError(f"{ds.name}: the records of one subject (from record {start + 1}) "
                              f"exceed the split size; raise --split-size")
        stop = int(allowed[-1])
        ranges.append((start, stop))
        start = stop
    return ranges


def write_xpt_split(ds: Dataset, path: Path, max_bytes: int) -> list[XptPart]:
    """Write ds to path; when the file is larger than max_bytes, also write numbered parts of at
    most max_bytes each into split/ beside it (the full file stays, as the TCG asks)."""
    text = dataset_text_codes(ds)
    write_xpt(ds, path, text)
    size = path.stat().st_size
    if size <= max_bytes or len(ds.data) < 2:
        return []
    row_bytes = sum(xpt_lengths(ds, text).values())
    data_bytes = -(-len(ds.data) * row_bytes // RECORD) * RECORD
    header = size - data_bytes
    # observations fill whole 80-byte records after the headers
    max_rows = (max_bytes - header) // RECORD * RECORD // row_bytes if max_bytes > header else 0
    if max_rows < 1:
        raise OutputError(f"{ds.name}: split size {max_bytes} bytes is smaller than one record "
                          f"plus the XPT headers ({header + row_bytes} bytes)")
    ranges = part_ranges(ds, max_rows)
    if len(ranges) > 99 or len(ds.name) + len(str(len(ranges))) > 8:
        raise OutputError(f"{ds.name}: {len(ranges)} parts would not fit XPT dataset names "
                          "(8 characters); raise --split-size")
    folder = path.parent / SPLIT_FOLDER
    folder.mkdir(exist_ok=True)
    parts = []
    for number, (start, stop) in enumerate(ranges, start=1):
        part = XptPart(ds.name, f"{ds.name}{number}", number, len(ranges), start + 1, stop)
        data = ds.data.iloc[start:stop].reset_index(drop=True)
        target = path.parent / part.href
        write_xpt(Dataset(part.name, ds.label, ds.columns, data, ds.keys, ds.dataset_class,
                          ds.structure, ds.standard), target,
                  {name: codes.rows(start, stop) for name, codes in text.items()})
        if target.stat().st_size > max_bytes:  # the row-size arithmetic above went wrong
            raise OutputError(f"{part.name}: part is {target.stat().st_size} bytes, over the "
                              f"split size {max_bytes}", file=str(target))
        parts.append(part)
    return parts
