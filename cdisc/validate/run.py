"""Validate a folder: read it, run the GX suites (when available) and the rules, time both."""

from __future__ import annotations

import time
from pathlib import Path

from cdisc.define import check_define_file
from cdisc.errors import InputError
from cdisc.validate.package import Package, read_package
from cdisc.validate.report import Report
from cdisc.validate.rules import RULES, applicable, run_rules

ADAM = {"ADSL", "ADRS", "ADTTE"}


def _standard(names: set[str], requested: str) -> str:
    if requested != "auto":
        return requested
    if names <= ADAM:
        return "adam"
    return "sdtm" if not names & ADAM else "mixed"


def validate_folder(folder: Path, standard: str = "auto", define: Path | None = None,
                    use_gx: bool = True, package: Package | None = None) -> Report:
    """Validate the datasets of folder (or `package`, the same datasets already in memory)."""
    pkg = package if package is not None else read_package(folder)
    if define is not None:
        if not define.exists():
            raise InputError("define.xml not found", file=str(define))
        pkg.define = define
    if pkg.define is not None:
        check_define_file(pkg.define)  # a DOCTYPE, entities or malformed XML: InputError
    names = set(pkg.tables)
    findings, not_checked, gx_seconds = [], [], 0.0
    if use_gx:
        try:
            from cdisc.specs import load_specs
            from cdisc.validate.suites import run_suites
        except ImportError:
            not_checked.append("Great Expectations suites (cdisc.validate.suites not available)")
        else:
            specs = load_specs()
            known = {n: t.data for n, t in pkg.tables.items() if _known(specs, n)}
            unknown = sorted(names - set(known))
            if unknown:
                not_checked.append(f"no specs for {', '.join(unknown)}: their variables are "
                                   "not checked against an IG")
            gx_findings, gx_seconds = run_suites(known, specs)
            findings += gx_findings
    start = time.perf_counter()
    rule_findings, skipped = run_rules(pkg)
    rules_seconds = time.perf_counter() - start
    findings += rule_findings
    not_checked += skipped
    if pkg.define is None:
        not_checked.append("define.xml: none in the folder (use --define)")
    checked = [(r.id, n) for r in RULES if applicable(r, pkg) for n in sorted(names)
               if "*" in r.needs or n in r.needs]
    return Report(str(folder), _standard(names, standard), sorted(names), findings,
                  not_checked, checked, gx_seconds, rules_seconds)


def _known(specs, name: str) -> bool:  # type: ignore[no-untyped-def]
    from cdisc.errors import SpecError

    try:
        specs.dataset(name)
        return True
    except SpecError:
        return False
