"""Command line: `cdisc demo | sdtm | run`. Thin: parse options, call the pipeline, map errors
to exit codes (0 fine, 2 bad input/spec/output with a one-line message, 3 internal error)."""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cdisc import __version__
from cdisc.errors import CdiscError

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """One line on stderr and a non-zero exit instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CdiscError as exc:
            _fail(exc.one_line(), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:  # noqa: BLE001 - last line of defence, no traceback for users
            if os.environ.get("CDISC_DEBUG"):
                raise
            text = str(exc).replace("\n", " ")
            _fail(f"internal error ({type(exc).__name__}: {text}); rerun with CDISC_DEBUG=1 "
                  "for details", 3)

    return wrapper


def _formats(value: str) -> tuple[str, ...]:
    parts = tuple(p.strip().lower() for p in value.split(",") if p.strip())
    bad = [p for p in parts if p not in ("xpt", "json")]
    if bad or not parts:
        raise click.BadParameter(f"formats are xpt and/or json, got {value!r}")
    return parts


_SIZE_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10,
               "MIB": 2**20, "GIB": 2**30}


def parse_size(text: str) -> int:
    """'5GB' -> 5000000000, '200KB', '1.5MB', '4GiB', '80000' (bytes)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", text)
    unit = match.group(2).upper() if match else ""
    if not match or unit not in _SIZE_UNITS:
        raise ValueError(f"not a size: {text!r} (e.g. 5GB, 200KB, 80000)")
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


def _split_size(value: str) -> int:
    try:
        size = parse_size(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if size < 1:
        raise click.BadParameter("split size must be positive")
    return size


def _quiet(value: bool) -> bool:
    from cdisc import progress

    progress.configure(quiet=value)  # bars on stderr only at a terminal, never with --quiet
    return value


def quiet_option(help_text: str) -> Callable[..., Any]:
    return click.option("--quiet", is_flag=True, callback=lambda c, p, v: _quiet(v),
                        help=help_text)


RUN_QUIET = "No progress bars on stderr; print only where the output went."

split_size_option = click.option(
    "--split-size", "split_bytes", default="5GB", show_default=True,
    callback=lambda c, p, v: _split_size(v),
    help="XPT files larger than this are also written as numbered parts under split/ "
         "(FDA TCG: 5 GB); e.g. 5GB, 500MB, 200KB.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cdisc")
def main() -> None:
    """Raw clinical-trial exports to submission-ready CDISC SDTM, XPT v5, Dataset-JSON and
    Define-XML 2.1."""


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--subjects", default=45, show_default=True, type=click.IntRange(1, 1_000_000),
              help="Number of subjects to generate.")
@click.option("--seed", default=None, type=int, help="Random seed (default: the shipped seed).")
@handle_errors
def demo(out_dir: Path, subjects: int, seed: int | None) -> None:
    """Write synthetic raw EDC exports of the demo trial NCT04265963 (CD123 CAR-T, R/R AML)."""
    from cdisc.demo.generator import DEFAULT_SEED, generate_demo
    from cdisc.pipeline import staged_output

    with staged_output(out_dir) as tmp:
        counts = generate_demo(tmp, subjects, DEFAULT_SEED if seed is None else seed)
    for name, n in sorted(counts.items()):
        click.echo(f"{name}: {n} rows")
    click.echo(f"wrote {len(counts)} raw export files for {subjects} subjects to {out_dir}")


@main.command()
@click.argument("raw_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--mapping", "mapping_dir", required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Mapping folder (study.yaml + <DOMAIN>.yaml).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (replaced as a whole when the run succeeds).")
@click.option("--format", "formats", default="xpt,json", show_default=True,
              help="Dataset formats: xpt, json or both.")
@click.option("--creation-datetime", default=None,
              help="Fixed creation timestamp for define.xml/Dataset-JSON "
                   "(default: the latest date in the data).")
@split_size_option
@quiet_option(RUN_QUIET)
@handle_errors
def sdtm(raw_dir: Path, mapping_dir: Path, out_dir: Path, formats: str,
         creation_datetime: str | None, split_bytes: int, quiet: bool) -> None:
    """Map RAW_DIR to SDTM with a mapping folder; write datasets, define.xml and reports."""
    from cdisc.pipeline import run_sdtm, summary_lines

    run = run_sdtm(raw_dir, mapping_dir, out_dir, _formats(formats), creation_datetime,
                   split_bytes)
    for line in [] if quiet else summary_lines(run):
        click.echo(line)
    click.echo(f"wrote {out_dir}")


@main.command()
@click.argument("raw_dir", required=False,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--mapping", "mapping_dir", default=None,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Mapping folder (default: the demo study's).")
@click.option("--out", "out_dir", default=Path("out"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--format", "formats", default="xpt,json", show_default=True,
              help="Dataset formats: xpt, json or both.")
@click.option("--cutoff", default=None, callback=lambda c, p, v: _cutoff(v),
              help="Data cut-off date YYYY-MM-DD for ADaM (records after it are dropped).")
@split_size_option
@quiet_option(RUN_QUIET)
@handle_errors
def run(raw_dir: Path | None, mapping_dir: Path | None, out_dir: Path, formats: str,
        cutoff: str | None, split_bytes: int, quiet: bool) -> None:
    """Run every stage on RAW_DIR (default: the embedded demo study) into OUT_DIR/sdtm/ and,
    when the mapping folder has an adam.yaml, OUT_DIR/adam/."""
    from cdisc.adam.build import rate_lines
    from cdisc.paths import DEMO_MAPPING_DIR, DEMO_RAW_DIR
    from cdisc.pipeline import run_all, summary_lines

    sdtm_run, adam, validation = run_all(raw_dir or DEMO_RAW_DIR,
                                         mapping_dir or DEMO_MAPPING_DIR, out_dir,
                                         _formats(formats), cutoff, split_bytes)
    lines = [*summary_lines(sdtm_run), *validation]
    if adam is not None:
        lines += [f"{name}: {len(ds.data)} records, {len(ds.columns)} variables"
                  for name, ds in adam.datasets.items()]
        lines += rate_lines(adam)
    for line in [] if quiet else lines:
        click.echo(line)
    click.echo(f"wrote {out_dir}")


def _cutoff(value: str | None) -> str | None:
    import re

    if value is None:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise click.BadParameter(f"cut-off must be YYYY-MM-DD, got {value!r}")
    return value


@main.command()
@click.argument("sdtm_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (replaced as a whole when the run succeeds).")
@click.option("--config", "config_path", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="ADaM endpoint config (default: the demo study's adam.yaml).")
@click.option("--cutoff", default=None, callback=lambda c, p, v: _cutoff(v),
              help="Data cut-off date YYYY-MM-DD.")
@click.option("--format", "formats", default="xpt,json", show_default=True,
              help="Dataset formats: xpt, json or both.")
@split_size_option
@quiet_option(RUN_QUIET)
@handle_errors
def adam(sdtm_dir: Path, out_dir: Path, config_path: Path | None, cutoff: str | None,
         formats: str, split_bytes: int, quiet: bool) -> None:
    """Derive ADSL, ADRS and ADTTE from any folder of SDTM datasets (xpt or Dataset-JSON)."""
    from cdisc.adam.build import rate_lines
    from cdisc.paths import DEMO_MAPPING_DIR
    from cdisc.pipeline import run_adam_stage

    result = run_adam_stage(sdtm_dir, config_path or DEMO_MAPPING_DIR / "adam.yaml", out_dir,
                            _formats(formats), cutoff, split_bytes=split_bytes)
    lines = [f"{name}: {len(ds.data)} records, {len(ds.columns)} variables"
             for name, ds in result.datasets.items()]
    for line in [] if quiet else [*lines, *rate_lines(result)]:
        click.echo(line)
    click.echo(f"wrote {out_dir}")


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--standard", type=click.Choice(["auto", "sdtm", "adam"]), default="auto",
              show_default=True)
@click.option("--define", "define_path", default=None, type=click.Path(path_type=Path),
              help="define.xml to check (default: FOLDER/define.xml when present).")
@click.option("--json", "json_path", default=None, type=click.Path(path_type=Path),
              help="Write the JSON report here.")
@click.option("--junit", "junit_path", default=None, type=click.Path(path_type=Path),
              help="Write a JUnit XML report here.")
@click.option("--html", "html_dir", default=None, type=click.Path(path_type=Path),
              help="Write report.html into this folder.")
@click.option("--sarif", "sarif_path", default=None, type=click.Path(path_type=Path),
              help="Write a SARIF 2.1.0 report here (code scanning, IDEs).")
@click.option("--excel", "excel_path", default=None, type=click.Path(path_type=Path),
              help="Write an Excel workbook here (Dataset Summary, Issue Summary, Details, "
                   "Rules).")
@click.option("--baseline", "baseline_path", default=None, type=click.Path(path_type=Path),
              help="A previous report.json (e.g. of the last data cut): mark findings new or "
                   "open and list the resolved ones.")
@click.option("--fail-on-new", is_flag=True,
              help="With --baseline: exit 1 only when a finding at or above --fail-on is new.")
@click.option("--waivers", "waivers_path", default=None, type=click.Path(path_type=Path),
              help="waivers.yaml: reviewed findings with their justification (never counted "
                   "by --fail-on).")
@click.option("--fail-on", type=click.Choice(["reject", "error", "warning", "notice"]),
              default="error", show_default=True,
              help="Exit 1 when a finding at or above this severity exists (waived findings "
                   "do not count).")
@click.option("--no-gx", is_flag=True, help="Run only the conformance rules (skip GX suites).")
@click.option("--suites-engine", type=click.Choice(["native", "gx"]), default="native",
              show_default=True, help="Evaluate the GX suites natively (same findings, "
              "vectorised) or with Great Expectations itself.")
@quiet_option("No progress bars on stderr; print only the totals line.")
@handle_errors
def validate(folder: Path, standard: str, define_path: Path | None, json_path: Path | None,
             junit_path: Path | None, html_dir: Path | None, sarif_path: Path | None,
             excel_path: Path | None, baseline_path: Path | None, fail_on_new: bool,
             waivers_path: Path | None, fail_on: str, no_gx: bool, suites_engine: str,
             quiet: bool) -> None:
    """Validate a package root with sdtm/ and adam/ (and their define.xml), or one folder of
    SDTM or ADaM datasets (xpt or Dataset-JSON), with the GX suites and the whole rule
    catalogue (CORE's SDTMIG 3.4 rules and ours): exit 0 when clean, 1 when findings at or
    above --fail-on (new ones only with --fail-on-new), 2 when validation could not run."""
    from cdisc.errors import InputError
    from cdisc.validate.baseline import compare, load_baseline
    from cdisc.validate.report import (console_lines, excel_bytes, to_html, to_json, to_junit,
                                       to_sarif, write_files)
    from cdisc.validate.run import validate_folder
    from cdisc.validate.waivers import apply_waivers, load_waivers

    if fail_on_new and baseline_path is None:
        raise InputError("--fail-on-new needs --baseline (the report to compare with)")
    # the inputs first: a bad baseline or waivers file stops the run before validating
    waivers = load_waivers(waivers_path) if waivers_path is not None else None
    baseline = load_baseline(baseline_path) if baseline_path is not None else None
    report = validate_folder(folder, standard, define_path, use_gx=not no_gx,
                             suites_engine=suites_engine)
    if not report.files:  # the files read (xpt preferred over Dataset-JSON), for SARIF
        parts = [folder / p for p in ("sdtm", "adam") if (folder / p).is_dir()] or [folder]
        files = {p.stem.upper(): p.relative_to(folder).as_posix()
                 for part in parts for ext in ("json", "xpt")
                 for p in sorted(part.glob(f"*.{ext}"))}
        report.files = {d: files[d] for d in report.datasets if d in files}
    if waivers is not None:
        report = apply_waivers(report, waivers)
    if baseline is not None:
        report = compare(report, baseline, str(baseline_path))
    # every report rendered before any is written, then all written or none
    outputs: list[tuple[Path, bytes]] = []
    names: dict[Path, str] = {}
    if json_path:
        outputs.append((json_path, to_json(report).encode("utf-8")))
    if junit_path:
        outputs.append((junit_path, to_junit(report)))
    if html_dir:
        outputs.append((html_dir / "report.html", to_html(report)))
        names[html_dir / "report.html"] = str(html_dir)
    if sarif_path:
        outputs.append((sarif_path, to_sarif(report).encode("utf-8")))
    if excel_path:
        outputs.append((excel_path, excel_bytes(report)))
    for line in console_lines(report, quiet):
        click.echo(line)
    write_files(outputs, names)
    if report.worst_at_least(fail_on, new_only=fail_on_new):
        sys.exit(1)


@main.command()
@click.option("--out", "out_dir", default=Path("validation/suites"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@handle_errors
def suites(out_dir: Path) -> None:
    """Generate the Great Expectations suites (one JSON per dataset) from specs/."""
    from cdisc.specs import load_specs
    from cdisc.validate.suites import write_suites

    paths = write_suites(out_dir, load_specs())
    click.echo(f"wrote {len(paths)} suites to {out_dir}")


if __name__ == "__main__":  # pragma: no cover
    main()
