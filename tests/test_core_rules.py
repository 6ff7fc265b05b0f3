"""CORE catalogue rules (and our own rules in the same schema) on tiny hand-made packages.

Each case is one rule: a package that passes (status "passed", no findings) and one that
fails, with the failing rows derived by hand from the rule's text and the SDTMIG / ADaMIG
(the comment above each case states the derivation). Rows are the 1-based record numbers of
the dataset named; 0 is a dataset- or study-level result (metadata and presence checks).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from cdisc.validate.core.catalogue import load_catalogue
from cdisc.validate.core.runner import Submission, run_one
from cdisc.validate.package import Package, Table

RULES = {r.core_id: r for r in load_catalogue()}
STUDY = "S1"
NAN = math.nan


# --- building packages ---------------------------------------------------------------------------

def frame(columns: str, rows: list[tuple]) -> pd.DataFrame:
    """A dataset frame: numbers (None -> NaN) when every value of a column is a number, else
    text (None -> ""). Values beyond the named columns are left out (a record written once for a
    dataset with and without its last variable)."""
    names = columns.split()
    data: dict[str, list] = {}
    for i, name in enumerate(names):
        values = [r[i] for r in rows]
        present = [v for v in values if v is not None and not (isinstance(v, float) and v != v)]
        numeric = bool(present) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                        for v in present)
        data[name] = [float(v) if v is not None else NAN for v in values] if numeric else \
            ["" if v is None else str(v) for v in values]
    out = pd.DataFrame(data, columns=names)
    for name in names:
        if out[name].dtype != float:
            out[name] = out[name].astype(object)
    return out


def ds(name: str, columns: str, *rows: tuple, domain: str | None = "", study: bool = True,
       labels: dict | None = None, **table: object) -> Table:
    """A dataset; STUDYID and DOMAIN (the name's first two letters unless told) lead."""
    data = frame(columns, list(rows))
    lead = {}
    if study:
        lead["STUDYID"] = [STUDY] * len(rows)
    if domain is not None:
        lead["DOMAIN"] = [domain or name[:2]] * len(rows)
    data = pd.concat([pd.DataFrame(lead, dtype=object), data], axis=1) if lead else data
    column_labels = {c: c for c in data.columns} | (labels or {})
    return Table(name, data, f"{name} label", column_labels, f"{name.lower()}.xpt",
                 **table)  # type: ignore[arg-type]


def supp(name: str, *rows: tuple) -> Table:
    """SUPP-- rows: (RDOMAIN, USUBJID, IDVAR, IDVARVAL, QNAM, QLABEL, QVAL)."""
    return ds(name, "RDOMAIN USUBJID IDVAR IDVARVAL QNAM QLABEL QVAL QORIG", *[
        (*r, "CRF") for r in rows], domain=None)


def package(tables: tuple[Table, ...], define: Path | None = None) -> Package:
    return Package(Path("."), {t.name: t for t in tables}, define)


def S(*tables: Table, define: Path | None = None) -> Submission:  # noqa: N802
    return Submission(sdtm=package(tables, define))


def A(*tables: Table) -> Submission:  # noqa: N802
    return Submission(adam=package(tables))


def SA(sdtm: tuple[Table, ...], adam: tuple[Table, ...]) -> Submission:  # noqa: N802
    return Submission(sdtm=package(sdtm), adam=package(adam))


def dm(*rows: tuple, columns: str = "USUBJID RFSTDTC") -> Table:
    return ds("DM", columns, *rows)


def run(rule: str, submission: Submission):  # type: ignore[no-untyped-def]
    return run_one(RULES[rule], submission)


def failing_rows(findings) -> dict[str, list[int]]:  # type: ignore[no-untyped-def]
    out: dict[str, set[int]] = {}
    for f in findings:
        out.setdefault(f.dataset, set()).update(r.row for r in f.records)
    return {k: sorted(v) for k, v in out.items()}


# --- the cases -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    rule: str
    build: Callable[[bool, Path], Submission]  # (passing?, tmp folder) -> the package
    rows: dict[str, list[int]]  # the failing package's rows, by dataset
    name: str


CASES: list[Case] = []


def case(rule: str, rows: dict[str, list[int]], name: str = "") -> Callable:
    def register(build: Callable[[bool, Path], Submission]) -> Callable:
        CASES.append(Case(rule, build, rows, name or rule))
        return build
    return register


# ===== Record Data: special purpose (DM, SE, SV, CO) ==============================================

# DTHFL must be "Y" or null: row 2 holds "N".
@case("CORE-000006", {"DM": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("DM", "USUBJID DTHFL", ("1", "Y"), ("2", "" if ok else "N"), ("3", "")))


# DTHDTC populated needs DTHFL = "Y": row 2 has a death date and DTHFL null.
@case("CORE-000007", {"DM": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("DM", "USUBJID DTHDTC DTHFL", ("1", "2021-03-01", "Y"),
                ("2", "2021-04-02", "Y" if ok else ""), ("3", "", "")))


# join DM-SS on USUBJID: subject 2 (DM row 2) is DEAD in SS but DTHFL is null.
@case("CORE-000008", {"DM": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("DM", "USUBJID DTHFL", ("1", "Y"), ("2", ""), ("3", "")),
             ds("SS", "USUBJID SSSEQ SSTESTCD SSSTRESC", ("1", 1, "SURVSTAT", "DEAD"),
                ("2", 1, "SURVSTAT", "ALIVE"), ("2", 2, "SURVSTAT", "ALIVE" if ok else "DEAD"),
                ("3", 1, "SURVSTAT", "ALIVE")))


# RFXENDTC = the latest EXSTDTC or EXENDTC of the subject (max_date per USUBJID): subject 1's
# latest is 2021-01-12 (EXENDTC), DM row 1 says 2021-01-11; subject 2 has no EX record.
@case("CORE-000238", {"DM": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("DM", "USUBJID RFXSTDTC RFXENDTC",
                ("1", "2021-01-01", "2021-01-12" if ok else "2021-01-11"), ("2", "", "")),
             ds("EX", "USUBJID EXSEQ EXTRT EXSTDTC EXENDTC",
                ("1", 1, "DRUG", "2021-01-01", "2021-01-05"),
                ("1", 2, "DRUG", "2021-01-10", "2021-01-12")))


# RFXSTDTC = the earliest EXSTDTC of the subject (min_date per USUBJID): subject 1's earliest
# is 2021-01-01, DM row 1 says 2021-01-10 (its second exposure); subject 2 is right.
@case("CORE-000239", {"DM": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("DM", "USUBJID RFXSTDTC", ("1", "2021-01-01" if ok else "2021-01-10"),
                ("2", "2021-02-03")),
             ds("EX", "USUBJID EXSEQ EXTRT EXSTDTC", ("1", 1, "DRUG", "2021-01-10"),
                ("1", 2, "DRUG", "2021-01-01"), ("2", 1, "DRUG", "2021-02-03")))


# ARMCD and ARM one to one: ARMCD A is "Drug A" (row 1) and "Drug X" (row 3), both reported.
@case("CORE-000318", {"DM": [1, 3]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("DM", "USUBJID ARMCD ARM", ("1", "A", "Drug A"), ("2", "B", "Drug B"),
                ("3", "A", "Drug A" if ok else "Drug X")))


# ARM must not be a null-flavour arm name (case-insensitive): row 2 "screen failure".
@case("CORE-000115", {"DM": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("DM", "USUBJID ARMCD ARM", ("1", "A", "Drug A"),
                ("2", "SCRNFAIL", "Screen Fail Arm" if ok else "screen failure")))


SE = "USUBJID SESEQ ETCD ELEMENT SESTDTC SEENDTC TAETORD EPOCH"


# ETCD = UNPLAN needs ELEMENT null: SE row 3 is unplanned with an ELEMENT.
@case("CORE-000009", {"SE": [3]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("SE", SE, ("1", 1, "SCRN", "Screening", "2021-01-01", "2021-01-10", 1, "SCREENING"),
                ("1", 2, "TRT", "Treatment", "2021-01-10", "2021-02-01", 2, "TREATMENT"),
                ("1", 3, "UNPLAN", "" if ok else "Unplanned", "2021-02-01", "2021-02-03", None,
                 "TREATMENT")))


# SEENDTC = SESTDTC of the subject's next element (by SESEQ): subject 1's first element ends
# 2021-01-09, the next starts 2021-01-10 -> row 1; the last element of each subject is not judged.
@case("CORE-000352", {"SE": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("SE", SE,
                ("1", 1, "SCRN", "Screening", "2021-01-01", "2021-01-10" if ok else "2021-01-09",
                 1, "SCREENING"),
                ("1", 2, "TRT", "Treatment", "2021-01-10", "2021-02-01", 2, "TREATMENT"),
                ("2", 1, "SCRN", "Screening", "2021-01-05", "2021-01-20", 1, "SCREENING")))


# SEENDTC null is allowed only on the subject's last element (by SESTDTC): row 1 (first of
# two) has no end; row 2 (last) may be null.
@case("CORE-000527", {"SE": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("SE", SE,
                ("1", 1, "SCRN", "Screening", "2021-01-01", "2021-01-10" if ok else "", 1,
                 "SCREENING"),
                ("1", 2, "TRT", "Treatment", "2021-01-10", "", 2, "TREATMENT")))


# SESEQ in the chronological order of SESTDTC within USUBJID: subject 1's SESEQ 1 starts after
# SESEQ 2, so both records are out of order (rows 1, 2); subject 2 is in order.
@case("CORE-000535", {"SE": [1, 2]})
def _(ok: bool, tmp: Path) -> Submission:
    first, second = ("2021-01-01", "2021-01-10") if ok else ("2021-01-10", "2021-01-01")
    return S(ds("SE", SE, ("1", 1, "SCRN", "Screening", first, "", 1, "SCREENING"),
                ("1", 2, "TRT", "Treatment", second, "", 2, "TREATMENT"),
                ("2", 1, "SCRN", "Screening", "2021-01-03", "", 1, "SCREENING"),
                ("2", 2, "TRT", "Treatment", "2021-01-13", "", 2, "TREATMENT")))


TV = ("VISITNUM VISIT VISITDY ARMCD", (1, "SCREENING", -7, "A"), (2, "WEEK 1", 1, "A"))
SV = "USUBJID VISITNUM VISIT SVPRESP SVSTDTC SVENDTC"


# a planned visit (SVPRESP = Y) must be a TV.VISIT: row 2 "WEEK 2" is not in TV.
@case("CORE-000036", {"SV": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TV", *TV),
             ds("SV", SV, ("1", 1, "SCREENING", "Y", "2021-01-01", "2021-01-01"),
                ("1", 2, "WEEK 1" if ok else "WEEK 2", "Y", "2021-01-10", "2021-01-10"),
                ("1", 2.1, "UNSCHEDULED", "", "2021-01-12", "2021-01-12")))


# a TV.VISITNUM is unique within subject: subject 1 has VISITNUM 2 twice (rows 2, 3); the
# unplanned VISITNUM 2.1 repeated is not a TV visit.
@case("CORE-000204", {"SV": [2, 3]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TV", *TV),
             ds("SV", SV, ("1", 1, "SCREENING", "Y", "2021-01-01", "2021-01-01"),
                ("1", 2, "WEEK 1", "Y", "2021-01-10", "2021-01-10"),
                ("1", 2.1 if ok else 2, "UNSCHEDULED", "", "2021-01-12", "2021-01-12"),
                ("1", 2.1, "UNSCHEDULED", "", "2021-01-13", "2021-01-13"),
                ("1", 2.2, "UNSCHEDULED", "", "2021-01-14", "2021-01-14")))


# join SV-SE on USUBJID: a visit inside an element [SESTDTC, SEENDTC] has that element's
# TAETORD; SV row 2 (2021-01-15, in the treatment element, TAETORD 2) says 1.
@case("CORE-000784", {"SV": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("SE", SE, ("1", 1, "SCRN", "Screening", "2021-01-01", "2021-01-10", 1, "SCREENING"),
                ("1", 2, "TRT", "Treatment", "2021-01-10", "2021-02-01", 2, "TREATMENT")),
             ds("SV", SV + " TAETORD", ("1", 1, "SCREENING", "Y", "2021-01-05", "2021-01-05", 1),
                ("1", 2, "WEEK 1", "Y", "2021-01-15", "2021-01-15", 2 if ok else 1)))


CO = "RDOMAIN USUBJID COSEQ IDVAR IDVARVAL COVAL"
AE_FOR_CO = ("AE", "USUBJID AESEQ AETERM", ("1", 1, "HEADACHE"), ("1", 2, "NAUSEA"))


# CO: RDOMAIN null while IDVARVAL is populated -> row 2. CO is a special-purpose domain in
# SDTMIG 3.4 (section 5), the rule's class.
@case("CORE-000017", {"CO": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds(*AE_FOR_CO), ds("CO", CO, ("AE", "1", 1, "AESEQ", "1", "Resolved"),
                                ("AE" if ok else "", "1", 2, "AESEQ", "2", "Mild")))


# child join CO -> parent (RDOMAIN, USUBJID, IDVAR = IDVARVAL): CO row 2 points at AESEQ 5,
# which subject 1 does not have; row 3 is a subject-level comment (no IDVAR).
@case("CORE-000206", {"CO": [2]}, name="CORE-000206-CO")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds(*AE_FOR_CO), ds("CO", CO, ("AE", "1", 1, "AESEQ", "1", "Resolved"),
                                ("AE", "1", 2, "AESEQ", "2" if ok else "5", "Mild"),
                                ("DM", "1", 3, "", "", "General")))


# ===== Record Data: interventions (EX, CM, EC) ====================================================

# EXTRT = PLACEBO needs EXDOSE = 0: row 2.
@case("CORE-000005", {"EX": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("EX", "USUBJID EXSEQ EXTRT EXDOSE", ("1", 1, "DRUG A", 10),
                ("2", 1, "PLACEBO", 0 if ok else 10)))


# --STDTC after --ENDTC (EX): row 2 starts 2021-01-12 and ends 2021-01-10; row 3's partial
# start 2021-01 cannot be after its end 2021-02-01.
@case("CORE-000718", {"EX": [2]}, name="CORE-000718-EX")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("EX", "USUBJID EXSEQ EXTRT EXSTDTC EXENDTC",
                ("1", 1, "DRUG", "2021-01-01", "2021-01-05"),
                ("1", 2, "DRUG", "2021-01-12" if not ok else "2021-01-10", "2021-01-10"),
                ("1", 3, "DRUG", "2021-01", "2021-02-01")))


# CMCLAS and CMCLASCD one to one: ANALGESICS is N02 (row 1) and N02B (row 3).
@case("CORE-000792", {"CM": [1, 3]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("CM", "USUBJID CMSEQ CMTRT CMCLAS CMCLASCD",
                ("1", 1, "ASPIRIN", "ANALGESICS", "N02"),
                ("1", 2, "AMOXICILLIN", "ANTIBACTERIALS", "J01"),
                ("2", 1, "PARACETAMOL", "ANALGESICS", "N02" if ok else "N02B")))


# CM: --OCCUR populated needs --PRESP = Y: row 2 has CMOCCUR = N without CMPRESP.
@case("CORE-000016", {"CM": [2]}, name="CORE-000016-CM")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("CM", "USUBJID CMSEQ CMTRT CMPRESP CMOCCUR", ("1", 1, "ASPIRIN", "Y", "Y"),
                ("1", 2, "IBUPROFEN", "Y" if ok else "", "N"), ("1", 3, "PARACETAMOL", "", "")))


# ECOCCUR = N (not given) with ECDOSE <= 0: row 2 (ECDOSE 0); row 1's null dose is right.
@case("CORE-000004", {"EC": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("EC", "USUBJID ECSEQ ECTRT ECOCCUR ECDOSE", ("1", 1, "DRUG", "N", None),
                ("1", 2, "DRUG", "N", None if ok else 0), ("1", 3, "DRUG", "Y", 10)))


# ECDOSE null, ECOCCUR not N, ECSTAT null needs ECDOSTXT: row 2 has neither dose nor text.
@case("CORE-000217", {"EC": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("EC", "USUBJID ECSEQ ECTRT ECOCCUR ECSTAT ECDOSE ECDOSTXT",
                ("1", 1, "DRUG", "Y", "", 10, ""),
                ("1", 2, "DRUG", "Y", "", None, "10-20" if ok else ""),
                ("1", 3, "DRUG", "N", "", None, ""),
                ("1", 4, "DRUG", "", "NOT DONE", None, "")))


# ===== Record Data: events (AE, MH, DS, CE) =======================================================

AE_SER = "USUBJID AESEQ AETERM AESER AESCAN AESCONG AESDISAB AESDTH AESHOSP AESLIFE AESOD AESMIE"


# a seriousness criterion = Y needs AESER = Y: row 2 (AESHOSP = Y, AESER = N), row 3
# (AESDTH = Y, AESER null).
@case("CORE-000022", {"AE": [2, 3]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("AE", AE_SER, ("1", 1, "HEADACHE", "N", "N", "N", "N", "N", "N", "N", "N", "N"),
                ("1", 2, "PNEUMONIA", "Y" if ok else "N", "N", "N", "N", "N", "Y", "N", "N", "N"),
                ("2", 1, "MI", "Y" if ok else "", "", "", "", "Y", "", "", "", "")))


# AESER populated must be Y or N: row 2 "U".
@case("CORE-000087", {"AE": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("AE", "USUBJID AESEQ AETERM AESER", ("1", 1, "HEADACHE", "N"),
                ("1", 2, "RASH", "N" if ok else "U"), ("1", 3, "COUGH", "")))


# AEOUT = NOT RECOVERED/NOT RESOLVED with an AEENDTC: row 1.
@case("CORE-000657", {"AE": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("AE", "USUBJID AESEQ AETERM AEOUT AEENDTC",
                ("1", 1, "HEADACHE", "NOT RECOVERED/NOT RESOLVED", "" if ok else "2021-02-01"),
                ("1", 2, "RASH", "RECOVERED/RESOLVED", "2021-02-03")))


# AESTDTC after the subject's latest DSSTDTC (max per USUBJID): subject 1's last DS date is
# 2021-05-01, AE row 2 starts 2021-06-01; subject 2's AE is before its DS date.
@case("CORE-000717", {"AE": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("AE", "USUBJID AESEQ AETERM AESTDTC", ("1", 1, "HEADACHE", "2021-02-01"),
                ("1", 2, "RASH", "2021-04-01" if ok else "2021-06-01"),
                ("2", 1, "COUGH", "2021-03-01")),
             ds("DS", "USUBJID DSSEQ DSTERM DSDECOD DSSTDTC",
                ("1", 1, "INFORMED CONSENT OBTAINED", "INFORMED CONSENT OBTAINED", "2021-01-01"),
                ("1", 2, "COMPLETED", "COMPLETED", "2021-05-01"),
                ("2", 1, "COMPLETED", "COMPLETED", "2021-07-01")))


# study day (dy, join DM on USUBJID) where the date of --DTC and RFSTDTC are complete and
# --DY is populated: RFSTDTC 2021-01-10; 2021-01-12 is day 3 (row 1 says 2), 2021-01-09 is
# day -1 (right), row 3's partial 2021-01 is not judged.
@case("CORE-000529", {"AE": [1]}, name="CORE-000529-AE")
def _(ok: bool, tmp: Path) -> Submission:
    return S(dm(("1", "2021-01-10")),
             ds("AE", "USUBJID AESEQ AETERM AEDTC AEDY", ("1", 1, "HEADACHE", "2021-01-12",
                                                          3 if ok else 2),
                ("1", 2, "RASH", "2021-01-09T08:00", -1), ("1", 3, "COUGH", "2021-01", 5)))


# --STDY by the study day algorithm (AE, join DM): RFSTDTC 2021-01-10, AESTDTC 2021-01-10 is
# day 1 (row 1 says 0: there is no day 0); row 2 (2021-02-09 = day 31) is right.
@case("CORE-000552", {"AE": [1]}, name="CORE-000552-AE")
def _(ok: bool, tmp: Path) -> Submission:
    return S(dm(("1", "2021-01-10")),
             ds("AE", "USUBJID AESEQ AETERM AESTDTC AESTDY",
                ("1", 1, "HEADACHE", "2021-01-10", 1 if ok else 0),
                ("1", 2, "RASH", "2021-02-09", 31)))


# --SEQ unique per USUBJID within the domain (AE): subject 1 has AESEQ 2 twice (rows 2, 3);
# subject 2's AESEQ 1 repeats subject 1's, which is fine.
@case("CORE-000544", {"AE": [2, 3]}, name="CORE-000544-AE")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("AE", "USUBJID AESEQ AETERM", ("1", 1, "HEADACHE"), ("1", 2, "RASH"),
                ("1", 3 if ok else 2, "COUGH"), ("2", 1, "FEVER")))


# USUBJID must be a DM.USUBJID (AE): row 2's subject 9 is not in DM.
@case("CORE-000201", {"AE": [2]}, name="CORE-000201-AE")
def _(ok: bool, tmp: Path) -> Submission:
    return S(dm(("1", "2021-01-10"), ("2", "2021-01-11")),
             ds("AE", "USUBJID AESEQ AETERM", ("1", 1, "HEADACHE"),
                ("2" if ok else "9", 1, "RASH")))


# AETOXGR, when populated, is a CTCAE grade 1 to 5 (our CD0010): row 2 grade "6".
@case("CD0010", {"AE": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("AE", "USUBJID AESEQ AETERM AETOXGR", ("1", 1, "NEUTROPENIA", "3"),
                ("1", 2, "ANAEMIA", "2" if ok else "6"), ("1", 3, "RASH", "")))


# MHSTDTC on or after DM.RFSTDTC (2021-01-10), partial dates compared as far as they go:
# row 2 "2021-02" (after), row 3 "2021-01-10" (same day) are reported; "2020" and "2020-12"
# are before.
@case("CORE-000236", {"MH": [2, 3]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(dm(("1", "2021-01-10")),
             ds("MH", "USUBJID MHSEQ MHTERM MHSTDTC", ("1", 1, "ASTHMA", "2020"),
                ("1", 2, "DIABETES", "2020-12" if ok else "2021-02"),
                ("1", 3, "GOUT", "2021-01-09" if ok else "2021-01-10"), ("1", 4, "ACNE", "")))


# MHCAT that puts every record in one category: all three rows are "GENERAL".
@case("CORE-000365", {"MH": [1, 2, 3]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("MH", "USUBJID MHSEQ MHTERM MHCAT", ("1", 1, "ASTHMA", "GENERAL"),
                ("1", 2, "ANGINA", "CARDIAC" if ok else "GENERAL"), ("2", 1, "GOUT", "GENERAL")))


DS = "USUBJID DSSEQ DSTERM DSDECOD DSCAT DSSCAT EPOCH DSSTDTC"


# DSTERM = COMPLETED needs DSDECOD = COMPLETED: row 2.
@case("CORE-000033", {"DS": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("DS", "USUBJID DSSEQ DSTERM DSDECOD", ("1", 1, "COMPLETED", "COMPLETED"),
                ("2", 1, "COMPLETED", "COMPLETED" if ok else "ADVERSE EVENT")))


# more than one DISPOSITION EVENT per subject and epoch (record_count with filter and group)
# with DSSCAT = STUDY PARTICIPATION not unique: subject 1's two TREATMENT-epoch disposition
# events are both STUDY PARTICIPATION (rows 1, 2).
@case("CORE-000214", {"DS": [1, 2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("DS", DS,
                ("1", 1, "COMPLETED", "COMPLETED", "DISPOSITION EVENT", "STUDY PARTICIPATION",
                 "TREATMENT", "2021-05-01"),
                ("1", 2, "COMPLETED", "COMPLETED", "DISPOSITION EVENT",
                 "STUDY TREATMENT" if ok else "STUDY PARTICIPATION", "TREATMENT", "2021-05-01"),
                ("1", 3, "INFORMED CONSENT OBTAINED", "INFORMED CONSENT OBTAINED",
                 "PROTOCOL MILESTONE", "", "SCREENING", "2021-01-01")))


# the earliest DSSTDTC of a subject with several INFORMED CONSENT OBTAINED records
# (min_date per USUBJID, join DM) equals DM.RFICDTC: subject 1 consented 2021-01-05 and again
# 2021-02-01; RFICDTC 2021-02-01 makes the earliest record (row 1) wrong.
@case("CORE-000363", {"DS": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    ic = "INFORMED CONSENT OBTAINED"
    return S(ds("DM", "USUBJID RFICDTC", ("1", "2021-01-05" if ok else "2021-02-01")),
             ds("DS", "USUBJID DSSEQ DSTERM DSDECOD DSSTDTC", ("1", 1, ic, ic, "2021-01-05"),
                ("1", 2, ic, ic, "2021-02-01"), ("1", 3, "COMPLETED", "COMPLETED", "2021-06-01")))


# CE: --TOX populated needs --TOXGR: row 2.
@case("CORE-000102", {"CE": [2]}, name="CORE-000102-CE")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("CE", "USUBJID CESEQ CETERM CETOX CETOXGR", ("1", 1, "FEVER", "Fever", "1"),
                ("1", 2, "CHILLS", "Chills", "2" if ok else ""), ("1", 3, "COUGH", "", "")))


# CE: --STDTC after --ENDTC: row 1 (2021-03-05 after 2021-03-01).
@case("CORE-000718", {"CE": [1]}, name="CORE-000718-CE")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("CE", "USUBJID CESEQ CETERM CESTDTC CEENDTC",
                ("1", 1, "FEVER", "2021-02-25" if ok else "2021-03-05", "2021-03-01"),
                ("1", 2, "COUGH", "2021-03-01T10:00", "2021-03-01T12:00")))


# ===== Record Data: findings (LB, VS, EG, RS, TR, IE) and findings about (FA) =====================

# LBORRES not a number while LBORNRHI is populated: row 2 "POSITIVE" with a high limit.
@case("CORE-000289", {"LB": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("LB", "USUBJID LBSEQ LBTESTCD LBORRES LBORNRHI", ("1", 1, "GLUC", "5.2", "6.1"),
                ("1", 2, "HCG", "POSITIVE", "" if ok else "5"), ("1", 3, "HCG", "NEGATIVE", "")))


# LBTOXGR with letters and digits ("Grade 2") is not a numeric grade: row 2.
@case("CORE-000169", {"LB": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("LB", "USUBJID LBSEQ LBTESTCD LBTOX LBTOXGR", ("1", 1, "NEUT", "Neutropenia", "3"),
                ("1", 2, "PLAT", "Thrombocytopenia", "2" if ok else "Grade 2")))


LB_U = "USUBJID LBSEQ LBTESTCD LBCAT LBSCAT LBSPEC LBMETHOD LBSTAT LBSTRESU"


# LBSTRESU consistent within test, category, sub-category, specimen, method, status: GLUC is
# mmol/L twice and mg/dL once -> the minority record (row 3) is reported.
@case("CORE-000699", {"LB": [3]}, name="CORE-000699-LB")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("LB", LB_U, ("1", 1, "GLUC", "CHEMISTRY", "", "SERUM", "", "", "mmol/L"),
                ("2", 1, "GLUC", "CHEMISTRY", "", "SERUM", "", "", "mmol/L"),
                ("3", 1, "GLUC", "CHEMISTRY", "", "SERUM", "", "", "mmol/L" if ok else "mg/dL"),
                ("3", 2, "GLUC", "CHEMISTRY", "", "URINE", "", "", "mg/dL")))


VS_T = "USUBJID VSSEQ VSTESTCD VISITNUM VSTPT VSTPTNUM VSTPTREF VSELTM"


# VSELTM the same across records of one DOMAIN, VISITNUM, VSTPTREF, VSTPTNUM: visit 1 time
# point 1 after DOSE is PT1H twice and PT2H once -> the minority record (row 3).
@case("CORE-000142", {"VS": [3]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("VS", VS_T, ("1", 1, "SYSBP", 1, "1H POST", 1, "DOSE", "PT1H"),
                ("2", 1, "SYSBP", 1, "1H POST", 1, "DOSE", "PT1H"),
                ("3", 1, "SYSBP", 1, "1H POST", 1, "DOSE", "PT1H" if ok else "PT2H"),
                ("3", 2, "SYSBP", 1, "2H POST", 2, "DOSE", "PT2H")))


# VSTPT and VSTPTNUM one to one within VISITNUM (VSTPTREF absent): in visit 1 VSTPTNUM 1 is
# "PRE-DOSE" twice and "PREDOSE" once -> the minority record (row 3); each VSTPT has one
# VSTPTNUM, so the other direction reports nothing.
@case("CORE-000685", {"VS": [3]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("VS", "USUBJID VSSEQ VSTESTCD VISITNUM VSTPT VSTPTNUM",
                ("1", 1, "SYSBP", 1, "PRE-DOSE", 1), ("2", 1, "SYSBP", 1, "PRE-DOSE", 1),
                ("3", 1, "SYSBP", 1, "PRE-DOSE" if ok else "PREDOSE", 1),
                ("3", 2, "SYSBP", 1, "POST-DOSE", 2)))


# EGTESTCD and EGTEST one to one: QTCF is two names (rows 1, 3).
@case("CORE-000303", {"EG": [1, 3]}, name="CORE-000303-EG")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("EG", "USUBJID EGSEQ EGTESTCD EGTEST", ("1", 1, "QTCF", "QTcF Interval"),
                ("1", 2, "HR", "Heart Rate"),
                ("2", 1, "QTCF", "QTcF Interval" if ok else "QTcF Interval, Aggregate")))


RS = "USUBJID RSSEQ RSTESTCD RSEVAL RSORRES RSDTC"


# one overall response per subject, evaluator and date (our CD0016): subject 1 has two
# INVESTIGATOR OVRLRESP records on 2021-03-01 (rows 1, 2); the target response that day and
# the INDEPENDENT ASSESSOR's overall response are other sets.
@case("CD0016", {"RS": [1, 2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("RS", RS, ("1", 1, "OVRLRESP", "INVESTIGATOR", "PR", "2021-03-01"),
                ("1", 2, "OVRLRESP", "INVESTIGATOR", "PR", "2021-03-02" if ok else "2021-03-01"),
                ("1", 3, "TRGRESP", "INVESTIGATOR", "PR", "2021-03-01"),
                ("1", 4, "OVRLRESP", "INDEPENDENT ASSESSOR", "SD", "2021-03-01")))


# TRLOC must not be in TR (dataset sensitivity: one result; the one TR record is row 1).
@case("CORE-000003", {"TR": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    cols = "USUBJID TRSEQ TRLNKID TRTESTCD TRORRES" + ("" if ok else " TRLOC")
    return S(ds("TR", cols, ("1", 1, "T01", "LDIAM", "12", "LUNG")))


# IECAT = INCLUSION needs IEORRES = N (the criterion not met): row 1 says Y.
@case("CORE-000001", {"IE": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("IE", "USUBJID IESEQ IETESTCD IECAT IEORRES",
                ("1", 1, "INCL01", "INCLUSION", "N" if ok else "Y"),
                ("2", 1, "EXCL02", "EXCLUSION", "Y")))


TI = ("IETESTCD IETEST IECAT", ("INCL01", "Age 18 or over", "INCLUSION"),
      ("EXCL02", "Pregnant", "EXCLUSION"))


# IETESTCD must be a TI.IETESTCD: row 2 "EXCL09".
@case("CORE-000228", {"IE": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TI", *TI), ds("IE", "USUBJID IESEQ IETESTCD IECAT IEORRES",
                              ("1", 1, "INCL01", "INCLUSION", "N"),
                              ("2", 1, "EXCL02" if ok else "EXCL09", "EXCLUSION", "Y")))


# FA: --STAT = NOT DONE needs --REASND: row 2.
@case("CORE-000774", {"FA": [2]}, name="CORE-000774-FA")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("FA", "USUBJID FASEQ FATESTCD FATEST FAOBJ FAORRES FASTAT FAREASND",
                ("1", 1, "SEV", "Severity", "HEADACHE", "MILD", "", ""),
                ("1", 2, "SEV", "Severity", "RASH", "", "NOT DONE", "PATIENT LEFT" if ok else "")))


# FA: FATESTCD and FATEST one to one: SEV is "Severity" and "Severity/Intensity" (rows 1, 2).
@case("CORE-000303", {"FA": [1, 2]}, name="CORE-000303-FA")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("FA", "USUBJID FASEQ FATESTCD FATEST FAOBJ FAORRES",
                ("1", 1, "SEV", "Severity", "HEADACHE", "MILD"),
                ("1", 2, "SEV", "Severity" if ok else "Severity/Intensity", "RASH", "MODERATE"),
                ("1", 3, "OCCUR", "Occurrence", "RASH", "Y")))


# ===== Record Data: trial design (TS, TA, TE, TV, TI) =============================================

TS = "TSSEQ TSPARMCD TSPARM TSVAL"


# TSVAL of SSTDTC (study start date) must be ISO 8601 (FDA TRC 1734): "15JAN2021" is not.
@case("CORE-000505", {"TS": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TS", TS, (1, "TITLE", "Title", "A study"),
                (1, "SSTDTC", "Study Start Date", "2021-01-15" if ok else "15JAN2021")))


# TSVAL of AGEMAX must be an ISO 8601 duration: "65 YEARS" is not (P65Y is).
@case("CORE-000294", {"TS": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TS", TS, (1, "AGEMIN", "Planned Minimum Age of Subjects", "P18Y"),
                (1, "AGEMAX", "Planned Maximum Age of Subjects", "P65Y" if ok else "65 YEARS")))


# TSVALn null while TSVAL(n+1) is populated: row 1 has TSVAL and TSVAL2 but no TSVAL1.
@case("CORE-000582", {"TS": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TS", TS + " TSVAL1 TSVAL2",
                (1, "TITLE", "Trial Title", "A long title", "continued" if ok else "", "end"),
                (1, "SPONSOR", "Clinical Study Sponsor", "ACME", "", "")))


# AGE and AGETXT both present with TSVAL (record_count with filter): rows 1 and 2.
@case("CORE-000736", {"TS": [1, 2]})
def _(ok: bool, tmp: Path) -> Submission:
    rows = [(1, "AGE", "Age", "P30Y"), (1, "AGETXT", "Age Text", "18-65"),
            (1, "SEXPOP", "Sex of Participants", "BOTH")]
    return S(ds("TS", TS, *(rows[:1] + rows[2:] if ok else rows)))


# TSSEQ unique within TSPARMCD (for a repeated parameter): TRT has TSSEQ 1 twice (rows 1, 2).
@case("CORE-000154", {"TS": [1, 2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TS", TS, (1, "TRT", "Investigational Therapy or Treatment", "DRUG A"),
                (2 if ok else 1, "TRT", "Investigational Therapy or Treatment", "DRUG B"),
                (1, "TITLE", "Trial Title", "A study")))


TA = "ARMCD ARM TAETORD ETCD ELEMENT EPOCH"


# TAETORD unique within ARM: "Drug A" has TAETORD 2 twice (rows 2, 3).
@case("CORE-000144", {"TA": [2, 3]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TA", TA, ("A", "Drug A", 1, "SCRN", "Screening", "SCREENING"),
                ("A", "Drug A", 2, "TRT", "Treatment", "TREATMENT"),
                ("A", "Drug A", 3 if ok else 2, "FU", "Follow-up", "FOLLOW-UP"),
                ("B", "Placebo", 1, "SCRN", "Screening", "SCREENING")))


# TAETORD must be an integer: row 2 is 1.5.
@case("CORE-000534", {"TA": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TA", TA, ("A", "Drug A", 1, "SCRN", "Screening", "SCREENING"),
                ("A", "Drug A", 2 if ok else 1.5, "TRT", "Treatment", "TREATMENT")))


TE = "ETCD ELEMENT TESTRL TEENRL TEDUR"


# TEENRL or TEDUR must be populated: row 2 has neither.
@case("CORE-000027", {"TE": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TE", TE, ("SCRN", "Screening", "Informed consent", "", "P14D"),
                ("TRT", "Treatment", "First dose", "End of treatment" if ok else "", "")))


# TE: ETCD and ELEMENT one to one: "Treatment" is TRTA (row 2) and TRTB (row 3).
@case("CORE-000132", {"TE": [2, 3]}, name="CORE-000132-TE")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TE", TE, ("SCRN", "Screening", "Informed consent", "", "P14D"),
                ("TRTA", "Treatment", "First dose", "", "P28D"),
                ("TRTB", "Treatment B" if ok else "Treatment", "First dose", "", "P28D")))


# TV.ARMCD must be a TA.ARMCD: TV row 2 "C".
@case("CORE-000155", {"TV": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TA", TA, ("A", "Drug A", 1, "SCRN", "Screening", "SCREENING"),
                ("B", "Placebo", 1, "SCRN", "Screening", "SCREENING")),
             ds("TV", "VISITNUM VISIT ARMCD", (1, "SCREENING", "A"),
                (1, "SCREENING", "B" if ok else "C"),
                (2, "WEEK 1", "")))


# TI: IETESTCD unique in the dataset (no TIVERS): INCL01 twice (rows 1, 3).
@case("CORE-000146", {"TI": [1, 3]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TI", "IETESTCD IETEST IECAT", ("INCL01", "Age 18 or over", "INCLUSION"),
                ("EXCL01", "Pregnant", "EXCLUSION"),
                ("INCL02" if ok else "INCL01", "Signed consent", "INCLUSION")))


# TI: IETESTCD and IETEST one to one: "Pregnant" is EXCL01 (row 2) and EXCL02 (row 3).
@case("CORE-000743", {"TI": [2, 3]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TI", "IETESTCD IETEST IECAT", ("INCL01", "Age 18 or over", "INCLUSION"),
                ("EXCL01", "Pregnant", "EXCLUSION"),
                ("EXCL02", "Breastfeeding" if ok else "Pregnant", "EXCLUSION")))


# TI: IESCAT populated needs IECAT: row 2.
@case("CORE-000785", {"TI": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TI", "IETESTCD IETEST IECAT IESCAT", ("INCL01", "Age 18 or over", "INCLUSION", ""),
                ("EXCL01", "Pregnant", "EXCLUSION" if ok else "", "MAJOR")))


# ===== Record Data: relationship (SUPP--, RELREC) =================================================

AE_PARENT = ("AE", "USUBJID AESEQ AETERM", ("1", 1, "HEADACHE"), ("1", 2, "RASH"),
             ("2", 1, "COUGH"))
TRTEM1 = ("AE", "1", "AESEQ", "1", "AETRTEM", "Treatment Emergent", "Y")  # subject 1's AESEQ 1


# child join SUPPAE -> AE: IDVARVAL equals the IDVAR value of a parent record; SUPPAE row 2
# points at subject 1's AESEQ 7, which does not exist.
@case("CORE-000206", {"SUPPAE": [2]}, name="CORE-000206-SUPPAE")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds(*AE_PARENT), supp("SUPPAE", TRTEM1,
                                  ("AE", "1", "AESEQ", "2" if ok else "7", "AETRTEM",
                                   "Treatment Emergent", "Y"),
                                  ("AE", "2", "AESEQ", "1", "AETRTEM", "Treatment Emergent", "N")))


# IDVAR must be a variable of the RDOMAIN dataset (distinct IDVAR checked against AE's
# columns): SUPPAE row 2's AEGRPID is not an AE variable here.
@case("CORE-000712", {"SUPPAE": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds(*AE_PARENT), supp("SUPPAE", TRTEM1,
                                  ("AE", "1", "AESEQ" if ok else "AEGRPID", "2", "AETRTEM",
                                   "Treatment Emergent", "Y")))


# QNAM: up to 8 characters, upper-case letters, digits, underscores, not starting with a
# digit: row 2 "1TRTEM" starts with a digit.
@case("CORE-000221", {"SUPPAE": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds(*AE_PARENT), supp("SUPPAE", TRTEM1,
                                  ("AE", "1", "AESEQ", "2", "AE_TRT2" if ok else "1TRTEM",
                                   "Treatment Emergent", "Y")))


# RDOMAIN = characters 5-6 of the SUPP dataset name: SUPPAE row 2 says CM.
@case("CORE-000538", {"SUPPAE": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds(*AE_PARENT), supp("SUPPAE", TRTEM1,
                                  ("AE" if ok else "CM", "1", "AESEQ", "2", "AETRTEM",
                                   "Treatment Emergent", "Y")))


# IDVAR, IDVARVAL, QNAM unique per parent record (USUBJID): subject 1 AESEQ 1 AETRTEM twice
# (rows 1, 2); SUPPDM-style records are keyed by QNAM alone.
@case("CORE-000203", {"SUPPAE": [1, 2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds(*AE_PARENT), supp("SUPPAE", TRTEM1,
                                  ("AE", "1", "AESEQ", "2" if ok else "1", "AETRTEM",
                                   "Treatment Emergent", "Y"),
                                  ("AE", "2", "AESEQ", "1", "AETRTEM", "Treatment Emergent", "N")))


# join SUPPDM-DM: RACEn records in SUPPDM (not RACEOTH) need DM.RACE = MULTIPLE: subject 1
# has RACE1 and RACE2 but RACE WHITE (SUPPDM rows 1, 2).
@case("CORE-000337", {"SUPPDM": [1, 2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("DM", "USUBJID RACE", ("1", "MULTIPLE" if ok else "WHITE"), ("2", "ASIAN")),
             supp("SUPPDM", ("DM", "1", "", "", "RACE1", "Race 1", "WHITE"),
                  ("DM", "1", "", "", "RACE2", "Race 2", "ASIAN"),
                  ("DM", "2", "", "", "RACEOTH", "Race, Other", "MAORI")))


REL = "RDOMAIN USUBJID IDVAR IDVARVAL RELTYPE RELID"


# RELREC: IDVAR a --SEQ needs RELTYPE null: row 2 (AESEQ with RELTYPE ONE).
@case("CORE-000202", {"RELREC": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("RELREC", REL, ("CM", "1", "CMSEQ", "1", "", "R1"),
                ("AE", "1", "AESEQ", "1", "" if ok else "ONE", "R1"),
                ("LB", "", "LBGRPID", "", "MANY", "R2"), ("MH", "", "MHGRPID", "", "ONE", "R2"),
                domain=None))


# RELREC: a RELID links several records within the subject: subject 1's R2 is on one record
# only (row 3).
@case("CORE-000484", {"RELREC": [3]})
def _(ok: bool, tmp: Path) -> Submission:
    rows = [("CM", "1", "CMSEQ", "1", "", "R1"), ("AE", "1", "AESEQ", "1", "", "R1"),
            ("AE", "1", "AESEQ", "2", "", "R2"), ("CM", "1", "CMSEQ", "2", "", "R2")]
    return S(ds("RELREC", REL, *(rows if ok else rows[:3]), domain=None))


# RELREC: IDVAR a --SEQ with IDVARVAL and USUBJID both null: row 2.
@case("CORE-000136", {"RELREC": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("RELREC", REL, ("CM", "1", "CMSEQ", "1", "", "R1"),
                ("AE", "1" if ok else "", "AESEQ", "1" if ok else "", "", "R1"), domain=None))


# child join RELREC -> parent: RELREC row 2 points at CMSEQ 9, which subject 1 lacks.
@case("CORE-000206", {"RELREC": [2]}, name="CORE-000206-RELREC")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds(*AE_PARENT), ds("CM", "USUBJID CMSEQ CMTRT", ("1", 1, "ASPIRIN")),
             ds("RELREC", REL, ("AE", "1", "AESEQ", "1", "", "R1"),
                ("CM", "1", "CMSEQ", "1" if ok else "9", "", "R1"), domain=None))


# ===== Record Data: rules of every domain =========================================================

# VISITNUM must be one of the subject's SV.VISITNUM (distinct grouped by USUBJID): LB row 2
# is subject 1 at visit 3, which only subject 2 has.
@case("CORE-000168", {"LB": [2]}, name="CORE-000168-LB")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("SV", SV, ("1", 1, "SCREENING", "Y", "2021-01-01", "2021-01-01"),
                ("1", 2, "WEEK 1", "Y", "2021-01-10", "2021-01-10"),
                ("2", 3, "WEEK 2", "Y", "2021-01-17", "2021-01-17")),
             ds("LB", "USUBJID LBSEQ LBTESTCD VISITNUM", ("1", 1, "GLUC", 1),
                ("1", 2, "GLUC", 2 if ok else 3), ("2", 1, "GLUC", 3)))


# --ENDY populated while --ENDTC (or DM.RFSTDTC) has an incomplete date (CM, join DM): row 2
# ends "2021-02" (partial) yet has CMENDY.
@case("CORE-000139", {"CM": [2]}, name="CORE-000139-CM")
def _(ok: bool, tmp: Path) -> Submission:
    return S(dm(("1", "2021-01-10")),
             ds("CM", "USUBJID CMSEQ CMTRT CMENDTC CMENDY", ("1", 1, "ASPIRIN", "2021-01-12", 3),
                ("1", 2, "IBUPROFEN", "2021-02", None if ok else 25)))


# ===== Record Data: our ADaM rules ================================================================

# one ADSL record per subject (AD0001): subject 1 twice (rows 1, 2).
@case("AD0001", {"ADSL": [1, 2]})
def _(ok: bool, tmp: Path) -> Submission:
    return A(ds("ADSL", "USUBJID SUBJID", ("1", "001"), ("2" if ok else "1", "002"), domain=None))


# an ADSL subject must be an SDTM DM subject (AD0002, SDTM and ADaM together): ADSL row 2's
# subject 3 is not in DM.
@case("AD0002", {"ADSL": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return SA((dm(("1", "2021-01-10"), ("2", "2021-01-11")),),
              (ds("ADSL", "USUBJID", ("1",), ("2" if ok else "3",), domain=None),))


BDS = "USUBJID PARAMCD PARAM AVAL"


# PARAMCD and PARAM one to one in a BDS dataset (AD0004): SYSBP is two texts (rows 1, 3).
@case("AD0004", {"ADVS": [1, 3]})
def _(ok: bool, tmp: Path) -> Submission:
    return A(ds("ADVS", BDS, ("1", "SYSBP", "Systolic Blood Pressure (mmHg)", 120),
                ("1", "DIABP", "Diastolic Blood Pressure (mmHg)", 80),
                ("2", "SYSBP", "Systolic Blood Pressure (mmHg)" if ok else "Systolic BP", 130),
                domain=None))


TTE = "USUBJID PARAMCD AVAL CNSR EVNTDESC"


# CNSR populated with 0 (event) or a positive integer (AD0007): row 2 has CNSR -1, row 3 none.
@case("AD0007", {"ADTTE": [2, 3]})
def _(ok: bool, tmp: Path) -> Submission:
    return A(ds("ADTTE", TTE, ("1", "OS", 100, 0, "DEATH"), ("2", "OS", 120, 1 if ok else -1, ""),
                ("3", "OS", 90, 1 if ok else None, ""), domain=None))


# an event record (CNSR = 0) needs EVNTDESC (AD0010): row 1.
@case("AD0010", {"ADTTE": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    return A(ds("ADTTE", TTE, ("1", "OS", 100, 0, "DEATH" if ok else ""),
                ("2", "OS", 120, 1, ""), domain=None))


# one ADTTE record per subject and parameter (AD0012): subject 1 OS twice (rows 1, 2).
@case("AD0012", {"ADTTE": [1, 2]})
def _(ok: bool, tmp: Path) -> Submission:
    return A(ds("ADTTE", TTE, ("1", "OS", 100, 0, "DEATH"),
                ("1", "PFS" if ok else "OS", 60, 0, "PROGRESSION"),
                ("2", "OS", 120, 1, ""), domain=None))


# ===== Domain Presence Check ======================================================================

# DM missing (FDA TRC 1736a): a study-level result.
@case("CORE-000581", {"STUDY": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(*((dm(("1", "2021-01-10")),) if ok else ()),
             ds("AE", "USUBJID AESEQ AETERM", ("1", 1, "RASH")))


# EX missing: a study-level result.
@case("CORE-000739", {"STUDY": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    ex = (ds("EX", "USUBJID EXSEQ EXTRT", ("1", 1, "DRUG")),) if ok else ()
    return S(dm(("1", "2021-01-10")), *ex)


# PP present without PC: a study-level result.
@case("CORE-000183", {"STUDY": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    pc = (ds("PC", "USUBJID PCSEQ PCTESTCD", ("1", 1, "DRUGA")),) if ok else ()
    return S(ds("PP", "USUBJID PPSEQ PPTESTCD", ("1", 1, "AUCALL")), *pc)


# MS present without MB: a study-level result.
@case("CORE-000188", {"STUDY": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    mb = (ds("MB", "USUBJID MBSEQ MBTESTCD", ("1", 1, "MTB")),) if ok else ()
    return S(ds("MS", "USUBJID MSSEQ MSTESTCD", ("1", 1, "MIC")), *mb)


# EXVAMT in EX while EC exists (variable_exists on EX): the EX dataset is reported.
@case("CORE-000291", {"EX": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("EX", "USUBJID EXSEQ EXTRT" + ("" if ok else " EXVAMT"),
                ("1", 1, "DRUG", 10)),
             ds("EC", "USUBJID ECSEQ ECTRT", ("1", 1, "DRUG")))


# MIDS in a dataset (CE here) while TM is missing: the CE dataset is reported.
@case("CORE-000297", {"CE": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    tm = (ds("TM", "MIDSTYPE TMDEF", ("HYPOGLYCEMIC EVENT", "Glucose < 3 mmol/L")),) if ok else ()
    return S(ds("CE", "USUBJID CESEQ CETERM MIDS", ("1", 1, "HYPOGLYCAEMIA", "HYPO1")), *tm)




# DM.RACE = MULTIPLE (record_count with filter) but no SUPPDM: the DM dataset is reported.
@case("CORE-000844", {"DM": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    suppdm = (supp("SUPPDM", ("DM", "1", "", "", "RACE1", "Race 1", "WHITE")),) if ok else ()
    return S(ds("DM", "USUBJID RACE", ("1", "MULTIPLE"), ("2", "ASIAN")), *suppdm)


# TS missing (our TRC1734): a study-level result.
@case("TRC1734", {"STUDY": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    ts = (ds("TS", TS, (1, "SSTDTC", "Study Start Date", "2021-01-15")),) if ok else ()
    return S(dm(("1", "2021-01-10")), *ts)


# TS without a TSPARMCD = SSTDTC record (record_count with filter, our TRC1734B): TS reported.
@case("TRC1734B", {"TS": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TS", TS, (1, "TITLE", "Trial Title", "A study"),
                (1, "SSTDTC" if ok else "SENDTC", "Study Start Date", "2021-01-15")))


# ADaM without ADSL (our TRC1736A): a study-level result.
@case("TRC1736A", {"STUDY": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    adsl = (ds("ADSL", "USUBJID", ("1",), domain=None),) if ok else ()
    return A(*adsl, ds("ADAE", "USUBJID AETERM", ("1", "RASH"), domain=None))


# ===== Python Check ===============================================================================

# define.xml missing for the SDTM datasets (our TRC1736B): one result for the (absent) define.
@case("TRC1736B", {"DEFINE": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    define = None
    if ok:
        define = tmp / "define.xml"
        define.write_text(define_xml([("DM", "USUBJID", "Identifier", "")]), encoding="utf-8")
    return S(dm(("1", "2021-01-10")), define=define)


# ===== Dataset Metadata Check =====================================================================

# no records (record_count): the empty AE dataset is reported (row 0: the dataset).
@case("CORE-000579", {"AE": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    rows = [("1", 1, "RASH")] if ok else []
    return S(dm(("1", "2021-01-10")), ds("AE", "USUBJID AESEQ AETERM", *rows))


# a SUPP-- dataset name longer than 8 characters: "SUPPAEXYZ" (9).
@case("CORE-000293", {"SUPPAEXYZ": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds(*AE_PARENT), supp("SUPPAE" if ok else "SUPPAEXYZ",
                                  ("AE", "1", "AESEQ", "1", "AETRTEM", "Treatment Emergent", "Y")))


# the dataset name begins with the DOMAIN value: dataset LB holds DOMAIN "LX".
@case("CORE-000598", {"LB": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("LB", "USUBJID LBSEQ LBTESTCD", ("1", 1, "GLUC"), domain="LB" if ok else "LX"))


# a split dataset (3-4 characters) needs its 2-letter parent: QSCG without QS.
@case("CORE-000539", {"QSCG": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    qs = (ds("QS", "USUBJID QSSEQ QSTESTCD", ("1", 1, "CGI01")),) if ok else ()
    return S(ds("QSCG", "USUBJID QSSEQ QSTESTCD", ("1", 1, "CGI02"), domain="QS"), *qs)


# a Findings About dataset FAxx needs its parent xx: FAMH without MH.
@case("CORE-000540", {"FAMH": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    mh = (ds("MH", "USUBJID MHSEQ MHTERM", ("1", 1, "ASTHMA")),) if ok else ()
    return S(ds("FAMH", "USUBJID FASEQ FATESTCD FAOBJ", ("1", 1, "SEV", "ASTHMA"), domain="FA"),
             *mh)


# a dataset larger than 5 GB (extract_metadata dataset_size): the LB file is 6e9 bytes.
@case("CORE-000765", {"LB": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("LB", "USUBJID LBSEQ LBTESTCD", ("1", 1, "GLUC"),
                size=4_000_000_000 if ok else 6_000_000_000))


# ===== Variable Metadata Check ====================================================================

AE_MIN = ("USUBJID AESEQ AETERM AEDECOD AESTDTC", ("1", 1, "HEADACHE", "Headache", "2021-01-12"))


# a variable label longer than 40 characters: AETERM's 41-character label.
@case("CORE-000019", {"AE": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    label = "Reported Term for the Adverse Event" + ("" if ok else " (verbatim)")
    return S(ds("AE", *AE_MIN, labels={"AETERM": label}))


# a variable name longer than 8 characters: AETERMORIG (10).
@case("CORE-000182", {"AE": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    extra = "AEMODIFY" if ok else "AETERMORIG"
    return S(ds("AE", AE_MIN[0] + " " + extra, (*AE_MIN[1], "X")))


# a Required AE variable (SDTMIG 3.4: STUDYID, DOMAIN, USUBJID, AESEQ, AETERM, AEDECOD) is
# missing: AEDECOD dropped (dataset sensitivity: one result for AE).
@case("CORE-000355", {"AE": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    if ok:
        return S(ds("AE", *AE_MIN))
    return S(ds("AE", "USUBJID AESEQ AETERM AESTDTC", ("1", 1, "HEADACHE", "2021-01-12")))


# variables in the IG's order (get_column_order_from_library): AETERM before AESEQ.
@case("CORE-000852", {"AE": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    if ok:
        return S(ds("AE", *AE_MIN))
    return S(ds("AE", "USUBJID AETERM AESEQ AEDECOD AESTDTC",
                ("1", "HEADACHE", 1, "Headache", "2021-01-12")))


# no timing variable in an events dataset (get_model_filtered_variables role Timing): AE with
# no AESTDTC, EPOCH, VISITNUM, ... .
@case("CORE-000575", {"AE": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    if ok:
        return S(ds("AE", *AE_MIN))
    return S(ds("AE", "USUBJID AESEQ AETERM AEDECOD", ("1", 1, "HEADACHE", "Headache")))


# a variable label in title case: AETERM's "reported term for the adverse event".
@case("CORE-000594", {"AE": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    label = "Reported Term for the Adverse Event" if ok else "reported term for the adverse event"
    return S(ds("AE", *AE_MIN, labels={"AETERM": label}))


# ===== Variable Metadata Check against Library Metadata ===========================================

# the variable's data type is the IG's: AESEQ is Num in SDTMIG 3.4, here text.
@case("CORE-001082", {"AE": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("AE", *AE_MIN) if ok else ds("AE", *AE_MIN[:1], ("1", "1", "HEADACHE", "Headache",
                                                              "2021-01-12")))


# ===== Value Check with Variable Metadata / with Dataset Metadata =================================

# a text value with leading spaces: AETERM " RASH" (row 2).
@case("CORE-000867", {"AE": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("AE", "USUBJID AESEQ AETERM AESTDTC", ("1", 1, "HEADACHE", "2021-01-12"),
                ("1", 2, "RASH" if ok else " RASH", "2021-01-13")))


# a text value "." as the whole value: AEOUT on row 1.
@case("CORE-000890", {"AE": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("AE", "USUBJID AESEQ AETERM AEOUT", ("1", 1, "HEADACHE", "" if ok else "."),
                ("1", 2, "RASH", "RECOVERED/RESOLVED")))


# a Required variable null (required_variables): AEDECOD empty on row 2.
@case("CORE-000356", {"AE": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("AE", "USUBJID AESEQ AETERM AEDECOD AESEV",
                ("1", 1, "HEADACHE", "Headache", "MILD"),
                ("1", 2, "FLU LIKE", "Influenza like illness" if ok else "", ""),
                ("1", 3, "RASH", "Rash", "")))


# ===== Define Item Metadata Check against Library Metadata ========================================

def define_xml(items: list[tuple[str, str, str, str]], codelists: str = "") -> str:
    """A minimal Define-XML 2.1: items are (dataset, variable, Role, CodeListOID)."""
    groups: dict[str, list[str]] = {}
    defs = []
    for n, (dataset, variable, role, codelist) in enumerate(items, start=1):
        oid = f"IT.{dataset}.{variable}"
        groups.setdefault(dataset, []).append(
            f'<ItemRef ItemOID="{oid}" Mandatory="Yes" OrderNumber="{n}" Role="{role}"/>')
        ref = f'<CodeListRef CodeListOID="{codelist}"/>' if codelist else ""
        defs.append(f'<ItemDef OID="{oid}" Name="{variable}" DataType="text" Length="8">'
                    f'<Description><TranslatedText xml:lang="en">{variable}</TranslatedText>'
                    f'</Description>{ref}</ItemDef>')
    igs = "".join(f'<ItemGroupDef OID="IG.{d}" Name="{d}" Repeating="Yes" Domain="{d}" '
                  f'def:Structure="One record per event">{"".join(refs)}</ItemGroupDef>'
                  for d, refs in groups.items())
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" '
            'xmlns:def="http://www.cdisc.org/ns/def/v2.1" ODMVersion="1.3.2" FileType="Snapshot" '
            'FileOID="F1" CreationDateTime="2024-01-01T00:00:00">'
            '<Study OID="S1"><GlobalVariables><StudyName>S1</StudyName>'
            '<StudyDescription>S1</StudyDescription><ProtocolName>S1</ProtocolName>'
            '</GlobalVariables><MetaDataVersion OID="MDV.1" Name="S1" def:DefineVersion="2.1.0">'
            f'{igs}{"".join(defs)}{codelists}</MetaDataVersion></Study></ODM>')


DOMAIN_CODELIST = ('<CodeList OID="CL.DOMAIN" Name="SDTM Domain Abbreviation" DataType="text">'
                   '<CodeListItem CodedValue="AE"><Decode><TranslatedText>Adverse Events'
                   '</TranslatedText></Decode><Alias Context="nci:ExtCodeID" Name="{code}"/>'
                   '</CodeListItem><Alias Context="nci:ExtCodeID" Name="C66734"/></CodeList>')


# define.xml Role is the IG's: AETERM is the Topic variable of AE, define says Identifier.
@case("CORE-001081", {"AE": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    define = tmp / "define.xml"
    define.write_text(define_xml([("AE", "STUDYID", "Identifier", ""),
                                  ("AE", "USUBJID", "Identifier", ""),
                                  ("AE", "AETERM", "Topic" if ok else "Identifier", "")]),
                      encoding="utf-8")
    return S(ds("AE", "USUBJID AETERM", ("1", "HEADACHE"), domain=None), define=define)


# the DOMAIN codelist (C66734) term codes in define.xml are CDISC CT DOMAIN codes: AE is
# C49562; C99999 is no DOMAIN term.
@case("CORE-000929", {"AE": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    define = tmp / "define.xml"
    define.write_text(define_xml([("AE", "STUDYID", "Identifier", ""),
                                  ("AE", "DOMAIN", "Identifier", "CL.DOMAIN"),
                                  ("AE", "USUBJID", "Identifier", "")],
                                 DOMAIN_CODELIST.format(code="C49562" if ok else "C99999")),
                      encoding="utf-8")
    return S(ds("AE", "USUBJID AETERM", ("1", "HEADACHE")), define=define)


# ===== More rules of each class: special purpose, interventions, events, findings, trial design,
# relationship, every domain, ADaM, presence =======================================================

# SE: SESTDTC is required: row 2 is null.
@case("CORE-000002", {"SE": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("SE", SE, ("1", 1, "SCRN", "Screening", "2021-01-01", "2021-01-10", 1, "SCREENING"),
                ("1", 2, "TRT", "Treatment", "2021-01-10" if ok else "", "", 2, "TREATMENT")))


# SE: ETCD must be UNPLAN or a TE.ETCD (distinct TE.ETCD): row 2 "TRTX".
@case("CORE-000173", {"SE": [2]}, name="CORE-000173-SE")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TE", TE, ("SCRN", "Screening", "Informed consent", "", "P14D"),
                ("TRT", "Treatment", "First dose", "", "P28D")),
             ds("SE", SE, ("1", 1, "SCRN", "Screening", "2021-01-01", "2021-01-10", 1, "SCREENING"),
                ("1", 2, "TRT" if ok else "TRTX", "Treatment", "2021-01-10", "", 2, "TREATMENT"),
                ("1", 3, "UNPLAN", "", "2021-02-01", "", None, "TREATMENT")))


# SE: ETCD = UNPLAN needs TAETORD null: row 2.
@case("CORE-000020", {"SE": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("SE", SE, ("1", 1, "SCRN", "Screening", "2021-01-01", "2021-01-10", 1, "SCREENING"),
                ("1", 2, "UNPLAN", "", "2021-01-10", "2021-01-12", None if ok else 2, "SCREENING")))


# SV: a planned visit's VISITNUM must be a TV.VISITNUM: row 2 (VISITNUM 3) is not.
@case("CORE-000039", {"SV": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TV", *TV), ds("SV", SV, ("1", 1, "SCREENING", "Y", "2021-01-01", "2021-01-01"),
                               ("1", 2 if ok else 3, "WEEK 1", "Y", "2021-01-10", "2021-01-10")))


# SV: an unplanned visit (SVPRESP null) must not use a TV.VISITNUM: row 2 uses VISITNUM 2.
@case("CORE-000040", {"SV": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TV", *TV), ds("SV", SV, ("1", 1, "SCREENING", "Y", "2021-01-01", "2021-01-01"),
                               ("1", 1.1 if ok else 2, "UNSCHEDULED", "", "2021-01-04",
                                "2021-01-04")))


# SV: SVPRESP is Y or null: row 2 "N".
@case("CORE-000037", {"SV": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("SV", SV, ("1", 1, "SCREENING", "Y", "2021-01-01", "2021-01-01"),
                ("1", 1.1, "UNSCHEDULED", "" if ok else "N", "2021-01-04", "2021-01-04")))


# join SV-TV on VISITNUM (a rule of every dataset but TV): VISITDY of a TV visit equals
# TV.VISITDY; SV row 2 (visit 2, TV day 1) says 8.
@case("CORE-000249", {"SV": [2]}, name="CORE-000249-SV")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TV", *TV), ds("SV", SV + " VISITDY",
                               ("1", 1, "SCREENING", "Y", "2021-01-01", "2021-01-01", -7),
                               ("1", 2, "WEEK 1", "Y", "2021-01-10", "2021-01-10", 1 if ok else 8)))




# CO: IDVAR populated needs RDOMAIN: row 2.
@case("CORE-000090", {"CO": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds(*AE_FOR_CO), ds("CO", CO, ("AE", "1", 1, "AESEQ", "1", "Resolved"),
                                ("AE" if ok else "", "1", 2, "AESEQ", "2", "Mild")))


# CO -> parent (child join): IDVAR must be a variable of the RDOMAIN dataset: row 2's AEGRPID
# is not an AE variable.
@case("CORE-000953", {"CO": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds(*AE_FOR_CO), ds("CO", CO, ("AE", "1", 1, "AESEQ", "1", "Resolved"),
                                ("AE", "1", 2, "AESEQ" if ok else "AEGRPID", "2", "Mild")))


# EC: ECOCCUR not N, ECSTAT and ECDOSTXT null, ECDOSE <= 0: row 2 (ECDOSE 0 "given").
@case("CORE-000137", {"EC": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("EC", "USUBJID ECSEQ ECTRT ECOCCUR ECSTAT ECDOSE ECDOSTXT",
                ("1", 1, "DRUG", "Y", "", 10, ""), ("1", 2, "DRUG", "Y", "", 5 if ok else 0, ""),
                ("1", 3, "DRUG", "N", "", 0, "")))


# AEOCCUR must not be in AE (dataset sensitivity: one result; the one AE record is row 1).
@case("CORE-000012", {"AE": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    if ok:
        return S(ds("AE", "USUBJID AESEQ AETERM", ("1", 1, "HEADACHE")))
    return S(ds("AE", "USUBJID AESEQ AETERM AEOCCUR", ("1", 1, "HEADACHE", "Y")))


# AESER not N (i.e. Y) while no seriousness criterion is Y: row 2 says serious with every
# criterion N.
@case("CORE-000266", {"AE": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("AE", AE_SER, ("1", 1, "HEADACHE", "N", "N", "N", "N", "N", "N", "N", "N", "N"),
                ("1", 2, "PNEUMONIA", "Y", "N", "N", "N", "N", "Y" if ok else "N", "N", "N", "N")))


# AEOUT = RECOVERED/RESOLVED needs AEENDTC: row 2.
@case("CORE-000659", {"AE": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("AE", "USUBJID AESEQ AETERM AEOUT AEENDTC",
                ("1", 1, "HEADACHE", "NOT RECOVERED/NOT RESOLVED", ""),
                ("1", 2, "RASH", "RECOVERED/RESOLVED", "2021-02-03" if ok else "")))


# DM.RFSTDTC null while --STRF is populated (AE, join DM): subject 2 has no RFSTDTC and
# AE row 2 says AESTRF = BEFORE.
@case("CORE-000262", {"AE": [2]}, name="CORE-000262-AE")
def _(ok: bool, tmp: Path) -> Submission:
    return S(dm(("1", "2021-01-10"), ("2", "")),
             ds("AE", "USUBJID AESEQ AETERM AESTRF", ("1", 1, "HEADACHE", "BEFORE"),
                ("2", 1, "RASH", "" if ok else "BEFORE")))


# DSTERM contains INFORMED CONSENT and DM.RFICDTC differs from the subject's earliest
# DSSTDTC (min_date, join DM): RFICDTC 2021-01-06, earliest 2021-01-05 -> row 1.
@case("CORE-000370", {"DS": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    ic = "INFORMED CONSENT OBTAINED"
    return S(ds("DM", "USUBJID RFICDTC", ("1", "2021-01-05" if ok else "2021-01-06")),
             ds("DS", "USUBJID DSSEQ DSTERM DSDECOD DSSTDTC", ("1", 1, ic, ic, "2021-01-05"),
                ("1", 2, "COMPLETED", "COMPLETED", "2021-06-01")))


# DM.DTHFL = Y needs a DS record with DSDECOD = DEATH (distinct DSDECOD per USUBJID, join DM):
# subject 2 died without one; its only DS record is row 2 (dataset sensitivity: one result).
@case("CORE-000679", {"DS": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("DM", "USUBJID DTHFL", ("1", "Y"), ("2", "" if ok else "Y")),
             ds("DS", "USUBJID DSSEQ DSTERM DSDECOD", ("1", 1, "DEATH", "DEATH"),
                ("2", 1, "COMPLETED", "COMPLETED")))


# DS DEATH record: DSSTDTC = DM.DTHDTC: row 1 (2021-05-02 vs 2021-05-01).
@case("CORE-000913", {"DS": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("DM", "USUBJID DTHDTC", ("1", "2021-05-01")),
             ds("DS", "USUBJID DSSEQ DSTERM DSDECOD DSSTDTC",
                ("1", 1, "DEATH", "DEATH", "2021-05-01" if ok else "2021-05-02"),
                ("1", 2, "INFORMED CONSENT OBTAINED", "INFORMED CONSENT OBTAINED", "2021-01-01")))


# DSCAT must be populated: row 2.
@case("CORE-000522", {"DS": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("DS", "USUBJID DSSEQ DSTERM DSDECOD DSCAT", ("1", 1, "COMPLETED", "COMPLETED",
                                                           "DISPOSITION EVENT"),
                ("2", 1, "COMPLETED", "COMPLETED", "DISPOSITION EVENT" if ok else "")))


# MHENDTC on or after DM.RFSTDTC (join DM): row 1 ended 2021-01-15, after the 2021-01-10 start.
@case("CORE-000250", {"MH": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(dm(("1", "2021-01-10")),
             ds("MH", "USUBJID MHSEQ MHTERM MHENDTC",
                ("1", 1, "BRONCHITIS", "2020-11-15" if ok else "2021-01-15"),
                ("1", 2, "ASTHMA", "")))


# LBORRES not a number while LBSTNRLO is populated: row 2 "TRACE".
@case("CORE-000298", {"LB": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("LB", "USUBJID LBSEQ LBTESTCD LBORRES LBSTNRLO", ("1", 1, "GLUC", "-0.5", "3.9"),
                ("1", 2, "PROT", "TRACE", "" if ok else "0"), ("1", 3, "PROT", ".5", "0")))


# LB: --PDUR must not be negative: row 2 "-P1D".
@case("CORE-000880", {"LB": [2]}, name="CORE-000880-LB")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("LB", "USUBJID LBSEQ LBTESTCD LBPDUR", ("1", 1, "CREAT", "P1D"),
                ("1", 2, "CREAT", "P1D" if ok else "-P1D"), ("1", 3, "GLUC", "")))


# LB: --REASND populated needs --STAT = NOT DONE: row 2.
@case("CORE-000225", {"LB": [2]}, name="CORE-000225-LB")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("LB", "USUBJID LBSEQ LBTESTCD LBSTAT LBREASND", ("1", 1, "GLUC", "", ""),
                ("1", 2, "CREAT", "NOT DONE" if ok else "", "SAMPLE LOST")))


# VSTPT and VSTPTNUM one to one within VISITNUM and VSTPTREF: in visit 1 after DOSE, VSTPT
# "1H POST" is VSTPTNUM 1 twice and 2 once -> the minority record (row 3).
@case("CORE-000689", {"VS": [3]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("VS", VS_T, ("1", 1, "SYSBP", 1, "1H POST", 1, "DOSE", "PT1H"),
                ("2", 1, "SYSBP", 1, "1H POST", 1, "DOSE", "PT1H"),
                ("3", 1, "SYSBP", 1, "1H POST", 1 if ok else 2, "DOSE", "PT1H"),
                ("3", 2, "SYSBP", 1, "2H POST", 3, "DOSE", "PT2H")))


# EG: --TOX populated needs --TOXGR: row 1.
@case("CORE-000102", {"EG": [1]}, name="CORE-000102-EG")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("EG", "USUBJID EGSEQ EGTESTCD EGTOX EGTOXGR",
                ("1", 1, "QTCF", "QTc prolongation", "2" if ok else ""), ("1", 2, "HR", "", "")))


# IECAT = EXCLUSION needs IEORRES = Y (the criterion met): row 2 says N.
@case("CORE-000011", {"IE": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("IE", "USUBJID IESEQ IETESTCD IECAT IEORRES", ("1", 1, "INCL01", "INCLUSION", "N"),
                ("2", 1, "EXCL02", "EXCLUSION", "Y" if ok else "N")))


# IESTRESC = IEORRES: row 1 (Y vs N).
@case("CORE-000025", {"IE": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("IE", "USUBJID IESEQ IETESTCD IECAT IEORRES IESTRESC",
                ("1", 1, "INCL01", "INCLUSION", "N", "N" if ok else "Y"),
                ("2", 1, "EXCL02", "EXCLUSION", "Y", "Y")))


# IETEST must be a TI.IETEST: row 1 "Age >= 18".
@case("CORE-000227", {"IE": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TI", *TI), ds("IE", "USUBJID IESEQ IETESTCD IETEST IECAT IEORRES",
                              ("1", 1, "INCL01", "Age 18 or over" if ok else "Age >= 18",
                               "INCLUSION", "N")))


# QS: --EVAL must not be used for QRS data (dataset sensitivity; the one QS record is row 1).
@case("CORE-000031", {"QS": [1]}, name="CORE-000031-QS")
def _(ok: bool, tmp: Path) -> Submission:
    cols = "USUBJID QSSEQ QSTESTCD QSORRES" + ("" if ok else " QSEVAL")
    return S(ds("QS", cols, ("1", 1, "PHQ01", "2", "INVESTIGATOR")))


# TSVALNF populated while TSVAL holds a value that is not a null flavour: row 2 (ACME + NI);
# row 1's UNK is a null flavour.
@case("CORE-000041", {"TS": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TS", TS + " TSVALNF", (1, "SPONSOR", "Clinical Study Sponsor", "UNK", "UNK"),
                (1, "TITLE", "Trial Title", "" if ok else "ACME", "NI")))


# TSVAL is a null flavour (or its description) while TSVALNF is null: row 2 "unknown".
@case("CORE-000787", {"TS": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TS", TS + " TSVALNF", (1, "TITLE", "Trial Title", "A study", ""),
                (1, "REGID", "Registry Identifier", "NCT01" if ok else "unknown", "")))


# TSPARMCD at most 8 characters: row 2 "ADDONTRTX" (9).
@case("CORE-000147", {"TS": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TS", TS, (1, "TITLE", "Trial Title", "A study"),
                (1, "ADDON" if ok else "ADDONTRTX", "Added on to Existing Treatments", "N")))


# TSPARMCD and TSPARM one to one: TITLE is "Trial Title" (row 1) and "Title" (row 2).
@case("CORE-000179", {"TS": [1, 2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TS", TS, (1, "TITLE", "Trial Title", "A study"),
                (2, "TITLE", "Trial Title" if ok else "Title", "Part 2"),
                (1, "SPONSOR", "Clinical Study Sponsor", "ACME")))


TS_CT = TS + " TSVALCD TSVCDREF TSVCDVER"


# TSVCDREF = CDISC needs TSVCDVER a published SDTM CT date (valid_codelist_dates): row 1's
# 2025-02-30 is none.
@case("CORE-000761", {"TS": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TS", TS_CT, (1, "STYPE", "Study Type", "INTERVENTIONAL", "C98388", "CDISC",
                              "2025-03-28" if ok else "2025-02-30"),
                (1, "TITLE", "Trial Title", "A study", "", "", "")))


# TSVALCD a term code of the CDISC CT version TSVCDVER (get_codelist_attributes "Term CCODE",
# 2025-03-28 is the vendored package): INTERVENTIONAL is C98388, row 1 says C98389X.
@case("CORE-001080", {"TS": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TS", TS_CT, (1, "STYPE", "Study Type", "INTERVENTIONAL",
                              "C98388" if ok else "C98389X", "CDISC", "2025-03-28"),
                (1, "TITLE", "Trial Title", "A study", "", "", "")))


# healthy subjects (HLTSUBJI = Y, record_count with filter) need INDIC with TSVALNF = NA:
# here INDIC has a TSVAL, and the rule reports every TS record (rows 1-3).
@case("CORE-000742", {"TS": [1, 2, 3]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TS", TS + " TSVALNF", (1, "HLTSUBJI", "Healthy Subject Indicator", "Y", ""),
                (1, "INDIC", "Trial Disease/Condition Indication", "" if ok else "Asthma",
                 "NA" if ok else ""),
                (1, "TITLE", "Trial Title", "A study", "")))


# TA: ARMCD at most 20 characters: row 2 (21).
@case("CORE-000010", {"TA": [2]}, name="CORE-000010-TA")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TA", TA, ("A", "Drug A", 1, "SCRN", "Screening", "SCREENING"),
                ("B" * (20 if ok else 21), "Placebo", 1, "SCRN", "Screening", "SCREENING")))


# TA: ARMCD and ARM one to one: ARMCD B is "Placebo" (row 2) and "Drug B" (row 3).
@case("CORE-000318", {"TA": [2, 3]}, name="CORE-000318-TA")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TA", TA, ("A", "Drug A", 1, "SCRN", "Screening", "SCREENING"),
                ("B", "Placebo", 1, "SCRN", "Screening", "SCREENING"),
                ("B", "Placebo" if ok else "Drug B", 2, "TRT", "Treatment", "TREATMENT")))


# TE: the combination ETCD, ELEMENT, TESTRL, TEENRL, TEDUR unique: TRT is repeated
# identically (rows 2, 3).
@case("CORE-000580", {"TE": [2, 3]})
def _(ok: bool, tmp: Path) -> Submission:
    rows = [("SCRN", "Screening", "Informed consent", "", "P14D"),
            ("TRT", "Treatment", "First dose", "", "P28D"),
            ("FU", "Follow-up", "Last dose", "", "P28D")]
    return S(ds("TE", TE, *(rows if ok else rows[:2] + [rows[1]])))


# TE: ETCD at most 8 characters: row 2 "TREATMENT" (9).
@case("CORE-000143", {"TE": [2]}, name="CORE-000143-TE")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TE", TE, ("SCRN", "Screening", "Informed consent", "", "P14D"),
                ("TRT" if ok else "TREATMENT", "Treatment", "First dose", "", "P28D")))


# TV.ARM must be a TA.ARM: TV row 2 "Drug B".
@case("CORE-000156", {"TV": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TA", TA, ("A", "Drug A", 1, "SCRN", "Screening", "SCREENING")),
             ds("TV", "VISITNUM VISIT ARMCD ARM", (1, "SCREENING", "A", "Drug A"),
                (2, "WEEK 1", "A", "Drug A" if ok else "Drug B")))


# TI with TIVERS: IETESTCD unique within TIVERS: version 1 has INCL01 twice (rows 1, 2);
# version 2's INCL01 is another set.
@case("CORE-000145", {"TI": [1, 2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("TI", "IETESTCD IETEST IECAT TIVERS",
                ("INCL01", "Age 18 or over", "INCLUSION", "1"),
                ("INCL02" if ok else "INCL01", "Signed consent", "INCLUSION", "1"),
                ("INCL01", "Age 18 or over", "INCLUSION", "2")))


# TI: IESCAT present without IECAT (dataset sensitivity; the one TI record is row 1).
@case("CORE-000786", {"TI": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    cols = "IETESTCD IETEST IESCAT" + (" IECAT" if ok else "")
    return S(ds("TI", cols, ("INCL01", "Age 18 or over", "MAJOR", "INCLUSION")))


# SUPP--: RDOMAIN not DM needs IDVAR: SUPPAE row 2.
@case("CORE-000134", {"SUPPAE": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds(*AE_PARENT), supp("SUPPAE", TRTEM1,
                                  ("AE", "2", "AESEQ" if ok else "", "1" if ok else "", "AETRTEM",
                                   "Treatment Emergent", "N")))


# SUPP--: IDVAR populated needs IDVARVAL: SUPPAE row 2.
@case("CORE-000135", {"SUPPAE": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds(*AE_PARENT), supp("SUPPAE", TRTEM1,
                                  ("AE", "2", "AESEQ", "1" if ok else "", "AETRTEM",
                                   "Treatment Emergent", "N")))


# SUPP--: IDVAR null with IDVARVAL populated: SUPPAE row 2.
@case("CORE-000218", {"SUPPAE": [2]}, name="CORE-000218-SUPPAE")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds(*AE_PARENT), supp("SUPPAE", TRTEM1,
                                  ("AE", "2", "AESEQ" if ok else "", "1", "AETRTEM",
                                   "Treatment Emergent", "N")))


# SUPPDM must not hold population flags: row 2 QNAM SAFFL.
@case("CORE-000211", {"SUPPDM": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("DM", "USUBJID RACE", ("1", "WHITE")),
             supp("SUPPDM", ("DM", "1", "", "", "RACEOTH", "Race, Other", "MAORI"),
                  ("DM", "1", "", "", "BMIGRP" if ok else "SAFFL", "Flag", "Y")))


# SUPP--: QLABEL at most 40 characters: row 1 (41).
@case("CORE-000222", {"SUPPAE": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    label = "Treatment Emergent Flag of the Adverse E" + ("" if ok else "v")  # 40 / 41
    return S(ds(*AE_PARENT), supp("SUPPAE", ("AE", "1", "AESEQ", "1", "AETRTEM", label, "Y")))


# SUPP--: QNAM and QLABEL one to one: AETRTEM is labelled two ways (rows 1, 2).
@case("CORE-000302", {"SUPPAE": [1, 2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds(*AE_PARENT), supp("SUPPAE", TRTEM1,
                                  ("AE", "1", "AESEQ", "2", "AETRTEM",
                                   "Treatment Emergent" if ok else "Treatment-emergent Flag", "Y")))


# SUPP--.RDOMAIN must be a dataset of the study (study_domains; dataset sensitivity, the one
# SUPPCM record is row 1): CM is absent.
@case("CORE-000457", {"SUPPCM": [1]})
def _(ok: bool, tmp: Path) -> Submission:
    cm = (ds("CM", "USUBJID CMSEQ CMTRT", ("1", 1, "ASPIRIN")),) if ok else ()
    return S(ds(*AE_PARENT), *cm,
             supp("SUPPCM", ("CM", "1", "CMSEQ", "1", "CMINDC2", "Indication 2", "PAIN")))


# SUPP--.QNAM must not be a variable of the parent's SDTM class (get_parent_model_column_order,
# Events: --SEV -> AESEV): SUPPAE row 2.
@case("CORE-000783", {"SUPPAE": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds(*AE_PARENT), supp("SUPPAE", TRTEM1,
                                  ("AE", "1", "AESEQ", "2", "AESEVX" if ok else "AESEV", "Severity",
                                   "MILD")))


# RELREC (child join): IDVAR must be a variable of the RDOMAIN dataset: row 2's CMGRPID is not
# a CM variable here.
@case("CORE-000916", {"RELREC": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds(*AE_PARENT), ds("CM", "USUBJID CMSEQ CMTRT", ("1", 1, "ASPIRIN")),
             ds("RELREC", REL, ("AE", "1", "AESEQ", "1", "", "R1"),
                ("CM", "1", "CMSEQ" if ok else "CMGRPID", "1", "", "R1"), domain=None))


# RELREC.RDOMAIN must be a dataset of the study (study_domains): row 2's LB is absent.
@case("CORE-000384", {"RELREC": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds(*AE_PARENT), ds("CM", "USUBJID CMSEQ CMTRT", ("1", 1, "ASPIRIN")),
             ds("RELREC", REL, ("AE", "1", "AESEQ", "1", "", "R1"),
                ("CM" if ok else "LB", "1", "CMSEQ" if ok else "LBSEQ", "1", "", "R1"),
                domain=None))


# --ENDY by the study day algorithm (CM, join DM): RFSTDTC 2021-01-10; CMENDTC 2021-01-05 is
# day -5 (row 1 says -4).
@case("CORE-000553", {"CM": [1]}, name="CORE-000553-CM")
def _(ok: bool, tmp: Path) -> Submission:
    return S(dm(("1", "2021-01-10")),
             ds("CM", "USUBJID CMSEQ CMTRT CMENDTC CMENDY",
                ("1", 1, "ASPIRIN", "2021-01-05", -5 if ok else -4),
                ("1", 2, "IBUPROFEN", "2021-01-11", 2)))


# DM.RFENDTC null while --ENRF is populated (CM, join DM): subject 2, CM row 2.
@case("CORE-000177", {"CM": [2]}, name="CORE-000177-CM")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("DM", "USUBJID RFSTDTC RFENDTC", ("1", "2021-01-10", "2021-06-01"),
                ("2", "2021-01-11", "")),
             ds("CM", "USUBJID CMSEQ CMTRT CMENRF", ("1", 1, "ASPIRIN", "ONGOING"),
                ("2", 1, "IBUPROFEN", "" if ok else "ONGOING")))


# --ENDTC after DM.RFPENDTC (CM, join DM): row 2 ends 2021-08-01, participation ended 2021-07-01.
@case("CORE-000952", {"CM": [2]}, name="CORE-000952-CM")
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("DM", "USUBJID RFPENDTC", ("1", "2021-07-01")),
             ds("CM", "USUBJID CMSEQ CMTRT CMENDTC", ("1", 1, "ASPIRIN", "2021-07-01"),
                ("1", 2, "IBUPROFEN", "2021-06-30" if ok else "2021-08-01")))


# ADaM BDS: AVAL or AVALC populated (AD0005): row 2 has neither.
@case("AD0005", {"ADLB": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return A(ds("ADLB", "USUBJID PARAMCD PARAM AVAL AVALC",
                ("1", "GLUC", "Glucose (mmol/L)", 5.2, ""),
                ("1", "HCG", "hCG", None, "NEGATIVE" if ok else ""), domain=None))


# ADTTE: AVAL (time to event) not negative (AD0008): row 2.
@case("AD0008", {"ADTTE": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return A(ds("ADTTE", TTE, ("1", "OS", 100, 0, "DEATH"), ("2", "OS", 12 if ok else -12, 1, ""),
                domain=None))


# ADaM BDS / OCCDS subjects must be ADSL subjects (AD0003, with the SDTM part): ADAE row 2's
# subject 3.
@case("AD0003", {"ADAE": [2]})
def _(ok: bool, tmp: Path) -> Submission:
    return SA((dm(("1", "2021-01-10")),),
              (ds("ADSL", "USUBJID", ("1",), ("2",), domain=None),
               ds("ADAE", "USUBJID AETERM AEDECOD", ("1", "RASH", "Rash"),
                  ("2" if ok else "3", "COUGH", "Cough"), domain=None)))


# EXVAMTU in EX while EC exists (variable_exists on EX): the EX dataset is reported.
@case("CORE-000292", {"EX": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    return S(ds("EX", "USUBJID EXSEQ EXTRT" + ("" if ok else " EXVAMTU"),
                ("1", 1, "DRUG", "mL")),
             ds("EC", "USUBJID ECSEQ ECTRT", ("1", 1, "DRUG")))


# RELMIDS in a dataset (CE) while TM is missing: the CE dataset is reported.
@case("CORE-000777", {"CE": [0]})
def _(ok: bool, tmp: Path) -> Submission:
    tm = (ds("TM", "MIDSTYPE TMDEF", ("HYPOGLYCEMIC EVENT", "Glucose < 3 mmol/L")),) if ok else ()
    return S(ds("CE", "USUBJID CESEQ CETERM RELMIDS", ("1", 1, "HYPOGLYCAEMIA", "START")), *tm)


# --- the tests -----------------------------------------------------------------------------------

def _param(c: Case):  # type: ignore[no-untyped-def]
    return pytest.param(c, id=c.name)


@pytest.mark.parametrize("c", [_param(c) for c in CASES])
def test_rule_passes(c: Case, tmp_path: Path) -> None:
    run_, findings = run(c.rule, c.build(True, tmp_path))
    assert (run_.status, findings) == ("passed", []), run_.reason


@pytest.mark.parametrize("c", [_param(c) for c in CASES])
def test_rule_fails_on_the_rows_derived_by_hand(c: Case, tmp_path: Path) -> None:
    run_, findings = run(c.rule, c.build(False, tmp_path))
    assert run_.status == "failed", run_.reason
    assert failing_rows(findings) == c.rows
    assert all(f.rule == c.rule for f in findings)


# --- skipped: what the rule needs is not in the package ------------------------------------------

SKIPPED_DATASET = [
    # EX rule, no EX dataset
    ("CORE-000005", lambda: S(dm(("1", "2021-01-10"))), "EX"),
    # DM-SS join, SS absent
    ("CORE-000008", lambda: S(ds("DM", "USUBJID DTHFL", ("1", "Y"))), "SS"),
    # distinct TV.VISIT, TV absent
    ("CORE-000036", lambda: S(ds("SV", SV, ("1", 1, "SCREENING", "Y", "2021-01-01", ""))), "TV"),
    # max_date of EX, EX absent
    ("CORE-000238", lambda: S(ds("DM", "USUBJID RFXENDTC", ("1", "2021-01-12"))), "EX"),
    # study day join DM (AE), DM absent
    ("CORE-000529", lambda: S(ds("AE", "USUBJID AESEQ AEDTC AEDY", ("1", 1, "2021-01-12", 3))),
     "DM"),
]


@pytest.mark.parametrize("rule, build, name", SKIPPED_DATASET,
                         ids=[r for r, _, _ in SKIPPED_DATASET])
def test_rule_is_skipped_naming_the_absent_dataset(rule: str, build, name: str) -> None:
    run_, findings = run(rule, build())
    assert run_.status == "skipped" and findings == []
    assert re.search(rf"\b{name}\b", run_.reason), run_.reason


SKIPPED_VARIABLE = [
    # EXDOSE absent from EX
    ("CORE-000005", lambda: S(ds("EX", "USUBJID EXSEQ EXTRT", ("1", 1, "PLACEBO"))), "EXDOSE"),
    # SSSTRESC absent from the SS joined to DM
    ("CORE-000008", lambda: S(ds("DM", "USUBJID DTHFL", ("1", "Y")),
                              ds("SS", "USUBJID SSSEQ SSTESTCD", ("1", 1, "SURVSTAT"))),
     "SSSTRESC"),
    # AEDY absent (the dy check's target)
    ("CORE-000529", lambda: S(dm(("1", "2021-01-10")),
                              ds("AE", "USUBJID AESEQ AEDTC", ("1", 1, "2021-01-12"))), "AEDY"),
    # EPOCH absent: record_count's group variable
    ("CORE-000214", lambda: S(ds("DS", "USUBJID DSSEQ DSDECOD DSCAT DSSCAT", (
        "1", 1, "COMPLETED", "DISPOSITION EVENT", "STUDY PARTICIPATION"))),
     "EPOCH"),
    # SESEQ absent: the ordering of does_not_have_next_corresponding_record
    pytest.param("CORE-000352", lambda: S(ds("SE", "USUBJID ETCD SESTDTC SEENDTC",
                                             ("1", "SCRN", "2021-01-01", "2021-01-10"))), "SESEQ",
                 id="CORE-000352"),
]


@pytest.mark.parametrize("rule, build, name", SKIPPED_VARIABLE,
                         ids=[p[0] if isinstance(p, tuple) else p.id for p in SKIPPED_VARIABLE])
def test_rule_is_skipped_naming_the_absent_variable(rule: str, build, name: str) -> None:
    run_, findings = run(rule, build())
    assert run_.status == "skipped" and findings == []
    assert re.search(rf"\b{name}\b", run_.reason), run_.reason


# --- Dataset sensitivity: one result per dataset (schema/Sensitivity.md; CORE's
# generate_dataset_error_objects makes one error of the first failing row) -------------------------

DATASET_SENSITIVITY = [
    # AEOCCUR present in an AE of two records: one result for AE
    ("CORE-000012", lambda: S(ds("AE", "USUBJID AESEQ AETERM AEOCCUR", ("1", 1, "HEADACHE", "Y"),
                                 ("1", 2, "RASH", "N")))),
    # AEDECOD missing: one result for AE, not one per AE variable
    ("CORE-000355", lambda: S(ds("AE", "USUBJID AESEQ AETERM AESTDTC", ("1", 1, "HEADACHE",
                                                                         "2021-01-12")))),
    # AETERM before AESEQ: one result for AE
    ("CORE-000852", lambda: S(ds("AE", "USUBJID AETERM AESEQ", ("1", "HEADACHE", 1)))),
]


@pytest.mark.parametrize("rule, build", DATASET_SENSITIVITY,
                         ids=[r for r, _ in DATASET_SENSITIVITY])
def test_dataset_sensitivity_reports_a_dataset_once(rule: str, build) -> None:
    assert RULES[rule].sensitivity == "Dataset"
    run_, findings = run(rule, build())
    assert run_.status == "failed"
    assert [(f.dataset, f.count, len(f.records)) for f in findings] == [("AE", 1, 1)]
