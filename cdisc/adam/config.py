"""The ADaM endpoint config: plain YAML data, checked on load; an error is one line, exit 2."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from cdisc.errors import SpecError
from cdisc.yamlsafe import load_yaml

TOP_KEYS = {"data_cutoff", "treatment", "first_dates", "age_groups", "death", "alive_evidence", "intercurrent", "response",
            "populations", "parameters", "end_of_study", "analyses", "adverse_events"}
AE_KEYS = {"dataset", "supplemental", "reference", "onset", "end", "period_flags", "causality",
           "toxicity", "groups", "special_interest", "occurrence", "tables"}
ANALYSIS_KEYS = {"id", "display", "title", "purpose", "reason", "dataset", "parameter", "where",
                 "variables", "method", "code"}
# Analysis Results Metadata 1.0 enumerations
ANALYSIS_PURPOSES = ("PRIMARY OUTCOME MEASURE", "SECONDARY OUTCOME MEASURE",
                     "EXPLORATORY OUTCOME MEASURE")
ANALYSIS_REASONS = ("SPECIFIED IN PROTOCOL", "SPECIFIED IN SAP", "DATA DRIVEN",
                    "REQUESTED BY REGULATORY AGENCY")
SOURCE_KEYS = {"source", "dataset", "where", "date", "cnsr", "description", "srcdom", "srcvar",
               "without"}


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
    without: Without | None = None


@dataclass(frozen=True)
class Without:
    """A source applies only to subjects with no ADRS record of the filter dated within
    `days` days of the start (an induction failure: no CR by the assessment day)."""

    where: dict[str, Any]
    days: int


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


@dataclass(frozen=True)
class GroupRule:
    """One value of a pooled group variable: taken by the records the filter selects."""

    value: str
    where: dict[str, Any]


@dataclass(frozen=True)
class PeriodFlag:
    """A Y/blank flag on events whose onset falls in a period (TRTEMFL, LDTEMFL, ...)."""

    name: str
    start: str  # ADSL date: onset on or after it
    before: str | None = None  # ADSL date: onset before it (when the subject has it)
    days_after: tuple[str, int] | None = None  # onset no later than n days after an ADSL date


@dataclass(frozen=True)
class EventGroup:
    """An adverse event of special interest (CQzzNAM): a filter, a minimum analysis grade, and
    a study day on which the event must still be present (prolonged events)."""

    name: str
    where: dict[str, Any]
    min_grade: float | None = None
    present_on_day: int | None = None


@dataclass(frozen=True)
class AdverseEvents:
    """adam.yaml `adverse_events`: how ADAE is derived."""

    supplemental: tuple[str, ...]
    reference: str
    onset_not_before: tuple[str, ...]
    end_not_after: tuple[str, ...]
    period_flags: tuple[PeriodFlag, ...]
    causality_variable: str
    causality_missing: str | None
    causality_order: tuple[str, ...]
    grade_variable: str
    grade_scale: str | None
    groups: dict[str, list[GroupRule]]
    special_interest: tuple[EventGroup, ...]
    occurrence_among: str
    tables: dict[str, Any]


@dataclass
class AdamConfig:
    path: Path
    raw: dict
    parameters: list[Parameter]
    analyses: list[Analysis] = field(default_factory=list)
    adverse_events: AdverseEvents | None = None
    data_cutoff: str | None = None  # used when the command line gives no --cutoff

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
                  str(entry.get("description", "")), entry.get("srcdom"), entry.get("srcvar"),
                  _without(entry.get("without"), path, where))


def _without(raw: Any, path: Path, where: str) -> Without | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"where", "within_days"} or \
            not isinstance(raw["where"], dict):
        raise _fail(path, f"{where}.without: {{where: {{...ADRS filter}}, within_days: n}}")
    return Without(dict(raw["where"]), int(raw["within_days"]))


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
    _check_response(raw.get("response"), path)
    params = []
    for code, spec in (raw.get("parameters") or {}).items():
        where = f"parameters.{code}"
        if not isinstance(spec, dict) or not str(code).isupper() or len(str(code)) > 8:
            raise _fail(path, f"{where}: PARAMCD must be upper case, <= 8 characters")
        if not spec.get("start") or not spec.get("events"):
            raise _fail(path, f"{where}: 'start' and 'events' are required")
        events = [_source(e, path, f"{where}.events", True) for e in spec["events"]]
        censors = [_source(c, path, f"{where}.censors", False) for c in spec.get("censors") or []]
        if not any(c.source == "START" and c.without is None for c in censors):
            raise _fail(path, f"{where}.censors: a 'source: START' censoring is required (a "
                        "subject with no event and no other censoring date is censored at "
                        "the start with its cnsr)")
        cnsrs = [c.cnsr for c in censors] + [int(c.get("cnsr", 0)) for c in
                                             spec.get("censor_at") or []]
        if len(cnsrs) != len(set(cnsrs)):
            raise _fail(path, f"{where}: one CNSR value per censoring reason, got {cnsrs}")
        params.append(Parameter(str(code), str(spec.get("param", code)), str(spec["start"]),
                                events, censors, list(spec.get("censor_at") or [])))
    return AdamConfig(path, raw, params, _analyses(raw.get("analyses") or [], path),
                      _adverse_events(raw.get("adverse_events"), path),
                      _data_cutoff(raw.get("data_cutoff"), path))


def _data_cutoff(value: Any, path: Path) -> str | None:
    """data_cutoff: an ISO 8601 date (YYYY-MM-DD), the default of --cutoff."""
    if value is None:
        return None
    text = str(value)
    try:
        if len(text) != 10:
            raise ValueError(text)
        date.fromisoformat(text)
    except ValueError:
        raise _fail(path, f"data_cutoff: {text!r} is not a YYYY-MM-DD date") from None
    return text


RESPONSE_KEYS = {"dataset", "where", "variable", "date", "paramcd", "param", "hierarchy",
                 "progression", "not_evaluable", "stop_at", "population", "subject_parameters",
                 "adsl"}


def _check_response(raw: Any, path: Path) -> None:
    """response: the assessment records, the hierarchy, the population and the per-subject
    parameters (each `best: true` or `achieved: [values]`)."""
    if raw is None:
        return
    raw = _mapping(raw, path, "response")
    extra = set(raw) - RESPONSE_KEYS
    if extra:
        raise _fail(path, f"response: unknown key(s) {sorted(extra)}")
    for key in ("hierarchy", "population"):
        if not raw.get(key):
            raise _fail(path, f"response.{key} is required")
    for code, spec in _mapping(raw.get("subject_parameters"), path,
                               "response.subject_parameters").items():
        where = f"response.subject_parameters.{code}"
        spec = _mapping(spec, path, where)
        if set(spec) - {"param", "best", "achieved", "rate"} or \
                bool(spec.get("best")) == bool(spec.get("achieved")):
            raise _fail(path, f"{where}: 'param' and either 'best: true' or 'achieved: "
                        "[values]' (optional 'rate': its name in the run summary)")
    for name, spec in _mapping(raw.get("adsl"), path, "response.adsl").items():
        spec = _mapping(spec, path, f"response.adsl.{name}")
        if set(spec) - {"parameter", "variable", "where"} or not spec.get("parameter") or \
                not spec.get("variable"):
            raise _fail(path, f"response.adsl.{name}: 'parameter' and 'variable' are "
                        "required (optional 'where')")


def _mapping(value: Any, path: Path, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(path, f"{where} must be a mapping")
    return value


def _group_rules(entries: Any, path: Path, where: str) -> list[GroupRule]:
    if not isinstance(entries, list) or not entries:
        raise _fail(path, f"{where}: a list of {{value, where}} rules")
    rules = []
    for entry in entries:
        if not isinstance(entry, dict) or "value" not in entry or set(entry) - {"value", "where"}:
            raise _fail(path, f"{where}: each rule is {{value: ..., where: {{...}}}}")
        rules.append(GroupRule(str(entry["value"]), dict(_mapping(entry.get("where"), path,
                                                                  where))))
    return rules


def _period_flag(name: str, entry: Any, path: Path) -> PeriodFlag:
    where = f"adverse_events.period_flags.{name}"
    entry = _mapping(entry, path, where)
    if set(entry) - {"from", "before", "days_after"} or not entry.get("from"):
        raise _fail(path, f"{where}: 'from' (an ADSL date) is required; optional 'before' and "
                    "'days_after: {date: VAR, days: n}'")
    after = entry.get("days_after")
    days_after = None
    if after is not None:
        after = _mapping(after, path, where + ".days_after")
        if set(after) != {"date", "days"}:
            raise _fail(path, f"{where}.days_after: {{date: VAR, days: n}}")
        days_after = (str(after["date"]), int(after["days"]))
    return PeriodFlag(name, str(entry["from"]), entry.get("before"), days_after)


def _event_group(entry: Any, path: Path, n: int) -> EventGroup:
    where = f"adverse_events.special_interest[{n}]"
    entry = _mapping(entry, path, where)
    extra = set(entry) - {"name", "where", "min_grade", "present_on_day"}
    if extra or not entry.get("name") or not entry.get("where"):
        raise _fail(path, f"{where}: 'name' and 'where' are required (optional min_grade, "
                    "present_on_day)")
    grade = entry.get("min_grade")
    day = entry.get("present_on_day")
    return EventGroup(str(entry["name"]), dict(entry["where"]),
                      None if grade is None else float(grade), None if day is None else int(day))


def _adverse_events(raw: Any, path: Path) -> AdverseEvents | None:
    if raw is None:
        return None
    raw = _mapping(raw, path, "adverse_events")
    extra = set(raw) - AE_KEYS
    if extra:
        raise _fail(path, f"adverse_events: unknown key(s) {sorted(extra)}")
    onset = _mapping(raw.get("onset"), path, "adverse_events.onset")
    end = _mapping(raw.get("end"), path, "adverse_events.end")
    causality = _mapping(raw.get("causality"), path, "adverse_events.causality")
    toxicity = _mapping(raw.get("toxicity"), path, "adverse_events.toxicity")
    occurrence = _mapping(raw.get("occurrence"), path, "adverse_events.occurrence")
    flags = _mapping(raw.get("period_flags"), path, "adverse_events.period_flags")
    if "TRTEMFL" not in flags:
        raise _fail(path, "adverse_events.period_flags: TRTEMFL is required")
    groups = {str(name): _group_rules(rules, path, f"adverse_events.groups.{name}")
              for name, rules in _mapping(raw.get("groups"), path,
                                          "adverse_events.groups").items()}
    special = raw.get("special_interest") or []
    if not isinstance(special, list) or len(special) > 99:
        raise _fail(path, "adverse_events.special_interest: a list of at most 99 groups")
    if not causality.get("order"):
        raise _fail(path, "adverse_events.causality.order: the causality values, least "
                    "related first")
    return AdverseEvents(
        supplemental=tuple(str(q) for q in raw.get("supplemental") or []),
        reference=str(raw.get("reference", "TRTSDT")),
        onset_not_before=tuple(str(v) for v in onset.get("not_before") or []),
        end_not_after=tuple(str(v) for v in end.get("not_after") or []),
        period_flags=tuple(_period_flag(str(n), e, path) for n, e in flags.items()),
        causality_variable=str(causality.get("variable", "AEREL")),
        causality_missing=causality.get("missing"),
        causality_order=tuple(str(v) for v in causality["order"]),
        grade_variable=str(toxicity.get("variable", "AETOXGR")),
        grade_scale=toxicity.get("scale"),
        groups=groups,
        special_interest=tuple(_event_group(e, path, n) for n, e in enumerate(special, 1)),
        occurrence_among=str(occurrence.get("among", "TRTEMFL")),
        tables=_tables(raw.get("tables"), path))


TABLE_KEYS = {"population", "columns", "emergent", "severe_grade", "related", "by_max_grade",
              "notes", "overview"}
OVERVIEW_KEYS = {"label", "where", "min_grade", "subjects", "population"}


def _tables(raw: Any, path: Path) -> dict[str, Any]:
    """adverse_events.tables: the safety summary's settings; an unknown key is an error."""
    tables = _mapping(raw, path, "adverse_events.tables")
    extra = set(tables) - TABLE_KEYS
    if extra:
        raise _fail(path, f"adverse_events.tables: unknown key(s) {sorted(extra)}")
    for n, line in enumerate(tables.get("overview") or [], start=1):
        where = f"adverse_events.tables.overview[{n}]"
        line = _mapping(line, path, where)
        if set(line) - OVERVIEW_KEYS or not line.get("label"):
            raise _fail(path, f"{where}: 'label' and a filter ('where' on ADAE or 'subjects' "
                        f"on ADSL); optional {', '.join(sorted(OVERVIEW_KEYS - {'label'}))}")
    return tables


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
