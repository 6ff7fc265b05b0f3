"""Derivations every SDTM domain shares: USUBJID, --SEQ, --DY, EPOCH.

Each function takes a table and returns the derived column; each has a METHODS entry, the
text define.xml shows for it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc import dates
from cdisc.column_codes import value_codes
from cdisc.distinct import on_distinct, on_distinct_rows
from cdisc.errors import SpecError
from cdisc.text import text_column

METHODS = {
    "STNRC": "For results that are not a continuous number (e.g. '<0.1'), the standard "
             "reference range as text (low-high); the numeric ranges are left null there "
             "(CDISC CG0180-CG0183). LBNRIND and LBTOXGR were derived from the range first.",
    "USUBJID": "STUDYID and the subject identifier of the raw export joined by the study's "
               "template (by default STUDYID-SUBJID): unique across the submission.",
    "SEQ": "Sequential number 1..n within USUBJID after sorting the subject's records by the "
           "dataset keys, then by source file and row (stable for reordered input).",
    "VISIT": "The planned visit's name from the visit table; an unscheduled visit is "
             "UNSCHEDULED followed by its VISITNUM (e.g. UNSCHEDULED 9.01).",
    "DY": "Study day of the date relative to DM.RFSTDTC: date - RFSTDTC + 1 on or after "
          "RFSTDTC, date - RFSTDTC before it (no day 0); null when either date is partial.",
    "LOBXFL": "Y on the last record with a result on or before DM.RFXSTDTC (first exposure) per "
              "subject, test, specimen and method; date/times compared when both have a time, "
              "else dates; on a tie the record with the higher --SEQ.",
    "EPOCH": "The epoch whose window (given in this variable's comment) holds the record's "
             "start date, the first window that does when several could; a partial date is "
             "placed only when every day it can be falls in one window, else EPOCH is null; "
             "null also for a date before every window.",
}


def derive_usubjid(studyid: str, subject: pd.Series,
                   template: str = "{STUDYID}-{SUBJECT}") -> pd.Series:
    """USUBJID from the study's template; {STUDYID} and {SUBJECT} (the raw subject id) are the
    only fields (plain text substitution, nothing evaluated)."""
    head, _, tail = template.replace("{STUDYID}", studyid).partition("{SUBJECT}")
    return on_distinct(lambda s: (head + s.astype(str) + tail).astype(object), subject)


def derive_seq(df: pd.DataFrame, sort_by: list[str], n_keys: int | None = None) -> pd.Series:
    """1..n per USUBJID in the order of sort_by (which must start with USUBJID).

    With n_keys, the first n_keys columns usually decide the order alone: rows are sorted by
    them, and only rows tied on all of them are sorted by the full list (same order as one
    full sort, without sorting millions of rows by every column)."""
    if n_keys is None or n_keys >= len(sort_by):
        order = df.sort_values(sort_by, kind="stable").index
    else:
        keys = sort_by[:n_keys]
        found = sorted_positions(df, keys)
        if found is None:
            # sorting the key columns alone: sorting df would copy every column of it
            order = df[keys].sort_values(keys, kind="stable").index.to_numpy().copy()
            tied = df.duplicated(keys, keep=False).to_numpy()
        else:
            positions, tied = found
            order = df.index.to_numpy()[positions]
        if tied.any():
            # tie groups are contiguous in key order: refill their slots in full order
            slots = np.flatnonzero(tied[df.index.get_indexer(order)])
            order[slots] = df[tied].sort_values(sort_by, kind="stable").index.to_numpy()
    seq = pd.Series(1.0, index=order).groupby(df.loc[order, "USUBJID"].to_numpy(),
                                              sort=False).cumcount() + 1
    return seq.reindex(df.index).astype("float64")


def sort_codes(values: pd.Series) -> np.ndarray | None:
    """One integer per row, ordered as sort_values orders the values (equal values one
    code, NaN last); None unless the column is float64 or object of str only."""
    found = value_codes(values)
    if found is None:
        return None
    rank = np.empty(len(found), dtype=np.int64)
    rank[np.argsort(values.to_numpy()[found.first], kind="stable")] = np.arange(len(found))
    return rank[found.codes]


def sorted_positions(df: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """(the row positions of df.sort_values(by, kind="stable"), whether each row ties
    another on every column of by), from each column's sort codes: sorting one integer per
    row instead of comparing str. None when a column is neither float64 nor str only."""
    combined = np.zeros(len(df), dtype=np.int64)
    size = 1
    for name in by:
        codes = sort_codes(df[name])
        if codes is None:
            return None
        count = int(codes.max()) + 1 if len(codes) else 1  # codes 0..count-1, all used
        if size * count >= 2 ** 62:  # renumbered in order, so the product stays in int64
            _, combined = np.unique(combined, return_inverse=True)
            size = int(combined.max()) + 1
        combined = combined * count + codes
        size *= count
    positions = np.argsort(combined, kind="stable")
    in_order = combined[positions]
    same_as_next = np.zeros(len(df), dtype=bool)
    np.equal(in_order[1:], in_order[:-1], out=same_as_next[:-1])
    tied_in_order = same_as_next.copy()
    tied_in_order[1:] |= same_as_next[:-1]
    tied = np.empty(len(df), dtype=bool)
    tied[positions] = tied_in_order
    return positions, tied


def derive_study_day(dtc: pd.Series, usubjid: pd.Series, rfstdtc: pd.Series) -> pd.Series:
    """--DY of each record from the subject's DM.RFSTDTC (rfstdtc is indexed by USUBJID): as
    dates.study_day, with the record's date read once per distinct date and the reference
    once per subject (not once per distinct pair: pairing millions of rows costs more)."""
    return dates.study_day_of(dates.iso_to_date(dtc),
                              on_distinct(_reference_day, usubjid, rfstdtc))


def _reference_day(usubjid: pd.Series, rfstdtc: pd.Series) -> pd.Series:
    return dates.iso_to_date(usubjid.map(rfstdtc).fillna(""))


def _bound_text(spec: object) -> str:
    if isinstance(spec, dict):
        days = int(spec.get("days", 0))
        return f"DM.{spec['reference']}" + (f" + {days} days" if days else "")
    return f"DM.{spec}"


def epoch_rules_text(rules: list[dict]) -> str:
    """The study's epoch windows in words, for define.xml: 'SCREENING: before DM.RFXSTDTC;
    TREATMENT: from DM.RFXSTDTC through DM.RFSTDTC + 28 days; ...'."""
    parts = []
    for rule in rules:
        bounds = [f"{word} {_bound_text(rule[word])}" for word in
                  ("before", "from", "through", "after") if word in rule]
        parts.append(f"{rule['epoch']}: {' '.join(bounds)}")
    return ("Epoch windows, by the record's start date (--STDTC, else --DTC; dates compared "
            "as days): " + "; ".join(parts) + ".")


def _bound_variable(spec: object) -> object:
    """The DM variable a window bound refers to (what _reference reads), else the bound."""
    if isinstance(spec, dict):
        return spec.get("reference")
    return spec if isinstance(spec, str) else None


def _reference(dm_dates: dict[str, pd.Series], spec: object) -> tuple[pd.Series, int]:
    """A window bound: a DM date variable (already per record) plus an offset in days."""
    if isinstance(spec, str):
        var, days = spec, 0
    elif isinstance(spec, dict) and "reference" in spec:
        var, days = spec["reference"], int(spec.get("days", 0))
    else:
        raise SpecError(f"epoch bound must be a DM variable or {{reference, days}}, got {spec}")
    if var not in dm_dates:
        raise SpecError(f"epoch bound refers to {var}, which is not a DM date variable")
    return dm_dates[var], days


def derive_epoch(start_dtc: pd.Series, usubjid: pd.Series, dm: pd.DataFrame,
                 rules: list[dict]) -> pd.Series:
    """EPOCH from the first rule whose window holds the record's start date. A partial date
    (2021-02) is placed when every day it can be falls in one window; otherwise it stays
    empty. A window bounded by a reference date the subject does not have is open on that
    side (a subject never treated is in SCREENING for good)."""
    records = pd.DataFrame({"dtc": start_dtc, "usubjid": usubjid}, copy=False)
    # computed once per subject and date: a lab domain repeats each pair for every test
    return on_distinct_rows(lambda r: _epoch(r["dtc"], r["usubjid"], dm, rules), records)


def _epoch(start_dtc: pd.Series, usubjid: pd.Series, dm: pd.DataFrame,
           rules: list[dict]) -> pd.Series:
    lo, hi = dates.iso_bounds(start_dtc)
    by_subject = dm.set_index("USUBJID")
    # only the DM dates a window is bounded by (a missing one is _reference's error)
    used = {_bound_variable(rule[bound]) for rule in rules
            for bound in ("before", "from", "through", "after") if bound in rule}
    # reindex, not map: an empty DM still gives datetime NaT per record
    dm_dates = {c: pd.Series(dates.iso_to_date(by_subject[c]).dt.normalize()
                             .reindex(usubjid).to_numpy(), index=usubjid.index)
                for c in dm.columns if c.endswith("DTC") and c in used}
    epoch = pd.Series("", index=start_dtc.index, dtype=object)
    open_rows = lo.notna()
    for rule in rules:
        match = open_rows & _in_window(lo, dm_dates, rule) & _in_window(hi, dm_dates, rule)
        epoch = epoch.mask(match, str(rule["epoch"]))
        # a date that starts in this window but may end past it is placed nowhere
        open_rows &= ~(match | _in_window(lo, dm_dates, rule))
    return epoch


def _in_window(when: pd.Series, dm_dates: dict[str, pd.Series], rule: dict) -> pd.Series:
    """Whether each day lies in the rule's window (before/from/through/after a reference)."""
    match = when.notna()
    for bound in ("before", "from", "through", "after"):
        if bound not in rule:
            continue
        ref, days = _reference(dm_dates, rule[bound])
        limit = ref + pd.to_timedelta(days, unit="D")
        if bound == "before":  # no reference yet (never treated): still before it
            match &= limit.isna() | (when < limit)
        elif bound == "from":
            match &= limit.notna() & (when >= limit)
        elif bound == "through":  # an unknown end leaves the window open
            match &= limit.isna() | (when <= limit)
        else:
            match &= limit.notna() & (when > limit)
    return match


def study_day_pairs(columns: list[str], has_variable) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(--DTC, --DY) pairs: each date variable whose study-day variable the IG defines."""
    pairs = []
    for col in columns:
        if col.endswith("DTC") and col not in ("RFSTDTC",):
            dy = col[:-3] + "DY"
            if has_variable(dy):
                pairs.append((col, dy))
    return pairs


def start_date_column(columns: list[str], domain: str) -> str | None:
    for name in (f"{domain}STDTC", f"{domain}DTC"):
        if name in columns:
            return name
    return None






def derive_unscheduled_visitnum(table: pd.DataFrame, date_col: str,
                                unscheduled: str = "UNSCHEDULED") -> pd.Series:
    """VISITNUM of unscheduled visits: the subject's latest planned VISITNUM on or before the
    visit date (in this domain) plus 0.01 per distinct unscheduled date after it (SDTMIG)."""
    visitnum = table["VISITNUM"].astype("float64").copy()
    todo = (table["VISIT"] == unscheduled) & visitnum.isna()
    when = dates.iso_to_date(table[date_col])
    todo &= when.notna()
    if not todo.any():
        return visitnum
    subject = table["USUBJID"].astype(object)
    planned = pd.DataFrame({"USUBJID": subject, "when": when, "num": visitnum})
    planned = planned[planned["num"].notna() & planned["when"].notna()]
    planned = planned.groupby(["USUBJID", "when"], as_index=False)["num"].max()
    planned["USUBJID"] = planned["USUBJID"].astype(object)
    planned["num"] = planned.groupby("USUBJID")["num"].cummax()
    visits = pd.DataFrame({"USUBJID": subject[todo], "when": when[todo],
                           "row": table.index[todo]})
    distinct = visits.drop_duplicates(["USUBJID", "when"]).sort_values("when")
    based = pd.merge_asof(distinct, planned.sort_values("when"), on="when", by="USUBJID",
                          direction="backward")
    based["num"] = based["num"].fillna(0.0)
    based["k"] = based.sort_values("when").groupby(["USUBJID", "num"]).cumcount() + 1
    based["visitnum"] = (based["num"].round(0) + 0.01 * based["k"]).round(2)
    values = visits.merge(based[["USUBJID", "when", "visitnum"]], on=["USUBJID", "when"])
    visitnum.loc[values["row"].to_numpy()] = values["visitnum"].to_numpy()
    return visitnum


def derive_unscheduled_visit(visit: pd.Series, visitnum: pd.Series,
                             unscheduled: str = "UNSCHEDULED") -> pd.Series:
    """VISIT of an unscheduled visit names its number ("UNSCHEDULED 9.01"), so that one VISIT
    is one VISITNUM (CDISC CORE-000361)."""
    hit = (visit == unscheduled) & visitnum.notna()
    if not hit.any():
        return visit
    names = {n: f"{unscheduled} {n:.2f}" for n in visitnum[hit].unique()}
    return visit.mask(hit, visitnum[hit].map(names)).astype(object)


def derive_last_obs_before_exposure(table: pd.DataFrame, dm: pd.DataFrame, date_col: str,
                                    result_col: str, by: list[str],
                                    reference: str = "RFXSTDTC",
                                    seq_col: str = "LBSEQ") -> pd.Series:
    """--LOBXFL: "Y" on the last record with a result dated on or before the subject's first
    exposure (DM.RFXSTDTC), per subject and `by` group. Compared on full date/times when both
    have a time, else on dates (a same-day sample of unknown time counts as before)."""
    # each part computed once per distinct date text and per subject, not per record
    by_subject = dm.set_index("USUBJID")[reference]
    ref = on_distinct(lambda u: _date_parts(u.map(by_subject).fillna("").astype(str)),
                      table["USUBJID"])
    dtc = on_distinct(lambda v: _date_parts(v.astype(str)), table[date_col])
    both_timed = dtc["timed"] & ref["timed"]
    when = dtc["at_time"].where(both_timed, dtc["on_day"])
    limit = ref["at_time"].where(both_timed, ref["on_day"])
    has_result = on_distinct(lambda v: v.astype(str).str.strip() != "", table[result_col])
    eligible = has_result & when.notna() & limit.notna() & (when <= limit)
    tie = table[seq_col] if seq_col in table else pd.Series(0.0, index=table.index)
    candidates = table.loc[eligible, ["USUBJID", *by]].assign(__when=when[eligible],
                                                               __tie=tie[eligible])
    flag = pd.Series("", index=table.index, dtype=object)
    if candidates.empty:
        return flag
    # latest date wins; records on the same date/time: the higher --SEQ wins
    last = candidates.sort_values(["__when", "__tie"], kind="stable").groupby(
        ["USUBJID", *by], sort=False, dropna=False).tail(1).index
    flag.loc[last] = "Y"
    return flag


def _date_parts(text: pd.Series) -> pd.DataFrame:
    """Whether ISO 8601 text has a time, the date/time it gives and the date alone (NaT unless
    it holds a full date)."""
    full_date = text.str.match(r"\d{4}-\d{2}-\d{2}").astype(bool)
    return pd.DataFrame({
        "timed": text.str.contains("T").astype(bool),
        "at_time": pd.to_datetime(text.where(full_date, None), errors="coerce", format="ISO8601"),
        "on_day": pd.to_datetime(text.str[:10].where(full_date, None), errors="coerce",
                                 format="ISO8601")}, index=text.index)


CONTINUOUS = r"^-?(\d+(\.\d+)?$)|(\.\d+$)"  # a plain number, as CDISC rules CG0180-CG0183 test


def derive_noncontinuous_ranges(table: pd.DataFrame, domain: str
                                ) -> tuple[pd.DataFrame, dict[str, str]]:
    """Records whose --ORRES is not a continuous number ('<0.1') carry no numeric reference
    range (CDISC CG0180-CG0183): --ORNRLO/--ORNRHI/--STNRLO/--STNRHI are cleared there and the
    standard range moves to --STNRC as text ('1.8-7.7'). Run after --NRIND and the toxicity
    grade, which use the range first. Returns the table and the define methods it changed."""
    orres = text_column(table[f"{domain}ORRES"])
    noncontinuous = (orres != "") & ~on_distinct(lambda v: v.str.match(CONTINUOUS), orres)
    if not noncontinuous.any():
        return table, {}
    lo, hi = f"{domain}STNRLO", f"{domain}STNRHI"
    rows = table.index[noncontinuous]  # a few records: the range text only for them
    text = _range_text(table[lo].loc[rows] if lo in table else None,
                       table[hi].loc[rows] if hi in table else None, rows)
    stnrc = f"{domain}STNRC"
    current = table[stnrc] if stnrc in table else pd.Series("", index=table.index, dtype=object)
    current = current.astype(object).copy()
    current.loc[rows] = current.loc[rows].mask(text != "", text)
    table[stnrc] = current
    for col in (f"{domain}ORNRLO", f"{domain}ORNRHI"):
        if col in table:
            table[col] = table[col].astype(object).mask(noncontinuous, "")
    for col in (lo, hi):
        if col in table:
            table[col] = table[col].mask(noncontinuous, np.nan)
    return table, {stnrc: METHODS["STNRC"]}


def _range_text(low: pd.Series | None, high: pd.Series | None, index: pd.Index) -> pd.Series:
    def text(values: pd.Series | None) -> pd.Series:
        if values is None:
            return pd.Series("", index=index, dtype=object)
        return values.map(lambda v: "" if pd.isna(v) else
                          np.format_float_positional(float(v), trim="-")).astype(object)
    lo, hi = text(low), text(high)
    both = (lo != "") & (hi != "")
    out = pd.Series("", index=index, dtype=object)
    out = out.mask(both, lo + "-" + hi)
    out = out.mask((lo != "") & (hi == ""), ">=" + lo)
    return out.mask((lo == "") & (hi != ""), "<=" + hi)


DERIVATIONS = {"last_observation_before_exposure", "noncontinuous_ranges"}
