"""Data-cut baseline (new / open / resolved, matched by USUBJID and key, never by row) and
waivers (waivers.yaml, split findings, unused waivers): units on hand-made findings, then end
to end through `cdisc validate` on two small SDTM cuts written with the project's XPT writer."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cdisc.cli import main
from cdisc.errors import InputError
from cdisc.validate.baseline import apply_baseline, load_baseline
from cdisc.validate.model import Finding, Record
from cdisc.validate.report import Report, to_json
from cdisc.validate.waivers import apply_waivers, load_waivers


def rec(row: int, usubjid: str, seq: int, value: str = "") -> Record:
    return Record(row, usubjid, f"AESEQ={seq}", value)


def orphan(*records: Record, count: int | None = None) -> Finding:
    return Finding("CORE-000201", "error", "AE", "USUBJID", "USUBJID not in DM",
                   len(records) if count is None else count,
                   tuple(r.row for r in records), tuple(r.value for r in records), "CG0001",
                   tuple(records))


def report(*findings: Finding) -> Report:
    return Report("sdtm", "sdtm", ["AE", "DM"], list(findings))


def saved(tmp_path: Path, rep: Report, name: str = "report.json") -> Path:
    path = tmp_path / name
    path.write_text(to_json(rep), encoding="utf-8")
    return path


DATASET_LEVEL = Finding("TRC1734", "reject", "STUDY", None, "TS dataset is missing", 1,
                        reference="TRC1734", records=(Record(0),))


# --- baseline ----------------------------------------------------------------------------------


def test_records_match_by_usubjid_and_key_not_by_row(tmp_path: Path) -> None:
    before = saved(tmp_path, report(
        orphan(rec(3, "S1-098", 1, "USUBJID=S1-098"), rec(9, "S1-097", 4, "USUBJID=S1-097")),
        DATASET_LEVEL))
    # the next cut: rows moved, S1-097 fixed, S1-098 still there; a second finding adds S1-099
    now = report(orphan(rec(1, "S1-098", 1, "USUBJID=S1-098")),
                 replace(orphan(rec(5, "S1-098", 1), rec(6, "S1-099", 2)),
                         message="USUBJID not in DM (second check)"),
                 DATASET_LEVEL)
    out = apply_baseline(now, before)
    assert [f.status for f in out.findings] == ["open", "new", "open"]
    assert out.baseline == str(before)
    assert [(f.rule, f.status, f.count, [r.usubjid for r in f.records], f.rows)
            for f in out.resolved] == [("CORE-000201", "resolved", 1, ["S1-097"], (9,))]
    doc = json.loads(to_json(out))
    assert (doc["summary"]["new"], doc["summary"]["open"], doc["summary"]["resolved"]) == (1, 2, 1)
    assert doc["resolved"][0]["records"][0]["key"] == "AESEQ=4"


def test_same_row_other_record_is_new(tmp_path: Path) -> None:
    before = saved(tmp_path, report(orphan(rec(3, "S1-098", 1))))
    out = apply_baseline(report(orphan(rec(3, "S1-099", 1))), before)
    assert out.findings[0].status == "new"
    assert [r.usubjid for r in out.resolved[0].records] == ["S1-098"]


def test_dataset_level_findings_match_by_rule_dataset_variable_message(tmp_path: Path) -> None:
    before = saved(tmp_path, report(DATASET_LEVEL))
    other = replace(DATASET_LEVEL, message="TS has no record with TSPARMCD = SSTDTC",
                    rule="TRC1734B")
    out = apply_baseline(report(DATASET_LEVEL, other), before)
    assert [f.status for f in out.findings] == ["open", "new"]
    assert out.resolved == []
    gone = apply_baseline(report(), before)
    assert [(f.rule, f.status) for f in gone.resolved] == [("TRC1734", "resolved")]


def test_schema_1_baseline_and_findings_without_records(tmp_path: Path) -> None:
    """Schema 1 had rows but no records: findings are then matched as a whole by (rule,
    dataset, variable, message), whatever rows they name now."""
    v1 = {"schema": "cdisc-validate/1", "folder": "sdtm", "standard": "sdtm",
          "summary": {"error": 1, "warning": 0, "notice": 0, "datasets": 2}, "not_checked": [],
          "findings": [{"rule": "CD0001", "severity": "error", "dataset": "AE",
                        "variable": "USUBJID", "message": "AE.USUBJID not in DM", "count": 1,
                        "rows": [1], "values": ["S1-098"], "reference": None},
                       {"rule": "CD0005", "severity": "error", "dataset": "AE",
                        "variable": "AEENDTC", "message": "AEENDTC is before AESTDTC",
                        "count": 1, "rows": [2], "values": ["2024-01-14"], "reference": None}]}
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(v1))
    now = report(Finding("CD0001", "error", "AE", "USUBJID", "AE.USUBJID not in DM", 2, (4, 7),
                         ("S1-098", "S1-099")),
                 Finding("CD0004", "error", "AE", "AESTDY", "AESTDY differs", 1, (3,), ("0",)))
    out = apply_baseline(now, path)
    assert [f.status for f in out.findings] == ["open", "new"]
    assert [f.rule for f in out.resolved] == ["CD0005"]
    # records now, none in the schema-1 baseline: the finding as a whole still matches
    with_records = report(orphan(rec(4, "S1-098", 1), rec(7, "S1-099", 2)))
    with_records.findings[0] = replace(with_records.findings[0], rule="CD0001",
                                       message="AE.USUBJID not in DM")
    assert apply_baseline(with_records, path).findings[0].status == "open"


@pytest.mark.parametrize("content, message", [
    (None, "baseline report not found"),
    ("{not json", "invalid JSON at line 1"),
    ('{"schema": "other/1", "findings": []}', "schema 'other/1'"),
    ('{"schema": "cdisc-validate/2"}', "no 'findings' list"),
    ('{"schema": "cdisc-validate/2", "findings": [{"rule": "X"}]}', "finding 1: 'severity'"),
    ('{"schema": "cdisc-validate/2", "findings": [{"rule": "X", "severity": "fatal", '
     '"dataset": "AE", "message": "m"}]}', "unknown severity 'fatal'"),
    ("[1, 2]", "schema None"),
])
def test_bad_baseline_is_an_input_error_naming_the_file(tmp_path: Path, content: str | None,
                                                        message: str) -> None:
    path = tmp_path / "prev.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputError) as info:
        load_baseline(path)
    line = info.value.one_line()
    assert line.startswith(f"{path}: ") and message in line and "\n" not in line
    assert info.value.exit_code == 2


# --- waivers: the file -------------------------------------------------------------------------

GOOD = """\
- rule: CORE-000201
  dataset: ae
  where:
    USUBJID: S1-098
  justification: Subject screened twice, reconciled with the site
  author: J. Smith
  date: 2024-05-01
- rule: CG0069
  dataset: AE
  where: {AESEQ: [2, 3], USUBJID: S1-001}
  justification: Dates confirmed by the site
  author: J. Smith
  date: "2024-05-02"
- rule: CORE-000006
  dataset: DM
  justification: Nothing to waive any more
  author: A. Lee
  date: 2024-05-03
"""


def test_load_waivers(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(GOOD)
    waivers = load_waivers(path)
    assert [(w.entry, w.rule, w.dataset, w.date) for w in waivers] == [
        (1, "CORE-000201", "AE", "2024-05-01"), (2, "CG0069", "AE", "2024-05-02"),
        (3, "CORE-000006", "DM", "2024-05-03")]
    assert waivers[1].where == (("AESEQ", (2, 3)), ("USUBJID", ("S1-001",)))
    assert waivers[1].as_dict()["where"] == {"AESEQ": [2, 3], "USUBJID": "S1-001"}
    assert waivers[2].where == ()


@pytest.mark.parametrize("change, message", [
    (lambda t: t.replace("  author: A. Lee\n", ""), "waiver 3: missing 'author'"),
    (lambda t: t.replace("  justification: Dates confirmed by the site\n", ""),
     "waiver 2: missing 'justification'"),
    (lambda t: t.replace("justification: Nothing", "justifcation: Nothing"),
     "waiver 3: unknown field 'justifcation'"),
    (lambda t: t.replace("USUBJID: S1-098", "USUBJID: yes"), "waiver 1: 'where': USUBJID: True "
                                                            "is a YAML boolean"),
    (lambda t: t.replace("date: 2024-05-03", "date: 03/05/2024"), "waiver 3: 'date'"),
    (lambda t: t.replace("where: {AESEQ: [2, 3], USUBJID: S1-001}", "where: AESEQ == 2"),
     "waiver 2: 'where' must be a mapping"),
    (lambda t: t.replace("where: {AESEQ: [2, 3], USUBJID: S1-001}", "where: {AESEQ: []}"),
     "waiver 2: 'where': AESEQ: empty list"),
    (lambda t: "rule: X\n", "must be a YAML list"),
    (lambda t: t.replace("rule: CG0069", "rule: !!python/name:os.system CG0069"),
     "tags are not allowed"),
])
def test_bad_waivers_name_the_file_and_entry(tmp_path: Path, change, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "waivers.yaml"
    path.write_text(change(GOOD))
    with pytest.raises(InputError) as info:
        load_waivers(path)
    line = info.value.one_line()
    assert line.startswith(str(path)) and message in line, line


def test_missing_field_names_the_entry_line(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(GOOD.replace("  author: A. Lee\n", ""))
    with pytest.raises(InputError) as info:
        load_waivers(path)
    assert info.value.row == 14  # the line of "- rule: CORE-000006"
    with pytest.raises(InputError, match="waivers file not found"):
        load_waivers(tmp_path / "none.yaml")


# --- waivers: matching -------------------------------------------------------------------------


def waivers(tmp_path: Path) -> list:  # type: ignore[type-arg]
    path = tmp_path / "waivers.yaml"
    path.write_text(GOOD)
    return load_waivers(path)


def end_before_start(*records: Record) -> Finding:
    return Finding("CORE-000718", "warning", "AE", "AEENDTC", "AEENDTC before AESTDTC",
                   len(records), tuple(r.row for r in records), tuple(r.value for r in records),
                   "CG0069, FB0611", tuple(records))


def test_waiver_splits_a_finding_and_matches_references(tmp_path: Path) -> None:
    rep = report(orphan(rec(1, "S1-098", 1, "USUBJID=S1-098"), rec(4, "S1-099", 2,
                                                                  "USUBJID=S1-099")),
                 end_before_start(rec(2, "S1-001", 2, "AEENDTC=2024-01-14"),
                                  Record(5, "S1-001", "AESEQ=3.0", "AEENDTC=2024-01-01"),
                                  rec(8, "S1-002", 2, "AEENDTC=2024-01-02")))
    out = apply_waivers(rep, waivers(tmp_path))
    parts = {(f.rule, bool(f.waiver)): f for f in out.findings}
    assert len(out.findings) == 4
    waived = parts[("CORE-000201", True)]
    assert (waived.count, [r.usubjid for r in waived.records], waived.rows, waived.values) == \
        (1, ["S1-098"], (1,), ("USUBJID=S1-098",))
    assert waived.waiver == "Subject screened twice, reconciled with the site"
    rest = parts[("CORE-000201", False)]
    assert (rest.count, [r.usubjid for r in rest.records], rest.rows) == (1, ["S1-099"], (4,))
    # CG0069 is a reference of CORE-000718; AESEQ 2 or 3 of S1-001 (3 matches "AESEQ=3.0")
    assert [r.row for r in parts[("CORE-000718", True)].records] == [2, 5]
    assert [r.row for r in parts[("CORE-000718", False)].records] == [8]
    assert [(w["entry"], w["matched_findings"], w["matched_records"]) for w in out.waivers] == \
        [(1, 1, 1), (2, 1, 2), (3, 0, 0)]
    assert [w["entry"] for w in out.unused_waivers()] == [3]
    summary = out.summary()
    assert (summary["waived"], summary["error"], summary["warning"]) == (2, 1, 1)
    assert summary["unused_waivers"] == 1


def test_waiver_without_where_waives_whole_findings_and_fail_on_ignores_them(
        tmp_path: Path) -> None:
    from cdisc.validate.waivers import Waiver

    everything = Waiver(1, "CORE-000201", "AE", (), "Accepted for this cut", "J. Smith",
                        "2024-05-01")
    rep = report(orphan(rec(1, "S1-098", 1), rec(4, "S1-099", 2), count=1500))
    out = apply_waivers(rep, [everything])
    assert [(f.count, f.waiver) for f in out.findings] == [(1500, "Accepted for this cut")]
    assert not out.worst_at_least("notice")
    assert rep.worst_at_least("error")


def test_records_not_carried_stay_unwaived(tmp_path: Path) -> None:
    """A finding carries at most MAX_RECORDS records; the others cannot be checked against
    `where`, so they stay in the finding that is not waived."""
    rep = report(orphan(rec(1, "S1-098", 1), count=1200))
    out = apply_waivers(rep, waivers(tmp_path))
    assert sorted((f.count, bool(f.waiver)) for f in out.findings) == [(1, True), (1199, False)]
    assert out.worst_at_least("error")


def test_where_text_is_exact_and_rows_without_records_use_the_value(tmp_path: Path) -> None:
    from cdisc.validate.waivers import Waiver

    padded = Waiver(1, "CD0001", "AE", (("USUBJID", ("001",)),), "j", "a", "2024-01-01")
    # an engine that fills rows/values only: the value is the finding's variable
    f = Finding("CD0001", "error", "AE", "USUBJID", "AE.USUBJID not in DM", 2, (3, 9),
                ("1", "001"))
    out = apply_waivers(report(f), [padded])
    by = {bool(x.waiver): x for x in out.findings}
    assert (by[True].rows, by[True].values, by[True].count) == ((9,), ("001",), 1)
    assert (by[False].rows, by[False].values, by[False].count) == ((3,), ("1",), 1)


# --- end to end through the CLI ----------------------------------------------------------------

DM_COLUMNS = [("STUDYID", "Study Identifier", "Char"), ("DOMAIN", "Domain Abbreviation", "Char"),
              ("USUBJID", "Unique Subject Identifier", "Char"),
              ("SUBJID", "Subject Identifier for the Study", "Char"),
              ("RFSTDTC", "Subject Reference Start Date/Time", "Char"),
              ("SEX", "Sex", "Char")]
AE_COLUMNS = [("STUDYID", "Study Identifier", "Char"), ("DOMAIN", "Domain Abbreviation", "Char"),
              ("USUBJID", "Unique Subject Identifier", "Char"),
              ("AESEQ", "Sequence Number", "Num"),
              ("AETERM", "Reported Term for the Adverse Event", "Char"),
              ("AESTDTC", "Start Date/Time of Adverse Event", "Char"),
              ("AEENDTC", "End Date/Time of Adverse Event", "Char")]
DM_ROWS = [["S1", "DM", f"S1-00{i}", f"00{i}", "2024-01-10", "F"] for i in (1, 2, 3)]
# cut 1: S1-098 is not in DM (fixed in cut 2); S1-001's AESEQ 2 ends before it starts (stays)
AE_CUT1 = [["S1", "AE", "S1-001", 1, "HEADACHE", "2024-01-12", "2024-01-13"],
           ["S1", "AE", "S1-001", 2, "NAUSEA", "2024-01-15", "2024-01-14"],
           ["S1", "AE", "S1-002", 1, "RASH", "2024-01-11", ""],
           ["S1", "AE", "S1-098", 1, "FATIGUE", "2024-01-12", ""]]
# cut 2: rows re-ordered, S1-098 corrected to S1-003, and two records of subjects not in DM
AE_CUT2 = [["S1", "AE", "S1-099", 1, "COUGH", "2024-02-01", ""],
           ["S1", "AE", "S1-002", 1, "RASH", "2024-01-11", ""],
           ["S1", "AE", "S1-003", 1, "FATIGUE", "2024-01-12", ""],
           ["S1", "AE", "S1-001", 2, "NAUSEA", "2024-01-15", "2024-01-14"],
           ["S1", "AE", "S1-097", 1, "PYREXIA", "2024-02-03", ""],
           ["S1", "AE", "S1-001", 1, "HEADACHE", "2024-01-12", "2024-01-13"]]


def write_cut(folder: Path, ae_rows: list[list]) -> Path:  # type: ignore[type-arg]
    from cdisc.io.xpt import write_xpt
    from cdisc.model import Column, Dataset

    folder.mkdir(parents=True)
    for name, label, columns, rows in (("DM", "Demographics", DM_COLUMNS, DM_ROWS),
                                       ("AE", "Adverse Events", AE_COLUMNS, ae_rows)):
        frame = pd.DataFrame(rows, columns=[c for c, _, _ in columns])
        write_xpt(Dataset(name, label, [Column(c, lab, t) for c, lab, t in columns], frame,
                          keys=("STUDYID", "USUBJID", f"{name}SEQ") if name == "AE"
                          else ("STUDYID", "USUBJID")),
                  folder / f"{name.lower()}.xpt")
    return folder


def cli(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["validate", *args, "--no-gx"], catch_exceptions=False)


@pytest.fixture(scope="module")
def cuts(tmp_path_factory) -> tuple[Path, Path, Path]:  # type: ignore[no-untyped-def]
    """Two cuts and cut 1's report.json."""
    root = tmp_path_factory.mktemp("cuts")
    cut1 = write_cut(root / "cut1" / "sdtm", AE_CUT1)
    cut2 = write_cut(root / "cut2" / "sdtm", AE_CUT2)
    result = cli(str(cut1), "--json", str(root / "cut1.json"))
    assert result.exit_code in (0, 1), result.output
    return cut1, cut2, root / "cut1.json"


def mentions(f: dict, usubjid: str) -> bool:
    return usubjid in json.dumps([f["records"], f["values"]])


def orphans(doc: dict, key: str = "findings") -> list[dict]:
    """The findings about AE subjects that are not in DM (whatever rule id reports them)."""
    return [f for f in doc[key] if f["dataset"] == "AE" and "USUBJID" in (f["variable"] or "")
            and any(mentions(f, s) for s in ("S1-097", "S1-098", "S1-099"))]


def end_before_start_findings(doc: dict) -> list[dict]:
    """The findings of S1-001's AE that ends before it starts, and of no other record."""
    return [f for f in doc["findings"] if f["dataset"] == "AE" and "AEENDTC" in
            (f["variable"] or "") and f["records"] and all(
                r["usubjid"] == "S1-001" and "AEENDTC=2024-01-14" in r["value"]
                for r in f["records"])]


def test_cut1_reports_both_defects(cuts) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(cuts[2].read_text())
    assert doc["schema"] == "cdisc-validate/2" and doc["baseline"] is None
    assert [f["rule"] for f in orphans(doc)], "an AE subject not in DM is reported"
    assert end_before_start_findings(doc)
    assert all(f["status"] == "" for f in doc["findings"])


def test_baseline_new_open_resolved_through_the_cli(cuts, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cut1, cut2, before = cuts
    out = tmp_path / "cut2.json"
    result = cli(str(cut2), "--baseline", str(before), "--json", str(out), "--sarif",
                 str(tmp_path / "cut2.sarif"), "--excel", str(tmp_path / "cut2.xlsx"),
                 "--fail-on-new")
    assert result.exit_code == 1, result.output  # a new error: the subjects not in DM
    doc = json.loads(out.read_text())
    s = doc["summary"]
    assert s["new"] >= 1 and s["open"] >= 1 and s["resolved"] >= 1
    assert f"{s['new']} new, {s['open']} open, {s['resolved']} resolved" in result.output
    new = orphans(doc)
    assert new and all(f["status"] == "new" for f in new)
    assert any(mentions(f, "S1-099") for f in new) and not any(mentions(f, "S1-098")
                                                               for f in new)
    # the end date before the start date is still there, on another row: open
    end = end_before_start_findings(doc)
    assert end and all(f["status"] == "open" for f in end)
    assert {r["row"] for f in end for r in f["records"]} == {4}  # was row 2 in cut 1
    # S1-098 was corrected: resolved
    gone = orphans(doc, "resolved")
    assert gone and all(mentions(f, "S1-098") for f in gone)
    assert all(f["status"] == "resolved" for f in doc["resolved"])
    # every finding of both cuts is accounted for
    assert {f["status"] for f in doc["findings"]} <= {"new", "open"}
    sarif = json.loads((tmp_path / "cut2.sarif").read_text())
    states = {r["baselineState"] for r in sarif["runs"][0]["results"]}
    assert states == {"new", "unchanged", "absent"}
    from openpyxl import load_workbook

    details = list(load_workbook(tmp_path / "cut2.xlsx")["Details"].iter_rows(values_only=True))
    assert {"new", "open", "resolved"} <= {row[10] for row in details[1:]}


def test_fail_on_new_exit_codes(cuts, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cut1, cut2, before = cuts
    same = cli(str(cut1), "--baseline", str(before), "--json", str(tmp_path / "r.json"),
               "--fail-on-new")
    assert same.exit_code == 0, same.output  # findings, but none new
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["findings"] and {f["status"] for f in doc["findings"]} == {"open"}
    assert doc["resolved"] == [] and doc["summary"]["resolved"] == 0
    assert cli(str(cut1), "--baseline", str(before)).exit_code == 1  # without --fail-on-new
    # the baseline read before the report replaces it
    again = tmp_path / "again.json"
    again.write_bytes(before.read_bytes())
    assert cli(str(cut1), "--baseline", str(again), "--json", str(again),
               "--fail-on-new").exit_code == 0
    assert json.loads(again.read_text())["baseline"] == str(again)
    assert cli(str(cut1), "--baseline", str(before), "--fail-on-new", "--fail-on",
               "notice").exit_code == 0
    result = cli(str(cut1), "--fail-on", "reject", "--quiet")
    assert result.exit_code in (0, 1) and len(result.output.splitlines()) == 1


def test_bad_baseline_stops_before_any_report(cuts, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cut1, _, _ = cuts
    broken = tmp_path / "prev.json"
    broken.write_text('{"schema": "cdisc-validate/2", "findings": 3}')
    target = tmp_path / "r.json"
    for baseline in (broken, tmp_path / "missing.json"):
        result = cli(str(cut1), "--baseline", str(baseline), "--json", str(target))
        assert result.exit_code == 2
        assert result.output.startswith(f"error: {baseline}: ") and \
            len(result.output.splitlines()) == 1
    assert not target.exists()
    result = cli(str(cut1), "--fail-on-new")
    assert result.exit_code == 2 and "--fail-on-new needs --baseline" in result.output


WAIVERS_CLI = """\
# cut 2's subjects not in DM: S1-099 is a screening re-entry (one of the two records)
- rule: {orphan_rule}
  dataset: AE
  where: {{USUBJID: S1-099}}
  justification: Re-screened subject, reconciled with IxRS
  author: J. Smith
  date: 2024-05-01
# the end before the start of S1-001: confirmed by the site (all its records)
- rule: {end_rule}
  dataset: AE
  justification: Dates confirmed by the site
  author: J. Smith
  date: 2024-05-01
- rule: {orphan_rule}
  dataset: DM
  justification: Matches nothing
  author: A. Lee
  date: 2024-05-02
"""


def test_waivers_through_the_cli(cuts, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cut1, cut2, before = cuts
    plain = tmp_path / "plain.json"
    cli(str(cut2), "--baseline", str(before), "--json", str(plain))
    doc = json.loads(plain.read_text())
    orphan_rule = orphans(doc)[0]["rule"]
    end_rule = end_before_start_findings(doc)[0]["rule"]
    path = tmp_path / "waivers.yaml"
    path.write_text(WAIVERS_CLI.format(orphan_rule=orphan_rule, end_rule=end_rule))
    out = tmp_path / "waived.json"
    result = cli(str(cut2), "--baseline", str(before), "--waivers", str(path), "--json",
                 str(out), "--html", str(tmp_path / "html"), "--fail-on-new")
    doc = json.loads(out.read_text())
    assert [(w["entry"], w["matched_findings"] > 0) for w in doc["waivers"]] == \
        [(1, True), (2, True), (3, False)]
    assert f"warning: waiver #3 {orphan_rule} DM matched no finding" in result.output
    waived = [f for f in doc["findings"] if f["waiver"]]
    partly = [f for f in orphans(doc) if f["rule"] == orphan_rule]
    # split: S1-099 waived, S1-097 (the other subject not in DM) still new and not waived
    assert any(f["waiver"] and mentions(f, "S1-099") and not mentions(f, "S1-097")
               for f in partly)
    assert any(not f["waiver"] and mentions(f, "S1-097") and f["status"] == "new"
               for f in partly)
    assert all(f["waiver"] == "Dates confirmed by the site" for f in doc["findings"]
               if f["rule"] == end_rule)
    assert doc["summary"]["waived"] == len(waived) >= 2
    assert f"{len(waived)} waived" in result.output
    assert result.exit_code == 1  # S1-097 is new and not waived
    assert b"Re-screened subject, reconciled with IxRS" in \
        (tmp_path / "html" / "report.html").read_bytes()
    # waive S1-097 too: nothing new is left unwaived
    path.write_text(WAIVERS_CLI.format(orphan_rule=orphan_rule, end_rule=end_rule)
                    .replace("{USUBJID: S1-099}", "{USUBJID: [S1-099, S1-097]}"))
    result = cli(str(cut2), "--baseline", str(before), "--waivers", str(path), "--fail-on-new",
                 "--fail-on", "error")
    new_errors = [f for f in doc["findings"] if f["status"] == "new" and not f["waiver"]
                  and f["severity"] in ("reject", "error") and f["rule"] != orphan_rule]
    assert result.exit_code == (1 if new_errors else 0), result.output


def test_bad_waivers_through_the_cli(cuts, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cut1, _, _ = cuts
    path = tmp_path / "waivers.yaml"
    path.write_text("- rule: CORE-000201\n  dataset: AE\n  justification: x\n  author: y\n")
    target = tmp_path / "r.sarif"
    result = cli(str(cut1), "--waivers", str(path), "--sarif", str(target))
    assert result.exit_code == 2 and not target.exists()
    assert result.output == f"error: {path}, row 1: waiver 1: missing 'date'\n"


@pytest.mark.parametrize("option", ["--sarif", "--excel", "--json", "--html"])
def test_unwritable_report_writes_none_of_the_others(cuts, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                     option: str) -> None:
    cut1, _, before = cuts
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    target = blocker / "report"
    others = {"--sarif": tmp_path / "r.sarif", "--excel": tmp_path / "r.xlsx",
              "--json": tmp_path / "r.json", "--html": tmp_path / "html"}
    args = [a for o, p in others.items() if o != option for a in (o, str(p))]
    result = cli(str(cut1), "--baseline", str(before), "--quiet", *args, option, str(target))
    assert result.exit_code == 2
    assert result.output.splitlines()[-1].startswith(f"error: {target}: cannot write report")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]
