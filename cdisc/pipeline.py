"""The stages in order, writing into a temporary folder that is renamed into place at the end.

Nothing half-written: every output of a run appears together or not at all.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cdisc import __version__
from cdisc.errors import OutputError, ReconciliationError
from cdisc.io.xpt import DEFAULT_SPLIT_BYTES, as_read_back
from cdisc.progress import track
from cdisc.define import StudyInfo
from cdisc.manifest import write_manifest
from cdisc.model import Dataset
from cdisc.adam.build import AdamResult, run_adam
from cdisc.adam.build import SUPPLEMENTAL as ADAM_SUPPLEMENTAL
from cdisc.adam.inputs import DOMAINS as ADAM_INPUTS
from cdisc.sdtm.engine import MappingResult, map_study
from cdisc.sdtm.mapping import StudyConfig, load_study, study_specs
from cdisc.sdtm.trial_design import build_trial_design
from cdisc.specs import Specs, load_specs

FORMATS = ("xpt", "json")


@contextmanager
def staged_output(out_dir: Path) -> Iterator[Path]:
    """Yield a temp folder beside out_dir; on success it replaces out_dir, on error it vanishes."""
    out_dir = out_dir.resolve()
    parent = out_dir.parent
    blocker = next((p for p in (parent, *parent.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise OutputError(f"cannot write to {out_dir}: {blocker} is a file, not a folder",
                          file=str(out_dir))
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=parent))
    except OSError as exc:
        raise OutputError(f"cannot write to {parent}: {exc.strerror}", file=str(out_dir)) from None
    try:
        yield tmp
        old = None
        if out_dir.exists():
            old = parent / f".{out_dir.name}.old-{os.getpid()}"
            out_dir.rename(old)
        tmp.rename(out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def creation_datetime_of(cutoff: str | None, datasets: dict[str, Dataset] | None = None,
                         sdtm_define: Path | None = None) -> str:
    """The one rule for the creation timestamp of every output of a data cut (define.xml,
    Dataset-JSON) in cdisc sdtm, cdisc adam and cdisc run: the cut-off date when given; else
    the creation time of the SDTM the outputs derive from (its define.xml, for cdisc adam);
    else the latest complete date in the SDTM data."""
    if cutoff:
        return f"{cutoff}T00:00:00"
    if sdtm_define is not None and sdtm_define.is_file():
        from cdisc.xmlsafe import parse_untrusted

        stamp = parse_untrusted(sdtm_define, file=str(sdtm_define)).get("CreationDateTime")
        if stamp:
            return stamp
    return data_cut_datetime(datasets or {})


def data_cut_datetime(datasets: dict[str, Dataset]) -> str:
    """The latest complete date in any --DTC variable: a creation time that comes from the data."""
    latest = ""
    for ds in datasets.values():
        for col in ds.columns:
            if col.name.endswith("DTC") and col.type == "Char":
                latest = max(latest, _latest_date(ds.data[col.name]))
    return f"{latest or '1960-01-01'}T00:00:00"


def _latest_date(values: pd.Series) -> str:
    """The latest complete date (YYYY-MM-DD at the start) among the values, "" for none;
    looked for among the distinct values."""
    from cdisc.column_codes import distinct_values

    distinct = distinct_values(values)
    if distinct is None:
        distinct = pd.unique(values.to_numpy(dtype=object))
    dates = pd.Series(distinct, dtype=object).astype(str).str[:10]
    dates = dates[dates.str.fullmatch(r"\d{4}-\d{2}-\d{2}")]
    return "" if dates.empty else dates.max()


@dataclass
class SdtmRun:
    result: MappingResult
    config: StudyConfig
    creation_datetime: str


def study_info(config: StudyConfig, documents: tuple = ()) -> StudyInfo:
    """What define.xml says about the study: names, dictionaries, who collected each raw form,
    the documents it points at."""
    from cdisc.define import Dictionary

    dictionaries = tuple(Dictionary(name, spec["version"], tuple(spec["variables"]),
                                    spec.get("href", ""))
                         for name, spec in sorted(config.dictionaries.items()))
    providers = tuple(sorted((Path(src.file).name, src.provider)
                             for src in config.sources.values()))
    return StudyInfo(study_oid=config.studyid, study_name=config.name,
                     description=config.description or config.name,
                     protocol_name=config.protocol, dictionaries=dictionaries,
                     documents=tuple(documents), providers=providers)


def write_tables(datasets: dict[str, Dataset], folder: Path, study: StudyInfo, specs: Specs,
                 formats: tuple[str, ...], creation_datetime: str,
                 split_bytes: int = DEFAULT_SPLIT_BYTES, analyses: tuple = ()) -> None:
    """XPT and/or Dataset-JSON per dataset (XPT over split_bytes also in numbered parts under
    split/), then define.xml and define.html."""
    from cdisc.define import build_define, metadata_version_oid
    from cdisc.define_html import render_define_html
    from cdisc.io.datasetjson import write_dataset_json
    from cdisc.io.xpt import write_xpt_split

    parts = {}
    for name, ds in track(sorted(datasets.items()), f"writing {folder.name}", "dataset",
                          lambda item: item[0]):
        if "xpt" in formats:
            split = write_xpt_split(ds, folder / f"{name.lower()}.xpt", split_bytes)
            if split:
                parts[name] = split
        if "json" in formats:
            write_dataset_json(ds, folder / f"{name.lower()}.json", study_oid=study.study_oid,
                               metadata_version_oid=metadata_version_oid(
                                   study.study_oid, ds.standard == "ADaMIG"),
                               creation_datetime=creation_datetime,
                               source_version=__version__)
    define = build_define([datasets[k] for k in sorted(datasets)], specs, study,
                          creation_datetime=creation_datetime, parts=parts,
                          analyses=analyses)
    (folder / "define.xml").write_bytes(define)
    (folder / "define.html").write_bytes(render_define_html(define))


def write_reports(result: MappingResult, folder: Path) -> None:
    from cdisc.io.csv_table import write_csv

    write_csv(result.rejects, folder / "rejects.csv")
    write_csv(result.issues, folder / "data_issues.csv")
    write_csv(result.reconciliation, folder / "reconciliation.csv")
    trace = result.trace.copy(deep=False)
    if "seq" in trace:
        trace["seq"] = trace["seq"].astype("Int64")
    write_csv(trace, folder / "trace.csv")


def map_raw(raw_dir: Path, mapping_dir: Path) -> tuple[Specs, StudyConfig, MappingResult]:
    """Check the mapping against specs and headers, then map every raw row; then the trial
    design datasets (TS, TE, TA, TV, TI, SE, SV) of a study.yaml with a trial_design section."""
    config = load_study(mapping_dir, load_specs())
    specs = study_specs(config, load_specs())
    result = map_study(config, raw_dir, specs)
    result.datasets.update(build_trial_design(config, specs, result.datasets))
    result.datasets.update(derived_findings(result.datasets))
    return specs, config, result


def derived_findings(datasets: dict[str, Dataset]) -> dict[str, Dataset]:
    """Findings the sponsor computes from mapped ones: PP (non-compartmental analysis of the
    PC concentrations), when the study has PC."""
    from cdisc.sdtm.pp import pp_dataset

    pc = datasets.get("PC")
    pp = pp_dataset(pc.data) if pc is not None else None
    return {"PP": pp} if pp is not None else {}


# the reviewer's guides cdisc run writes beside each define.xml (def:SupplementalDoc)
CSDRG = ("LF.CSDRG", "csdrg.html", "Clinical Study Data Reviewer's Guide")
ADRG = ("LF.ADRG", "adrg.html", "Analysis Data Reviewer's Guide")


def sdtm_documents(config: StudyConfig, guide: bool) -> tuple:
    """The documents the SDTM define.xml points at: the annotated CRF (when the study has one)
    and the cSDRG (when the run writes it)."""
    from cdisc.define import Document
    from cdisc.sdtm.engine import ACRF_LEAF

    docs = []
    if config.annotated_crf:
        docs.append(Document(ACRF_LEAF, config.annotated_crf["file"],
                             config.annotated_crf["title"], "annotated_crf"))
    if guide:
        docs.append(Document(*CSDRG))
    return tuple(docs)


def copy_annotated_crf(raw_dir: Path, config: StudyConfig, folder: Path) -> None:
    """The study's annotated CRF beside the SDTM define.xml that points at its pages."""
    from cdisc.errors import InputError

    if not config.annotated_crf:
        return
    source = raw_dir / config.annotated_crf["file"]
    if not source.is_file():
        raise InputError("annotated CRF named in study.yaml (annotated_crf.file) not found",
                         file=str(source))
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, folder / source.name)


def write_sdtm(folder: Path, specs: Specs, config: StudyConfig, result: MappingResult,
               formats: tuple[str, ...], stamp: str,
               split_bytes: int = DEFAULT_SPLIT_BYTES, documents: tuple = ()) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_tables(result.datasets, folder, study_info(config, documents), specs, formats, stamp,
                 split_bytes)
    write_reports(result, folder)


def run_sdtm(raw_dir: Path, mapping_dir: Path, out_dir: Path,
             formats: tuple[str, ...] = FORMATS, creation_datetime: str | None = None,
             split_bytes: int = DEFAULT_SPLIT_BYTES) -> SdtmRun:
    """Map raw exports to SDTM and write everything into out_dir (atomically)."""
    specs, config, result = map_raw(raw_dir, mapping_dir)
    stamp = creation_datetime or creation_datetime_of(None, result.datasets)
    with staged_output(out_dir) as tmp:
        copy_annotated_crf(raw_dir, config, tmp)
        write_sdtm(tmp, specs, config, result, formats, stamp, split_bytes,
                   documents=sdtm_documents(config, guide=False))
    check_reconciliation(result.reconciliation, out_dir)
    return SdtmRun(result, config, stamp)


def check_reconciliation(reconciliation: pd.DataFrame, out_dir: Path) -> None:
    """Every raw row must be mapped, rejected with a reason or dropped by a named filter."""
    unused = reconciliation[reconciliation["unused"] > 0]
    if unused.empty:
        return
    files = ", ".join(f"{r.file}: {r.unused}" for r in unused.itertuples(index=False))
    raise ReconciliationError(f"reconciliation failed: raw rows neither mapped, rejected nor "
                              f"filtered ({files}); see {out_dir}/reconciliation.csv")


def summary_lines(run: SdtmRun) -> list[str]:
    lines = [f"{name}: {len(ds.data)} records, {len(ds.columns)} variables"
             for name, ds in sorted(run.result.datasets.items())]
    lines += [f"{name}: no records, not written (a domain without records is not submitted)"
              for name in run.result.empty]
    rec: pd.DataFrame = run.result.reconciliation
    lines.append("reconciliation (raw rows read = mapped + rejected + filtered + unused):")
    for r in rec.itertuples(index=False):
        extra = f" [{r.filters}]" if r.filters else ""
        lines.append(f"  {r.file}: {r.read} = {r.mapped} + {r.rejected} + {r.filtered} + "
                     f"{r.unused}{extra}")
    rej, issues = run.result.rejects, run.result.issues
    records = len(rej.drop_duplicates(["file", "row"]))
    lines.append(f"rejects.csv: {records} raw records left out (not data about a known subject)")
    lines.append(f"data_issues.csv: {len(issues)} values to query with the sites "
                 f"({len(issues.drop_duplicates(['file', 'row']))} records, all kept in SDTM)")
    return lines


def write_adam(folder: Path, result: AdamResult, study: StudyInfo,
               formats: tuple[str, ...], stamp: str,
               split_bytes: int = DEFAULT_SPLIT_BYTES) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_tables(result.datasets, folder, study, load_specs(), formats, stamp, split_bytes,
                 analyses=tuple(result.analyses))
    if result.safety_tables:
        from cdisc.adam.safety_tables import write_safety_tables

        write_safety_tables(list(result.safety_tables), folder / "tables", study.study_name,
                            list(result.safety_notes))
    if "ADPC" in result.datasets:
        from cdisc.adam.kinetics_plot import plot_median_profile

        plot_median_profile(result.datasets["ADPC"].data, folder / "kinetics_plot.png")
    if "ADTTE" not in result.datasets:
        return
    adtte = result.datasets["ADTTE"].data
    try:
        from cdisc.adam.km import write_km_outputs
    except ImportError:  # the survival stack is optional until installed
        return
    write_km_outputs(adtte, folder)


def adam_study(result: AdamResult, fallback: StudyInfo | None = None) -> StudyInfo:
    if fallback is not None:
        return fallback
    studyid = str(result.datasets["ADSL"].data["STUDYID"].iloc[0])
    return StudyInfo(studyid, studyid, f"ADaM datasets of {studyid}", studyid)


def effective_cutoff(cutoff: str | None, adam_config: Path) -> str | None:
    """--cutoff when given, else the ADaM configuration's data_cutoff (when there is one)."""
    if cutoff or not adam_config.is_file():
        return cutoff
    from cdisc.adam.config import load_config

    return load_config(adam_config).data_cutoff


def run_adam_stage(sdtm_dir: Path, config_path: Path, out_dir: Path,
                   formats: tuple[str, ...] = FORMATS, cutoff: str | None = None,
                   creation_datetime: str | None = None,
                   split_bytes: int = DEFAULT_SPLIT_BYTES) -> AdamResult:
    """cdisc adam: the ADaM datasets (+ define.xml, KM summary, safety tables) into out_dir
    (atomically)."""
    cutoff = effective_cutoff(cutoff, config_path)
    result = run_adam(sdtm_dir, config_path, cutoff)
    stamp = creation_datetime or creation_datetime_of(cutoff, sdtm_define=sdtm_dir / "define.xml")
    with staged_output(out_dir) as tmp:
        write_adam(tmp, result, adam_study(result), formats, stamp, split_bytes)
    return result


def validate_outputs(stage_dirs: list[Path], folder: Path,
                     in_memory: list[dict[str, Dataset]] | None = None) -> list[str]:
    """Validate the whole package (sdtm/ and adam/ at once, so the cross-package rules run)
    into folder (report.json, junit.xml, report.html, report.sarif, report.xlsx); the summary
    line. `in_memory`: the datasets just written to each stage folder."""
    from cdisc.validate.core.runner import Submission
    from cdisc.validate.package import package_of, read_package
    from cdisc.validate.report import console_lines, write_reports
    from cdisc.validate.run import validate_folder

    parts = {}
    for i, stage in enumerate(stage_dirs):
        pkg = package_of(stage, in_memory[i]) if in_memory else read_package(stage)
        for table in pkg.tables.values():
            table.file = f"{stage.name}/{table.file}"
        parts[stage.name] = pkg
    submission = Submission(parts.get("sdtm"), parts.get("adam"))
    report = validate_folder(stage_dirs[0].parent, submission=submission)
    report.folder = "."  # reports name the package root, not the temporary path
    write_reports(report, folder)
    return ["validation: " + console_lines(report, quiet=True)[-1]]


def run_all(raw_dir: Path, mapping_dir: Path, out_dir: Path,
            formats: tuple[str, ...] = FORMATS, cutoff: str | None = None,
            split_bytes: int = DEFAULT_SPLIT_BYTES
            ) -> tuple[SdtmRun, AdamResult | None, list[str]]:
    """Every stage, into out_dir/sdtm, adam, validation (out_dir replaced atomically)."""
    specs, config, result = map_raw(raw_dir, mapping_dir)
    cutoff = effective_cutoff(cutoff, mapping_dir / "adam.yaml")
    stamp = creation_datetime_of(cutoff, result.datasets)
    adam = None
    from cdisc.define import Document
    from cdisc.reviewers_guide import write_reviewers_guides
    from cdisc.yamlsafe import load_yaml

    with staged_output(out_dir) as tmp:
        copy_annotated_crf(raw_dir, config, tmp / "sdtm")
        write_sdtm(tmp / "sdtm", specs, config, result, formats, stamp, split_bytes,
                   documents=sdtm_documents(config, guide=True))
        stages, written = [tmp / "sdtm"], [result.datasets]
        adam_config = mapping_dir / "adam.yaml"
        if adam_config.exists():
            # the SDTM tables as the files just written read back (tested equal to cdisc adam)
            sdtm = {name: as_read_back(ds) for name, ds in result.datasets.items()
                    if name in (*ADAM_INPUTS, *ADAM_SUPPLEMENTAL)} if "xpt" in formats \
                else None
            adam = run_adam(tmp / "sdtm", adam_config, cutoff, sdtm)
            del sdtm
            write_adam(tmp / "adam", adam, study_info(config, (Document(*ADRG),)), formats,
                       stamp, split_bytes)
            stages.append(tmp / "adam")
            written.append(adam.datasets)
        validation = validate_outputs(stages, tmp / "validation",
                                      written if "xpt" in formats else None)
        # the guides list what the validation left open, so they come after it
        report = json.loads((tmp / "validation" / "report.json").read_text(encoding="utf-8"))
        # the record counts of the datasets just written: no second read of large files
        report["dataset_records"] = {name: len(ds.data) for datasets in written
                                     for name, ds in datasets.items()}
        write_reviewers_guides(tmp, config, load_yaml(adam_config) if adam_config.exists()
                               else None, report)
        result.reconciliation.to_csv(tmp / "reconciliation.csv", index=False,
                                     lineterminator="\n")
        write_manifest(tmp, raw_dir, mapping_dir)
    check_reconciliation(result.reconciliation, out_dir)
    return SdtmRun(result, config, stamp), adam, validation
