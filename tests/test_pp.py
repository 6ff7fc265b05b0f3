"""cdisc.sdtm.pp: SDTM PP from small hand-made PC frames (values derived by hand), the time
rule, BLQ detection, PPSEQ, and the CT and SDTMIG metadata the domain uses."""

from __future__ import annotations

import csv
import math
import re

import numpy as np
import pandas as pd
import pytest

from cdisc import nca
from cdisc.sdtm import pp as sdtm_pp
from cdisc.sdtm.pp import derive_pp, elapsed_days, is_blq
from tests.conftest import REPO

REF = "2024-01-10T12:00"
TEST = "CAR-T Transgene Copies"
UNIT = "DNA copies/ug"


def sample(usubjid: str, seq: int, spec: str, dtc: str, day: float, result: str,
           stat: str = "", ref: str = REF, unit: str = UNIT) -> dict:
    """One PC record; result '<50' is BLQ, '' with stat NOT DONE is not done. The unit is the
    one the demo PC mapping standardises to (PKUNIT DNA copies/ug, C170632)."""
    number = float(result) if re.fullmatch(r"[\d.]+", result) else np.nan
    return {"STUDYID": "NCT04265963", "DOMAIN": "PC", "USUBJID": usubjid, "PCSEQ": float(seq),
            "PCTESTCD": "CARTCOPY", "PCTEST": TEST, "PCCAT": "CELLULAR KINETICS",
            "PCORRES": result, "PCORRESU": unit if result else "",
            "PCSTRESC": result, "PCSTRESN": number,
            "PCSTRESU": unit if result else "", "PCSTAT": stat,
            "PCREASND": "QUANTITY NOT SUFFICIENT" if stat else "", "PCSPEC": spec,
            "PCMETHOD": "QUANTITATIVE POLYMERASE CHAIN REACTION", "PCLLOQ": 50.0,
            "VISITNUM": float(day), "VISIT": f"DAY {day:g}", "PCDTC": dtc, "PCDY": np.nan,
            "PCTPT": f"DAY {day:g}", "PCTPTNUM": float(day), "PCELTM": f"P{day:g}D",
            "PCTPTREF": "FIRST CAR-T INFUSION", "PCRFTDTC": ref}


def subject_a() -> list[dict]:
    """Blood: pre-infusion BLQ, 1000 at day 7 18:00 (7.25 d), 400 at day 14 (date only: 14 d),
    100 at day 28 12:00 (28 d). Marrow: all BLQ at day 0 and 28, a not-done sample at day 14."""
    return [
        sample("A", 1, "BLOOD", "2024-01-10T08:00", 0, "<50"),
        sample("A", 2, "BLOOD", "2024-01-17T18:00", 7, "1000"),
        sample("A", 3, "BLOOD", "2024-01-24", 14, "400"),
        sample("A", 4, "BLOOD", "2024-02-07T12:00", 28, "100"),
        sample("A", 5, "BONE MARROW", "2024-01-10", 0, "<50"),
        sample("A", 6, "BONE MARROW", "2024-01-24", 14, "", "NOT DONE"),
        sample("A", 7, "BONE MARROW", "2024-02-07", 28, "<50"),
    ]


def subject_b() -> list[dict]:
    """Blood only, the last sample at day 21: no AUC to day 28."""
    ref = "2024-03-01T09:00"
    return [
        sample("B", 1, "BLOOD", "2024-03-01T08:00", 0, "<50", ref=ref),
        sample("B", 2, "BLOOD", "2024-03-08T09:00", 7, "2000", ref=ref),
        sample("B", 3, "BLOOD", "2024-03-22T09:00", 21, "500", ref=ref),
    ]


PC = pd.DataFrame(subject_a() + subject_b())

# Subject A blood by hand (times 0, 7.25, 14, 28; the pre-infusion sample at -1/6 d -> 0):
#   0-7.25   linear (0 + 1000) / 2 * 7.25                 = 3625
#   7.25-14  log    (1000 - 400) * 6.75 / ln 2.5          = 4050 / 0.916291 = 4419.9945
#   14-28    log    (400 - 100) * 14 / ln 4               = 4200 / 1.386294 = 3029.6596
#   AUC0-28 = 11074.6541 day*DNA copies/ug; PKUNIT has no such term but has h*DNA copies/ug
#   (C172585): 11074.6541 * 24 = 265791.6982 h*DNA copies/ug. Cmax 1000 at 7.25; Clast 100 at 28
AUC_A = 3625 + 600 * 6.75 / math.log(2.5) + 300 * 14 / math.log(4)


def by_key(pp: pd.DataFrame, usubjid: str, spec: str) -> dict[str, pd.Series]:
    rows = pp[(pp["USUBJID"] == usubjid) & (pp["PPSPEC"] == spec)]
    return {r["PPTESTCD"]: r for _, r in rows.iterrows()}


def test_blood_profile_values_and_units() -> None:
    pp = derive_pp(PC)
    a = by_key(pp, "A", "BLOOD")
    assert AUC_A == pytest.approx(11074.6541, abs=1e-4)
    assert a["CMAX"]["PPSTRESN"] == 1000.0 and a["CMAX"]["PPORRES"] == "1000"
    assert a["TMAX"]["PPSTRESN"] == 7.25 and a["TMAX"]["PPSTRESC"] == "7.25"
    assert (a["CLST"]["PPSTRESN"], a["TLST"]["PPSTRESN"]) == (100.0, 28.0)
    assert a["AUCINT"]["PPSTRESN"] == pytest.approx(AUC_A * 24, rel=1e-9)
    assert AUC_A * 24 == pytest.approx(265791.6982, abs=1e-3)
    assert {k: r["PPSTRESU"] for k, r in a.items()} == {
        "CMAX": UNIT, "TMAX": "day", "CLST": UNIT, "TLST": "day", "AUCINT": "h*DNA copies/ug"}
    assert all(r["PPORRESU"] == r["PPSTRESU"] and r["PPORRES"] == r["PPSTRESC"]
               for r in a.values())
    assert all(r["PPSTAT"] == "" and r["PPREASND"] == "" for r in a.values())


def test_identifiers_interval_and_link_to_pc() -> None:
    pp = derive_pp(PC)
    assert set(pp["DOMAIN"]) == {"PP"}
    assert set(pp["PPCAT"]) == {TEST}  # SDTMIG v3.4: PPCAT is the analyte's PCTEST
    assert dict(zip(pp["USUBJID"], pp["PPRFTDTC"], strict=False)) == {
        "A": REF, "B": "2024-03-01T09:00"}
    # PPTPTREF names the reference of PPRFTDTC, PPSTINT and PPENINT (SDTM v2.0 --TPTREF;
    # CORE-000165 / FDA FB3701 require it beside PPRFTDTC)
    assert set(pp["PPTPTREF"]) == {"FIRST CAR-T INFUSION"}
    auc = pp[pp["PPTESTCD"] == "AUCINT"]
    assert set(auc["PPSTINT"]) == {"P0D"} and set(auc["PPENINT"]) == {"P28D"}
    assert set(auc["PPANMETH"]) == {"LINEAR UP LOG DOWN METHOD"}
    others = pp[pp["PPTESTCD"] != "AUCINT"]
    assert set(others["PPSTINT"]) == set(others["PPENINT"]) == set(others["PPANMETH"]) == {""}
    assert dict(zip(pp["PPTESTCD"], pp["PPTEST"], strict=False)) == sdtm_pp.PKPARM
    assert pp.columns.tolist() == sdtm_pp.PP_COLUMNS


def test_all_blq_marrow_profile_with_a_not_done_sample() -> None:
    m = by_key(derive_pp(PC), "A", "BONE MARROW")
    assert (m["CMAX"]["PPSTRESN"], m["CMAX"]["PPORRES"], m["CMAX"]["PPSTAT"]) == (0.0, "0", "")
    # one evaluable sample after day 0 (day 28; day 14 not done): too few for an AUC
    assert math.isnan(m["AUCINT"]["PPSTRESN"])
    assert (m["AUCINT"]["PPSTAT"], m["AUCINT"]["PPREASND"]) == \
        ("NOT DONE", "FEWER THAN 2 SAMPLES FROM DAY 0 TO DAY 28")
    for code in ("TMAX", "CLST", "TLST"):
        row = m[code]
        assert math.isnan(row["PPSTRESN"])
        assert (row["PPORRES"], row["PPSTRESC"], row["PPORRESU"], row["PPSTRESU"]) == ("",) * 4
        assert (row["PPSTAT"], row["PPREASND"]) == ("NOT DONE", "NO QUANTIFIABLE CONCENTRATIONS")


def test_profile_ending_before_day_28_has_no_auc() -> None:
    b = by_key(derive_pp(PC), "B", "BLOOD")
    assert b["AUCINT"]["PPSTAT"] == "NOT DONE"
    assert b["AUCINT"]["PPREASND"] == "NO SAMPLE ON OR AFTER DAY 28"
    assert b["AUCINT"]["PPSTINT"] == "P0D"  # the planned interval is still stated
    assert (b["CMAX"]["PPSTRESN"], b["TMAX"]["PPSTRESN"]) == (2000.0, 7.0)
    assert (b["CLST"]["PPSTRESN"], b["TLST"]["PPSTRESN"]) == (500.0, 21.0)


def test_not_done_sample_does_not_enter_the_auc() -> None:
    # A blood with a not-done day-14 sample added: the curve goes 7.25 -> 14 (400) as before
    extra = sample("A", 8, "BLOOD", "2024-01-21", 11, "", "NOT DONE")
    pp = derive_pp(pd.concat([PC, pd.DataFrame([extra])], ignore_index=True))
    assert by_key(pp, "A", "BLOOD")["AUCINT"]["PPSTRESN"] == pytest.approx(AUC_A * 24,
                                                                          rel=1e-9)


def test_auc_in_days_when_no_hour_term_exists() -> None:
    # copies/ug: PKUNIT has neither day*copies/ug nor h*copies/ug -> day*copies/ug (extension)
    samples = [("2024-01-10T08:00", 0, "<50"), ("2024-01-17T18:00", 7, "1000"),
               ("2024-01-24", 14, "400"), ("2024-02-07T12:00", 28, "100")]
    pc = pd.DataFrame([sample("A", i, "BLOOD", dtc, day, res, unit="copies/ug")
                       for i, (dtc, day, res) in enumerate(samples, start=1)])
    a = by_key(derive_pp(pc), "A", "BLOOD")
    assert a["AUCINT"]["PPSTRESU"] == "day*copies/ug" and a["CMAX"]["PPSTRESU"] == "copies/ug"
    assert a["AUCINT"]["PPSTRESN"] == pytest.approx(AUC_A, rel=1e-9)
    assert sdtm_pp.auc_unit("DNA copies/ug") == ("h*DNA copies/ug", 24.0)


def test_ppseq_follows_the_natural_key_and_is_stable_under_shuffles() -> None:
    pp = derive_pp(PC)
    a = pp[pp["USUBJID"] == "A"]
    assert a["PPSEQ"].tolist() == list(map(float, range(1, 11)))
    # sorted by PPTESTCD, then PPCAT, PPSPEC: AUCINT blood, AUCINT marrow, CLST blood, ...
    assert list(zip(a["PPTESTCD"], a["PPSPEC"], strict=False))[:3] == [
        ("AUCINT", "BLOOD"), ("AUCINT", "BONE MARROW"), ("CLST", "BLOOD")]
    assert pp[pp["USUBJID"] == "B"]["PPSEQ"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    for seed in range(5):
        shuffled = PC.sample(frac=1, random_state=seed).reset_index(drop=True)
        pd.testing.assert_frame_equal(derive_pp(shuffled), pp)


def test_studyid_override_and_empty_pc() -> None:
    assert set(derive_pp(PC, studyid="OTHER")["STUDYID"]) == {"OTHER"}
    empty = derive_pp(PC.iloc[0:0])
    assert empty.empty and empty.columns.tolist() == sdtm_pp.PP_COLUMNS


def test_several_units_in_one_profile_is_an_error() -> None:
    bad = PC.copy()
    bad.loc[1, "PCSTRESU"] = "copies/mL"
    with pytest.raises(ValueError, match="several units"):
        derive_pp(bad)


def test_time_rule() -> None:
    dtc = pd.Series(["2024-01-17T18:00", "2024-01-17", "2024-01", "", "2024-01-10T06:00"])
    ref = pd.Series([REF, REF, REF, REF, REF])
    nominal = pd.Series([7.0, 7.0, 7.0, 14.0, 0.0])
    # 7 d 6 h = 7.25; date only -> 17 - 10 = 7 whole days; partial or missing -> nominal;
    # pre-infusion 6 h before the infusion -> -0.25 (the NCA puts it at 0)
    assert elapsed_days(dtc, ref, nominal).tolist() == [7.25, 7.0, 7.0, 14.0, -0.25]
    date_only_ref = pd.Series(["2024-01-10"] * 5)
    assert elapsed_days(dtc, date_only_ref, nominal).tolist() == [7.0, 7.0, 7.0, 14.0, 0.0]
    # a late sample (nominal day 7, taken on day 10) keeps its real day
    assert elapsed_days(pd.Series(["2024-01-20"]), pd.Series([REF]),
                        pd.Series([7.0])).tolist() == [10.0]


def test_blq_definition() -> None:
    pc = pd.DataFrame({"PCSTRESC": ["<50", "BLQ", "30", "120", "", "<50"],
                       "PCSTRESN": [np.nan, np.nan, 30.0, 120.0, np.nan, np.nan],
                       "PCLLOQ": [50.0] * 6,
                       "PCSTAT": ["", "", "", "", "NOT DONE", "NOT DONE"]})
    assert is_blq(pc).tolist() == [True, True, True, False, False, False]


def test_result_text_keeps_ten_significant_digits() -> None:
    assert sdtm_pp.format_result(11074.646301234567) == "11074.6463"
    assert sdtm_pp.format_result(123456789.0) == "123456789"
    assert sdtm_pp.format_result(7.25) == "7.25"
    assert sdtm_pp.format_result(0.0) == "0"


def test_method_texts_quote_the_rules() -> None:
    for text in (nca.BLQ_RULE, nca.TIME_ZERO_RULE, nca.AUC_RULE, nca.INTERPOLATION_RULE,
                 sdtm_pp.TIME_RULE, sdtm_pp.BLQ_DEFINITION, sdtm_pp.AUC_UNIT_RULE):
        assert text in sdtm_pp.PP_METHOD
    assert "PPRFTDTC" in sdtm_pp.PP_PC_LINK and "RELREC" in sdtm_pp.PP_PC_LINK
    assert re.sub(r"\s+", " ", sdtm_pp.TIME_RULE) in re.sub(r"\s+", " ", sdtm_pp.__doc__ or "")


# --- metadata: CDISC CT 2025-03-28 as vendored, SDTMIG v3.4 PP --------------------------------

def _ct_rows() -> list[dict[str, str]]:
    with (REPO / "specs" / "ct" / "sdtm_ct.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _terms(codelist: str) -> dict[str, str]:
    """submission value -> NCI term code of one codelist."""
    return {r["submission_value"]: r["term_code"] for r in _ct_rows()
            if r["codelist_code"] == codelist}


def test_parameter_codes_and_names_are_one_ct_term_each() -> None:
    codes, names = _terms("C85839"), _terms("C85493")  # PKPARMCD, PKPARM
    expected = {"CMAX": "C70918", "TMAX": "C70919", "CLST": "C85655", "TLST": "C85822",
                "AUCINT": "C85566"}
    for code, name in sdtm_pp.PKPARM.items():
        assert codes[code] == names[name] == expected[code]


def test_units_method_and_status_terms() -> None:
    pkunit = _terms("C85494")
    assert pkunit["day"] == "C25301" and pkunit["copies/ug"] == "C126079"
    assert pkunit["DNA copies/ug"] == "C170632" and pkunit["h*DNA copies/ug"] == "C172585"
    assert "day*DNA copies/ug" not in pkunit  # hence AUC in h*DNA copies/ug
    assert "day*copies/ug" not in pkunit and "h*copies/ug" not in pkunit  # would be extensions
    assert _terms("C172330")[sdtm_pp.AUC_METHOD] == "C172581"
    assert _terms("C66789")["NOT DONE"] == "C49484"
    spec = _terms("C78734")
    assert spec["BLOOD"] == "C12434" and spec["BONE MARROW"] == "C12431"


def test_pp_columns_are_sdtmig_pp_variables_in_order() -> None:
    with (REPO / "specs" / "sdtm" / "variables.csv").open(encoding="utf-8", newline="") as fh:
        ig = [r["variable"] for r in csv.DictReader(fh) if r["dataset"] == "PP"]
    assert [v for v in ig if v in sdtm_pp.PP_COLUMNS] == sdtm_pp.PP_COLUMNS
    assert sdtm_pp.PP_KEYS[1:] == ["USUBJID", "PPTESTCD", "PPCAT", "PPSPEC", "PPRFTDTC"]
