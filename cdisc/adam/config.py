"""The ADaM endpoint config: plain YAML data, checked on load; an error is one line, exit 2."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdisc.errors import SpecError
from cdisc.yamlsafe import load_yaml

TOP_KEYS = {"treatment", "age_groups", "death", "alive_evidence", "intercurrent", "response",
            "populations", "parameters", "end_of_study", "analyses"}
ANALYSIS_KEYS = {"id", "display", "title", "purpose", "reason", "dataset", "parameter", "where",
                 "variables", "method", "code"}
# Analysis Results Metadata 1.0 enumerations
ANALYSIS_PURPOSES = ("PRIMARY OUTCOME MEASURE", "SECONDARY OUTCOME MEASURE",
                     "EXPLORATORY OUTCOME MEASURE")
ANALYSIS_REASONS = ("SPECIFIED IN PROTOCOL", "SPECIFIED IN SAP", "DATA DRIVEN",
                    "REQUESTED BY REGULATORY AGENCY")
SOURCE_KEYS = {"source", "dataset", "where", "date", "cnsr", "description", "srcdom", "srcvar"}


@dataclass
class Source:
    """One event or censoring source of a time-to-event parameter."""

    source: str  # ADSL, ADRS, START or an SDTM domain
    where: dict[str, Any]
    date: str | None
    cnsr: int
    description: str
    srcdom: str | None
    srcvar: str | None  # SRCSEQ is always the record's --SEQ (SDTM) or ASEQ (ADRS)


@dataclass
class Parameter:
    paramcd: str
    param: str
    start: str
    events: list[Source]
    censors: list[Source]
    censor_at: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Analysis:
    """One analysis result for define.xml's Analysis Results Metadata (adam.yaml analyses)."""

    id: str
    display: str  # the table or figure it appears in
    title: str
    purpose: str
    reason: str
    dataset: str
    parameter: str
    where: tuple[tuple[str, str], ...]  # records analysed besides PARAMCD = parameter
    variables: tuple[str, ...]
    method: str
    code: str


@dataclass
class AdamConfig:
    path: Path
    raw: dict
    parameters: list[Parameter]
    analyses: list[Analysis] = field(default_factory=list)

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)


def _fail(path: Path, message: str) -> SpecError:
    return SpecError(message, file=str(path))


def _source(entry: Any, path: Path, where: str, is_event: bool) -> Source:
    if not isinstance(entry, dict):
        raise _fail(path, f"{where}: each source is a mapping")
    extra = set(entry) - SOURCE_KEYS
    if extra:
        raise _fail(path, f"{where}: unknown key(s) {sorted(extra)}")
    kind = str(entry.get("source", entry.get("dataset", ""))).upper()
    if not kind:
        raise _fail(path, f"{where}: 'source' is required (ADSL, ADRS, START or a domain)")
    if kind not in ("ADRS", "START") and not entry.get("date"):
        raise _fail(path, f"{where}: 'date' is required for source {kind}")
    cnsr = int(entry.get("cnsr", 0))
    if is_event and cnsr != 0:
        raise _fail(path, f"{where}: events have cnsr 0")
    if not is_event and cnsr < 1:
        raise _fail(path, f"{where}: censoring sources need a cnsr of 1 or more")
    return Source(kind, dict(entry.get("where") or {}), entry.get("date"), cnsr,
                  str(entry.get("description", "")), entry.get("srcdom"), entry.get("srcvar"))


def load_config(path: Path) -> AdamConfig:
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        raise _fail(path, "the ADaM config must be a mapping")
    extra = set(raw) - TOP_KEYS
    if extra:
        raise _fail(path, f"unknown key(s) {sorted(extra)} (allowed: {sorted(TOP_KEYS)})")
    for key in ("treatment", "parameters"):
        if key not in raw:
            raise _fail(path, f"'{key}' is required")
    params = []
    for code, spec in (raw.get("parameters") or {}).items():
        where = f"parameters.{code}"
        if not isinstance(spec, dict) or not str(code).isupper() or len(str(code)) > 8:
            raise _fail(path, f"{where}: PARAMCD must be upper case, <= 8 characters")
        if not spec.get("start") or not spec.get("events"):
            raise _fail(path, f"{where}: 'start' and 'events' are required")
        events = [_source(e, path, f"{where}.events", True) for e in spec["events"]]
        censors = [_source(c, path, f"{where}.censors", False) for c in spec.get("censors") or []]
        cnsrs = [c.cnsr for c in censors] + [int(c.get("cnsr", 0)) for c in
                                             spec.get("censor_at") or []]
        if len(cnsrs) != len(set(cnsrs)):
            raise _fail(path, f"{where}: one CNSR value per censoring reason, got {cnsrs}")
        params.append(Parameter(str(code), str(spec.get("param", code)), str(spec["start"]),
                                events, censors, list(spec.get("censor_at") or [])))
    return AdamConfig(path, raw, params, _analyses(raw.get("analyses") or [], path))


def _analyses(entries: Any, path: Path) -> list[Analysis]:
    if not isinstance(entries, list):
        raise _fail(path, "'analyses' must be a list")
    out = []
    for n, entry in enumerate(entries, start=1):
        where = f"analyses[{n}]"
        if not isinstance(entry, dict):
            raise _fail(path, f"{where}: each analysis is a mapping")
        extra = set(entry) - ANALYSIS_KEYS
        if extra:
            raise _fail(path, f"{where}: unknown key(s) {sorted(extra)}")
        missing = [k for k in ("id", "display", "title", "purpose", "reason", "dataset",
                               "parameter", "variables", "method") if not entry.get(k)]
        if missing:
            raise _fail(path, f"{where}: {', '.join(missing)} required")
        if entry["purpose"] not in ANALYSIS_PURPOSES:
            raise _fail(path, f"{where}: purpose must be one of {', '.join(ANALYSIS_PURPOSES)}")
        if entry["reason"] not in ANALYSIS_REASONS:
            raise _fail(path, f"{where}: reason must be one of {', '.join(ANALYSIS_REASONS)}")
        out.append(Analysis(str(entry["id"]), str(entry["display"]),
                            " ".join(str(entry["title"]).split()), str(entry["purpose"]),
                            str(entry["reason"]), str(entry["dataset"]),
                            str(entry["parameter"]),
                            tuple((str(k), str(v)) for k, v in (entry.get("where") or {}).items()),
                            tuple(str(v) for v in entry["variables"]),
                            " ".join(str(entry["method"]).split()),
                            " ".join(str(entry.get("code", "")).split())))
    return out
