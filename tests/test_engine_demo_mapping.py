"""DM and EX from the demo mapping on a hand-made mini study: every value derived by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from cdisc.sdtm.engine import map_study
from cdisc.sdtm.mapping import load_study
from cdisc.specs import load_specs


@pytest.fixture()
def result(mini_raw: Path, dm_ex_mapping: Path):
    specs = load_specs()
    return map_study(load_study(dm_ex_mapping, specs), mini_raw, specs)


def _dm(result) -> pd.DataFrame:
    return result.datasets["DM"].data.set_index("SUBJID")


def test_dm_one_record_per_subject(result) -> None:
    """Every subject collected is in DM, 920-005 too (its sex 'X' is kept and queried)."""
    dm = _dm(result)
    assert list(dm.index) == ["920-001", "920-002", "920-003", "920-004", "920-005"]
    assert dm.loc["920-001", "USUBJID"] == "NCT04265963-920-001"
    assert set(dm["DOMAIN"]) == {"DM"}


def test_dm_collected_values_through_ct(result) -> None:
    dm = _dm(result)
    assert list(dm["SEX"]) == ["M", "F", "M", "F", "X"]  # X is not a SEX term: kept, queried
    assert list(dm["RACE"]) == ["ASIAN", "ASIAN", "WHITE", "ASIAN", "ASIAN"]
    assert list(dm["ETHNIC"]) == ["NOT HISPANIC OR LATINO", "", "NOT HISPANIC OR LATINO",
                                  "NOT HISPANIC OR LATINO", "NOT HISPANIC OR LATINO"]
    assert list(dm["AGEU"]) == ["YEARS"] * 5
    assert list(dm["AGE"]) == [34.0, 8.0, 70.0, 45.0, 50.0]
    assert list(dm["COUNTRY"]) == ["CHN"] * 5
    assert list(dm["SITEID"]) == ["920"] * 5
    assert list(dm["BRTHDTC"]) == ["1986-03-12", "2012-06", "1950", "", ""]


def test_dm_reference_dates(result) -> None:
    dm = _dm(result)
    assert dm.loc["920-001", "RFSTDTC"] == "2021-01-15T14:30"
    # the second infusion is dated 2021/02/31: kept as 2021-02 (and queried), the latest dose
    assert dm.loc["920-001", "RFENDTC"] == "2021-02"
    assert dm.loc["920-001", "RFXSTDTC"] == "2021-01-10"
    assert dm.loc["920-001", "RFXENDTC"] == "2021-02"
    assert dm.loc["920-001", "RFICDTC"] == "2021-01-05"
    assert dm.loc["920-001", "RFPENDTC"] == "2022-01-15"
    # split dose: first infusion starts the study, the second ends treatment
    assert dm.loc["920-002", "RFSTDTC"] == "2021-02-06T09:00"
    assert dm.loc["920-002", "RFENDTC"] == "2021-02-07"
    assert dm.loc["920-002", "RFXSTDTC"] == "2021-02-01"
    # screen failure: no treatment dates at all
    assert dm.loc["920-003", ["RFSTDTC", "RFENDTC", "RFXSTDTC", "RFXENDTC"]].tolist() == [""] * 4
    # lymphodepleted, never infused: exposure dates, no reference start
    assert dm.loc["920-004", "RFSTDTC"] == ""
    assert dm.loc["920-004", "RFXSTDTC"] == "2021-03-01"
    assert dm.loc["920-004", "RFXENDTC"] == "2021-03-03"


def test_dm_death(result) -> None:
    dm = _dm(result)
    assert dm.loc["920-002", "DTHDTC"] == "2021-06"  # partial stays partial
    assert dm.loc["920-004", "DTHDTC"] == "2021-03-10"
    assert list(dm["DTHFL"]) == ["", "Y", "", "Y", ""]


def test_dm_arms(result) -> None:
    """Arms are the dose cohorts (elig.COHORT); a subject who started its arm (lymphodepletion)
    followed it whether or not the infusion came; only 920-005 got no treatment at all."""
    dm = _dm(result)
    dl1, dl2 = "CD123 CAR-T 0.5 x10^6 CAR+ cells/kg", "CD123 CAR-T 1.0 x10^6 CAR+ cells/kg"
    assert list(dm["ARMCD"]) == ["DL2", "DL1", "", "DL1", "DL1"]
    assert list(dm["ARM"]) == [dl2, dl1, "", dl1, dl1]
    assert list(dm["ACTARMCD"]) == ["DL2", "DL1", "", "DL1", ""]
    assert list(dm["ACTARM"]) == [dl2, dl1, "", dl1, ""]
    assert list(dm["ARMNRS"]) == ["", "", "SCREEN FAILURE", "", "ASSIGNED, NOT TREATED"]
    # RFENDTC wherever the subject was treated (CG0529): 920-004's last lymphodepletion dose
    assert list(dm["RFENDTC"]) == ["2021-02", "2021-02-07", "", "2021-03-03", ""]


def test_dm_variables_in_ig_order_with_req_and_exp(result) -> None:
    names = [c.name for c in result.datasets["DM"].columns]
    specs = load_specs()
    ig = specs.dataset("DM").variable_names
    assert names == [v for v in ig if v in names]
    for v in specs.dataset("DM").variables:
        if v.core in ("Req", "Exp"):
            assert v.name in names


def test_ex_records(result) -> None:
    ex = result.datasets["EX"].data
    s1 = ex[ex["USUBJID"] == "NCT04265963-920-001"]
    # keys: EXTRT then EXSTDTC; the infusion dated 2021/02/31 is kept as 2021-02
    assert list(s1["EXTRT"]) == ["CD123 CAR-T CELLS"] * 2 + ["CYCLOPHOSPHAMIDE"] * 3 + \
        ["FLUDARABINE"] * 3
    assert list(s1["EXSEQ"]) == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    assert list(s1["EXSTDTC"]) == ["2021-01-15T14:30", "2021-02", "2021-01-10", "2021-01-11",
                                   "2021-01-12", "2021-01-10", "2021-01-11", "2021-01-12"]
    assert s1["EXSTDY"].tolist()[1:] == [pytest.approx(math.nan, nan_ok=True), -5.0, -4.0,
                                          -3.0, -5.0, -4.0, -3.0]
    assert s1["EXSTDY"].iloc[0] == 1.0
    assert list(s1["EXDOSE"]) == [1.0, 1.0, 500.0, 500.0, 500.0, 30.0, 30.0, 30.0]
    assert list(s1["EXDOSU"]) == ["10^6/kg"] * 2 + ["mg/m2"] * 6
    assert list(s1["EXROUTE"]) == ["INTRAVENOUS"] * 8
    assert list(s1["EXCAT"]) == ["CAR-T"] * 2 + ["LYMPHODEPLETION"] * 6
    # February 2021 runs past day 28 (2021-02-12): the partial date lies in two epochs
    assert list(s1["EPOCH"]) == ["TREATMENT", ""] + ["TREATMENT"] * 6


def test_ex_split_dose_and_never_infused(result) -> None:
    ex = result.datasets["EX"].data
    cart = ex[ex["EXCAT"] == "CAR-T"]
    s2 = cart[cart["USUBJID"] == "NCT04265963-920-002"]
    assert list(s2["EXSTDTC"]) == ["2021-02-06T09:00", "2021-02-07"]
    assert list(s2["EXDOSE"]) == [0.5, 0.5]
    assert list(s2["EXSTDY"]) == [1.0, 2.0]
    s4 = ex[ex["USUBJID"] == "NCT04265963-920-004"]
    assert len(s4) == 6 and set(s4["EXCAT"]) == {"LYMPHODEPLETION"}
    assert s4["EXSTDY"].isna().all()  # no RFSTDTC, no study day
    assert set(s4["EPOCH"]) == {"TREATMENT"}  # open window: never infused


def test_rejects_data_issues_and_reconciliation(result) -> None:
    """Only the row of a subject unknown to DM is left out; values that cannot be mapped as
    collected keep their records and are listed with their query."""
    rej = result.rejects
    assert [(r.file, r.row, r.column, r.reason) for r in rej.itertuples()] == [
        ("cart.csv", 6, "SUBJECT", "subject not in DM")]
    issues = {(r.file, r.row, r.column): r for r in result.issues.itertuples()}
    sex = issues[("dm.csv", 5, "SEX")]
    assert (sex.value, sex.variable, sex.subject) == ("X", "SEX", "NCT04265963-920-005")
    assert sex.issue.startswith("not in codelist")
    date = issues[("cart.csv", 2, "INFDAT")]
    assert (date.value, date.variable) == ("2021/02/31", "EXENDTC EXSTDTC")
    assert date.issue == "day 31 does not exist in 2021-02"
    assert "Submitted as '2021-02'" in date.query
    rec = result.reconciliation.set_index("file")
    for file, r in rec.iterrows():
        assert r["read"] == r["mapped"] + r["rejected"] + r["filtered"] + r["unused"], file
    assert rec.loc["cart.csv", "filtered"] == 1
    assert rec.loc["cart.csv", "filters"] == "infusion not given: 1"
    assert rec.loc["cart.csv", "mapped"] == 4
    assert rec.loc["cart.csv", "rejected"] == 1
    assert rec.loc["ld.xpt", "mapped"] == 18
    assert rec.loc["dm.csv", "rejected"] == 0 and rec.loc["dm.csv", "mapped"] == 5


def test_trace_points_at_source_rows(result) -> None:
    trace = result.trace
    ex_trace = trace[(trace["domain"] == "EX") & (trace["USUBJID"] == "NCT04265963-920-001")]
    assert list(ex_trace["source_file"]) == ["cart.csv"] * 2 + ["ld.xpt"] * 6
    assert ex_trace["source_row"].iloc[0] == 1
    assert not math.isnan(ex_trace["seq"].iloc[0])


def test_supplemental_qualifiers(mini_raw: Path, dm_ex_mapping: Path) -> None:
    mapping = dm_ex_mapping
    text = (mapping / "EX.yaml").read_text()
    text = text.replace("    filter:\n      name: infusion not given",
                        "    supplemental:\n      INFTIMKN:\n        label: Infusion Time Known\n"
                        "        case:\n          - when: {column: INFTIM, missing: true}\n"
                        "            then: {hardcode: N}\n          - else: {hardcode: Y}\n"
                        "    filter:\n      name: infusion not given")
    (mapping / "EX.yaml").write_text(text)
    specs = load_specs()
    result = map_study(load_study(mapping, specs), mini_raw, specs)
    supp = result.datasets["SUPPEX"]
    assert [c.name for c in supp.columns] == ["STUDYID", "RDOMAIN", "USUBJID", "IDVAR",
                                              "IDVARVAL", "QNAM", "QLABEL", "QVAL", "QORIG",
                                              "QEVAL"]
    rows = supp.data[["USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL", "QORIG"]]
    assert rows.values.tolist() == [
        ["NCT04265963-920-001", "EXSEQ", "1", "INFTIMKN", "Infusion Time Known", "Y", "DERIVED"],
        ["NCT04265963-920-001", "EXSEQ", "2", "INFTIMKN", "Infusion Time Known", "Y", "DERIVED"],
        ["NCT04265963-920-002", "EXSEQ", "1", "INFTIMKN", "Infusion Time Known", "Y", "DERIVED"],
        ["NCT04265963-920-002", "EXSEQ", "2", "INFTIMKN", "Infusion Time Known", "N", "DERIVED"],
    ]
    ex = result.datasets["EX"].data
    parent = ex[(ex["USUBJID"] == "NCT04265963-920-002") & (ex["EXSEQ"] == 2)]
    assert parent["EXSTDTC"].iloc[0] == "2021-02-07"  # IDVARVAL points at the untimed infusion
