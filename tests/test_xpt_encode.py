"""cdisc.io.xpt_writer: byte-identical to pyreadstat (with pinned stamps), vectorised, chunked.

The oracle is pyreadstat itself, called the way cdisc.io.xpt.write_xpt called it before it
used xpt_writer (see `pyreadstat_bytes`), so these tests keep meaning something after the
switch.
"""

from __future__ import annotations

import re
import string
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdisc.errors import OutputError
from cdisc.errors import ConformanceError
from cdisc.io.xpt import IBM_MAX, IBM_MIN, NAME_RE, check_xpt_conformance, xpt_lengths
from cdisc.io.xpt_reader import ibm_to_float
from cdisc.io.xpt_writer import (XptVariable, encode_text, float_to_ibm, parse_format,
                                 write_xpt_v5)
from cdisc.model import Column, Dataset
from cdisc.text import text_column

FORMATS = ["DATE9.", "8.", "8.2", "$20.", "YYMMDD10.", "$CHAR20.", "BEST12.", "DATETIME20.",
           "E8601DA10."]
SATURATE = 2.0**249  # ReadStat writes the largest IBM float from here up


# where pyreadstat writes the clock: created/modified of the library and of the member header
STAMP_OFFSETS = (80 + 64, 2 * 80, 5 * 80 + 64, 6 * 80)


def pin_timestamps(path: Path) -> None:
    """pyreadstat's file with our fixed stamps, as the writer writes them."""
    raw = bytearray(path.read_bytes())
    for at in STAMP_OFFSETS:
        assert re.fullmatch(rb"\d{2}[A-Z]{3}\d{2}:\d{2}:\d{2}:\d{2}", raw[at:at + 16])
        raw[at:at + 16] = b"01JAN60:00:00:00"
    path.write_bytes(bytes(raw))


def pyreadstat_bytes(ds: Dataset, path: Path) -> bytes:
    """What write_xpt wrote with pyreadstat: checked, numbers float64, text "" for missing,
    formats only where set, then the stamps pinned."""
    check_xpt_conformance(ds)
    frame = pd.DataFrame({c.name: ds.data[c.name].astype("float64") if c.type == "Num"
                          else text_column(ds.data[c.name]) for c in ds.columns},
                         index=ds.data.index)
    formats = {c.name: c.display_format for c in ds.columns if c.display_format}
    pyreadstat.write_xport(frame, str(path), file_label=ds.label,
                           column_labels=[c.label for c in ds.columns], table_name=ds.name,
                           file_format_version=5, variable_format=formats or None)
    pin_timestamps(path)
    return path.read_bytes()


def variables(ds: Dataset) -> list[XptVariable]:
    lengths = xpt_lengths(ds)
    return [XptVariable(c.name, c.label, c.type, lengths[c.name], c.display_format)
            for c in ds.columns]


def our_bytes(ds: Dataset, path: Path, chunk_rows: int | None = None) -> bytes:
    write_xpt_v5(path, ds.name, ds.label, variables(ds), ds.data, chunk_rows=chunk_rows)
    return path.read_bytes()


def dataset(data: dict, types: dict[str, str], name: str = "DM", label: str = "Demographics",
            formats: dict[str, str] | None = None,
            labels: dict[str, str] | None = None) -> Dataset:
    cols = [Column(c, (labels or {}).get(c, f"Label of {c}"), types[c],
                   display_format=(formats or {}).get(c)) for c in data]
    return Dataset(name, label, cols, pd.DataFrame(data, columns=list(data)))


def assert_same(ds: Dataset, tmp: Path, chunk_rows: int | None = None) -> bytes:
    ours = our_bytes(ds, tmp / "ours.xpt", chunk_rows)
    theirs = pyreadstat_bytes(ds, tmp / "pyreadstat.xpt")
    assert len(ours) == len(theirs)
    if ours != theirs:
        at = next(i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b)
        pytest.fail(f"first differing byte {at} (record {at // 80}): "
                    f"{ours[at // 80 * 80:at // 80 * 80 + 80]!r} != "
                    f"{theirs[at // 80 * 80:at // 80 * 80 + 80]!r}")
    assert len(ours) % 80 == 0
    return ours


# -- property: random datasets within the v5 limits ---------------------------------------------

PRINTABLE = string.ascii_letters + string.digits + string.punctuation + " "
names = st.from_regex(NAME_RE, fullmatch=True)
labels = st.text(alphabet=PRINTABLE, max_size=40)
magnitudes = st.floats(min_value=IBM_MIN, max_value=np.nextafter(SATURATE, 0))
numbers = st.one_of(
    st.builds(lambda m, neg: -m if neg else m, magnitudes, st.booleans()),
    st.integers(-10**15, 10**15).map(float), st.just(float("nan")), st.just(0.0),
    st.just(-0.0), st.integers(-10**9, 10**9).map(lambda i: i / 1000))
texts = st.one_of(st.text(alphabet=PRINTABLE, max_size=12), st.just(""), st.none(),
                  st.text(alphabet=PRINTABLE, min_size=150, max_size=200))


@st.composite
def datasets(draw: st.DrawFn) -> Dataset:
    cols = draw(st.lists(names, min_size=1, max_size=20, unique=True))
    types = {c: draw(st.sampled_from(["Char", "Num"])) for c in cols}
    rows = draw(st.integers(0, 50))
    data = {c: draw(st.lists(numbers if types[c] == "Num" else texts, min_size=rows,
                             max_size=rows)) for c in cols}
    for c in cols:  # xpt_lengths (the oracle's lengths) cannot measure a column of None only
        if types[c] == "Char" and rows and all(v is None for v in data[c]):
            data[c][0] = ""
    if all(t == "Char" for t in types.values()):  # an all-blank record reads as padding
        first = cols[0]
        for r in range(rows):
            if all(not (data[c][r] or "").strip(" ") for c in cols):
                data[first][r] = draw(st.text(alphabet=string.ascii_letters, min_size=1,
                                              max_size=3))
    frame = pd.DataFrame({c: pd.Series(data[c], dtype="float64" if types[c] == "Num"
                                       else object) for c in cols}, columns=cols)
    columns = [Column(c, draw(labels), types[c],
                      display_format=draw(st.one_of(st.none(), st.sampled_from(FORMATS))))
               for c in cols]
    return Dataset(draw(names), draw(labels), columns, frame)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets(), st.one_of(st.none(), st.integers(1, 7)))
def test_random_datasets_match_pyreadstat_and_read_back(ds: Dataset,
                                                        chunk_rows: int | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        assert_same(ds, Path(tmp), chunk_rows)
        back, meta = pyreadstat.read_xport(str(Path(tmp) / "ours.xpt"),
                                           disable_datetime_conversion=True)
    assert list(back.columns) == [c.name for c in ds.columns]
    assert len(back) == len(ds.data)
    assert (meta.table_name or "") == ds.name
    for col in ds.columns:
        got = back[col.name].to_numpy()
        want = ds.data[col.name]
        if col.type == "Num":
            np.testing.assert_array_equal(got.astype(float), want.to_numpy(dtype=float))
        else:
            expected = ["" if v is None else v.rstrip(" ") for v in want]
            assert [str(v).rstrip(" ") for v in got] == expected


# -- IBM floats derived by hand ---------------------------------------------------------------

# IBM: sign bit, exponent E biased by 64 (7 bits), 56-bit fraction F: value = 0.F * 16**(E-64)
# with the first hex digit of F not 0. Each expectation is derived from the double's own bits.
HAND = [
    # 1.0 = 0x0.1 * 16**1: E = 65 = 0x41, F = 1000...
    (1.0, "41 10 00 00 00 00 00 00"),
    (-1.0, "c1 10 00 00 00 00 00 00"),  # the same with the sign bit
    (0.5, "40 80 00 00 00 00 00 00"),  # 0x0.8 * 16**0
    (100.0, "42 64 00 00 00 00 00 00"),  # 100 = 0x64 = 0x0.64 * 16**2
    (-2.5, "c1 28 00 00 00 00 00 00"),  # 2.5 = 0x2.8 = 0x0.28 * 16**1
    (22349.0, "44 57 4d 00 00 00 00 00"),  # 0x574D = 0x0.574D * 16**4 (a SAS date)
    # 0.1 is not exact in binary: the double is 0x1.999999999999Ap-4 = 0x0.1999999999999A
    # * 16**0. Its 53 significant bits fill F after 3 zero bits (the leading hex digit 1 is
    # 0001): exactly that double, IBM's 3 spare bits stay 0, no rounding anywhere.
    (0.1, "40 19 99 99 99 99 99 9a"),
    # 1/3 as a double is 0x1.5555555555555p-2; divided by 4 that is 0x0.55555555555554:
    # the final digit 4 (not 5) is the double's last bit moved by the 2-bit shift.
    (1 / 3, "40 55 55 55 55 55 55 54"),
    # 10**15 + 1 = 0x38D7EA4C68001 = 0x0.38D7EA4C68001 * 16**13: 13 + 64 = 77 = 0x4d
    (1e15 + 1, "4d 38 d7 ea 4c 68 00 10"),
    # 2**-260 = 16**-65 = 0x0.1 * 16**-64: the smallest normalised IBM float, E = 0
    (2.0**-260, "00 10 00 00 00 00 00 00"),
    # the largest double below 2**249 is 0x1.fffffffffffffp248 = 0x0.1fffffffffffff * 16**63
    (float(np.nextafter(SATURATE, 0)), "7f 1f ff ff ff ff ff ff"),
    # as ReadStat: missing is "." then zeros; zero has no sign; below 16**-65 is 0; from
    # 2**249 up (though IBM reaches 16**63) and infinities: the largest IBM float, signed
    (float("nan"), "2e 00 00 00 00 00 00 00"),
    (0.0, "00 00 00 00 00 00 00 00"),
    (-0.0, "00 00 00 00 00 00 00 00"),
    (float(np.nextafter(2.0**-260, 0)), "00 00 00 00 00 00 00 00"),
    (-5e-324, "00 00 00 00 00 00 00 00"),
    (SATURATE, "7f ff ff ff ff ff ff ff"),
    (-7.2e75, "ff ff ff ff ff ff ff ff"),
    (float("inf"), "7f ff ff ff ff ff ff ff"),
]


@pytest.mark.parametrize("value,expected", HAND)
def test_float_to_ibm_by_hand(value: float, expected: str) -> None:
    got = int(float_to_ibm(np.array([value]))[0]).to_bytes(8, "big")
    assert got.hex(" ") == expected


def test_float_to_ibm_matches_pyreadstat_on_every_kind_of_double(tmp_path: Path) -> None:
    """Random bit patterns (NaN payloads, subnormals, infinities, all exponents) and every
    power of two with its neighbours: ReadStat's bytes exactly."""
    rng = np.random.default_rng(5)
    powers = np.ldexp(1.0, np.arange(-1074, 1024))
    values = np.concatenate([rng.integers(0, 2**64, 20_000, dtype=np.uint64).view(np.float64),
                             powers, -powers, np.nextafter(powers, 0),
                             np.nextafter(powers, np.inf), np.arange(-500, 500) / 7])
    path = tmp_path / "f.xpt"
    pyreadstat.write_xport(pd.DataFrame({"A": values}), str(path), table_name="T",
                           file_format_version=5)
    start = 80 * 9 + 160  # headers, one NAMESTR padded to 160 bytes, the OBS header
    theirs = np.frombuffer(path.read_bytes()[start:start + 8 * len(values)], dtype=">u8")
    np.testing.assert_array_equal(float_to_ibm(values), theirs)


def test_float_to_ibm_is_exact_in_range() -> None:
    """Between 16**-65 and 2**249 the conversion loses nothing: back to IEEE, every bit."""
    rng = np.random.default_rng(7)
    values = rng.uniform(-1, 1, 50_000) * 10.0 ** rng.integers(-78, 75, 50_000)
    values = values[(np.abs(values) >= 2.0**-260) & (np.abs(values) < SATURATE)]
    raw = float_to_ibm(values).astype(">u8").view(np.uint8).reshape(-1, 8)
    np.testing.assert_array_equal(ibm_to_float(raw), values)


# -- chunks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 2, 3, 10, 11, 1000, 1001])
def test_chunking_changes_no_byte(tmp_path: Path, rows: int) -> None:
    rng = np.random.default_rng(rows)
    ds = dataset({"USUBJID": [f"S-{i % 37}" for i in range(rows)],
                  "AVAL": np.where(rng.random(rows) < 0.2, np.nan, rng.normal(size=rows)),
                  "C": ["x" * (i % 5) for i in range(rows)]},
                 {"USUBJID": "Char", "AVAL": "Num", "C": "Char"})
    whole = our_bytes(ds, tmp_path / "whole.xpt", chunk_rows=10**9)
    for chunk_rows in (1, 3, 7, 64):
        assert our_bytes(ds, tmp_path / f"c{chunk_rows}.xpt", chunk_rows) == whole
    assert whole == pyreadstat_bytes(ds, tmp_path / "p.xpt")


# -- edge cases, each against pyreadstat --------------------------------------------------------


def test_no_rows(tmp_path: Path) -> None:
    """Headers only: the file ends with the OBS header, no padding record; text length 1."""
    ds = dataset({"A": pd.Series([], dtype=object), "B": pd.Series([], dtype=float)},
                 {"A": "Char", "B": "Num"}, formats={"B": "DATE9."})
    raw = assert_same(ds, tmp_path)
    assert raw.endswith(b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!" + b"0" * 30 + b"  ")


def test_no_variables(tmp_path: Path) -> None:
    """Nine header records and nothing else (rows of no bytes leave no trace, as ReadStat)."""
    raw = assert_same(Dataset("EMPTY", "", [], pd.DataFrame(index=range(0))), tmp_path)
    assert len(raw) == 9 * 80
    write_xpt_v5(tmp_path / "rows.xpt", "EMPTY", "", [], pd.DataFrame(index=range(3)))
    assert (tmp_path / "rows.xpt").read_bytes() == raw


def test_signed_zero_nan_and_the_ends_of_the_range(tmp_path: Path) -> None:
    """-0.0 is written as 0.0; the largest and smallest magnitudes the checks let through are
    written alike by both writers."""
    ds = dataset({"X": [-0.0, 0.0, np.nan, -1.0, np.nextafter(IBM_MAX, 0), 1e-78, -IBM_MIN]},
                 {"X": "Num"})
    raw = assert_same(ds, tmp_path)
    assert raw[9 * 80 + 160:9 * 80 + 168] == bytes(8)


@pytest.mark.parametrize("value", [2.0**249, 7.2e75, -1e76, float("inf"), 5e-79, -1e-300])
def test_magnitudes_ibm_cannot_hold_are_refused(tmp_path: Path, value: float) -> None:
    """From 2**249 up ReadStat (and our writer) would write the largest IBM float, and below
    16**-65 zero: a changed value, so the checks refuse it with its row."""
    ds = dataset({"X": [1.0, value]}, {"X": "Num"})
    with pytest.raises(ConformanceError) as caught:
        check_xpt_conformance(ds)
    assert caught.value.row == 2 and caught.value.column == "X"


def test_all_empty_char_column_has_length_one(tmp_path: Path) -> None:
    ds = dataset({"A": ["", "", ""], "N": [1.0, 2.0, 3.0]}, {"A": "Char", "N": "Num"})
    raw = assert_same(ds, tmp_path)
    assert int.from_bytes(raw[8 * 80 + 4:8 * 80 + 6], "big") == 1


def test_missing_text_is_blank_like_empty(tmp_path: Path) -> None:
    data = {"A": pd.Series(["x", None, np.nan, pd.NA, ""], dtype=object),
            "N": [1.0, 2.0, 3.0, 4.0, 5.0]}
    assert_same(dataset(data, {"A": "Char", "N": "Num"}), tmp_path)


def test_pandas_string_dtype_writes_like_object(tmp_path: Path) -> None:
    values = ["a", None, "bcd", "a"]
    obj = dataset({"A": pd.Series(values, dtype=object), "N": [1.0] * 4},
                  {"A": "Char", "N": "Num"})
    text = dataset({"A": pd.Series(values, dtype="str"), "N": [1, 1, 1, 1]},
                   {"A": "Char", "N": "Num"})
    assert our_bytes(text, tmp_path / "s.xpt") == assert_same(obj, tmp_path)


def test_lengths_one_and_200_and_blanks_kept(tmp_path: Path) -> None:
    data = {"A": ["y", "n", "y"], "B": ["z" * 200, " lead and trail  ", "b" * 199 + " "],
            "C": ["1", "", " "]}
    assert_same(dataset(data, {"A": "Char", "B": "Char", "C": "Char"}), tmp_path)


def test_text_ends_at_a_nul_byte_as_in_readstat(tmp_path: Path) -> None:
    """ReadStat copies text as C strings: after a NUL the value is blank-padded."""
    data = {"A": ["a\x00b", "xy", "\x00"], "N": [1.0, 2.0, 3.0]}
    raw = assert_same(dataset(data, {"A": "Char", "N": "Num"}), tmp_path)
    data_start = 9 * 80 + 320  # two NAMESTRs: 280 bytes padded to 320
    assert raw[data_start:data_start + 3] == b"a  "


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7, 100, 1001])
def test_namestr_block_padding_and_count(tmp_path: Path, count: int) -> None:
    """140-byte NAMESTRs are padded with blanks to whole 80-byte records."""
    raw = assert_same(wide(count), tmp_path)
    assert raw[7 * 80 + 48:7 * 80 + 58] == b"%010d" % count
    block = -(-140 * count // 80) * 80
    assert raw[8 * 80 + 140 * count:8 * 80 + block] == b" " * (block - 140 * count)


def wide(count: int) -> Dataset:
    data = {f"V{i}": [float(i), np.nan] if i % 2 else ["a", f"b{i}"] for i in range(count)}
    return dataset(data, {c: "Num" if i % 2 else "Char" for i, c in enumerate(data)})


def test_ten_thousand_variables(tmp_path: Path) -> None:
    """ReadStat writes the variable count in 5 digits from byte 53 ('0000010000' from 48)."""
    ds = wide(10_000)
    ours = our_bytes(ds, tmp_path / "ours.xpt")
    path = tmp_path / "p.xpt"
    pyreadstat.write_xport(pd.DataFrame({c.name: ds.data[c.name] for c in ds.columns}),
                           str(path), file_label=ds.label, table_name=ds.name,
                           column_labels=[c.label for c in ds.columns], file_format_version=5)
    pin_timestamps(path)
    assert ours == path.read_bytes()
    assert ours[7 * 80 + 48:7 * 80 + 58] == b"0000010000"


def test_labels_empty_and_40_characters(tmp_path: Path) -> None:
    ds = dataset({"A": ["x"], "B": [1.0], "C": ["y"]}, {"A": "Char", "B": "Num", "C": "Char"},
                 name="ABCDEFGH", label="", labels={"A": "", "B": "L" * 40, "C": "a " * 20})
    assert_same(ds, tmp_path)
    ds = dataset({"A": ["x"]}, {"A": "Char"}, name="Q", label="D" * 40, labels={"A": "M" * 40})
    assert_same(ds, tmp_path)


@pytest.mark.parametrize("fmt", ["DATE9.", "8.", "8.2", "$20.", "$CHAR20.", "YYMMDD10.",
                                 "BEST12.", "E8601DA10.", "E8601DTM19.", "DATETIME20.",
                                 "DATETIMEX20.", "date9.", "DATE9", "DATE.", "DATE", ".2",
                                 "8", "$", "$.", "$A", "A1B2.", "ISO8601", "COMMA10.2",
                                 "00008.002", "65537.65538", "A" * 32 + "5.", "DATE\x009.", "."])
def test_formats_as_readstat_parses_them(tmp_path: Path, fmt: str) -> None:
    """Name cut to 8 characters, width/decimals kept to 16 bits, justification by the
    variable's type and never by the format."""
    ds = dataset({"C": ["x"], "N": [1.0]}, {"C": "Char", "N": "Num"},
                 formats={"C": fmt, "N": fmt})
    assert_same(ds, tmp_path)


def test_parse_format() -> None:
    assert parse_format("DATE9.") == (b"DATE", 9, 0)
    assert parse_format("8.2") == (b"", 8, 2)
    assert parse_format("$CHAR20.") == (b"$CHAR", 20, 0)
    assert parse_format("E8601DTM19.") == (b"E8601DTM", 19, 0)
    assert parse_format("ABCDEFGHIJ9.") == (b"ABCDEFGH", 9, 0)
    assert parse_format(None) == parse_format("") == (b"", 0, 0)


@pytest.mark.parametrize("fmt", ["8.2.3", " DATE9.", "DATE9. ", "w.d", "1X.", "_X5.", "A_.",
                                 "$$3.", "DATE9..", "A" * 33 + "1."])
def test_formats_readstat_refuses_are_refused(tmp_path: Path, fmt: str) -> None:
    ds = dataset({"N": [1.0]}, {"N": "Num"}, formats={"N": fmt})
    with pytest.raises(OutputError, match="not understood"):
        our_bytes(ds, tmp_path / "bad.xpt")
    assert not (tmp_path / "bad.xpt").exists()
    with pytest.raises(Exception, match="could not be understood"):
        pyreadstat_bytes(ds, tmp_path / "p.xpt")


# -- failures ---------------------------------------------------------------------------------


def test_os_error_is_an_output_error(tmp_path: Path) -> None:
    ds = dataset({"A": ["x"]}, {"A": "Char"})
    target = tmp_path / "missing" / "a.xpt"
    with pytest.raises(OutputError, match="cannot write XPT") as info:
        our_bytes(ds, target)
    assert info.value.file == str(target)


def test_failure_while_writing_removes_the_partial_file(tmp_path: Path) -> None:
    """A value longer than its variable's length fails in the second chunk: no file stays."""
    data = pd.DataFrame({"A": ["ab"] * 5 + ["abc"]})
    target = tmp_path / "a.xpt"
    with pytest.raises(OutputError, match="longer than the variable length 2"):
        write_xpt_v5(target, "T", "", [XptVariable("A", "", "Char", 2)], data, chunk_rows=5)
    assert not target.exists()


def test_bad_metadata_leaves_an_existing_file_alone(tmp_path: Path) -> None:
    target = tmp_path / "a.xpt"
    target.write_bytes(b"old")
    with pytest.raises(OutputError, match="longer than 8 bytes"):
        write_xpt_v5(target, "TOOLONGNAME", "", [XptVariable("A", "", "Num")],
                     pd.DataFrame({"A": [1.0]}))
    assert target.read_bytes() == b"old"


def test_text_of_other_objects_is_their_str(tmp_path: Path) -> None:
    """As write_xpt's text_column: a number in a text column is written as str() of it."""
    data = {"A": pd.Series([1, "x", 2.5, None], dtype=object), "N": [1.0, 2.0, 3.0, 4.0]}
    assert_same(dataset(data, {"A": "Char", "N": "Num"}), tmp_path)


def test_encode_text_pads_cuts_and_adds_the_blank() -> None:
    table = encode_text(["ab", "", "a\x00b", "caf\u00e9"], 5)
    assert table.dtype == np.dtype("S5")
    assert list(table) == [b"ab   ", b"     ", b"a    ", b"caf\xc3\xa9", b"     "]
    with pytest.raises(ValueError, match="longer than the variable length 1"):
        encode_text(["ab"], 1)


def test_read_back_is_computed_once_and_callers_changes_stay_their_own() -> None:
    from cdisc.io.xpt import as_read_back

    ds = dataset({"A": ["x ", "y", None], "N": [1, 2, 3]}, {"A": "Char", "N": "Num"})
    first = as_read_back(ds)
    assert first["A"].tolist() == ["x", "y", ""] and first["N"].dtype == "float64"
    first["A"] = "changed"
    first.loc[0, "N"] = -1.0
    second = as_read_back(ds)
    assert second["A"].tolist() == ["x", "y", ""] and second["N"].tolist() == [1.0, 2.0, 3.0]
    ds.data = ds.data.assign(A=["z", "z", "z"])  # a new frame is read back anew
    assert as_read_back(ds)["A"].tolist() == ["z", "z", "z"]
