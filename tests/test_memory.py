"""The memory-lean assembly of SDTM datasets gives what the plain pandas steps give."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc.build import typed_table
from cdisc.io.raw import FILE_COL, ROW_COL
from cdisc.model import Column
from cdisc.sdtm.derive import derive_seq
from cdisc.sdtm.engine import shared_in_order, sorted_typed_table

COLUMNS = [Column("USUBJID", "Unique Subject Identifier", "Char"),
           Column("LBTESTCD", "Test Short Name", "Char"),
           Column("LBSTRESN", "Numeric Result", "Num"),
           Column("LBSEQ", "Sequence Number", "Num")]

records = st.lists(st.tuples(st.sampled_from(["S-1", "S-2", "S-3"]),
                             st.sampled_from(["ALT", "AST", "", None]),
                             st.one_of(st.none(), st.floats(-5, 5), st.just("2.5")),
                             st.integers(1, 4)), max_size=40)


def _table(rows: list[tuple]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=["USUBJID", "LBTESTCD", "LBSTRESN", "LBSEQ"],
                         dtype=object)
    table[FILE_COL] = "lb.csv"
    table[ROW_COL] = np.arange(1, len(table) + 1)
    return table


@settings(max_examples=60, deadline=None)
@given(records, st.sampled_from([["USUBJID", "LBSEQ"], ["LBTESTCD", "LBSTRESN", FILE_COL,
                                                        ROW_COL]]))
def test_sorted_typed_table_equals_typed_then_sorted(rows: list[tuple], by: list[str]) -> None:
    table = _table(rows)
    typed = typed_table("LB", COLUMNS, table)
    expected = typed.assign(**{FILE_COL: table[FILE_COL], ROW_COL: table[ROW_COL]}) \
        .sort_values(by, kind="stable").reset_index(drop=True)
    got = sorted_typed_table("LB", COLUMNS, table, by)
    pd.testing.assert_frame_equal(got, expected)
    assert table.columns.empty  # consumed: every column moved into the sorted table


def test_shared_in_order_shares_one_object_per_value() -> None:
    cells = np.array(["".join(["NOR", "MAL"]) for _ in range(100)] + ["HIGH"], dtype=object)
    assert len({id(v) for v in cells}) == 101
    got = shared_in_order(pd.Series(cells, name="LBNRIND"), np.arange(100, -1, -1))
    assert list(got) == ["HIGH"] + ["NORMAL"] * 100
    assert len({id(v) for v in got}) == 2
    assert got.name == "LBNRIND" and got.dtype == object
    assert got.index.equals(pd.RangeIndex(101))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["S-1", "S-2"]), st.integers(0, 3),
                          st.integers(0, 2)), max_size=30))
def test_derive_seq_by_keys_then_ties_equals_full_sort(rows: list[tuple]) -> None:
    df = pd.DataFrame(rows, columns=["USUBJID", "K", "REST"])
    df["OTHER"] = "unused"
    full = derive_seq(df, ["USUBJID", "K", "REST"])
    assert derive_seq(df, ["USUBJID", "K", "REST"], n_keys=2).equals(full)
