"""ADTTE golden records: a hand-built SDTM set with one subject per event/censoring path and
the record a statistician writes by hand (demo config mappings/nct04265963/adam.yaml).
All subjects start on 2021-01-10 (TRTSDT)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc.adam.build import derive_from_sdtm
from cdisc.adam.config import load_config
from cdisc.paths import DEMO_MAPPING_DIR

CONFIG = load_config(DEMO_MAPPING_DIR / "adam.yaml")
SUBJECTS = ["A", "B", "C", "D", "E", "F", "G"]


def sas(iso: str) -> float:
    return float((dt.date.fromisoformat(iso) - dt.date(1960, 1, 1)).days)


def sdtm() -> dict[str, pd.DataFrame]:
    dm = pd.DataFrame({
        "STUDYID": "S", "USUBJID": SUBJECTS, "SUBJID": SUBJECTS, "SITEID": "1",
        "AGE": [30.0, 8.0, 70.0, 40.0, 50.0, 60.0, 20.0], "AGEU": "YEARS", "SEX": "F",
        "RACE": "ASIAN", "ETHNIC": "", "COUNTRY": "CHN", "ARM": "CAR-T", "ARMCD": "CART",
        "ACTARM": "CAR-T", "ACTARMCD": "CART",
        "DTHFL": ["Y", "", "", "", "", "", "Y"],
        "DTHDTC": ["2021-03-01", "", "", "", "", "", "2021-06-01"]})
    ex = pd.DataFrame({"USUBJID": SUBJECTS, "EXSEQ": 1.0, "EXCAT": "CAR-T",
                       "EXSTDTC": "2021-01-10T10:00", "EXENDTC": "2021-01-10T10:00"})
    rs_rows = [("A", "CR", "2021-02-08"),
               ("B", "CR", "2021-02-08"), ("B", "RELAPSED DISEASE FROM CR", "2021-05-10"),
               ("C", "CR", "2021-02-08"), ("C", "CR", "2021-03-10"),
               ("C", "RELAPSED DISEASE FROM CR", "2021-06-01"),
               ("D", "PR", "2021-02-08"), ("D", "PD", "2021-04-01"),
               ("E", "SD", "2021-02-08"), ("E", "SD", "2021-03-10"),
               ("G", "SD", "2021-02-08"), ("G", "PD", "2021-05-15")]
    rs = pd.DataFrame(rs_rows, columns=["USUBJID", "RSSTRESC", "RSDTC"]).assign(
        RSTESTCD="OVRLRESP", VISIT="", VISITNUM=np.nan)
    rs["RSSEQ"] = rs.groupby("USUBJID").cumcount().astype(float) + 1
    pr = pd.DataFrame({"USUBJID": ["C"], "PRSEQ": [1.0], "PRCAT": ["STEM CELL TRANSPLANT"],
                       "PRSTDTC": ["2021-03-20"]})
    cm = pd.DataFrame({"USUBJID": ["D"], "CMSEQ": [1.0], "CMCAT": ["NEW ANTICANCER THERAPY"],
                       "CMSTDTC": ["2021-03-01"]})
    lb = pd.DataFrame({"USUBJID": ["B"], "LBSEQ": [1.0], "LBDTC": ["2021-06-01"]})
    ds = pd.DataFrame({"USUBJID": ["E"], "DSSEQ": [1.0], "DSDECOD": ["LOST TO FOLLOW-UP"],
                       "DSSCAT": ["STUDY PARTICIPATION"], "DSSTDTC": ["2021-04-01"]})
    return {"DM": dm, "EX": ex, "RS": rs, "PR": pr, "CM": cm, "LB": lb, "DS": ds,
            "AE": pd.DataFrame(columns=["USUBJID", "AESTDTC", "AEENDTC"])}


@pytest.fixture(scope="module")
def result():
    return derive_from_sdtm(sdtm(), CONFIG, None)


def row(result, subject: str, paramcd: str) -> dict:
    t = result.datasets["ADTTE"].data
    hit = t[(t["USUBJID"] == subject) & (t["PARAMCD"] == paramcd)]
    assert len(hit) == 1, (subject, paramcd, len(hit))
    r = hit.iloc[0]
    return {"AVAL": r["AVAL"], "CNSR": r["CNSR"], "ADT": r["ADT"], "EVNTDESC": r["EVNTDESC"],
            "CNSDTDSC": r["CNSDTDSC"], "SRCDOM": r["SRCDOM"], "SRCVAR": r["SRCVAR"],
            "SRCSEQ": r["SRCSEQ"]}


def adrs_aseq(result, subject: str, iso: str) -> float:
    a = result.datasets["ADRS"].data
    hit = a[(a["USUBJID"] == subject) & (a["PARAMCD"] == "OVR") & (a["ADT"] == sas(iso))]
    return float(hit["ASEQ"].iloc[0])


def test_death_without_progression(result) -> None:
    # 2021-01-10 -> 2021-03-01 is 50 days: AVAL 51; DOR from the CR on 2021-02-08: 22
    death = {"CNSR": 0.0, "ADT": sas("2021-03-01"), "EVNTDESC": "DEATH", "CNSDTDSC": "",
             "SRCDOM": "ADSL", "SRCVAR": "DTHDT"}
    for paramcd, aval in (("OS", 51.0), ("PFS", 51.0), ("DOR", 22.0)):
        got = row(result, "A", paramcd)
        assert np.isnan(got.pop("SRCSEQ"))
        assert got == {"AVAL": aval, **death}


def test_relapse_after_cr(result) -> None:
    pfs = row(result, "B", "PFS")
    assert (pfs["AVAL"], pfs["CNSR"], pfs["ADT"], pfs["EVNTDESC"]) == \
        (121.0, 0.0, sas("2021-05-10"), "DISEASE PROGRESSION OR RELAPSE")
    assert (pfs["SRCDOM"], pfs["SRCVAR"], pfs["SRCSEQ"]) == \
        ("ADRS", "ADT", adrs_aseq(result, "B", "2021-05-10"))
    assert row(result, "B", "DOR")["AVAL"] == 92.0  # 2021-02-08 -> 2021-05-10
    os_ = row(result, "B", "OS")  # alive: last known alive = the lab on 2021-06-01
    assert (os_["AVAL"], os_["CNSR"], os_["CNSDTDSC"]) == (143.0, 1.0, "LAST KNOWN ALIVE DATE")


def test_hsct_while_in_cr(result) -> None:
    for paramcd, aval in (("PFS", 60.0), ("DOR", 31.0)):
        got = row(result, "C", paramcd)
        assert (got["AVAL"], got["CNSR"], got["ADT"], got["CNSDTDSC"]) == \
            (aval, 3.0, sas("2021-03-10"), "LAST ADEQUATE ASSESSMENT BEFORE HSCT")
        assert got["SRCSEQ"] == adrs_aseq(result, "C", "2021-03-10")


def test_new_anticancer_therapy(result) -> None:
    got = row(result, "D", "PFS")
    assert (got["AVAL"], got["CNSR"], got["ADT"], got["CNSDTDSC"]) == \
        (30.0, 4.0, sas("2021-02-08"), "LAST ADEQUATE ASSESSMENT BEFORE NEW THERAPY")
    t = result.datasets["ADTTE"].data
    assert not ((t["USUBJID"] == "D") & (t["PARAMCD"] == "DOR")).any()  # PR: no DOR


def test_lost_to_follow_up(result) -> None:
    pfs = row(result, "E", "PFS")
    assert (pfs["AVAL"], pfs["CNSR"], pfs["CNSDTDSC"]) == \
        (60.0, 1.0, "LAST ADEQUATE RESPONSE ASSESSMENT")
    os_ = row(result, "E", "OS")
    assert (os_["AVAL"], os_["CNSR"], os_["ADT"]) == (60.0, 1.0, sas("2021-03-10"))
    adsl = result.datasets["ADSL"].data.set_index("USUBJID")
    assert (adsl.loc["E", "EOSSTT"], adsl.loc["E", "DCSREAS"]) == ("DISCONTINUED",
                                                                   "LOST TO FOLLOW-UP")


def test_no_post_baseline_assessment(result) -> None:
    pfs = row(result, "F", "PFS")
    assert (pfs["AVAL"], pfs["CNSR"], pfs["ADT"], pfs["CNSDTDSC"], pfs["SRCVAR"]) == \
        (1.0, 2.0, sas("2021-01-10"), "NO POST-BASELINE RESPONSE ASSESSMENT", "")
    adsl = result.datasets["ADSL"].data.set_index("USUBJID")
    # the efficacy population is every infused subject: F counts, as a non-responder
    assert adsl.loc["F", "EFFFL"] == "Y" and adsl.loc["F", "SAFFL"] == "Y"
    adrs = result.datasets["ADRS"].data.set_index(["USUBJID", "PARAMCD"])
    assert adrs.loc[("F", "CRCRI"), "AVALC"] == "N" and adrs.loc[("F", "BOR"), "AVALC"] == "NE"


def test_events_after_the_cutoff() -> None:
    cut = derive_from_sdtm(sdtm(), CONFIG, "2021-04-30")
    pfs = row(cut, "G", "PFS")
    assert (pfs["AVAL"], pfs["CNSR"], pfs["ADT"]) == (30.0, 1.0, sas("2021-02-08"))
    os_ = row(cut, "G", "OS")
    assert (os_["AVAL"], os_["CNSR"], os_["CNSDTDSC"]) == (30.0, 1.0, "LAST KNOWN ALIVE DATE")
    adsl = cut.datasets["ADSL"].data.set_index("USUBJID")
    assert adsl.loc["G", "DTHFL"] == "" and np.isnan(adsl.loc["G", "DTHDT"])
    assert adsl.loc["G", "DCUTDT"] == sas("2021-04-30")
    uncut = row(derive_from_sdtm(sdtm(), CONFIG, None), "G", "PFS")
    assert (uncut["AVAL"], uncut["CNSR"]) == (126.0, 0.0)  # PD on 2021-05-15


def test_best_response_and_rates(result) -> None:
    a = result.datasets["ADRS"].data
    bor = a[a["PARAMCD"] == "BOR"].set_index("USUBJID")["AVALC"].to_dict()
    assert bor == {"A": "CR", "B": "CR", "C": "CR", "D": "PR", "E": "SD", "F": "NE", "G": "SD"}
    crcri = a[a["PARAMCD"] == "CRCRI"].set_index("USUBJID")["AVALC"]
    assert "".join(crcri[s] for s in SUBJECTS) == "YYYNNNN"
    name, flag, x, n, rate, lo, hi = result.rates[0]
    assert (name, flag, x, n) == ("CR + CRi rate", "EFFFL", 3, 7)
    # exact Clopper-Pearson for 3/7: 0.0990 to 0.8159
    assert round(lo, 4) == 0.099 and round(hi, 4) == 0.8159


def test_structure_properties(result) -> None:
    t = result.datasets["ADTTE"].data
    assert not t.duplicated(["USUBJID", "PARAMCD"]).any()
    assert (t["ADT"] >= t["STARTDT"]).all()
    assert (t["AVAL"] == t["ADT"] - t["STARTDT"] + 1).all()
    assert ((t["CNSR"] == 0) == (t["EVNTDESC"] != "")).all()
    dor = set(t.loc[t["PARAMCD"] == "DOR", "USUBJID"])
    assert dor == {"A", "B", "C"}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["CR", "CRi", "PR", "SD", "PD", "NE",
                                           "RELAPSED DISEASE FROM CR"]),
                          st.integers(1, 700)), max_size=6),
       st.one_of(st.none(), st.integers(1, 800)), st.one_of(st.none(), st.integers(1, 800)))
def test_properties_on_random_histories(assessments, death_day, hsct_day) -> None:
    start = dt.date(2021, 1, 10)
    data = sdtm()
    data["DM"] = data["DM"].iloc[:1].assign(
        DTHDTC=(start + dt.timedelta(days=death_day)).isoformat() if death_day else "",
        DTHFL="Y" if death_day else "")
    data["EX"] = data["EX"].iloc[:1]
    rs = pd.DataFrame([(r, (start + dt.timedelta(days=d)).isoformat()) for r, d in assessments],
                      columns=["RSSTRESC", "RSDTC"])
    data["RS"] = rs.assign(USUBJID="A", RSTESTCD="OVRLRESP", VISIT="", VISITNUM=np.nan,
                           RSSEQ=np.arange(1, len(rs) + 1, dtype=float))
    data["PR"] = data["PR"].iloc[:0] if hsct_day is None else data["PR"].assign(
        USUBJID="A", PRSTDTC=(start + dt.timedelta(days=hsct_day)).isoformat())
    for name in ("CM", "LB", "DS"):
        data[name] = data[name].iloc[:0]
    res = derive_from_sdtm(data, CONFIG, None)
    t = res.datasets["ADTTE"].data
    assert not t.duplicated(["USUBJID", "PARAMCD"]).any()
    assert (t["ADT"] >= t["STARTDT"]).all() and (t["AVAL"] >= 1).all()
    responders = {r for r, d in assessments if r in ("CR", "CRi")}
    assert ("DOR" in set(t["PARAMCD"])) <= bool(responders)
    assert set(t["PARAMCD"]) >= {"OS", "PFS"}


def test_event_free_survival(result) -> None:
    # A: CR on 2021-02-08 (day 30, within the 42 days), dies 2021-03-01 -> event DEATH, 51
    efs = row(result, "A", "EFS")
    assert (efs["AVAL"], efs["CNSR"], efs["EVNTDESC"]) == (51.0, 0.0, "DEATH")
    # D: PR then PD, no CR/CRi/MLFS by day 42 -> induction failure on day 1 at TRTSDT
    efs = row(result, "D", "EFS")
    assert (efs["AVAL"], efs["CNSR"], efs["ADT"], efs["EVNTDESC"], efs["SRCVAR"]) == \
        (1.0, 0.0, sas("2021-01-10"), "INDUCTION FAILURE", "TRTSDT")
    # B: CR then relapse on 2021-05-10 (120 days after 01-10) -> 121
    efs = row(result, "B", "EFS")
    assert (efs["AVAL"], efs["CNSR"], efs["EVNTDESC"]) == (121.0, 0.0, "RELAPSE OR PROGRESSION")
    # RFS from the first CR: B 2021-02-08 -> 2021-05-10 is 91 days, AVAL 92
    rfs = row(result, "B", "RFS")
    assert (rfs["AVAL"], rfs["CNSR"]) == (92.0, 0.0)


def test_pfs_sensitivity_ignores_the_transplant(result) -> None:
    # C: HSCT 2021-03-20 censors PFS at the last assessment before it (03-10, CNSR 3); the
    # sensitivity parameter runs on to the relapse on 2021-06-01 (142 days: AVAL 143)
    assert (row(result, "C", "PFS")["CNSR"], row(result, "C", "PFS")["ADT"]) == \
        (3.0, sas("2021-03-10"))
    sens = row(result, "C", "PFSSENS")
    assert (sens["AVAL"], sens["CNSR"], sens["ADT"]) == (143.0, 0.0, sas("2021-06-01"))


def test_a_parameter_needs_its_start_censoring(tmp_path) -> None:
    import yaml

    from cdisc.errors import SpecError

    raw = yaml.safe_load((DEMO_MAPPING_DIR / "adam.yaml").read_text(encoding="utf-8"))
    raw["parameters"]["OS"]["censors"] = raw["parameters"]["OS"]["censors"][:1]
    path = tmp_path / "adam.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_config(path)
    assert "parameters.OS.censors: a 'source: START' censoring is required" in str(err.value)


def test_records_follow_the_declared_keys(result) -> None:
    a = result.datasets["ADRS"].data
    c = a[a["USUBJID"] == "C"]
    # keys STUDYID USUBJID PARAMCD ADT ASEQ: parameters alphabetically, assessments by date
    assert c["PARAMCD"].tolist() == ["BOR", "CRCRI", "ORR", "OVR", "OVR", "OVR"]
    assert c["ASEQ"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert c["ADT"].tolist()[3:] == [sas("2021-02-08"), sas("2021-03-10"), sas("2021-06-01")]
    assert (c["TRTA"] == "CAR-T").all() and (a["AVISIT"] == a["VISIT"]).all()
    t = result.datasets["ADTTE"].data
    assert t.loc[t["USUBJID"] == "A", "PARAMCD"].tolist() == \
        ["DOR", "EFS", "OS", "PFS", "PFSSENS", "RFS"]


def test_data_cutoff_from_the_configuration(tmp_path) -> None:
    import yaml

    from cdisc.adam.build import run_adam
    from cdisc.errors import SpecError

    raw = yaml.safe_load((DEMO_MAPPING_DIR / "adam.yaml").read_text(encoding="utf-8"))
    raw["data_cutoff"] = "2021-04-30"
    path = tmp_path / "adam.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert load_config(path).data_cutoff == "2021-04-30"
    cut = run_adam(tmp_path, path, None, sdtm())
    assert row(cut, "G", "OS")["CNSR"] == 1.0  # the death on 2021-06-01 is after the cut
    assert cut.datasets["ADSL"].data["DCUTDT"].eq(sas("2021-04-30")).all()
    # the command line's --cutoff wins
    later = run_adam(tmp_path, path, "2021-12-31", sdtm())
    assert row(later, "G", "OS")["CNSR"] == 0.0
    raw["data_cutoff"] = "30/04/2021"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(SpecError, match="data_cutoff: '30/04/2021' is not a YYYY-MM-DD date"):
        load_config(path)
