"""ADAE golden records and the partial-date imputation rule, derived by hand from the demo
configuration (mappings/nct04265963/adam.yaml adverse_events): subject A had lymphodepletion
from 2021-01-05 and the CAR-T infusion on 2021-01-10; subject B lymphodepletion only (from
2021-03-01); subject C neither (a screen failure with a screening AE)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc.adam.build import derive_from_sdtm
from cdisc.adam.config import load_config
from cdisc.adam.impute import impute_date
from cdisc.errors import SpecError
from cdisc.paths import DEMO_MAPPING_DIR

CONFIG = load_config(DEMO_MAPPING_DIR / "adam.yaml")


def sas(iso: str) -> float:
    return float((dt.date.fromisoformat(iso) - dt.date(1960, 1, 1)).days)


def d(iso: str) -> pd.Timestamp:
    return pd.Timestamp(iso)


# --- imputation ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtc, how, bound, expected, flag", [
    ("2021-03", "first", None, "2021-03-01", "D"),
    ("2021-03", "last", None, "2021-03-31", "D"),
    ("2020-02", "last", None, "2020-02-29", "D"),      # leap year
    ("2021-02", "last", None, "2021-02-28", "D"),
    ("1900-02", "last", None, "1900-02-28", "D"),      # 1900 is not a leap year
    ("2021", "first", None, "2021-01-01", "M"),
    ("2021", "last", None, "2021-12-31", "M"),
    ("2021---15", "first", None, "2021-01-01", "M"),   # a day without its month places nothing
    # the first dose inside the month the event started: the onset is not before it
    ("2021-03", "first", "2021-03-17", "2021-03-17", "D"),
    ("2021", "first", "2021-03-17", "2021-03-17", "M"),
    # a bound outside the partial date's range changes nothing
    ("2021-03", "first", "2021-04-02", "2021-03-01", "D"),
    ("2021-03", "first", "2021-02-27", "2021-03-01", "D"),
    # an end not after death within the month
    ("2021-03", "last", "2021-03-09", "2021-03-09", "D"),
    ("2021-03", "last", "2021-04-09", "2021-03-31", "D"),
    # complete dates are never moved, whatever the bound
    ("2021-03-05", "first", "2021-03-17", "2021-03-05", ""),
    ("2021-03-05T10:30", "last", "2021-03-01", "2021-03-05", ""),
])
def test_imputation_golden(dtc, how, bound, expected, flag) -> None:
    bounds = [pd.Series([pd.Timestamp(bound)])] if bound else []
    date, got_flag = impute_date(pd.Series([dtc]), how, bounds)
    assert date.iloc[0] == pd.Timestamp(expected)
    assert got_flag.iloc[0] == flag


@pytest.mark.parametrize("dtc", ["", "2021-02-30", "2021-13", "UNK", None])
def test_no_date_is_invented(dtc) -> None:
    date, flag = impute_date(pd.Series([dtc], dtype=object), "first")
    assert pd.isna(date.iloc[0]) and flag.iloc[0] == ""


@settings(max_examples=80, deadline=None)
@given(st.dates(dt.date(1950, 1, 1), dt.date(2050, 12, 31)), st.sampled_from([4, 7, 10]),
       st.dates(dt.date(1950, 1, 1), dt.date(2050, 12, 31)))
def test_imputed_dates_stay_in_the_collected_range(day, length, bound) -> None:
    dtc = pd.Series([day.isoformat()[:length]])
    low, low_flag = impute_date(dtc, "first", [pd.Series([pd.Timestamp(bound)])])
    high, _ = impute_date(dtc, "last", [pd.Series([pd.Timestamp(bound)])])
    first, last = low.iloc[0], high.iloc[0]
    assert first <= last
    # what was collected is kept: the imputed dates start with the collected text
    assert first.date().isoformat().startswith(dtc.iloc[0])
    assert last.date().isoformat().startswith(dtc.iloc[0])
    assert low_flag.iloc[0] == {4: "M", 7: "D", 10: ""}[length]
    if length < 10 and bound.isoformat().startswith(dtc.iloc[0]):
        assert first.date() == bound  # the bound inside the range wins (it is later)


# --- ADAE golden records ----------------------------------------------------------------

def sdtm() -> dict[str, pd.DataFrame]:
    subjects = ["A", "B", "C"]
    dm = pd.DataFrame({
        "STUDYID": "S", "USUBJID": subjects, "SUBJID": subjects, "SITEID": "1",
        "AGE": [30.0, 40.0, 50.0], "AGEU": "YEARS", "SEX": "F", "RACE": "ASIAN", "ETHNIC": "",
        "COUNTRY": "CHN", "ARM": ["Dose 1", "Dose 2", ""], "ARMCD": ["DL1", "DL2", ""],
        "ACTARM": ["Dose 1", "Dose 2", ""], "ACTARMCD": ["DL1", "DL2", ""],
        "DTHFL": ["", "Y", ""], "DTHDTC": ["", "2021-03-09", ""]})
    ex = pd.DataFrame({
        "USUBJID": ["A", "A", "B"], "EXSEQ": [1.0, 2.0, 1.0],
        "EXCAT": ["LYMPHODEPLETION", "CAR-T", "LYMPHODEPLETION"],
        "EXSTDTC": ["2021-01-05", "2021-01-10T10:00", "2021-03-01"],
        "EXENDTC": ["2021-01-07", "2021-01-10T10:00", "2021-03-03"]})
    rows = [
        # USUBJID, AESEQ, AEDECOD, AEBODSYS, AESTDTC, AEENDTC, AETOXGR, AEREL, AESER, AEOUT
        ("A", 1, "Nausea", "Gastrointestinal disorders", "2021-01-06", "2021-01-08", "1",
         "POSSIBLY RELATED", "N", "RECOVERED/RESOLVED"),
        ("A", 2, "Pyrexia", "General disorders and administration site conditions", "2021-01",
         "2021-01-20", "2", "RELATED", "N", "RECOVERED/RESOLVED"),
        ("A", 3, "Cytokine release syndrome", "Immune system disorders", "2021-02-15", "2021-02",
         "3", "RELATED", "Y", "RECOVERED/RESOLVED"),
        ("A", 4, "Neutrophil count decreased", "Investigations", "2021-01-20", "2021-02-06",
         "3", "", "N", "RECOVERED/RESOLVED"),
        ("A", 5, "Neutrophil count decreased", "Investigations", "2021-03-01", "2021-03-04",
         "4", "NOT RELATED", "N", "RECOVERED/RESOLVED"),
        ("A", 6, "Platelet count decreased", "Investigations", "2021-01-20", "2021-02-05",
         "3", "RELATED", "N", "RECOVERED/RESOLVED"),
        ("A", 7, "Neutrophil count decreased", "Investigations", "2021-01-12", "2021-01-15",
         "2", "RELATED", "N", "RECOVERED/RESOLVED"),
        ("B", 1, "Pneumonia", "Infections and infestations", "2021-03-02", "2021-03", "5",
         "PROBABLY RELATED", "Y", "FATAL"),
        ("C", 1, "Headache", "Nervous system disorders", "2020-12", "", "1", "NOT RELATED",
         "N", "NOT RECOVERED/NOT RESOLVED"),
    ]
    ae = pd.DataFrame(rows, columns=["USUBJID", "AESEQ", "AEDECOD", "AEBODSYS", "AESTDTC",
                                     "AEENDTC", "AETOXGR", "AEREL", "AESER", "AEOUT"])
    ae = ae.assign(STUDYID="S", DOMAIN="AE", AETERM=ae["AEDECOD"], AESOC=ae["AEBODSYS"],
                   AESEQ=ae["AESEQ"].astype(float))
    suppae = pd.DataFrame({
        "STUDYID": "S", "RDOMAIN": "AE", "USUBJID": ["A", "A", "B"], "IDVAR": "AESEQ",
        "IDVARVAL": ["1", "3", "1"], "QNAM": "AETOXGRS",
        "QVAL": ["NCI CTCAE VERSION 5.0", "ASTCT CONSENSUS GRADING 2019",
                 "NCI CTCAE VERSION 5.0"]})
    empty = pd.DataFrame(columns=["USUBJID"])
    return {"DM": dm, "EX": ex, "AE": ae, "SUPPAE": suppae, "RS": empty, "DS": empty,
            "PR": empty, "CM": empty, "LB": empty, "MH": empty, "SUPPDM": empty}


@pytest.fixture(scope="module")
def result():
    return derive_from_sdtm(sdtm(), CONFIG, None)


@pytest.fixture(scope="module")
def adae(result) -> pd.DataFrame:
    return result.datasets["ADAE"].data.set_index(["USUBJID", "AESEQ"])


def test_every_ae_record_is_kept(adae) -> None:
    assert len(adae) == 9


def test_onset_during_lymphodepletion(adae) -> None:
    r = adae.loc[("A", 1.0)]
    assert (r["ASTDT"], r["ASTDTF"], r["ASTDY"]) == (sas("2021-01-06"), "", -4.0)
    assert (r["TRTEMFL"], r["LDTEMFL"], r["RELGR1"], r["RELGR2"]) == \
        ("", "Y", "RELATED", "RELATED TO LYMPHODEPLETION")


def test_partial_onset_in_the_infusion_month_is_treatment_emergent(adae) -> None:
    # "2021-01": the first of the month, but not before LDSTDT (01-05) nor TRTSDT (01-10)
    r = adae.loc[("A", 2.0)]
    assert (r["ASTDT"], r["ASTDTF"], r["ASTDY"]) == (sas("2021-01-10"), "D", 1.0)
    assert (r["TRTEMFL"], r["LDTEMFL"], r["RELGR2"]) == ("Y", "", "RELATED TO CAR-T")


def test_partial_end_and_scale(adae) -> None:
    r = adae.loc[("A", 3.0)]
    # 2021-02-15 is day 37 of the infusion on 2021-01-10; "2021-02" ends on the 28th
    assert (r["ASTDY"], r["AENDT"], r["AENDTF"], r["AENDY"]) == \
        (37.0, sas("2021-02-28"), "D", 50.0)
    assert (r["ADURN"], r["ADURU"]) == (14.0, "DAYS")
    assert (r["ATOXGR"], r["ATOXGRN"], r["AETOXGRS"]) == ("3", 3.0,
                                                         "ASTCT CONSENSUS GRADING 2019")
    assert r["CQ01NAM"] == "CYTOKINE RELEASE SYNDROME" and r["CQ04NAM"] == ""


def test_end_never_after_death(adae) -> None:
    # B died 2021-03-09: the end "2021-03" is imputed to the death date, not 03-31
    r = adae.loc[("B", 1.0)]
    assert (r["AENDT"], r["AENDTF"]) == (sas("2021-03-09"), "D")
    # lymphodepletion only: never infused, so LDTEMFL and no study day from TRTSDT
    assert (r["TRTEMFL"], r["LDTEMFL"], r["RELGR2"]) == ("", "Y", "RELATED TO LYMPHODEPLETION")
    assert np.isnan(r["ASTDY"]) and r["CQ03NAM"] == "INFECTIONS"
    assert r["AETOXGRS"] == "NCI CTCAE VERSION 5.0"


def test_screening_event_is_in_no_period(adae) -> None:
    r = adae.loc[("C", 1.0)]
    assert (r["ASTDT"], r["ASTDTF"], r["TRTEMFL"], r["LDTEMFL"]) == \
        (sas("2020-12-01"), "D", "", "")
    assert np.isnan(r["AENDT"]) and r["AETOXGRS"] == ""


def test_missing_causality_counts_as_related(adae) -> None:
    r = adae.loc[("A", 4.0)]
    assert (r["AREL"], r["ARELN"], r["RELGR1"], r["RELGR1N"]) == ("RELATED", 5.0, "RELATED", 1.0)
    assert np.isnan(r["AERELN"])  # the collected causality stays missing
    r = adae.loc[("A", 5.0)]
    assert (r["AREL"], r["ARELN"], r["RELGR1"], r["RELGR2"], r["RELGR2N"]) == \
        ("NOT RELATED", 1.0, "NOT RELATED", "NOT RELATED", 3.0)


def test_prolonged_cytopenia_is_present_on_day_28(adae) -> None:
    # day 28 is 2021-02-06: AESEQ 4 ends that day, AESEQ 6 the day before, AESEQ 5 starts after
    assert adae.loc[("A", 4.0), "AENDY"] == 28.0
    assert adae.loc[("A", 4.0), "CQ04NAM"] == "PROLONGED CYTOPENIA"
    assert adae.loc[("A", 6.0), "AENDY"] == 27.0 and adae.loc[("A", 6.0), "CQ04NAM"] == ""
    assert adae.loc[("A", 5.0), "CQ04NAM"] == ""
    assert adae.loc[("A", 7.0), "CQ04NAM"] == ""  # grade 2


def test_first_occurrence_flags(adae) -> None:
    a = adae.loc["A"]
    # treatment-emergent events of A by onset: 2 (01-10), 7 (01-12), 4 and 6 (01-20), 3, 5
    assert a.index[a["AOCCFL"] == "Y"].tolist() == [2.0]
    assert a.index[a["AOCCSFL"] == "Y"].tolist() == [2.0, 3.0, 7.0]
    assert a.index[a["AOCCPFL"] == "Y"].tolist() == [2.0, 3.0, 6.0, 7.0]
    # the highest grade first: grade 4 neutropenia (5) for the subject and the SOC and PT
    assert a.index[a["AOCCIFL"] == "Y"].tolist() == [5.0]
    assert a.index[a["AOCCSIFL"] == "Y"].tolist() == [2.0, 3.0, 5.0]
    assert a.index[a["AOCCPIFL"] == "Y"].tolist() == [2.0, 3.0, 5.0, 6.0]
    assert (adae.loc[["B", "C"], ["AOCCFL", "AOCCIFL"]] == "").all().all()


def test_adsl_populations_and_deaths(result) -> None:
    adsl = result.datasets["ADSL"].data.set_index("USUBJID")
    assert adsl["ENRLFL"].tolist() == ["Y", "Y", "N"]
    assert adsl["TRTFL"].tolist() == ["Y", "Y", "N"]
    assert adsl["SAFFL"].tolist() == ["Y", "N", "N"]
    assert adsl["TRT01AN"].tolist()[:2] == [1.0, 2.0] and np.isnan(adsl.loc["C", "TRT01AN"])
    # B died but was never infused: no death-within-n-days-of-infusion flag
    assert adsl["DTH30FL"].tolist() == ["N", "", ""]
    adae = result.datasets["ADAE"].data
    assert set(adae.loc[adae["USUBJID"] == "B", "TRTFL"]) == {"Y"}


def test_death_within_days_of_infusion() -> None:
    data = sdtm()
    data["DM"] = data["DM"].assign(DTHFL=["Y", "", ""], DTHDTC=["2021-02-09", "", ""])
    adsl = derive_from_sdtm(data, CONFIG, None).datasets["ADSL"].data.set_index("USUBJID")
    # 2021-01-10 -> 2021-02-09 is 30 days: within 30 and 100 days
    assert (adsl.loc["A", "DTH30FL"], adsl.loc["A", "DTH100FL"]) == ("Y", "Y")
    data["DM"] = data["DM"].assign(DTHDTC=["2021-02-10", "", ""])
    adsl = derive_from_sdtm(data, CONFIG, None).datasets["ADSL"].data.set_index("USUBJID")
    assert (adsl.loc["A", "DTH30FL"], adsl.loc["A", "DTH100FL"]) == ("N", "Y")


def test_define_metadata_of_adae(result) -> None:
    cols = {c.name: c for c in result.datasets["ADAE"].columns}
    assert cols["AESEQ"].origin.description == "AE.AESEQ"
    assert cols["AETOXGRS"].origin.description == "SUPPAE.QVAL where QNAM = AETOXGRS"
    assert cols["TRTFL"].origin.description == "ADSL.TRTFL"
    assert "not before it" in cols["ASTDT"].method and "TRTSDT" in cols["ASTDT"].method
    assert cols["ASTDTF"].codelist == "C81223"  # DATEFL
    assert cols["CQ04NAM"].method.startswith("PROLONGED CYTOPENIA when AEDECOD in")


# --- safety tables ----------------------------------------------------------------------

def table(result, name: str) -> pd.DataFrame:
    return next(t.frame for t in result.safety_tables if t.name == name)


def test_overview_counts(result) -> None:
    t = table(result, "overview").set_index("Subjects with")
    # SAFFL: only A (Dose 1); TRTFL adds B (Dose 2)
    assert list(t.columns) == ["Dose 1 (N=1)", "Total (N=1)"]
    assert t.loc["Any treatment-emergent AE"].tolist() == ["1 (100.0)", "1 (100.0)"]
    assert t.loc["Treatment-emergent AE with fatal outcome"].tolist() == ["0", "0"]
    assert "AE during lymphodepletion" not in t.index
    treated = table(result, "overview_trtfl").set_index("Subjects with")
    assert list(treated.columns) == ["Dose 1 (N=1)", "Dose 2 (N=1)", "Total (N=2)"]
    assert treated.loc["AE during lymphodepletion"].tolist() == \
        ["1 (100.0)", "1 (100.0)", "2 (100.0)"]


def test_soc_pt_counts(result) -> None:
    t = table(result, "teae_by_soc_pt")
    investigations = t[t["System organ class"] == "Investigations"].iloc[0]
    assert investigations["Total (N=1) any grade"] == "1 (100.0)"
    neutro = t[t["Preferred term"] == "Neutrophil count decreased"].iloc[0]
    assert neutro["Total (N=1) grade >= 3"] == "1 (100.0)"
    # the lymphodepletion-period nausea is not treatment-emergent
    assert "Nausea" not in set(t["Preferred term"])
    # SOCs by subjects (all 1), then alphabetically
    socs = [s for s in t["System organ class"] if s and s != "Any event"]
    assert socs == sorted(socs)


def test_max_grade(result) -> None:
    t = table(result, "max_grade")
    crs = t[t["Event"] == "CYTOKINE RELEASE SYNDROME"].set_index("Maximum grade")
    assert crs.loc["Grade 3", "Total (N=1)"] == "1 (100.0)"
    assert crs.loc["Grade 2", "Total (N=1)"] == "0"


@pytest.mark.parametrize("patch, message", [
    ({"bogus": 1}, "adverse_events: unknown key"),
    ({"period_flags": {"LDTEMFL": {"from": "LDSTDT"}}}, "TRTEMFL is required"),
    ({"causality": {"variable": "AEREL"}}, "causality.order"),
    ({"special_interest": [{"name": "X"}]}, "'name' and 'where' are required"),
    ({"tables": {"colums": {}}}, "adverse_events.tables: unknown key(s) ['colums']"),
    ({"tables": {"overview": [{"where": {"TRTEMFL": "Y"}}]}}, "overview[1]: 'label'"),
])
def test_adverse_events_config_errors(tmp_path, patch, message) -> None:
    import yaml

    raw = yaml.safe_load((DEMO_MAPPING_DIR / "adam.yaml").read_text(encoding="utf-8"))
    raw["adverse_events"].update(patch)
    path = tmp_path / "adam.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_config(path)
    assert message in str(err.value) and "\n" not in str(err.value)
