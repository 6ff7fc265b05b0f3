"""CDISC Dataset-JSON v1.1 writer and reader (the FDA's successor format to XPT).

Deterministic: fixed key order, no clock (the creation time is passed in), UTF-8, one trailing
newline. Missing numbers are null; empty text is "" (as the standard says). ADaM numeric dates
(SAS days) are written as ISO 8601 text with targetDataType "integer".

The rows are written as json.dumps writes them, but each column's JSON text is made once per
distinct value (cdisc.column_codes) and the rows are joined from those pieces.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc.column_codes import (Codes, FrameCodes, identity_codes, is_str_only, object_codes,
                                 value_codes)
from cdisc.datatypes import json_data_type
from cdisc.errors import InputError
from cdisc.model import Dataset
from cdisc.text import text_column

_SAS_EPOCH = np.datetime64("1960-01-01")


def _column_values(values: pd.Series, data_type: str, target: str | None) -> list:
    if target == "integer" and data_type == "date":
        days = values.to_numpy(dtype="float64")
        ok = ~np.isnan(days)
        out = np.full(len(days), None, dtype=object)
        out[ok] = (_SAS_EPOCH + days[ok].astype("int64")).astype(str)
        return out.tolist()
    if target == "integer" and data_type == "datetime":
        secs = values.to_numpy(dtype="float64")
        ok = ~np.isnan(secs)
        out = np.full(len(secs), None, dtype=object)
        stamps = np.datetime64("1960-01-01T00:00:00") + secs[ok].astype("int64")
        out[ok] = np.datetime_as_string(stamps, unit="s")
        return out.tolist()
    if data_type == "integer":
        nums = values.to_numpy(dtype="float64")
        return [None if np.isnan(v) else int(v) for v in nums]
    if data_type in ("double", "float"):
        nums = values.to_numpy(dtype="float64")
        return [None if np.isnan(v) else float(v) for v in nums]
    return text_column(values).tolist()


def _is_text(data_type: str, target: str | None) -> bool:
    """_column_values makes text of the column (text_column)."""
    return not (target == "integer" and data_type in ("date", "datetime")) \
        and data_type not in ("integer", "double", "float")


def _tokens(values: list, text: bool) -> list[str]:
    """The JSON text of each value, as json.dumps writes it inside a list."""
    if text:  # json.dumps(ensure_ascii=False) writes a str with encode_basestring
        return [encode_basestring(v) for v in values]
    if not values:
        return []
    tokens = _dumps(values)[1:-1].split(",")  # numbers, null and dates hold no comma
    return tokens if len(tokens) == len(values) else [_dumps(v) for v in values]


def _text_or_missing(cells: np.ndarray) -> bool:
    """Every cell a str, None or a float NaN: text_column fills the missing ones with "" and
    keeps the others, one cell at a time."""
    return is_str_only(cells) or all(
        isinstance(v, str) or v is None or (type(v) is float and v != v) for v in cells)


def dataset_json(ds: Dataset, *, study_oid: str, metadata_version_oid: str,
                 creation_datetime: str, source_system: str = "cdisc-pipeline",
                 source_version: str = "") -> dict:
    """The whole Dataset-JSON document as a dict (rows included)."""
    doc, types = _document(ds, study_oid, metadata_version_oid, creation_datetime,
                           source_system, source_version)
    doc["rows"] = _rows(ds, types, 0, len(ds.data))
    return doc


def _rows(ds: Dataset, types: list[tuple[str, str | None]], start: int, stop: int) -> list:
    data = [_column_values(ds.data[col.name].iloc[start:stop], data_type, target)
            for col, (data_type, target) in zip(ds.columns, types, strict=True)]
    return [list(r) for r in zip(*data, strict=True)] if data else []


class _RowText:
    """The rows of a dataset as json.dumps writes them, a block of rows at a time. Each cell
    carries its separators (',[' before a row's first, ',' after each but its last, ']'
    after its last) and is made once per distinct value of the block's column; neighbouring
    columns with few combinations of values are joined per combination; a block is its
    cells joined, row after row."""

    def __init__(self, ds: Dataset, types: list[tuple[str, str | None]]) -> None:
        self.ds, self.types = ds, types
        k = len(ds.columns)
        self.affixes = [(",[" if j == 0 else "", "]" if j == k - 1 else ",") for j in range(k)]

    def block(self, start: int, stop: int) -> str:
        """Rows start..stop-1 as json.dumps(rows)[1:-1] writes them, after a ',' unless start
        is 0."""
        try:
            cells = self._cells(start, min(stop, len(self.ds.data)))
        except ValueError:  # a value json.dumps refuses: refused as it would refuse it
            return ("," if start else "") + _dumps(_rows(self.ds, self.types, start, stop))[1:-1]
        if start == 0 and len(cells):
            cells[0, 0] = cells[0, 0][1:]
        return "".join(cells.ravel().tolist())

    def _cells(self, start: int, stop: int) -> np.ndarray:
        """The block's cells, a column per run of joined columns."""
        runs: list = []  # per output column: (codes, texts) or the texts of its rows
        for j, (col, (data_type, target)) in enumerate(zip(self.ds.columns, self.types,
                                                           strict=True)):
            before, after = self.affixes[j]
            text = _is_text(data_type, target)
            values = self.ds.data[col.name].iloc[start:stop]
            found = _block_codes(values, text)
            if found is not None:  # once per distinct value
                values = values.iloc[found.first]
            pieces = [before + t + after
                      for t in _tokens(_column_values(values, data_type, target), text)]
            if found is None:
                runs.append(pieces)
            elif runs and isinstance(runs[-1], tuple) and \
                    (joined := _joined(runs[-1], (found.codes, pieces), stop - start)):
                runs[-1] = joined
            else:
                runs.append((found.codes, pieces))
        cells = np.empty((stop - start, len(runs)), dtype=object)
        for j, run in enumerate(runs):
            cells[:, j] = np.array(run[1], dtype=object)[run[0]] if isinstance(run, tuple) \
                else run
        return cells


def _joined(left: tuple, right: tuple, rows: int) -> tuple | None:
    """(codes, texts) of two neighbouring columns as one: the texts of each combination
    that occurs, left's then right's; None when more than a sixteenth of the rows are
    distinct combinations (joining them would cost more than it saves)."""
    (left_codes, left_texts), (right_codes, right_texts) = left, right
    size = len(left_texts) * len(right_texts)
    combined = left_codes.astype(np.int64) * len(right_texts) + right_codes
    if size <= 8 * rows:  # count the combinations in a table
        occurring = np.flatnonzero(np.bincount(combined, minlength=size))
        if len(occurring) * 16 > rows:
            return None
        number = np.empty(size, dtype=np.int32)
        number[occurring] = np.arange(len(occurring), dtype=np.int32)
        codes = number[combined]
    else:
        codes, occurring = pd.factorize(combined)
        if len(occurring) * 16 > rows:
            return None
    texts = [left_texts[i] + right_texts[k]
             for i, k in zip(*np.divmod(occurring, len(right_texts)), strict=True)]
    return codes, texts


def _block_codes(values: pd.Series, text: bool) -> Codes | None:
    """Codes under which _column_values gives every row of a code one value (None: go row
    by row)."""
    if not text:
        return identity_codes(values) if values.dtype == np.float64 else None
    if values.dtype != object:
        return None
    identity = object_codes(values.to_numpy())
    if len(identity) * 8 > len(values):  # objects not shared: one code per equal value
        found = value_codes(values, identity)
        if found is not None:
            return found
    return identity if _text_or_missing(values.to_numpy()[identity.first]) else None


def _document(ds: Dataset, study_oid: str, metadata_version_oid: str, creation_datetime: str,
              source_system: str, source_version: str) -> tuple[dict, list]:
    """The document without its rows (an empty list), and each column's JSON data type."""
    codes = FrameCodes(ds.data)
    lengths = codes.lengths(ds.columns)
    key_seq = {k: i for i, k in enumerate(ds.keys, start=1)}
    columns, types = [], []
    for col in ds.columns:
        # the type follows from which values occur
        values = codes.cells(col.name) if col.type == "Char" else codes.numbers(col.name)
        data_type, target = json_data_type(col, values)
        meta: dict = {"itemOID": f"IT.{ds.name}.{col.name}", "name": col.name,
                      "label": col.label, "dataType": data_type}
        if target:
            meta["targetDataType"] = target
        if col.type == "Char":
            meta["length"] = lengths[col.name]
        if col.display_format:
            meta["displayFormat"] = col.display_format
        if col.name in key_seq:
            meta["keySequence"] = key_seq[col.name]
        columns.append(meta)
        types.append((data_type, target))
    return {
        "datasetJSONCreationDateTime": creation_datetime,
        "datasetJSONVersion": "1.1.0",
        "fileOID": f"{study_oid}/{ds.name}",
        "dbLastModifiedDateTime": creation_datetime,
        "originator": source_system,
        "sourceSystem": {"name": source_system, "version": source_version or "0"},
        "studyOID": study_oid,
        "metaDataVersionOID": metadata_version_oid,
        "metaDataRef": "define.xml",
        "itemGroupOID": f"IG.{ds.name}",
        "records": len(ds.data),
        "name": ds.name,
        "label": ds.label,
        "columns": columns,
        "rows": [],
    }, types


def write_dataset_json(ds: Dataset, path: Path, *, study_oid: str, metadata_version_oid: str,
                       creation_datetime: str, source_system: str = "cdisc-pipeline",
                       source_version: str = "") -> None:
    """The same bytes as json.dumps of the whole document, written a block of rows at a time
    so a domain of millions of records never exists as one Python structure or string."""
    doc, types = _document(ds, study_oid, metadata_version_oid, creation_datetime,
                           source_system, source_version)
    head = _dumps(doc)
    assert head.endswith('"rows":[]}')
    rows = _RowText(ds, types) if ds.columns else None
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(head[:-2])
        for start in range(0, len(ds.data), WRITE_CHUNK_ROWS):
            if rows is not None:
                fh.write(rows.block(start, start + WRITE_CHUNK_ROWS))
                continue
            block = _rows(ds, types, start, start + WRITE_CHUNK_ROWS)
            fh.write(("," if start else "") + _dumps(block)[1:-1])
        fh.write("]}\n")


WRITE_CHUNK_ROWS = 100_000


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def read_dataset_json(path: Path) -> pd.DataFrame:
    """Rows as a DataFrame: text columns as str ("" for null), numbers as float64 (dates
    exchanged as ISO text stay text)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        columns = doc["columns"]
        df = pd.DataFrame(doc.get("rows", []), columns=[c["name"] for c in columns])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"not a Dataset-JSON file: {exc}", file=str(path)) from None
    for meta in columns:
        col = meta["name"]
        if meta.get("dataType") in ("string", "date", "datetime", "time", "URI"):
            df[col] = text_column(df[col])
        else:
            df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    return df
