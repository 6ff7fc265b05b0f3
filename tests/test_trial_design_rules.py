"""The CDISC CORE rules (SDTMIG 3.4 catalogue, ../shared/reference/core_rules) whose scope is a
trial design dataset (TS, TA, TE, TV, TI) or SE/SV, or that compare DM, IE and the visit-level
datasets with them, evaluated on the demo study's SDTM. Each check is the rule's conditions
written out by hand in pandas; a test passes when the rule finds nothing.

How the operators are read here (Operator.md / Operations.md of the catalogue):
- Char missing is "", Num missing NaN; a variable a dataset does not have (a Perm variable left
  out) is null on every record, so a condition on it is empty/not populated.
- is_(not_)unique_relationship relates populated values: a null is no value (TS rows with
  TSVCDREF "ISO 8601" have no TSVALCD, SDTMIG 3.4 section 7.4.2 example 1).
- A number matched by a text regex is written as SAS writes it (TAETORD 1.0 is "1"): XPT has
  only floating-point numbers.
- Dates are compared on the precision both have (a record at 10:00 on the day RFPENDTC gives
  without a time is not after it).
"""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pandas as pd
import pytest

from cdisc.paths import DEMO_MAPPING_DIR, DEMO_RAW_DIR
from cdisc.pipeline import map_raw
from tests.conftest import REFERENCE

RULES_FILE = REFERENCE / "core_rules" / "sdtmig-3-4-rules.json"
CT_FILE = REFERENCE / "controlled_terminology" / "SDTM Terminology.txt"
needs_rules = pytest.mark.skipif(not RULES_FILE.exists(), reason="../shared/reference absent")
needs_ct = pytest.mark.skipif(not CT_FILE.exists(), reason="../shared/reference absent")

DESIGN = ("TS", "TA", "TE", "TV", "TI", "SE", "SV")
# ISO 21090 null flavors and their names, the terms CORE-000041/000787 treat as a null flavor
# written in TSVAL (case-insensitive, whole value)
NULL_FLAVOR_TEXT = re.compile(
    r"(NI|No information|INV|Invalid|OTH|Other|PINF|Positive infinity|NINF|Negative infinity"
    r"|UNC|Unencoded|DER|Derived|UNK|Unknown|ASKU|Asked but unknown|NAV|Temporarily unavailable"
    r"|NASK|Not asked|TRC|Trace|MSK|Masked|QS|Sufficient Quantity)", re.IGNORECASE)
# ISO 8601 duration, not negative: PnYnMnDTnHnMnS (at least one part) or PnW
DURATION = re.compile(r"P(\d+W|(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?"
                      r"(\d+(\.\d+)?S)?)?)")
# ISO 8601 date/time, complete or truncated on the right (no '-' placeholders in TS)
DTC = re.compile(r"\d{4}(-\d{2}(-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?)?)?)?")


# --- the demo's tables and small helpers ----------------------------------------------------------

@pytest.fixture(scope="module")
def sdtm() -> dict[str, pd.DataFrame]:
    _, _, result = map_raw(DEMO_RAW_DIR, DEMO_MAPPING_DIR)
    return {name: ds.data for name, ds in result.datasets.items()}


def text(df: pd.DataFrame, var: str) -> pd.Series:
    """The variable as text; numbers as SAS writes them (1.0 -> "1"); absent: "" everywhere."""
    if var not in df.columns:
        return pd.Series("", index=df.index, dtype=object)
    col = df[var]
    if col.dtype.kind == "f":
        return col.map(lambda v: "" if np.isnan(v) else (str(int(v)) if v.is_integer()
                                                          else repr(v))).astype(object)
    return col.astype(object).fillna("").astype(str)


def populated(df: pd.DataFrame, var: str) -> pd.Series:
    return text(df, var) != ""


def not_one_to_one(df: pd.DataFrame, a: str, b: str) -> pd.Series:
    """Rows whose (populated) a has more than one b, or whose b has more than one a."""
    ta, tb = text(df, a), text(df, b)
    both = (ta != "") & (tb != "")
    pairs = pd.DataFrame({"a": ta[both], "b": tb[both]}).drop_duplicates()
    many_b = pairs.groupby("a")["b"].nunique()
    many_a = pairs.groupby("b")["a"].nunique()
    return both & (ta.map(many_b).fillna(0).gt(1) | tb.map(many_a).fillna(0).gt(1))


def valid_dtc(value: str) -> bool:
    """An ISO 8601 date/time that is a real calendar date (2020-02-30 is not)."""
    if not DTC.fullmatch(value):
        return False
    try:
        pd.Timestamp(value)
    except ValueError:
        return False
    return True


def complete_date(values: pd.Series) -> pd.Series:
    """The date portion is complete (YYYY-MM-DD)."""
    return values.str.match(r"\d{4}-\d{2}-\d{2}")


def later(a: pd.Series, b: pd.Series) -> pd.Series:
    """a is after b on the precision both have (both populated)."""
    width = np.minimum(a.str.len(), b.str.len())
    return pd.Series([x[:w] > y[:w] for x, y, w in zip(a, b, width)], index=a.index) \
        & (a != "") & (b != "")


def study_day(dtc: pd.Series, rfstdtc: pd.Series) -> pd.Series:
    """SDTMIG 4.4.4: date - RFSTDTC + 1 on or after RFSTDTC, date - RFSTDTC before (date parts)."""
    days = (pd.to_datetime(dtc.str[:10], errors="coerce")
            - pd.to_datetime(rfstdtc.str[:10], errors="coerce")).dt.days
    return days.where(days < 0, days + 1)


def with_dm(df: pd.DataFrame, dm: pd.DataFrame, *variables: str) -> pd.DataFrame:
    """DM's variables on each record (match_datasets DM on USUBJID)."""
    return df.join(dm.set_index("USUBJID")[list(variables)], on="USUBJID")


def show(df: pd.DataFrame, mask: pd.Series, *columns: str) -> str:
    cols = [c for c in columns if c in df.columns] or list(df.columns)
    return df.loc[mask, cols].head(20).to_string()


def datasets_with(sdtm: dict[str, pd.DataFrame], *variables: str,
                  exclude: tuple[str, ...] = ()) -> dict[str, pd.DataFrame]:
    """The datasets in a rule's ALL scope that have its variables (SUPP-- have none of them)."""
    return {n: d for n, d in sdtm.items()
            if n not in exclude and all(v in d.columns for v in variables)}


# --- shared shapes: lengths, conditional nulls, one-to-one relationships --------------------------

LENGTHS = [  # core_id, datasets of the scope, variable, longest allowed
    ("CORE-000010", ("DM", "TA"), "ARMCD", 20),        # matches_regex ^(.){21,}$ (CG0153)
    ("CORE-000088", ("DM", "TX"), "SETCD", 8),         # matches_regex ^(.){9,}$ (CG0149)
    ("CORE-000143", ("TA", "TE", "SE"), "ETCD", 8),    # longer_than 8 (CG0246)
    ("CORE-000147", ("TS",), "TSPARMCD", 8),           # longer_than 8 (CG0257)
    ("CORE-000148", ("TS",), "TSPARM", 40),            # longer_than 40 (CG0258)
    ("CORE-000157", ("TV",), "ARMCD", 20),             # longer_than 20 (CG0297)
]


@pytest.mark.parametrize("core_id,scope,variable,limit", LENGTHS,
                         ids=[f"{r[0].lower().replace('-', '_')}_{r[2].lower()}" for r in LENGTHS])
def test_core_length_limits(sdtm, core_id: str, scope: tuple[str, ...], variable: str,
                            limit: int) -> None:
    for name in scope:
        if name not in sdtm:  # CORE-000088: no TX (the study has no trial sets), DM no SETCD
            continue
        df = sdtm[name]
        long = text(df, variable).str.len() > limit
        assert not long.any(), f"{core_id} {name}\n" + show(df, long, variable)


# core_id, dataset, a short name, the condition a record must not meet (all of the rule's checks)
RECORD_RULES = [
    ("CORE-000002", "SE", "sestdtc_required", lambda d: ~populated(d, "SESTDTC")),
    ("CORE-000009", "SE", "element_null_for_unplan",
     lambda d: (text(d, "ETCD") == "UNPLAN") & populated(d, "ELEMENT")),
    ("CORE-000020", "SE", "taetord_null_for_unplan",
     lambda d: (text(d, "ETCD") == "UNPLAN") & populated(d, "TAETORD")),
    ("CORE-000095", "SE", "seupdes_only_for_unplan",
     lambda d: populated(d, "SEUPDES") & (text(d, "ETCD") != "UNPLAN")),
    ("CORE-000256", "SE", "seupdes_for_unplan",
     lambda d: ~populated(d, "SEUPDES") & (text(d, "ETCD") == "UNPLAN")),
    ("CORE-000027", "TE", "teenrl_or_tedur",
     lambda d: ~populated(d, "TEDUR") & ~populated(d, "TEENRL")),
    ("CORE-000035", "SV", "no_visitdy_unplanned",
     lambda d: ~populated(d, "SVPRESP") & populated(d, "VISITDY")),
    ("CORE-000037", "SV", "svpresp_y_or_null",
     lambda d: (text(d, "SVPRESP") != "Y") & populated(d, "SVPRESP")),
    ("CORE-000038", "SV", "svoccur_only_planned",
     lambda d: populated(d, "SVOCCUR") & (text(d, "SVPRESP") != "Y")),
    ("CORE-000041", "TS", "tsvalnf_only_without_tsval",
     lambda d: populated(d, "TSVAL") & ~text(d, "TSVAL").str.fullmatch(NULL_FLAVOR_TEXT)
     & populated(d, "TSVALNF")),
    ("CORE-000787", "TS", "no_null_flavor_in_tsval",
     lambda d: ~populated(d, "TSVALNF") & text(d, "TSVAL").str.fullmatch(NULL_FLAVOR_TEXT)),
    ("CORE-000149", "TS", "tsvalnf_when_tsval_null",
     lambda d: ~populated(d, "TSVAL") & ~populated(d, "TSVALNF")),
    ("CORE-000150", "TS", "no_tsvalnf_with_tsval",
     lambda d: populated(d, "TSVAL") & populated(d, "TSVALNF")),
    ("CORE-000151", "TS", "tsval_before_tsval1",
     lambda d: populated(d, "TSVAL1") & ~populated(d, "TSVAL")),
    ("CORE-000153", "TS", "tsvcdref_with_tsvcdver",
     lambda d: populated(d, "TSVCDVER") & ~populated(d, "TSVCDREF")),
    ("CORE-000294", "TS", "agemax_iso8601_duration",
     lambda d: (text(d, "TSPARMCD") == "AGEMAX") & populated(d, "TSVAL")
     & ~text(d, "TSVAL").str.fullmatch(DURATION)),
    ("CORE-000785", "TI", "iecat_with_iescat",
     lambda d: populated(d, "IESCAT") & ~populated(d, "IECAT")),
    ("CORE-000541", "TI", "ietestcd_name",  # scope: ALL domains of class TRIAL DESIGN
     lambda d: ~text(d, "IETESTCD").str.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]{0,7}")),
    ("CORE-000534", "TA", "taetord_integer",
     lambda d: ~text(d, "TAETORD").str.fullmatch(r"-?[1-9]\d*|0")),
    ("CORE-000115", "DM", "arm_not_a_null_reason", lambda d: text(d, "ARM").str.lower().isin(
        ["screen failure", "not assigned", "not treated", "unplanned treatment"])),
    ("CORE-000115", "TA", "arm_not_a_null_reason", lambda d: text(d, "ARM").str.lower().isin(
        ["screen failure", "not assigned", "not treated", "unplanned treatment"])),
    ("CORE-000115", "TV", "arm_not_a_null_reason", lambda d: text(d, "ARM").str.lower().isin(
        ["screen failure", "not assigned", "not treated", "unplanned treatment"])),
]


@pytest.mark.parametrize("core_id,name,what,condition", RECORD_RULES,
                         ids=[f"{r[0].lower().replace('-', '_')}_{r[1].lower()}_{r[2]}"
                              for r in RECORD_RULES])
def test_core_record_conditions(sdtm, core_id: str, name: str, what: str, condition) -> None:
    df = sdtm[name]
    hit = condition(df)
    assert not hit.any(), f"{core_id} {name}\n" + show(df, hit)


RELATIONSHIPS = [  # core_id, dataset, a, b, rows the rule looks at (None: all)
    ("CORE-000132", "TE", "ETCD", "ELEMENT", None),
    ("CORE-000132", "TA", "ETCD", "ELEMENT", None),
    ("CORE-000132", "SE", "ETCD", "ELEMENT", None),
    ("CORE-000179", "TS", "TSPARM", "TSPARMCD", None),
    ("CORE-000318", "TA", "ARM", "ARMCD", None),
    ("CORE-000318", "TV", "ARM", "ARMCD", None),  # TV has no ARM (every visit is every arm's)
    ("CORE-000318", "DM", "ARM", "ARMCD", None),
    ("CORE-000743", "TI", "IETEST", "IETESTCD", None),
    ("CORE-000152", "TS", "TSVAL", "TSVALCD", None),  # rows with TSVAL and TSVALCD (CG0265)
    ("CORE-000728", "TS", "TSVAL", "TSVALCD", "TSVCDREF"),  # rows with TSVCDREF (FB0904)
]


@pytest.mark.parametrize("core_id,name,a,b,where", RELATIONSHIPS,
                         ids=[f"{r[0].lower().replace('-', '_')}_{r[1].lower()}_{r[2].lower()}"
                              for r in RELATIONSHIPS])
def test_core_one_to_one(sdtm, core_id: str, name: str, a: str, b: str, where: str | None) -> None:
    df = sdtm[name]
    hit = not_one_to_one(df, a, b) & (populated(df, where) if where else True)
    assert not hit.any(), f"{core_id} {name}\n" + show(df, hit, a, b)


def test_core_000728_iso8601_rows_have_no_tsvalcd(sdtm) -> None:
    """FB0904 reads TSVALCD against TSVAL on every row with a TSVCDREF. The ISO 8601 rows
    (dates, durations) have TSVCDREF and no TSVALCD, as SDTMIG 3.4 7.4.2 shows: an engine that
    counts the null TSVALCD as one code shared by all of them reports them, a false positive.
    What the standard requires: a TSVCDREF without a code only for ISO 8601 values."""
    ts = sdtm["TS"]
    no_code = populated(ts, "TSVCDREF") & ~populated(ts, "TSVALCD")
    assert set(text(ts, "TSVCDREF")[no_code]) == {"ISO 8601"}
    assert set(ts.loc[no_code, "TSPARMCD"]) == {"AGEMAX", "AGEMIN", "LENGTH", "SSTDTC", "SENDTC",
                                                "DCUTDTC"}


# --- TS -------------------------------------------------------------------------------------------

def test_core_000154_tsseq_unique_within_tsparmcd(sdtm) -> None:
    ts = sdtm["TS"]
    several = ts.duplicated(["DOMAIN", "TSPARMCD"], keep=False)
    hit = several & ts.duplicated(["TSSEQ", "TSPARMCD"], keep=False)
    assert several.any() and not hit.any(), show(ts, hit, "TSPARMCD", "TSSEQ")


def test_core_000505_sstdtc_is_iso8601(sdtm) -> None:
    ts = sdtm["TS"]
    sstdtc = text(ts, "TSVAL")[ts["TSPARMCD"] == "SSTDTC"]
    assert len(sstdtc) == 1
    for value in sstdtc:  # invalid_date: not ISO 8601, or not a calendar date
        assert valid_dtc(value), value


def test_core_000582_tsval_pieces_in_order(sdtm) -> None:
    """inconsistent_enumerated_columns: TSVALn+1 populated while TSVALn is null."""
    ts = sdtm["TS"]
    pieces = ["TSVAL", *sorted((c for c in ts.columns if re.fullmatch(r"TSVAL\d+", c)),
                               key=lambda c: int(c[5:]))]
    hit = pd.Series(False, index=ts.index)
    for before, after in zip(pieces, pieces[1:]):
        hit |= populated(ts, after) & ~populated(ts, before)
    assert not hit.any(), show(ts, hit, *pieces)


def test_core_000736_not_both_age_and_agetxt(sdtm) -> None:
    ts = sdtm["TS"]
    age, agetxt = (ts["TSPARMCD"] == "AGE").sum(), (ts["TSPARMCD"] == "AGETXT").sum()
    hit = ts["TSPARMCD"].isin(["AGE", "AGETXT"]) & (age >= 1) & (agetxt >= 1) \
        & populated(ts, "TSVAL")
    assert not hit.any(), show(ts, hit, "TSPARMCD", "TSVAL")


def _core_000741(ts: pd.DataFrame, parameters: list[str]) -> pd.Series:
    """FB1111 as the rule states it: TSPARMCD lacks one of the parameters, or one of them has
    no TSVAL, or the study is not interventional (record_count of STYPE INTERVENTIONAL != 1)."""
    lacks = not set(parameters) <= set(ts["TSPARMCD"])
    empty = ts["TSPARMCD"].isin(parameters) & ~populated(ts, "TSVAL")
    interventional = ((ts["TSPARMCD"] == "STYPE") & (text(ts, "TSVAL") == "INTERVENTIONAL")).sum()
    return pd.Series(lacks or interventional != 1, index=ts.index) | empty


@needs_ct
def test_core_000741_interventional_study_parameters(sdtm) -> None:
    """Known CORE false positive: the rule asks for TSPARMCD 'PCLASS', which is no CT term;
    the Pharmacologic Class parameter is PCLAS (C98768), so not_contains_all holds for every
    study and the rule reports every TS record. What FB1111 (FDA TCG appendix B) requires, and
    is asserted: an interventional study has INTMODEL, INTTYPE and PCLAS with a TSVAL."""
    ts = sdtm["TS"]
    with CT_FILE.open(encoding="utf-8", newline="") as fh:
        parmcd = {r["CDISC Submission Value"] for r in csv.DictReader(fh, delimiter="\t")
                  if r["Codelist Code"] == "C66738"}
    assert "PCLASS" not in parmcd and "PCLAS" in parmcd
    assert _core_000741(ts, ["INTMODEL", "INTTYPE", "PCLASS"]).all()  # as published
    hit = _core_000741(ts, ["INTMODEL", "INTTYPE", "PCLAS"])
    assert not hit.any(), show(ts, hit, "TSPARMCD", "TSVAL")


def test_core_000742_indic_na_for_healthy_subjects(sdtm) -> None:
    ts = sdtm["TS"]
    healthy = ((ts["TSPARMCD"] == "HLTSUBJI") & (text(ts, "TSVAL") == "Y")).sum()
    indic_na = ((ts["TSPARMCD"] == "INDIC") & (text(ts, "TSVALNF") == "NA")).sum()
    assert not (healthy == 1 and indic_na != 1)
    # not a healthy-subject trial: the indication is given
    assert text(ts, "TSVAL")[ts["TSPARMCD"] == "HLTSUBJI"].tolist() == ["N"]
    assert text(ts, "TSVAL")[ts["TSPARMCD"] == "INDIC"].tolist() == ["Acute myeloid leukemia"]


def _ct_term_codes() -> set[str]:
    with CT_FILE.open(encoding="utf-8", newline="") as fh:
        return {r["Code"] for r in csv.DictReader(fh, delimiter="\t") if r["Codelist Code"]}


# the SDTM CT packages whose dates are known here: ../shared/reference holds the 2025-03-28 one
KNOWN_CT_DATES = {"2025-03-28"}


@needs_ct
def test_core_000761_tsvcdver_is_a_published_ct_date(sdtm) -> None:
    """The rule tests TSVCDREF equal to 'CDISC', which is no DICTNAM term: the reference is
    'CDISC CT' (C163415), so as published the rule never fires on a conformant TS. Asserted
    instead (CG0289): the CDISC CT rows' TSVCDVER is a published SDTM CT date (the package in
    ../shared/reference; the full list of dates needs the CDISC Library)."""
    ts = sdtm["TS"]
    assert not (text(ts, "TSVCDREF") == "CDISC").any()
    cdisc = text(ts, "TSVCDREF") == "CDISC CT"
    assert cdisc.sum() >= 20
    hit = cdisc & ~text(ts, "TSVCDVER").isin(KNOWN_CT_DATES)
    assert not hit.any(), show(ts, hit, "TSPARMCD", "TSVCDREF", "TSVCDVER")


@needs_ct
def test_core_001080_tsvalcd_is_a_term_of_the_ct_version(sdtm) -> None:
    ts = sdtm["TS"]
    cdisc = text(ts, "TSVCDREF").str[:5] == "CDISC"
    assert set(text(ts, "TSVCDVER")[cdisc]) <= KNOWN_CT_DATES  # the package read here
    hit = cdisc & ~text(ts, "TSVALCD").isin(_ct_term_codes())
    assert cdisc.any() and not hit.any(), show(ts, hit, "TSPARMCD", "TSVAL", "TSVALCD")


# --- TE, TA, TV, TI -------------------------------------------------------------------------------

def test_core_000144_taetord_unique_within_arm(sdtm) -> None:
    ta = sdtm["TA"]
    hit = ta.duplicated(["TAETORD", "ARM"], keep=False)
    assert not hit.any(), show(ta, hit, "ARM", "TAETORD")


def test_core_000173_etcd_in_te(sdtm) -> None:
    etcd = set(sdtm["TE"]["ETCD"])
    for name in ("SE", "TA"):
        df = sdtm[name]
        hit = (text(df, "ETCD") != "UNPLAN") & ~text(df, "ETCD").isin(etcd)
        assert not hit.any(), f"{name}\n" + show(df, hit, "ETCD")


def test_core_000580_elements_differ_in_their_rules(sdtm) -> None:
    te = sdtm["TE"]
    rules = ["ELEMENT", "TESTRL", "TEENRL", "TEDUR"]
    same_etcd = te.duplicated(["ETCD", *rules], keep=False)
    unique_etcd = ~same_etcd
    same_rules = te.duplicated(rules, keep=False)  # each of the four is_not_unique_set
    hit = same_etcd | (unique_etcd & same_rules)
    assert not hit.any(), show(te, hit, "ETCD", *rules)
    # CG0325 (7.2.2 assumption 13): elements with different start and end rules are different
    # elements; the dose levels share TEENRL and TEDUR, their start rules name the dose level
    assert not te.duplicated(["TESTRL", "TEENRL", "TEDUR"]).any()


def test_core_000155_tv_armcd_in_ta(sdtm) -> None:
    tv, armcd = sdtm["TV"], set(sdtm["TA"]["ARMCD"])
    hit = populated(tv, "ARMCD") & ~text(tv, "ARMCD").isin(armcd)
    assert not hit.any(), show(tv, hit, "ARMCD")


def test_core_000156_tv_arm_in_ta(sdtm) -> None:
    tv, arm = sdtm["TV"], set(sdtm["TA"]["ARM"])
    hit = populated(tv, "ARM") & ~text(tv, "ARM").isin(arm)
    assert not hit.any(), show(tv, hit, "ARM")


def test_core_000145_ietestcd_unique_within_tivers(sdtm) -> None:
    ti = sdtm["TI"]
    assert "TIVERS" in ti.columns
    hit = ti.duplicated(["IETESTCD", "TIVERS"], keep=False)
    assert not hit.any(), show(ti, hit, "IETESTCD", "TIVERS")


def test_core_000146_ietestcd_unique(sdtm) -> None:
    """Applies when TI has no TIVERS (ours has: CORE-000145); unique within DOMAIN anyway."""
    ti = sdtm["TI"]
    hit = ti.duplicated(["IETESTCD", "DOMAIN"], keep=False) & ("TIVERS" not in ti.columns)
    assert not hit.any() and not ti.duplicated(["IETESTCD"]).any()


def test_core_000786_iecat_exists_with_iescat(sdtm) -> None:
    ti = sdtm["TI"]
    assert not ("IESCAT" in ti.columns and "IECAT" not in ti.columns)


def test_core_000779_tdstoff_iso8601(sdtm) -> None:
    """TD (trial disease assessments) is not part of the demo: nothing for the rule to read.
    Should TD be added, TDSTOFF is 0 or a positive ISO 8601 duration."""
    td = sdtm.get("TD", pd.DataFrame(columns=["TDSTOFF"]))
    value = text(td, "TDSTOFF")
    hit = (value != "0") & ~value.str.fullmatch(DURATION)
    assert "TD" not in sdtm and not hit.any()


# --- IE against TI --------------------------------------------------------------------------------

def test_core_000227_ie_ietest_in_ti(sdtm) -> None:
    ie, ti = sdtm["IE"], sdtm["TI"]
    hit = ~text(ie, "IETEST").isin(set(ti["IETEST"]))
    assert len(ie) and not hit.any(), show(ie, hit, "USUBJID", "IETESTCD", "IETEST")


def test_core_000228_ie_ietestcd_in_ti(sdtm) -> None:
    ie, ti = sdtm["IE"], sdtm["TI"]
    hit = ~text(ie, "IETESTCD").isin(set(ti["IETESTCD"]))
    assert len(ie) and not hit.any(), show(ie, hit, "USUBJID", "IETESTCD")


# --- DM against TA and TS -------------------------------------------------------------------------

def test_core_000047_dm_arm_in_ta(sdtm) -> None:
    dm, arm = sdtm["DM"], set(sdtm["TA"]["ARM"])
    hit = populated(dm, "ACTARM") & populated(dm, "ARM") & ~text(dm, "ARM").isin(arm)
    assert not hit.any(), show(dm, hit, "USUBJID", "ARM")


def test_core_000208_dm_actarmcd_in_ta(sdtm) -> None:
    dm, armcd = sdtm["DM"], set(sdtm["TA"]["ARMCD"])
    hit = populated(dm, "ACTARMCD") & ~text(dm, "ACTARMCD").isin(armcd)
    assert not hit.any(), show(dm, hit, "USUBJID", "ACTARMCD")


def test_core_000209_dm_actarm_in_ta(sdtm) -> None:
    dm, arm = sdtm["DM"], set(sdtm["TA"]["ARM"])
    hit = populated(dm, "ACTARM") & ~text(dm, "ACTARM").isin(arm)
    assert not hit.any(), show(dm, hit, "USUBJID", "ACTARM")


def test_core_000210_dm_armcd_in_ta(sdtm) -> None:
    dm, armcd = sdtm["DM"], set(sdtm["TA"]["ARMCD"])
    hit = populated(dm, "ARMCD") & ~text(dm, "ARMCD").isin(armcd)
    assert not hit.any(), show(dm, hit, "USUBJID", "ARMCD")


def _interventional(ts: pd.DataFrame) -> bool:
    """A TS record STYPE = INTERVENTIONAL (the rules join every TS record on STUDYID)."""
    return bool(((ts["TSPARMCD"] == "STYPE") & (text(ts, "TSVAL") == "INTERVENTIONAL")).any())


def test_core_000885_treated_subjects_have_exposure(sdtm) -> None:
    dm, ts = sdtm["DM"], sdtm["TS"]
    assert _interventional(ts)
    not_in_ex = ~dm["USUBJID"].isin(set(sdtm["EX"]["USUBJID"]))
    armnrs = text(dm, "ARMNRS")
    hit = ((armnrs == "") | (armnrs == "UNPLANNED TREATMENT")) & not_in_ex
    assert not hit.any(), show(dm, hit, "USUBJID", "ARMCD", "ARMNRS")


def test_core_000886_no_exposure_has_armnrs(sdtm) -> None:
    dm, ts = sdtm["DM"], sdtm["TS"]
    assert _interventional(ts)
    hit = ~populated(dm, "ARMNRS") & ~dm["USUBJID"].isin(set(sdtm["EX"]["USUBJID"]))
    assert not hit.any(), show(dm, hit, "USUBJID", "ARMCD", "ARMNRS")


def test_core_000927_exposed_subjects_have_an_arm(sdtm) -> None:
    dm, ts = sdtm["DM"], sdtm["TS"]
    assert _interventional(ts)
    armnrs = text(dm, "ARMNRS")
    hit = (armnrs != "") & (armnrs != "UNPLANNED TREATMENT") \
        & dm["USUBJID"].isin(set(sdtm["EX"]["USUBJID"]))
    assert not hit.any(), show(dm, hit, "USUBJID", "ARMNRS")


# --- SE -------------------------------------------------------------------------------------------

def test_core_000352_seendtc_is_the_next_sestdtc(sdtm) -> None:
    """does_not_have_next_corresponding_record within USUBJID ordered by SESEQ (the last
    element has no next one)."""
    se = sdtm["SE"].sort_values(["USUBJID", "SESEQ"])
    following = se.groupby("USUBJID")["SESTDTC"].shift(-1)
    hit = following.notna() & (se["SEENDTC"] != following)
    assert not hit.any(), show(se, hit, "USUBJID", "SESEQ", "SESTDTC", "SEENDTC")


def test_core_000527_seendtc_unless_last(sdtm) -> None:
    """empty_within_except_last_row: SEENDTC null on an element that is not the subject's
    last (ordered by SESTDTC)."""
    se = sdtm["SE"].sort_values(["USUBJID", "SESTDTC"])
    last = ~se["USUBJID"].duplicated(keep="last")
    hit = ~last & ~populated(se, "SEENDTC")
    assert not hit.any(), show(se, hit, "USUBJID", "SESTDTC", "SEENDTC")


def test_core_000535_seseq_in_sestdtc_order(sdtm) -> None:
    """target_is_not_sorted_by SESTDTC (asc, nulls last) within USUBJID; dates of different
    precision that overlap (2020-04-08 and 2020-04-08T10:00) cannot be ordered."""
    se = sdtm["SE"]
    bad = []
    for subject, s in se.sort_values("SESEQ").groupby("USUBJID"):
        starts = [v for v in s["SESTDTC"] if v]
        nulls_last = s["SESTDTC"].tolist() == [*starts, *([""] * (len(s) - len(starts)))]
        overlap = any(a != b and b.startswith(a) for a in starts for b in starts)
        if not nulls_last or starts != sorted(starts) or overlap:
            bad.append(subject)
    assert not bad, bad


# --- SV -------------------------------------------------------------------------------------------

def test_core_000036_planned_visit_in_tv(sdtm) -> None:
    sv, tv = sdtm["SV"], sdtm["TV"]
    hit = (text(sv, "SVPRESP") == "Y") & ~text(sv, "VISIT").isin(set(tv["VISIT"]))
    assert not hit.any(), show(sv, hit, "USUBJID", "VISITNUM", "VISIT")


def test_core_000039_planned_visitnum_in_tv(sdtm) -> None:
    sv, tv = sdtm["SV"], sdtm["TV"]
    hit = (text(sv, "SVPRESP") == "Y") & ~sv["VISITNUM"].isin(set(tv["VISITNUM"]))
    assert not hit.any(), show(sv, hit, "USUBJID", "VISITNUM", "VISIT")


def test_core_000040_unplanned_visitnum_not_in_tv(sdtm) -> None:
    sv, tv = sdtm["SV"], sdtm["TV"]
    unplanned = ~populated(sv, "SVPRESP")
    hit = unplanned & sv["VISITNUM"].isin(set(tv["VISITNUM"]))
    assert unplanned.any() and not hit.any(), show(sv, hit, "USUBJID", "VISITNUM", "VISIT")


def test_core_000204_planned_visit_once_per_subject(sdtm) -> None:
    sv, tv = sdtm["SV"], sdtm["TV"]
    hit = sv["VISITNUM"].isin(set(tv["VISITNUM"])) & sv.duplicated(["VISITNUM", "USUBJID"],
                                                                    keep=False)
    assert not hit.any(), show(sv, hit, "USUBJID", "VISITNUM")


def _sv_in_elements(sdtm: dict[str, pd.DataFrame], variable: str) -> pd.DataFrame:
    """SV records (when SV has `variable`) with the SE records whose span holds SVSTDTC:
    SESTDTC <= SVSTDTC <= SEENDTC, each matched on the precision both have."""
    sv, se = sdtm["SV"], sdtm["SE"]
    if variable not in sv.columns:
        return sv.iloc[0:0]
    pairs = sv.merge(se[["USUBJID", "SESTDTC", "SEENDTC", variable]], on="USUBJID",
                     suffixes=("", "_SE"))
    held = ~later(pairs["SESTDTC"], pairs["SVSTDTC"]) & ~later(pairs["SVSTDTC"], pairs["SEENDTC"])
    held &= (pairs["SESTDTC"] != "") & (pairs["SVSTDTC"] != "") & (pairs["SEENDTC"] != "")
    return pairs[held & (text(pairs, variable) != text(pairs, f"{variable}_SE"))]


def test_core_000097_sv_epoch_as_in_se(sdtm) -> None:
    """SV has no EPOCH (Perm in SDTMIG 3.4 5.5): 'exists EPOCH' is false, nothing to compare.
    If it is added it must be the EPOCH of the element the visit starts in (CG0218)."""
    assert "EPOCH" not in sdtm["SV"].columns
    assert _sv_in_elements(sdtm, "EPOCH").empty


def test_core_000784_sv_taetord_as_in_se(sdtm) -> None:
    """SV has no TAETORD (Perm): the rule's 'exists TAETORD' is false (CG0217 as above)."""
    assert "TAETORD" not in sdtm["SV"].columns
    assert _sv_in_elements(sdtm, "TAETORD").empty


# --- SE and SV dates against DM ------------------------------------------------------------------

SE_SV_DAYS = [("SE", "SESTDTC", "SESTDY"), ("SE", "SEENDTC", "SEENDY"),
              ("SV", "SVSTDTC", "SVSTDY"), ("SV", "SVENDTC", "SVENDY")]


@pytest.mark.parametrize("name,dtc,dy", SE_SV_DAYS, ids=[r[2].lower() for r in SE_SV_DAYS])
def test_core_000138_000139_no_study_day_without_complete_dates(sdtm, name: str, dtc: str,
                                                                dy: str) -> None:
    """CORE-000138 (--STDY) and CORE-000139 (--ENDY): null when --STDTC/--ENDTC or DM.RFSTDTC
    is not a complete date."""
    df = with_dm(sdtm[name], sdtm["DM"], "RFSTDTC")
    incomplete = ~complete_date(text(df, dtc)) | ~complete_date(text(df, "RFSTDTC"))
    hit = incomplete & populated(df, dy)
    assert (~complete_date(text(df, "RFSTDTC"))).any()  # the untreated subjects: SE has them
    assert not hit.any(), show(df, hit, "USUBJID", dtc, "RFSTDTC", dy)


@pytest.mark.parametrize("name,dtc,dy", SE_SV_DAYS, ids=[r[2].lower() for r in SE_SV_DAYS])
def test_core_000552_000553_study_day_algorithm(sdtm, name: str, dtc: str, dy: str) -> None:
    """CORE-000552 (--STDY) and CORE-000553 (--ENDY): the SDTMIG study day when both dates are
    complete."""
    df = with_dm(sdtm[name], sdtm["DM"], "RFSTDTC")
    both = complete_date(text(df, dtc)) & complete_date(text(df, "RFSTDTC"))
    expected = study_day(text(df, dtc), text(df, "RFSTDTC"))
    hit = both & (df[dy] != expected)
    assert both.sum() > 100 and not hit.any(), show(df, hit, "USUBJID", dtc, "RFSTDTC", dy)


@pytest.mark.parametrize("name,dtc", [("SE", "SEENDTC"), ("SV", "SVENDTC")])
def test_core_000952_end_not_after_rfpendtc(sdtm, name: str, dtc: str) -> None:
    df = with_dm(sdtm[name], sdtm["DM"], "RFPENDTC")
    hit = later(text(df, dtc), text(df, "RFPENDTC"))
    assert not hit.any(), show(df, hit, "USUBJID", dtc, "RFPENDTC")


# --- the visit-level datasets against TV, SV and TA (scope ALL) -----------------------------------

def test_core_000140_visitdy_only_for_tv_visits(sdtm) -> None:
    tvnum = set(sdtm["TV"]["VISITNUM"])
    checked = datasets_with(sdtm, "VISITNUM", "VISITDY")
    assert set(checked) == {"SV", "TV"}
    for name, df in checked.items():
        hit = ~df["VISITNUM"].isin(tvnum) & populated(df, "VISITDY")
        assert not hit.any(), f"{name}\n" + show(df, hit, "VISITNUM", "VISITDY")


def test_core_000168_visitnum_in_sv(sdtm) -> None:
    """VISITNUM of the subject's records is a VISITNUM of the subject in SV (distinct grouped
    by USUBJID). TV is in the scope but has no subjects: nothing to group by."""
    sv = set(zip(sdtm["SV"]["USUBJID"], sdtm["SV"]["VISITNUM"]))
    checked = datasets_with(sdtm, "USUBJID", "VISITNUM", exclude=("SV",))
    assert set(checked) == {"CP", "LB", "PC", "RS"}
    for name, df in checked.items():
        hit = df["VISITNUM"].notna() & ~pd.Series(list(zip(df["USUBJID"], df["VISITNUM"])),
                                                  index=df.index).isin(sv)
        assert not hit.any(), f"{name}\n" + show(df, hit, "USUBJID", "VISITNUM")


def test_core_000249_visitdy_as_in_tv(sdtm) -> None:
    """VISITDY of a TV visit is TV.VISITDY (match on VISITNUM); a null in both is the same
    (TV gives no planned day for screening and the end-of-study visit)."""
    tv = sdtm["TV"].set_index("VISITNUM")["VISITDY"]
    checked = datasets_with(sdtm, "VISITNUM", "VISITDY", exclude=("TV",))
    assert set(checked) == {"SV"}
    for name, df in checked.items():
        planned = df["VISITNUM"].isin(tv.index)
        expected = df["VISITNUM"].map(tv)
        differ = ~((df["VISITDY"] == expected) | (df["VISITDY"].isna() & expected.isna()))
        hit = planned & differ
        assert not hit.any(), f"{name}\n" + show(df, hit, "USUBJID", "VISITNUM", "VISITDY")


@pytest.mark.parametrize("core_id,key", [("CORE-000269", "VISIT"), ("CORE-000270", "VISITNUM")])
def test_core_000269_000270_planned_visits_in_tv(sdtm, core_id: str, key: str) -> None:
    """VISIT (VISITNUM) of a record at a visit SV calls planned (SVPRESP Y, SV matched on
    USUBJID and the variable) is a TV value."""
    sv, tv = sdtm["SV"], set(sdtm["TV"][key])
    presp = sv.drop_duplicates(["USUBJID", key]).set_index(["USUBJID", key])["SVPRESP"]
    checked = datasets_with(sdtm, "USUBJID", key, exclude=("TV",))
    assert set(checked) == {"CP", "LB", "PC", "RS", "SV"}
    for name, df in checked.items():
        at = pd.MultiIndex.from_arrays([df["USUBJID"], df[key]])
        planned = pd.Series(presp.reindex(at).to_numpy(), index=df.index) == "Y"
        hit = populated(df, key) & planned & ~df[key].isin(tv)
        assert not hit.any(), f"{core_id} {name}\n" + show(df, hit, "USUBJID", key)


def test_core_000271_epoch_in_ta(sdtm) -> None:
    epochs = set(sdtm["TA"]["EPOCH"])
    checked = datasets_with(sdtm, "EPOCH")
    assert {"SE", "TA", "AE", "LB", "EX"} <= set(checked)
    for name, df in checked.items():
        hit = populated(df, "EPOCH") & ~text(df, "EPOCH").isin(epochs)
        assert not hit.any(), f"{name}\n" + show(df, hit, "EPOCH")


def test_core_000361_visit_and_visitnum_one_to_one(sdtm) -> None:
    """The rule flags TV visits; CG0035 (SDTMIG 3.4 4.4.5) asks one VISIT per VISITNUM and one
    VISITNUM per VISIT for every visit, so the unplanned ones are asserted too."""
    tvnum = set(sdtm["TV"]["VISITNUM"])
    checked = datasets_with(sdtm, "VISITNUM", "VISIT")
    assert set(checked) == {"CP", "LB", "PC", "RS", "SV", "TV"}
    for name, df in checked.items():
        many = not_one_to_one(df, "VISIT", "VISITNUM")
        hit = df["VISITNUM"].isin(tvnum) & many
        assert not hit.any(), f"{name}\n" + show(df, hit, "VISITNUM", "VISIT")
        assert not many.any(), f"{name} (CG0035, unplanned)\n" + show(df, many, "VISITNUM",
                                                                      "VISIT")


# --- the selection: every rule in scope is tested here --------------------------------------------

# ALL-scope rules comparing SE/SV dates with DM dates (study days, end of participation)
SE_SV_DM_RULES = {"CORE-000138", "CORE-000139", "CORE-000552", "CORE-000553", "CORE-000952"}
# rules in scope that cannot be evaluated from the data (with why): none; CORE-000761 and
# CORE-001080 read the one CT package of ../shared/reference instead of the CDISC Library
SKIPPED: dict[str, str] = {}


def selected_rules(rules: list[dict]) -> dict[str, str]:
    """core_id -> message of the rules this file covers: a design dataset in domains Include,
    class TRIAL DESIGN, or a design dataset named by an operation, a match dataset or a
    condition (e.g. SE.EPOCH); plus the SE/SV-against-DM date rules."""
    out = {}
    for r in rules:
        include = set((r.get("domains") or {}).get("Include") or [])
        classes = set((r.get("classes") or {}).get("Include") or [])
        named = {o.get("domain") for o in r.get("operations") or []} \
            | {m.get("domain_name") for m in r.get("datasets") or []} \
            | set(re.findall(r"\b([A-Z]{2})\.[A-Z]", json.dumps(r["conditions"])))
        if include & set(DESIGN) or "TRIAL DESIGN" in classes or named & set(DESIGN) \
                or r["core_id"] in SE_SV_DM_RULES:
            out[r["core_id"]] = r["actions"][0]["params"]["message"]
    return out


def covered() -> set[str]:
    ids = {f"CORE-{m}" for name in globals()
           for m in re.findall(r"(?:core_|_)(\d{6})(?=_)", name) if name.startswith("test_core")}
    for table in (LENGTHS, RECORD_RULES, RELATIONSHIPS):
        ids |= {row[0] for row in table}
    return ids | set(SKIPPED)


@needs_rules
def test_every_rule_in_scope_is_covered() -> None:
    rules = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    selected = selected_rules(rules)
    assert len(selected) == 79
    assert set(selected) == covered(), (sorted(set(selected) - covered()),
                                        sorted(covered() - set(selected)))
