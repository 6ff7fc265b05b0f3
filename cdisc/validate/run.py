"""Validate a submission: a package root with sdtm/ and adam/ (each with its define.xml), or one
folder of SDTM or ADaM datasets. The GX suites check each variable; the rule catalogue (CORE's
SDTMIG 3.4 rules and ours) checks records, datasets and the package as a whole, once."""

from __future__ import annotations

import time
from pathlib import Path

from cdisc.define import check_define_file
from cdisc.errors import InputError
from cdisc.validate.package import Package, read_package
from cdisc.validate.report import Report

PARTS = ("sdtm", "adam")


def _is_adam(pkg: Package) -> bool:
    return all(name.startswith("AD") for name in pkg.tables)


def read_submission(folder: Path, standard: str = "auto"):  # type: ignore[no-untyped-def]
    """The Submission in folder: its sdtm/ and adam/ sub-folders, or the folder itself."""
    from cdisc.validate.core.runner import Submission

    if not folder.is_dir():
        raise InputError("not a folder", file=str(folder))
    parts = {p: folder / p for p in PARTS if (folder / p).is_dir()}
    if parts:
        packages = {p: read_package(path) for p, path in parts.items()}
        for part, pkg in packages.items():
            for table in pkg.tables.values():
                table.file = f"{part}/{table.file}"
        return Submission(packages.get("sdtm"), packages.get("adam"))
    pkg = read_package(folder)
    if standard == "adam" or (standard == "auto" and _is_adam(pkg)):
        return Submission(adam=pkg)
    return Submission(sdtm=pkg)


def validate_folder(folder: Path, standard: str = "auto", define: Path | None = None,
                    use_gx: bool = True, package: Package | None = None,
                    submission=None, suites_engine: str = "native") -> Report:  # type: ignore[no-untyped-def]
    """Validate folder (or `submission` / `package`: the same datasets already in memory)."""
    from cdisc.validate.core.runner import Submission, run_catalogue

    if submission is None:
        if package is not None:
            submission = Submission(adam=package) if _is_adam(package) and standard != "sdtm" \
                else Submission(sdtm=package)
        else:
            submission = read_submission(folder, standard)
    parts = [p for p in (submission.sdtm, submission.adam) if p is not None]
    if define is not None:
        if not define.exists():
            raise InputError("define.xml not found", file=str(define))
        parts[0].define = define
    for pkg in parts:
        if pkg.define is not None:
            check_define_file(pkg.define)  # a DOCTYPE, entities or malformed XML: InputError
    findings, not_checked, gx_seconds = [], [], 0.0
    if use_gx:
        gx_findings, gx_seconds, notes = _suites(submission, suites_engine)
        findings += gx_findings
        not_checked += notes
    start = time.perf_counter()
    runs, rule_findings = run_catalogue(submission)
    findings += rule_findings
    rules_seconds = time.perf_counter() - start
    names = sorted(n for pkg in parts for n in pkg.tables)
    kind = "mixed" if len(parts) == 2 else ("adam" if submission.adam is not None else "sdtm")
    checked = sorted({(r.rule, d) for r in runs if r.status in ("passed", "failed")
                      for d in r.datasets})
    report = Report(str(folder), kind, names, findings, not_checked, checked, gx_seconds,
                    rules_seconds, rules=runs,
                    files={n: t.file for pkg in parts for n, t in pkg.tables.items()},
                    dataset_records={n: len(t.data) for pkg in parts
                                     for n, t in pkg.tables.items()})
    return report


def _suites(submission, engine: str = "native") -> tuple[list, float, list[str]]:  # type: ignore[no-untyped-def]
    from cdisc.specs import load_specs
    from cdisc.validate.core.runner import study_for, with_records
    from cdisc.validate.suites import run_suites

    specs = load_specs()
    findings, seconds, notes = [], 0.0, []
    for standard, pkg in (("SDTMIG", submission.sdtm), ("ADaMIG", submission.adam)):
        if pkg is None:
            continue
        known = {n: t.data for n, t in pkg.tables.items() if _known(specs, n)}
        unknown = sorted(set(pkg.tables) - set(known))
        if unknown:
            notes.append(f"no specs for {', '.join(unknown)}: their variables are not "
                         "checked by the GX suites")
        # the study the rules use (record keys); building it first shares column codes
        study = study_for(submission, standard, pkg)
        found, took = run_suites(known, specs, engine=engine)
        findings += [with_records(f, study) for f in found]
        seconds += took
    return findings, seconds, notes


def _known(specs, name: str) -> bool:  # type: ignore[no-untyped-def]
    from cdisc.errors import SpecError

    try:
        specs.dataset(name)
        return True
    except SpecError:
        return False
