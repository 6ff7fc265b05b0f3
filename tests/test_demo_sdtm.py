"""The whole demo study through the SDTM engine: completeness, reconciliation, stability."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc.io.raw import read_raw
from cdisc.paths import DEMO_MAPPING_DIR, DEMO_RAW_DIR
from cdisc.sdtm.engine import map_study
from cdisc.sdtm.mapping import load_study
from cdisc.specs import load_specs

EXPECTED = {"DM", "EX", "CM", "PR", "AE", "MH", "DS", "RS", "LB", "SUPPAE", "SUPPDM", "SUPPLB",
            "SUPPMH",
            "SUPPPR"}


def run(raw: Path):
    specs = load_specs()
    return map_study(load_study(DEMO_MAPPING_DIR, specs), raw, specs)


@pytest.fixture(scope="module")
def demo():
    return run(DEMO_RAW_DIR)


def test_every_dataset_is_produced(demo) -> None:
    assert set(demo.datasets) == EXPECTED


def test_every_raw_row_is_accounted_for(demo) -> None:
    rec = demo.reconciliation
    assert (rec["read"] == rec["mapped"] + rec["rejected"] + rec["filtered"] + rec["unused"]).all()
    assert (rec["unused"] == 0).all()
    assert set(rec["file"]) == {p.name for p in DEMO_RAW_DIR.iterdir()}
    # the deliberate bad records of cdisc/demo/FORMS.md, each with its reason
    rej = demo.rejects[demo.rejects["action"] == "rejected"]
    per_file = rej.drop_duplicates(["file", "row"]).groupby("file").size().to_dict()
    assert per_file == {"ae.csv": 2, "cart.csv": 1, "lb.csv": 4}
    assert rej["reason"].str.startswith("AESER = Y but no seriousness criterion").sum() == 1
    assert set(rej.loc[rej["file"] == "lb.csv", "value"]) == {"hemolyzed", "see comment", ".",
                                                              "pending"}


def test_trace_covers_every_record(demo) -> None:
    counts = demo.trace.groupby("domain").size().to_dict()
    for name, ds in demo.datasets.items():
        if not name.startswith("SUPP"):
            assert counts[name] == len(ds.data)
    assert demo.trace["source_row"].min() >= 1


def test_supp_records_point_at_parents(demo) -> None:
    for name in ("SUPPAE", "SUPPLB", "SUPPMH", "SUPPPR"):
        supp = demo.datasets[name].data
        parent = demo.datasets[name[4:]].data
        seq = f"{name[4:]}SEQ"
        keys = set(zip(parent["USUBJID"], parent[seq].astype(int).astype(str), strict=True))
        assert set(zip(supp["USUBJID"], supp["IDVARVAL"], strict=True)) <= keys
        assert set(supp["IDVAR"]) == {seq}


def _shuffle_raw(src: Path, dst: Path, seed: int) -> None:
    import pyreadstat

    dst.mkdir()
    rng = np.random.default_rng(seed)
    for path in src.iterdir():
        if path.suffix == ".csv":
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
            df.iloc[rng.permutation(len(df))].to_csv(dst / path.name, index=False)
        else:
            shutil.copy(path, dst / path.name)
            df, meta = pyreadstat.read_xport(str(path))
            df = df.iloc[rng.permutation(len(df))]
            pyreadstat.write_xport(df, str(dst / path.name), file_format_version=5,
                                   table_name=meta.table_name,
                                   variable_format={"LDDAT": "DATE9."})


def test_sequence_numbers_do_not_depend_on_row_order(demo, tmp_path: Path) -> None:
    _shuffle_raw(DEMO_RAW_DIR, tmp_path / "raw", seed=3)
    shuffled = run(tmp_path / "raw")
    for name, ds in demo.datasets.items():
        pd.testing.assert_frame_equal(ds.data, shuffled.datasets[name].data, obj=name)


def test_dates_and_days_around_day_one(demo) -> None:
    ex = demo.datasets["EX"].data
    dm = demo.datasets["DM"].data.set_index("USUBJID")
    cart = ex[ex["EXCAT"] == "CAR-T"].drop_duplicates("USUBJID")
    first = cart.set_index("USUBJID")["EXSTDTC"]
    assert (first == dm.loc[first.index, "RFSTDTC"]).all()
    assert set(cart["EXSTDY"]) == {1.0}
    ld = ex[ex["EXCAT"] == "LYMPHODEPLETION"]
    assert set(ld.loc[ld["EXSTDY"].notna(), "EXSTDY"]) == {-5.0, -4.0, -3.0}


def test_raw_reader_keeps_text(tmp_path: Path) -> None:
    df = read_raw(DEMO_RAW_DIR / "dm.csv")
    assert {"__file", "__row"} <= set(df.columns)
    assert (df["AGEU"] == "YEARS ").any()  # trailing spaces survive reading
