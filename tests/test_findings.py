"""Findings algorithms and domain derivations, with values derived by hand from the guide's
conversion factors and CTCAE v5.0 boundaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc.sdtm import context, registry
from cdisc.sdtm import derive
from cdisc.specs import load_specs
from cdisc.terminology import StudyCT, build_lookup


def ctx(mapped: dict[str, list], raw: dict[str, list] | None = None) -> context.Context:
    n = len(next(iter(mapped.values())))
    frame = pd.DataFrame({f"f.{k}": v for k, v in (raw or {"X": [""] * n}).items()})
    specs = load_specs()
    series = {k: pd.Series(v, dtype=object if isinstance(v[0], str) else "float64")
              for k, v in mapped.items()}
    return context.Context(frame, "f", "T", False, lambda c: build_lookup(c, specs, StudyCT()),
                       None, None, pd.Series(["S"] * n), None, mapped=series)


def run(rule: dict, mapped: dict, raw: dict | None = None) -> context.Result:
    return registry.apply_rule(ctx(mapped, raw), rule)


LAB = {"LBTESTCD": ["BILI", "CREAT", "HGB", "NEUT", "NEUT", "GLUC", "NEUT", "ALT"],
       "LBORRESU": ["mg/dL", "mg/dL", "g/dL", "10^6/L", "10^9/L", "mg/dL", "10^9/L", "furlong"],
       "LBORRES": ["1.2", "1", "8.5", "1520", "<0.1", "90", "pending", "40"]}
STD = {"value": "LBORRES", "unit": "LBORRESU", "test": "LBTESTCD"}


def test_standard_values_units_and_text() -> None:
    value = run({"standard_value": STD}, LAB)
    text = run({"standard_text": STD}, LAB)
    unit = run({"standard_unit": STD}, LAB)
    # at the collected precision (significant digits, at least 2; trailing zeros of a whole
    # number do not count): 1.2 x 17.1 = 20.52 -> 21; 1 x 88.4 -> 88 (2 digits at least);
    # 8.5 x 10 = 85; 1520 /uL x 0.001 = 1.52 (3 digits); censored; 90 x 0.0555 = 4.995 -> 5.0
    assert list(value.values[:6].fillna(-1)) == [21.0, 88.0, 85.0, 1.52, -1, 5.0]
    assert list(text.values[:6]) == ["21", "88", "85", "1.52", "<0.1", "5.0"]
    assert list(unit.values[:6]) == ["umol/L", "umol/L", "g/L", "10^9/L", "10^9/L", "mmol/L"]
    assert value.errors.iloc[6] == "result is not a number"
    assert value.errors.iloc[7] == "no conversion for this test and unit in specs/lb_units.csv"
    assert list(value.errors[:6]) == [""] * 6


def test_below_limit_of_quantitation() -> None:
    """The demo's PC transgene copies: BLQ below an LLOQ of 50 is '<50' with no number, in the
    test's one standard unit."""
    mapped = {"PCTESTCD": ["CARTCOPY", "CARTCOPY"],
              "PCORRESU": ["DNA copies/ug", "DNA copies/ug"], "PCORRES": ["BLQ", "1234"]}
    spec = {"value": "PCORRES", "unit": "PCORRESU", "test": "PCTESTCD",
            "below_limit": {"values": ["blq"], "limit": "LLOQ"}}
    text = run({"standard_text": spec}, mapped, {"LLOQ": ["50", "50"]})
    value = run({"standard_value": spec}, mapped, {"LLOQ": ["50", "50"]})
    unit = run({"standard_unit": spec}, mapped, {"LLOQ": ["50", "50"]})
    assert list(text.values) == ["<50", "1234"]
    assert np.isnan(value.values.iloc[0]) and value.values.iloc[1] == 1234.0
    assert list(unit.values) == ["DNA copies/ug", "DNA copies/ug"]
    assert list(value.errors) == ["", ""]


def test_reference_range_indicator() -> None:
    r = run({"reference_range": {}}, {"LBSTRESN": [1.0, 2.0, 5.0, 9.0, np.nan, 3.0],
                                      "LBSTNRLO": [2.0, 2.0, 2.0, 2.0, 2.0, np.nan],
                                      "LBSTNRHI": [8.0, 8.0, 8.0, 8.0, 8.0, np.nan]})
    assert list(r.values) == ["LOW", "NORMAL", "NORMAL", "HIGH", "", ""]


@pytest.mark.parametrize("test,value,lln,uln,grade", [
    # neutrophils (LLN 2.0): < LLN - 1.5 = 1; < 1.5 - 1.0 = 2; < 1.0 - 0.5 = 3; < 0.5 = 4
    ("NEUT", 2.0, 2.0, 7.5, "0"), ("NEUT", 1.99, 2.0, 7.5, "1"), ("NEUT", 1.5, 2.0, 7.5, "1"),
    ("NEUT", 1.49, 2.0, 7.5, "2"), ("NEUT", 1.0, 2.0, 7.5, "2"), ("NEUT", 0.99, 2.0, 7.5, "3"),
    ("NEUT", 0.5, 2.0, 7.5, "3"), ("NEUT", 0.49, 2.0, 7.5, "4"),
    # platelets (LLN 150): 75 is grade 1, 74.9 grade 2, 50 grade 2, 25 grade 3, 24 grade 4
    ("PLAT", 75, 150, 400, "1"), ("PLAT", 74.9, 150, 400, "2"), ("PLAT", 50, 150, 400, "2"),
    ("PLAT", 25, 150, 400, "3"), ("PLAT", 24, 150, 400, "4"),
    # haemoglobin g/L (LLN 120): 100 grade 1, 99 grade 2, 80 grade 2, 79 grade 3
    ("HGB", 100, 120, 160, "1"), ("HGB", 99, 120, 160, "2"), ("HGB", 80, 120, 160, "2"),
    ("HGB", 79, 120, 160, "3"),
    # ALT (ULN 40): 40 grade 0; 41 grade 1; 120 (3x) grade 1; 121 grade 2; 200 grade 2;
    # 800 (20x) grade 3; 801 grade 4
    ("ALT", 40, 7, 40, "0"), ("ALT", 41, 7, 40, "1"), ("ALT", 120, 7, 40, "1"),
    ("ALT", 121, 7, 40, "2"), ("ALT", 200, 7, 40, "2"), ("ALT", 800, 7, 40, "3"),
    ("ALT", 801, 7, 40, "4"),
    # creatinine (ULN 100): 150 grade 1, 151 grade 2, 300 grade 2, 600 grade 3, 601 grade 4
    ("CREAT", 150, 50, 100, "1"), ("CREAT", 151, 50, 100, "2"), ("CREAT", 300, 50, 100, "2"),
    ("CREAT", 600, 50, 100, "3"), ("CREAT", 601, 50, 100, "4"),
    # bilirubin (ULN 20): 30 (1.5x) grade 1; 60 (3x) grade 2; 200 (10x) grade 3; 201 grade 4
    ("BILI", 30, 3, 20, "1"), ("BILI", 60, 3, 20, "2"), ("BILI", 200, 3, 20, "3"),
    ("BILI", 201, 3, 20, "4"),
    # not graded / missing limit
    ("ALB", 20, 35, 50, ""), ("NEUT", 1.7, np.nan, 7.5, ""), ("NEUT", 0.3, np.nan, 7.5, "4"),
])
def test_ctcae_grade_boundaries(test: str, value: float, lln: float, uln: float,
                                grade: str) -> None:
    r = run({"ctcae_grade": {}}, {"LBTESTCD": [test], "LBSTRESN": [float(value)],
                                  "LBSTNRLO": [float(lln)], "LBSTNRHI": [float(uln)]})
    assert r.values.iloc[0] == grade


@pytest.mark.parametrize("text,digits", [
    ("89", 2), ("0.67", 2), ("1.20", 3), ("<0.10", 2), ("125000", 3), ("4500", 2), ("1", 2),
    ("100.0", 4), ("0.0555", 3), ("-3.25", 3), ("BLQ", None), ("", None), ("1e3", None)])
def test_significant_digits_of_collected_numbers(text: str, digits: int | None) -> None:
    from cdisc.sdtm.findings import significant_digits

    got = significant_digits(pd.Series([text], dtype=object)).iloc[0]
    assert (np.isnan(got) if digits is None else got == digits), got


def test_censored_results_get_the_indicator_their_limit_decides() -> None:
    """'<0.1' below a low limit of 1.8 is LOW whatever the true value; '<2.0' is not decided
    (the value may be 1.9, NORMAL, or 0.5, LOW); '>9' above a high limit of 8 is HIGH."""
    r = run({"reference_range": {"text": "LBSTRESC"}},
            {"LBSTRESN": [np.nan, np.nan, np.nan, np.nan, np.nan, np.nan],
             "LBSTRESC": ["<0.1", "<2.0", "<1.8", "<=1.8", ">9", ">=8"],
             "LBSTNRLO": [1.8, 1.8, 1.8, 1.8, 1.8, 1.8],
             "LBSTNRHI": [8.0, 8.0, 8.0, 8.0, 8.0, 8.0]})
    # '<1.8' means < 1.8: LOW; '<=1.8' may equal 1.8 (NORMAL); '>=8' may equal 8 (NORMAL)
    assert list(r.values) == ["LOW", "", "LOW", "", "HIGH", ""]


@pytest.mark.parametrize("test,text,lln,uln,grade", [
    # neutrophils grade 4 is < 0.5: any '<x' with x <= 0.5 is grade 4, whatever the true value
    ("NEUT", "<0.1", 2.0, 7.5, "4"), ("NEUT", "<0.5", 2.0, 7.5, "4"),
    ("NEUT", "<=0.5", 2.0, 7.5, ""),  # may be exactly 0.5: grade 3
    ("NEUT", "<0.6", 2.0, 7.5, ""),   # 0.55 is grade 3, 0.1 grade 4: not decided
    ("LYM", "<0.1", 1.0, 4.0, "4"),   # lymphocytes grade 4 is < 0.2
    ("NEUT", ">2.5", 2.0, 7.5, "0"),  # wholly at or above the LLN: not decreased
    ("NEUT", ">1.9", 2.0, 7.5, ""),
    # ALT grade 4 is > 20 x ULN (800 with ULN 40): '>800' is grade 4, '>700' is not decided
    ("ALT", ">800", 7, 40, "4"), ("ALT", ">700", 7, 40, ""), ("ALT", "<30", 7, 40, "0"),
])
def test_ctcae_grade_of_censored_results(test: str, text: str, lln: float, uln: float,
                                         grade: str) -> None:
    r = run({"ctcae_grade": {"text": "LBSTRESC"}},
            {"LBTESTCD": [test], "LBSTRESN": [np.nan], "LBSTRESC": [text],
             "LBSTNRLO": [float(lln)], "LBSTNRHI": [float(uln)]})
    assert r.values.iloc[0] == grade


def test_decode_uses_paired_codelist_and_study_map() -> None:
    specs = load_specs()
    study = StudyCT(maps={"C67154": {"cartcopy": "CAR-T Transgene Copies"}})
    c = context.Context(pd.DataFrame({"f.X": ["", "", ""]}), "f", "LBTEST", False,
                    lambda name: build_lookup(name, specs, study), None, None,
                    pd.Series(["S"] * 3), None,
                    mapped={"LBTESTCD": pd.Series(["HGB", "CARTCOPY", "ZZZ"], dtype=object)})
    r = registry.apply_rule(c, {"decode": {"variable": "LBTESTCD", "codelist": "LBTEST",
                                      "from": "LBTESTCD"}})
    assert list(r.values) == ["Hemoglobin", "CAR-T Transgene Copies", ""]
    assert r.errors.iloc[2] == "no LBTEST name for this code"


def test_last_observation_before_exposure() -> None:
    dm = pd.DataFrame({"USUBJID": ["A", "B"], "RFXSTDTC": ["2021-01-10T08:00", ""]})
    table = pd.DataFrame({
        "USUBJID": ["A", "A", "A", "A", "A", "B"],
        "LBTESTCD": ["HGB", "HGB", "HGB", "HGB", "PLAT", "HGB"],
        "LBDTC": ["2021-01-01", "2021-01-09T07:00", "2021-01-10T09:00", "2021-01-10",
                  "2021-01-05", "2021-01-01"],
        "LBSTRESC": ["120", "", "110", "115", "90", "100"]})
    flag = derive.derive_last_obs_before_exposure(table, dm, "LBDTC", "LBSTRESC", ["LBTESTCD"])
    # 01-09 has no result; 01-10T09:00 is after 08:00; the untimed same-day sample counts
    assert list(flag) == ["", "", "", "Y", "Y", ""]


def test_unscheduled_visitnum() -> None:
    table = pd.DataFrame({
        "USUBJID": ["A"] * 5 + ["B"],
        "VISIT": ["DAY 0", "UNSCHEDULED", "UNSCHEDULED", "DAY 7", "UNSCHEDULED", "UNSCHEDULED"],
        "VISITNUM": [3.0, np.nan, np.nan, 5.0, np.nan, np.nan],
        "LBDTC": ["2021-01-10", "2021-01-11", "2021-01-12T10:00", "2021-01-17", "2021-01-20",
                  "2021-02-01"]})
    visitnum = derive.derive_unscheduled_visitnum(table, "LBDTC")
    assert list(visitnum) == [3.0, 3.01, 3.02, 5.0, 5.01, 0.01]
    # one VISIT per VISITNUM (CORE-000361); an unscheduled visit without a date keeps its name
    visit = derive.derive_unscheduled_visit(
        pd.concat([table["VISIT"], pd.Series(["UNSCHEDULED"])], ignore_index=True),
        pd.concat([visitnum, pd.Series([np.nan])], ignore_index=True))
    assert list(visit) == ["DAY 0", "UNSCHEDULED 3.01", "UNSCHEDULED 3.02", "DAY 7",
                           "UNSCHEDULED 5.01", "UNSCHEDULED 0.01", "UNSCHEDULED"]


def test_epoch_windows() -> None:
    dm = pd.DataFrame({"USUBJID": ["A"], "RFXSTDTC": ["2021-01-05"],
                       "RFSTDTC": ["2021-01-10T10:00"]})
    rules = [{"epoch": "SCREENING", "before": "RFXSTDTC"},
             {"epoch": "TREATMENT", "from": "RFXSTDTC",
              "through": {"reference": "RFSTDTC", "days": 28}},
             {"epoch": "FOLLOW-UP", "after": {"reference": "RFSTDTC", "days": 28}}]
    dtc = pd.Series(["2021-01-04", "2021-01-05", "2021-02-07", "2021-02-08", "2021-02", ""])
    epoch = derive.derive_epoch(dtc, pd.Series(["A"] * 6), dm, rules)
    assert list(epoch) == ["SCREENING", "TREATMENT", "TREATMENT", "FOLLOW-UP", "", ""]


def test_epoch_of_partial_dates_and_untreated_subjects() -> None:
    """A partial date is placed when all its days lie in one window: with LD on 2021-01-05 and
    day 28 after the infusion on 2021-02-07, 2021-03 is all FOLLOW-UP, 2020-12 all SCREENING,
    2021-01 straddles SCREENING and TREATMENT, 2021 straddles all three. Subject B was never
    treated (no RFXSTDTC): every date is before treatment, SCREENING."""
    dm = pd.DataFrame({"USUBJID": ["A", "B"], "RFXSTDTC": ["2021-01-05", ""],
                       "RFSTDTC": ["2021-01-10T10:00", ""]})
    rules = [{"epoch": "SCREENING", "before": "RFXSTDTC"},
             {"epoch": "TREATMENT", "from": "RFXSTDTC",
              "through": {"reference": "RFSTDTC", "days": 28}},
             {"epoch": "FOLLOW-UP", "after": {"reference": "RFSTDTC", "days": 28}}]
    dtc = pd.Series(["2021-03", "2020-12", "2021-01", "2021", "2021-02-07", "2021-02",
                     "2021-06-01", "2021-06"])
    subjects = pd.Series(["A"] * 6 + ["B"] * 2)
    epoch = derive.derive_epoch(dtc, subjects, dm, rules)
    assert list(epoch) == ["FOLLOW-UP", "SCREENING", "", "", "TREATMENT", "", "SCREENING",
                           "SCREENING"]


def test_last_observation_before_exposure_ties_and_missing() -> None:
    dm = pd.DataFrame({"USUBJID": ["A"], "RFXSTDTC": ["2021-01-10"]})
    table = pd.DataFrame({
        "USUBJID": ["A"] * 5,
        "LBTESTCD": ["HGB"] * 5,
        "LBSEQ": [1.0, 2.0, 3.0, 4.0, 5.0],
        "LBDTC": ["2021-01-08", "2021-01-08", "2021-01-09", "2021-01", ""],
        "LBSTRESC": ["120", "118", "", "119", "117"]})
    # 01-09 has no result, the partial and missing dates cannot be placed: of the two results
    # on 01-08 the one with the higher LBSEQ is flagged
    flag = derive.derive_last_obs_before_exposure(table, dm, "LBDTC", "LBSTRESC", ["LBTESTCD"])
    assert list(flag) == ["", "Y", "", "", ""]
