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


def test_dm_one_record_per_valid_subject(result) -> None:
    dm = _dm(result)
    assert list(dm.index) == ["920-001", "920-002", "920-003", "920-004"]
    assert dm.loc["920-001", "USUBJID"] == "NCT04265963-920-001"
    assert set(dm["DOMAIN"]) == {"DM"}


def test_dm_collected_values_through_ct(result) -> None:
    dm = _dm(result)
    assert list(dm["SEX"]) == ["M", "F", "M", "F"]
    assert list(dm["RACE"]) == ["ASIAN", "ASIAN", "WHITE", "ASIAN"]
    assert list(dm["ETHNIC"]) == ["NOT HISPANIC OR LATINO", "", "NOT HISPANIC OR LATINO",
                                  "NOT HISPANIC OR LATINO"]
    assert list(dm["AGEU"]) == ["YEARS"] * 4
    assert list(dm["AGE"]) == [34.0, 8.0, 70.0, 45.0]
    assert list(dm["COUNTRY"]) == ["CHN"] * 4
    assert list(dm["SITEID"]) == ["920"] * 4
    assert list(dm["BRTHDTC"]) == ["1986-03-12", "2012-06", "1950", ""]


def test_dm_reference_dates(result) -> None:
    dm = _dm(result)
    assert dm.loc["920-001", "RFSTDTC"] == "2021-01-15T14:30"
    assert dm.loc["920-001", "RFENDTC"] == "2021-01-15T14:30"
    assert dm.loc["920-001", "RFXSTDTC"] == "2021-01-10"
    assert dm.loc["920-001", "RFXENDTC"] == "2021-01-15T14:30"
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
    assert list(dm["DTHFL"]) == ["", "Y", "", "Y"]


def test_dm_arms(result) -> None:
    dm = _dm(result)
    assert list(dm["ARMCD"]) == ["CD123CAR", "CD123CAR", "", "CD123CAR"]
    assert list(dm["ARM"]) == ["CD123 CAR-T", "CD123 CAR-T", "", "CD123 CAR-T"]
    assert list(dm["ACTARMCD"]) == ["CD123CAR", "CD123CAR", "", ""]
    assert list(dm["ACTARM"]) == ["CD123 CAR-T", "CD123 CAR-T", "", ""]
    assert list(dm["ARMNRS"]) == ["", "", "SCREEN FAILURE", "ASSIGNED, NOT TREATED"]
    assert list(dm["ACTARMUD"]) == [""] * 4


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
    # keys: EXTRT then EXSTDTC; the 2021/02/31 infusion row is rejected
    assert list(s1["EXTRT"]) == ["CD123 CAR-T CELLS"] + ["CYCLOPHOSPHAMIDE"] * 3 + \
        ["FLUDARABINE"] * 3
    assert list(s1["EXSEQ"]) == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert list(s1["EXSTDTC"]) == ["2021-01-15T14:30", "2021-01-10", "2021-01-11",
                                   "2021-01-12", "2021-01-10", "2021-01-11", "2021-01-12"]
    assert list(s1["EXSTDY"]) == [1.0, -5.0, -4.0, -3.0, -5.0, -4.0, -3.0]
    assert list(s1["EXDOSE"]) == [1.0, 500.0, 500.0, 500.0, 30.0, 30.0, 30.0]
    assert list(s1["EXDOSU"]) == ["10^6/kg"] + ["mg/m2"] * 6
    assert list(s1["EXROUTE"]) == ["INTRAVENOUS"] * 7
    assert list(s1["EXCAT"]) == ["CAR-T"] + ["LYMPHODEPLETION"] * 6
    assert list(s1["EPOCH"]) == ["TREATMENT"] * 7


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


def test_rejects_and_reconciliation(result) -> None:
    rej = result.rejects
    reasons = {(r.file, r.row, r.column): r.reason for r in rej.itertuples()}
    assert reasons[("dm.csv", 5, "SEX")].startswith("SEX: not in codelist")
    assert "day 31" in reasons[("cart.csv", 2, "INFDAT")] or \
        "not a date" in reasons[("cart.csv", 2, "INFDAT")]
    assert reasons[("cart.csv", 6, "SUBJECT")] == "subject not in DM"
    # 920-005's rows in the joined forms: subject not in dm.csv once its DM record is rejected?
    rec = result.reconciliation.set_index("file")
    for file, r in rec.iterrows():
        assert r["read"] == r["mapped"] + r["rejected"] + r["filtered"] + r["unused"], file
    assert rec.loc["cart.csv", "filtered"] == 1
    assert rec.loc["cart.csv", "filters"] == "infusion not given: 1"
    assert rec.loc["cart.csv", "mapped"] == 3
    assert rec.loc["ld.xpt", "mapped"] == 18
    assert rec.loc["dm.csv", "rejected"] == 1


def test_trace_points_at_source_rows(result) -> None:
    trace = result.trace
    ex_trace = trace[(trace["domain"] == "EX") & (trace["USUBJID"] == "NCT04265963-920-001")]
    assert list(ex_trace["source_file"]) == ["cart.csv"] + ["ld.xpt"] * 6
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
        ["NCT04265963-920-002", "EXSEQ", "1", "INFTIMKN", "Infusion Time Known", "Y", "DERIVED"],
        ["NCT04265963-920-002", "EXSEQ", "2", "INFTIMKN", "Infusion Time Known", "N", "DERIVED"],
    ]
    ex = result.datasets["EX"].data
    parent = ex[(ex["USUBJID"] == "NCT04265963-920-002") & (ex["EXSEQ"] == 2)]
    assert parent["EXSTDTC"].iloc[0] == "2021-02-07"  # IDVARVAL points at the untimed infusion
