"""Trial design (TS, TE, TA, TV, TI) and SE/SV of the demo study, from study.yaml's trial_design
section. Expected values are derived by hand from the raw exports (cdisc/data/demo_raw) and from
the reference CT (../shared/reference), never from the code under test."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc.errors import SpecError
from cdisc.paths import DEMO_MAPPING_DIR, DEMO_RAW_DIR
from cdisc.sdtm import trial_design as td
from cdisc.sdtm.mapping import load_study
from cdisc.specs import load_specs
from cdisc.yamlsafe import load_yaml
from tests.conftest import REFERENCE, REPO

STUDY = "NCT04265963"
SCREEN_FAILURES = ("920-015", "920-019", "920-045")
# FDA Study Data Technical Conformance Guide, TS parameters for clinical studies
FDA_TCG = ("ADDON", "AGEMAX", "AGEMIN", "LENGTH", "PLANSUB", "RANDOM", "SEXPOP", "STOPRULE",
           "TBLIND", "TCNTRL", "TDIGRP", "TINDTP", "TITLE", "TPHASE", "TTYPE", "CURTRT",
           "OBJPRIM", "OBJSEC", "SPONSOR", "COMPTRT", "INDIC", "TRT", "RANDQT", "STRATFCT",
           "REGID", "OUTMSPRI", "OUTMSSEC", "PCLAS", "FCNTRY", "ADAPT", "DCUTDTC", "DCUTDESC",
           "INTMODEL", "NARMS", "STYPE", "INTTYPE", "SSTDTC", "SENDTC", "ACTSUB", "HLTSUBJI",
           "SDTIGVER", "SDTMVER", "THERAREA", "PDPSTIND", "PDSTIND", "PIPIND", "RDIND",
           "ONGOSIND", "EXTTIND", "NCOHORT")
# written here, not taken from the code: PnYnMnDTnHnMnS or PnW
DURATION = re.compile(r"P(\d+W|(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?)")
CT_FILE = REFERENCE / "controlled_terminology" / "SDTM Terminology.txt"
needs_reference = pytest.mark.skipif(not CT_FILE.exists(), reason="../shared/reference absent")


def usubjid(subject: str) -> str:
    return f"{STUDY}-{subject}"


def raw_rows(name: str) -> list[dict[str, str]]:
    with (DEMO_RAW_DIR / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def dmy(text: str) -> str:
    """22-MAR-2020 or 22MAR2020 -> 2020-03-22 (the raw forms' date styles)."""
    text = text.strip().replace("-", "")
    return dt.datetime.strptime(text, "%d%b%Y").date().isoformat()


def plus_days(iso: str, days: int) -> str:
    return (dt.date.fromisoformat(iso[:10]) + dt.timedelta(days=days)).isoformat()


def first_ld_day(subject: str) -> str:
    import pyreadstat

    ld, _ = pyreadstat.read_xport(str(DEMO_RAW_DIR / "ld.xpt"))
    days = ld.loc[ld["SUBJECT"] == subject, "LDDAT"]
    return str(min(pd.Timestamp(d).date() for d in days))


def first_infusion(subject: str) -> str:
    rows = [r for r in raw_rows("cart.csv") if r["SUBJECT"] == subject and r["INFYN"] == "Yes"]
    r = min(rows, key=lambda r: (r["INFDAT"], r["INFTIM"]))
    return r["INFDAT"].replace("/", "-") + (f"T{r['INFTIM']}" if r["INFTIM"] else "")


def subject_date(name: str, column: str, subject: str) -> str:
    return dmy(next(r[column] for r in raw_rows(name) if r["SUBJECT"] == subject))


@pytest.fixture(scope="module")
def demo():
    from cdisc.pipeline import map_raw

    specs, config, result = map_raw(DEMO_RAW_DIR, DEMO_MAPPING_DIR)
    return specs, config, result.datasets


@pytest.fixture(scope="module")
def reference_ct() -> dict[str, dict[str, str]]:
    """Codelist short name -> submission value -> C-code, from the NCI EVS export."""
    with CT_FILE.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    names = {r["Code"]: r["CDISC Submission Value"] for r in rows if not r["Codelist Code"]}
    out: dict[str, dict[str, str]] = {}
    for r in rows:
        if r["Codelist Code"]:
            out.setdefault(names[r["Codelist Code"]], {})[r["CDISC Submission Value"]] = r["Code"]
    return out


def ts_value(ts: pd.DataFrame, parmcd: str) -> list[str]:
    return ts.loc[ts["TSPARMCD"] == parmcd].sort_values("TSSEQ")["TSVAL"].tolist()


# --- TS -------------------------------------------------------------------------------------------

def test_study_start_is_the_earliest_informed_consent(demo) -> None:
    ts = demo[2]["TS"].data
    earliest = min(dmy(r["ICDAT"]) for r in raw_rows("ic.csv"))
    assert earliest == "2020-03-22"  # 920-001, the first subject consented
    row = ts[ts["TSPARMCD"] == "SSTDTC"]
    assert row["TSVAL"].tolist() == [earliest] and row["TSVCDREF"].tolist() == ["ISO 8601"]


def test_every_fda_tcg_parameter_has_a_value_or_a_null_flavor(demo) -> None:
    ts = demo[2]["TS"].data
    assert set(FDA_TCG) <= set(ts["TSPARMCD"]), sorted(set(FDA_TCG) - set(ts["TSPARMCD"]))
    has_value, has_nf = ts["TSVAL"] != "", ts["TSVALNF"] != ""
    assert (has_value ^ has_nf).all()  # CG0259, CG0260
    assert set(ts.loc[has_nf, "TSVALNF"]) <= {"NA", "UNK", "PINF", "NINF", "NI", "OTH"}
    assert (ts.loc[has_nf, ["TSVALCD", "TSVCDREF", "TSVCDVER"]] == "").all().all()
    assert ts["TSVAL"].str.len().max() <= 200 and ts["TSPARM"].str.len().max() <= 40
    assert not ts.duplicated(["TSPARMCD", "TSSEQ"]).any()
    assert list(ts.columns[:5]) == ["STUDYID", "DOMAIN", "TSSEQ", "TSPARMCD", "TSPARM"]


def test_typed_and_derived_values(demo) -> None:
    ts = demo[2]["TS"].data
    assert ts_value(ts, "AGEMIN") == ["P2Y"] and ts_value(ts, "AGEMAX") == ["P75Y"]
    for parmcd in ("AGEMIN", "AGEMAX", "LENGTH"):
        assert DURATION.fullmatch(ts_value(ts, parmcd)[0])
    assert ts_value(ts, "PLANSUB") == ["45"]
    assert ts_value(ts, "TPHASE") == ["PHASE I TRIAL"]
    regid = ts[ts["TSPARMCD"] == "REGID"].iloc[0]
    assert (regid["TSVAL"], regid["TSVALCD"], regid["TSVCDREF"]) == \
        ("NCT04265963", "NCT04265963", "ClinicalTrials.gov")
    fcntry = ts[ts["TSPARMCD"] == "FCNTRY"].iloc[0]
    assert (fcntry["TSVAL"], fcntry["TSVCDREF"]) == ("CHN", "ISO 3166")
    assert ts_value(ts, "SDTIGVER") == ["3.4"] and ts_value(ts, "SDTMVER") == ["2.0"]
    # three dose cohorts: three arms
    assert ts_value(ts, "NARMS") == ["3"] and ts_value(ts, "NCOHORT") == ["3"]
    assert ts_value(ts, "DOSE") == ["0.5", "1.0", "2.5"]
    # ACTSUB: subjects who had study treatment (lymphodepletion or an infusion)
    import pyreadstat

    ld, _ = pyreadstat.read_xport(str(DEMO_RAW_DIR / "ld.xpt"))
    treated = set(ld["SUBJECT"]) | {r["SUBJECT"] for r in raw_rows("cart.csv")
                                    if r["INFYN"] == "Yes"}
    assert len(treated) == 42 and ts_value(ts, "ACTSUB") == [str(len(treated))]
    # every subject has an end-of-study date: the study ended at the latest one
    assert ts_value(ts, "SENDTC") == [max(dmy(r["EOSDAT"]) for r in raw_rows("eos.csv"))]
    assert ts_value(ts, "ONGOSIND") == ["N"]
    assert ts.loc[ts["TSPARMCD"].isin(["CURTRT", "COMPTRT", "RANDQT"]), "TSVALNF"].eq("NA").all()


@needs_reference
def test_coded_values_are_cdisc_ct_terms(demo, reference_ct) -> None:
    ts = demo[2]["TS"].data
    codes = {code for terms in reference_ct.values() for code in terms.values()}
    cdisc = ts[ts["TSVCDREF"] == "CDISC CT"]
    assert len(cdisc) >= 20 and set(cdisc["TSVCDVER"]) == {"2025-03-28"}
    for r in cdisc.itertuples():
        assert r.TSVALCD in codes and any(terms.get(r.TSVAL) == r.TSVALCD
                                          for terms in reference_ct.values()), r
    assert reference_ct["TPHASE"]["PHASE I TRIAL"] == \
        ts.loc[ts["TSPARMCD"] == "TPHASE", "TSVALCD"].item()
    # TSPARMCD and TSPARM: the same NCI term (one to one, CG0307)
    parm_code = {v: c for v, c in reference_ct["TSPARM"].items()}
    for r in ts.drop_duplicates("TSPARMCD").itertuples():
        assert reference_ct["TSPARMCD"][r.TSPARMCD] == parm_code[r.TSPARM]
    # one TSVALCD per TSVAL (CG0265)
    coded = ts[ts["TSVALCD"] != ""]
    assert (coded.groupby("TSVAL")["TSVALCD"].nunique() == 1).all()


def test_long_values_continue_in_tsval1() -> None:
    words = " ".join(f"word{i:03d}" for i in range(60))  # 60 x 8 - 1 = 479 characters
    pieces = td._split_text(words)
    # cut after the 25th word each time: 25 x 7 + 24 spaces = 199 characters
    assert [len(p) for p in pieces] == [199, 199, 79] and " ".join(pieces) == words
    specs = load_specs()
    section = copy.deepcopy(load_yaml(DEMO_MAPPING_DIR / "study.yaml")["trial_design"])
    section["summary"]["OBJPRIM"] = words
    design = parse(section, specs)
    ts = td.to_dataset("TS", td.ts_records(design, specs, {}), STUDY, specs, {})
    row = ts.data[ts.data["TSPARMCD"] == "OBJPRIM"].iloc[0]
    assert [row["TSVAL"], row["TSVAL1"], row["TSVAL2"]] == pieces
    names = [c.name for c in ts.columns]
    assert names[names.index("TSVAL"):names.index("TSVALNF")] == ["TSVAL", "TSVAL1", "TSVAL2"]
    # no DM: the values from the data are missing, with their null flavor
    assert ts.data.loc[ts.data["TSPARMCD"] == "SSTDTC", "TSVALNF"].tolist() == ["UNK"]


# --- TE, TA, TV, TI -------------------------------------------------------------------------------

@needs_reference
def test_arms_and_elements_are_consistent(demo, reference_ct) -> None:
    ds = demo[2]
    ta, te = ds["TA"].data, ds["TE"].data
    assert set(ta["ARMCD"]) == {"DL1", "DL2", "DL3"}
    assert set(ta["ETCD"]) <= set(te["ETCD"]) and te["ETCD"].is_unique
    assert set(ta["EPOCH"]) <= set(reference_ct["EPOCH"])
    assert set(ta["EPOCH"]) == {"SCREENING", "TREATMENT", "FOLLOW-UP"}
    assert (te["ETCD"].str.len() <= 8).all()
    assert ((te["TEENRL"] != "") | (te["TEDUR"] != "")).all()  # CG0328
    assert te.loc[te["TEDUR"] != "", "TEDUR"].map(DURATION.fullmatch).all()
    for _, arm in ta.groupby("ARMCD"):
        assert arm["TAETORD"].tolist() == [1.0, 2.0, 3.0, 4.0]
        assert arm["EPOCH"].tolist() == ["SCREENING", "TREATMENT", "TREATMENT", "FOLLOW-UP"]
    element = te.set_index("ETCD")["ELEMENT"]
    assert (ta["ELEMENT"] == ta["ETCD"].map(element)).all()  # ETCD/ELEMENT one to one
    # every EPOCH the engine puts on a record is a TA epoch (CG0009)
    used = {e for name, d in ds.items() if "EPOCH" in d.data for e in d.data["EPOCH"]} - {""}
    assert used <= set(ta["EPOCH"])


def test_visits_are_the_planned_ones_of_visits_csv(demo) -> None:
    tv = demo[2]["TV"].data
    with (DEMO_MAPPING_DIR / "visits.csv").open(encoding="utf-8", newline="") as fh:
        planned = [r for r in csv.DictReader(fh) if r["visitnum"]]
    assert tv["VISITNUM"].tolist() == [float(r["visitnum"]) for r in planned]
    assert tv["VISITNUM"].tolist() == [*map(float, range(1, 28)), 99.0]
    assert tv["VISIT"].tolist() == [r["visit"] for r in planned]
    assert (tv["ARMCD"] == "").all() and (tv["TVSTRL"] != "").all()
    day = tv.set_index("VISIT")["VISITDY"]
    # day 0 (the infusion) is study day 1; lymphodepletion starts on day -5
    assert (day["DAY 0"], day["DAY 28"], day["LYMPHODEPLETION"]) == (1.0, 29.0, -5.0)
    assert np.isnan(day["SCREENING"])


def test_criteria_and_the_eligibility_failures(demo) -> None:
    specs, config, ds = demo
    ti = ds["TI"].data
    text = td.criteria_text(config)
    assert text["INCL03"][1] == "INCLUSION" and "CD123" in text["INCL03"][0] \
        and ">= 30%" in text["INCL03"][0]
    failed = {r["IEFAIL"].split(":")[0] for r in raw_rows("elig.csv") if r["IEFAIL"]}
    assert failed == {"INCL03"} and failed <= set(text)
    assert dict(zip(ti["IETESTCD"], zip(ti["IETEST"], ti["IECAT"]))) == text
    assert set(ti["IECAT"]) == {"INCLUSION", "EXCLUSION"} and ti["IETESTCD"].is_unique
    assert (ti["IETEST"].str.len() <= 200).all() and set(ti["TIVERS"]) == {"2.0"}
    assert td.arm_names(config) == {"DL1": "CD123 CAR-T 0.5 x10^6 CAR+ cells/kg",
                                    "DL2": "CD123 CAR-T 1.0 x10^6 CAR+ cells/kg",
                                    "DL3": "CD123 CAR-T 2.5 x10^6 CAR+ cells/kg"}


# --- SE -------------------------------------------------------------------------------------------

def elements(se: pd.DataFrame, subject: str) -> list[tuple[str, str, str, str]]:
    s = se[se["USUBJID"] == usubjid(subject)].sort_values("SESEQ")
    return list(zip(s["ETCD"], s["EPOCH"], s["SESTDTC"], s["SEENDTC"]))


def car_t_etcd(dm: pd.DataFrame, subject: str) -> str:
    """CART1..3 once DM.ACTARMCD is a dose-cohort arm; UNPLAN until then."""
    arm = dm.loc[dm["USUBJID"] == usubjid(subject), "ACTARMCD"].item()
    return {"DL1": "CART1", "DL2": "CART2", "DL3": "CART3"}.get(arm, "UNPLAN")


def test_subject_920_001(demo) -> None:
    se, dm = demo[2]["SE"].data, demo[2]["DM"].data
    consent = subject_date("ic.csv", "ICDAT", "920-001")
    ld, infusion = first_ld_day("920-001"), first_infusion("920-001")
    end = subject_date("eos.csv", "EOSDAT", "920-001")
    assert (consent, ld, infusion, end) == ("2020-03-22", "2020-04-08", "2020-04-13T09:15",
                                            "2020-08-16")
    follow_up = plus_days(infusion, 29)  # the day after day 28 after the infusion
    assert follow_up == "2020-05-12"
    assert elements(se, "920-001") == [
        ("SCRN", "SCREENING", consent, ld), ("LD", "TREATMENT", ld, infusion),
        (car_t_etcd(dm, "920-001"), "TREATMENT", infusion, follow_up),
        ("FU", "FOLLOW-UP", follow_up, end)]
    s = se[se["USUBJID"] == usubjid("920-001")].sort_values("SESEQ")
    # study days from RFSTDTC (2020-04-13): 03-22 is day -22, 05-12 is day 30
    assert s["SESTDY"].tolist() == [-22.0, -5.0, 1.0, 30.0]
    assert s["SEENDY"].tolist() == [-5.0, 1.0, 30.0, 126.0]


def test_infused_subject_who_died_before_follow_up(demo) -> None:
    se, dm = demo[2]["SE"].data, demo[2]["DM"].data
    consent, ld = subject_date("ic.csv", "ICDAT", "920-035"), first_ld_day("920-035")
    infusion, end = first_infusion("920-035"), subject_date("eos.csv", "EOSDAT", "920-035")
    assert (infusion, end) == ("2021-03-22T09:00", "2021-03-29")  # died on day 8
    assert elements(se, "920-035") == [
        ("SCRN", "SCREENING", consent, ld), ("LD", "TREATMENT", ld, infusion),
        (car_t_etcd(dm, "920-035"), "TREATMENT", infusion, end)]


def test_lymphodepleted_but_never_infused_has_no_car_t_element(demo) -> None:
    se = demo[2]["SE"].data
    for subject in ("920-006", "920-010"):
        assert not any(r["SUBJECT"] == subject and r["INFYN"] == "Yes"
                       for r in raw_rows("cart.csv"))
        consent, ld = subject_date("ic.csv", "ICDAT", subject), first_ld_day(subject)
        end = subject_date("eos.csv", "EOSDAT", subject)
        assert elements(se, subject) == [("SCRN", "SCREENING", consent, ld),
                                         ("LD", "TREATMENT", ld, end)]


def test_screen_failures_have_only_screening(demo) -> None:
    se = demo[2]["SE"].data
    failures = {r["SUBJECT"] for r in raw_rows("elig.csv") if r["IEYN"] == "No"}
    assert failures == set(SCREEN_FAILURES)
    for subject in SCREEN_FAILURES:
        assert elements(se, subject) == [("SCRN", "SCREENING",
                                          subject_date("ic.csv", "ICDAT", subject),
                                          subject_date("eos.csv", "EOSDAT", subject))]


def test_elements_have_no_gaps_and_follow_dm(demo) -> None:
    ds = demo[2]
    se, dm = ds["SE"].data, ds["DM"].data
    assert set(se["USUBJID"]) == set(dm["USUBJID"])  # every subject, none outside DM
    for _, s in se.groupby("USUBJID"):
        s = s.sort_values("SESEQ")
        assert s["SESEQ"].tolist() == list(map(float, range(1, len(s) + 1)))
        assert s["SEENDTC"].iloc[:-1].tolist() == s["SESTDTC"].iloc[1:].tolist()  # CG0207
        assert (s["SESTDTC"].str[:10] <= s["SEENDTC"].str[:10]).all()
    unplanned = se["ETCD"] == "UNPLAN"
    assert (se.loc[unplanned, "SEUPDES"] != "").all() if "SEUPDES" in se else not unplanned.any()
    assert se.loc[unplanned, "TAETORD"].isna().all() and (se.loc[unplanned, "ELEMENT"] == "").all()
    # 40 infused subjects, 2 of them dead before day 29; 2 lymphodepleted only; 3 screen failures
    assert len(se) == 40 * 4 - 2 + 2 * 2 + 3


def element_spans(se: pd.DataFrame) -> dict[str, list[tuple[str, str, str, bool]]]:
    """USUBJID -> [(start day, next element's start day or the end day, EPOCH, is last)]."""
    out: dict[str, list[tuple[str, str, str, bool]]] = {}
    for subject, s in se.sort_values(["USUBJID", "SESEQ"]).groupby("USUBJID"):
        starts = s["SESTDTC"].str[:10].tolist()
        nexts = [*starts[1:], None]
        out[subject] = [(start, nxt or end[:10], epoch, nxt is None)
                        for start, nxt, end, epoch in zip(starts, nexts, s["SEENDTC"],
                                                          s["EPOCH"])]
    return out


@pytest.mark.parametrize("domain,date", [("AE", "AESTDTC"), ("LB", "LBDTC")])
def test_se_agrees_with_the_epoch_of_records(demo, domain: str, date: str) -> None:
    ds = demo[2]
    spans = element_spans(ds["SE"].data)
    data = ds[domain].data
    compared = 0
    for subject, day, epoch in zip(data["USUBJID"], data[date].str[:10], data["EPOCH"]):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
            continue
        # an element holds the days from its start up to the next start (the last: its end)
        hits = [e for start, stop, e, last in spans[subject]
                if start <= day and (day <= stop if last else day < stop)]
        if hits:
            compared += 1
            assert hits == [epoch], (subject, day, epoch, hits)
    assert compared > (10000 if domain == "LB" else 200)


def test_unit_plans_by_arm_cut_off_and_zero_length() -> None:
    """DM made by hand: a DL2 subject, an ongoing one at the cut-off (TS DCUTDTC 2024-01-31),
    one infused without lymphodepletion, a screen failure with a partial end date."""
    config = load_study(DEMO_MAPPING_DIR, load_specs())
    dm = pd.DataFrame({
        "USUBJID": ["S-1", "S-2", "S-3", "S-4"],
        "ACTARMCD": ["DL2", "DL3", "DL1", ""],
        "RFICDTC": ["2021-01-01", "2023-12-01", "2021-02-01", "2021-03-01"],
        "RFXSTDTC": ["2021-01-20", "2024-01-15", "2021-02-20T10:00", ""],
        "RFSTDTC": ["2021-01-25T10:00", "2024-01-20T09:00", "2021-02-20T10:00", ""],
        "RFPENDTC": ["2021-06-30", "", "2021-03-01", "2021-03"]})
    se = td.se_records(config.trial_design, dm)
    got = {s: list(zip(g["ETCD"], g["TAETORD"], g["SESTDTC"], g["SEENDTC"]))
           for s, g in se.groupby("USUBJID")}
    assert got["S-1"] == [("SCRN", 1.0, "2021-01-01", "2021-01-20"),
                          ("LD", 2.0, "2021-01-20", "2021-01-25T10:00"),
                          ("CART2", 3.0, "2021-01-25T10:00", "2021-02-23"),
                          ("FU", 4.0, "2021-02-23", "2021-06-30")]
    # still in the CAR-T element at the cut-off: its day 28 (2024-02-17) is not reached yet
    assert got["S-2"] == [("SCRN", 1.0, "2023-12-01", "2024-01-15"),
                          ("LD", 2.0, "2024-01-15", "2024-01-20T09:00"),
                          ("CART3", 3.0, "2024-01-20T09:00", "")]
    # no lymphodepletion: RFXSTDTC is the infusion, the LD element has no length
    assert got["S-3"] == [("SCRN", 1.0, "2021-02-01", "2021-02-20T10:00"),
                          ("CART1", 3.0, "2021-02-20T10:00", "2021-03-01")]
    assert got["S-4"] == [("SCRN", 1.0, "2021-03-01", "2021-03")]


# --- SV -------------------------------------------------------------------------------------------

def raw_dtc(date: str, time: str) -> str:
    """13-APR-2020 / 2020-04-13 (+ 11:45) -> 2020-04-13(T11:45)."""
    day = dmy(date) if re.fullmatch(r"\d{2}-[A-Z]{3}-\d{4}", date) else date
    return f"{day}T{time}" if time else day


def test_visits_of_920_001_day_0_from_every_form(demo) -> None:
    sv = demo[2]["SV"].data
    times = [raw_dtc(r["LBDAT"], r["LBTIM"]) for r in raw_rows("lb.csv")
             if r["SUBJECT"] == "920-001" and r["FOLDER"] == "DAY0"]
    times += [raw_dtc(r["SMPDAT"], r["SMPTIM"]) for r in raw_rows("kinetics.csv")
              if r["SUBJECT"] == "920-001" and r["FOLDER"] == "DAY0"]
    # the qPCR/flow samples before the infusion (07:15), the labs after it (11:45)
    assert (min(times), max(times)) == ("2020-04-13T07:15", "2020-04-13T11:45")
    row = sv[(sv["USUBJID"] == usubjid("920-001")) & (sv["VISITNUM"] == 3.0)].iloc[0]
    assert (row["VISIT"], row["SVPRESP"], row["SVOCCUR"], row["VISITDY"]) == ("DAY 0", "Y", "Y",
                                                                              1.0)
    assert (row["SVSTDTC"], row["SVENDTC"]) == (min(times), max(times))
    assert row["SVSTDTC"].startswith("2020-04-13") and row["SVSTDY"] == 1.0


def test_unscheduled_visit_has_svupdes(demo) -> None:
    sv = demo[2]["SV"].data
    raw = {r["LBDAT"] for r in raw_rows("lb.csv")
           if r["SUBJECT"] == "920-002" and r["FOLDER"] == "UNSCHEDULED"}
    assert raw == {"2020-09-09"}
    # the last planned visit before it was MONTH 3 (VISITNUM 14): 14 + 0.01; VISIT names the
    # number, one VISIT per VISITNUM (CG0035, SDTMIG 3.4 4.4.5)
    row = sv[(sv["USUBJID"] == usubjid("920-002")) & (sv["VISITNUM"] == 14.01)].iloc[0]
    assert (row["VISIT"], row["SVPRESP"], row["SVOCCUR"], row["SVSTDTC"], row["SVENDTC"]) == \
        ("UNSCHEDULED 14.01", "", "", "2020-09-09", "2020-09-09")
    assert row["SVUPDES"] == "Unscheduled visit: Laboratory Test Results"
    assert np.isnan(row["VISITDY"])


def test_sv_is_consistent_with_tv_and_dm(demo) -> None:
    ds = demo[2]
    sv, tv, dm = ds["SV"].data, ds["TV"].data, ds["DM"].data
    assert set(sv["USUBJID"]) <= set(dm["USUBJID"])
    assert not set(sv["USUBJID"]) & {usubjid(s) for s in SCREEN_FAILURES}  # no visit records
    assert not sv.duplicated(["USUBJID", "VISITNUM"]).any()
    planned = sv["VISITNUM"].isin(tv["VISITNUM"])
    assert (sv["SVPRESP"] == np.where(planned, "Y", "")).all()
    assert (sv.loc[~planned, "SVUPDES"] != "").all() and (sv.loc[planned, "SVUPDES"] == "").all()
    assert sv.loc[~planned, "VISITDY"].isna().all()  # CG0658
    name = tv.set_index("VISITNUM")["VISIT"]
    assert (sv.loc[planned, "VISIT"] == sv.loc[planned, "VISITNUM"].map(name)).all()
    # every (subject, VISITNUM) of LB and RS is a visit in SV
    for domain in ("LB", "RS"):
        d = ds[domain].data
        pairs = {(u, v) for u, v in zip(d["USUBJID"], d["VISITNUM"]) if not np.isnan(v)}
        assert pairs <= set(zip(sv["USUBJID"], sv["VISITNUM"]))


# --- metadata, define.xml, the pilot --------------------------------------------------------------

def test_dataset_metadata_from_specs(demo) -> None:
    specs, _, ds = demo
    for name in td.DESIGN_DATASETS:
        d, spec = ds[name], specs.dataset(name)
        order = [v.name for v in spec.variables]
        names = [c.name for c in d.columns if not re.fullmatch(r"TSVAL\d+", c.name)]
        assert names == sorted(names, key=order.index)
        assert {v.name for v in spec.variables if v.core in ("Req", "Exp")} <= set(names)
        assert d.keys[:len(spec.keys)] == spec.keys
        assert d.data.equals(d.data.sort_values(list(d.keys)).reset_index(drop=True))
        for c in d.columns:
            if re.fullmatch(r"TSVAL\d+", c.name):
                continue
            assert c.label == spec.variable(c.name).label and c.type == spec.variable(c.name).type
            assert (d.data[c.name].dtype == "float64") == (c.type == "Num")
            assert c.origin.type in ("Assigned", "Protocol", "Derived", "Predecessor")
            assert (c.origin.type == "Derived") == bool(c.method)
    assert {c.origin.type for c in ds["TA"].columns} == {"Assigned", "Protocol"}
    assert ds["SE"].column("SESTDTC").origin.type == "Derived"
    assert "SSTDTC = earliest complete DM.RFICDTC" in ds["TS"].column("TSVAL").method


@pytest.mark.skipif(not (REFERENCE / "define-xml-2.1").exists(), reason="reference absent")
def test_define_xml_stays_valid(tmp_path: Path) -> None:
    from lxml import etree

    from cdisc.define import safe_parser, validate_define
    from cdisc.pipeline import run_sdtm

    run_sdtm(DEMO_RAW_DIR, DEMO_MAPPING_DIR, tmp_path / "out", formats=("xpt",))
    xml = (tmp_path / "out" / "define.xml").read_bytes()
    assert validate_define(xml, REFERENCE / "define-xml-2.1" / "schema") == []
    root = etree.fromstring(xml, safe_parser())
    groups = {g.get("Name") for g in root.iter("{http://www.cdisc.org/ns/odm/v1.3}ItemGroupDef")}
    assert set(td.DESIGN_DATASETS) <= groups
    for name in td.DESIGN_DATASETS:
        assert (tmp_path / "out" / f"{name.lower()}.xpt").exists()


def test_a_study_without_the_section_gets_no_design_datasets() -> None:
    specs = load_specs()
    config = load_study(REPO / "mappings" / "cdiscpilot01", specs)
    assert config.trial_design is None
    assert td.build_trial_design(config, specs, {}) == {}
    assert td.criteria_text(config) == {} and td.arm_names(config) == {}


# --- config errors: one line naming study.yaml ----------------------------------------------------

def parse(section: dict, specs=None):  # type: ignore[no-untyped-def]
    specs = specs or load_specs()
    config = load_study(DEMO_MAPPING_DIR, specs)
    raw = load_yaml(DEMO_MAPPING_DIR / "study.yaml")
    return td.parse_trial_design(section, DEMO_MAPPING_DIR / "study.yaml", specs, config.visits,
                                 raw["epochs"], raw["domains"])


def _set(section: dict, dotted: str, value: object) -> dict:
    section = copy.deepcopy(section)
    node = section
    *path, last = dotted.split(".")
    for key in path:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is None:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return section


ERRORS = [
    ("summary.XYZZY", "x", "XYZZY is not a TSPARMCD term"),
    ("summary.SSTDTC", None, "summary needs SSTDTC"),
    ("summary.TPHASE", {"value": "PHASE 9", "codelist": "TPHASE"}, "'PHASE 9' is not a term"),
    ("summary.AGEMIN", {"value": "2 years", "reference": "ISO 8601"}, "not an ISO 8601"),
    ("summary.CURTRT", {"null_flavor": "NONE"}, "not an ISO 21090 null flavor"),
    ("summary.ACTSUB", {"value": {"count_subjects": "DM", "where": {"NOPE": "Y"}}},
     "variable NOPE is not defined for dataset DM"),
    ("summary.SSTDTC", {"value": {"from": "DM", "first": "RFICDTC"}}, "unknown key(s)"),
    ("elements.LD.TEDUR", "5 days", "not an ISO 8601 duration"),
    ("elements.LD.window", {"from": "RFXSTDTC", "after": "RFICDTC"}, "needs one start"),
    ("elements.FU.window", {"after": {"reference": "RFFOO", "days": 28}}, "not a DM date"),
    ("arms.DL1.elements.0.ETCD", "SCREEN", "ETCD 'SCREEN' is not in elements"),
    ("arms.DL1.elements.0.EPOCH", "SCREEN", "EPOCH 'SCREEN' is not a term of the EPOCH"),
    ("criteria.inclusion.INCL01", "x" * 201, "longer than 200 characters"),
    ("criteria.inclusion.incl01", "x", "IETESTCD 'incl01' must be"),
]


@pytest.mark.parametrize("dotted,value,message", ERRORS, ids=[e[0] for e in ERRORS])
def test_config_errors_are_one_line(dotted: str, value: object, message: str) -> None:
    section = load_yaml(DEMO_MAPPING_DIR / "study.yaml")["trial_design"]
    with pytest.raises(SpecError) as err:
        parse(_set(section, dotted, value))
    line = err.value.one_line()
    assert message in line and line.startswith(str(DEMO_MAPPING_DIR / "study.yaml"))
    assert "\n" not in line and "trial_design:" in line


def test_epochs_outside_every_arm_and_clashing_domains() -> None:
    section = load_yaml(DEMO_MAPPING_DIR / "study.yaml")["trial_design"]
    for arm in ("DL1", "DL2", "DL3"):
        section = _set(section, f"arms.{arm}.elements.3.EPOCH", "LONG-TERM FOLLOW-UP")
    with pytest.raises(SpecError, match=r"epochs \['FOLLOW-UP'\] of the 'epochs:' windows"):
        parse(section)
    specs = load_specs()
    config = load_study(DEMO_MAPPING_DIR, specs)
    with pytest.raises(SpecError, match=r"\['SE'\] are built from trial_design"):
        td.parse_trial_design(load_yaml(DEMO_MAPPING_DIR / "study.yaml")["trial_design"],
                              DEMO_MAPPING_DIR / "study.yaml", specs, config.visits, [],
                              ["DM", "SE"])


def test_unknown_key_in_study_yaml_section(tmp_path: Path) -> None:
    import shutil

    mapping = tmp_path / "map"
    shutil.copytree(DEMO_MAPPING_DIR, mapping)
    study = mapping / "study.yaml"
    study.write_text(study.read_text().replace("  subject_end: RFPENDTC", "  subject_ends: X"))
    with pytest.raises(SpecError) as err:
        load_study(mapping, load_specs())
    assert "unknown key(s) ['subject_ends']" in err.value.one_line()
    assert err.value.file == str(study)


def test_sv_lists_a_visit_whose_records_have_no_date() -> None:
    from cdisc.model import Dataset

    config = load_study(DEMO_MAPPING_DIR, load_specs())
    lb = pd.DataFrame({"USUBJID": ["A", "A", "A", "B", "C"],
                       "VISITNUM": [3.0, 3.0, 3.01, np.nan, 4.0],
                       "VISIT": ["DAY 0", "DAY 0", "UNSCHEDULED", "", "DAY 4"],
                       "LBDTC": ["", "", "2021-01", "2021-01-01", "2021-01-05"]})
    datasets = {"LB": Dataset("LB", "Laboratory Test Results", [], lb,
                              dataset_class="Findings")}
    sv = td.sv_records(config.trial_design, datasets, pd.DataFrame({"USUBJID": ["A", "B"]}))
    got = list(zip(sv["USUBJID"], sv["VISITNUM"], sv["VISIT"], sv["SVSTDTC"], sv["SVPRESP"],
                   sv["SVUPDES"]))
    # B's record has no VISITNUM, C is not in DM
    assert got == [("A", 3.0, "DAY 0", "", "Y", ""),
                   ("A", 3.01, "UNSCHEDULED", "2021-01", "",
                    "Unscheduled visit: Laboratory Test Results")]
