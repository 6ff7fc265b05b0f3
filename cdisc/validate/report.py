"""Validation reports from the list of findings: JSON (stable schema), JUnit XML, HTML, console.

Reports hold no run-dependent values (timings go to the console only), so reruns are
byte-identical. JSON schema (version 1):
{"schema": "cdisc-validate/1", "folder": str, "standard": "sdtm"|"adam"|"mixed",
 "summary": {"error": int, "warning": int, "notice": int, "datasets": int},
 "not_checked": [str, ...],
 "findings": [{"rule", "severity", "dataset", "variable", "message", "count", "rows",
               "values", "reference"}, ...]}   (sorted by severity, dataset, rule, variable)
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from lxml.html import builder as E
from lxml import html

from cdisc.validate.model import SEVERITIES, Finding, rank


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

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: (rank(f.severity), f.dataset, f.rule,
                                                    f.variable or "", f.message))

    def counts(self) -> dict[str, int]:
        c = Counter(f.severity for f in self.findings)
        return {s: c.get(s, 0) for s in SEVERITIES}

    def worst_at_least(self, threshold: str) -> bool:
        return any(rank(f.severity) <= rank(threshold) for f in self.findings)


def to_json(report: Report) -> str:
    doc = {"schema": "cdisc-validate/1", "folder": report.folder, "standard": report.standard,
           "summary": {**report.counts(), "datasets": len(report.datasets)},
           "not_checked": report.not_checked,
           "findings": [f.as_dict() for f in report.sorted_findings()]}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def to_junit(report: Report) -> bytes:
    """One testcase per (rule, dataset) checked; failures carry the findings' messages."""
    by_case: dict[tuple[str, str], list[Finding]] = {}
    for f in report.findings:
        by_case.setdefault((f.rule, f.dataset), []).append(f)
    cases = sorted(set(report.rules_checked) | set(by_case))
    suite = etree.Element("testsuite", name="cdisc validate", tests=str(len(cases)),
                          failures=str(sum(1 for c in cases if c in by_case)), errors="0")
    for rule, dataset in cases:
        case = etree.SubElement(suite, "testcase", classname=dataset, name=rule)
        found = by_case.get((rule, dataset))
        if found:
            worst = min(found, key=lambda f: rank(f.severity)).severity
            text = "\n".join(f"{f.variable or '-'}: {f.message} ({f.count} records; rows "
                             f"{', '.join(map(str, f.rows))})" for f in found)
            fail = etree.SubElement(case, "failure", type=worst,
                                    message=found[0].message[:200])
            fail.text = text
    root = etree.Element("testsuites")
    root.append(suite)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


CSS = """body{font-family:Arial,sans-serif;font-size:13px;margin:24px}
table{border-collapse:collapse;margin:8px 0 18px}th{background:#4a6fa5;color:#fff;padding:4px 8px;
text-align:left}td{border:1px solid #ccc;padding:3px 8px;vertical-align:top}
.error{color:#b00020;font-weight:bold}.warning{color:#a05a00}.notice{color:#555}"""


def to_html(report: Report) -> bytes:
    counts = report.counts()
    per_dataset: dict[str, Counter] = {}
    for f in report.findings:
        per_dataset.setdefault(f.dataset, Counter())[f.severity] += 1
    summary = [E.TR(E.TD(d), *[E.TD(str(per_dataset.get(d, Counter()).get(s, 0)))
                              for s in SEVERITIES]) for d in sorted(report.datasets)]
    rows = [E.TR(E.TD(f.severity, **{"class": f.severity}), E.TD(f.rule), E.TD(f.dataset),
                 E.TD(f.variable or ""), E.TD(f.message), E.TD(str(f.count)),
                 E.TD(", ".join(f"{r}: {v}" if f.values else str(r)
                                for r, v in zip(f.rows, f.values or [""] * len(f.rows),
                                                strict=False))))
            for f in report.sorted_findings()]
    page = E.HTML(
        E.HEAD(E.META(charset="utf-8"), E.TITLE("cdisc validate"), E.STYLE(CSS)),
        E.BODY(
            E.H1(f"Validation of {report.folder}"),
            E.P(f"{counts['error']} errors, {counts['warning']} warnings, "
                f"{counts['notice']} notices in {len(report.datasets)} datasets."),
            E.H2("By dataset"),
            E.TABLE(E.TR(E.TH("Dataset"), *[E.TH(s) for s in SEVERITIES]), *summary),
            E.H2("Findings"),
            E.TABLE(E.TR(*[E.TH(h) for h in ("Severity", "Rule", "Dataset", "Variable",
                                             "Message", "Records", "Rows: values")]), *rows),
            E.H2("Not checked"),
            E.UL(*[E.LI(t) for t in report.not_checked]) if report.not_checked
            else E.P("Everything applicable was checked.")))
    return b"<!DOCTYPE html>\n" + html.tostring(page, encoding="utf-8", pretty_print=True)


def console_lines(report: Report, quiet: bool = False) -> list[str]:
    lines = []
    if not quiet:
        table: Counter = Counter((f.rule, f.dataset, f.severity) for f in report.findings)
        counts: Counter = Counter()
        for f in report.findings:
            counts[(f.rule, f.dataset, f.severity)] += f.count
        for (rule, dataset, severity), _ in sorted(table.items(),
                                                   key=lambda x: (rank(x[0][2]), x[0])):
            lines.append(f"{severity:<8} {rule:<40} {dataset:<8} "
                         f"{counts[(rule, dataset, severity)]}")
        for note in report.not_checked:
            lines.append(f"not checked: {note}")
    c = report.counts()
    lines.append(f"{c['error']} errors, {c['warning']} warnings, {c['notice']} notices "
                 f"({len(report.datasets)} datasets; GX {report.gx_seconds:.2f} s, rules "
                 f"{report.rules_seconds:.2f} s)")
    return lines


def write_reports(report: Report, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(to_json(report), encoding="utf-8")
    (folder / "junit.xml").write_bytes(to_junit(report))
    (folder / "report.html").write_bytes(to_html(report))
