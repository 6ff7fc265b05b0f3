"""Load and check a study's mapping folder (study.yaml + one <DOMAIN>.yaml per domain).

Everything a mapping names (files, columns, codelists, variables, algorithms) is checked here,
against the specs and the raw files' headers, before any data row is read.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cdisc.errors import SpecError
from cdisc.io.raw import read_header
from cdisc.sdtm import context, registry
from cdisc.sdtm.derive import DERIVATIONS
from cdisc.sdtm.trial_design import TrialDesign, criteria_text, parse_trial_design
from cdisc.specs import DatasetSpec, Specs, model_variable
from cdisc.terminology import StudyCT, build_lookup, normalise_one
from cdisc.yamlsafe import load_yaml

STUDY_KEYS = {"study", "subject_column", "sources", "ct_map", "visits", "epochs", "domains",
              "usubjid", "trial_design", "dictionaries", "annotated_crf"}
# Define-XML 2.1 def:Origin Source of data collected on a form
PROVIDERS = ("Investigator", "Vendor", "Subject", "Sponsor")
# optional visit table columns, read by the trial design (TV): planned study day, start/end rules
TV_COLUMNS = ("visitdy", "tvstrl", "tvenrl")
DOMAIN_KEYS = {"domain", "records", "derivations"}
BLOCK_KEYS = {"name", "source", "join", "filter", "variables", "supplemental",
              "one_per_subject", "queries"}
SUPP_KEYS = {"label", "eval"}


@dataclass(frozen=True)
class Source:
    alias: str
    file: str
    subject_column: str
    form: str | None = None  # FormOID when the file is a CDISC ODM XML export
    provider: str = "Investigator"  # who collected it: the define Source of its values


@dataclass
class RecordBlock:
    name: str
    source: str
    join: list[str]
    filter: dict | None
    variables: dict[str, dict]
    supplemental: dict[str, dict] = field(default_factory=dict)  # QNAM -> {label, eval, rule}
    one_per_subject: dict | None = None  # {keep: first|last, order_by: COLUMN}
    # [{when, issue, query, variable?}]: records kept as collected but listed as data issues
    queries: list[dict] = field(default_factory=list)


@dataclass
class DomainMapping:
    domain: str
    blocks: list[RecordBlock]
    path: Path
    derivations: list[dict] = field(default_factory=list)  # domain-level, after DM is built
    # SDTM model class variables the domain adds to the IG's (LBLLOQ, MHSTDY): SDTMIG 2.7
    model_variables: list[str] = field(default_factory=list)


@dataclass
class StudyConfig:
    folder: Path
    studyid: str
    name: str
    description: str
    protocol: str
    sources: dict[str, Source]
    domains: list[DomainMapping]
    study_ct: StudyCT
    visits: pd.DataFrame | None
    epochs: list[dict] = field(default_factory=list)
    usubjid_template: str = "{STUDYID}-{SUBJECT}"
    trial_design: TrialDesign | None = None  # the study.yaml 'trial_design:' section, if any
    # external dictionaries: name -> {version, variables} (define.xml ExternalCodeList)
    dictionaries: dict[str, dict] = field(default_factory=dict)
    # the annotated CRF: {file (in the raw folder), title, pages: {source alias: "1 2"}}
    annotated_crf: dict | None = None


def _require_mapping(obj: Any, what: str, path: Path) -> dict:
    if not isinstance(obj, dict):
        raise SpecError(f"{what} must be a mapping of keys to values", file=str(path))
    return obj


def _unknown_keys(obj: dict, allowed: set[str], what: str, path: Path) -> None:
    extra = sorted(set(obj) - allowed)
    if extra:
        raise SpecError(f"unknown key(s) {extra} in {what} (allowed: {sorted(allowed)})",
                        file=str(path))


def _inside(folder: Path, name: str, path: Path) -> Path:
    """A file named by a spec must stay inside its folder (no ../ escapes, no absolute paths)."""
    target = (folder / name).resolve()
    if folder.resolve() not in target.parents:
        raise SpecError(f"path {name!r} points outside {folder}", file=str(path))
    return target


def load_study(mapping_dir: Path, specs: Specs) -> StudyConfig:
    path = mapping_dir / "study.yaml"
    raw = _require_mapping(load_yaml(path), "study.yaml", path)
    _unknown_keys(raw, STUDY_KEYS, "study.yaml", path)
    study = _require_mapping(raw.get("study"), "'study'", path)
    if not study.get("studyid"):
        raise SpecError("study.studyid is required", file=str(path))
    subject_col = raw.get("subject_column") or "SUBJECT"
    sources = {}
    for alias, spec in _require_mapping(raw.get("sources") or {}, "'sources'", path).items():
        spec = _require_mapping(spec, f"source {alias}", path)
        if "file" not in spec:
            raise SpecError(f"source {alias} needs a 'file'", file=str(path))
        provider = str(spec.get("provider", "Investigator"))
        if provider not in PROVIDERS:
            raise SpecError(f"source {alias}: provider {provider!r} is not one of "
                            f"{', '.join(PROVIDERS)}", file=str(path))
        sources[alias] = Source(alias, str(spec["file"]), str(spec.get("subject", subject_col)),
                                str(spec["form"]) if spec.get("form") else None, provider)
    study_ct = StudyCT.load(_inside(mapping_dir, raw["ct_map"], path), specs) \
        if raw.get("ct_map") else StudyCT()
    visits = _load_visits(_inside(mapping_dir, raw["visits"], path)) if raw.get("visits") else None
    domains = []
    for name in raw.get("domains") or []:
        dpath = _inside(mapping_dir, f"{str(name).upper()}.yaml", path)
        domains.append(load_domain(dpath, specs, sources))
    if not domains:
        raise SpecError("study.yaml lists no 'domains'", file=str(path))
    config = StudyConfig(folder=mapping_dir, studyid=str(study["studyid"]),
                         name=str(study.get("name", study["studyid"])),
                         description=str(study.get("description", "")).strip(),
                         protocol=str(study.get("protocol", study["studyid"])),
                         sources=sources, domains=domains, study_ct=study_ct, visits=visits,
                         epochs=list(raw.get("epochs") or []),
                         usubjid_template=_usubjid_template(raw.get("usubjid"), path))
    config.trial_design = _load_trial_design(raw, mapping_dir, path, specs, visits)
    config.dictionaries = _load_dictionaries(raw.get("dictionaries"), path)
    config.annotated_crf = _load_annotated_crf(raw.get("annotated_crf"), sources, path)
    config.study_ct.maps.update(criteria_lists(config))
    check_terminology(config, study_specs(config, specs))
    return config


def criteria_lists(config: StudyConfig) -> dict[str, dict[str, str]]:
    """The trial design's criteria as study lists TI_IETEST and TI_IECAT (IETESTCD -> text,
    category), so IE takes IETEST and IECAT from the one place TI is built from."""
    criteria = criteria_text(config)
    return {"TI_IETEST": {normalise_one(code): text for code, (text, _) in criteria.items()},
            "TI_IECAT": {normalise_one(code): cat for code, (_, cat) in criteria.items()}}


def _load_dictionaries(raw: Any, path: Path) -> dict[str, dict]:
    """study.yaml 'dictionaries:': name -> {version: text, variables: [VAR or DS.VAR, ...],
    coded_by_sponsor: the sponsor's coders assign the terms (MedDRA), so their origin is
    Assigned; otherwise collected values are only written in the dictionary's codes}."""
    out: dict[str, dict] = {}
    for name, spec in _require_mapping(raw or {}, "'dictionaries'", path).items():
        spec = _require_mapping(spec, f"dictionary {name}", path)
        _unknown_keys(spec, {"version", "variables", "href", "coded_by_sponsor"},
                      f"dictionary {name}", path)
        if not spec.get("version") or not spec.get("variables"):
            raise SpecError(f"dictionary {name} needs a 'version' and 'variables'",
                            file=str(path))
        out[str(name)] = {"version": str(spec["version"]),
                          "variables": [str(v) for v in spec["variables"]],
                          "href": str(spec.get("href", "")),
                          "coded_by_sponsor": bool(spec.get("coded_by_sponsor", False))}
    return out


def _load_annotated_crf(raw: Any, sources: dict[str, Source], path: Path) -> dict | None:
    """study.yaml 'annotated_crf:': {file: acrf.pdf, title: ..., pages: {alias: [12, 13]}}:
    the PDF (in the raw export folder) and the pages annotating each raw form."""
    if raw is None:
        return None
    spec = _require_mapping(raw, "'annotated_crf'", path)
    _unknown_keys(spec, {"file", "title", "pages"}, "annotated_crf", path)
    name = str(spec.get("file", ""))
    if not name.lower().endswith(".pdf") or "/" in name or "\\" in name:
        raise SpecError("annotated_crf.file must be a PDF file name in the raw folder "
                        f"(got {name!r})", file=str(path))
    pages = {}
    for alias, listed in _require_mapping(spec.get("pages") or {}, "annotated_crf.pages",
                                          path).items():
        if alias not in sources:
            raise SpecError(f"annotated_crf.pages: {alias!r} is not a source "
                            f"(declared: {sorted(sources)})", file=str(path))
        numbers = listed if isinstance(listed, list) else [listed]
        if not numbers or not all(isinstance(n, int) and n > 0 for n in numbers):
            raise SpecError(f"annotated_crf.pages.{alias}: page numbers (1, 2, ...) expected",
                            file=str(path))
        pages[str(alias)] = " ".join(str(n) for n in numbers)
    return {"file": name, "title": str(spec.get("title") or "Annotated CRF"), "pages": pages}


def _load_trial_design(raw: dict, mapping_dir: Path, path: Path, specs: Specs,
                       visits: pd.DataFrame | None) -> TrialDesign | None:
    """The 'trial_design:' section, checked (None without one); its visit table defaults to
    the study's."""
    if "trial_design" not in raw:
        return None
    section = _require_mapping(raw["trial_design"], "'trial_design'", path)
    table = (section.get("visits") or {}).get("table") \
        if isinstance(section.get("visits"), dict) else None
    if table and table != raw.get("visits"):
        visits = _load_visits(_inside(mapping_dir, str(table), path))
    return parse_trial_design(section, path, specs, visits, list(raw.get("epochs") or []),
                              [str(d).upper() for d in raw.get("domains") or []])


def _usubjid_template(value: object, path: Path) -> str:
    template = str(value or "{STUDYID}-{SUBJECT}")
    if template.count("{SUBJECT}") != 1 or re.search(r"\{(?!STUDYID\}|SUBJECT\})", template):
        raise SpecError("usubjid must contain {SUBJECT} once and no fields but {STUDYID}",
                        file=str(path))
    return template


def _load_visits(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise SpecError("visit table not found", file=str(path))
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            header = list(reader.fieldnames or [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SpecError(f"cannot read visit table: {exc}", file=str(path)) from None
    missing = [c for c in ("folder", "visitnum", "visit") if c not in header]
    if missing:
        raise SpecError(f"visit table lacks columns {missing}", file=str(path), row=0)
    optional = [c for c in TV_COLUMNS if c in header]
    df = pd.DataFrame(rows, columns=["folder", "visitnum", "visit", *optional]).fillna("")
    if df["folder"].duplicated().any():
        raise SpecError("visit folders must be unique", file=str(path))
    df["folder"] = df["folder"].str.strip().str.upper()
    numbers = pd.to_numeric(df["visitnum"].replace("", None), errors="coerce")
    bad = numbers.isna() & (df["visitnum"] != "")
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise SpecError("visitnum is not a number", file=str(path), row=row + 1,
                        column="visitnum", value=df["visitnum"].iloc[row])
    df["visitnum"] = numbers
    return df


def load_domain(path: Path, specs: Specs, sources: dict[str, Source]) -> DomainMapping:
    raw = _require_mapping(load_yaml(path), path.name, path)
    _unknown_keys(raw, DOMAIN_KEYS, path.name, path)
    domain = str(raw.get("domain", "")).upper()
    try:
        ds = specs.dataset(domain)
    except SpecError as exc:
        raise SpecError(f"domain: {exc.message}", file=str(path)) from None
    blocks = []
    for i, b in enumerate(raw.get("records") or []):
        b = _require_mapping(b, f"records[{i}]", path)
        _unknown_keys(b, BLOCK_KEYS, f"records[{i}]", path)
        source = b.get("source")
        if source not in sources:
            raise SpecError(f"records[{i}] uses source {source!r}, not declared in study.yaml "
                            f"(declared: {sorted(sources)})", file=str(path))
        joins = list(b.get("join") or [])
        for j in joins:
            if j not in sources:
                raise SpecError(f"records[{i}] joins unknown source {j!r}", file=str(path))
        variables = _require_mapping(b.get("variables") or {}, "variables", path)
        for var, rule in variables.items():
            if not ds.has_variable(var) and model_variable(ds, var) is None:
                raise SpecError(f"{var} is not a {domain} variable in SDTMIG "
                                f"{specs.standards['sdtm']['version']} nor an SDTM model "
                                f"{ds.dataset_class} class variable", file=str(path))
            if not isinstance(rule, dict):
                raise SpecError(f"{var}: rule must be a mapping like {{assign: COLUMN}}",
                                file=str(path))
            try:
                registry.rule_algorithm(rule)
                registry.rule_phase(rule)
                registry.check_rule(rule)
            except SpecError as exc:
                raise SpecError(f"{var}: {exc.message}", file=str(path)) from None
        supplemental = _load_supplemental(b.get("supplemental") or {}, path)
        flt = b.get("filter")
        if flt is not None and not (isinstance(flt, dict) and "when" in flt and "name" in flt):
            raise SpecError(f"records[{i}].filter needs 'name' and 'when'", file=str(path))
        keep = b.get("one_per_subject")
        if keep is not None and not (isinstance(keep, dict) and keep.get("keep") in
                                     ("first", "last") and keep.get("order_by")):
            raise SpecError(f"records[{i}].one_per_subject needs keep (first or last) and "
                            "order_by (a raw column)", file=str(path))
        queries = list(b.get("queries") or [])
        for q in queries:
            if not (isinstance(q, dict) and {"when", "issue", "query"} <= set(q)
                    <= {"when", "issue", "query", "variable"}):
                raise SpecError(f"records[{i}].queries entries need 'when', 'issue' and 'query' "
                                "(and optionally 'variable')", file=str(path))
        blocks.append(RecordBlock(name=str(b.get("name", f"records[{i}]")), source=source,
                                  join=joins, filter=flt, variables=variables,
                                  supplemental=supplemental, one_per_subject=keep,
                                  queries=queries))
    if not blocks:
        raise SpecError("no 'records' blocks", file=str(path))
    derivations = list(raw.get("derivations") or [])
    for d in derivations:
        if not isinstance(d, dict) or len(d) != 1 or next(iter(d)) not in DERIVATIONS:
            raise SpecError(f"derivations entries are one of {sorted(DERIVATIONS)}, got {d}",
                            file=str(path))
        params = next(iter(d.values()))
        if not isinstance(params, dict):
            raise SpecError(f"derivation {next(iter(d))} needs a mapping of parameters like "
                            "{flag: VARIABLE, by: [...]}", file=str(path))
        if "last_observation_before_exposure" in d and not ds.has_variable(
                str(params.get("flag", ""))):
            raise SpecError(f"derivation flag {params.get('flag')!r} is not a {domain} variable",
                            file=str(path))
    mapped = list(dict.fromkeys(v for b in blocks for v in b.variables))
    return DomainMapping(domain=domain, blocks=blocks, path=path, derivations=derivations,
                         model_variables=_model_variables(ds, mapped))


def study_specs(config: StudyConfig, specs: Specs) -> Specs:
    """The IG's variables plus the SDTM model class variables the study's mapping adds."""
    return specs.with_domain_variables({dm.domain: dm.model_variables for dm in config.domains})


def _model_variables(ds: DatasetSpec, mapped: list[str]) -> list[str]:
    """The mapped variables the IG domain lacks, plus the study days of mapped --STDTC/--ENDTC
    where the IG has none (FDA business rule FB3202: --STDY whenever --STDTC is present)."""
    extra = [v for v in mapped if not ds.has_variable(v)]
    for dtc in mapped:
        if dtc in (f"{ds.name}STDTC", f"{ds.name}ENDTC"):
            dy = dtc[:-3] + "DY"
            if not ds.has_variable(dy) and model_variable(ds, dy) is not None:
                extra.append(dy)
    return extra


def _load_supplemental(spec: object, path: Path) -> dict[str, dict]:
    """QNAM -> rule with a QLABEL: values that go to SUPP-- instead of a standard variable."""
    out = {}
    for qnam, rule in _require_mapping(spec, "supplemental", path).items():
        if not isinstance(qnam, str) or not re.fullmatch(r"[A-Z][A-Z0-9_]{0,7}", qnam):
            raise SpecError(f"supplemental QNAM {qnam!r} must be 1-8 upper-case letters, digits "
                            "or _, starting with a letter", file=str(path))
        rule = _require_mapping(rule, f"supplemental {qnam}", path)
        label = str(rule.get("label", ""))
        if not label or len(label) > 40 or not label.isascii():
            raise SpecError(f"supplemental {qnam}: 'label' (QLABEL) is required, ASCII, "
                            "<= 40 characters", file=str(path))
        algo = {k: v for k, v in rule.items() if k not in SUPP_KEYS}
        try:
            registry.rule_algorithm(algo)
            registry.check_rule(algo)
        except SpecError as exc:
            raise SpecError(f"supplemental {qnam}: {exc.message}", file=str(path)) from None
        out[qnam] = {"label": label, "eval": str(rule.get("eval", "")), "rule": algo}
    return out


def check_terminology(config: StudyConfig, specs: Specs) -> None:
    """Every codelist named resolves; every hardcoded value fits the target's codelist."""
    for dm in config.domains:
        ds = specs.dataset(dm.domain)
        for block in dm.blocks:
            for var, rule in block.variables.items():
                default = ds.variable(var).codelist
                for cl in registry.rule_codelists(rule, default):
                    if cl == "<none>":
                        raise SpecError(f"{var}: assign_ct needs a codelist (the IG names none)",
                                        file=str(dm.path))
                    try:
                        build_lookup(cl, specs, config.study_ct)
                    except SpecError as exc:
                        raise SpecError(f"{var}: {exc.message}", file=str(dm.path)) from None
                code = default if default in specs.codelists else None
                for value in registry.rule_hardcodes(rule):
                    if code and not specs.codelists[code].extensible \
                            and str(value) not in specs.codelists[code].terms:
                        raise SpecError(f"{var}: hardcoded {value!r} is not in non-extensible "
                                        f"codelist {specs.codelists[code].short_name}",
                                        file=str(dm.path))


def used_sources(config: StudyConfig) -> list[str]:
    """Aliases of the raw forms the listed domains read (as source or join)."""
    used = {a for d in config.domains for b in d.blocks for a in (b.source, *b.join)}
    return [a for a in config.sources if a in used]


def check_against_files(config: StudyConfig, raw_dir: Path) -> dict[str, list[str]]:
    """Every source file exists and has every column the mappings read. Returns the headers."""
    headers: dict[str, list[str]] = {}
    for alias in used_sources(config):
        src = config.sources[alias]
        path = _inside(raw_dir, src.file, config.folder / "study.yaml")
        if not path.exists():
            raise SpecError(f"source {alias}: raw file {src.file} not found in {raw_dir}")
        headers[alias] = read_header(path, src.form)
        if src.subject_column not in headers[alias]:
            raise SpecError(f"subject column {src.subject_column} missing",
                            file=src.file, row=0, column=src.subject_column)
    for dm in config.domains:
        for block in dm.blocks:
            rules = [*block.variables.values(), *(q["rule"] for q in block.supplemental.values())]
            refs = [r for rule in rules for r in registry.rule_columns(rule)]
            if block.filter:
                refs += context.condition_columns(block.filter["when"])
            for r in block.queries:
                refs += context.condition_columns(r["when"])
            if block.one_per_subject:
                refs.append(block.one_per_subject["order_by"])
            for ref in refs:
                alias, col = context.qualify(ref, block.source, set(block.join)).split(".", 1)
                if alias not in [block.source, *block.join]:
                    raise SpecError(f"{ref}: source {alias} is not the block's source or a join",
                                    file=str(dm.path))
                if col not in headers[alias]:
                    raise SpecError(f"column {col} (needed by {dm.domain} mapping "
                                    f"'{block.name}') is missing", file=config.sources[alias].file,
                                    row=0, column=col)
    return headers
