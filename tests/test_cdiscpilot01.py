"""The engine on another study's raw exports (pharmaverseraw, CDISC pilot): no study code."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdisc.sdtm.engine import map_study
from cdisc.sdtm.mapping import load_study
from cdisc.specs import load_specs
from tests.conftest import REFERENCE, REPO

RAW = REFERENCE / "pharmaverseraw" / "csv"
pytestmark = pytest.mark.skipif(not RAW.exists(), reason="../shared/reference not present")


@pytest.fixture(scope="module")
def result():
    specs = load_specs()
    return map_study(load_study(REPO / "mappings" / "cdiscpilot01", specs), RAW, specs)


def test_every_raw_row_is_mapped(result) -> None:
    rec = result.reconciliation.set_index("file")
    assert rec["read"].to_dict() == {"ae_raw.csv": 1191, "dm_raw.csv": 306, "ds_raw.csv": 850,
                                     "ec_raw.csv": 591}
    assert (rec["mapped"] == rec["read"]).all()
    assert len(result.rejects) == 0
    assert {k: len(v.data) for k, v in result.datasets.items()} == {
        "DM": 306, "EX": 591, "AE": 1191, "SUPPAE": 2382, "DS": 850}


def test_dm_values_match_the_pilot(result) -> None:
    dm = result.datasets["DM"].data.set_index("USUBJID")
    s = dm.loc["01-701-1015"]
    assert (s["SUBJID"], s["SITEID"], s["AGE"], s["SEX"], s["RACE"], s["ETHNIC"]) == \
        ("1015", "701", 63.0, "F", "WHITE", "HISPANIC OR LATINO")
    assert (s["RFSTDTC"], s["RFENDTC"], s["RFICDTC"], s["ARMCD"], s["ARM"]) == \
        ("2014-01-02", "2014-07-02", "2013-12-26", "Pbo", "Placebo")
    dead = dm.loc["01-701-1211"]
    assert (dead["DTHFL"], dead["DTHDTC"], dead["ARM"]) == ("Y", "2013-01-14",
                                                           "Xanomeline Low Dose")
    screen_failures = dm[dm["ARMNRS"] == "SCREEN FAILURE"]
    assert len(screen_failures) == 52 and (screen_failures["ARMCD"] == "").all()


def test_ex_and_ae_values(result) -> None:
    ex = result.datasets["EX"].data
    s = ex[ex["USUBJID"] == "01-701-1015"]
    assert list(s["EXSTDTC"]) == ["2014-01-02", "2014-01-17", "2014-06-19"]
    assert list(s["EXSTDY"]) == [1.0, 16.0, 169.0]
    assert set(s["EXDOSFRQ"]) == {"QD"} and set(s["EXDOSU"]) == {"mg"}
    ae = result.datasets["AE"].data
    first = ae[ae["USUBJID"] == "01-701-1015"].iloc[0]
    assert (first["AEDECOD"], first["AESEV"], first["AESTDTC"], first["AESTDY"]) == \
        ("APPLICATION SITE ERYTHEMA", "MILD", "2014-01-03", 2.0)
    assert set(ae["AESDTH"]) == {"", "Y"} and (ae["AESDTH"] == "Y").sum() == 3


def test_ds_categories(result) -> None:
    ds = result.datasets["DS"].data
    counts = ds.groupby("DSCAT").size().to_dict()
    assert counts == {"DISPOSITION EVENT": 306, "OTHER EVENT": 290, "PROTOCOL MILESTONE": 254}
    death = ds[(ds["USUBJID"] == "01-701-1211") & (ds["DSDECOD"] == "DEATH")]
    assert death["DSSTDTC"].tolist() == ["2013-01-14"]


def test_written_package_is_valid(tmp_path: Path) -> None:
    from cdisc.define import validate_define
    from cdisc.pipeline import run_sdtm

    run_sdtm(RAW, REPO / "mappings" / "cdiscpilot01", tmp_path / "out", formats=("xpt",))
    xml = (tmp_path / "out" / "define.xml").read_bytes()
    assert validate_define(xml, REFERENCE / "define-xml-2.1" / "schema") == []
