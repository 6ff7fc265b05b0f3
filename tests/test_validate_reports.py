"""Validation reports from a hand-made Report: JSON schema 2, JUnit, HTML, SARIF 2.1.0 (checked
against the official OASIS schema in tests/data) and the Excel workbook (read back)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from cdisc.errors import OutputError
from cdisc.validate.model import Finding, Record, RuleRun
from cdisc.validate.report import (Report, excel_bytes, to_excel, to_html, to_json, to_junit,
                                   to_sarif, write_files, write_reports)

DATA = Path(__file__).parent / "data"

RULES = [
    RuleRun("TRC1734", "TRC1734", "TS dataset is missing", "reject", "failed", "", ("STUDY",)),
    RuleRun("CORE-000201", "CG0001", "USUBJID not in DM", "error", "failed", "", ("AE",)),
    RuleRun("CORE-000718", "CG0069, FB0611", "AEENDTC before AESTDTC", "warning", "failed", "",
            ("AE",)),
    RuleRun("CORE-000852", "CG0321", "variables not in SDTMIG order", "notice", "failed", "",
            ("DM",)),
    RuleRun("CORE-000006", "CG0143", "DTHFL is Y or null", "error", "passed", "", ("DM",)),
    RuleRun("CORE-000544", "CG0010", "--SEQ unique", "error", "skipped",
            "no dataset of class EVENTS in the package", ()),
    RuleRun("CORE-000999", "CG0999", "needs define", "error", "not executable",
            "operator 'is_inconsistent_across_dataset' is not interpreted", ("LB",)),
]


def _records(*items: tuple[int, str, str, str]) -> tuple[Record, ...]:
    return tuple(Record(*item) for item in items)


def findings() -> list[Finding]:
    orphan = _records((1, "S1-098", "AESEQ=1", "USUBJID=S1-098"),
                      (4, "S1-099", "AESEQ=2", "USUBJID=S1-099"))
    return [
        Finding("TRC1734", "reject", "STUDY", None, "TS dataset is missing", 1,
                reference="TRC1734", records=(Record(0),), status="open"),
        Finding("CORE-000201", "error", "AE", "USUBJID", "USUBJID not in DM", 2, (1, 4),
                ("USUBJID=S1-098", "USUBJID=S1-099"), "CG0001", orphan, "new"),
        Finding("CORE-000718", "warning", "AE", "AEENDTC", "AEENDTC before AESTDTC", 1, (2,),
                ("AESTDTC=2024-01-15, AEENDTC=2024-01-14",), "CG0069, FB0611",
                _records((2, "S1-001", "AESEQ=2", "AESTDTC=2024-01-15, AEENDTC=2024-01-14")),
                "open", "Site confirmed the dates, query DM-17 closed"),
        Finding("CORE-000852", "notice", "DM", None, "variables not in SDTMIG order", 1,
                reference="CG0321", records=(Record(0, "", "", "=HYPERLINK(\"x\")"),),
                status="new"),
    ]


def resolved() -> list[Finding]:
    return [Finding("CORE-000201", "error", "AE", "USUBJID", "USUBJID not in DM", 1, (7,),
                    ("USUBJID=S1-097",), "CG0001",
                    _records((7, "S1-097", "AESEQ=5", "USUBJID=S1-097")), "resolved")]


WAIVERS = [{"entry": 1, "rule": "CORE-000718", "dataset": "AE", "where": {"USUBJID": "S1-001"},
            "justification": "Site confirmed the dates, query DM-17 closed", "author": "J. Smith",
            "date": "2024-05-01", "matched_findings": 1, "matched_records": 1},
           {"entry": 2, "rule": "CORE-000006", "dataset": "DM", "where": {},
            "justification": "n/a", "author": "J. Smith", "date": "2024-05-01",
            "matched_findings": 0, "matched_records": 0}]


@pytest.fixture
def report() -> Report:
    return Report("submission", "sdtm", ["AE", "DM"], findings(), ["define.xml: none"],
                  rules=list(RULES), files={"AE": "sdtm/ae.xpt", "DM": "sdtm/dm.xpt"},
                  dataset_records={"AE": 12, "DM": 3}, baseline="cut1/report.json",
                  resolved=resolved(), waivers=[dict(w) for w in WAIVERS])


def plain() -> Report:
    """No baseline, no waivers."""
    return Report("sdtm", "sdtm", ["AE", "DM"],
                  [Finding(f.rule, f.severity, f.dataset, f.variable, f.message, f.count, f.rows,
                           f.values, f.reference, f.records) for f in findings()],
                  rules=list(RULES))


# --- JSON --------------------------------------------------------------------------------------


def test_json_schema_2_with_rules_summary_and_resolved(report: Report) -> None:
    doc = json.loads(to_json(report))
    assert doc["schema"] == "cdisc-validate/2"
    summary = doc["summary"]
    assert {k: summary[k] for k in ("reject", "error", "warning", "notice", "waived")} == \
        {"reject": 1, "error": 1, "warning": 0, "notice": 1, "waived": 1}
    assert (summary["rules_executed"], summary["rules_failed"], summary["rules_passed"],
            summary["rules_skipped"], summary["rules_not_executable"]) == (5, 4, 1, 1, 1)
    assert (summary["new"], summary["open"], summary["resolved"]) == (2, 2, 1)
    assert summary["unused_waivers"] == 1 and summary["datasets"] == 2
    assert [r["rule"] for r in doc["rules"]] == [r.rule for r in RULES]
    assert doc["rules"][5] == {"rule": "CORE-000544", "reference": "CG0010",
                               "description": "--SEQ unique", "severity": "error",
                               "status": "skipped",
                               "reason": "no dataset of class EVENTS in the package",
                               "datasets": []}
    assert [f["severity"] for f in doc["findings"]] == ["reject", "error", "warning", "notice"]
    orphan = doc["findings"][1]
    assert orphan["records"][1] == {"row": 4, "usubjid": "S1-099", "key": "AESEQ=2",
                                    "value": "USUBJID=S1-099"}
    assert orphan["status"] == "new" and orphan["waiver"] == ""
    assert doc["findings"][2]["waiver"].startswith("Site confirmed")
    assert doc["baseline"] == "cut1/report.json"
    assert [(f["rule"], f["status"], f["records"][0]["usubjid"]) for f in doc["resolved"]] == \
        [("CORE-000201", "resolved", "S1-097")]
    assert [w["matched_findings"] for w in doc["waivers"]] == [1, 0]


def test_json_without_baseline_has_no_diff_keys() -> None:
    doc = json.loads(to_json(plain()))
    assert "resolved" not in doc and doc["baseline"] is None
    assert not {"new", "open", "resolved", "unused_waivers"} & set(doc["summary"])
    assert doc["summary"]["error"] == 1 and doc["summary"]["waived"] == 0
    assert {f["status"] for f in doc["findings"]} == {""}


def test_waived_findings_never_fail(report: Report) -> None:
    assert report.worst_at_least("warning") is True  # the error
    only_waived = Report("x", "sdtm", ["AE"], [findings()[2]])
    assert only_waived.worst_at_least("notice") is False
    assert report.worst_at_least("error", new_only=True) is True  # the new orphan
    open_only = Report("x", "sdtm", ["AE"], [f for f in findings() if f.status == "open"])
    assert open_only.worst_at_least("reject") is True
    assert open_only.worst_at_least("reject", new_only=True) is False


# --- JUnit -------------------------------------------------------------------------------------


def test_junit_one_testcase_per_rule_run(report: Report) -> None:
    root = etree.fromstring(to_junit(report))
    suite = root.find("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == [r.rule for r in RULES]
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("7", "3", "2")
    failure = cases["CORE-000201"].find("failure")
    assert failure.get("type") == "error" and "rows 1, 4" in failure.text
    assert cases["TRC1734"].find("failure").get("type") == "reject"
    assert cases["CORE-000006"].find("failure") is None
    assert cases["CORE-000544"].find("skipped").get("message") == \
        "skipped: no dataset of class EVENTS in the package"
    assert "not executable: operator" in cases["CORE-000999"].find("skipped").get("message")
    # all its findings waived: the rule passes, the waiver in system-out
    waived = cases["CORE-000718"]
    assert waived.find("failure") is None and "Site confirmed" in waived.find("system-out").text


def test_junit_without_catalogue_falls_back_to_rule_dataset_cases() -> None:
    rep = Report("x", "sdtm", ["AE"], findings()[1:2], rules_checked=[("CORE-000201", "AE"),
                                                                      ("CORE-000718", "AE")])
    suite = etree.fromstring(to_junit(rep)).find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")


# --- HTML --------------------------------------------------------------------------------------


def test_html_rules_table_waivers_and_baseline(report: Report) -> None:
    page = etree.fromstring(to_html(report), etree.HTMLParser())
    headings = [h.text for h in page.iter("h2")]
    assert {"Rules", "Findings", "Resolved since the baseline", "Waivers"} <= set(headings)
    rules_table = page.xpath("//h2[text()='Rules']/following-sibling::table[1]")[0]
    rows = [[td.text or "" for td in tr.findall("td")] for tr in rules_table.findall("tr")[1:]]
    assert [r[0] for r in rows] == [r.rule for r in RULES]
    assert rows[5][:5] == ["CORE-000544", "CG0010", "error", "skipped",
                           "no dataset of class EVENTS in the package"]
    assert rows[1][5] == "AE"
    findings_table = page.xpath("//h2[text()='Findings']/following-sibling::table[1]")[0]
    head = [th.text for th in findings_table.find("tr").findall("th")]
    assert "Baseline" in head and "Waiver" in head
    cells = [[td.text or "" for td in tr.findall("td")] for tr in findings_table.findall("tr")[1:]]
    by_rule = {c[1]: c for c in cells}
    assert by_rule["CORE-000201"][head.index("Baseline")] == "new"
    assert by_rule["CORE-000718"][head.index("Waiver")] == \
        "waived: Site confirmed the dates, query DM-17 closed"
    assert "S1-099" in by_rule["CORE-000201"][head.index("Rows (USUBJID key): values")]


# --- SARIF -------------------------------------------------------------------------------------


def sarif_validator():  # type: ignore[no-untyped-def]
    from jsonschema import Draft4Validator

    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


def test_vendored_schema_is_the_official_sarif_2_1_0() -> None:
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]


def test_sarif_is_valid_and_carries_the_findings(report: Report) -> None:
    doc = json.loads(to_sarif(report))
    errors = sorted(sarif_validator().iter_errors(doc), key=str)
    assert errors == [], errors[0].message if errors else ""
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "cdisc validate"
    assert [r["id"] for r in driver["rules"]] == [r.rule for r in RULES]
    assert driver["rules"][2]["properties"]["reference"] == "CG0069, FB0611"
    assert driver["rules"][2]["shortDescription"]["text"] == "AEENDTC before AESTDTC"
    assert driver["rules"][5]["properties"]["status"] == "skipped"
    results = run["results"]
    assert [(r["ruleId"], r["level"], r["baselineState"]) for r in results] == [
        ("TRC1734", "error", "unchanged"), ("CORE-000201", "error", "new"),
        ("CORE-000718", "warning", "unchanged"), ("CORE-000852", "note", "new"),
        ("CORE-000201", "error", "absent")]
    for r in results:
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
    orphan = results[1]
    location = orphan["locations"][0]
    assert location["physicalLocation"] == {"artifactLocation": {"uri": "sdtm/ae.xpt",
                                                                 "uriBaseId": "PACKAGEROOT"}}
    assert location["logicalLocations"] == [{"name": "USUBJID", "kind": "variable",
                                             "fullyQualifiedName": "AE.USUBJID"}]
    assert location["properties"] == {"rows": [1, 4], "usubjids": ["S1-098", "S1-099"]}
    assert "AE.USUBJID: USUBJID not in DM" in orphan["message"]["text"]
    assert "suppressions" not in orphan
    assert orphan["properties"] == {"severity": "error", "count": 2, "reference": "CG0001",
                                    "keys": ["AESEQ=1", "AESEQ=2"]}
    assert results[2]["suppressions"] == [{"kind": "external", "status": "accepted",
                                           "justification": "Site confirmed the dates, query "
                                                            "DM-17 closed"}]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "."
    assert results[4]["locations"][0]["properties"]["usubjids"] == ["S1-097"]
    config = run["invocations"][0]["toolConfigurationNotifications"]
    assert "CORE-000006 DM" in config[0]["message"]["text"]


def test_sarif_without_baseline_and_the_schema_catches_mistakes() -> None:
    doc = json.loads(to_sarif(plain()))
    validator = sarif_validator()
    assert list(validator.iter_errors(doc)) == []
    assert all("baselineState" not in r and "suppressions" not in r
               for r in doc["runs"][0]["results"])
    # the default location of a dataset without a known file
    assert doc["runs"][0]["results"][1]["locations"][0]["physicalLocation"][
        "artifactLocation"]["uri"] == "ae.xpt"
    doc["runs"][0]["results"][0]["level"] = "fatal"
    doc["runs"][0]["results"][1]["baselineState"] = "open"
    assert len(list(validator.iter_errors(doc))) == 2


def test_sarif_lists_rules_of_findings_without_a_catalogue() -> None:
    rep = Report("sdtm", "sdtm", ["AE"], findings()[1:3])
    doc = json.loads(to_sarif(rep))
    assert list(sarif_validator().iter_errors(doc)) == []
    assert [r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]] == \
        ["CORE-000201", "CORE-000718"]


# --- Excel -------------------------------------------------------------------------------------


def _rows(ws) -> list[list]:  # type: ignore[no-untyped-def]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_excel_sheets_read_back(report: Report, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = tmp_path / "report.xlsx"
    to_excel(report, path)
    wb = load_workbook(path)
    assert wb.sheetnames == ["Dataset Summary", "Issue Summary", "Details", "Rules"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref.startswith("A1:")
        assert all(c.font.b for c in ws[1])
        assert ws.column_dimensions["A"].width >= 8
    summary = _rows(wb["Dataset Summary"])
    assert summary[0] == ["Dataset", "Records", "Rejects", "Errors", "Warnings", "Notices",
                          "Waived"]
    assert summary[1:] == [["AE", 12, 0, 2, 0, 0, 1], ["DM", 3, 0, 0, 0, 1, 0],
                           ["STUDY", None, 1, 0, 0, 0, 0]]
    issues = _rows(wb["Issue Summary"])
    assert issues[0] == ["Dataset", "Rule", "Reference", "Message", "Severity", "Count",
                         "Waived"]
    assert ["AE", "CORE-000718", "CG0069, FB0611", "AEENDTC before AESTDTC", "warning", 1, 1] \
        in issues
    details = _rows(wb["Details"])
    assert details[0] == ["Dataset", "Rule", "Reference", "Severity", "Message", "Variable",
                          "Row", "USUBJID", "Key", "Value", "Status", "Waiver"]
    ae = [r for r in details[1:] if r[0] == "AE"]
    assert [(r[1], r[6], r[7], r[8], r[10]) for r in ae] == [
        ("CORE-000201", 1, "S1-098", "AESEQ=1", "new"),
        ("CORE-000201", 4, "S1-099", "AESEQ=2", "new"),
        ("CORE-000201", 7, "S1-097", "AESEQ=5", "resolved"),
        ("CORE-000718", 2, "S1-001", "AESEQ=2", "open")]
    assert ae[3][9] == "AESTDTC=2024-01-15, AEENDTC=2024-01-14"
    assert ae[3][11] == "Site confirmed the dates, query DM-17 closed"
    notice = next(r for r in details[1:] if r[0] == "DM")
    assert notice[6] is None and notice[9] == '=HYPERLINK("x")'  # text, never a formula
    assert wb["Details"].cell(row=details.index(notice) + 1, column=10).data_type == "s"
    rules = _rows(wb["Rules"])
    assert rules[0] == ["Rule", "Reference", "Description", "Severity", "Status", "Reason",
                        "Datasets"]
    assert [r[0] for r in rules[1:]] == [r.rule for r in RULES]
    assert rules[7][4:6] == ["not executable",
                             "operator 'is_inconsistent_across_dataset' is not interpreted"]


def test_excel_bytes_are_deterministic(report: Report, tmp_path: Path) -> None:
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    to_excel(report, first)
    to_excel(report, second)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(io.BytesIO(first.read_bytes())) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert core.count("1960-01-01T00:00:00Z") == 2  # created and modified, from the report
    report.created = "2024-06-30T12:00:00"
    with zipfile.ZipFile(io.BytesIO(excel_bytes(report))) as z:
        assert "2024-06-30T12:00:00Z" in z.read("docProps/core.xml").decode()


def test_write_reports_writes_all_five(report: Report, tmp_path: Path) -> None:
    write_reports(report, tmp_path / "v")
    names = sorted(p.name for p in (tmp_path / "v").iterdir())
    assert names == ["junit.xml", "report.html", "report.json", "report.sarif", "report.xlsx"]
    again = tmp_path / "w"
    write_reports(report, again)
    for name in names:
        assert (again / name).read_bytes() == (tmp_path / "v" / name).read_bytes(), name


def test_write_files_writes_all_or_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    good = tmp_path / "good.json"
    with pytest.raises(OutputError) as info:
        write_files([(good, b"{}"), (blocker / "r.sarif", b"{}")])
    assert info.value.file == str(blocker / "r.sarif")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_findings_differing_only_in_records_sort_deterministically() -> None:
    a, b = (Finding("R", "error", "AE", None, "m", 1, records=(Record(1, u),)) for u in "ab")
    doc = json.loads(to_json(Report("x", "sdtm", ["AE"], [b, a])))
    assert [f["records"][0]["usubjid"] for f in doc["findings"]] == ["a", "b"]


def test_console_lines(report: Report) -> None:
    from cdisc.validate.report import console_lines

    lines = console_lines(report)
    assert "rules: 5 executed (4 failed, 1 passed), 1 skipped, 1 not executable" in lines
    assert "warning: waiver #2 CORE-000006 DM matched no finding" in lines
    assert lines[-1].startswith("1 rejects, 1 errors, 0 warnings, 1 notices; 2 new, 2 open, "
                                "1 resolved; 1 waived (2 datasets;")
    assert not any(line.startswith("warning ") for line in lines)  # the waived warning
    quiet = console_lines(report, quiet=True)
    assert quiet == [lines[-2], lines[-1]]  # the unused waiver is always shown
