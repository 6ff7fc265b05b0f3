"""cdisc.io.csv_table.write_csv writes what DataFrame.to_csv(index=False,
lineterminator="\\n") writes, byte for byte (the oracle is pandas itself)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc.io import csv_table
from cdisc.io.csv_table import write_csv

awkward = st.sampled_from(["", "a,b", 'say "hi"', "two\nlines", "cr\rhere", " lead", "é",
                           "DM", "NCT04265963-920-001", "x;y", "'q'"])
texts = st.one_of(awkward, st.text(max_size=8), st.none(), st.just(float("nan")))


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(0, 30))
    kinds = draw(st.lists(st.sampled_from(["object", "str", "Int64", "int64", "float64",
                                           "mixed"]), min_size=1, max_size=5))
    columns = {}
    for i, kind in enumerate(kinds):
        if kind in ("object", "str"):
            values = draw(st.lists(texts, min_size=rows, max_size=rows))
            columns[f"c{i}"] = pd.Series(values, dtype=object if kind == "object" else "str")
        elif kind == "Int64":
            values = draw(st.lists(st.one_of(st.none(), st.integers(-10**12, 10**12)),
                                   min_size=rows, max_size=rows))
            columns[f"c{i}"] = pd.Series(values, dtype="Int64")
        elif kind == "int64":
            values = draw(st.lists(st.integers(-10**12, 10**12), min_size=rows, max_size=rows))
            columns[f"c{i}"] = pd.Series(values, dtype="int64")
        elif kind == "float64":
            values = draw(st.lists(st.floats(allow_nan=True), min_size=rows, max_size=rows))
            columns[f"c{i}"] = pd.Series(values, dtype="float64")
        else:
            values = draw(st.lists(st.one_of(texts, st.integers(0, 9), st.floats(0, 1)),
                                   min_size=rows, max_size=rows))
            columns[f"c{i}"] = pd.Series(values, dtype=object)
    return pd.DataFrame(columns)


def _same_as_pandas(frame: pd.DataFrame, folder: Path) -> None:
    write_csv(frame, folder / "ours.csv")
    frame.to_csv(folder / "pandas.csv", index=False, lineterminator="\n")
    assert (folder / "ours.csv").read_bytes() == (folder / "pandas.csv").read_bytes()


@settings(max_examples=300, deadline=None)
@given(frames(), st.integers(1, 4))
def test_bytes_are_pandas_bytes(frame: pd.DataFrame, chunk: int) -> None:
    old = csv_table.CHUNK_ROWS
    csv_table.CHUNK_ROWS = chunk
    try:
        with tempfile.TemporaryDirectory() as tmp:
            _same_as_pandas(frame, Path(tmp))
    finally:
        csv_table.CHUNK_ROWS = old


def test_trace_shaped_table_by_hand(tmp_path: Path) -> None:
    frame = pd.DataFrame({"domain": ["DM", "AE", "AE"],
                          "USUBJID": ["S-1", "S-1", 'S,"2"'],
                          "seq": pd.Series([None, 1, 2], dtype="Int64"),
                          "source_file": ["dm.csv", "ae.csv", "ae.csv"],
                          "source_row": np.array([1, 1, 2])})
    write_csv(frame, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text(encoding="utf-8") == (
        "domain,USUBJID,seq,source_file,source_row\n"
        "DM,S-1,,dm.csv,1\n"
        "AE,S-1,1,ae.csv,1\n"
        'AE,"S,""2""",2,ae.csv,2\n')
