"""XPT v5: FDA constraints enforced before writing, exact round trip, byte-identical reruns."""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc.errors import ConformanceError, InputError
from cdisc.io.xpt import read_xpt, write_xpt, xpt_lengths
from cdisc.model import Column, Dataset


def make(data: dict, types: dict[str, str], name: str = "DM", label: str = "Demographics",
         formats: dict[str, str] | None = None) -> Dataset:
    cols = [Column(c, f"Label of {c}", types[c], display_format=(formats or {}).get(c))
            for c in data]
    return Dataset(name, label, cols, pd.DataFrame(data))


def test_round_trip_labels_formats_lengths(tmp_path: Path) -> None:
    ds = make({"USUBJID": ["S-1", "S-22", ""], "AGE": [34.0, np.nan, 8.0],
               "TRTSDT": [22349.0, np.nan, 0.0]}, {"USUBJID": "Char", "AGE": "Num",
                                                   "TRTSDT": "Num"},
              formats={"TRTSDT": "DATE9."})
    path = tmp_path / "dm.xpt"
    write_xpt(ds, path)
    df, meta = read_xpt(path)
    assert list(df["USUBJID"]) == ["S-1", "S-22", ""]
    assert df["AGE"].iloc[0] == 34.0 and np.isnan(df["AGE"].iloc[1])
    assert list(df["TRTSDT"].fillna(-1)) == [22349.0, -1.0, 0.0]
    assert meta.table_name == "DM" and meta.file_label == "Demographics"
    assert meta.column_labels["AGE"] == "Label of AGE"
    assert meta.column_formats == {"TRTSDT": "DATE9."}
    assert meta.char_lengths["USUBJID"] == 4 == xpt_lengths(ds)["USUBJID"]


def test_byte_identical_rewrites(tmp_path: Path) -> None:
    ds = make({"A": ["x"]}, {"A": "Char"})
    write_xpt(ds, tmp_path / "a.xpt")
    first = (tmp_path / "a.xpt").read_bytes()
    write_xpt(ds, tmp_path / "a.xpt")
    assert (tmp_path / "a.xpt").read_bytes() == first
    assert b"01JAN60:00:00:00" in first


@pytest.mark.parametrize("data,types,name,label,message", [
    ({"A": ["caf\u00e9"]}, {"A": "Char"}, "DM", "ok", "non-ASCII text in A"),
    ({"A": ["x" * 201]}, {"A": "Char"}, "DM", "ok", "longer than 200 bytes in A"),
    ({"TOOLONGNAME": ["x"]}, {"TOOLONGNAME": "Char"}, "DM", "ok", "variable name"),
    ({"A": ["x"]}, {"A": "Char"}, "dm", "ok", "dataset name"),
    ({"A": ["x"]}, {"A": "Char"}, "DM", "L" * 41, "at most 40 characters"),
])
def test_conformance_violations(tmp_path: Path, data, types, name, label, message) -> None:
    with pytest.raises(ConformanceError, match=message):
        write_xpt(make(data, types, name, label), tmp_path / "x.xpt")
    assert not (tmp_path / "x.xpt").exists()


def test_violation_names_the_record(tmp_path: Path) -> None:
    with pytest.raises(ConformanceError) as info:
        write_xpt(make({"A": ["a", "b", "\u00b5mol/L"]}, {"A": "Char"}), tmp_path / "x.xpt")
    assert info.value.row == 3 and info.value.column == "A"


def test_out_of_ibm_range_and_blank_records(tmp_path: Path) -> None:
    with pytest.raises(ConformanceError, match="IBM float"):
        write_xpt(make({"N": [1.0, 1e-200]}, {"N": "Num"}), tmp_path / "x.xpt")
    with pytest.raises(ConformanceError, match="record 2 is entirely blank"):
        write_xpt(make({"A": ["x", ""], "B": ["y", ""]}, {"A": "Char", "B": "Char"}),
                  tmp_path / "x.xpt")


@pytest.mark.parametrize("content", [b"", b"not an xpt file at all" * 10])
def test_bad_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.xpt"
    path.write_bytes(content)
    with pytest.raises(InputError):
        read_xpt(path)


def test_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "t.xpt"
    write_xpt(make({"A": ["x"] * 50, "N": [1.0] * 50}, {"A": "Char", "N": "Num"}), path)
    path.write_bytes(path.read_bytes()[:700])
    with pytest.raises(InputError):
        df, _ = read_xpt(path)
        assert len(df) == 50  # a silent short read would also be a failure


names = st.from_regex(r"[A-Z][A-Z0-9_]{0,7}", fullmatch=True)
ascii_text = st.text(alphabet=string.printable.strip() + " ", max_size=200).map(str.rstrip)
# IBM floats in XPT hold 56-bit mantissas: IEEE doubles with 53 bits survive exactly, as do
# integers up to 2**53 (checked by the round trip below)
finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15)
numbers = st.one_of(finite.filter(lambda v: v == 0 or abs(v) >= 1e-70),
                    st.integers(-(2**53), 2**53).map(float), st.just(float("nan")))


@settings(max_examples=40, deadline=None)
@given(st.lists(names, min_size=1, max_size=5, unique=True), st.integers(0, 6), st.data())
def test_round_trip_property(tmp_path_factory, cols: list[str], n: int, data) -> None:
    types = {c: data.draw(st.sampled_from(["Char", "Num"])) for c in cols}
    types[cols[0]] = "Num"  # an all-blank all-character record is refused (tested below)
    frame = {c: data.draw(st.lists(ascii_text if t == "Char" else numbers, min_size=n,
                                   max_size=n)) for c, t in types.items()}
    ds = make(frame, types)
    path = tmp_path_factory.mktemp("xpt") / "p.xpt"
    write_xpt(ds, path)
    df, _ = read_xpt(path)
    assert len(df) == n
    for c, t in types.items():
        if t == "Char":
            assert list(df[c]) == list(frame[c])
        else:
            got, want = df[c].to_numpy(dtype=float), np.array(frame[c], dtype=float)
            assert np.array_equal(np.isnan(got), np.isnan(want))
            assert np.array_equal(got[~np.isnan(got)], want[~np.isnan(want)])


@pytest.mark.parametrize("rows", [0, 1, 9, 10])
def test_chunked_read_equals_whole_read(tmp_path: Path, monkeypatch, rows: int) -> None:
    import cdisc.io.xpt as xpt

    data = {"USUBJID": [f"S-{i % 4}" for i in range(rows)], "AGE": [float(i) for i in range(rows)],
            "SEX": ["M" if i % 3 else "" for i in range(rows)]}
    ds = make(data, {"USUBJID": "Char", "AGE": "Num", "SEX": "Char"})
    path = tmp_path / "dm.xpt"
    xpt.write_xpt(ds, path)
    whole, _ = xpt.read_xpt(path)
    monkeypatch.setattr(xpt, "READ_CHUNK_ROWS", 3)
    chunked, meta = xpt.read_xpt(path)
    pd.testing.assert_frame_equal(chunked, whole)
    assert len(chunked) == rows and meta.table_name == "DM"
