"""Our XPT v5 reader: hand-derived IBM floats, padding rows, every reference file read exactly as
pyreadstat (the oracle) reads it, random frames round-tripped, fallbacks and corrupt headers."""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdisc.errors import InputError
from cdisc.io import xpt_reader
from cdisc.io.xpt import read_xpt

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
REFERENCE_XPT = sorted(REFERENCE.rglob("*.xpt"))


def _ibm(hex_bytes: str, width: int = 8) -> float:
    raw = np.frombuffer(bytes.fromhex(hex_bytes), dtype=np.uint8)[:width]
    return float(xpt_reader.ibm_to_float(raw.reshape(1, -1))[0])


@pytest.mark.parametrize(("hex_bytes", "value"), [
    # 0x41 = exponent 16**1, fraction 0x10/0x100 = 1/16: 1.0
    ("4110000000000000", 1.0),
    # the IBM manual's example: -118.625 = -0x76.A = sign 1, exponent 16**2, fraction 0x76A/16**3
    ("C276A00000000000", -118.625),
    # 0.1 has no exact hexadecimal fraction: 0x1999999999999A * 16**0 / 16**14, rounded to double
    ("401999999999999A", 0x1999999999999A / 16**14),
    ("0000000000000000", 0.0),
    # 22349 (a SAS date) = 0x574D: exponent 16**4, fraction 0x574D/16**4
    ("44574D0000000000", 22349.0),
])
def test_ibm_floats_hand_derived(hex_bytes: str, value: float) -> None:
    assert _ibm(hex_bytes) == value


@pytest.mark.parametrize("first", ["2E", "5F", "41", "5A"])  # ".", "_", ".A", ".Z"
def test_missing_values_are_nan(first: str) -> None:
    assert np.isnan(_ibm(first + "00000000000000"))


def test_short_numeric_is_truncated_ibm() -> None:
    # a 3-byte numeric holds the first three bytes: 0x41 0x18 0x00 -> 0x18/16**2 * 16 = 1.5
    assert _ibm("4118000000000000", 3) == 1.5


def test_trailing_blank_padding_is_not_rows(tmp_path: Path) -> None:
    # pyreadstat sizes C to its longest value, 2 bytes: 3 rows fill 6 bytes of an 80-byte
    # record and the 74 blank bytes after them would read as 37 more rows
    path = tmp_path / "t.xpt"
    pyreadstat.write_xport(pd.DataFrame({"C": ["a", "bb", "c"]}), str(path),
                           file_format_version=5, table_name="T")
    df, header = xpt_reader.read(path)
    assert list(df["C"]) == ["a", "bb", "c"]
    assert header.row_length == 2 and header.table_name == "T"


def test_zero_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.xpt"
    pyreadstat.write_xport(pd.DataFrame({"C": pd.Series([], dtype=object),
                                         "N": pd.Series([], dtype=float)}), str(path),
                           file_format_version=5, table_name="T")
    df, _ = xpt_reader.read(path)
    assert list(df.columns) == ["C", "N"] and len(df) == 0


def _same_as_pyreadstat(path: Path) -> None:
    expected, meta = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
    got, header = xpt_reader.read(path)
    assert list(got.columns) == list(expected.columns) and len(got) == len(expected)
    for col in expected.columns:
        if expected[col].dtype == "float64":
            np.testing.assert_array_equal(got[col].to_numpy(), expected[col].to_numpy())
        else:
            assert got[col].tolist() == expected[col].fillna("").tolist(), col
    assert header.table_name == meta.table_name
    assert header.file_label == (meta.file_label or "")
    assert [v.label for v in header.variables] == [x or "" for x in meta.column_labels]
    assert {v.name: v.length for v in header.variables} == meta.variable_storage_width
    formats = {k: v if "." in v else f"{v}." for k, v in meta.original_variable_types.items()
               if v}
    assert {v.name: v.format for v in header.variables if v.format} == formats


@pytest.mark.skipif(not REFERENCE_XPT, reason="../shared/reference not beside the checkout")
@pytest.mark.parametrize("path", REFERENCE_XPT, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_reference_files_read_as_pyreadstat_reads_them(path: Path) -> None:
    _same_as_pyreadstat(path)


_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " -_.,:/()", max_size=30)
_NUMBER = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False,
                                         min_value=-1e15, max_value=1e15), st.integers(-10**9, 10**9))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_TEXT, _NUMBER, _TEXT), min_size=0, max_size=40))
def test_random_frames_read_as_pyreadstat_reads_them(tmp_path: Path, rows: list) -> None:
    frame = pd.DataFrame(rows, columns=["A", "N", "B"])
    frame["N"] = frame["N"].astype("float64")
    path = tmp_path / "r.xpt"
    pyreadstat.write_xport(frame.astype({"A": object, "B": object}), str(path),
                           file_format_version=5, table_name="R",
                           column_labels=["Text A", "A number", "Text B"])
    _same_as_pyreadstat(path)


def test_blocks_are_joined_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = pd.DataFrame({"ID": [f"S-{i:04d}" for i in range(1000)],
                          "V": np.arange(1000, dtype=float) / 7})
    path = tmp_path / "b.xpt"
    pyreadstat.write_xport(frame, str(path), file_format_version=5, table_name="B")
    monkeypatch.setattr(xpt_reader, "BLOCK_BYTES", 160)  # 10 rows of 16 bytes per block
    df, _ = xpt_reader.read(path)
    assert df["ID"].tolist() == frame["ID"].tolist()
    np.testing.assert_array_equal(df["V"].to_numpy(), frame["V"].to_numpy())


def test_equal_text_shares_one_object(tmp_path: Path) -> None:
    path = tmp_path / "s.xpt"
    pyreadstat.write_xport(pd.DataFrame({"U": ["mmol/L"] * 50 + ["g/L"] * 50}), str(path),
                           file_format_version=5, table_name="S")
    values = xpt_reader.read(path)[0]["U"].tolist()
    assert len({id(v) for v in values}) == 2


def test_text_not_utf8_names_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "l.xpt"
    pyreadstat.write_xport(pd.DataFrame({"A": ["ok", "fiXvre"]}), str(path),
                           file_format_version=5, table_name="L")
    path.write_bytes(path.read_bytes().replace(b"fiXvre", b"fi\xe8vre"))
    with pytest.raises(InputError) as err:
        read_xpt(path)
    assert (err.value.file, err.value.row, err.value.column) == ("l.xpt", 2, "A")
    assert err.value.one_line().startswith("l.xpt, row 2, column A: ")


@pytest.mark.parametrize("block_bytes", [64 * 2**20, 50, 7])  # the header may cross blocks
def test_second_member_goes_to_pyreadstat(tmp_path: Path, block_bytes: int,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xpt_reader, "BLOCK_BYTES", block_bytes)
    first, second = tmp_path / "a.xpt", tmp_path / "b.xpt"
    pyreadstat.write_xport(pd.DataFrame({"A": ["x", "y"]}), str(first), file_format_version=5,
                           table_name="A")
    pyreadstat.write_xport(pd.DataFrame({"B": [1.0]}), str(second), file_format_version=5,
                           table_name="B")
    both = tmp_path / "ab.xpt"
    # a library of two members: the second file's member headers follow the first's data
    both.write_bytes(first.read_bytes() + second.read_bytes()[240:])
    with pytest.raises(xpt_reader.NotVersion5):
        xpt_reader.read(both)
    df, meta = read_xpt(both)
    expected, _ = pyreadstat.read_xport(str(both))
    assert df["A"].tolist() == expected["A"].tolist() and meta.table_name == "A"


def test_version_8_goes_to_pyreadstat(tmp_path: Path) -> None:
    path = tmp_path / "v8.xpt"
    pyreadstat.write_xport(pd.DataFrame({"LONGNAME_OVER_8": ["x"], "N": [2.5]}), str(path),
                           file_format_version=8, table_name="V8")
    df, meta = read_xpt(path)
    assert df["LONGNAME_OVER_8"].tolist() == ["x"] and df["N"].tolist() == [2.5]
    assert meta.table_name == "V8"


def test_corrupt_variable_count_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "c.xpt"
    pyreadstat.write_xport(pd.DataFrame({"A": ["x"]}), str(path), file_format_version=5,
                           table_name="C")
    data = bytearray(path.read_bytes())
    data[80 * 7 + 54:80 * 7 + 58] = b"00x1"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError) as err:
        read_xpt(path)
    assert err.value.file == "c.xpt" and "variable count in record 8" in err.value.message
