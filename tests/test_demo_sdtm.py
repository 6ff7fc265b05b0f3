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

EXPECTED = {"DM", "EX", "CM", "PR", "AE", "MH", "DS", "DD", "IE", "RS", "LB", "PC", "CP",
            "SUPPAE", "SUPPMH", "SUPPPR"}


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
    # nothing collected about a subject is left out; only the infusions recorded as not given
    assert rec["rejected"].sum() == 0
    assert demo.rejects.empty
    assert rec.set_index("file")["filtered"].to_dict() == {
        "ae.csv": 0, "cart.csv": 2, "death.csv": 0, "dm.csv": 0, "dx.csv": 0, "elig.csv": 0,
        "eos.csv": 0, "hsct.csv": 0, "ic.csv": 0, "kinetics.csv": 0, "lb.csv": 0, "ld.xpt": 0,
        "nact.csv": 0, "rs.csv": 0}


def test_kinetics_rows_reconcile_with_pc_and_cp(demo) -> None:
    """kinetics.csv's 990 rows: 429 qPCR (339 blood, 90 marrow) in PC, 429 CAR+ T cell (339 +
    90) and 132 CD123+ blast results in CP, none left in LB (10338 local results and 132 marrow
    blasts from rs.csv and dx.csv); each record traced to its own raw row."""
    rec = demo.reconciliation.set_index("file").loc["kinetics.csv"]
    assert (rec["read"], rec["mapped"], rec["filtered"]) == (990, 990, 0)
    pc, cp = demo.datasets["PC"].data, demo.datasets["CP"].data
    assert len(pc) == 429 and pc.groupby("PCSPEC").size().to_dict() == {"BLOOD": 339,
                                                                         "BONE MARROW": 90}
    assert cp.groupby("CPTESTCD").size().to_dict() == {"BLSBL": 132, "TLSTLY": 429}
    assert len(demo.datasets["LB"].data) == 10470
    kinetics = demo.trace[demo.trace["source_file"] == "kinetics.csv"]
    assert kinetics["source_row"].nunique() == 990 and set(kinetics["domain"]) == {"PC", "CP"}


def test_deliberate_bad_records_are_kept_and_queried(demo) -> None:
    """The bad records of cdisc/demo/FORMS.md: each lands in SDTM and has its data issue."""
    issues = demo.issues
    queried = {(r.file, r.row): r.issue for r in issues.itertuples()}
    assert queried[("ae.csv", 110)] == "AESER = Y but no seriousness criterion is Y"
    assert queried[("ae.csv", 236)] == "AEDECOD is required (SDTMIG Core Req) but empty"
    assert queried[("cart.csv", 26)] == "day 31 does not exist in 2021-02"
    assert queried[("cart.csv", 12)] == "not a number"
    for row in (2770, 7820, 9863):  # hemolyzed, '.', pending: LBSTAT = NOT DONE
        assert queried[("lb.csv", row)] == "no result reported (LBSTAT = NOT DONE)"
    assert queried[("lb.csv", 3607)] == "result is not a number"  # 'see comment' kept as text
    ae = demo.datasets["AE"].data
    assert len(ae) == 278
    unwell = ae[ae["AETERM"] == "felt unwell"]
    assert len(unwell) == 1 and unwell["AEDECOD"].iloc[0] == ""
    ex = demo.datasets["EX"].data
    s24 = ex[(ex["USUBJID"] == "NCT04265963-920-024") & (ex["EXCAT"] == "CAR-T")]
    assert sorted(s24["EXSTDTC"]) == ["2020-10-16", "2021-02"]  # raw 2021/02/31: kept, queried
    lb = demo.datasets["LB"].data
    not_done = lb[lb["LBSTAT"] == "NOT DONE"]
    assert sorted(not_done["LBREASND"]) == ["HEMOLYZED", "NOT REPORTED", "RESULT PENDING"]
    assert (not_done["LBORRES"] == "").all() and not_done["LBSTRESN"].isna().all()
    # the two QNS kinetics samples (kinetics.csv rows 461 and 490): kept, not done
    for domain, row in (("CP", 461), ("PC", 490)):
        ds = demo.datasets[domain]
        rows = ds.trace["source_row"].astype(int).to_numpy() == row
        rec = ds.data[rows].iloc[0]
        assert rows.sum() == 1 and rec[f"{domain}STAT"] == "NOT DONE"
        assert rec[f"{domain}REASND"] == "QUANTITY NOT SUFFICIENT" and rec[f"{domain}ORRES"] == ""
    comment = lb[lb["LBORRES"] == "see comment"]
    assert comment["LBSTRESC"].tolist() == ["see comment"] and comment["LBSTRESN"].isna().all()


def test_trace_covers_every_record(demo) -> None:
    counts = demo.trace.groupby("domain").size().to_dict()
    for name, ds in demo.datasets.items():
        if not name.startswith("SUPP"):
            assert counts[name] == len(ds.data)
    assert demo.trace["source_row"].min() >= 1


def test_supp_records_point_at_parents(demo) -> None:
    for name in ("SUPPAE", "SUPPMH", "SUPPPR"):
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
