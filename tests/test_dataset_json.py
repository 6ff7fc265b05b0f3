"""Dataset-JSON v1.1: schema-valid, faithful to the data, deterministic."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc.io.datasetjson import read_dataset_json, write_dataset_json
from cdisc.model import Column, Dataset
from tests.conftest import REFERENCE

SCHEMA = REFERENCE / "dataset-json-1.1" / "schema" / "dataset.schema.json"


def sample() -> Dataset:
    cols = [Column("STUDYID", "Study Identifier", "Char"),
            Column("USUBJID", "Unique Subject Identifier", "Char"),
            Column("EXSEQ", "Sequence Number", "Num"),
            Column("EXDOSE", "Dose", "Num"),
            Column("EXSTDTC", "Start Date/Time of Treatment", "Char",
                   value_domain="ISO 8601 datetime or interval"),
            Column("TRTSDT", "Date of First Exposure", "Num", display_format="DATE9.")]
    data = pd.DataFrame({"STUDYID": ["S1", "S1"], "USUBJID": ["S1-001", "S1-002"],
                         "EXSEQ": [1.0, 2.0], "EXDOSE": [0.5, np.nan],
                         "EXSTDTC": ["2021-03-10T14:30", "2021-03"],
                         "TRTSDT": [22349.0, np.nan]})
    return Dataset("EX", "Exposure", cols, data, keys=("STUDYID", "USUBJID", "EXSEQ"))


def write(tmp_path: Path) -> Path:
    path = tmp_path / "ex.json"
    write_dataset_json(sample(), path, study_oid="S1", metadata_version_oid="MDV.S1.SDTM",
                       creation_datetime="2024-01-31T00:00:00")
    return path


def test_content(tmp_path: Path) -> None:
    doc = json.loads(write(tmp_path).read_text())
    assert doc["datasetJSONVersion"] == "1.1.0" and doc["records"] == 2
    assert doc["datasetJSONCreationDateTime"] == "2024-01-31T00:00:00"
    cols = {c["name"]: c for c in doc["columns"]}
    assert cols["USUBJID"] == {"itemOID": "IT.EX.USUBJID", "name": "USUBJID",
                               "label": "Unique Subject Identifier", "dataType": "string",
                               "length": 6, "keySequence": 2}
    assert cols["EXSEQ"]["dataType"] == "integer" and cols["EXDOSE"]["dataType"] == "double"
    assert cols["EXSTDTC"]["dataType"] == "datetime"
    assert (cols["TRTSDT"]["dataType"], cols["TRTSDT"]["targetDataType"]) == ("date", "integer")
    assert doc["rows"] == [["S1", "S1-001", 1, 0.5, "2021-03-10T14:30", "2021-03-10"],
                           ["S1", "S1-002", 2, None, "2021-03", None]]


@pytest.mark.skipif(not SCHEMA.exists(), reason="../shared/reference not present")
def test_schema_valid(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(json.loads(write(tmp_path).read_text()), schema)


def test_deterministic_and_readable(tmp_path: Path) -> None:
    a = write(tmp_path).read_bytes()
    assert write(tmp_path).read_bytes() == a
    df = read_dataset_json(tmp_path / "ex.json")
    assert list(df["USUBJID"]) == ["S1-001", "S1-002"]


@pytest.mark.parametrize("rows", [0, 1, 5])
def test_streamed_write_is_the_one_shot_document(tmp_path: Path, monkeypatch, rows: int) -> None:
    """Rows are written a block at a time; the bytes are those of json.dumps(whole document)."""
    import cdisc.io.datasetjson as dj

    base = sample()
    data = pd.concat([base.data] * 3, ignore_index=True).iloc[:rows]
    ds = Dataset("EX", "Exposure", base.columns, data, keys=base.keys)
    args = {"study_oid": "S1", "metadata_version_oid": "MDV.S1.SDTM",
            "creation_datetime": "2024-01-31T00:00:00"}
    monkeypatch.setattr(dj, "WRITE_CHUNK_ROWS", 2)
    dj.write_dataset_json(ds, tmp_path / "ex.json", **args)
    whole = json.dumps(dj.dataset_json(ds, **args), ensure_ascii=False, separators=(",", ":"),
                       allow_nan=False) + "\n"
    assert (tmp_path / "ex.json").read_text(encoding="utf-8") == whole
    assert len(json.loads(whole)["rows"]) == rows
