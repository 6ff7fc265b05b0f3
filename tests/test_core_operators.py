"""Golden tests of the CORE check operators (cdisc/validate/core/operators.py): tiny frames,
expected booleans derived by hand in the comments. Every operator in OPERATORS has at least
one case in CASES; every operator the catalogue uses is in OPERATORS."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc.validate.core import Check
from cdisc.validate.core.operators import OPERATORS, OperatorError, comparand, run

REPO = Path(__file__).resolve().parents[1]
CATALOGUE = REPO.parent / "shared" / "reference" / "core_rules" / "sdtmig-3-4-rules.json"
NAN = float("nan")
T, F = True, False
CONTEXT = {"dataset_name": "AE", "domain": "AE", "rdomain": ""}
SETTINGS = settings(max_examples=60, deadline=None)


def frame(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns)


def objects(*values) -> pd.Series:
    """An object column (lists, None and mixed types kept as they are)."""
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return pd.Series(out, dtype=object)


def same_list(items: list, n: int) -> pd.Series:
    """An operation result as the engine stores it: one list object on every row."""
    return objects(*([items] * n))


def judge(op: str, df: pd.DataFrame, target: str, comparator=None, context=None,
          **params) -> list[bool]:
    result = run(op, df, Check(target, comparator, params, context or CONTEXT))
    assert isinstance(result, pd.Series)
    assert result.dtype == bool
    assert result.index.equals(df.index)
    return result.tolist()


# --- frames ---------------------------------------------------------------------------------

def f_flags():
    return frame(AESER=["Y", "N", "", "Y"])


def f_pair():
    # A vs B: equal, different, both empty, populated vs empty, case differs
    return frame(A=["Y", "N", "", "X", "Z"], B=["Y", "Y", "", "", "z"])


def f_both_empty():
    return frame(A=["", "a", ""], B=["", "", "b"])


def f_dose():
    return frame(EXDOSE=[0.0, 1.5, NAN, 0.0])


def f_literal():
    # a column named VISIT exists: value_is_literal keeps "VISIT" a literal
    return frame(IDVAR=["VISIT", "VISIT"], VISIT=["VISIT", "WEEK 1"])


def f_reference():
    # IDVARVAL compared with the column named in IDVAR (row 3: no column named)
    return frame(IDVAR=["AESEQ", "AESPID", ""], IDVARVAL=["1", "A-1", "3"],
                 AESEQ=[1.0, 2.0, 3.0], AESPID=["A-0", "A-1", "A-3"])


def f_rounding():
    return frame(STRESC=["2.6", "3", "x"], STRESN=[3.0, 3.4, NAN])


def f_terms():
    return frame(DSTERM=["Informed consent obtained", "INFORMED CONSENT OBTAINED", "other", ""])


def f_tsval():
    return frame(TSVAL=["1", "0", "-2", "abc", ""])


def f_days():
    return frame(DY=[5.0, 3.0, NAN], ENDY=[4.0, 3.0, 1.0])


def f_empties():
    return frame(V=objects("a", "", None, NAN, [], ["x"]), N=[1.0, NAN, 0.0, NAN, 2.0, 3.0])


def f_armcd():
    return frame(ARMCD=["ABCDEFGHIJKLMNOPQRSTU", "SHORT", ""])


def f_taetord():
    return frame(TAETORD=[1.0, 2.5, NAN])


def f_domain():
    return frame(DOMAIN=["APDM", "ap", "DM", ""])


def f_qnam():
    return frame(QNAM=["RACE1", "RACEOTH", "RACE10", ""])


def f_stems():
    return frame(V=["CDx", "ABy", "Q"], STEM=["AB", "CD", ""])


def f_idvar():
    return frame(IDVAR=["AESEQ", "AESPID", ""])


def f_datasets():
    return frame(dataset_name=["AE", "SUPPAE", "AEX", "FAMH"])


def f_prefix_col():
    return frame(V=["ABC", "XYZ"], P=["AB", "XX"])


def f_supp():
    return frame(RDOMAIN=["AE", "DM", ""], **{"$dataset_name": ["SUPPAE"] * 3})


def f_dur():
    return frame(AEDUR=["P1D", "-P1D", ""])


def f_decod_lists():
    return frame(**{"$ds_dsdecod": objects(["DEATH", "COMPLETED"], ["DEATH", "COMPLETED"], [])})


def f_contains_col():
    return frame(T=["a", "b", "c"], C=["b", "z", ""])


def f_consent():
    return frame(DSTERM=["Informed Consent obtained", "consent withdrawn", ""])


def f_lengths():
    return frame(SETCD=["ABCDEFGHI", "ABC", ""], N=[2, 4, 1])


def f_short():
    return frame(dataset_name=objects("AE", "SUPPAE", "", None))


def f_equal_length():
    return frame(SEENDTC=["2020-01-01", "2020-01", ""], SESTDTC=["2020-01-02", "2020-01-15", ""],
                 DOMAIN=["APDM", "AE", "AE"])


def f_split():
    return frame(DTC=["2003-12-15T10:00/2003-12-15T10:30", "2003-12-15T10:00/2003-12-15T10:30:15",
                      "2003-12-01", "", "a/b/c"])


def f_dates():
    # D vs E: more precise vs less, less vs more, year vs year, empty, impossible date,
    # uncertain month, time zone (10:00+01:00 is 09:00 UTC)
    return frame(D=["2020-01-15", "2020-01", "2020", "", "2020-02-30", "2003---15",
                    "2020-01-15T10:00+01:00"],
                 E=["2020-01", "2020-01-15", "2021", "2020", "2020-01-01", "2003-01-15",
                    "2020-01-15T09:00"])


def f_durations():
    return frame(X=["P1Y2M", "PT", "P1.5Y2M", "-P1D", "P2W", "", "PT0.5H", "P", "P1DT2H30M"])


def f_enumerated():
    return frame(TSVAL=["a", "a", "", "a", ""], TSVAL1=["b", "", "b", "b", ""],
                 TSVAL2=["c", "c", "", "", ""], TSVALNF=["", "", "", "", "NA"])


def f_visits():
    return frame(VISITNUM=[1.0, 2.0, 99.0, NAN], **{"$tv_visitnum": same_list([1.0, 2.0, 3.0], 4)})


def f_subjects():
    return frame(USUBJID=["1", "2", "3"], EXU=["2", "3", ""])


def f_group_lists():
    # a per-group operation result: different list objects on different rows
    return frame(V=["a", "b", "b"], L=objects(["a"], ["a"], ["b"]))


def f_arms():
    return frame(ARM=["Screen failure", "PLACEBO", "not assigned", ""])


def f_varnames():
    return frame(variable_name=["AESEQ", "DMX", "XXSEQ"],
                 **{"$domain_list": same_list(["AE", "DM"], 3)})


def f_suppnames():
    return frame(dataset_name=["SUPPAE", "SUPPXX"], **{"$list": same_list(["AE", "DM"], 2)})


def f_tsparm():
    return frame(TSPARMCD=["INTMODEL", "INTTYPE", "X"])


def f_tsparm_all():
    return frame(TSPARMCD=["INTMODEL", "INTTYPE", "PCLASS", "X"])


def f_expected():
    return frame(variable_name=["STUDYID", "DOMAIN"],
                 **{"$exp": same_list(["STUDYID", "DOMAIN"], 2),
                    "$more": same_list(["STUDYID", "USUBJID"], 2)})


def f_list_pairs():
    return frame(**{"$spec": same_list(["A", "B", "C"], 3),
                    "$pp": objects(["A", "B"], ["C", "D"], ["A"])})


def f_shares():
    # intersections of 1, 0 and 2 elements
    return frame(**{"$t": objects(["A", "B"], ["C"], ["D", "E"]),
                    "$c": objects(["B", "X"], ["X"], ["D", "E"])})


def f_order():
    return frame(**{"$ds": objects(["A", "C"], ["C", "A"], ["A", "Z"]),
                    "$lib": same_list(["A", "B", "C"], 3)})


def f_keys():
    return frame(USUBJID=["1", "1", "1", "2"], TESTCD=["A", "A", "B", "A"], SEQ=[1, 2, 1, 1],
                 **{"$keys": same_list(["USUBJID"], 4)})


def f_key_dates():
    return frame(USUBJID=["1", "1", "1"],
                 DTC=["2020-01-01T10:00", "2020-01-01T11:00", "2020-01-02"])


def f_blank_keys():
    return frame(K=objects("", None, "a"))


def f_elements():
    # ETCD -> ELEMENT: Treat goes with TRT and with an empty ETCD; Follow with FU and FU2
    return frame(ETCD=["SCRN", "SCRN", "TRT", "FU", "FU2", ""],
                 ELEMENT=["Screen", "Screen", "Treat", "Follow", "Follow", "Treat"])


def f_null_mapping():
    return frame(T=["X", "X", "Y"], C=["1", "", "2"])


def f_multi_comparator():
    # TPT with (TPTNUM, VISITNUM): "1H" has two pairs; pair (2, 1) has two TPT values
    return frame(TPT=["1H", "1H", "2H", "2H", "3H"], TPTNUM=[1.0, 1.0, 2.0, 2.0, 2.0],
                 VISITNUM=[1.0, 2.0, 1.0, 1.0, 1.0])


def f_disposition():
    return frame(USUBJID=["1", "1", "1", "2", "2"], DSDECOD=["IC", "IC", "DONE", "IC", "DONE"])


def f_inconsistent():
    # group 1: a, a, b (majority a); group 2: x, y (tie)
    return frame(G=[1, 1, 1, 2, 2], V=["a", "a", "b", "x", "y"], H=["p", "p", "p", "p", "q"])


def f_inconsistent_dates():
    return frame(G=[1, 1, 1], V=["2020-01-01T10:00", "2020-01-01T11:00", "2020-01-02"])


def f_same():
    return frame(MHCAT=["A", "A", "A"], OTHER=["A", "B", "A"])


def f_elements_se():
    # subject 1 sorted by SESTDTC: rows 1, 2, 0 (row 0 last); subject 2: rows 3, 4
    return frame(USUBJID=["1", "1", "1", "2", "2"],
                 SESTDTC=["2020-01-03", "2020-01-01", "2020-01-02", "2020-02-01", "2020-02-05"],
                 SEENDTC=["", "2020-01-02", "", "", "2020-02-09"])


def f_next():
    # subject 1 ordered by SESEQ: rows 1, 2, 0; subject 2: rows 3, 4
    return frame(USUBJID=["1", "1", "1", "2", "2"], SESEQ=[3, 1, 2, 1, 2],
                 SESTDTC=["2020-01-05", "2020-01-01", "2020-01-03", "2020-02-01", "2020-02-04"],
                 SEENDTC=["", "2020-01-03", "2020-01-04", "2020-02-04", "x"])


def f_sorted():
    # subject 1: SEQ 2 and 3 swapped against the dates; subject 2: an empty date that is not
    # last; subject 3: 2005-10 overlaps 2005-10-08; subject "": not judged
    return frame(USUBJID=["1", "1", "1", "2", "2", "2", "3", "3", ""],
                 AESEQ=[1, 2, 3, 1, 2, 3, 1, 2, 9],
                 AESTDTC=["2020-01-01", "2020-01-03", "2020-01-02", "2020-02-01", "",
                          "2020-02-03", "2005-10", "2005-10-08", "1999-01-01"])


def f_sorted_nulls():
    return frame(USUBJID=["1", "1", "1"], AESEQ=[1, 2, 3],
                 AESTDTC=["", "2020-01-01", "2020-01-02"])


def f_sorted_desc():
    return frame(USUBJID=["1", "1", "1"], AESEQ=[1, 2, 3],
                 AESTDTC=["2020-03", "2020-02", "2020-01"])


def f_sorted_regex():
    return frame(USUBJID=["1", "1", "1"], MIDS=["MIDS1", "MIDS10", "MIDS2"],
                 SMSTDTC=["2020-01-01", "2020-01-03", "2020-01-02"])


def f_study():
    # a Domain Presence Check frame: one row, one column per dataset
    return frame(AE=["ae.xpt"], DM=["dm.xpt"], **{"$names": same_list(["AE", "DM", "SJ"], 1)})


def sort_key(name, order="asc", nulls="last"):
    return [{"name": name, "sort_order": order, "null_position": nulls}]


# --- the golden cases: (operator, frame, target, comparator, params, expected) ----------------

CASES = [
    # relational
    ("equal_to", f_flags, "AESER", "Y", {}, [T, F, F, T]),
    ("equal_to", f_pair, "A", "B", {}, [T, F, F, F, F]),  # both empty: not equal
    ("equal_to", f_dose, "EXDOSE", 0, {}, [T, F, F, T]),
    ("equal_to", f_literal, "IDVAR", "VISIT", {"value_is_literal": True}, [T, T]),
    ("equal_to", f_literal, "IDVAR", "VISIT", {}, [T, F]),  # the VISIT column
    ("equal_to", f_reference, "IDVARVAL", "IDVAR",
     {"value_is_reference": True, "type_insensitive": True}, [T, T, F]),  # "1" ~ 1.0
    ("equal_to", f_rounding, "STRESC", "STRESN",
     {"type_insensitive": True, "round_values": True}, [T, T, F]),  # 2.6~3.0, 3~3.4
    ("not_equal_to", f_flags, "AESER", "Y", {}, [F, T, T, F]),  # "" vs Y differs
    ("not_equal_to", f_both_empty, "A", "B", {}, [F, T, T]),  # both empty: not different
    ("not_equal_to", f_reference, "IDVARVAL", "IDVAR",
     {"value_is_reference": True, "type_insensitive": True}, [F, F, T]),
    ("not_equal_to", f_dose, "EXDOSE", 0, {}, [F, T, T, F]),  # NaN vs 0 differs
    ("equal_to_case_insensitive", f_terms, "DSTERM", "Informed consent obtained", {},
     [T, T, F, F]),
    ("equal_to_case_insensitive", f_pair, "A", "B", {}, [T, F, F, F, T]),
    ("not_equal_to_case_insensitive", f_terms, "DSTERM", "INFORMED CONSENT OBTAINED", {},
     [F, F, T, T]),
    ("greater_than", f_tsval, "TSVAL", 0, {}, [T, F, F, F, F]),  # text read as numbers
    ("greater_than", f_days, "DY", "ENDY", {}, [T, F, F]),
    ("greater_than_or_equal_to", f_tsval, "TSVAL", 0, {}, [T, T, F, F, F]),
    ("less_than", f_tsval, "TSVAL", "0", {}, [F, F, T, F, F]),
    ("less_than_or_equal_to", f_tsval, "TSVAL", 0, {}, [F, T, T, F, F]),
    ("less_than_or_equal_to", f_days, "DY", "ENDY", {}, [F, T, F]),
    ("empty", f_empties, "V", None, {}, [F, T, T, T, T, F]),
    ("empty", f_empties, "N", None, {}, [F, T, F, T, F, F]),
    ("non_empty", f_empties, "V", None, {}, [T, F, F, F, F, T]),
    # strings
    ("matches_regex", f_armcd, "ARMCD", "^(.){21,}$", {}, [T, F, F]),
    ("matches_regex", f_domain, "DOMAIN", "AP", {}, [T, F, F, F]),  # re.match: at the start
    ("not_matches_regex", f_armcd, "ARMCD", "^(.){21,}$", {}, [F, T, T]),  # "" is text
    ("not_matches_regex", f_taetord, "TAETORD", r"^(-?[1-9]\d*|0)$", {}, [F, T, F]),  # 1.0="1"
    ("prefix_matches_regex", f_domain, "DOMAIN", "(AP|ap)", {"prefix": 2}, [T, T, F, F]),
    ("not_prefix_matches_regex", f_domain, "DOMAIN", "(AP|ap)", {"prefix": 2}, [F, F, T, T]),
    ("suffix_matches_regex", f_qnam, "QNAM", r"\d\d", {"suffix": 2}, [F, F, T, F]),
    ("not_suffix_matches_regex", f_qnam, "QNAM", "(OTH)", {"suffix": 3}, [T, F, T, T]),
    ("starts_with", f_qnam, "QNAM", "RACE", {"value_is_literal": True}, [T, T, T, F]),
    ("starts_with", f_stems, "V", "STEM", {}, [T, T, F]),  # any of the column's values
    ("ends_with", f_idvar, "IDVAR", "SEQ", {}, [T, F, F]),
    ("prefix_equal_to", f_datasets, "dataset_name", "FA", {"prefix": 2}, [F, F, F, T]),
    ("prefix_equal_to", f_datasets, "dataset_name", "DOMAIN", {"prefix": 2}, [T, F, T, F]),
    ("prefix_equal_to", f_prefix_col, "V", "P", {"prefix": 2}, [T, F]),
    ("prefix_not_equal_to", f_datasets, "dataset_name", "DOMAIN", {"prefix": 2},
     [F, T, F, T]),
    ("suffix_equal_to", f_datasets, "dataset_name", "AE", {"suffix": 2}, [T, T, F, F]),
    ("suffix_not_equal_to", f_datasets, "dataset_name", "AE", {"suffix": 2}, [F, F, T, T]),
    ("equals_string_part", f_supp, "RDOMAIN", "$dataset_name", {"regex": ".{4}(..).*"},
     [T, F, F]),
    ("equals_string_part", f_supp, "RDOMAIN", "SUPPDM", {"regex": ".{4}(..).*"}, [F, T, F]),
    ("does_not_equal_string_part", f_supp, "RDOMAIN", "$dataset_name",
     {"regex": ".{4}(..).*"}, [F, T, T]),
    ("contains", f_dur, "AEDUR", "-", {}, [F, T, F]),  # substring of the text
    ("contains", f_decod_lists, "$ds_dsdecod", "DEATH", {"value_is_literal": True}, [T, T, F]),
    ("contains", f_contains_col, "T", "C", {}, [T, F, F]),  # C's value anywhere in T
    ("does_not_contain", f_decod_lists, "$ds_dsdecod", "DEATH", {"value_is_literal": True},
     [F, F, T]),
    ("does_not_contain", f_dur, "AEDUR", "-", {}, [T, F, T]),
    ("contains_case_insensitive", f_consent, "DSTERM", "INFORMED CONSENT", {}, [T, F, F]),
    ("contains_case_insensitive", f_decod_lists, "$ds_dsdecod", "death", {}, [T, T, F]),
    ("does_not_contain_case_insensitive", f_consent, "DSTERM", "informed consent", {},
     [F, T, T]),
    ("longer_than", f_lengths, "SETCD", 8, {}, [T, F, F]),
    ("longer_than", f_lengths, "SETCD", "N", {}, [T, F, F]),  # 9>2, 3>4, 0>1
    ("longer_than_or_equal_to", f_lengths, "SETCD", 3, {}, [T, T, F]),
    ("shorter_than", f_short, "dataset_name", 3, {}, [T, F, T, T]),  # missing is shorter
    ("shorter_than_or_equal_to", f_short, "dataset_name", 2, {}, [T, F, T, T]),
    ("has_equal_length", f_equal_length, "SEENDTC", "SESTDTC", {}, [T, F, T]),
    ("has_equal_length", f_equal_length, "DOMAIN", 4, {}, [T, F, F]),
    ("has_not_equal_length", f_equal_length, "DOMAIN", 4, {}, [F, T, T]),
    ("split_parts_have_equal_length", f_split, "DTC", None, {}, [T, F, T, T, F]),
    ("split_parts_have_unequal_length", f_split, "DTC", None, {"separator": "/"},
     [F, T, F, F, T]),
    # dates: the same precision must match for equality; orderings compare at the common
    # precision and refine with the full value when the target is the more precise one
    ("date_equal_to", f_dates, "D", "E", {}, [F, F, F, F, F, F, T]),
    ("date_equal_to", f_dates, "D", "E", {"date_component": "auto"}, [T, T, F, F, F, T, T]),
    ("date_equal_to", f_dates, "D", "2020", {"date_component": "year"},
     [T, T, T, F, F, F, T]),
    ("date_not_equal_to", f_dates, "D", "E", {}, [T, T, T, F, F, T, F]),
    ("date_greater_than", f_dates, "D", "E", {}, [T, F, F, F, F, F, F]),
    ("date_greater_than", f_dates, "D", "2019", {"date_component": "year"},
     [T, T, T, F, F, F, T]),
    ("date_greater_than_or_equal_to", f_dates, "D", "E", {}, [T, T, F, F, F, T, T]),
    ("date_less_than", f_dates, "D", "E", {}, [F, F, T, F, F, F, F]),
    ("date_less_than", f_dates, "D", "2020-01-16", {}, [T, F, F, F, F, T, T]),
    ("date_less_than_or_equal_to", f_dates, "D", "E", {}, [F, T, T, F, F, T, T]),
    ("is_complete_date", f_dates, "D", None, {}, [T, F, F, F, F, F, T]),
    ("is_incomplete_date", f_dates, "D", None, {}, [F, T, T, T, T, T, F]),
    ("invalid_date", f_dates, "D", None, {}, [F, F, F, T, T, F, F]),
    ("invalid_duration", f_durations, "X", None, {"negative": False},
     [F, T, T, T, F, T, F, T, F]),
    ("invalid_duration", f_durations, "X", None, {}, [F, T, T, F, F, T, F, T, F]),
    # metadata
    ("exists", f_flags, "AESER", None, {}, [T, T, T, T]),
    ("exists", f_study, "DM", None, {}, [T]),
    ("exists", f_study, "SJ", None, {}, [T]),  # an item of a list cell
    ("not_exists", f_study, "LB", None, {}, [T]),
    ("not_exists", f_flags, "AESER", None, {}, [F, F, F, F]),
    ("inconsistent_enumerated_columns", f_enumerated, "TSVAL", None, {}, [F, T, T, F, F]),
    # set membership
    ("is_contained_by", f_visits, "VISITNUM", "$tv_visitnum", {}, [T, T, F, F]),
    ("is_contained_by", f_subjects, "USUBJID", "EXU", {}, [F, T, T]),
    ("is_contained_by", f_group_lists, "V", "L", {}, [T, F, T]),  # row-wise lists
    ("is_not_contained_by", f_visits, "VISITNUM", "$tv_visitnum", {}, [F, F, T, T]),
    ("is_not_contained_by", f_flags, "AESER", ["Y", "N"], {}, [F, F, T, F]),
    ("is_contained_by_case_insensitive", f_arms, "ARM", ["Screen Failure", "Not Assigned"], {},
     [T, F, T, F]),
    ("is_not_contained_by_case_insensitive", f_arms, "ARM", ["Screen Failure", "Not Assigned"],
     {}, [F, T, F, T]),
    ("prefix_is_contained_by", f_varnames, "variable_name", "$domain_list", {"prefix": 2},
     [T, T, F]),
    ("prefix_is_not_contained_by", f_varnames, "variable_name", "$domain_list", {"prefix": 2},
     [F, F, T]),
    ("suffix_is_contained_by", f_suppnames, "dataset_name", "$list", {"suffix": 2}, [T, F]),
    ("suffix_is_not_contained_by", f_suppnames, "dataset_name", "$list", {"suffix": 2}, [F, T]),
    # set operations
    ("contains_all", f_tsparm, "TSPARMCD", ["INTMODEL", "INTTYPE", "PCLASS"], {}, [F, F, F]),
    ("contains_all", f_tsparm_all, "TSPARMCD", ["INTMODEL", "INTTYPE", "PCLASS"], {},
     [T, T, T, T]),
    ("contains_all", f_list_pairs, "$spec", "$pp", {}, [T, F, T]),  # row-wise lists
    ("not_contains_all", f_tsparm, "TSPARMCD", ["INTMODEL", "INTTYPE", "PCLASS"], {}, [T, T, T]),
    ("not_contains_all", f_expected, "variable_name", ["$exp"], {}, [F, F]),
    ("not_contains_all", f_expected, "variable_name", ["$more"], {}, [T, T]),  # no USUBJID
    ("shares_no_elements_with", f_shares, "$t", "$c", {}, [F, T, F]),
    ("shares_at_least_one_element_with", f_shares, "$t", "$c", {}, [T, F, T]),
    ("shares_exactly_one_element_with", f_shares, "$t", "$c", {}, [T, F, F]),
    ("is_ordered_subset_of", f_order, "$ds", "$lib", {}, [T, F, F]),
    ("is_not_ordered_subset_of", f_order, "$ds", "$lib", {}, [F, T, T]),
    # uniqueness and relationships
    ("is_not_unique_set", f_keys, "TESTCD", ["USUBJID"], {}, [T, T, F, F]),
    ("is_not_unique_set", f_keys, "TESTCD", ["$keys"], {}, [T, T, F, F]),  # list expands
    ("is_not_unique_set", f_keys, "SEQ", "TESTCD", {}, [T, F, F, T]),  # (1, A) twice
    ("is_not_unique_set", f_key_dates, "DTC", ["USUBJID"], {"regex": r"^\d{4}-\d{2}-\d{2}"},
     [T, T, F]),
    ("is_not_unique_set", f_blank_keys, "K", None, {}, [T, T, F]),  # "" and None alike
    ("is_unique_set", f_keys, "TESTCD", ["USUBJID", "MISSING"], {}, [F, F, T, T]),
    ("is_not_unique_relationship", f_elements, "ETCD", "ELEMENT", {}, [F, F, T, T, T, T]),
    ("is_not_unique_relationship", f_null_mapping, "T", "C", {}, [T, T, F]),
    ("is_not_unique_relationship", f_multi_comparator, "TPT", ["TPTNUM", "VISITNUM"], {},
     [T, T, T, T, T]),
    ("is_unique_relationship", f_elements, "ETCD", "ELEMENT", {}, [T, T, F, F, F, F]),
    ("present_on_multiple_rows_within", f_disposition, "DSDECOD", None, {"within": "USUBJID"},
     [T, T, F, F, F]),
    ("present_on_multiple_rows_within", f_disposition, "DSDECOD", 2, {"within": "USUBJID"},
     [F, F, F, F, F]),
    ("not_present_on_multiple_rows_within", f_disposition, "DSDECOD", None,
     {"within": "USUBJID"}, [F, F, T, T, T]),
    ("is_inconsistent_across_dataset", f_inconsistent, "V", "G", {}, [F, F, T, T, T]),
    ("is_inconsistent_across_dataset", f_inconsistent, "V", ["G", "H", "ABSENT"], {},
     [F, F, T, F, F]),  # groups (1,p) and (2,p), (2,q)
    ("is_inconsistent_across_dataset", f_inconsistent_dates, "V", ["G"],
     {"regex": r"^(\d{4}-\d{2}-\d{2})"}, [F, F, T]),
    ("has_same_values", f_same, "MHCAT", None, {}, [T, T, T]),
    ("has_same_values", f_same, "OTHER", None, {}, [F, F, F]),
    ("has_different_values", f_same, "OTHER", None, {}, [T, T, T]),
    # sequential
    ("empty_within_except_last_row", f_elements_se, "SEENDTC", "USUBJID",
     {"ordering": "SESTDTC"}, [F, F, T, T, F]),
    ("non_empty_within_except_last_row", f_elements_se, "SEENDTC", "USUBJID",
     {"ordering": "SESTDTC"}, [F, T, F, F, F]),
    ("has_next_corresponding_record", f_next, "SEENDTC", "SESTDTC",
     {"within": "USUBJID", "ordering": "SESEQ"}, [T, T, F, T, T]),
    ("does_not_have_next_corresponding_record", f_next, "SEENDTC", "SESTDTC",
     {"within": "USUBJID", "ordering": "SESEQ"}, [F, F, T, F, F]),
    ("target_is_not_sorted_by", f_sorted, "AESEQ", sort_key("AESTDTC"), {"within": "USUBJID"},
     [F, T, T, F, T, F, T, T, F]),
    ("target_is_not_sorted_by", f_sorted, "AESEQ", sort_key("--STDTC"), {"within": ["USUBJID"]},
     [F, T, T, F, T, F, T, T, F]),  # "--" in a sort key is the domain prefix
    ("target_is_not_sorted_by", f_sorted_nulls, "AESEQ", sort_key("AESTDTC", nulls="last"),
     {"within": "USUBJID"}, [T, F, F]),
    ("target_is_not_sorted_by", f_sorted_nulls, "AESEQ", sort_key("AESTDTC", nulls="first"),
     {"within": "USUBJID"}, [F, F, F]),
    ("target_is_not_sorted_by", f_sorted_desc, "AESEQ", sort_key("AESTDTC", "desc"),
     {"within": "USUBJID"}, [F, F, F]),
    ("target_is_not_sorted_by", f_sorted_desc, "AESEQ", sort_key("AESTDTC", "asc"),
     {"within": "USUBJID"}, [T, F, T]),  # order by date: SEQ 3, 2, 1
    ("target_is_not_sorted_by", f_sorted_regex, "MIDS", sort_key("SMSTDTC"),
     {"within": "USUBJID", "regex": r".*?(\d+)$"}, [F, F, F]),  # 1, 10, 2 vs dates 1, 3, 2
    ("target_is_not_sorted_by", f_sorted_regex, "MIDS", sort_key("SMSTDTC"),
     {"within": "USUBJID"}, [F, T, T]),  # as text MIDS10 < MIDS2
    ("target_is_sorted_by", f_sorted, "AESEQ", sort_key("AESTDTC"), {"within": "USUBJID"},
     [T, F, F, T, F, T, F, F, T]),
]


GOLDEN = [pytest.param(*case, id=f"{case[0]}-{i}") for i, case in enumerate(CASES)]


@pytest.mark.parametrize("op, make, target, comparator, params, expected", GOLDEN)
def test_golden(op, make, target, comparator, params, expected):
    df = make()
    before = df.copy()
    assert judge(op, df, target, comparator, **params) == expected
    pd.testing.assert_frame_equal(df, before)  # operators never change the frame
    # the same answer on a frame with an unusual index, aligned to that index
    moved = make()
    moved.index = pd.Index([100 + 7 * i for i in range(len(moved))][::-1])
    assert judge(op, moved, target, comparator, **params) == expected


def test_every_operator_has_a_golden_case():
    tested = {case[0] for case in CASES}
    assert sorted(set(OPERATORS) - tested) == []


def catalogue_operators() -> set[str]:
    rules = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            if "operator" in node:
                found.add(node["operator"])
                return
            for key in ("all", "any", "not"):
                if key in node:
                    walk(node[key])
        elif isinstance(node, list):
            for child in node:
                walk(child)

    for rule in rules:
        walk(rule.get("conditions"))
    return found


@pytest.mark.skipif(not CATALOGUE.exists(), reason="CORE catalogue not available")
def test_every_catalogue_operator_is_implemented():
    used = catalogue_operators()
    assert len(used) == 57
    assert sorted(used - set(OPERATORS)) == []


@pytest.mark.parametrize("op, complement", [
    ("equal_to", "not_equal_to"), ("contains", "does_not_contain"),
    ("is_unique_set", "is_not_unique_set"), ("exists", "not_exists"),
    ("is_contained_by", "is_not_contained_by"), ("prefix_equal_to", "prefix_not_equal_to"),
    ("has_same_values", "has_different_values"), ("is_complete_date", "is_incomplete_date"),
    ("target_is_sorted_by", "target_is_not_sorted_by"),
    ("has_next_corresponding_record", "does_not_have_next_corresponding_record"),
    ("present_on_multiple_rows_within", "not_present_on_multiple_rows_within"),
    ("is_ordered_subset_of", "is_not_ordered_subset_of"), ("contains_all", "not_contains_all"),
    ("is_unique_relationship", "is_not_unique_relationship"),
])
def test_documented_complements_are_registered(op, complement):
    assert op in OPERATORS and complement in OPERATORS


# --- details ------------------------------------------------------------------------------

def test_empty_frame_gives_empty_result():
    df = frame(A=pd.Series([], dtype=object), B=pd.Series([], dtype=object))
    for op in ("equal_to", "is_not_unique_set", "date_less_than", "is_contained_by"):
        assert judge(op, df, "A", "B") == []


def test_comparand_resolution():
    df = frame(IDVAR=["VISIT", "AESEQ"], VISIT=["V1", "V2"], AESEQ=[1.0, 2.0])
    assert comparand(df, Check("IDVAR", "VISIT")).tolist() == ["V1", "V2"]  # a column
    assert comparand(df, Check("IDVAR", "VISIT", {"value_is_literal": True})) == "VISIT"
    assert comparand(df, Check("IDVAR", "NOCOLUMN")) == "NOCOLUMN"  # a literal
    assert comparand(df, Check("IDVAR", ["A", "B"])) == ["A", "B"]
    picked = comparand(df, Check("IDVAR", "IDVAR", {"value_is_reference": True}))
    assert picked.tolist() == ["V1", 2.0]  # the column each row names


def test_not_equal_to_across_columns_with_a_literal_list_of_columns_is_rejected():
    with pytest.raises(OperatorError):
        judge("equal_to", f_flags(), "AESER", ["Y", "N"])


def test_date_partial_orderings_follow_core():
    # the target more precise than the comparator: equal at the common precision, then the
    # full values decide (2020-01-15 > 2020-01-01); the other way round stays at the common
    # precision (2020-01 is not after 2020-01-15, but is on or after it)
    df = frame(D=["2020-01-15", "2020-01"], E=["2020-01", "2020-01-15"])
    assert judge("date_greater_than", df, "D", "E") == [T, F]
    assert judge("date_greater_than_or_equal_to", df, "D", "E") == [T, T]
    assert judge("date_less_than", df, "D", "E") == [F, F]
    assert judge("date_less_than_or_equal_to", df, "D", "E") == [F, T]


def test_date_intervals_and_missing_parts_are_valid_dates():
    df = frame(D=["2003-12-01/2003-12-10", "2003---15", "2003-12-15T-:30", "-----T10:30",
                  "2003-13-01", "15-DEC-2003", "2003-12-15T10:30:00.5+05:30"])
    assert judge("invalid_date", df, "D") == [F, F, F, F, T, T, F]


def test_is_not_unique_set_with_a_column_holding_the_key_list():
    df = frame(USUBJID=["1", "1", "2"], SEQ=[1, 1, 1],
               define_dataset_key_sequence=same_list(["USUBJID", "SEQ"], 3))
    assert judge("is_not_unique_set", df, "define_dataset_key_sequence") == [T, T, F]


def test_rows_without_a_group_key_are_not_judged():
    df = frame(USUBJID=["1", "1", "", ""], SESEQ=[1, 2, 1, 2],
               SESTDTC=["2020-01-01", "2020-01-05", "2020-01-01", "2020-01-09"],
               SEENDTC=["2020-01-04", "", "2020-01-02", ""])
    params = {"within": "USUBJID", "ordering": "SESEQ"}
    # subject 1: 2020-01-04 is not the next start (2020-01-05); the blank-key rows are skipped
    assert judge("does_not_have_next_corresponding_record", df, "SEENDTC", "SESTDTC",
                 **params) == [T, F, F, F]
    assert judge("empty_within_except_last_row", df, "SEENDTC", "USUBJID",
                 ordering="SESEQ") == [F, F, F, F]


def test_value_check_frame_with_mixed_values():
    # a "Value Check with Variable Metadata" frame: the distinct values of one column
    df = frame(variable_name=["AGE"] * 4, variable_value=objects(25.0, NAN, "", "x"),
               variable_value_length=[2, 0, 0, 1])
    assert judge("empty", df, "variable_value") == [F, T, T, F]
    assert judge("longer_than", df, "variable_value", 1) == [T, F, F, F]  # 25.0 reads "25"
    assert judge("greater_than", df, "variable_value_length", 1) == [T, F, F, F]


def test_group_operators_on_many_groups_match_a_row_by_row_oracle():
    rng = np.random.default_rng(7)
    n = 400
    df = frame(G=rng.integers(0, 40, n).astype(str), V=rng.choice(list("abc"), n))
    got = judge("is_inconsistent_across_dataset", df, "V", "G")
    expected = []
    for g, v in zip(df["G"], df["V"], strict=True):
        counts = df.loc[df["G"] == g, "V"].value_counts()
        top = counts[counts == counts.max()]
        expected.append(len(counts) > 1 and (len(top) > 1 or v != top.index[0]))
    assert got == expected


@pytest.mark.parametrize("op, make, target, comparator, params", [
    ("matches_regex", f_armcd, "ARMCD", "([unclosed", {}),
    ("matches_regex", f_armcd, "ARMCD", None, {}),
    ("prefix_equal_to", f_datasets, "dataset_name", "FA", {}),  # no prefix
    ("suffix_matches_regex", f_qnam, "QNAM", "x", {"suffix": "two"}),
    ("equal_to", f_flags, "NOCOLUMN", "Y", {}),
    ("is_contained_by", f_flags, "AESER", "$not_computed", {}),
    ("date_less_than", f_dates, "D", "E", {"date_component": "fortnight"}),
    ("greater_than", f_tsval, "TSVAL", "many", {}),
    ("longer_than", f_lengths, "SETCD", None, {}),
    ("equals_string_part", f_supp, "RDOMAIN", "$dataset_name", {}),  # no regex
    ("target_is_not_sorted_by", f_sorted, "AESEQ", sort_key("AESTDTC"), {}),  # no within
    ("target_is_not_sorted_by", f_sorted, "AESEQ", [{"sort_order": "asc"}],
     {"within": "USUBJID"}),
    ("does_not_have_next_corresponding_record", f_next, "SEENDTC", "SESTDTC",
     {"within": "USUBJID"}),  # no ordering
    ("present_on_multiple_rows_within", f_disposition, "DSDECOD", None, {}),  # no within
    ("is_inconsistent_across_dataset", f_inconsistent, "V", ["ABSENT"], {}),
    ("is_not_unique_set", f_keys, "ABSENT", ["ALSO_ABSENT"], {}),
    ("value_has_no_such_operator", f_flags, "AESER", None, {}),
])
def test_malformed_checks_raise_operator_error(op, make, target, comparator, params):
    with pytest.raises(OperatorError):
        judge(op, make(), target, comparator, **params)


# --- properties ---------------------------------------------------------------------------

TEXT = st.sampled_from(["A", "B", "a", "AB", "1", "1.0", "Y"])
PAIRS = [("equal_to", "not_equal_to"),
         ("equal_to_case_insensitive", "not_equal_to_case_insensitive"),
         ("matches_regex", "not_matches_regex"), ("contains", "does_not_contain"),
         ("is_contained_by", "is_not_contained_by"),
         ("prefix_matches_regex", "not_prefix_matches_regex")]


@SETTINGS
@given(st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=12))
def test_complements_are_exact_negations_on_populated_values(rows):
    df = frame(A=[a for a, _ in rows], B=[b for _, b in rows])
    checks = {
        "equal_to": ("B", {}), "equal_to_case_insensitive": ("B", {}),
        "matches_regex": ("^A", {}), "contains": ("A", {"value_is_literal": True}),
        "is_contained_by": (["A", "1"], {}), "prefix_matches_regex": ("A", {"prefix": 1}),
    }
    for op, complement in PAIRS:
        comparator, params = checks[op]
        yes = judge(op, df, "A", comparator, **params)
        no = judge(complement, df, "A", comparator, **params)
        assert [not v for v in yes] == no, op


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from("xyz"), st.sampled_from("12"),
                          st.sampled_from([1.0, 2.0])), max_size=15))
def test_is_not_unique_set_equals_pandas_duplicated(rows):
    df = pd.DataFrame(rows, columns=["U", "T", "N"]) if rows else frame(
        U=pd.Series([], dtype=object), T=pd.Series([], dtype=object), N=pd.Series([], dtype=float))
    got = judge("is_not_unique_set", df, "T", ["U", "N"])
    assert got == df.duplicated(["T", "U", "N"], keep=False).tolist()
    assert judge("is_unique_set", df, "T", ["U", "N"]) == [not v for v in got]


DATES = st.dates(min_value=pd.Timestamp("1990-01-01").date(),
                 max_value=pd.Timestamp("2030-12-31").date())


@SETTINGS
@given(st.lists(st.tuples(DATES, DATES), min_size=1, max_size=10),
       st.sampled_from([10, 7, 4]))
def test_date_orderings_mirror_each_other_at_one_precision(rows, width):
    df = frame(A=[a.isoformat()[:width] for a, _ in rows],
               B=[b.isoformat()[:width] for _, b in rows])
    assert judge("date_less_than", df, "A", "B") == judge("date_greater_than", df, "B", "A")
    assert judge("date_equal_to", df, "A", "B") == (df["A"] == df["B"]).tolist()
    lt = judge("date_less_than", df, "A", "B")
    ge = judge("date_greater_than_or_equal_to", df, "A", "B")
    assert [not v for v in lt] == ge


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from("pq"), st.integers(1, 6), DATES), min_size=1,
                max_size=10, unique_by=lambda r: (r[0], r[1])))
def test_target_is_sorted_by_matches_an_oracle_for_complete_dates(rows):
    df = frame(USUBJID=[u for u, _, _ in rows], AESEQ=[s for _, s, _ in rows],
               AESTDTC=[d.isoformat() for _, _, d in rows])
    got = judge("target_is_not_sorted_by", df, "AESEQ", sort_key("AESTDTC"), within="USUBJID")
    expected = []
    for u, seq, day in zip(df["USUBJID"], df["AESEQ"], df["AESTDTC"], strict=True):
        group = df[df["USUBJID"] == u]
        by_seq = group.sort_values("AESEQ")["AESEQ"].tolist()
        by_day = group.sort_values(["AESTDTC", "AESEQ"])["AESEQ"].tolist()
        position = by_day.index(seq)
        expected.append(by_seq[position] != seq)
    assert got == expected
