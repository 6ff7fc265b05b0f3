"""Conformance rules Great Expectations cannot express (cross-record, cross-dataset), as plain
vectorised pandas checks. Each rule has an id, a severity and a one-line description; a rule
whose datasets are absent does not run and says so (see `not_applicable`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cdisc import dates
from cdisc.validate.model import MAX_ROWS, Finding
from cdisc.validate.package import Package


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    description: str
    check: Callable[[Package], list[Finding]]
    needs: tuple[str, ...] = ()  # datasets it needs ("*" = any)


def _finding(rule: Rule, dataset: str, variable: str | None, mask: pd.Series,
             values: pd.Series | None, message: str) -> list[Finding]:
    """One finding for the rows where mask is True (nothing when none is)."""
    hits = np.flatnonzero(mask.to_numpy())
    if len(hits) == 0:
        return []
    shown = hits[:MAX_ROWS]
    vals = tuple(str(v) for v in values.iloc[shown]) if values is not None else ()
    return [Finding(rule.id, rule.severity, dataset, variable, message, int(len(hits)),
                    tuple(int(i) + 1 for i in shown), vals)]


def _domains(pkg: Package) -> list[tuple[str, pd.DataFrame]]:
    """SDTM domains of the package (datasets with a DOMAIN column, SUPP-- excluded)."""
    return [(n, t.data) for n, t in pkg.tables.items()
            if "DOMAIN" in t.data.columns and not n.startswith("SUPP")]


# --- subjects --------------------------------------------------------------------------------

def usubjid_in_dm(rule: Rule, pkg: Package) -> list[Finding]:
    dm = pkg.get("DM")
    subjects = set(dm["USUBJID"])
    out = []
    for name, table in pkg.tables.items():
        df = table.data
        if name == "DM" or "USUBJID" not in df.columns:
            continue
        missing = ~df["USUBJID"].isin(subjects)
        out += _finding(rule, name, "USUBJID", missing, df["USUBJID"],
                        f"{name}.USUBJID not in DM")
    return out


def dm_one_record_per_subject(rule: Rule, pkg: Package) -> list[Finding]:
    dm = pkg.get("DM")
    return _finding(rule, "DM", "USUBJID", dm["USUBJID"].duplicated(keep=False), dm["USUBJID"],
                    "more than one DM record for a subject")


def seq_unique(rule: Rule, pkg: Package) -> list[Finding]:
    out = []
    for name, df in _domains(pkg):
        seq = f"{name}SEQ"
        if seq in df.columns and "USUBJID" in df.columns:
            dup = df.duplicated(["USUBJID", seq], keep=False)
            out += _finding(rule, name, seq, dup, df[seq], f"{seq} not unique within USUBJID")
            number = pd.to_numeric(df[seq], errors="coerce")
            bad = number.isna() | (number < 1) | (number != number.round())
            out += _finding(rule, name, seq, bad, df[seq], f"{seq} is not a whole number >= 1")
    return out


# --- timing --------------------------------------------------------------------------------

def study_day_matches(rule: Rule, pkg: Package) -> list[Finding]:
    dm = pkg.get("DM")
    if "RFSTDTC" not in dm.columns:
        return []
    ref = dm.drop_duplicates("USUBJID").set_index("USUBJID")["RFSTDTC"]
    out = []
    for name, df in _domains(pkg):
        for col in [c for c in df.columns if c.endswith("DTC")]:
            dy = col[:-3] + "DY"
            if dy not in df.columns:
                continue
            expected = dates.study_day(df[col], df["USUBJID"].map(ref).fillna(""))
            given = pd.to_numeric(df[dy], errors="coerce")
            wrong = expected.notna() & (given != expected)
            out += _finding(rule, name, dy, wrong, given,
                            f"{dy} differs from the study day of {col} relative to DM.RFSTDTC")
    return out


def start_before_end(rule: Rule, pkg: Package) -> list[Finding]:
    out = []
    for name, df in _domains(pkg):
        st, en = f"{name}STDTC", f"{name}ENDTC"
        if st in df.columns and en in df.columns:
            a, b = dates.iso_to_date(df[st]), dates.iso_to_date(df[en])
            out += _finding(rule, name, en, a.notna() & b.notna() & (b < a), df[en],
                            f"{en} is before {st}")
    return out


# --- DM --------------------------------------------------------------------------------------

def death_flag(rule: Rule, pkg: Package) -> list[Finding]:
    dm = pkg.get("DM")
    if "DTHFL" not in dm.columns:
        return []
    out = _finding(rule, "DM", "DTHFL", ~dm["DTHFL"].isin(["Y", ""]), dm["DTHFL"],
                   "DTHFL must be Y or null")
    if "DTHDTC" in dm.columns:
        out += _finding(rule, "DM", "DTHFL", (dm["DTHDTC"] != "") & (dm["DTHFL"] != "Y"),
                        dm["DTHDTC"], "DTHDTC is populated but DTHFL is not Y")
    return out


def arm_pairs(rule: Rule, pkg: Package) -> list[Finding]:
    dm = pkg.get("DM")
    out = []
    for code, name in (("ARMCD", "ARM"), ("ACTARMCD", "ACTARM")):
        if code in dm.columns and name in dm.columns:
            names_per_code = dm.groupby(code)[name].transform("nunique")
            codes_per_name = dm.groupby(name)[code].transform("nunique")
            out += _finding(rule, "DM", code, (names_per_code > 1) | (codes_per_name > 1),
                            dm[code] + "/" + dm[name], f"{code}/{name} pairs are not one to one")
    return out


def actarm_matches_exposure(rule: Rule, pkg: Package) -> list[Finding]:
    dm, ex = pkg.get("DM"), pkg.get("EX")
    if "ACTARMCD" not in dm.columns:
        return []
    exposed = set(ex["USUBJID"])
    treated = dm["ACTARMCD"] != ""
    out = _finding(rule, "DM", "ACTARMCD", treated & ~dm["USUBJID"].isin(exposed),
                   dm["ACTARMCD"], "ACTARMCD is populated but the subject has no EX record")
    return out + _finding(rule, "DM", "ACTARMCD", ~treated & dm["USUBJID"].isin(exposed)
                          & (dm.get("ARMNRS", "") == ""), dm["USUBJID"],
                          "the subject has EX records but neither ACTARMCD nor ARMNRS")


# --- AE --------------------------------------------------------------------------------------

SERIOUS_CRITERIA = ["AESDTH", "AESLIFE", "AESHOSP", "AESDISAB", "AESCONG", "AESMIE"]


def serious_needs_criterion(rule: Rule, pkg: Package) -> list[Finding]:
    ae = pkg.get("AE")
    if "AESER" not in ae.columns:
        return []
    present = [c for c in SERIOUS_CRITERIA if c in ae.columns]
    any_criterion = (ae[present] == "Y").any(axis=1) if present else pd.Series(False,
                                                                              index=ae.index)
    return _finding(rule, "AE", "AESER", (ae["AESER"] == "Y") & ~any_criterion, ae["AESER"],
                    "AESER = Y but no seriousness criterion (AESDTH, AESLIFE, ...) is Y")


def toxgr_range(rule: Rule, pkg: Package) -> list[Finding]:
    ae = pkg.get("AE")
    if "AETOXGR" not in ae.columns:
        return []
    bad = (ae["AETOXGR"] != "") & ~ae["AETOXGR"].isin(["1", "2", "3", "4", "5"])
    return _finding(rule, "AE", "AETOXGR", bad, ae["AETOXGR"], "AETOXGR must be 1 to 5")


def ongoing_has_no_end(rule: Rule, pkg: Package) -> list[Finding]:
    ae = pkg.get("AE")
    if "AEOUT" not in ae.columns or "AEENDTC" not in ae.columns:
        return []
    ongoing = ae["AEOUT"].isin(["NOT RECOVERED/NOT RESOLVED", "RECOVERING/RESOLVING"])
    return _finding(rule, "AE", "AEENDTC", ongoing & (ae["AEENDTC"] != ""), ae["AEENDTC"],
                    "AEENDTC is populated but AEOUT says the event is ongoing")


# --- EX / LB / RS ------------------------------------------------------------------------------

def exposure_within_reference(rule: Rule, pkg: Package) -> list[Finding]:
    dm, ex = pkg.get("DM"), pkg.get("EX")
    if not {"RFXSTDTC", "RFXENDTC"} <= set(dm.columns) or "EXSTDTC" not in ex.columns:
        return []
    ref = dm.drop_duplicates("USUBJID").set_index("USUBJID")
    start = dates.iso_to_date(ex["USUBJID"].map(ref["RFXSTDTC"]).fillna(""))
    end = dates.iso_to_date(ex["USUBJID"].map(ref["RFXENDTC"]).fillna(""))
    when = dates.iso_to_date(ex["EXSTDTC"])
    bad = when.notna() & ((start.notna() & (when < start)) | (end.notna() & (when > end)))
    return _finding(rule, "EX", "EXSTDTC", bad, ex["EXSTDTC"],
                    "EXSTDTC outside [DM.RFXSTDTC, DM.RFXENDTC]")


def lb_numeric_result(rule: Rule, pkg: Package) -> list[Finding]:
    lb = pkg.get("LB")
    if not {"LBSTRESC", "LBSTRESN"} <= set(lb.columns):
        return []
    as_number = pd.to_numeric(lb["LBSTRESC"], errors="coerce")
    given = pd.to_numeric(lb["LBSTRESN"], errors="coerce")
    bad = (as_number.notna() & ~np.isclose(as_number, given.fillna(np.inf), rtol=1e-9)) | \
        (as_number.isna() & given.notna())
    return _finding(rule, "LB", "LBSTRESN", bad, lb["LBSTRESC"],
                    "LBSTRESN differs from the numeric value of LBSTRESC")


def lb_nrind(rule: Rule, pkg: Package) -> list[Finding]:
    lb = pkg.get("LB")
    if not {"LBNRIND", "LBSTRESN", "LBSTNRLO", "LBSTNRHI"} <= set(lb.columns):
        return []
    value = pd.to_numeric(lb["LBSTRESN"], errors="coerce")
    low = pd.to_numeric(lb["LBSTNRLO"], errors="coerce")
    high = pd.to_numeric(lb["LBSTNRHI"], errors="coerce")
    # a censored result ('<0.1') has its range as text in LBSTNRC ('1.8-7.7', CG0180-CG0183)
    text_range = lb.get("LBSTNRC", pd.Series("", index=lb.index)).astype(str).str.extract(
        r"^\s*(-?[0-9.]+)\s*-\s*(-?[0-9.]+)\s*$")
    low = low.fillna(pd.to_numeric(text_range[0], errors="coerce"))
    high = high.fillna(pd.to_numeric(text_range[1], errors="coerce"))
    censored = lb.get("LBSTRESC", pd.Series("", index=lb.index)).astype(str).str.extract(
        r"^\s*(<=?|>=?)\s*([0-9]*\.?[0-9]+)\s*$")
    op, limit = censored[0].fillna(""), pd.to_numeric(censored[1], errors="coerce")
    below = value.isna() & (((op == "<") & (limit <= low)) | ((op == "<=") & (limit < low)))
    above = value.isna() & (((op == ">") & (limit >= high)) | ((op == ">=") & (limit > high)))
    bad = ((lb["LBNRIND"] == "LOW") & ~((value < low) | below)) | \
        ((lb["LBNRIND"] == "HIGH") & ~((value > high) | above)) | \
        ((lb["LBNRIND"] == "NORMAL") & ((value < low) | (value > high) | value.isna()))
    return _finding(rule, "LB", "LBNRIND", bad, lb["LBNRIND"],
                    "LBNRIND inconsistent with LBSTRESN (or a censored LBSTRESC) and the "
                    "standard range")


def rs_response_codelist(rule: Rule, pkg: Package) -> list[Finding]:
    from cdisc.specs import load_specs

    rs = pkg.get("RS")
    if "RSSTRESC" not in rs.columns:
        return []
    terms = set(load_specs().codelist("ONCRSR").terms)
    ovr = rs.get("RSTESTCD", pd.Series("OVRLRESP", index=rs.index)) == "OVRLRESP"
    bad = ovr & (rs["RSSTRESC"] != "") & ~rs["RSSTRESC"].isin(terms)
    return _finding(rule, "RS", "RSSTRESC", bad, rs["RSSTRESC"],
                    "overall response not in the ONCRSR codelist (C96785)")


def rs_one_per_date(rule: Rule, pkg: Package) -> list[Finding]:
    rs = pkg.get("RS")
    keys = [c for c in ("USUBJID", "RSTESTCD", "RSEVAL", "RSDTC") if c in rs.columns]
    if "RSDTC" not in keys:
        return []
    ovr = rs.get("RSTESTCD", pd.Series("OVRLRESP", index=rs.index)) == "OVRLRESP"
    dup = ovr & rs.duplicated(keys, keep=False)
    return _finding(rule, "RS", "RSDTC", dup, rs["RSDTC"],
                    "more than one overall response per subject and assessment date")


# --- ADaM ------------------------------------------------------------------------------------

def adsl_subjects(rule: Rule, pkg: Package) -> list[Finding]:
    adsl = pkg.get("ADSL")
    out = _finding(rule, "ADSL", "USUBJID", adsl["USUBJID"].duplicated(keep=False),
                   adsl["USUBJID"], "more than one ADSL record for a subject")
    dm = pkg.get("DM")
    if dm is not None:
        out += _finding(rule, "ADSL", "USUBJID", ~adsl["USUBJID"].isin(dm["USUBJID"]),
                        adsl["USUBJID"], "ADSL subject not in DM")
    return out


def adtte_structure(rule: Rule, pkg: Package) -> list[Finding]:
    t = pkg.get("ADTTE")
    out = _finding(rule, "ADTTE", "PARAMCD", t.duplicated(["USUBJID", "PARAMCD"], keep=False),
                   t["PARAMCD"], "more than one record per subject and PARAMCD")
    cnsr = pd.to_numeric(t["CNSR"], errors="coerce")
    out += _finding(rule, "ADTTE", "CNSR", cnsr.isna() | (cnsr < 0) | (cnsr % 1 != 0),
                    t["CNSR"], "CNSR must be 0 (event) or a positive integer")
    aval = pd.to_numeric(t["AVAL"], errors="coerce")
    out += _finding(rule, "ADTTE", "AVAL", aval < 0, t["AVAL"], "AVAL is negative")
    if {"ADT", "STARTDT"} <= set(t.columns):
        adt, start = t["ADT"].astype(float), t["STARTDT"].astype(float)
        out += _finding(rule, "ADTTE", "ADT", adt < start, t["ADT"], "ADT is before STARTDT")
        out += _finding(rule, "ADTTE", "AVAL", adt.notna() & (aval != adt - start + 1),
                        t["AVAL"], "AVAL differs from ADT - STARTDT + 1")
    if "EVNTDESC" in t.columns:
        out += _finding(rule, "ADTTE", "EVNTDESC", (cnsr == 0) & (t["EVNTDESC"] == ""),
                        t["EVNTDESC"], "event record (CNSR = 0) without EVNTDESC")
    return out


# --- dataset level -----------------------------------------------------------------------------

def xpt_conventions(rule: Rule, pkg: Package) -> list[Finding]:
    out = []
    for name, table in pkg.tables.items():
        df = table.data
        if len(name) > 8:
            out.append(Finding(rule.id, rule.severity, name, None,
                               "dataset name longer than 8 characters", 1))
        if len(table.label) > 40:
            out.append(Finding(rule.id, rule.severity, name, None,
                               f"dataset label longer than 40 characters: {table.label!r}", 1))
        if df.empty:
            out.append(Finding(rule.id, "warning", name, None, "dataset has no records", 1))
        for col in df.columns:
            label = table.column_labels.get(col, "")
            if len(col) > 8:
                out.append(Finding(rule.id, rule.severity, name, col,
                                   "variable name longer than 8 characters", 1))
            if len(label) > 40:
                out.append(Finding(rule.id, rule.severity, name, col,
                                   f"variable label longer than 40 characters: {label!r}", 1))
            if df[col].dtype == object:
                out += _text_limits(rule, name, col, df[col])
    return out


def _text_limits(rule: Rule, name: str, col: str, values: pd.Series) -> list[Finding]:
    """> 200 bytes and non-ASCII text, checked on the distinct values (far fewer than rows)."""
    distinct = pd.unique(values.astype(str))
    long = {v for v in distinct if len(v) > 200 or len(v.encode("utf-8")) > 200}
    foreign = {v for v in distinct if not v.isascii()}
    out: list[Finding] = []
    if long:
        out += _finding(rule, name, col, values.isin(long), values,
                        f"{col}: value longer than 200 bytes")
    if foreign:
        out += _finding(rule, name, col, values.isin(foreign), values, f"{col}: non-ASCII text")
    return out


def variable_order(rule: Rule, pkg: Package) -> list[Finding]:
    from cdisc.errors import SpecError
    from cdisc.specs import load_specs

    specs = load_specs()
    out = []
    for name, table in pkg.tables.items():
        try:
            ds = specs.dataset(name)
        except SpecError:
            continue
        if ds.standard != "SDTMIG":
            continue
        order = {v: i for i, v in enumerate(ds.variable_names)}
        known = [c for c in table.data.columns if c in order]
        if known != sorted(known, key=order.__getitem__):
            out.append(Finding(rule.id, rule.severity, name, None,
                               "variables are not in SDTMIG order: " + " ".join(known), 1))
    return out


def define_schema(rule: Rule, pkg: Package) -> list[Finding]:
    from cdisc.define import validate_define
    from cdisc.paths import SPECS_DIR

    assert pkg.define is not None
    errors = validate_define(pkg.define.read_bytes(), SPECS_DIR / "define-xml-2.1")
    return [Finding(rule.id, rule.severity, "DEFINE", None, f"define.xml schema: {e}", 1)
            for e in errors[:MAX_ROWS]]


def _define_metadata(pkg: Package) -> tuple[dict[str, set[str]], dict[tuple[str, str], set[str]]]:
    """(dataset -> variables described, (dataset, variable) -> codelist values) of define.xml."""
    from lxml import etree

    from cdisc.define import NSMAP, safe_parser

    ns = {"odm": NSMAP[None]}
    assert pkg.define is not None
    root = etree.parse(str(pkg.define), safe_parser()).getroot()
    items = {i.get("OID"): i for i in root.iter(f"{{{ns['odm']}}}ItemDef")}
    lists = {c.get("OID"): {e.get("CodedValue") for e in c
                            if e.tag.endswith("EnumeratedItem") or e.tag.endswith("CodeListItem")}
             for c in root.iter(f"{{{ns['odm']}}}CodeList")}
    described: dict[str, set[str]] = {}
    values: dict[tuple[str, str], set[str]] = {}
    for group in root.iter(f"{{{ns['odm']}}}ItemGroupDef"):
        name = group.get("Name", "")
        described[name] = set()
        for ref in group.findall("odm:ItemRef", ns):
            item = items.get(ref.get("ItemOID"))
            if item is None:
                continue
            described[name].add(item.get("Name"))
            cl = item.find("odm:CodeListRef", ns)
            if cl is not None and cl.get("CodeListOID") in lists:
                values[(name, item.get("Name"))] = lists[cl.get("CodeListOID")]
    return described, values


def define_describes_package(rule: Rule, pkg: Package) -> list[Finding]:
    described, _ = _define_metadata(pkg)
    out = []
    for name, table in pkg.tables.items():
        if name not in described:
            out.append(Finding(rule.id, rule.severity, name, None,
                               "dataset not described in define.xml", 1))
            continue
        for col in table.data.columns:
            if col not in described[name]:
                out.append(Finding(rule.id, rule.severity, name, col,
                                   f"{col} not described in define.xml", 1))
    return out


def define_codelist_values(rule: Rule, pkg: Package) -> list[Finding]:
    _, values = _define_metadata(pkg)
    out = []
    for (name, col), allowed in values.items():
        df = pkg.get(name)
        if df is None or col not in df.columns:
            continue
        outside = set(pd.unique(df[col].astype(str))) - allowed - {""}
        if outside:
            text = df[col].astype(str)
            out += _finding(rule, name, col, text.isin(outside), text,
                            f"{col}: value not in its define.xml CodeList")
    return out


RULES = [
    Rule("CD0001", "error", "every USUBJID of every dataset is in DM", usubjid_in_dm, ("DM",)),
    Rule("CD0002", "error", "DM has one record per subject", dm_one_record_per_subject,
         ("DM",)),
    Rule("CD0003", "error", "--SEQ is a whole number >= 1, unique within USUBJID", seq_unique,
         ("*",)),
    Rule("CD0004", "error", "--DY is the study day of --DTC relative to DM.RFSTDTC",
         study_day_matches, ("DM",)),
    Rule("CD0005", "error", "--STDTC is not after --ENDTC", start_before_end, ("*",)),
    Rule("CD0006", "error", "DTHFL is Y or null, and Y when DTHDTC is populated", death_flag,
         ("DM",)),
    Rule("CD0007", "error", "ARM/ARMCD and ACTARM/ACTARMCD pairs are one to one", arm_pairs,
         ("DM",)),
    Rule("CD0008", "error", "treated subjects (ACTARMCD) have EX records and vice versa",
         actarm_matches_exposure, ("DM", "EX")),
    Rule("CD0009", "error", "AESER = Y needs a seriousness criterion", serious_needs_criterion,
         ("AE",)),
    Rule("CD0010", "error", "AETOXGR is 1 to 5", toxgr_range, ("AE",)),
    Rule("CD0011", "warning", "no AEENDTC while AEOUT says ongoing", ongoing_has_no_end,
         ("AE",)),
    Rule("CD0012", "error", "EXSTDTC within [RFXSTDTC, RFXENDTC]", exposure_within_reference,
         ("DM", "EX")),
    Rule("CD0013", "error", "LBSTRESN equals the numeric LBSTRESC", lb_numeric_result, ("LB",)),
    Rule("CD0014", "error", "LBNRIND consistent with the standard range", lb_nrind, ("LB",)),
    Rule("CD0015", "error", "overall responses are ONCRSR terms", rs_response_codelist,
         ("RS",)),
    Rule("CD0016", "error", "one overall response per subject per assessment date",
         rs_one_per_date, ("RS",)),
    Rule("CD0017", "error", "ADSL one record per subject, every subject in DM", adsl_subjects,
         ("ADSL",)),
    Rule("CD0018", "error", "ADTTE structure, CNSR, AVAL = ADT - STARTDT + 1, EVNTDESC",
         adtte_structure, ("ADTTE",)),
    Rule("CD0019", "error", "XPT v5 names, labels, lengths, ASCII; no empty dataset",
         xpt_conventions, ("*",)),
    Rule("CD0020", "warning", "variables in SDTMIG order", variable_order, ("*",)),
    Rule("CD0021", "error", "define.xml is valid Define-XML 2.1", define_schema, ("DEFINE",)),
    Rule("CD0022", "error", "every dataset and variable is described in define.xml",
         define_describes_package, ("DEFINE",)),
    Rule("CD0023", "error", "every value of a codelist variable is in its define CodeList",
         define_codelist_values, ("DEFINE",)),
]


def applicable(rule: Rule, pkg: Package) -> bool:
    for need in rule.needs:
        if need == "DEFINE" and pkg.define is None:
            return False
        if need not in ("*", "DEFINE") and need not in pkg.tables:
            return False
    return True


def run_rules(pkg: Package) -> tuple[list[Finding], list[str]]:
    """(findings, ids of rules that could not run here with the reason)."""
    findings, skipped = [], []
    for rule in RULES:
        if not applicable(rule, pkg):
            skipped.append(f"{rule.id} not run: needs {', '.join(rule.needs)}")
            continue
        findings += rule.check(rule, pkg)
    return findings, skipped
