"""CDISC Dataset-JSON v1.1 writer and reader (the FDA's successor format to XPT).

Deterministic: fixed key order, no clock (the creation time is passed in), UTF-8, one trailing
newline. Missing numbers are null; empty text is "" (as the standard says). ADaM numeric dates
(SAS days) are written as ISO 8601 text with targetDataType "integer".
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc.datatypes import json_data_type
from cdisc.errors import InputError
from cdisc.io.xpt import xpt_lengths
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


def _document(ds: Dataset, study_oid: str, metadata_version_oid: str, creation_datetime: str,
              source_system: str, source_version: str) -> tuple[dict, list]:
    """The document without its rows (an empty list), and each column's JSON data type."""
    lengths = xpt_lengths(ds)
    key_seq = {k: i for i, k in enumerate(ds.keys, start=1)}
    columns, types = [], []
    for col in ds.columns:
        data_type, target = json_data_type(col, ds.data[col.name])
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
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(head[:-2])
        for start in range(0, len(ds.data), WRITE_CHUNK_ROWS):
            rows = _rows(ds, types, start, start + WRITE_CHUNK_ROWS)
            fh.write(("," if start else "") + _dumps(rows)[1:-1])
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
