"""Each mapping algorithm on a tiny frame, with values checked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cdisc.errors import SpecError
from cdisc.sdtm import context, registry
from cdisc.specs import load_specs
from cdisc.terminology import StudyCT, build_lookup, normalise


def ctx(frame: dict, target: str = "X", numeric: bool = False, codelist: str | None = None,
        study_ct: StudyCT | None = None, domains: dict | None = None,
        visits: pd.DataFrame | None = None) -> context.Context:
    df = pd.DataFrame({f"f.{k}": v for k, v in frame.items()})
    specs = load_specs()
    study_ct = study_ct or StudyCT()
    subjects = pd.Series([f"S-{i}" for i in range(len(df))], dtype=object)
    return context.Context(df, "f", target, numeric, lambda name: build_lookup(name, specs, study_ct),
                       visits, domains, subjects, codelist)


def test_assign_trims_and_keeps_text() -> None:
    r = registry.apply_rule(ctx({"A": [" 920 ", "", "NA"]}), {"assign": "A"})
    assert list(r.values) == ["920", "", "NA"]
    assert list(r.errors) == ["", "", ""]


def test_number_parses_and_bounds() -> None:
    r = registry.apply_rule(ctx({"D": ["1.5", "", "abc", "-1", "1e3"]}, numeric=True),
                       {"number": {"column": "D", "min": 0, "max": 100}})
    assert r.values.iloc[0] == 1.5 and math.isnan(r.values.iloc[1])
    assert list(r.errors) == ["", "", "not a number", "below the plausible minimum 0",
                              "above the plausible maximum 100"]
    # text that is no number has no value; an implausible number is kept as collected (queried)
    assert math.isnan(r.values.iloc[2]) and list(r.values.iloc[3:]) == [-1.0, 1000.0]


def test_assign_ct_submission_values_synonyms_and_study_map() -> None:
    study = StudyCT(maps={"C66731": {"male": "M"}})
    r = registry.apply_rule(ctx({"S": ["Male", "f", " F ", "", "X"]}, codelist="C66731",
                           study_ct=study), {"assign_ct": "S"})
    assert list(r.values) == ["M", "F", "F", "", "X"]  # unknown terms kept as collected
    assert r.errors.iloc[4] == "not in codelist C66731 nor in the study CT map"
    assert list(r.errors.iloc[:4]) == ["", "", "", ""]


def test_assign_ct_uses_cdisc_synonyms_and_micro_sign() -> None:
    r = registry.apply_rule(ctx({"U": ["µmol/L", "μmol/L", "umol/l", "g%", "Thou/mcL"]}),
                       {"assign_ct": {"column": "U", "codelist": "UNIT"}})
    assert list(r.values) == ["umol/L", "umol/L", "umol/L", "g/dL", "10^9/L"]


def test_hardcode() -> None:
    r = registry.apply_rule(ctx({"A": ["x", "y"]}), {"hardcode": "INTRAVENOUS"})
    assert list(r.values) == ["INTRAVENOUS", "INTRAVENOUS"]


def test_datetime_with_time_and_partial() -> None:
    r = registry.apply_rule(ctx({"D": ["2021/03/15", "UN-JUN-2021", "2021/02/31", ""],
                            "T": ["14:30", "10:00", "", ""]}),
                       {"datetime": {"date": "D", "time": "T"}})
    assert list(r.values[:2]) == ["2021-03-15T14:30", "2021-06"]
    assert r.values.iloc[3] == "" and r.errors.iloc[3] == ""
    assert r.errors.iloc[2] != ""


def test_case_first_match_wins_and_else() -> None:
    rule = {"case": [
        {"when": {"column": "A", "in": ["yes", "Y"]}, "then": {"hardcode": "one"}},
        {"when": {"column": "B", "missing": True}, "then": {"hardcode": "two"}},
        {"else": {"assign": "B"}},
    ]}
    r = registry.apply_rule(ctx({"A": ["Yes", "no", "no"], "B": ["", "", "bee"]}), rule)
    assert list(r.values) == ["one", "two", "bee"]


def test_case_without_else_leaves_null() -> None:
    rule = {"case": [{"when": {"column": "A", "equals": "y"}, "then": {"hardcode": "Y"}}]}
    r = registry.apply_rule(ctx({"A": ["Y", "N"]}), rule)
    assert list(r.values) == ["Y", ""]


def test_first_and_last_from_a_domain() -> None:
    ex = pd.DataFrame({"USUBJID": ["S-0", "S-0", "S-0", "S-1"],
                       "EXSTDTC": ["2021-01-12", "2021-01-10T08:00", "2021-01-15", ""],
                       "EXCAT": ["LD", "LD", "CAR-T", "CAR-T"]})
    c = ctx({"A": ["a", "b"]}, domains={"EX": ex})
    first = registry.apply_rule(c, {"first": {"domain": "EX", "variable": "EXSTDTC"}})
    last_ld = registry.apply_rule(c, {"last": {"domain": "EX", "variable": "EXSTDTC",
                                          "where": {"EXCAT": "LD"}}})
    assert list(first.values) == ["2021-01-10T08:00", ""]
    assert list(last_ld.values) == ["2021-01-12", ""]


def test_domain_conditions() -> None:
    ex = pd.DataFrame({"USUBJID": ["S-1"], "EXCAT": ["CAR-T"]})
    c = ctx({"A": ["a", "b"]}, domains={"EX": ex})
    has = context.evaluate_condition(c, {"domain_has": {"domain": "EX", "where": {"EXCAT": "CAR-T"}}})
    lacks = context.evaluate_condition(c, {"domain_lacks": {"domain": "EX"}})
    assert list(has) == [False, True] and list(lacks) == [True, False]


def test_visit_sets_visitnum() -> None:
    visits = pd.DataFrame({"folder": ["DAY0", "DAY7"], "visitnum": [3.0, 4.0],
                           "visit": ["DAY 0", "DAY 7"]})
    r = registry.apply_rule(ctx({"F": ["day7", "DAY0", "", "WEEK9"]}, visits=visits),
                       {"visit": "F"})
    assert list(r.values) == ["DAY 7", "DAY 0", "", "WEEK9"]  # unknown folder kept as VISIT
    assert list(r.extra["VISITNUM"].fillna(-1)) == [4.0, 3.0, -1.0, -1.0]
    assert r.errors.iloc[3] == "visit folder not in the study visit table"


def test_rule_validation() -> None:
    with pytest.raises(SpecError, match="exactly one algorithm"):
        registry.rule_algorithm({"assign": "A", "hardcode": "B"})
    with pytest.raises(SpecError, match="unknown algorithm"):
        registry.rule_algorithm({"eval": "1+1"})
    assert registry.rule_phase({"case": [{"when": {"domain_has": {"domain": "EX"}},
                                     "then": {"hardcode": "Y"}}]}) == 2
    assert registry.rule_columns({"case": [{"when": {"column": "x.A", "equals": "1"},
                                       "then": {"assign": "B"}}]}) == ["B", "x.A"]


def test_normalise() -> None:
    assert list(normalise(pd.Series(["  Not  Hispanic ", "µg/L", None]))) == \
        ["not hispanic", "ug/l", ""]


def _subject_ctx(frame: dict, subjects: list[str], domains: dict | None = None
                 ) -> context.Context:
    df = pd.DataFrame({f"f.{k}": v for k, v in frame.items()})
    return context.Context(df, "f", "X", False, lambda name: None, None, domains,
                           pd.Series(subjects, dtype=object), None)


def test_prior_condition_needs_an_earlier_row_of_the_same_subject() -> None:
    """A: CR on 01-10 then relapse on 02-10 (prior CR: true); the CR row itself has no earlier
    CR; B relapses on 01-05 before its CR of 01-20 (false); C's CR has no date (false)."""
    c = _subject_ctx({"R": ["CR", "Relapse", "Relapse", "cr", "Relapse", "CR"],
                      "D": ["10-JAN-2021", "10-FEB-2021", "05-JAN-2021", "20-JAN-2021",
                            "01-MAR-2021", ""]},
                     ["A", "A", "B", "B", "C", "C"])
    hit = context.evaluate_condition(c, {"prior": {"column": "R", "in": ["CR"], "order_by": "D"}})
    assert list(hit) == [False, True, False, False, False, False]


def test_after_last_compares_the_known_parts_of_dates() -> None:
    """Last infusion 2021-02-12 (A) and none (B): 2021-02-13 and 2021-03 are after it; the
    infusion day itself, 2021-02 (it may be before the 12th) and 2021 are not."""
    ex = pd.DataFrame({"USUBJID": ["A", "A"], "EXSTDTC": ["2021-02-01", "2021-02-12T10:00"],
                       "EXCAT": ["CAR-T", "CAR-T"]})
    c = _subject_ctx({"D": ["2021-02-13", "12-FEB-2021", "UN-FEB-2021", "UN-MAR-2021", "2021",
                            "2022-01-01"]}, ["A", "A", "A", "A", "A", "B"], {"EX": ex})
    spec = {"after_last": {"column": "D", "domain": "EX", "variable": "EXSTDTC",
                           "where": {"EXCAT": "CAR-T"}}}
    assert list(context.evaluate_condition(c, spec)) == [True, False, False, True, False, False]


def test_most_complete_date_takes_the_most_precise_agreeing_date() -> None:
    """Death form UN-APR-2021 and DS 2021-04-27 agree: 2021-04-27. Death form 2021-04-20 and
    DS 2021-04-27 disagree: the form's date, and a query. Only the DS date: that date."""
    ds = pd.DataFrame({"USUBJID": ["A", "B", "C"], "DSDECOD": ["DEATH"] * 3,
                       "DSSTDTC": ["2021-04-27", "2021-04-27", "2021-05-02"]})
    c = _subject_ctx({"D": ["UN-APR-2021", "20-APR-2021", ""]}, ["A", "B", "C"], {"DS": ds})
    r = registry.apply_rule(c, {"most_complete_date": {"sources": [
        {"column": "D"}, {"domain": "DS", "variable": "DSSTDTC", "where": {"DSDECOD": "DEATH"}}]}})
    assert list(r.values) == ["2021-04-27", "2021-04-20", "2021-05-02"]
    assert list(r.errors) == ["", "dates disagree: 2021-04-20, 2021-04-27", ""]


VISIT_DAYS = pd.DataFrame({"folder": ["SCREENING", "LD", "DAY0", "DAY7", "MONTH2", "UNSCHEDULED"],
                           "visitnum": [1.0, 2.0, 3.0, 5.0, 13.0, float("nan")],
                           "visit": ["SCREENING", "LYMPHODEPLETION", "DAY 0", "DAY 7", "MONTH 2",
                                     "UNSCHEDULED"],
                           "visitdy": ["", "-5", "1", "8", "61", ""]})


def test_nominal_day_counts_from_the_reference_day_without_a_day_zero() -> None:
    """Planned study day 1 (DAY0) is day 0 after the reference, day 8 (DAY7) is day 7, day 61
    (MONTH2) day 60; day -5 (lymphodepletion) is 5 days before it, -5 (study days have no 0).
    Screening and unscheduled visits have no planned day; WEEK9 is not a visit (queried)."""
    r = registry.apply_rule(
        ctx({"F": ["DAY0", "day7", "MONTH2", "LD", "SCREENING", "UNSCHEDULED", "", "WEEK9"]},
            numeric=True, visits=VISIT_DAYS), {"nominal_day": "F"})
    assert list(r.values.fillna(-99)) == [0.0, 7.0, 60.0, -5.0, -99, -99, -99, -99]
    assert list(r.errors) == [""] * 7 + ["visit folder not in the study visit table"]


def test_nominal_day_needs_the_planned_days_of_the_visit_table() -> None:
    with pytest.raises(SpecError, match="visitdy"):
        registry.apply_rule(ctx({"F": ["DAY0"]}, visits=VISIT_DAYS.drop(columns="visitdy")),
                            {"nominal_day": "F"})


def test_iso_duration_from_a_variable_mapped_earlier() -> None:
    """7 days P7D, day 0 P0D, 5 days before the reference -P5D (SDTMIG --ELTM), 60 P60D; no
    number, no duration."""
    c = ctx({"X": [""] * 5})
    c.mapped["PCTPTNUM"] = pd.Series([7.0, 0.0, -5.0, 60.0, float("nan")])
    r = registry.apply_rule(c, {"iso_duration": {"value": "PCTPTNUM", "unit": "days"}})
    assert list(r.values) == ["P7D", "P0D", "-P5D", "P60D", ""]
    assert list(r.errors) == [""] * 5


def test_iso_duration_units_and_raw_text() -> None:
    """Time units go after T (1.5 hours PT1.5H, 15 minutes before -PT15M); a word is no
    number (queried, null)."""
    c = ctx({"H": ["1.5", " 24 ", "", "pending"], "M": ["-15", "30", "0", "5"]})
    hours = registry.apply_rule(c, {"iso_duration": {"column": "H", "unit": "hours"}})
    minutes = registry.apply_rule(c, {"iso_duration": {"column": "M", "unit": "Minutes"}})
    weeks = registry.apply_rule(c, {"iso_duration": {"column": "M", "unit": "weeks"}})
    assert list(hours.values) == ["PT1.5H", "PT24H", "", ""]
    assert list(hours.errors) == ["", "", "", "not a number"]
    assert list(minutes.values) == ["-PT15M", "PT30M", "PT0M", "PT5M"]
    assert list(weeks.values) == ["-P15W", "P30W", "P0W", "P5W"]


@pytest.mark.parametrize("params,message", [
    ({"value": "PCTPTNUM"}, "needs a unit"),
    ({"value": "PCTPTNUM", "unit": "fortnights"}, "needs a unit"),
    ({"unit": "days"}, "either value"),
    ({"value": "A", "column": "B", "unit": "days"}, "either value"),
    ({"value": "A", "unit": "days", "round": 1}, "unknown parameter"),
    ("PCTPTNUM", "takes"),
])
def test_iso_duration_parameters_are_checked_before_any_row(params, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        registry.check_rule({"iso_duration": params})
    # also inside a case branch
    with pytest.raises(SpecError, match=message):
        registry.check_rule({"case": [{"else": {"iso_duration": params}}]})
