"""The engine on another study's raw exports (pharmaverseraw, CDISC pilot): no study code."""

from __future__ import annotations

import csv
from collections import Counter
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
                                     "ec_raw.csv": 591, "vs_raw.csv": 12978}
    forms = rec.drop(index="vs_raw.csv")  # vs_raw: see test_vs_reconciles
    assert (forms["mapped"] == forms["read"]).all()
    assert len(result.rejects) == 0
    assert {k: len(v.data) for k, v in result.datasets.items()} == {
        "DM": 306, "EX": 591, "AE": 1191, "SUPPAE": 2382, "DS": 850, "VS": 29635}


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


def test_every_rule_runs_or_says_why_on_the_pilot(tmp_path: Path) -> None:
    """Another sponsor's study (the CDISC pilot's raw exports, mapped): every rule of the
    catalogue is executed, or skipped / not executable with its reason."""
    from cdisc.pipeline import run_sdtm
    from cdisc.validate.core.runner import run_catalogue
    from cdisc.validate.run import read_submission

    run_sdtm(RAW, REPO / "mappings" / "cdiscpilot01", tmp_path / "out", formats=("xpt",))
    runs, _ = run_catalogue(read_submission(tmp_path / "out"))
    assert all(r.reason for r in runs if r.status in ("skipped", "not executable"))
    assert [r.rule for r in runs if r.status == "not executable"] == []
    assert sum(r.status in ("passed", "failed") for r in runs) >= 200  # 238 at this commit


# --- VS: the wide vital signs export, one record per test ---------------------------------------

VS_COLUMNS = {"HEIGHT": "IT.HEIGHT_VSORRES", "WEIGHT": "IT.WEIGHT", "TEMP": "IT.TEMP",
              "SYSBP": "SYS_BP", "DIABP": "DIA_BP", "PULSE": "PULSE"}


def _raw_vs() -> list[dict[str, str]]:
    with (RAW / "vs_raw.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _submission_values(codelist: str) -> set[str]:
    """A codelist's CDISC submission values, read straight from the vendored CT file."""
    with (REPO / "specs" / "ct" / "sdtm_ct.csv").open(encoding="utf-8", newline="") as fh:
        return {r["submission_value"] for r in csv.DictReader(fh) if r["codelist"] == codelist}


def test_vs_one_record_per_raw_value(result) -> None:
    raw = _raw_vs()
    expected = {code: sum(1 for r in raw if r[col].strip()) for code, col in VS_COLUMNS.items()}
    assert expected == {"HEIGHT": 254, "WEIGHT": 2050, "TEMP": 2720, "SYSBP": 8205,
                        "DIABP": 8205, "PULSE": 8201}
    vs = result.datasets["VS"].data
    assert dict(Counter(vs["VSTESTCD"])) == expected
    # every record carries its raw value as collected
    assert (vs["VSORRES"] != "").all()


def test_vs_supine_systolic_at_screening(result) -> None:
    vs = result.datasets["VS"].data
    hit = vs[(vs["USUBJID"] == "01-701-1015") & (vs["VISIT"] == "SCREENING 1")
             & (vs["VSTESTCD"] == "SYSBP") & (vs["VSPOS"] == "SUPINE")]
    assert len(hit) == 1
    s = hit.iloc[0]
    assert (s["VSTEST"], s["VSORRES"], s["VSORRESU"], s["VSSTRESC"], s["VSSTRESN"],
            s["VSSTRESU"]) == ("Systolic Blood Pressure", "131", "mmHg", "131", 131.0, "mmHg")
    assert (s["VSTPT"], s["VSTPTNUM"], s["VISITNUM"], s["VSDTC"], s["VSDY"], s["EPOCH"]) == \
        ("AFTER LYING DOWN FOR 5 MINUTES", 1.0, 1.0, "2013-12-26", -7.0, "SCREENING")
    # the same raw row gives the diastolic and pulse records, with the same position and time
    row = vs[(vs["USUBJID"] == "01-701-1015") & (vs["VSDTC"] == "2013-12-26")
             & (vs["VSTPTNUM"] == 1.0)].set_index("VSTESTCD")
    assert row["VSORRES"].to_dict() == {"SYSBP": "131", "DIABP": "64", "PULSE": "57"}
    assert set(row["VSPOS"]) == {"SUPINE"}
    assert row.loc["PULSE", "VSORRESU"] == "beats/min"


def test_vs_height_weight_temperature(result) -> None:
    vs = result.datasets["VS"].data
    s = vs[vs["USUBJID"] == "01-701-1015"].set_index(["VSTESTCD", "VISIT"])
    height = s.loc[("HEIGHT", "SCREENING 1")]
    assert (height["VSORRES"], height["VSORRESU"], height["VSSTRESN"], height["VSPOS"],
            height["VSTPT"]) == ("58.0", "in", 58.0, "", "")
    temp = s.loc[("TEMP", "SCREENING 1")]
    assert (temp["VSORRES"], temp["VSORRESU"], temp["VSLOC"]) == ("96.9", "F", "ORAL CAVITY")
    assert s.loc[("WEIGHT", "SCREENING 1"), ["VSORRES", "VSORRESU"]].tolist() == ["119.0", "LB"]
    # zero-padded exports ("067.0") stay as collected in VSORRES, as numbers in the standard
    padded = vs[(vs["VSTESTCD"] == "HEIGHT") & vs["VSORRES"].str.startswith("0")]
    assert len(padded) > 0
    assert (padded["VSSTRESN"] == padded["VSORRES"].astype(float)).all()
    assert not padded["VSSTRESC"].str.startswith("0").any()
    # temperature location as collected; nothing else has one
    assert set(vs.loc[vs["VSTESTCD"] == "TEMP", "VSLOC"]) == {"ORAL CAVITY", "EAR"}
    assert set(vs.loc[vs["VSTESTCD"] != "TEMP", "VSLOC"]) == {""}


def test_vs_heights_in_another_unit_are_queried(result) -> None:
    """The CRF prints inches; a height above 96 was written in cm: it is listed for a query."""
    raw = _raw_vs()
    implausible = {i for i, r in enumerate(raw, start=1)
                   if r["IT.HEIGHT_VSORRES"].strip()
                   and float(r["IT.HEIGHT_VSORRES"]) > 96}
    assert len(implausible) == 9
    issues = result.issues
    heights = issues[(issues["domain"] == "VS") & (issues["column"] == "IT.HEIGHT_VSORRES")]
    assert set(heights["row"].astype(int)) == implausible


def test_vs_last_observation_before_exposure(result) -> None:
    vs = result.datasets["VS"].data
    s = vs[(vs["USUBJID"] == "01-701-1015") & (vs["VSLOBXFL"] == "Y")]
    # first dose 2014-01-02 (the baseline visit): one flag per test and time point
    assert sorted(zip(s["VSTESTCD"], s["VSTPTNUM"].fillna(0), s["VISIT"])) == [
        ("DIABP", 1.0, "BASELINE"), ("DIABP", 2.0, "BASELINE"), ("DIABP", 3.0, "BASELINE"),
        ("HEIGHT", 0, "SCREENING 1"),
        ("PULSE", 1.0, "BASELINE"), ("PULSE", 2.0, "BASELINE"), ("PULSE", 3.0, "BASELINE"),
        ("SYSBP", 1.0, "BASELINE"), ("SYSBP", 2.0, "BASELINE"), ("SYSBP", 3.0, "BASELINE"),
        ("TEMP", 0, "BASELINE"), ("WEIGHT", 0, "BASELINE")]
    assert set(vs["VSLOBXFL"]) == {"", "Y"}


def test_vs_reconciles(result) -> None:
    raw = _raw_vs()
    no_result = sum(1 for r in raw if not any(r[c].strip() for c in VS_COLUMNS.values()))
    assert no_result == 3  # a position and time point with no measurement
    rec = result.reconciliation.set_index("file").loc["vs_raw.csv"]
    assert rec["read"] == len(raw) == 12978
    assert rec["read"] == rec["mapped"] + rec["rejected"] + rec["filtered"] + rec["unused"]
    assert (rec["mapped"], rec["rejected"], rec["filtered"], rec["unused"]) == \
        (len(raw) - no_result, 0, no_result, 0)
    assert rec["filters"] == f"no vital sign result on the row: {no_result}"


def test_vs_values_are_ct_submission_values(result) -> None:
    vs = result.datasets["VS"].data
    assert set(vs["VSTESTCD"]) <= _submission_values("VSTESTCD")
    assert set(vs["VSTEST"]) <= _submission_values("VSTEST")
    assert set(vs["VSORRESU"]) <= _submission_values("VSRESU")
    assert set(vs["VSSTRESU"]) <= _submission_values("VSRESU")
    assert set(vs["VSPOS"]) - {""} <= _submission_values("POSITION")
    assert set(vs["VSPOS"]) == {"", "SUPINE", "STANDING"}
    assert set(vs["VSLOC"]) - {""} <= _submission_values("LOC")
    assert set(vs["EPOCH"]) - {""} <= _submission_values("EPOCH")
    # visits from the study's table, in the order they happen
    order = vs.drop_duplicates("VISIT").sort_values("VISITNUM")["VISIT"].tolist()
    assert order[:6] == ["SCREENING 1", "SCREENING 2", "BASELINE", "UNSCHEDULED 3.1",
                         "AMBUL ECG PLACEMENT", "WEEK 2"]
    assert vs["VISITNUM"].notna().all() and (vs["VSDTC"].str.len() == 10).all()
