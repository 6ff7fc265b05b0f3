"""read_raw's CSV fast path (cdisc.io.raw._scan_csv + pandas straight from the bytes) against the
reference reader (the csv module over the decoded text, then pandas, as read_raw always did).

The scan must either give the csv module's answer (header, first ragged row, unclosed quote at
the end, with the same row numbers) or give up (None), in which case read_raw goes through the
reference reader. Property tests feed it generated CSV in small chunks so that quotes, CR LF
and records straddle chunk boundaries; hand-written cases pin the row numbers.
"""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from cdisc.errors import InputError
from cdisc.io import raw
from cdisc.io.raw import read_raw

BOM = "\ufeff"


# ---------------------------------------------------------------------------------------------
# the reference: what the csv module makes of the text (as read_raw did before the fast path)


def csv_answer(data: bytes) -> tuple:
    """("ok", header, ragged) with ragged the (row, fields) of the first data record whose field
    count differs from the header's (blank lines skipped but counted), ("unclosed", header,
    row) for a quote the file ends inside, ("quirk", header, message) where the strict csv
    module refuses the text (the fast path must then give up)."""
    text = data.decode("utf-8-sig")
    header = next(csv.reader([text.splitlines()[0]]))
    width = len(header)
    done = 0
    try:
        for number, fields in enumerate(csv.reader(io.StringIO(text), strict=True)):
            if number and fields and len(fields) != width:
                return ("ok", header, (number, len(fields)))
            done = number + 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            return ("unclosed", header, done)
        return ("quirk", header, str(exc))
    return ("ok", header, None)


def scan_answer(data: bytes, chunk_size: int) -> tuple | None:
    scan = raw._scan_csv(io.BytesIO(data), chunk_size)
    if scan is None:
        return None
    if scan.unclosed is not None:
        assert scan.ragged is None
        return ("unclosed", scan.header, scan.unclosed)
    return ("ok", scan.header, scan.ragged)


def assert_agrees(data: bytes, chunk_size: int, *, must_decide: bool) -> tuple | None:
    got = scan_answer(data, chunk_size)
    want = csv_answer(data)
    event(f"scan {'gave up' if got is None else got[0]}, csv {want[0]}"
          f"{' ragged' if want[0] == 'ok' and want[2] else ''}")
    if got is None:
        assert not must_decide, f"fast path gave up on plain CSV {data!r}: {want}"
    else:
        assert want[0] != "quirk", f"fast path decided {got} where csv says {want}: {data!r}"
        assert got == want, data
    return got


# ---------------------------------------------------------------------------------------------
# generated CSV

PLAIN_CHARS = st.sampled_from(["a", "b", "1", " ", "é", "€", "\t", "NA", "x y"])
QUOTED_CHARS = st.sampled_from(["a", ",", "\n", "\r\n", "\r", '""', " ", "é", ",,", '"",'])
LINE_ENDS = st.sampled_from(["\n", "\r\n"])


@st.composite
def plain_field(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return "".join(draw(st.lists(PLAIN_CHARS, max_size=3)))
    return '"' + "".join(draw(st.lists(QUOTED_CHARS, max_size=4))) + '"'


@st.composite
def plain_csv(draw: st.DrawFn) -> bytes:
    """CSV as an export writes it (quotes only around whole fields, "" inside), with blank lines,
    short and long rows, CR LF or LF, maybe no final line end, maybe cut inside a quote."""
    width = draw(st.integers(1, 4))
    end = draw(LINE_ENDS)
    lines = [",".join(f"c{i}" for i in range(width))]
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.integers(0, 9)) == 0:
            lines.append("")  # blank line
            continue
        n = width if draw(st.integers(0, 3)) else draw(st.integers(1, 6))
        lines.append(",".join(draw(plain_field()) for _ in range(n)))
    text = end.join(lines) + (end if draw(st.booleans()) else "")
    if draw(st.integers(0, 5)) == 0:  # a truncated export: a quote opens and never closes
        cut = draw(st.sampled_from(['"', '"abc', '"x\ny', '"a""b', '"a,b\r\n']))
        text += cut if text.endswith("\n") else "," + cut
    if draw(st.integers(0, 4)) == 0:
        text = BOM + text
    return text.encode("utf-8")


ANY_CHARS = st.sampled_from(["a", ",", '"', "\n", "\r", "\r\n", " ", "é", '""', "\x0b", "\u2028"])


@st.composite
def any_csv(draw: st.DrawFn) -> bytes:
    """Anything made of CSV's special characters: quotes inside fields, text after a closing
    quote, lone CR, ... (the fast path may give up, but must not answer wrong)."""
    width = draw(st.integers(1, 3))
    head = ",".join(f"c{i}" for i in range(width)) + draw(st.sampled_from(["\n", "\r\n", ""]))
    body = "".join(draw(st.lists(ANY_CHARS, max_size=40)))
    return (head + body).encode("utf-8")


CHUNK = st.integers(1, 48)
SETTINGS = settings(max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(plain_csv(), CHUNK)
def test_scan_decides_plain_csv_as_the_csv_module(data: bytes, chunk_size: int) -> None:
    assert_agrees(data, chunk_size, must_decide=True)


@SETTINGS
@given(any_csv(), CHUNK)
@example(b'c0\n"a"b\n', 4)  # text after a closing quote
@example(b'c0,c1\nab"c,d\n', 3)  # a quote inside an unquoted field
@example(b"c0,c1\r1,2\r", 64)  # CR alone as line end
def test_scan_never_contradicts_the_csv_module(data: bytes, chunk_size: int) -> None:
    assert_agrees(data, chunk_size, must_decide=False)


@contextmanager
def field_size_limit(limit: int):  # type: ignore[no-untyped-def]
    old = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(old)


@settings(max_examples=200, deadline=None)
@given(plain_csv(), CHUNK)
def test_scan_gives_up_on_fields_over_the_csv_limit(data: bytes, chunk_size: int) -> None:
    # with a limit of 6 characters csv raises "field larger than field limit" on many of these
    with field_size_limit(6):
        try:
            csv_answer(data)
        except csv.Error:  # in the header line itself
            assert scan_answer(data, chunk_size) is None
            return
        assert_agrees(data, chunk_size, must_decide=False)


# ---------------------------------------------------------------------------------------------
# hand-written cases, the rows counted by hand (row 1 = the first record after the header)

CASES = [
    # (csv text, (ragged row, fields) or None, unclosed row or None)
    ("a,b\n1,2\n3,4\n", None, None),
    ("a,b\n1,2\n3\n", (2, 1), None),
    ("a,b\n1,2\n3,4,5\n6\n", (2, 3), None),
    ("a,b\n1,2\n3", (2, 1), None),  # the last line has no line end
    ("a,b\n\n\n1,2\n3\n", (4, 1), None),  # blank lines are skipped but counted
    ("a,b\r\n1,2\r\n\r\n3\r\n", (3, 1), None),
    ('a,b\n"x\ny",2\n3\n', (2, 1), None),  # a record over two lines is one row
    ('a,b\n"x,y",2\n"p""q",r,s\n', (2, 3), None),
    ('a,b\n"say ""hi"", ok",2\n"",""\n', None, None),
    ('a,b\n1,"2\r\n3"\r\n', None, None),
    ('a,b\n1,2\n3,"x\n4,5\n', None, 2),  # the quote opens in row 2 and never closes
    ('a,b\n\n1,"x', None, 2),
    ('a,b\n1,2\n"', None, 2),
    ('a,"b\n1,2\n', None, 0),  # in the header
    ('a,b\n1\n2,"x', (1, 1), None),  # the ragged row comes first
    ("\ufeffa,b\n1,2,3\n", (1, 3), None),
    ("a\n \n1\n", None, None),  # white space is a one-field row
    ("a,b\n \n1,2\n", (1, 1), None),
]


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 1 << 20])
@pytest.mark.parametrize("text,ragged,unclosed", CASES)
def test_hand_written_rows(text: str, ragged, unclosed, chunk_size: int) -> None:
    data = text.encode("utf-8")
    scan = raw._scan_csv(io.BytesIO(data), chunk_size)
    assert scan is not None
    assert (scan.ragged, scan.unclosed) == (ragged, unclosed)
    assert csv_answer(data)[2] == (ragged if unclosed is None else unclosed)


@pytest.mark.parametrize("data", [
    b'a,b\n1,x"y\n',  # a quote inside an unquoted field
    b'a,b\n"x"y,2\n',  # text after a closing quote
    b"a,b\r1,2\r",  # CR alone ends lines
    b"a,b\n1,2\r3\n",
    b"a,b\n1,2\r",  # CR at the very end
    b"a,b\n1,\x00\n",  # NUL
    b"a,b\n1,\xe9\n",  # latin-1, not UTF-8
    b"",
    b"\n \n",
    b"a,b\n1," + b"x" * 131073 + b"\n",  # over the csv field size limit
    b"a," + b"h" * 131073 + b"\n1,2\n",
])
def test_scan_leaves_these_to_the_reference(data: bytes) -> None:
    assert raw._scan_csv(io.BytesIO(data), 5) is None
    assert raw._scan_csv(io.BytesIO(data)) is None


# ---------------------------------------------------------------------------------------------
# read_raw end to end: the same frame, or the same error, as the reference reader


def outcome(read, path: Path):  # type: ignore[no-untyped-def]
    try:
        return ("frame", read(path))
    except InputError as exc:
        return ("error", exc.message, exc.file, exc.row, exc.column)
    except csv.Error as exc:
        return ("csv.Error", str(exc))


def assert_same_as_reference(path: Path) -> None:
    got, want = outcome(raw._read_csv, path), outcome(raw._read_csv_text, path)
    assert got[0] == want[0], (got, want)
    if got[0] == "frame":
        pd.testing.assert_frame_equal(got[1], want[1], check_dtype=True, check_exact=True,
                                      check_index_type=True, check_column_type=True)
        for col in got[1].columns:
            values = got[1][col].to_numpy()
            assert len({id(v) for v in values}) == len(set(values)), col
    else:
        assert got == want


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.one_of(plain_csv(), any_csv()))
def test_read_raw_matches_the_reference_reader(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "form.csv"
    path.write_bytes(data)
    assert_same_as_reference(path)


@pytest.mark.parametrize("data", [
    b"a,b\n1,2\n3\n",
    b'a,b\n1,"x\n',
    b"\xef\xbb\xbf\xef\xbb\xbfa,b\n1,2\n",  # a second BOM: pandas drops it as it always did
    b"a;b\n1;2\n",
    b"a,b,a\n1,2,3\n",
    b"a,b\n1,\xe9\n",
    b"a,b\n1,\x00\n",
    b"\n\n",
    b"a,b,c\nNA,,null\n\"\",\"x,y\",\"p\nq\"\n",
    b"a,b\n1,2\n \n",  # pandas drops a line of spaces as blank
    b"a\n1\n \n2\n",
    b"a,b\x0cc\n1,2\n",  # splitlines() cuts the header line at a form feed
    b"a,b\n1,2\r\r\n",
    b"a,b\r\n",
])
def test_read_raw_edge_files_match_the_reference(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "form.csv"
    path.write_bytes(data)
    assert_same_as_reference(path)


def test_ragged_and_unclosed_errors_name_file_and_row(tmp_path: Path) -> None:
    path = tmp_path / "ae.csv"
    path.write_text("A,B,C\n1,2,3\n\n4,5\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_raw(path)
    assert (err.value.message, err.value.file, err.value.row) == (
        "row has 2 fields, header has 3", "ae.csv", 3)
    path.write_text('A,B,C\n1,2,3\n4,"5,6\n7,8,9\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_raw(path)
    assert err.value.one_line() == ("ae.csv, row 2: unclosed quote: a quoted field starts in "
                                    "this row and the file ends inside it (truncated export?)")


def test_large_file_shares_one_str_per_distinct_value(tmp_path: Path) -> None:
    """More rows than pandas parses at a time in low-memory mode: still one str object per
    distinct value and column, and nothing guessed (leading zeros, NA, empty stay text)."""
    rows = 300_000
    path = tmp_path / "lb.csv"
    units = ["g/L", "NA", "", "007", "1.0"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("\ufeffSUBJECT,LBORRES,LBORRESU\r\n")
        fh.writelines(f"S{i % 1000:04d},{i % 97},{units[i % 5]}\r\n" for i in range(rows))
    df = read_raw(path)
    assert list(df.columns) == ["__file", "__row", "SUBJECT", "LBORRES", "LBORRESU"]
    assert len(df) == rows and df["__row"].iloc[-1] == rows
    assert set(df["LBORRESU"]) == set(units)
    for col in ("SUBJECT", "LBORRES", "LBORRESU"):
        values = df[col].to_numpy()
        assert df[col].dtype == object
        assert all(type(v) is str for v in values[:1000])
        assert len({id(v) for v in values}) == len(set(values)), col


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_a_bad_byte_is_named_with_its_line_after_a_byte_order_mark(tmp_path: Path,
                                                                    bom: bytes) -> None:
    path = tmp_path / "ae.csv"
    path.write_bytes(bom + b"a,b\n1,caf\xe9\n2,x\n")
    with pytest.raises(InputError) as caught:
        read_raw(path)
    assert caught.value.one_line() == "ae.csv: not UTF-8 text: byte 0xe9 at line 2 " \
        "(re-export the file as UTF-8)"
