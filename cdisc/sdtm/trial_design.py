"""SDTM trial design datasets (TS, TE, TA, TV, TI) and the subject-level SE and SV, from the
`trial_design:` section of study.yaml and the mapped datasets: no code per study.

`parse_trial_design` checks the section against specs/ (CT codelists, DM variables, lengths)
when study.yaml is loaded, before any data row is read; `build_trial_design` then derives each
dataset, one function per derivation. A study without the section gets none of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cdisc import dates
from cdisc.build import check_metadata, typed_table
from cdisc.errors import SpecError
from cdisc.model import Column, Dataset, Origin
from cdisc.sdtm import derive
from cdisc.specs import Specs
from cdisc.text import text_column

if TYPE_CHECKING:  # mapping.py imports this module to parse the section
    from cdisc.sdtm.mapping import StudyConfig

SECTION_KEYS = {"summary", "elements", "subject_end", "arms", "visits", "criteria"}
PARAMETER_KEYS = {"value", "codelist", "code", "reference", "version", "null_flavor"}
ELEMENT_KEYS = {"ELEMENT", "TESTRL", "TEENRL", "TEDUR", "window"}
STEP_KEYS = {"ETCD", "EPOCH", "TABRANCH", "TATRANS"}
# TS values from the data: the key naming the kind, and the keys each kind takes
REFERENCES = ("from", "count_subjects", "count", "standard")
REFERENCE_KEYS = {"from": {"from", "earliest", "latest", "any_missing", "require_all"},
                  "count_subjects": {"count_subjects", "where"}, "count": {"count"},
                  "standard": {"standard"}}
# ISO 21090 null flavors (TSVALNF)
NULL_FLAVORS = {"NI", "INV", "DER", "OTH", "PINF", "NINF", "UNC", "MSK", "NA", "UNK", "ASKU",
                "NAV", "NASK", "QS", "TRC", "NP"}
CDISC_CT = "CDISC CT"
ISO_8601 = "ISO 8601"
MAX_TEXT = 200
CODE_RE = re.compile(r"[A-Z][A-Z0-9_]{0,7}")  # ETCD, IETESTCD: <= 8, SAS-name-like
ARMCD_RE = re.compile(r"[A-Z0-9][A-Z0-9_]{0,19}")  # ARMCD <= 20 (CG0153)
DURATION_RE = re.compile(dates.ISO8601_DURATION_REGEX)
START_BOUNDS, END_BOUNDS = ("from", "after"), ("before", "through")
ARM_VARIABLE = "ACTARMCD"  # SE follows the arm the subject actually took
UNPLANNED = "UNPLAN"
DESIGN_DATASETS = ("TS", "TE", "TA", "TV", "TI", "SE", "SV")
VISIT_CLASSES = {"Findings", "Findings About", "Events", "Interventions"}


@dataclass(frozen=True)
class Parameter:
    """One TS parameter: its values (text, or a data reference: a dict) and how they are coded."""

    parmcd: str
    parm: str
    values: tuple[Any, ...]
    codelist: str | None = None  # C-code: TSVALCD is the CDISC CT code of the value
    code: str = ""
    reference: str = ""
    version: str = ""
    null_flavor: str = ""


@dataclass(frozen=True)
class Element:
    etcd: str
    element: str
    testrl: str
    teenrl: str
    tedur: str
    window: dict  # {from|after: bound, before|through: bound}; bound: DM var or {reference, days}


@dataclass(frozen=True)
class Step:
    """One element of an arm (a TA record)."""

    etcd: str
    epoch: str
    tabranch: str = ""
    tatrans: str = ""


@dataclass(frozen=True)
class Arm:
    armcd: str
    arm: str
    steps: tuple[Step, ...]


@dataclass
class TrialDesign:
    path: Path
    summary: tuple[Parameter, ...]
    elements: dict[str, Element]
    arms: dict[str, Arm]
    subject_end: str  # DM date that ends a subject's last element
    visits: pd.DataFrame  # planned visits: visitnum, visit, visitdy, tvstrl, tvenrl
    unplanned: str  # SVUPDES: this text + the datasets with records at the visit
    criteria: dict[str, tuple[str, str]]  # IETESTCD -> (IETEST, IECAT)
    criteria_version: str


# --- parsing: every check before any data row is read ----------------------------------------

def _fail(message: str, path: Path) -> SpecError:
    return SpecError(f"trial_design: {message}", file=str(path))


def _mapping(obj: Any, what: str, path: Path, allowed: set[str] | None = None) -> dict:
    if not isinstance(obj, dict):
        raise _fail(f"{what} must be a mapping", path)
    extra = sorted(set(obj) - allowed) if allowed is not None else []
    if extra:
        raise _fail(f"unknown key(s) {extra} in {what} (allowed: {sorted(allowed or ())})", path)
    return obj


def _text(value: Any, what: str, path: Path, required: bool = True,
          limit: int | None = MAX_TEXT) -> str:
    """A scalar as submission text: ASCII, <= 200 characters unless `limit` is None (numbers
    written as in YAML; runs of blanks and line breaks as one space)."""
    if value is None or value == "":
        if required:
            raise _fail(f"{what} is required", path)
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _fail(f"{what} must be text or a number, got {value!r}", path)
    text = " ".join(str(value).split())
    if not text.isascii():
        raise _fail(f"{what} must be ASCII text (XPT v5)", path)
    if limit is not None and len(text) > limit:
        raise _fail(f"{what} is longer than {limit} characters", path)
    return text


def parse_trial_design(section: Any, path: Path, specs: Specs, visits: pd.DataFrame | None,
                       epochs: list[dict], domains: list[str]) -> TrialDesign:
    """The checked `trial_design:` section. `visits` is its visit table (already read),
    `epochs` the study's epoch windows, `domains` the mapped domains."""
    section = _mapping(section, "the section", path, SECTION_KEYS)
    clash = sorted(set(domains) & set(DESIGN_DATASETS))
    if clash:
        raise _fail(f"{clash} are built from trial_design: remove them from 'domains'", path)
    elements = _parse_elements(section.get("elements"), path, specs)
    arms = _parse_arms(section.get("arms"), elements, path, specs)
    _check_epochs(arms, epochs, path)
    visit_spec = _mapping(section.get("visits") or {}, "visits", path, {"table", "unplanned"})
    criteria = _mapping(section.get("criteria") or {}, "criteria", path,
                        {"version", "inclusion", "exclusion"})
    return TrialDesign(
        path=path, summary=_parse_summary(section.get("summary"), path, specs),
        elements=elements, arms=arms,
        subject_end=_dm_date(section.get("subject_end", "RFPENDTC"), "subject_end", path, specs),
        visits=_planned_visits(visits, path),
        unplanned=_text(visit_spec.get("unplanned", "Unscheduled visit"), "visits.unplanned",
                        path),
        criteria=_parse_criteria(criteria, path),
        criteria_version=_text(criteria.get("version"), "criteria.version", path, False))


def _parse_summary(spec: Any, path: Path, specs: Specs) -> tuple[Parameter, ...]:
    spec = _mapping(spec if spec is not None else {}, "summary", path)
    if "SSTDTC" not in spec:
        raise _fail("summary needs SSTDTC (study start date: FDA technical rejection "
                    "criterion 1734)", path)
    return tuple(_parse_parameter(str(k), v, path, specs) for k, v in spec.items())


def _parse_parameter(parmcd: str, spec: Any, path: Path, specs: Specs) -> Parameter:
    what = f"summary.{parmcd}"
    parmcd_cl, parm_cl = specs.codelist("TSPARMCD"), specs.codelist("TSPARM")
    if parmcd not in parmcd_cl.terms:
        raise _fail(f"{what}: {parmcd} is not a TSPARMCD term of CDISC CT "
                    f"{specs.standards['ct']['sdtm']} ({parmcd_cl.code})", path)
    code = parmcd_cl.terms[parmcd].code
    parm = next(t.submission_value for t in parm_cl.terms.values() if t.code == code)
    if not isinstance(spec, dict):
        spec = {"value": spec}
    spec = _mapping(spec, what, path, PARAMETER_KEYS)
    raw = spec.get("value")
    values = tuple(raw) if isinstance(raw, list) else (() if raw is None else (raw,))
    null_flavor = _text(spec.get("null_flavor"), f"{what}.null_flavor", path, False)
    if null_flavor and null_flavor not in NULL_FLAVORS:
        raise _fail(f"{what}: null_flavor {null_flavor!r} is not an ISO 21090 null flavor "
                    f"({', '.join(sorted(NULL_FLAVORS))})", path)
    if not values and not null_flavor:
        raise _fail(f"{what} needs a value or a null_flavor", path)
    if any(not isinstance(v, dict) for v in values) and null_flavor:
        raise _fail(f"{what}: a typed value takes no null_flavor (only a value from the data "
                    "may be missing)", path)
    codelist = None
    if spec.get("codelist"):
        try:
            codelist = specs.codelist(str(spec["codelist"])).code
        except SpecError as exc:
            raise _fail(f"{what}: {exc.message}", path) from None
        if spec.get("code") or spec.get("reference"):
            raise _fail(f"{what}: codelist sets the code and reference; give one or the other",
                        path)
    reference = _text(spec.get("reference"), f"{what}.reference", path, False)
    checked = tuple(_parse_value(v, f"{what}.value", path, specs, codelist, reference)
                    for v in values)
    return Parameter(parmcd, parm, checked, codelist,
                     _text(spec.get("code"), f"{what}.code", path, False), reference,
                     _text(spec.get("version"), f"{what}.version", path, False), null_flavor)


def _parse_value(value: Any, what: str, path: Path, specs: Specs, codelist: str | None,
                 reference: str) -> Any:
    if isinstance(value, dict):
        return _parse_reference(value, what, path, specs)
    text = _text(value, what, path, limit=None)  # TSVAL over 200 goes on in TSVAL1, ...
    if codelist and text not in specs.codelists[codelist].terms:
        raise _fail(f"{what}: {text!r} is not a term of codelist "
                    f"{specs.codelists[codelist].short_name} ({codelist})", path)
    if reference == ISO_8601 and not (DURATION_RE.fullmatch(text)
                                      or re.match(dates.ISO8601_DTC_REGEX, text)):
        raise _fail(f"{what}: {text!r} is not an ISO 8601 date or duration", path)
    return text


def _parse_reference(ref: dict, what: str, path: Path, specs: Specs) -> dict:
    """A value from the data: {from: DS, earliest|latest|any_missing: VAR}, {count_subjects:
    DS, where: {...}}, {count: arms} or {standard: sdtm.version} (specs/standards.yaml)."""
    kinds = [k for k in REFERENCES if k in ref]
    if len(kinds) != 1:
        raise _fail(f"{what}: a value from the data is one of "
                    f"{sorted(REFERENCES)}, got {ref}", path)
    kind = kinds[0]
    _mapping(ref, what, path, REFERENCE_KEYS[kind])
    if kind == "from":
        ops = [k for k in ("earliest", "latest", "any_missing") if k in ref]
        if len(ops) != 1:
            raise _fail(f"{what}: 'from' needs one of earliest, latest, any_missing", path)
        _dataset_variable(ref["from"], ref[ops[0]], what, path, specs)
        if not isinstance(ref.get("require_all", False), bool):
            raise _fail(f"{what}: require_all is true or false", path)
    elif kind == "count_subjects":
        ds = _dataset_variable(ref["count_subjects"], "USUBJID", what, path, specs)
        for var, cond in _mapping(ref.get("where") or {}, f"{what}.where", path).items():
            _dataset_variable(ds, var, what, path, specs)
            _condition(cond, f"{what}.where.{var}", path)
    elif kind == "count":
        if ref["count"] != "arms":
            raise _fail(f"{what}: count counts 'arms'", path)
    else:
        node: Any = specs.standards
        for part in str(ref["standard"]).split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, (str, int, float)):
            raise _fail(f"{what}: {ref['standard']!r} is not a version in specs/standards.yaml",
                        path)
    return ref


def _dataset_variable(dataset: Any, variable: Any, what: str, path: Path, specs: Specs) -> str:
    try:
        ds = specs.dataset(str(dataset))
        ds.variable(str(variable))
    except SpecError as exc:
        raise _fail(f"{what}: {exc.message}", path) from None
    return ds.name


def _condition(cond: Any, what: str, path: Path) -> None:
    if isinstance(cond, dict):
        _mapping(cond, what, path, {"present", "in", "not_in"})
        if len(cond) != 1 or ("present" in cond and not isinstance(cond["present"], bool)) \
                or any(not isinstance(cond[k], list) for k in ("in", "not_in") if k in cond):
            raise _fail(f"{what}: one of {{present: true|false}}, {{in: [...]}}, "
                        "{not_in: [...]}", path)
    else:
        _text(cond, what, path)


def _dm_date(name: Any, what: str, path: Path, specs: Specs) -> str:
    name = str(name)
    if not (name.endswith("DTC") and specs.dataset("DM").has_variable(name)):
        raise _fail(f"{what}: {name!r} is not a DM date variable (RFICDTC, RFXSTDTC, RFSTDTC, "
                    "RFPENDTC ...)", path)
    return name


def _parse_bound(bound: Any, what: str, path: Path, specs: Specs) -> Any:
    if isinstance(bound, dict):
        _mapping(bound, what, path, {"reference", "days"})
        days = bound.get("days", 0)
        if isinstance(days, bool) or not isinstance(days, int):
            raise _fail(f"{what}: days must be a whole number", path)
        return {"reference": _dm_date(bound.get("reference"), what, path, specs), "days": days}
    return _dm_date(bound, what, path, specs)


def _parse_window(window: Any, what: str, path: Path, specs: Specs) -> dict:
    window = _mapping(window, what, path, {*START_BOUNDS, *END_BOUNDS})
    if sum(k in window for k in START_BOUNDS) != 1 or sum(k in window for k in END_BOUNDS) > 1:
        raise _fail(f"{what} needs one start (from or after) and at most one end (before or "
                    "through)", path)
    return {k: _parse_bound(v, f"{what}.{k}", path, specs) for k, v in window.items()}


def _parse_elements(spec: Any, path: Path, specs: Specs) -> dict[str, Element]:
    spec = _mapping(spec, "elements", path)
    if not spec:
        raise _fail("elements lists no element", path)
    out = {}
    for etcd, e in spec.items():
        etcd = str(etcd)
        what = f"elements.{etcd}"
        if not CODE_RE.fullmatch(etcd) or etcd == UNPLANNED:
            raise _fail(f"{what}: ETCD must be 1-8 upper-case letters, digits or _ (not "
                        f"{UNPLANNED})", path)
        e = _mapping(e, what, path, ELEMENT_KEYS)
        tedur = _text(e.get("TEDUR"), f"{what}.TEDUR", path, False)
        if tedur and not DURATION_RE.fullmatch(tedur):
            raise _fail(f"{what}.TEDUR: {tedur!r} is not an ISO 8601 duration", path)
        teenrl = _text(e.get("TEENRL"), f"{what}.TEENRL", path, False)
        if not (teenrl or tedur):
            raise _fail(f"{what} needs TEENRL or TEDUR", path)
        out[etcd] = Element(etcd, _text(e.get("ELEMENT"), f"{what}.ELEMENT", path),
                            _text(e.get("TESTRL"), f"{what}.TESTRL", path), teenrl, tedur,
                            _parse_window(e.get("window"), f"{what}.window", path, specs))
    return out


def _parse_arms(spec: Any, elements: dict[str, Element], path: Path,
                specs: Specs) -> dict[str, Arm]:
    spec = _mapping(spec, "arms", path)
    if not spec:
        raise _fail("arms lists no arm", path)
    epochs = specs.codelist("EPOCH")
    out = {}
    for armcd, a in spec.items():
        armcd = str(armcd)
        what = f"arms.{armcd}"
        if not ARMCD_RE.fullmatch(armcd):
            raise _fail(f"{what}: ARMCD must be 1-20 upper-case letters, digits or _", path)
        a = _mapping(a, what, path, {"ARM", "elements"})
        steps = a.get("elements")
        if not isinstance(steps, list) or not steps:
            raise _fail(f"{what}.elements must be a list of {{ETCD, EPOCH}}", path)
        parsed = []
        for i, s in enumerate(steps, start=1):
            s = _mapping(s, f"{what}.elements[{i}]", path, STEP_KEYS)
            etcd, epoch = str(s.get("ETCD", "")), str(s.get("EPOCH", ""))
            if etcd not in elements:
                raise _fail(f"{what}.elements[{i}]: ETCD {etcd!r} is not in elements", path)
            if epoch not in epochs.terms:
                raise _fail(f"{what}.elements[{i}]: EPOCH {epoch!r} is not a term of the EPOCH "
                            f"codelist ({epochs.code})", path)
            parsed.append(Step(etcd, epoch,
                               _text(s.get("TABRANCH"), f"{what}.TABRANCH", path, False),
                               _text(s.get("TATRANS"), f"{what}.TATRANS", path, False)))
        out[armcd] = Arm(armcd, _text(a.get("ARM"), f"{what}.ARM", path), tuple(parsed))
    return out


def _check_epochs(arms: dict[str, Arm], epochs: list[dict], path: Path) -> None:
    """Every EPOCH the engine puts on records must be a TA epoch (CORE-000271)."""
    in_ta = {s.epoch for a in arms.values() for s in a.steps}
    missing = sorted({str(r.get("epoch")) for r in epochs if isinstance(r, dict)} - in_ta)
    if missing:
        raise _fail(f"epochs {missing} of the 'epochs:' windows are in no arm", path)


def _planned_visits(visits: pd.DataFrame | None, path: Path) -> pd.DataFrame:
    """The visit table's rows with a visitnum (TV); visitdy a number, tvstrl required."""
    if visits is None:
        raise _fail("visits needs a visit table (study.yaml 'visits' or visits.table)", path)
    if "tvstrl" not in visits.columns:
        raise _fail("the visit table needs a tvstrl column (TVSTRL, the visit start rule)", path)
    planned = visits[visits["visitnum"].notna()].copy()
    for column in ("visitdy", "tvenrl"):
        if column not in planned.columns:
            planned[column] = ""
    for column in ("visit", "tvstrl", "tvenrl"):
        planned[column] = planned[column].map(
            lambda v, c=column: _text(v, f"visit table {c}", path, False))
    day = pd.to_numeric(planned["visitdy"], errors="coerce")
    bad = (day.isna() & (planned["visitdy"].str.strip() != "")) \
        | (day.notna() & ((day != day.round()) | (day == 0)))
    missing = planned["tvstrl"] == ""
    for mask, problem in ((bad, "visitdy is not a whole study day (no day 0)"),
                          (missing, "a planned visit needs tvstrl")):
        if mask.any():
            row = planned.loc[mask].iloc[0]
            raise _fail(f"visit table, folder {row['folder']}: {problem}", path)
    planned["visitdy"] = day.astype("float64")
    return planned[["visitnum", "visit", "visitdy", "tvstrl", "tvenrl"]].reset_index(drop=True)


def _parse_criteria(spec: dict, path: Path) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for category in ("inclusion", "exclusion"):
        for code, text in _mapping(spec.get(category) or {}, f"criteria.{category}",
                                   path).items():
            code = str(code)
            if not CODE_RE.fullmatch(code):
                raise _fail(f"criteria: IETESTCD {code!r} must be 1-8 upper-case letters, "
                            "digits or _", path)
            if code in out:
                raise _fail(f"criteria: IETESTCD {code} is both inclusion and exclusion", path)
            out[code] = (_text(text, f"criteria.{code}", path), category.upper())
    return out


# --- what other mappings read -----------------------------------------------------------------

def criteria_text(config: StudyConfig) -> dict[str, tuple[str, str]]:
    """IETESTCD -> (IETEST, IECAT) of the study's criteria (for IE); empty without a section."""
    return dict(config.trial_design.criteria) if config.trial_design else {}


def arm_names(config: StudyConfig) -> dict[str, str]:
    """ARMCD -> ARM of the planned arms (for DM.ARMCD/ARM); empty without a section."""
    return {a.armcd: a.arm for a in config.trial_design.arms.values()} \
        if config.trial_design else {}


# --- TS values from the data ---------------------------------------------------------------------

def _column(datasets: dict[str, Dataset], name: str, variable: str) -> pd.Series | None:
    ds = datasets.get(name)
    if ds is None or variable not in ds.data.columns:
        return None
    return text_column(ds.data[variable])


def _date_extreme(values: pd.Series | None, latest: bool, require_all: bool) -> str | None:
    """Earliest or latest complete date (YYYY-MM-DD) of the values."""
    if values is None or values.empty or (require_all and (values == "").any()):
        return None
    complete = values.str[:10]
    complete = complete[complete.str.fullmatch(r"\d{4}-\d{2}-\d{2}")]
    if complete.empty:
        return None
    return str(complete.max() if latest else complete.min())


def _where(table: pd.DataFrame, where: dict) -> pd.Series:
    keep = pd.Series(True, index=table.index)
    for var, cond in where.items():
        values = _dm_text(table, var)
        if not isinstance(cond, dict):
            keep &= values == str(cond)
        elif "present" in cond:
            keep &= (values != "") == cond["present"]
        elif "in" in cond:
            keep &= values.isin([str(v) for v in cond["in"]])
        else:
            keep &= ~values.isin([str(v) for v in cond["not_in"]])
    return keep


def _count_subjects(datasets: dict[str, Dataset], ref: dict) -> str | None:
    ds = datasets.get(_dataset_name(ref["count_subjects"]))
    if ds is None:
        return None
    table = ds.data
    return str(int(table.loc[_where(table, ref.get("where") or {}), "USUBJID"].nunique()))


def _dataset_name(name: Any) -> str:
    return str(name).upper()


def resolve(ref: dict, design: TrialDesign, specs: Specs,
            datasets: dict[str, Dataset]) -> str | None:
    """The value a data reference stands for; None when the data do not give one."""
    if "count" in ref:
        return str(len(design.arms))
    if "standard" in ref:
        node: Any = specs.standards
        for part in str(ref["standard"]).split("."):
            node = node[part]
        return str(node)
    if "count_subjects" in ref:
        return _count_subjects(datasets, ref)
    values = _column(datasets, _dataset_name(ref["from"]),
                     str(ref.get("earliest") or ref.get("latest") or ref.get("any_missing")))
    if "any_missing" in ref:
        return None if values is None or values.empty else ("Y" if (values == "").any() else "N")
    return _date_extreme(values, "latest" in ref, bool(ref.get("require_all")))


def describe(ref: dict) -> str:
    """The derivation of a data reference, for define.xml."""
    if "count" in ref:
        return "number of arms in TA"
    if "standard" in ref:  # sdtm.version -> "the SDTMIG version the datasets follow"
        names = {"sdtm.version": "the SDTMIG version the datasets follow",
                 "sdtm.model_version": "the SDTM model version the datasets follow",
                 "adam.version": "the ADaMIG version of the analysis datasets",
                 "ct.sdtm": "the SDTM controlled terminology version used"}
        return names.get(str(ref["standard"]), f"the {ref['standard']} version used")
    if "count_subjects" in ref:
        conds = [f"{v} {'populated' if c.get('present') else 'empty'}" if isinstance(c, dict)
                 and "present" in c else f"{v} {c}" for v, c in (ref.get("where") or {}).items()]
        where = f" with {' and '.join(conds)}" if conds else ""
        return f"number of subjects in {_dataset_name(ref['count_subjects'])}{where}"
    ds = _dataset_name(ref["from"])
    if "any_missing" in ref:
        return f"Y when a subject has no {ds}.{ref['any_missing']}, else N"
    which = "latest" if "latest" in ref else "earliest"
    every = " (null unless every subject has one)" if ref.get("require_all") else ""
    return f"{which} complete {ds}.{ref.get(which)} (date part){every}"


# --- the datasets --------------------------------------------------------------------------------

def _split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Text over `limit` characters in pieces of at most `limit` (SDTMIG TS: TSVAL, TSVAL1, ...
    TSVALn), cut at the last space that fits (the space itself is dropped: the pieces join
    with one space)."""
    parts = []
    while len(text) > limit:
        cut = text.rfind(" ", 1, limit + 1)
        parts.append(text[:cut] if cut > 0 else text[:limit])
        text = text[cut + 1:] if cut > 0 else text[limit:]
    return [*parts, text]


def _code_of(param: Parameter, value: str, specs: Specs) -> tuple[str, str, str]:
    """(TSVALCD, TSVCDREF, TSVCDVER) of one value."""
    if param.codelist:
        term = specs.codelists[param.codelist].terms.get(value)
        return (term.code if term else "", CDISC_CT, specs.standards["ct"]["sdtm"])
    return param.code, param.reference, param.version


def ts_records(design: TrialDesign, specs: Specs, datasets: dict[str, Dataset]) -> pd.DataFrame:
    """One record per parameter value (TSSEQ 1..n per TSPARMCD); a parameter without a value
    is one record with TSVALNF."""
    rows = []
    for p in design.summary:
        values = [resolve(v, design, specs, datasets) if isinstance(v, dict) else v
                  for v in p.values]
        values = [v for v in values if v is not None]
        if not values:
            rows.append({"TSPARMCD": p.parmcd, "TSPARM": p.parm, "TSSEQ": 1.0,
                         "TSVALNF": p.null_flavor or "UNK", "__text": ""})
            continue
        for seq, value in enumerate(values, start=1):
            code, ref, version = _code_of(p, value, specs)
            rows.append({"TSPARMCD": p.parmcd, "TSPARM": p.parm, "TSSEQ": float(seq),
                         "__text": value, "TSVALCD": code, "TSVCDREF": ref, "TSVCDVER": version})
    table = pd.DataFrame(rows)
    pieces = table["__text"].map(_split_text)
    for i in range(int(pieces.map(len).max())):
        table["TSVAL" if i == 0 else f"TSVAL{i}"] = pieces.map(lambda p, i=i: p[i]
                                                               if i < len(p) else "")
    return table.drop(columns="__text")


def te_records(design: TrialDesign) -> pd.DataFrame:
    return pd.DataFrame([{"ETCD": e.etcd, "ELEMENT": e.element, "TESTRL": e.testrl,
                          "TEENRL": e.teenrl, "TEDUR": e.tedur}
                         for e in design.elements.values()])


def ta_records(design: TrialDesign) -> pd.DataFrame:
    return pd.DataFrame([{"ARMCD": a.armcd, "ARM": a.arm, "TAETORD": float(order),
                          "ETCD": s.etcd, "ELEMENT": design.elements[s.etcd].element,
                          "TABRANCH": s.tabranch, "TATRANS": s.tatrans, "EPOCH": s.epoch}
                         for a in design.arms.values()
                         for order, s in enumerate(a.steps, start=1)])


def tv_records(design: TrialDesign) -> pd.DataFrame:
    """The planned visits, the same for every arm (ARMCD null)."""
    v = design.visits
    return pd.DataFrame({"VISITNUM": v["visitnum"], "VISIT": v["visit"],
                         "VISITDY": v["visitdy"], "ARMCD": "", "TVSTRL": v["tvstrl"],
                         "TVENRL": v["tvenrl"]})


def ti_records(design: TrialDesign) -> pd.DataFrame:
    return pd.DataFrame([{"IETESTCD": code, "IETEST": text, "IECAT": cat,
                          "TIVERS": design.criteria_version}
                         for code, (text, cat) in design.criteria.items()],
                        columns=["IETESTCD", "IETEST", "IECAT", "TIVERS"])


# --- SE: the elements each subject passed through -------------------------------------------------

def _shift_date(values: pd.Series, days: int) -> pd.Series:
    """Complete dates moved by `days` (YYYY-MM-DD); "" when the date is partial or missing."""
    when = dates.iso_to_date(values) + pd.to_timedelta(days, unit="D")
    return when.dt.strftime("%Y-%m-%d").where(when.notna(), "").astype(object)


def _dm_text(dm: pd.DataFrame, variable: str) -> pd.Series:
    """A DM variable as text ("" when missing; a variable DM does not have is all "")."""
    if variable not in dm.columns:
        return pd.Series("", index=dm.index, dtype=object)
    return text_column(dm[variable])


def _bound(dm: pd.DataFrame, bound: Any) -> tuple[pd.Series, int]:
    if isinstance(bound, dict):
        return _dm_text(dm, bound["reference"]), int(bound["days"])
    return _dm_text(dm, bound), 0


def place_start(window: dict, dm: pd.DataFrame) -> pd.Series:
    """SESTDTC: the 'from' date as recorded (moved by its days when it has some), or the day
    after an 'after' date; "" when it cannot be placed."""
    if "from" in window:
        ref, days = _bound(dm, window["from"])
        return ref if days == 0 else _shift_date(ref, days)
    ref, days = _bound(dm, window["after"])
    return _shift_date(ref, days + 1)


def place_end(window: dict, dm: pd.DataFrame) -> pd.Series:
    """The element's own end: a 'before' date (as recorded) or the last day of a 'through'
    window; "" when it has none or it cannot be placed."""
    if "before" in window:
        ref, days = _bound(dm, window["before"])
        return ref if days == 0 else _shift_date(ref, days)
    if "through" in window:
        ref, days = _bound(dm, window["through"])
        return _shift_date(ref, days)
    return pd.Series("", index=dm.index, dtype=object)


def not_after(value: pd.Series, limit: pd.Series) -> pd.Series:
    """value is on or before limit, compared on the precision both have (ISO 8601 text: a
    partial limit such as 2021-03 compares with the same prefix of value); an unknown limit
    never excludes."""
    width = np.minimum(value.str.len(), limit.str.len()).clip(upper=10)
    a = pd.Series([v[:w] for v, w in zip(value, width)], index=value.index, dtype=object)
    b = pd.Series([v[:w] for v, w in zip(limit, width)], index=value.index, dtype=object)
    return (limit == "") | (a <= b)


def _earlier(a: pd.Series, b: pd.Series) -> pd.Series:
    """The earlier of two dates per row (b on a tie: the date as recorded); the known one when
    only one is; "" when neither is."""
    use_a = (a != "") & ((b == "") | (a.str[:10] < b.str[:10]))
    return a.where(use_a, b)


def subject_plans(design: TrialDesign) -> dict[str, list[dict]]:
    """ARMCD -> the planned elements in order; "" -> the plan of a subject whose arm is not in
    TA: the element the arms share at each position, UNPLAN where they differ."""
    plans = {a.armcd: [{"ETCD": s.etcd, "ELEMENT": design.elements[s.etcd].element,
                        "TAETORD": float(i), "EPOCH": s.epoch, "SEUPDES": "",
                        "window": design.elements[s.etcd].window}
                       for i, s in enumerate(a.steps, start=1)]
             for a in design.arms.values()}
    common = []
    for i in range(max(len(p) for p in plans.values())):
        steps = [p[i] for p in plans.values() if i < len(p)]
        windows = [s["window"] for s in steps]
        epochs = {s["EPOCH"] for s in steps}
        if len({s["ETCD"] for s in steps}) == 1 and len(steps) == len(plans):
            common.append(steps[0])
        elif all(w == windows[0] for w in windows):
            names = " or ".join(dict.fromkeys(s["ELEMENT"] for s in steps))
            common.append({"ETCD": UNPLANNED, "ELEMENT": "", "TAETORD": np.nan,
                           "EPOCH": epochs.pop() if len(epochs) == 1 else "",
                           "SEUPDES": f"{names}; actual arm ({ARM_VARIABLE}) not in TA"[:MAX_TEXT],
                           "window": windows[0]})
    return {**plans, "": common}


def _cutoff(design: TrialDesign) -> str:
    """The data cut-off (TS DCUTDTC) when it is a typed complete date, else ""."""
    for p in design.summary:
        if p.parmcd == "DCUTDTC" and p.values and isinstance(p.values[0], str) \
                and re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", p.values[0]):
            return p.values[0]
    return ""


def se_records(design: TrialDesign, dm: pd.DataFrame) -> pd.DataFrame:
    """One record per subject per element entered: the subject's plan (DM.ACTARMCD's arm),
    each element started where its window places it, on or before the end of participation
    (DM subject_end; the data cut-off while a subject has none). An element ends where the
    next one starts; the last at the earlier of its own end and the end of participation."""
    dm = dm.reset_index(drop=True)
    arm = _dm_text(dm, ARM_VARIABLE)
    arm = arm.where(arm.isin(list(design.arms)), "")
    end = _dm_text(dm, design.subject_end)
    limit = end.where(end != "", _cutoff(design))
    parts = []
    for armcd, plan in subject_plans(design).items():
        group = dm[arm == armcd]
        if group.empty:
            continue
        for position, step in enumerate(plan):
            start = place_start(step["window"], group)
            own_end = place_end(step["window"], group)
            parts.append(pd.DataFrame({
                "USUBJID": group["USUBJID"], "__position": position, "SESTDTC": start,
                "__own_end": own_end.where(not_after(own_end, limit[group.index]), ""),
                "__end": end[group.index], "__limit": limit[group.index],
                **{k: step[k] for k in ("ETCD", "ELEMENT", "TAETORD", "EPOCH", "SEUPDES")}}))
    columns = ["USUBJID", "ETCD", "ELEMENT", "TAETORD", "EPOCH", "SESTDTC", "SEENDTC", "SEUPDES"]
    if not parts:
        return pd.DataFrame(columns=columns)
    table = pd.concat(parts, ignore_index=True)
    table = table[(table["SESTDTC"] != "") & not_after(table["SESTDTC"], table["__limit"])]
    table = table.sort_values(["USUBJID", "__position"], kind="stable")
    following = table.groupby("USUBJID", sort=False)["SESTDTC"].shift(-1)
    table = table[following.isna() | (following != table["SESTDTC"])]  # zero-length: not entered
    following = table.groupby("USUBJID", sort=False)["SESTDTC"].shift(-1)
    last = _earlier(table["__own_end"], table["__end"])
    table["SEENDTC"] = following.where(following.notna(), last)
    return table[columns].reset_index(drop=True)


# --- SV: the visits each subject attended ---------------------------------------------------------

def visit_records(datasets: dict[str, Dataset]) -> pd.DataFrame:
    """The distinct (USUBJID, VISITNUM, VISIT, DTC, DOMAIN) of the records with a VISITNUM in
    the Findings, Events and Interventions datasets (DTC: --DTC or --STDTC, "" if none)."""
    parts = []
    for name, ds in sorted(datasets.items()):
        data = ds.data
        if ds.dataset_class not in VISIT_CLASSES or "VISITNUM" not in data.columns \
                or name.startswith("SUPP"):
            continue
        dtc = derive.start_date_column(list(data.columns), name)
        part = pd.DataFrame({
            "USUBJID": data["USUBJID"], "VISITNUM": data["VISITNUM"].astype("float64"),
            "VISIT": data["VISIT"] if "VISIT" in data else "",
            "DTC": data[dtc] if dtc else ""})
        part = part[part["VISITNUM"].notna()].drop_duplicates()
        parts.append(part.assign(DOMAIN=name))
    if not parts:
        return pd.DataFrame(columns=["USUBJID", "VISITNUM", "VISIT", "DTC", "DOMAIN"])
    table = pd.concat(parts, ignore_index=True)
    for column in ("USUBJID", "VISIT", "DTC"):
        table[column] = text_column(table[column])
    return table


def _visit_dates(records: pd.DataFrame) -> pd.DataFrame:
    """SVSTDTC/SVENDTC per subject and visit: the earliest and latest complete date of its
    records (ISO 8601 text order); partial dates only when none is complete."""
    keys = ["USUBJID", "VISITNUM"]
    # text order as integer codes: min/max of integers per group, not of Python strings
    codes, texts = pd.factorize(records["DTC"], sort=True)
    rank = pd.Series(codes, index=records.index)
    complete = records["DTC"].str.match(r"\d{4}-\d{2}-\d{2}")
    out = []
    for mask in (complete, (records["DTC"] != "") & ~complete):
        dated = rank[mask].groupby([records.loc[mask, k] for k in keys])
        first, last = dated.min(), dated.max()
        out.append(pd.DataFrame({"SVSTDTC": np.asarray(texts, dtype=object)[first.to_numpy()],
                                 "SVENDTC": np.asarray(texts, dtype=object)[last.to_numpy()]},
                                index=first.index))
    return out[0].combine_first(out[1])


def _unplanned_description(records: pd.DataFrame, unplanned: str,
                           labels: dict[str, str]) -> pd.Series:
    """SVUPDES per subject and visit: the text and the datasets with records at the visit."""
    pairs = records[["USUBJID", "VISITNUM", "DOMAIN"]].drop_duplicates().sort_values("DOMAIN")
    names = pairs["DOMAIN"].map(labels)
    text = names.groupby([pairs["USUBJID"], pairs["VISITNUM"]]).agg(", ".join)
    return (unplanned + ": " + text).str.slice(0, MAX_TEXT)


def sv_records(design: TrialDesign, datasets: dict[str, Dataset], dm: pd.DataFrame) -> pd.DataFrame:
    """One record per subject per visit with records; planned visits named as in TV, unplanned
    ones (VISITNUM not in TV) described in SVUPDES."""
    records = visit_records(datasets)
    records = records[records["USUBJID"].isin(dm["USUBJID"])]
    keys = ["USUBJID", "VISITNUM"]
    if records.empty:
        return pd.DataFrame(columns=[*keys, "VISIT"])
    tv = design.visits.set_index("visitnum")
    unplanned = records[~records["VISITNUM"].isin(tv.index)]
    table = pd.DataFrame(index=records.groupby(keys).size().index)  # every visit with records
    table = table.join(_visit_dates(records))
    table["VISIT"] = unplanned.groupby(keys)["VISIT"].min()
    table["SVUPDES"] = _unplanned_description(
        unplanned, design.unplanned, {n: ds.label for n, ds in datasets.items()})
    table = table.reset_index()
    planned = table["VISITNUM"].isin(tv.index)
    table["VISIT"] = table["VISITNUM"].map(tv["visit"]).where(planned, table["VISIT"])
    table["VISITDY"] = table["VISITNUM"].map(tv["visitdy"]).where(planned)
    table["SVPRESP"] = np.where(planned, "Y", "")
    table["SVOCCUR"] = np.where(planned, "Y", "")
    for column in ("VISIT", "SVSTDTC", "SVENDTC", "SVUPDES"):
        table[column] = table[column].fillna("")
    return table


# --- Dataset objects with define metadata ---------------------------------------------------------

def _methods(design: TrialDesign) -> dict[str, dict[str, str]]:
    """Dataset -> variable -> derivation text (define.xml MethodDef)."""
    starts = "; ".join(f"{e.etcd} {_describe_window(e.window, START_BOUNDS)}"
                       for e in design.elements.values())
    derived = [f"{p.parmcd} = {describe(v)}" for p in design.summary for v in p.values
               if isinstance(v, dict)]
    ts = {"TSVAL": "Values from the protocol, except the ones derived from the data: " +
                   "; ".join(derived) + "."} if derived else {}
    plan = (f"The elements of the subject's arm (DM.{ARM_VARIABLE}) in TA order; an element is "
            "entered when its start can be placed from DM dates and is on or before "
            f"DM.{design.subject_end} (the data cut-off while that is empty); UNPLAN when the "
            "arm is not in TA and the arms differ there.")
    dy = derive.METHODS["DY"]
    return {"TS": ts, "SE": {
        "SESEQ": "Sequential number 1..n within USUBJID in the order of SESTDTC, then ETCD.",
        "ETCD": plan, "ELEMENT": "TE.ELEMENT of ETCD.",
        "TAETORD": "TA.TAETORD of the element in the subject's arm; null for UNPLAN.",
        "EPOCH": "TA.EPOCH of the element in the subject's arm.",
        "SESTDTC": f"Start of the element from DM dates (the protocol's element windows): "
                   f"{starts}.",
        "SEENDTC": "SESTDTC of the subject's next element; for the last element the earlier of "
                   f"the element's own end and DM.{design.subject_end}.",
        "SESTDY": dy, "SEENDY": dy,
        "SEUPDES": "The planned elements at that position, for an UNPLAN element."},
        "SV": {
        "VISITNUM": "VISITNUM of the subject's records in the Findings, Events and "
                    "Interventions datasets.",
        "VISIT": "TV.VISIT of a planned visit; the records' VISIT for an unplanned one.",
        "SVPRESP": "Y when VISITNUM is a planned visit (in TV); null for an unplanned visit.",
        "SVOCCUR": "Y for a planned visit (only visits with records are listed); null for an "
                   "unplanned visit.",
        "VISITDY": "TV.VISITDY of a planned visit; null for an unplanned visit.",
        "SVSTDTC": "Earliest complete --DTC/--STDTC of the subject's records at the visit "
                   "(partial dates only when none is complete).",
        "SVENDTC": "Latest complete --DTC/--STDTC of the subject's records at the visit "
                   "(partial dates only when none is complete).",
        "SVSTDY": dy, "SVENDY": dy,
        "SVUPDES": f"'{design.unplanned}: ' and the datasets with records at the unplanned "
                   "visit."}}


def _describe_window(window: dict, bounds: tuple[str, ...]) -> str:
    parts = []
    for key in bounds:
        if key in window:
            b = window[key]
            ref, days = (b["reference"], b["days"]) if isinstance(b, dict) else (b, 0)
            if key == "after":
                days += 1
            parts.append(f"DM.{ref}" + (f" + {days} days" if days else ""))
    return ", ".join(parts)


def _origin(variable: str, methods: dict[str, str]) -> Origin:
    if variable in ("STUDYID", "DOMAIN", "TSSEQ", "TSPARM", "TSVALCD", "TSVCDREF", "TSVCDVER",
                    "TSVALNF"):
        return Origin("Assigned")
    if variable == "USUBJID":
        return Origin("Predecessor", description="DM.USUBJID")
    if variable in methods:
        return Origin("Derived")
    return Origin("Protocol")


def to_dataset(name: str, table: pd.DataFrame, studyid: str, specs: Specs,
               methods: dict[str, str]) -> Dataset:
    """Columns in SDTMIG order (Req and Exp always; Perm when some record has a value; TSVALn
    after TSVAL), types and labels from specs/, records sorted by the dataset keys."""
    spec = specs.dataset(name)
    table = table.assign(STUDYID=studyid, DOMAIN=name)
    columns = []
    for v in spec.variables:
        extra = sorted((c for c in table.columns if re.fullmatch(r"TSVAL\d+", c)),
                       key=lambda c: int(c[5:])) if v.name == "TSVAL" else []
        for var, label in [(v.name, v.label), *((c, f"Parameter Value {c[5:]}") for c in extra)]:
            present = var in table.columns and (table[var].astype(object).fillna("") != "").any()
            if not present and v.core not in ("Req", "Exp"):
                continue
            if var not in table.columns:
                table[var] = np.nan if v.is_numeric else ""
            columns.append(Column(
                name=var, label=label, type=v.type,
                codelist=v.codelist if v.codelist in specs.codelists else None,
                origin=_origin(v.name, methods), method=methods.get(v.name),
                core=v.core if var == v.name else "Perm", value_domain=v.value_domain))
    check_metadata(name, columns, specs)
    table = typed_table(name, columns, table)
    seq = f"{name}SEQ"
    keys = [k for k in spec.keys if k in table.columns]
    if spec.has_variable(seq) and "USUBJID" in table.columns:
        table[seq] = derive.derive_seq(table, keys)
    order = [*keys, *([seq] if seq in table.columns and seq not in keys else [])]
    data = table.sort_values(order, kind="stable").reset_index(drop=True)[[c.name
                                                                           for c in columns]]
    return Dataset(name=name, label=spec.label, columns=columns, data=data,
                   keys=tuple(k for k in order if k in data.columns),
                   dataset_class=spec.dataset_class, structure=spec.structure,
                   standard=spec.standard)


def _study_days(table: pd.DataFrame, dm: pd.DataFrame, pairs: tuple[tuple[str, str], ...]
                ) -> pd.DataFrame:
    rfstdtc = dm.set_index("USUBJID")["RFSTDTC"] if "RFSTDTC" in dm else pd.Series(dtype=object)
    for dtc, dy in pairs:
        table[dy] = derive.derive_study_day(table[dtc], table["USUBJID"], rfstdtc)
    return table


def build_trial_design(config: StudyConfig, specs: Specs,
                       datasets: dict[str, Dataset]) -> dict[str, Dataset]:
    """TS, TE, TA, TV, TI, SE and SV of a study with a `trial_design:` section ({} without
    one); a dataset without records (no criteria, no visit records) is left out."""
    design = config.trial_design
    if design is None or "DM" not in datasets:
        return {}
    dm = datasets["DM"].data
    methods = _methods(design)
    se = _study_days(se_records(design, dm), dm, (("SESTDTC", "SESTDY"), ("SEENDTC", "SEENDY")))
    sv = sv_records(design, datasets, dm)
    if not sv.empty:
        sv = _study_days(sv, dm, (("SVSTDTC", "SVSTDY"), ("SVENDTC", "SVENDY")))
    tables = {"TS": ts_records(design, specs, datasets), "TE": te_records(design),
              "TA": ta_records(design), "TV": tv_records(design), "TI": ti_records(design),
              "SE": se, "SV": sv}
    return {name: to_dataset(name, table, config.studyid, specs, methods.get(name, {}))
            for name, table in tables.items() if not table.empty}
