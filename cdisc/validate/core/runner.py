"""The whole catalogue on a submission: SDTMIG rules on the SDTM datasets, ADaMIG rules on the
ADaM datasets, package rules on both at once; each rule's run recorded (failed, passed,
skipped or not executable, with the reason)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from cdisc.progress import track
from cdisc.validate.core.catalogue import Rule, load_catalogue
from cdisc.validate.core.engine import NotExecutable, Skip, Study, record_keys, run_rule
from cdisc.validate.model import Finding, Record, RuleRun
from cdisc.validate.package import Package


@dataclass
class Submission:
    """The parts of a submission: SDTM and/or ADaM packages, each with its own define.xml."""

    sdtm: Package | None = None
    adam: Package | None = None
    studies: dict[str, Study] = field(default_factory=dict)  # standard -> Study

    def combined(self) -> Package | None:
        if self.sdtm is None or self.adam is None:
            return None
        return Package(self.sdtm.folder.parent, {**self.sdtm.tables, **self.adam.tables}, None)

    def part(self, standard: str) -> Package | None:
        return {"SDTMIG": self.sdtm, "ADaMIG": self.adam, "package": self.combined()}[standard]


def study_for(submission: Submission, standard: str, package: Package) -> Study:
    """The package as the rules see it, built once per standard."""
    from cdisc.validate.core.define_meta import read_define_meta
    from cdisc.validate.core.library import load_library
    from cdisc.validate.core.study import study_of

    if standard not in submission.studies:
        define = read_define_meta(package.define) if package.define is not None else None
        submission.studies[standard] = study_of(package, load_library(), define)
    return submission.studies[standard]


def run_catalogue(submission: Submission, rules: tuple[Rule, ...] | None = None,
                  timings: dict[str, float] | None = None
                  ) -> tuple[list[RuleRun], list[Finding]]:
    """Every rule once; `timings` (rule id -> seconds) is filled when given."""
    runs: list[RuleRun] = []
    findings: list[Finding] = []
    for rule in track(rules if rules is not None else load_catalogue(), "validation rules", "rule",
                      lambda r: r.core_id):
        start = time.perf_counter()
        run, found = run_one(rule, submission)
        if timings is not None:
            timings[rule.core_id] = time.perf_counter() - start
        runs.append(run)
        findings += found
    return runs, findings


def run_one(rule: Rule, submission: Submission) -> tuple[RuleRun, list[Finding]]:
    package = submission.part(rule.standard)
    base = dict(rule=rule.core_id, reference=rule.reference, description=rule.message,
                severity=rule.severity)
    if package is None:
        what = {"SDTMIG": "SDTM datasets", "ADaMIG": "ADaM datasets",
                "package": "both SDTM and ADaM datasets"}[rule.standard]
        return RuleRun(**base, status="skipped", reason=f"needs {what}"), []
    study = study_for(submission, rule.standard, package)
    if rule.python:
        return _run_python(rule, package, study, base)
    return run_rule(rule, study)


def _run_python(rule: Rule, package: Package, study: Study,
                base: dict) -> tuple[RuleRun, list[Finding]]:
    from cdisc.validate.checks import CHECKS

    check = CHECKS.get(rule.python)
    if check is None:
        return RuleRun(**base, status="not executable",
                       reason=f"no check named {rule.python}"), []
    try:
        found = check(rule, package)
    except Skip as why:
        return RuleRun(**base, status="skipped", reason=str(why)), []
    except NotExecutable as why:
        return RuleRun(**base, status="not executable", reason=str(why)), []
    found = [with_records(f, study) for f in found]
    datasets = tuple(sorted({f.dataset for f in found})) or tuple(sorted(package.tables))
    return RuleRun(**base, status="failed" if found else "passed", datasets=datasets), found


def with_records(finding: Finding, study: Study) -> Finding:
    """The finding's records with USUBJID and key filled in from the dataset (a check or a
    suite names rows; the dataset knows whose record each row is)."""
    ds = study.datasets.get(finding.dataset)
    records = finding.records or tuple(
        Record(r, value=v) for r, v in zip(finding.rows, list(finding.values) +
                                           [""] * len(finding.rows), strict=False))
    if not records:
        return replace(finding, records=(Record(0),))
    if ds is None or all(r.usubjid or r.key for r in records):
        return replace(finding, records=records)
    rows = np.asarray([max(r.row, 1) for r in records], dtype=int)
    subjects = (ds.frame["USUBJID"].to_numpy()[rows - 1].astype(str)
                if "USUBJID" in ds.frame.columns else [""] * len(rows))
    keys = record_keys(ds, rows)
    return replace(finding, records=tuple(
        replace(r, usubjid=str(u), key=k) if r.row > 0 else r
        for r, u, k in zip(records, subjects, keys, strict=True)))
