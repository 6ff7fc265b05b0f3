"""cdisc.io.xpt's text codes: each Char column is coded once per write (per distinct object
where the column shares its str objects, else per distinct value) and the checks, lengths,
observations and split parts all use those codes. The oracle: pyreadstat's bytes for the same
frame (tests/test_xpt_encode.pyreadstat_bytes), and the plain per-row text."""

from __future__ import annotations

import string
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdisc.errors import ConformanceError
from cdisc.io.xpt import (TextCodes, part_ranges, text_codes, write_xpt, write_xpt_split,
                          xpt_lengths)
from cdisc.model import Column, Dataset
from cdisc.text import text_column
from tests.test_xpt_encode import pyreadstat_bytes

WORDS = ["NORMAL", "HIGH", "LOW", "", "Y", "mg/dL", "CD123+ BLASTS"]
cells = st.one_of(st.sampled_from(WORDS), st.none(), st.just(float("nan")),
                  st.text(alphabet=string.ascii_letters + " ", max_size=6))


def _fresh(text: str) -> str:
    """An equal str that is another object."""
    return (text + "#")[:-1]


@st.composite
def text_columns(draw: st.DrawFn) -> pd.Series:
    """Object columns that share one object per value (as the mapping writes them), or make
    a new object per cell (as readers do), or mix both."""
    values = draw(st.lists(cells, max_size=80))
    shared = {w: w for w in WORDS}
    how = draw(st.sampled_from(["shared", "fresh", "mixed"]))
    out = []
    for i, v in enumerate(values):
        if isinstance(v, str) and (how == "fresh" or (how == "mixed" and i % 2)):
            out.append(_fresh(v))
        else:
            out.append(shared.get(v, v) if isinstance(v, str) else v)
    return pd.Series(out, dtype=object)


@settings(max_examples=200, deadline=None)
@given(text_columns())
def test_codes_give_back_every_row_as_text(values: pd.Series) -> None:
    coded = text_codes(values)
    assert coded.codes.dtype.kind == "i" and len(coded.codes) == len(values)
    assert coded.distinct.to_numpy()[coded.codes].tolist() == text_column(values).tolist()


def test_codes_follow_objects_when_shared_and_values_when_not() -> None:
    shared = pd.Series(["HIGH", "LOW"] * 50, dtype=object)
    assert text_codes(shared).distinct.tolist() == ["HIGH", "LOW"]
    fresh = pd.Series([_fresh("HIGH") for _ in range(100)], dtype=object)
    # a new object per cell: coded by value, so one distinct value
    assert text_codes(fresh).distinct.tolist() == ["HIGH"]
    assert text_codes(pd.Series([None, np.nan, "A"] * 20, dtype=object)).distinct.tolist() \
        == ["", "", "A"]


def test_rows_renumber_over_the_values_they_use() -> None:
    coded = TextCodes(np.array([0, 1, 2, 1, 3, 0]), pd.Series(["A", "BB", "CCC", "D"]))
    part = coded.rows(1, 4)  # rows BB CCC BB
    assert part.codes.tolist() == [0, 1, 0]
    assert part.distinct.tolist() == ["BB", "CCC"]
    assert part.byte_lengths.tolist() == [2, 3]


def test_byte_lengths_count_utf8_bytes() -> None:
    coded = text_codes(pd.Series(["é", "ab", ""], dtype=object))
    assert not coded.ascii
    assert coded.byte_lengths.tolist() == [2, 2, 0]
    assert text_codes(pd.Series(["ab", ""], dtype=object)).ascii


def _dataset(columns: dict[str, pd.Series]) -> Dataset:
    frame = pd.DataFrame(columns, columns=list(columns))
    return Dataset("LB", "Laboratory Test Results",
                   [Column(n, f"Label of {n}", "Char" if frame[n].dtype == object else "Num")
                    for n in frame.columns], frame)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_write_xpt_is_pyreadstat_s_bytes(data: st.DataObject) -> None:
    first = data.draw(text_columns())
    rows = len(first)
    second = data.draw(text_columns().filter(lambda c: len(c) >= rows)).iloc[:rows]
    ds = _dataset({"A": first, "B": second.reset_index(drop=True),
                   "N": pd.Series(np.arange(rows, dtype=float))})
    with tempfile.TemporaryDirectory() as tmp:
        write_xpt(ds, Path(tmp) / "ours.xpt")
        assert (Path(tmp) / "ours.xpt").read_bytes() == pyreadstat_bytes(ds, Path(tmp) / "o.xpt")


def test_split_parts_are_the_slices_written_alone(tmp_path: Path) -> None:
    subjects = [f"S-{i:03d}" for i in range(40)]
    # the long value only in the last subject's rows: the first parts get shorter lengths
    values = ["LOW", "HIGH"] * 99 + ["A MUCH LONGER VALUE THAN THE OTHERS", "LOW"]
    ds = _dataset({"USUBJID": pd.Series([s for s in subjects for _ in range(5)], dtype=object),
                   "LBNRIND": pd.Series(values, dtype=object),
                   "LBSTRESN": pd.Series(np.linspace(0, 1, 200))})
    parts = write_xpt_split(ds, tmp_path / "lb.xpt", 4_000)
    assert len(parts) > 2
    ranges = part_ranges(ds, parts[0].last - parts[0].first + 1)
    for part, (start, stop) in zip(parts, ranges, strict=True):
        alone = Dataset(part.name, ds.label, ds.columns,
                        ds.data.iloc[start:stop].reset_index(drop=True))
        write_xpt(alone, tmp_path / "alone.xpt")
        assert (tmp_path / part.href).read_bytes() == (tmp_path / "alone.xpt").read_bytes()
    first_length = xpt_lengths(Dataset("LB1", "", ds.columns,
                                       ds.data.iloc[:parts[0].last]))["LBNRIND"]
    assert first_length == 4  # "HIGH", not the long value of the last part


@pytest.mark.parametrize("bad, row", [(["OK", "OK", "caf\u00e9", "OK"], 3),
                                      (["OK", "X" * 201, "OK", "OK"], 2)])
def test_the_first_offending_row_is_named(tmp_path: Path, bad: list[str], row: int) -> None:
    ds = _dataset({"A": pd.Series(bad, dtype=object)})
    with pytest.raises(ConformanceError) as caught:
        write_xpt(ds, tmp_path / "a.xpt")
    assert caught.value.row == row and caught.value.column == "A"
    assert not (tmp_path / "a.xpt").exists()
