"""Benchmark validation on the synthetic demo package at several sizes.

    python -m benchmarks.validate [--sizes 45,1000,10000] [--out benchmarks/results]

Per size N (subjects), in a scratch folder: `cdisc demo RAW --subjects N` and
`cdisc run RAW --out OUT --format xpt` build the package (untimed); then

1. `cdisc validate OUT` in its own process: wall time and peak RSS (the number users see);
2. in this process, the rule catalogue alone on the package read once: seconds per rule,
   the ten slowest rules, and how many rules were executed, skipped and not executable.

Results go to OUT/validate-N.json and a markdown section on stdout (paste into BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _cdisc() -> list[str]:
    exe = Path(sys.executable).with_name("cdisc")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "cdisc.cli"]


def _measured(cmd: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, exit code) of a child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss / 1024.0, os.waitstatus_to_exitcode(status)


def bench(n: int, work: Path) -> dict:
    from cdisc.validate.core.runner import run_catalogue
    from cdisc.validate.run import read_submission

    raw, out = work / f"raw{n}", work / f"out{n}"
    subprocess.run([*_cdisc(), "demo", str(raw), "--subjects", str(n)], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([*_cdisc(), "run", str(raw), "--out", str(out), "--format", "xpt"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall, peak, code = _measured([*_cdisc(), "validate", str(out), "--quiet"])
    start = time.perf_counter()
    submission = read_submission(out)
    read_seconds = time.perf_counter() - start
    records = sum(len(t.data) for p in (submission.sdtm, submission.adam) if p
                  for t in p.tables.values())
    timings: dict[str, float] = {}
    start = time.perf_counter()
    runs, findings = run_catalogue(submission, timings=timings)
    rules_seconds = time.perf_counter() - start
    status = Counter(r.status for r in runs)
    slowest = sorted(timings.items(), key=lambda kv: -kv[1])[:10]
    return {"subjects": n, "records": records, "validate_wall_s": round(wall, 2),
            "validate_peak_mib": round(peak, 1), "validate_exit": code,
            "read_s": round(read_seconds, 2), "rules_s": round(rules_seconds, 2),
            "rules": len(runs), "status": dict(sorted(status.items())),
            "findings": len(findings),
            "slowest": [{"rule": r, "seconds": round(s, 3)} for r, s in slowest]}


def render(results: list[dict]) -> str:
    lines = ["## Validation (`cdisc validate` on the demo package)", "",
             "| subjects | records | `cdisc validate` wall s | peak RSS MiB | read s | "
             "catalogue s | rules | executed | skipped | not executable |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        s = r["status"]
        executed = s.get("passed", 0) + s.get("failed", 0)
        lines.append(f"| {r['subjects']:,} | {r['records']:,} | {r['validate_wall_s']} | "
                     f"{r['validate_peak_mib']} | {r['read_s']} | {r['rules_s']} | "
                     f"{r['rules']} | {executed} | {s.get('skipped', 0)} | "
                     f"{s.get('not executable', 0)} |")
    for r in results:
        lines += ["", f"Ten slowest rules at {r['subjects']:,} subjects: " + ", ".join(
            f"{x['rule']} {x['seconds']} s" for x in r["slowest"])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="45,1000,10000")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    work = Path(tempfile.mkdtemp(prefix="cdisc-validate-bench-"))
    try:
        for n in [int(s) for s in args.sizes.split(",")]:
            result = bench(n, work)
            (out / f"validate-{n}.json").write_text(json.dumps(result, indent=2) + "\n")
            results.append(result)
            shutil.rmtree(work / f"raw{n}", ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.stdout.write(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
