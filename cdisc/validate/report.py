"""Validation reports from the findings and the rule runs: JSON (stable schema), JUnit XML, HTML,
SARIF 2.1.0, Excel (laid out like a Pinnacle 21 report) and the console lines.

Reports hold no run-dependent values (timings go to the console only; the Excel workbook's
created/modified stamps and zip entry times are fixed), so reruns are byte-identical.

JSON schema (version 2; version 1 had no records/status/waiver, rules, waivers nor resolved):
{"schema": "cdisc-validate/2", "folder": str, "standard": "sdtm"|"adam"|"mixed",
 "summary": {"reject", "error", "warning", "notice": findings not waived, per severity,
             "waived": waived findings, "datasets": int,
             "rules_executed" (failed + passed), "rules_failed", "rules_passed",
             "rules_skipped", "rules_not_executable": int,
             with a baseline only: "new", "open": findings, "resolved": resolved findings,
             with waivers only: "unused_waivers": waivers that matched nothing},
 "not_checked": [str, ...],
 "rules": [{"rule", "reference", "description", "severity", "status", "reason",
            "datasets"}, ...],                                   (catalogue order)
 "findings": [{"rule", "severity", "dataset", "variable", "message", "count", "rows",
               "values", "reference", "records": [{"row", "usubjid", "key", "value"}],
               "status": "new"|"open"|"", "waiver": justification or ""}, ...],
               (sorted by severity, dataset, rule, variable, message)
 "baseline": the baseline report.json given (or null),
 "resolved": [finding, ...]  (with a baseline only: baseline records/findings now gone,
                              status "resolved"),
 "waivers": [{"entry" (1-based, in the file), "rule", "dataset", "where", "justification",
              "author", "date", "matched_findings", "matched_records"}, ...]  (file order)}
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from lxml import etree, html
from lxml.html import builder as E

from cdisc import __version__
from cdisc.errors import OutputError
from cdisc.validate.model import MAX_ROWS, SEVERITIES, Finding, Record, RuleRun, rank

SCHEMA = "cdisc-validate/2"
SARIF_SCHEMA = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
                "sarif-schema-2.1.0.json")
URI_BASE = "PACKAGEROOT"  # artifact URIs are relative to the validated folder
SARIF_LEVEL = {"reject": "error", "error": "error", "warning": "warning", "notice": "note"}
# the workbook's created/modified stamps when the report names none (SAS's day 0, as the
# pipeline's default creation datetime); zip entries cannot be older than 1980
FIXED_CREATED = "1960-01-01T00:00:00"
ZIP_STAMP = (1980, 1, 1, 0, 0, 0)


@dataclass
class Report:
    folder: str
    standard: str
    datasets: list[str]
    findings: list[Finding]
    not_checked: list[str] = field(default_factory=list)
    rules_checked: list[tuple[str, str]] = field(default_factory=list)  # (rule, dataset)
    gx_seconds: float = 0.0
    rules_seconds: float = 0.0
    # every rule of the catalogue and what became of it (filled by the engine)
    rules: list[RuleRun] = field(default_factory=list)
    # dataset name -> its file relative to the folder ("ae.xpt", "sdtm/ae.xpt" in a submission):
    # SARIF locations (the CLI fills it when the engine does not; default <dataset>.xpt)
    files: dict[str, str] = field(default_factory=dict)
    # dataset name -> number of records (Excel "Dataset Summary"; blank when unknown)
    dataset_records: dict[str, int] = field(default_factory=dict)
    created: str = ""  # the workbook's created/modified stamp (ISO 8601), FIXED_CREATED if ""
    baseline: str | None = None  # the previous report.json compared against (apply_baseline)
    resolved: list[Finding] = field(default_factory=list)  # baseline findings now gone
    waivers: list[dict] = field(default_factory=list)  # waivers as given, with matched counts

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=_finding_order)

    def counts(self) -> dict[str, int]:
        """Findings per severity, waived findings left out."""
        c = Counter(f.severity for f in self.findings if not f.waiver)
        return {s: c.get(s, 0) for s in SEVERITIES}

    def worst_at_least(self, threshold: str, new_only: bool = False) -> bool:
        """A finding at or above threshold that is not waived (and new, with new_only)."""
        return any(rank(f.severity) <= rank(threshold) and not f.waiver
                   and (not new_only or f.status == "new") for f in self.findings)

    def unused_waivers(self) -> list[dict]:
        return [w for w in self.waivers if not w.get("matched_findings")]

    def summary(self) -> dict:
        status = Counter(r.status for r in self.rules)
        doc: dict = {**self.counts(), "datasets": len(self.datasets),
                     "waived": sum(1 for f in self.findings if f.waiver),
                     "rules_executed": status["failed"] + status["passed"],
                     "rules_failed": status["failed"], "rules_passed": status["passed"],
                     "rules_skipped": status["skipped"],
                     "rules_not_executable": status["not executable"]}
        if self.baseline is not None:
            found = Counter(f.status for f in self.findings)
            doc.update(new=found["new"], open=found["open"], resolved=len(self.resolved))
        if self.waivers:
            doc["unused_waivers"] = len(self.unused_waivers())
        return doc


def _finding_order(f: Finding) -> tuple:
    return (rank(f.severity), f.dataset, f.rule, f.variable or "", f.message, f.waiver,
            f.rows, tuple((r.row, r.usubjid, r.key, r.value) for r in f.records))


def shown_records(f: Finding) -> list[Record]:
    """The finding's records; from its rows/values when it has none (engines that fill only
    rows): Record(row, value=value), USUBJID and key unknown."""
    if f.records:
        return list(f.records)
    values = list(f.values) + [""] * (len(f.rows) - len(f.values))
    return [Record(r, "", "", v) for r, v in zip(f.rows, values, strict=False)]


def rule_runs(report: Report) -> list[RuleRun]:
    """report.rules, plus a RuleRun for each rule that reported findings without being listed
    there (an engine that lists no catalogue, or the GX suites): every result has its rule."""
    runs = list(report.rules)
    known = {r.rule for r in runs}
    extra: dict[str, list[Finding]] = {}
    for f in report.sorted_findings():
        if f.rule not in known:
            extra.setdefault(f.rule, []).append(f)
    for rule in sorted(extra):
        found = extra[rule]
        worst = min(found, key=lambda f: rank(f.severity))
        runs.append(RuleRun(rule, worst.reference or "", worst.message, worst.severity,
                            "failed", "", tuple(sorted({f.dataset for f in found}))))
    return runs


def with_records(f: Finding, records: list[Record], count: int, **changes: str) -> Finding:
    """f narrowed to some of its records (shown_records(f) items) and `count` offending records:
    records, rows and values kept in step (a finding without records keeps none)."""
    shown = [r for r in records if r.row]
    rows = tuple(r.row for r in shown)[:MAX_ROWS]
    values = tuple(r.value for r in shown)[:MAX_ROWS] if f.values else ()
    kept = tuple(records) if f.records else ()
    return replace(f, records=kept, count=count, rows=rows, values=values, **changes)


def dataset_file(report: Report, dataset: str) -> str:
    """The file a finding on `dataset` is about, relative to the validated folder ("ae.xpt",
    or "sdtm/ae.xpt" in a submission with sdtm/ and adam/): report.files, else <dataset>.xpt
    (define.xml for DEFINE, the folder itself for STUDY)."""
    if dataset in report.files:
        return report.files[dataset]
    if dataset == "DEFINE":
        return "define.xml"
    if dataset == "STUDY":
        return "."
    return f"{dataset.lower()}.xpt"


# --- JSON ----------------------------------------------------------------------------------------

def to_json(report: Report) -> str:
    doc = {"schema": SCHEMA, "folder": report.folder, "standard": report.standard,
           "summary": report.summary(), "not_checked": report.not_checked,
           "rules": [r.as_dict() for r in report.rules],
           "findings": [f.as_dict() for f in report.sorted_findings()],
           "baseline": report.baseline, "waivers": report.waivers}
    if report.baseline is not None:
        doc["resolved"] = [f.as_dict() for f in sorted(report.resolved, key=_finding_order)]
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


# --- JUnit ---------------------------------------------------------------------------------------

def _failure_text(found: list[Finding]) -> str:
    lines = []
    for f in found:
        rows = ", ".join(str(r.row) for r in shown_records(f)[:MAX_ROWS] if r.row)
        lines.append(f"{f.dataset}.{f.variable or '-'}: {f.message} ({f.count} records"
                     + (f"; rows {rows}" if rows else "") + ")")
    return "\n".join(lines)


def to_junit(report: Report) -> bytes:
    """One testcase per rule run (classname: its datasets): failed rules carry a <failure>
    with their findings, skipped and not executable rules a <skipped message=reason>. A rule
    whose findings are all waived passes, the waivers in <system-out>. Without a rule
    catalogue (report.rules empty), one testcase per (rule, dataset) checked."""
    by_rule: dict[str, list[Finding]] = {}
    for f in report.sorted_findings():
        by_rule.setdefault(f.rule, []).append(f)
    suite = etree.Element("testsuite", name="cdisc validate")
    tests = failures = skipped = 0
    if report.rules:
        for run in rule_runs(report):
            tests += 1
            case = etree.SubElement(suite, "testcase", name=run.rule,
                                    classname=", ".join(run.datasets) or "package")
            found = by_rule.get(run.rule, [])
            open_ = [f for f in found if not f.waiver]
            if run.status in ("skipped", "not executable"):
                skipped += 1
                etree.SubElement(case, "skipped",
                                 message=f"{run.status}: {run.reason}" if run.reason
                                 else run.status)
            elif open_:
                failures += 1
                worst = min(open_, key=lambda f: rank(f.severity)).severity
                fail = etree.SubElement(case, "failure", type=worst,
                                        message=open_[0].message[:200])
                fail.text = _failure_text(open_)
            waived = [f for f in found if f.waiver]
            if waived:
                out = etree.SubElement(case, "system-out")
                out.text = "\n".join(f"waived {f.dataset}.{f.variable or '-'} ({f.count} "
                                     f"records): {f.waiver}" for f in waived)
    else:
        by_case: dict[tuple[str, str], list[Finding]] = {}
        for f in report.sorted_findings():
            by_case.setdefault((f.rule, f.dataset), []).append(f)
        for rule, dataset in sorted(set(report.rules_checked) | set(by_case)):
            tests += 1
            case = etree.SubElement(suite, "testcase", classname=dataset, name=rule)
            open_ = [f for f in by_case.get((rule, dataset), []) if not f.waiver]
            if open_:
                failures += 1
                worst = min(open_, key=lambda f: rank(f.severity)).severity
                fail = etree.SubElement(case, "failure", type=worst,
                                        message=open_[0].message[:200])
                fail.text = _failure_text(open_)
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    root = etree.Element("testsuites")
    root.append(suite)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- HTML ----------------------------------------------------------------------------------------

CSS = """body{font-family:Arial,sans-serif;font-size:13px;margin:24px}
table{border-collapse:collapse;margin:8px 0 18px}th{background:#4a6fa5;color:#fff;padding:4px 8px;
text-align:left}td{border:1px solid #ccc;padding:3px 8px;vertical-align:top}
.reject{color:#fff;background:#b00020;font-weight:bold}.error{color:#b00020;font-weight:bold}
.warning{color:#a05a00}.notice{color:#555}.waived{color:#777;font-style:italic}
.new{color:#b00020;font-weight:bold}.resolved{color:#2e7d32}"""


def _records_text(f: Finding) -> str:
    parts = []
    for r in shown_records(f)[:MAX_ROWS]:
        who = " ".join(x for x in (r.usubjid, r.key) if x)
        head = f"{r.row}" + (f" ({who})" if who else "") if r.row else who
        parts.append(f"{head}: {r.value}" if r.value else head)
    return "; ".join(p for p in parts if p)


def _finding_rows(findings: list[Finding], with_status: bool) -> list:
    rows = []
    for f in findings:
        cells = [E.TD(f.severity, **{"class": f.severity}), E.TD(f.rule),
                 E.TD(f.reference or ""), E.TD(f.dataset), E.TD(f.variable or ""),
                 E.TD(f.message), E.TD(str(f.count)), E.TD(_records_text(f))]
        if with_status:
            cells.append(E.TD(f.status, **{"class": f.status}))
        cells.append(E.TD(f"waived: {f.waiver}" if f.waiver else "",
                          **{"class": "waived"} if f.waiver else {}))
        rows.append(E.TR(*cells))
    return rows


def to_html(report: Report) -> bytes:
    counts = report.counts()
    per_dataset: dict[str, Counter] = {}
    for f in report.findings:
        if not f.waiver:
            per_dataset.setdefault(f.dataset, Counter())[f.severity] += 1
    summary = [E.TR(E.TD(d), *[E.TD(str(per_dataset.get(d, Counter()).get(s, 0)))
                              for s in SEVERITIES]) for d in sorted(report.datasets)]
    with_status = report.baseline is not None
    heads = ["Severity", "Rule", "Reference", "Dataset", "Variable", "Message", "Records",
             "Rows (USUBJID key): values"] + (["Baseline"] if with_status else []) + ["Waiver"]
    waived = sum(1 for f in report.findings if f.waiver)
    totals = (f"{counts['reject']} rejects, {counts['error']} errors, "
              f"{counts['warning']} warnings, {counts['notice']} notices in "
              f"{len(report.datasets)} datasets" + (f"; {waived} findings waived" if waived
                                                    else "") + ".")
    body = [E.H1(f"Validation of {report.folder}"), E.P(totals)]
    if with_status:
        s = report.summary()
        body.append(E.P(f"Against the baseline {report.baseline}: {s['new']} new, "
                        f"{s['open']} open, {s['resolved']} resolved."))
    body += [E.H2("By dataset"),
             E.TABLE(E.TR(E.TH("Dataset"), *[E.TH(s) for s in SEVERITIES]), *summary),
             E.H2("Findings"),
             E.TABLE(E.TR(*[E.TH(h) for h in heads]),
                     *_finding_rows(report.sorted_findings(), with_status))]
    if with_status:
        body += [E.H2("Resolved since the baseline"),
                 E.TABLE(E.TR(*[E.TH(h) for h in heads[:-1]]),
                         *[E.TR(*row[:-1]) for row in _finding_rows(
                             sorted(report.resolved, key=_finding_order), True)])
                 if report.resolved else E.P("Nothing resolved.")]
    runs = rule_runs(report)
    body += [E.H2("Rules"),
             E.TABLE(E.TR(*[E.TH(h) for h in ("Rule", "References", "Severity", "Status",
                                               "Reason", "Datasets", "Description")]),
                     *[E.TR(E.TD(r.rule), E.TD(r.reference), E.TD(r.severity),
                            E.TD(r.status, **{"class": "error" if r.status == "failed"
                                              else "notice"}),
                            E.TD(r.reason), E.TD(", ".join(r.datasets)), E.TD(r.description))
                       for r in runs])
             if runs else E.P("No rule catalogue in this report.")]
    if report.waivers:
        body += [E.H2("Waivers"),
                 E.TABLE(E.TR(*[E.TH(h) for h in ("Rule", "Dataset", "Where", "Justification",
                                                   "Author", "Date", "Matched findings",
                                                   "Matched records")]),
                         *[E.TR(E.TD(w["rule"]), E.TD(w["dataset"]),
                                E.TD(json.dumps(w["where"], sort_keys=True) if w["where"]
                                     else ""),
                                E.TD(w["justification"]), E.TD(w["author"]), E.TD(w["date"]),
                                E.TD(str(w["matched_findings"]),
                                     **{"class": "" if w["matched_findings"] else "error"}),
                                E.TD(str(w["matched_records"])))
                           for w in report.waivers])]
    body += [E.H2("Not checked"),
             E.UL(*[E.LI(t) for t in report.not_checked]) if report.not_checked
             else E.P("Everything applicable was checked.")]
    page = E.HTML(E.HEAD(E.META(charset="utf-8"), E.TITLE("cdisc validate"), E.STYLE(CSS)),
                  E.BODY(*body))
    return b"<!DOCTYPE html>\n" + html.tostring(page, encoding="utf-8", pretty_print=True)


# --- SARIF 2.1.0 ---------------------------------------------------------------------------------

def _sarif_location(report: Report, f: Finding) -> dict:
    records = shown_records(f)
    name = f.variable or f.dataset
    logical = {"name": name, "kind": "variable" if f.variable else "resource",
               "fullyQualifiedName": f"{f.dataset}.{f.variable}" if f.variable else f.dataset}
    return {"physicalLocation": {"artifactLocation": {"uri": dataset_file(report, f.dataset),
                                                      "uriBaseId": URI_BASE}},
            "logicalLocations": [logical],
            "properties": {"rows": [r.row for r in records if r.row],
                           "usubjids": sorted({r.usubjid for r in records if r.usubjid})}}


def _sarif_result(report: Report, f: Finding, index: dict[str, int], state: str | None) -> dict:
    text = f"{f.dataset}.{f.variable}: {f.message}" if f.variable else f"{f.dataset}: {f.message}"
    result: dict = {"ruleId": f.rule, "ruleIndex": index[f.rule], "level": SARIF_LEVEL[f.severity],
                    "message": {"text": f"{text} ({f.count} records)"},
                    "locations": [_sarif_location(report, f)],
                    "partialFingerprints": {"cdiscFinding/v1": "|".join(
                        (f.rule, f.dataset, f.variable or "", f.message))},
                    "properties": {"severity": f.severity, "count": f.count,
                                   "reference": f.reference or "",
                                   "keys": [r.key for r in f.records if r.key]}}
    if state is not None:
        result["baselineState"] = state
    if f.waiver:
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": f.waiver}]
    return result


def to_sarif(report: Report) -> str:
    """SARIF 2.1.0: the rules (every rule run) in tool.driver.rules, one result per finding
    located in its dataset file (no region: datasets have no lines; rows and USUBJIDs in the
    location's properties). With a baseline, baselineState new/unchanged, and the resolved
    findings as results with baselineState absent; waived findings carry an external
    suppression with the waiver's justification."""
    runs = rule_runs(report)
    for f in report.resolved:  # a resolved finding's rule may not run any more
        if f.rule not in {r.rule for r in runs}:
            runs.append(RuleRun(f.rule, f.reference or "", f.message, f.severity, "passed"))
    index = {r.rule: i for i, r in enumerate(runs)}
    rules = []
    for r in runs:
        rule: dict = {"id": r.rule, "shortDescription": {"text": r.description or r.rule},
                      "defaultConfiguration": {"level": SARIF_LEVEL.get(r.severity, "warning")},
                      "properties": {"reference": r.reference, "severity": r.severity,
                                     "status": r.status, "datasets": list(r.datasets)}}
        if r.reason:
            rule["properties"]["reason"] = r.reason
        rules.append(rule)
    baseline = report.baseline is not None
    state = {"new": "new", "open": "unchanged"}
    results = [_sarif_result(report, f, index, state.get(f.status, "new") if baseline else None)
               for f in report.sorted_findings()]
    if baseline:
        results += [_sarif_result(report, f, index, "absent")
                    for f in sorted(report.resolved, key=_finding_order)]
    notes = [{"level": "note", "message": {"text": f"not checked: {t}"}}
             for t in report.not_checked]
    config = [{"level": "warning", "message": {"text": f"waiver matched no finding: "
                                                       f"{_waiver_text(w)}"}}
              for w in report.unused_waivers()]
    invocation: dict = {"executionSuccessful": True}
    if notes:
        invocation["toolExecutionNotifications"] = notes
    if config:
        invocation["toolConfigurationNotifications"] = config
    artifacts = sorted({dataset_file(report, d) for d in report.datasets})
    run: dict = {"tool": {"driver": {"name": "cdisc validate", "version": __version__,
                                     "rules": rules}},
                 "invocations": [invocation],
                 "originalUriBaseIds": {URI_BASE: {"description": {
                     "text": f"the validated folder ({report.folder})"}}},
                 "artifacts": [{"location": {"uri": a, "uriBaseId": URI_BASE},
                                "roles": ["analysisTarget"]} for a in artifacts],
                 "results": results,
                 "properties": {"folder": report.folder, "standard": report.standard,
                                "summary": report.summary()}}
    if baseline:
        run["properties"]["baseline"] = report.baseline
    doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _waiver_text(w: dict) -> str:
    where = ", ".join(f"{k}={'|'.join(map(str, v)) if isinstance(v, list) else v}"
                      for k, v in sorted((w.get("where") or {}).items()))
    return f"#{w.get('entry', '?')} {w['rule']} {w['dataset']}" + (f" where {where}"
                                                                  if where else "")


# --- Excel ---------------------------------------------------------------------------------------

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _cells(ws, values: list, font=None) -> list:  # type: ignore[no-untyped-def]
    """One row as plain values: text is never a formula ("=..." stays text) and loses the
    control characters XML cannot hold."""
    from openpyxl.cell import WriteOnlyCell

    out = []
    for value in values:
        if isinstance(value, str):
            value = _ILLEGAL.sub("", value)
            if value.startswith("=") or font is not None:
                cell = WriteOnlyCell(ws, value=value)
                cell.data_type = "s"
                if font is not None:
                    cell.font = font
                value = cell
        out.append(value)
    return out


def _sheet(wb, title: str, header: list[str], rows: list[list]) -> None:  # type: ignore[no-untyped-def]
    """A sheet with a bold, frozen, filtered header row and columns as wide as their text."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    last = get_column_letter(len(header))
    ws.auto_filter.ref = f"A1:{last}{max(1, len(rows) + 1)}"
    for col, name in enumerate(header, start=1):
        longest = max([len(name)] + [len(str(r[col - 1])) for r in rows
                                     if r[col - 1] is not None])
        ws.column_dimensions[get_column_letter(col)].width = min(60, max(8, longest + 2))
    ws.append(_cells(ws, header, Font(bold=True)))
    for values in rows:
        ws.append(_cells(ws, values))


def excel_bytes(report: Report) -> bytes:
    """The workbook: Dataset Summary, Issue Summary, Details (one row per record), Rules."""
    from datetime import datetime

    from openpyxl import Workbook
    from openpyxl.writer.excel import save_workbook
    from openpyxl.xml.functions import tostring

    findings = report.sorted_findings()
    wb = Workbook(write_only=True)  # rows streamed: a finding holds up to 1000 records
    per: dict[str, Counter] = {}
    for f in findings:
        per.setdefault(f.dataset, Counter())["waived" if f.waiver else f.severity] += f.count
    names = sorted(set(report.datasets) | set(per))
    _sheet(wb, "Dataset Summary",
           ["Dataset", "Records", "Rejects", "Errors", "Warnings", "Notices", "Waived"],
           [[d, report.dataset_records.get(d)] + [per.get(d, Counter())[s] for s in
                                                  (*SEVERITIES, "waived")] for d in names])
    issues: dict[tuple, list[int]] = {}
    for f in sorted(findings, key=lambda f: (f.dataset, rank(f.severity), f.rule, f.message)):
        key = (f.dataset, f.rule, f.reference or "", f.message, f.severity)
        total = issues.setdefault(key, [0, 0])
        total[0] += f.count
        total[1] += f.count if f.waiver else 0
    _sheet(wb, "Issue Summary",
           ["Dataset", "Rule", "Reference", "Message", "Severity", "Count", "Waived"],
           [[*k, n, w] for k, (n, w) in issues.items()])
    details = []
    everything = [*findings, *sorted(report.resolved, key=_finding_order)]
    for f in sorted(everything, key=lambda f: (f.dataset, rank(f.severity), f.rule,
                                               f.variable or "", f.message, f.status)):
        for r in shown_records(f) or [Record(0)]:
            details.append([f.dataset, f.rule, f.reference or "", f.severity, f.message,
                            f.variable or "", r.row or None, r.usubjid, r.key, r.value,
                            f.status, f.waiver])
    _sheet(wb, "Details", ["Dataset", "Rule", "Reference", "Severity", "Message", "Variable",
                           "Row", "USUBJID", "Key", "Value", "Status", "Waiver"], details)
    _sheet(wb, "Rules", ["Rule", "Reference", "Description", "Severity", "Status", "Reason",
                         "Datasets"],
           [[r.rule, r.reference, r.description, r.severity, r.status, r.reason,
             ", ".join(r.datasets)] for r in rule_runs(report)])
    stamp = datetime.fromisoformat((report.created or FIXED_CREATED)[:19])
    wb.properties.creator = "cdisc validate"
    wb.properties.created = stamp
    raw = io.BytesIO()
    save_workbook(wb, raw)  # stamps `modified` with the clock and the zip entries with now
    wb.properties.modified = stamp
    core = tostring(wb.properties.to_tree())
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = core if info.filename == "docProps/core.xml" else src.read(info.filename)
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_STAMP)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, data)
    return out.getvalue()


def to_excel(report: Report, path: Path) -> None:
    write_files([(Path(path), excel_bytes(report))])


# --- console and files ---------------------------------------------------------------------------

def console_lines(report: Report, quiet: bool = False) -> list[str]:
    """The findings table (unless quiet), then the waivers that matched nothing (always: a
    waiver that matches nothing is a mistake to see), then the totals line (always last)."""
    lines = []
    if not quiet:
        counts: Counter = Counter()
        for f in report.findings:
            if not f.waiver:
                counts[(f.rule, f.dataset, f.severity)] += f.count
        for (rule, dataset, severity), n in sorted(counts.items(),
                                                   key=lambda x: (rank(x[0][2]), x[0])):
            lines.append(f"{severity:<8} {rule:<40} {dataset:<8} {n}")
        for note in report.not_checked:
            lines.append(f"not checked: {note}")
    s = report.summary()
    if report.rules and not quiet:
        lines.append(f"rules: {s['rules_executed']} executed ({s['rules_failed']} failed, "
                     f"{s['rules_passed']} passed), {s['rules_skipped']} skipped, "
                     f"{s['rules_not_executable']} not executable")
    for w in report.unused_waivers():
        lines.append(f"warning: waiver {_waiver_text(w)} matched no finding")
    c = report.counts()
    line = (f"{c['error']} errors, {c['warning']} warnings, {c['notice']} notices")
    if c["reject"]:
        line = f"{c['reject']} rejects, " + line
    extra = []
    if report.baseline is not None:
        extra.append(f"{s['new']} new, {s['open']} open, {s['resolved']} resolved")
    if report.waivers or s["waived"]:
        extra.append(f"{s['waived']} waived")
    if extra:
        line += "; " + "; ".join(extra)
    lines.append(f"{line} ({len(report.datasets)} datasets; GX {report.gx_seconds:.2f} s, "
                 f"rules {report.rules_seconds:.2f} s)")
    return lines


def write_files(outputs: list[tuple[Path, bytes]], names: dict[Path, str] | None = None) -> None:
    """Write every (path, bytes) or none: each goes to a temporary file beside its target
    first, and only when all are written are they moved into place. OutputError names the
    target (or names[path], e.g. the --html folder) that could not be written."""
    staged: list[tuple[Path, Path]] = []
    made: list[Path] = []  # folders created here, removed again when a write fails
    target = None
    try:
        for path, data in outputs:
            target = path
            missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
            for folder in reversed(missing):
                folder.mkdir()
                made.append(folder)
            tmp = path.with_name(f".{path.name}.tmp")
            staged.append((tmp, path))
            tmp.write_bytes(data)
        for tmp, path in staged:
            target = path
            os.replace(tmp, path)
    except OSError as exc:
        for tmp, _ in staged:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
        for folder in reversed(made):
            try:
                folder.rmdir()
            except OSError:
                pass
        where = (names or {}).get(target, str(target)) if target is not None else None
        raise OutputError(f"cannot write report: {exc.strerror}", file=where) from None


def report_outputs(report: Report, folder: Path) -> list[tuple[Path, bytes]]:
    return [(folder / "report.json", to_json(report).encode("utf-8")),
            (folder / "junit.xml", to_junit(report)),
            (folder / "report.html", to_html(report)),
            (folder / "report.sarif", to_sarif(report).encode("utf-8")),
            (folder / "report.xlsx", excel_bytes(report))]


def write_reports(report: Report, folder: Path) -> None:
    """report.json, junit.xml, report.html, report.sarif and report.xlsx into folder."""
    write_files(report_outputs(report, folder))
