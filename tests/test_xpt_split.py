"""Datasets over the size limit are also written as numbered parts under split/ (FDA TCG,
datasets over 5 GB), each within the limit, a subject never cut in two, and define.xml
describes every part."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from cdisc.errors import OutputError
from cdisc.cli import parse_size
from cdisc.io.xpt import part_ranges, read_xpt, write_xpt_split
from cdisc.model import Column, Dataset
from tests.conftest import REFERENCE

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1",
      "xlink": "http://www.w3.org/1999/xlink"}


def lab(records_per_subject: list[int]) -> Dataset:
    subjects = [f"S-{i:03d}" for i, k in enumerate(records_per_subject) for _ in range(k)]
    seq = [float(j + 1) for k in records_per_subject for j in range(k)]
    data = pd.DataFrame({"USUBJID": subjects, "LBSEQ": seq,
                         "LBORRES": ["12.5"] * len(seq)}).astype({"USUBJID": object,
                                                                  "LBORRES": object})
    return Dataset("LB", "Laboratory Test Results",
                   [Column("USUBJID", "Unique Subject Identifier", "Char"),
                    Column("LBSEQ", "Sequence Number", "Num"),
                    Column("LBORRES", "Result or Finding in Original Units", "Char")],
                   data, keys=("USUBJID", "LBSEQ"))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=40), st.integers(9, 30))
def test_ranges_cover_every_row_once_within_size_and_whole_subjects(sizes, max_rows) -> None:
    ds = lab(sizes)
    ranges = part_ranges(ds, max_rows)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(ds.data)
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
    assert all(0 < stop - start <= max_rows for start, stop in ranges)
    subject = ds.data["USUBJID"]
    for start, _ in ranges[1:]:
        assert subject.iloc[start] != subject.iloc[start - 1]


def test_parts_within_limit_and_equal_to_the_whole(tmp_path: Path) -> None:
    ds = lab([7] * 30)
    path = tmp_path / "lb.xpt"
    parts = write_xpt_split(ds, path, 3000)
    assert path.stat().st_size == 4800 and len(parts) == 3
    frames, done = [], 0
    for part in parts:
        file = tmp_path / part.href
        assert file.stat().st_size <= 3000
        data, meta = read_xpt(file)
        assert meta.table_name == part.name == f"LB{part.number}" and part.of == 3
        assert (part.first, part.last) == (done + 1, done + len(data))
        done += len(data)
        frames.append(data)
    whole, _ = read_xpt(path)
    pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), whole)


def test_small_dataset_is_not_split(tmp_path: Path) -> None:
    assert write_xpt_split(lab([3, 4]), tmp_path / "lb.xpt", 10**9) == []
    assert not (tmp_path / "split").exists()


def test_a_subject_larger_than_a_part_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="one subject"):
        write_xpt_split(lab([2, 60, 2]), tmp_path / "lb.xpt", 2000)


@pytest.mark.parametrize("text,size", [("5GB", 5 * 10**9), ("200KB", 200_000), ("80000", 80000),
                                       ("1.5MB", 1_500_000), ("4GiB", 4 * 2**30)])
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_parse_size_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size("five gigabytes")


def test_demo_sdtm_split_and_described_in_define(tmp_path: Path) -> None:
    from cdisc.paths import DEMO_MAPPING_DIR, DEMO_RAW_DIR
    from cdisc.pipeline import run_sdtm

    out = tmp_path / "sdtm"
    run_sdtm(DEMO_RAW_DIR, DEMO_MAPPING_DIR, out, ("xpt",), split_bytes=400_000)
    lb_parts = sorted((out / "split").glob("lb*.xpt"))
    assert len(lb_parts) >= 2 and (out / "lb.xpt").stat().st_size > 400_000
    assert all(p.stat().st_size <= 400_000 for p in (out / "split").iterdir())
    whole, _ = read_xpt(out / "lb.xpt")
    joined = pd.concat([read_xpt(p)[0] for p in sorted(lb_parts, key=lambda p: int(p.stem[2:]))],
                       ignore_index=True)
    pd.testing.assert_frame_equal(joined, whole)
    # a subject's records are in one part only
    owners = pd.concat([read_xpt(p)[0][["USUBJID"]].assign(part=p.name) for p in lb_parts])
    assert (owners.drop_duplicates().groupby("USUBJID").size() == 1).all()

    xml = (out / "define.xml").read_bytes()
    root = etree.fromstring(xml)
    groups = {g.get("Name"): g for g in root.iterfind(".//odm:ItemGroupDef", NS)}
    for path in lb_parts:
        group = groups[path.stem.upper()]
        assert group.get("Domain") == "LB"
        leaf = group.find("def:leaf", NS)
        assert leaf.get(f"{{{NS['xlink']}}}href") == f"split/{path.name}"
        assert [r.get("ItemOID") for r in group.iterfind("odm:ItemRef", NS)] == \
            [r.get("ItemOID") for r in groups["LB"].iterfind("odm:ItemRef", NS)]
    if REFERENCE.exists():
        from cdisc.define import validate_define

        assert validate_define(xml, REFERENCE / "define-xml-2.1" / "schema") == []
    assert np.isfinite(whole["LBSEQ"]).all()


def test_cli_split_size_option(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cdisc.cli import main

    out = tmp_path / "adam"
    bad = CliRunner().invoke(main, ["sdtm", "x", "--mapping", "y", "--out", str(out),
                                    "--split-size", "lots"])
    assert bad.exit_code == 2
    from cdisc.paths import DEMO_MAPPING_DIR, DEMO_RAW_DIR

    result = CliRunner().invoke(main, ["sdtm", str(DEMO_RAW_DIR), "--mapping",
                                       str(DEMO_MAPPING_DIR), "--out", str(out), "--format",
                                       "xpt", "--split-size", "300KB"])
    assert result.exit_code == 0, result.output
    names = {p.name for p in (out / "split").iterdir()}
    assert {"lb1.xpt", "lb2.xpt"} <= names
    assert all(p.stat().st_size <= 300_000 for p in (out / "split").iterdir())
