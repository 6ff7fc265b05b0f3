"""The checks our own rules need that CORE's rule schema cannot say (validation/rules/own.yaml
names them with `python:`), as vectorised pandas. Each takes the rule and the package (the
datasets of the rule's standard, or of the whole submission) and returns findings; a check
whose datasets or variables are absent raises Skip with the reason."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from cdisc import dates
from cdisc.validate.core.catalogue import Rule
from cdisc.validate.core.codes import factorize as column_factorize
from cdisc.validate.core.engine import Skip
from cdisc.validate.model import MAX_RECORDS, MAX_ROWS, Finding, Record
from cdisc.validate.package import Package


def _finding(rule: Rule, dataset: str, variable: str | None, mask: pd.Series,
             values: pd.Series | None, message: str | None = None) -> list[Finding]:
    """One finding for the rows where mask is True (nothing when none is)."""
    hits = np.flatnonzero(np.asarray(mask, dtype=bool))
    if len(hits) == 0:
        return []
    kept = hits[:MAX_RECORDS]
    vals = [str(v) for v in values.iloc[kept]] if values is not None else [""] * len(kept)
    records = tuple(Record(int(i) + 1, value=v) for i, v in zip(kept, vals, strict=True))
    return [Finding(rule.core_id, rule.severity, dataset, variable, message or rule.message,
                    int(len(hits)), tuple(int(i) + 1 for i in kept[:MAX_ROWS]),
                    tuple(vals[:MAX_ROWS]) if values is not None else (), rule.reference,
                    records)]


def _need(pkg: Package, *names: str) -> list[pd.DataFrame]:
    frames = [pkg.get(n) for n in names]
    missing = [n for n, f in zip(names, frames, strict=True) if f is None]
    if missing:
        raise Skip(f"needs dataset {', '.join(missing)}")
    return frames  # type: ignore[return-value]


def _need_columns(name: str, frame: pd.DataFrame, *columns: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise Skip(f"{name} has no {', '.join(missing)}")


# --- subjects --------------------------------------------------------------------------------

def actarm_matches_exposure(rule: Rule, pkg: Package) -> list[Finding]:
    dm, ex = _need(pkg, "DM", "EX")
    _need_columns("DM", dm, "ACTARMCD")
    exposed = set(ex["USUBJID"])
    treated = dm["ACTARMCD"] != ""
    out = _finding(rule, "DM", "ACTARMCD", treated & ~dm["USUBJID"].isin(exposed),
                   dm["ACTARMCD"], "ACTARMCD is populated but the subject has no EX record")
    return out + _finding(rule, "DM", "ACTARMCD", ~treated & dm["USUBJID"].isin(exposed)
                          & (dm.get("ARMNRS", "") == ""), dm["USUBJID"],
                          "the subject has EX records but neither ACTARMCD nor ARMNRS")


# --- EX --------------------------------------------------------------------------------------

def exposure_within_reference(rule: Rule, pkg: Package) -> list[Finding]:
    dm, ex = _need(pkg, "DM", "EX")
    _need_columns("DM", dm, "RFXSTDTC", "RFXENDTC")
    _need_columns("EX", ex, "EXSTDTC")
    ref = dm.drop_duplicates("USUBJID").set_index("USUBJID")
    start = dates.iso_to_date(ex["USUBJID"].map(ref["RFXSTDTC"]).fillna(""))
    end = dates.iso_to_date(ex["USUBJID"].map(ref["RFXENDTC"]).fillna(""))
    when = dates.iso_to_date(ex["EXSTDTC"])
    bad = when.notna() & ((start.notna() & (when < start)) | (end.notna() & (when > end)))
    return _finding(rule, "EX", "EXSTDTC", bad, ex["EXSTDTC"],
                    "EXSTDTC outside [DM.RFXSTDTC, DM.RFXENDTC]")


def lb_nrind(rule: Rule, pkg: Package) -> list[Finding]:
    (lb,) = _need(pkg, "LB")
    _need_columns("LB", lb, "LBNRIND", "LBSTRESN", "LBSTNRLO", "LBSTNRHI")
    value = _numbers(lb["LBSTRESN"])
    low = _numbers(lb["LBSTNRLO"])
    high = _numbers(lb["LBSTNRHI"])
    # a censored result ('<0.1') has its range as text in LBSTNRC ('1.8-7.7', CG0180-CG0183)
    text_low, text_high = _parsed_per_row(lb.get("LBSTNRC", pd.Series("", index=lb.index)),
                                          r"^\s*(-?[0-9.]+)\s*-\s*(-?[0-9.]+)\s*$")
    low = np.where(np.isnan(low), text_low, low)
    high = np.where(np.isnan(high), text_high, high)
    op, limit = _parsed_per_row(lb.get("LBSTRESC", pd.Series("", index=lb.index)),
                                r"^\s*(<=?|>=?)\s*([0-9]*\.?[0-9]+)\s*$", numeric_first=False)
    with np.errstate(invalid="ignore"):  # NaN compares False, as in pandas
        no_value = np.isnan(value)
        below = no_value & (((op == "<") & (limit <= low)) | ((op == "<=") & (limit < low)))
        above = no_value & (((op == ">") & (limit >= high)) | ((op == ">=") & (limit > high)))
        indicator = lb["LBNRIND"]
        bad = (_equals(indicator, "LOW") & ~((value < low) | below)) | \
            (_equals(indicator, "HIGH") & ~((value > high) | above)) | \
            (_equals(indicator, "NORMAL") & ((value < low) | (value > high) | no_value))
    return _finding(rule, "LB", "LBNRIND", bad, indicator,
                    "LBNRIND inconsistent with LBSTRESN (or a censored LBSTRESC) and the "
                    "standard range")


def _numbers(values: pd.Series) -> np.ndarray:
    """pd.to_numeric(values, errors="coerce") as a float array (missing: NaN)."""
    numbers = pd.to_numeric(values, errors="coerce")
    return numbers.to_numpy(dtype=float, na_value=np.nan)


def _equals(values: pd.Series, text: str) -> np.ndarray:
    """values == text per row, compared once per distinct value."""
    codes, uniques = column_factorize(values)
    return np.fromiter((bool(u == text) for u in uniques), dtype=bool, count=len(uniques))[codes]


def _parsed_per_row(values: pd.Series, pattern: str,
                    numeric_first: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The pattern's two groups of each row's text (rows that do not match: NaN), worked out
    on the distinct values: the second group as a number, the first as a number too, or as
    text ("" when no match) when not numeric_first."""
    codes, uniques = column_factorize(values)
    groups = _extract(pd.Series(uniques, dtype=values.dtype if values.dtype.kind != "O"
                                else object), pattern)
    second = _numbers(groups[1])
    first = _numbers(groups[0]) if numeric_first else \
        groups[0].fillna("").to_numpy(dtype=object)
    return first[codes], second[codes]


def _extract(values: pd.Series, pattern: str) -> pd.DataFrame:
    return values.astype(str).str.extract(pattern)


def rs_response_codelist(rule: Rule, pkg: Package) -> list[Finding]:
    from cdisc.specs import load_specs

    (rs,) = _need(pkg, "RS")
    _need_columns("RS", rs, "RSSTRESC")
    terms = set(load_specs().codelist("ONCRSR").terms)
    ovr = rs.get("RSTESTCD", pd.Series("OVRLRESP", index=rs.index)) == "OVRLRESP"
    bad = ovr & (rs["RSSTRESC"] != "") & ~rs["RSSTRESC"].isin(terms)
    return _finding(rule, "RS", "RSSTRESC", bad, rs["RSSTRESC"],
                    "overall response not in the ONCRSR codelist (C96785)")


def adtte_aval_from_dates(rule: Rule, pkg: Package) -> list[Finding]:
    (t,) = _need(pkg, "ADTTE")
    _need_columns("ADTTE", t, "ADT", "STARTDT", "AVAL")
    adt, start = t["ADT"].astype(float), t["STARTDT"].astype(float)
    aval = pd.to_numeric(t["AVAL"], errors="coerce")
    out = _finding(rule, "ADTTE", "ADT", adt < start, t["ADT"], "ADT is before STARTDT")
    return out + _finding(rule, "ADTTE", "AVAL", adt.notna() & (aval != adt - start + 1),
                          t["AVAL"], "AVAL differs from ADT - STARTDT + 1")


def adam_study_day(rule: Rule, pkg: Package) -> list[Finding]:
    """ADY = ADT - TRTSDT + 1 on or after TRTSDT, ADT - TRTSDT before it (no day 0)."""
    out: list[Finding] = []
    for name, table in sorted(pkg.tables.items()):
        t = table.data
        if not {"ADY", "ADT", "TRTSDT"} <= set(t.columns):
            continue
        adt, ref = t["ADT"].astype(float), t["TRTSDT"].astype(float)
        expected = (adt - ref) + (adt >= ref)
        ady = pd.to_numeric(t["ADY"], errors="coerce")
        wrong = adt.notna() & ref.notna() & ady.notna() & (ady != expected)
        out += _finding(rule, name, "ADY", wrong, t["ADY"])
    return out


ADSL_FLAGS_YN = ("ITTFL", "SAFFL", "EFFFL", "FASFL", "PPROTFL", "COMPLFL", "RANDFL", "ENRLFL")


def adam_flag_values(rule: Rule, pkg: Package) -> list[Finding]:
    """*FL variables hold Y, N or null; ADSL population flags are Y or N (ADaMIG 3.1.4)."""
    out: list[Finding] = []
    for name, table in sorted(pkg.tables.items()):
        t = table.data
        for col in [c for c in t.columns if c.endswith("FL") and t[c].dtype == object]:
            allowed = ["Y", "N"] if name == "ADSL" and col in ADSL_FLAGS_YN else ["Y", "N", ""]
            bad = ~t[col].isin(allowed)
            out += _finding(rule, name, col, bad, t[col],
                            f"{col} is not {' or '.join(a or 'null' for a in allowed)}")
    return out


def adam_required_variables(rule: Rule, pkg: Package) -> list[Finding]:
    """Req variables of the ADaMIG v1.3 data structure of each dataset our specs know."""
    from cdisc.errors import SpecError
    from cdisc.specs import load_specs

    specs = load_specs()
    out: list[Finding] = []
    for name, table in sorted(pkg.tables.items()):
        try:
            spec = specs.dataset(name)
        except SpecError:
            continue
        missing = [v.name for v in spec.variables
                   if v.core == "Req" and v.name == v.name.upper()
                   and v.name not in table.data.columns]
        out += [Finding(rule.core_id, rule.severity, name, v, f"{v}: required variable is "
                        "missing", 1, reference=rule.reference) for v in missing]
    return out


def source_record_exists(rule: Rule, pkg: Package) -> list[Finding]:
    """SRCDOM / SRCVAR / SRCSEQ of every ADaM record name an SDTM record that exists."""
    out: list[Finding] = []
    for name, table in sorted(pkg.tables.items()):
        t = table.data
        if not name.startswith("AD") or not {"SRCDOM", "SRCSEQ", "USUBJID"} <= set(t.columns):
            continue
        has_source = (t["SRCDOM"].astype(str) != "") & t["SRCSEQ"].notna()
        bad = pd.Series(False, index=t.index)
        for dom in sorted(set(t.loc[has_source, "SRCDOM"].astype(str))):
            rows = has_source & (t["SRCDOM"] == dom)
            target = pkg.get(dom)
            seq = "ASEQ" if dom.startswith("AD") else f"{dom}SEQ"  # ADaM records: ASEQ
            if target is None or seq not in target.columns:
                bad |= rows
                continue
            found = _pairs_known(t.loc[rows, "USUBJID"], t.loc[rows, "SRCSEQ"].astype(float),
                                 target["USUBJID"], pd.to_numeric(target[seq], errors="coerce"))
            bad.loc[rows] = ~found
            if "SRCVAR" in t.columns:
                var_missing = rows & (t["SRCVAR"].astype(str) != "") & \
                    ~t["SRCVAR"].isin(list(target.columns))
                bad |= var_missing
        if bad.any():  # the values shown are made only for a finding
            out += _finding(rule, name, "SRCSEQ", bad, t["SRCDOM"].astype(str) + "." +
                            t["SRCSEQ"].map(lambda v: "" if v != v else str(int(v))))
    return out


def _pairs_known(subjects: pd.Series, seqs: pd.Series, known_subjects: pd.Series,
                 known_seqs: pd.Series) -> np.ndarray:
    """Whether each (subject, seq) row is one of the known (subject, seq) pairs (seqs are
    numbers, the query's never missing), by integer codes instead of a set of tuples."""
    subject_codes, _ = pd.factorize(np.concatenate([subjects.to_numpy(dtype=object),
                                                    known_subjects.to_numpy(dtype=object)]))
    if (subject_codes < 0).any():  # a missing subject: equal only to itself, as tuples have it
        known = set(zip(known_subjects, known_seqs, strict=True))
        return np.fromiter((p in known for p in zip(subjects, seqs, strict=True)),
                           dtype=bool, count=len(subjects))
    seq_codes, seq_values = pd.factorize(np.concatenate([seqs.to_numpy(dtype=float),
                                                         known_seqs.to_numpy(dtype=float)]))
    # a missing seq (-1) equals no number; one past the last code keeps keys apart
    key = subject_codes.astype(np.int64) * (len(seq_values) + 1) + seq_codes
    key[seq_codes < 0] = -1
    n = len(subjects)
    known_keys = key[n:]
    return np.isin(key[:n], known_keys[known_keys >= 0])


ADSL_FROM_DM = ("SITEID", "AGE", "AGEU", "SEX", "RACE", "ETHNIC", "ARM", "ARMCD", "ACTARM",
                "ACTARMCD", "COUNTRY", "DTHFL")


def adsl_matches_dm(rule: Rule, pkg: Package) -> list[Finding]:
    adsl, dm = _need(pkg, "ADSL", "DM")
    ref = dm.drop_duplicates("USUBJID").set_index("USUBJID")
    out: list[Finding] = []
    for col in [c for c in ADSL_FROM_DM if c in adsl.columns and c in dm.columns]:
        expected = adsl["USUBJID"].map(ref[col])
        given = adsl[col]
        if pd.api.types.is_numeric_dtype(given):
            differ = expected.notna() & ~np.isclose(given.astype(float),
                                                     expected.astype(float), equal_nan=True)
        else:
            differ = adsl["USUBJID"].isin(ref.index) & (given.astype(str) !=
                                                        expected.fillna("").astype(str))
        out += _finding(rule, "ADSL", col, differ, given.astype(str),
                        f"ADSL.{col} differs from DM.{col}")
    return out


def define_present(rule: Rule, pkg: Package) -> list[Finding]:
    if pkg.define is not None:
        return []
    return [Finding(rule.core_id, rule.severity, "DEFINE", None, rule.message, 1,
                    reference=rule.reference)]


# --- dataset level -----------------------------------------------------------------------------

def xpt_text_limits(rule: Rule, pkg: Package) -> list[Finding]:
    """XPT v5 / FDA TCG limits CORE has no rule for: dataset labels over 40 characters, text
    over 200 bytes, non-ASCII text."""
    out = []
    for name, table in sorted(pkg.tables.items()):
        if len(table.label) > 40:
            out.append(Finding(rule.core_id, rule.severity, name, None,
                               f"dataset label longer than 40 characters: {table.label!r}", 1,
                               reference=rule.reference))
        for col in table.data.columns:
            if table.data[col].dtype == object:
                out += _text_limits(rule, name, col, table.data[col])
    return out


def _text_limits(rule: Rule, name: str, col: str, values: pd.Series) -> list[Finding]:
    """> 200 bytes and non-ASCII text, checked on the distinct values (far fewer than rows)."""
    long, foreign = set(), set()
    for v in map(str, column_factorize(values)[1]):
        if v.isascii():  # one byte a character
            if len(v) > 200:
                long.add(v)
        else:
            foreign.add(v)
            if len(v) > 200 or len(v.encode("utf-8")) > 200:
                long.add(v)
    out: list[Finding] = []
    if long:
        out += _finding(rule, name, col, values.isin(long), values,
                        f"{col}: value longer than 200 bytes")
    if foreign:
        out += _finding(rule, name, col, values.isin(foreign), values, f"{col}: non-ASCII text")
    return out


def define_schema(rule: Rule, pkg: Package) -> list[Finding]:
    from cdisc.define import validate_define
    from cdisc.paths import SPECS_DIR

    if pkg.define is None:
        raise Skip("needs define.xml")
    errors = validate_define(pkg.define.read_bytes(), SPECS_DIR / "define-xml-2.1")
    return [Finding(rule.core_id, rule.severity, "DEFINE", None, f"define.xml schema: {e}", 1)
            for e in errors[:MAX_ROWS]]


def _define_metadata(pkg: Package) -> tuple[dict[str, set[str]], dict[tuple[str, str], set[str]]]:
    """(dataset -> variables described, (dataset, variable) -> codelist values) of define.xml."""
    from cdisc.validate.core.define_meta import read_define_meta

    assert pkg.define is not None
    meta = read_define_meta(pkg.define)
    described = {name: set(frame["define_variable_name"]) for name, frame in meta.groups.items()}
    return described, meta.codelist_values


def define_describes_package(rule: Rule, pkg: Package) -> list[Finding]:
    if pkg.define is None:
        raise Skip("needs define.xml")
    described, _ = _define_metadata(pkg)
    out = []
    for name, table in pkg.tables.items():
        if name not in described:
            out.append(Finding(rule.core_id, rule.severity, name, None,
                               "dataset not described in define.xml", 1))
            continue
        for col in table.data.columns:
            if col not in described[name]:
                out.append(Finding(rule.core_id, rule.severity, name, col,
                                   f"{col} not described in define.xml", 1))
    return out


def define_codelist_values(rule: Rule, pkg: Package) -> list[Finding]:
    if pkg.define is None:
        raise Skip("needs define.xml")
    _, values = _define_metadata(pkg)
    out = []
    for (name, col), allowed in values.items():
        df = pkg.get(name)
        if df is None or col not in df.columns:
            continue
        codes, text = _distinct_text(df[col])
        outside = set(text) - allowed - {""}
        if outside:
            rows = pd.Series(text.to_numpy(dtype=object)[codes], dtype=object, copy=False)
            out += _finding(rule, name, col, text.isin(outside).to_numpy()[codes], rows,
                            f"{col}: value not in its define.xml CodeList")
    return out


def _distinct_text(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(code per row, text of each distinct value): values.astype(str) is text[codes] (None
    and NaN, one distinct value, are both missing text)."""
    codes, uniques = column_factorize(values)
    distinct = pd.Series(uniques, dtype=values.dtype if values.dtype.kind != "O" else object)
    return codes, distinct.astype(str)


CHECKS: dict[str, Callable[[Rule, Package], list[Finding]]] = {
    f.__name__: f for f in (
        actarm_matches_exposure, exposure_within_reference, lb_nrind,
        rs_response_codelist, adtte_aval_from_dates, adam_study_day, adam_flag_values,
        adam_required_variables, source_record_exists, adsl_matches_dm, define_present,
        xpt_text_limits, define_schema, define_describes_package, define_codelist_values)}
