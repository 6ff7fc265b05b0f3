"""The reviewer's guides, written from the run: csdrg.html (SDTM) and adrg.html (ADaM).

Both follow the section structure of the PHUSE templates (cSDRG: introduction, protocol
description, subject data description, data conformance summary, data issues, appendix; ADRG:
introduction, protocol description, analysis considerations, data dependencies, conformance,
appendix). Their content is read from the package the pipeline just wrote, never typed in:

- sdtm/define.xml and adam/define.xml: the standards (def:Standards), the dictionaries
  (ExternalCodeList), the datasets (ItemGroupDef), the sponsor's decisions (def:CommentDef,
  MethodDef) and the Predecessor origins of the analysis variables;
- the datasets themselves (XPT, else Dataset-JSON): record counts, the trial summary (TS), the
  arms (TA), the ADaM parameters and the censoring values actually present;
- the validation report (report.json as a dict): the rule catalogue's counts and every finding
  that remains, each explained by a waiver (matched with cdisc.validate.waivers, the matching
  `cdisc validate --waivers` applies) or visibly marked as not yet explained;
- sdtm/data_issues.csv: the collected values queried with the sites;
- the study and ADaM configurations (study.yaml, adam.yaml as dicts): the protocol number, the
  populations, endpoints, event and censoring definitions and imputation rules. Where the
  configuration says nothing, the guide says so rather than guess.

A part that is missing (no TS, no define.xml, no adam/, no report, no waivers) makes its section
say "not provided"; nothing here fails for want of an optional input. The pages are
self-contained HTML (inline CSS, no script, no network), every text escaped by lxml, with no
clock: the same package gives the same bytes.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lxml import etree, html
from lxml.html import builder as E

from cdisc import __version__
from cdisc.errors import CdiscError
from cdisc.validate import waivers as waiver_rules
from cdisc.validate.model import Finding, Record
from cdisc.validate.report import Report

NOT_PROVIDED = "not provided"
UNEXPLAINED = "Not yet explained: to be justified before submission"
GUIDE_FILES = {"sdtm": "csdrg.html", "adam": "adrg.html"}

# the TS parameters of the design summary, in the order shown
DESIGN_PARAMS = ("TPHASE", "STYPE", "TTYPE", "INTMODEL", "INTTYPE", "TBLIND", "TCNTRL",
                 "RANDOM", "NARMS", "NCOHORT", "PLANSUB", "ACTSUB", "AGEMIN", "AGEMAX",
                 "SEXPOP", "INDIC", "TDIGRP", "THERAREA", "TRT", "PCLAS", "DOSE", "DOSU",
                 "DOSFRQ", "ROUTE", "SSTDTC", "SENDTC", "DCUTDTC", "LENGTH", "OBJPRIM",
                 "OBJSEC", "OUTMSPRI", "OUTMSSEC", "STOPRULE", "SPONSOR", "REGID")
SHORT_DESIGN = ("TPHASE", "TTYPE", "INTMODEL", "TBLIND", "TCNTRL", "NARMS", "PLANSUB",
                "ACTSUB", "INDIC", "TRT", "DCUTDTC", "OBJPRIM", "OUTMSPRI", "OUTMSSEC")
TRIAL_DESIGN = ("TA", "TD", "TE", "TI", "TM", "TS", "TV")
PACKAGE_LEVEL = ("DEFINE", "STUDY")  # findings about the package, not one dataset
# a dataset a method text names as a source: "DM.ARM", "ADRS PARAMCD CRCRI", "the DS record"
DATASET_MENTION = re.compile(
    r"\b([A-Z][A-Z0-9]{1,7})(?=\.[A-Z]|\s+(?:PARAMCD|records?|dataset)\b)")
POPULATION_FLAG = re.compile(r"^(ENRL|SCRN|RAND|ITT|FAS|SAF|EFF|PPROT|COMPL|COMP\d{2})FL$")
# the adam.yaml response keys the per-assessment ADRS parameter is derived from; a
# per-subject parameter is response.subject_parameters.<PARAMCD> with these two
ASSESSMENT_SETTINGS = ("response.dataset", "response.where", "response.variable",
                       "response.hierarchy", "response.not_evaluable")
SUBJECT_PARAMETER_SETTINGS = ("response.progression", "response.stop_at", "response.population")
# adam.yaml sections that feed ADSL, with where each names its SDTM dataset
ADSL_SECTIONS = ("treatment", "first_dates", "age_groups", "death", "alive_evidence",
                 "intercurrent", "end_of_study", "populations")
DEATH_IMPUTATION = {
    "first": "imputed to the first day of the month, or to 1 January when the month is "
             "missing too (DTHDTF = D or M)",
}

CSS = """
body{font-family:Arial,Helvetica,sans-serif;font-size:13px;margin:24px;color:#222;
max-width:1200px}
h1{font-size:21px}h2{font-size:17px;margin-top:30px;border-bottom:2px solid #35608f}
h3{font-size:14px;margin-top:18px}h4{font-size:13px;margin-top:12px}
table{border-collapse:collapse;margin:6px 0 14px 0;width:100%}
th{background:#35608f;color:#fff;text-align:left;padding:4px 6px}
td{border:1px solid #c8c8c8;padding:3px 6px;vertical-align:top}
tr:nth-child(even) td{background:#f2f5f9}
nav ol{columns:2}code{font-size:12px}
.not-provided{color:#777;font-style:italic}
tr.unexplained td{background:#fdecea}td.unexplained{color:#9b1c1c;font-weight:bold}
tr.explained td.explanation{color:#1d5b2c}
.count{font-weight:bold}
"""


# --- small helpers ---------------------------------------------------------------------------

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _clean(value: object) -> str:
    """Text fit for an XML document (control characters and lone surrogates dropped)."""
    return _NOT_XML.sub("", "" if value is None else str(value))


def _plain(value: object) -> str:
    """A configuration or data value as text: numbers without a spurious .0, lists joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    return str(value)


def _cell(value: object) -> Any:
    if isinstance(value, html.HtmlElement):
        return value
    return _clean(_plain(value))


def _table(headers: list[str], rows: list[list[object]], *, table_id: str | None = None,
           cls: str | None = None, row_classes: list[str] | None = None) -> html.HtmlElement:
    body = []
    for n, row in enumerate(rows):
        attrs = {"class": row_classes[n]} if row_classes and row_classes[n] else {}
        body.append(E.TR(*[E.TD(_cell(c)) for c in row], **attrs))
    attrs = {}
    if table_id:
        attrs["id"] = table_id
    if cls:
        attrs["class"] = cls
    return E.TABLE(E.THEAD(E.TR(*[E.TH(_clean(h)) for h in headers])), E.TBODY(*body), **attrs)


def _p(*parts: object, cls: str | None = None) -> html.HtmlElement:
    kids = [p if isinstance(p, html.HtmlElement) else _clean(p) for p in parts]
    return E.P(*kids, **({"class": cls} if cls else {}))


def _missing(what: str) -> html.HtmlElement:
    return _p(f"{what}: {NOT_PROVIDED}.", cls="not-provided")


def _count(n: int, cls: str = "count", **attrs: str) -> html.HtmlElement:
    return E.SPAN(str(n), **{"class": cls, **attrs})


def _section(section_id: str, title: str, *content: html.HtmlElement) -> html.HtmlElement:
    return E.SECTION(E.H2(_clean(title)), *content, id=section_id)


def _filter_text(where: object) -> str:
    """{VAR: value or [values]} -> "VAR = value and VAR2 in (a, b)"."""
    if not where:
        return "all records"
    if not isinstance(where, dict):
        return _plain(where)
    parts = []
    for name, value in where.items():
        if isinstance(value, (list, tuple)):
            parts.append(f"{name} in ({_plain(value)})")
        else:
            parts.append(f"{name} = {_plain(value)}")
    return " and ".join(parts)


def _get(config: dict, dotted: str) -> Any:
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _as_dict(config: object) -> dict:
    """A configuration given as a dict, an AdamConfig (its .raw) or a StudyConfig (its
    attributes); {} for None."""
    if config is None:
        return {}
    if isinstance(config, dict):
        return config
    raw = getattr(config, "raw", None)
    if isinstance(raw, dict):
        return raw
    study = {k: getattr(config, k) for k in ("studyid", "name", "description", "protocol")
             if isinstance(getattr(config, k, None), str)}
    return {"study": study} if study else {}


def _size_text(size: int) -> str:
    return f"{size:,}".replace(",", " ")


# --- define.xml --------------------------------------------------------------------------------

def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _attr(el: etree._Element | None, name: str) -> str:
    """An attribute by local name, whatever its namespace (def:Structure, Structure)."""
    if el is None:
        return ""
    for key, value in el.attrib.items():
        if etree.QName(key).localname == name:
            return value
    return ""


def _kids(el: etree._Element | None, name: str) -> list[etree._Element]:
    return [] if el is None else [c for c in el if _local(c) == name]


def _kid(el: etree._Element | None, name: str) -> etree._Element | None:
    found = _kids(el, name)
    return found[0] if found else None


def _description(el: etree._Element | None) -> str:
    desc = _kid(el, "Description")
    texts = [t.text or "" for t in _kids(desc, "TranslatedText")]
    return " ".join(" ".join(t.split()) for t in texts if t.strip())


@dataclass
class GroupInfo:
    """One ItemGroupDef: a dataset as the define.xml describes it."""

    name: str
    label: str = ""
    cls: str = ""
    structure: str = ""
    keys: list[str] = field(default_factory=list)
    href: str = ""
    comments: list[tuple[str, str]] = field(default_factory=list)  # (what, comment)
    methods: list[tuple[str, str, str]] = field(default_factory=list)  # (variable, type, text)
    predecessors: dict[str, list[str]] = field(default_factory=dict)  # source ds -> variables
    mentions: dict[str, list[str]] = field(default_factory=dict)  # ds named -> variables


@dataclass
class DefineInfo:
    path: str
    found: bool = False
    error: str = ""
    define_version: str = ""
    study_name: str = ""
    description: str = ""
    protocol: str = ""
    standards: list[list[str]] = field(default_factory=list)
    dictionaries: list[list[str]] = field(default_factory=list)
    groups: list[GroupInfo] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        return self.found and not self.error

    def group(self, name: str) -> GroupInfo | None:
        return next((g for g in self.groups if g.name == name), None)


def _read_define(path: Path, relative: str) -> DefineInfo:
    from cdisc.xmlsafe import parse_untrusted

    info = DefineInfo(relative)
    if not path.is_file():
        return info
    info.found = True
    try:
        root = parse_untrusted(path, file=relative)
    except CdiscError as exc:
        info.error = exc.one_line()
        return info
    study = _kid(root, "Study")
    glob = _kid(study, "GlobalVariables")
    for name, attr in (("StudyName", "study_name"), ("StudyDescription", "description"),
                       ("ProtocolName", "protocol")):
        el = _kid(glob, name)
        setattr(info, attr, " ".join((el.text or "").split()) if el is not None else "")
    mdv = _kid(study, "MetaDataVersion")
    if mdv is None:
        info.error = "no MetaDataVersion"
        return info
    info.define_version = _attr(mdv, "DefineVersion")
    for std in _kids(_kid(mdv, "Standards"), "Standard"):
        info.standards.append([_attr(std, "Name"), _attr(std, "Type"),
                               _attr(std, "PublishingSet"), _attr(std, "Version"),
                               _attr(std, "Status")])
    if not info.standards and _attr(mdv, "StandardName"):  # Define-XML 2.0
        info.standards.append([_attr(mdv, "StandardName"), "IG", "",
                               _attr(mdv, "StandardVersion"), ""])
    items = {i.get("OID"): i for i in _kids(mdv, "ItemDef")}
    methods = {m.get("OID"): m for m in _kids(mdv, "MethodDef")}
    comments = {c.get("OID"): _description(c) for c in _kids(mdv, "CommentDef")}
    value_lists = {v.get("OID"): v for v in _kids(mdv, "ValueListDef")}
    codelists = {c.get("OID"): c for c in _kids(mdv, "CodeList")}
    groups = _kids(mdv, "ItemGroupDef")

    def variables_of(refs: list[etree._Element]) -> list[tuple[etree._Element, etree._Element]]:
        return [(r, items[r.get("ItemOID")]) for r in refs if r.get("ItemOID") in items]

    used_by: dict[str, list[str]] = {}
    for g in groups:
        gname = g.get("Name") or ""
        cls = _kid(g, "Class")
        leaf = _kid(g, "leaf")
        refs = variables_of(_kids(g, "ItemRef"))
        gi = GroupInfo(gname, _description(g) or _attr(g, "Label"),
                       _attr(cls, "Name") if cls is not None else _attr(g, "Class"),
                       _attr(g, "Structure"),
                       [item.get("Name") or "" for _, item in
                        sorted((r for r in refs if (r[0].get("KeySequence") or "").isdigit()),
                               key=lambda r: int(r[0].get("KeySequence")))],
                       _attr(leaf, "href"))
        if _attr(g, "CommentOID") in comments:
            gi.comments.append(("dataset", comments[_attr(g, "CommentOID")]))
        rows = [(ref, item, "") for ref, item in refs]
        for ref, item in refs:  # value-level metadata of the variable
            vl = value_lists.get(_attr(item, "ValueListOID"))
            for vref, vitem in variables_of(_kids(vl, "ItemRef")):
                rows.append((vref, vitem, item.get("Name") or ""))
        for ref, item, parent in rows:
            var = item.get("Name") or ""
            what = f"{parent} ({var})" if parent else var
            if _attr(item, "CommentOID") in comments:
                gi.comments.append((what, comments[_attr(item, "CommentOID")]))
            method = methods.get(ref.get("MethodOID"))
            if method is not None:
                gi.methods.append((what, method.get("Type") or "", _description(method)))
                for word in sorted(set(DATASET_MENTION.findall(_description(method)))):
                    if word != gname:  # kept when a dataset of the package has that name
                        found = gi.mentions.setdefault(word, [])
                        if var not in found:
                            found.append(var)
            origin = _kid(item, "Origin")
            if origin is not None and _attr(origin, "Type") == "Predecessor":
                source = _description(origin).split(".", 1)[0].strip()
                if source:
                    gi.predecessors.setdefault(source, []).append(var)
            cl = _kid(item, "CodeListRef")
            if cl is not None and not parent:
                used_by.setdefault(cl.get("CodeListOID") or "", []).append(f"{gname}.{var}")
        info.groups.append(gi)
    for oid, cl in codelists.items():
        ext = _kid(cl, "ExternalCodeList")
        if ext is not None:
            info.dictionaries.append([ext.get("Dictionary") or "", ext.get("Version") or "",
                                      cl.get("Name") or oid, ", ".join(used_by.get(oid, []))])
    return info


# --- datasets ----------------------------------------------------------------------------------

class _Folder:
    """The datasets of sdtm/ or adam/, read at most once each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._frames: dict[str, tuple[Any, str] | None] = {}

    def names(self) -> list[str]:
        """Dataset names from the files (XPT, else Dataset-JSON) in the folder."""
        if not self.folder.is_dir():
            return []
        found = {p.stem.upper() for p in self.folder.glob("*.xpt") if p.is_file()}
        found |= {p.stem.upper() for p in self.folder.glob("*.json") if p.is_file()}
        return sorted(n for n in found if re.fullmatch(r"[A-Z][A-Z0-9]{0,7}", n))

    def file_of(self, name: str, href: str = "") -> Path | None:
        for candidate in (href, f"{name.lower()}.xpt", f"{name.lower()}.json"):
            if candidate and "/" not in candidate and "\\" not in candidate:
                path = self.folder / candidate
                if path.is_file():
                    return path
        return None

    def frame(self, name: str, href: str = ""):  # type: ignore[no-untyped-def]
        """(DataFrame, label) of a dataset, None when absent or unreadable."""
        if name in self._frames:
            return self._frames[name]
        path = self.file_of(name, href)
        result = None
        if path is not None:
            try:
                if path.suffix.lower() == ".xpt":
                    from cdisc.io.xpt import read_xpt

                    df, meta = read_xpt(path)
                    result = (df, meta.file_label)
                else:
                    from cdisc.io.datasetjson import read_dataset_json

                    result = (read_dataset_json(path), "")
            except (CdiscError, OSError, ValueError):
                result = None
        self._frames[name] = result
        return result

    def records(self, name: str, href: str = "", counted: dict | None = None) -> int | None:
        """The dataset's number of records: as the validator counted it when the report
        carries the counts (no second read of a large file), else from the file."""
        value = (counted or {}).get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        got = self.frame(name, href)
        return len(got[0]) if got is not None else None


def _text_column(df, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    if name not in df.columns:
        return [""] * len(df)
    return ["" if v is None or (isinstance(v, float) and v != v) else _plain(v).strip()
            for v in df[name].tolist()]


@dataclass
class TrialSummary:
    values: dict[str, list[str]] = field(default_factory=dict)  # TSPARMCD -> values (TSSEQ)
    labels: dict[str, str] = field(default_factory=dict)  # TSPARMCD -> TSPARM
    references: list[list[str]] = field(default_factory=list)  # TSVCDREF, TSVCDVER, params

    def value(self, code: str) -> str:
        return "; ".join(self.values.get(code, []))


def _trial_summary(sdtm: _Folder) -> TrialSummary | None:
    got = sdtm.frame("TS")
    if got is None:
        return None
    df = got[0]
    codes = _text_column(df, "TSPARMCD")
    params = _text_column(df, "TSPARM")
    vals = _text_column(df, "TSVAL")
    nulls = _text_column(df, "TSVALNF")
    refs = _text_column(df, "TSVCDREF")
    vers = _text_column(df, "TSVCDVER")
    seqs = df["TSSEQ"].tolist() if "TSSEQ" in df.columns else [0] * len(df)
    order = sorted(range(len(df)), key=lambda i: (codes[i], float(seqs[i] or 0)))
    ts = TrialSummary()
    used: dict[tuple[str, str], list[str]] = {}
    for i in order:
        code = codes[i]
        if not code:
            continue
        text = vals[i] or (f"{nulls[i]} (null flavour)" if nulls[i] else "")
        ts.values.setdefault(code, []).append(text)
        ts.labels.setdefault(code, params[i])
        if refs[i]:
            found = used.setdefault((refs[i], vers[i]), [])
            if code not in found:
                found.append(code)
    ts.references = [[ref, ver, ", ".join(codes_)] for (ref, ver), codes_ in sorted(used.items())]
    return ts


# --- findings and waivers ------------------------------------------------------------------------

def _finding(item: dict) -> Finding:
    records = tuple(Record(int(r.get("row") or 0), str(r.get("usubjid") or ""),
                           str(r.get("key") or ""), str(r.get("value") or ""))
                    for r in item.get("records") or [] if isinstance(r, dict))
    count = item.get("count", 1)
    return Finding(str(item.get("rule") or ""), str(item.get("severity") or ""),
                   str(item.get("dataset") or ""), item.get("variable") or None,
                   str(item.get("message") or ""),
                   count if isinstance(count, int) and not isinstance(count, bool) else 1,
                   tuple(r for r in item.get("rows") or [] if isinstance(r, int)),
                   tuple(str(v) for v in item.get("values") or []),
                   item.get("reference") or None, records, str(item.get("status") or ""),
                   str(item.get("waiver") or ""))


def _waiver(entry: object, n: int) -> waiver_rules.Waiver:
    """A waiver given as a Waiver or as a dict (the waivers.yaml entry, or Waiver.as_dict())."""
    if isinstance(entry, waiver_rules.Waiver):
        return replace(entry, entry=n)  # numbered in the list given, as in a file
    if isinstance(entry, dict):  # a report's waiver also lists its entry number and matches
        entry = {k: v for k, v in entry.items() if k in waiver_rules.FIELDS}
    return waiver_rules.waiver_of(entry, n)


@dataclass
class Conformance:
    given: bool  # a report was passed in
    findings: list[Finding]  # after the waivers
    explained_by: dict[int, waiver_rules.Waiver | None]  # id(finding) -> its waiver
    unused: list[waiver_rules.Waiver]
    rules: list[dict]
    summary: dict
    not_checked: list[str]


def _conformance(report: dict | None, waivers: list[dict] | None) -> Conformance:
    report = report or {}
    raw = [f for f in report.get("findings") or [] if isinstance(f, dict)]
    findings = [_finding(f) for f in raw]
    given = [_waiver(w, n) for n, w in enumerate(waivers or [], start=1)]
    known = []  # the waivers the report was produced with (author and date of its justifications)
    for n, w in enumerate(report.get("waivers") or [], start=1):
        try:
            known.append(_waiver(w, n))
        except CdiscError:
            continue
    out = waiver_rules.apply_waivers(Report(".", "", [], findings), given)
    by: dict[int, waiver_rules.Waiver | None] = {}
    for f in out.findings:
        if not f.waiver:
            continue
        match = next((w for w in [*given, *known] if w.justification == f.waiver
                      and waiver_rules.applies(w, f)), None)
        by[id(f)] = match
    # a waiver given again for a report already waived with it explains those findings too
    unused = [w for w, listed in zip(given, out.waivers, strict=True)
              if not listed.get("matched_findings") and not any(m is w for m in by.values())]
    rules = [r for r in report.get("rules") or [] if isinstance(r, dict)]
    return Conformance(bool(report), list(out.findings), by, unused, rules,
                       dict(report.get("summary") or {}),
                       [str(x) for x in report.get("not_checked") or []])


def _standard_of(dataset: str, sdtm: set[str], adam: set[str]) -> str:
    if dataset in PACKAGE_LEVEL:
        return "package"
    if dataset in sdtm:
        return "sdtm"
    if dataset in adam:
        return "adam"
    return "adam" if dataset.startswith("AD") else "sdtm"


def _rule_counts(conf: Conformance) -> list[list[object]]:
    status = Counter(str(r.get("status") or "") for r in conf.rules)
    if conf.rules:
        return [["in the catalogue", len(conf.rules)],
                ["executed (passed + failed)", status["passed"] + status["failed"]],
                ["passed", status["passed"]], ["failed", status["failed"]],
                ["skipped", status["skipped"]], ["not executable", status["not executable"]]]
    s = conf.summary
    names = [("executed (passed + failed)", "rules_executed"), ("passed", "rules_passed"),
             ("failed", "rules_failed"), ("skipped", "rules_skipped"),
             ("not executable", "rules_not_executable")]
    return [[label, s[key]] for label, key in names if key in s]


def _validator_part(conf: Conformance, report: dict | None) -> list[html.HtmlElement]:
    if not conf.given:
        return [_missing("Validation results (validation/report.json)")]
    report = report or {}
    parts = [_p(f"The package was checked with cdisc validate (cdisc-pipeline {__version__}; "
                f"report schema {report.get('schema') or NOT_PROVIDED}, standard "
                f"{report.get('standard') or NOT_PROVIDED}). The rule catalogue runs once over "
                "the whole package, so the counts below cover the SDTM and ADaM datasets "
                "together. Besides the catalogue, value-level suites (rule ids GX.*) check "
                "the variables of every dataset that has a specification.")]
    counts = _rule_counts(conf)
    if counts:
        parts.append(_table(["Rules", "Number"], counts, table_id="rule-counts"))
    else:
        parts.append(_missing("Rule counts"))
    if conf.rules:
        source = Counter("CDISC CORE (CORE-nnnnnn)" if str(r.get("rule", "")).startswith("CORE-")
                         else "project rules (CDISC, FDA and ADaM rule ids)" for r in conf.rules)
        parts.append(_table(["Catalogue part", "Rules"],
                            [[k, v] for k, v in sorted(source.items())], table_id="catalogue"))
    if conf.not_checked:
        parts.append(_p("Not checked:"))
        parts.append(E.UL(*[E.LI(_clean(x)) for x in conf.not_checked]))
    return parts


def _findings_part(conf: Conformance, standard: str, sdtm: set[str], adam: set[str],
                   label: str) -> list[html.HtmlElement]:
    if not conf.given:
        return [_missing("Findings")]
    mine = [f for f in conf.findings if _standard_of(f.dataset, sdtm, adam) == standard]
    package = [f for f in conf.findings if _standard_of(f.dataset, sdtm, adam) == "package"]
    unexplained = sum(1 for f in mine if not f.waiver)
    parts = [_p(_count(len(mine), id="finding-count"), f" findings remain on the {label} "
                "datasets; ", _count(len(mine) - unexplained, id="explained-count"),
                " explained by a waiver, ", _count(unexplained, id="unexplained-count"),
                " not yet explained. A finding a waiver covers only in part is shown as two "
                "rows: the records waived and the records that are not.")]
    parts.append(_findings_table(mine, conf, "findings"))
    if package:
        parts.append(E.H3("Findings on the package as a whole"))
        parts.append(_findings_table(package, conf, "package-findings"))
    if conf.unused:
        parts.append(E.H3("Waivers that matched no finding"))
        parts.append(_table(["Rule", "Dataset", "Justification", "Author", "Date"],
                            [[w.rule, w.dataset, w.justification, w.author, w.date]
                             for w in conf.unused], table_id="unused-waivers"))
    return parts


def _findings_table(found: list[Finding], conf: Conformance, table_id: str) -> html.HtmlElement:
    rows, classes = [], []
    for f in found:
        if f.waiver:
            w = conf.explained_by.get(id(f))
            who = f" ({w.author}, {w.date})" if w is not None else ""
            explanation: object = E.TD(_clean(f.waiver + who), **{"class": "explanation"})
            classes.append("finding explained")
        else:
            explanation = E.TD(UNEXPLAINED, **{"class": "explanation unexplained"})
            classes.append("finding unexplained")
        rows.append([f.rule, f.reference or "", f.severity, f.dataset, f.variable or "",
                     f.count, f.message, explanation])
    table = _table(["Rule", "CDISC/FDA ids", "Severity", "Dataset", "Variables", "Records",
                    "Message", "Explanation"], [r[:-1] for r in rows], table_id=table_id,
                   cls="findings", row_classes=classes)
    for tr, row in zip(table.find("tbody"), rows, strict=True):
        tr.append(row[-1])
    return table


# --- shared sections ---------------------------------------------------------------------------

def _standards_part(define: DefineInfo) -> list[html.HtmlElement]:
    if not define.found:
        return [_missing(f"Standards ({define.path})")]
    if define.error:
        return [_p(f"Standards: {define.path} could not be read ({define.error}).",
                   cls="not-provided")]
    parts = [_p(f"From {define.path} (Define-XML {define.define_version or NOT_PROVIDED}).")]
    if define.standards:
        parts.append(_table(["Standard", "Type", "Publishing set", "Version", "Status"],
                            define.standards, table_id="standards"))
    else:
        parts.append(_missing("def:Standards"))
    parts.append(E.H3("Dictionaries"))
    if define.dictionaries:
        parts.append(_table(["Dictionary", "Version", "Codelist", "Used by"],
                            define.dictionaries, table_id="dictionaries"))
    else:
        parts.append(_p("No external dictionary (ExternalCodeList) is declared in "
                        f"{define.path}: dictionary versions are {NOT_PROVIDED} there.",
                        cls="not-provided"))
    return parts


def _files_part(package_dir: Path, part: str) -> list[html.HtmlElement]:
    folder = package_dir / part
    if not folder.is_dir():
        return [_missing(f"The {part}/ folder")]
    files = sorted(p for p in folder.rglob("*") if p.is_file() and (
        p.suffix.lower() in (".xpt", ".json") or p.name in ("define.xml", "define.html")))
    if not files:
        return [_missing(f"Files in {part}/")]
    rows = [[p.relative_to(package_dir).as_posix(), p.stat().st_size] for p in files]
    total = sum(p.stat().st_size for p in files)
    return [_p(f"{len(files)} files, {_size_text(total)} bytes in all."),
            _table(["File", "Size (bytes)"], rows, table_id="files")]


def _dataset_rows(define: DefineInfo, folder: _Folder, fallback: dict
                  ) -> list[tuple[str, GroupInfo, int | None, str]]:
    """(name, define info, records, file) for every dataset of the define and the folder."""
    rows = []
    names = [g.name for g in define.groups] if define.readable else []
    names += [n for n in folder.names() if n not in names]
    for name in names:
        group = define.group(name) if define.readable else None
        if group is None:
            got = folder.frame(name)
            group = GroupInfo(name, got[1] if got else "")
        path = folder.file_of(name, group.href)
        rows.append((name, group, folder.records(name, group.href, fallback),
                     path.name if path is not None else ""))
    return rows


def _dataset_table(rows: list[tuple[str, GroupInfo, int | None, str]]) -> html.HtmlElement:
    return _table(["Dataset", "Label", "Class", "Structure", "Keys", "Records", "File"],
                  [[name, g.label, g.cls or NOT_PROVIDED, g.structure or NOT_PROVIDED,
                    ", ".join(g.keys) or NOT_PROVIDED,
                    NOT_PROVIDED if records is None else records, file or NOT_PROVIDED]
                   for name, g, records, file in rows], table_id="datasets", cls="datasets")


def _report_records(report: dict | None) -> dict:
    report = report or {}
    for source in (report.get("dataset_records"), (report.get("summary") or {}).get(
            "dataset_records")):
        if isinstance(source, dict):
            return source
    return {}


def _protocol_part(study: dict, define: DefineInfo, ts: TrialSummary | None,
                   params: tuple[str, ...]) -> list[html.HtmlElement]:
    protocol = _get(study, "study.protocol") or define.protocol
    title = ts.value("TITLE") if ts is not None else ""
    parts = [_table(["Item", "Value"], [
        ["Study identifier", _get(study, "study.studyid") or define.study_name or NOT_PROVIDED],
        ["Protocol number", protocol or NOT_PROVIDED],
        ["Protocol title (TS TITLE)", title or NOT_PROVIDED],
        ["Description", _get(study, "study.description") or define.description
         or NOT_PROVIDED]], table_id="protocol-identity")]
    parts.append(E.H3("Design summary"))
    if ts is None:
        parts.append(_missing("Trial summary (sdtm/ts.xpt)"))
        return parts
    rows = [[code, ts.labels.get(code, ""), ts.value(code)] for code in params
            if code in ts.values]
    parts.append(_p("From the trial summary dataset (TS), one row per parameter; several "
                    "values of one parameter are separated by semicolons."))
    parts.append(_table(["TSPARMCD", "Parameter", "Value"], rows, table_id="design"))
    return parts


def _page(title: str, subtitle: str, sections: list[html.HtmlElement]) -> bytes:
    toc = E.NAV(E.OL(*[E.LI(E.A(s.findtext("h2") or "", href=f"#{s.get('id')}"))
                       for s in sections]), id="contents")
    page = E.HTML(E.HEAD(E.META(charset="utf-8"), E.TITLE(_clean(title)), E.STYLE(CSS)),
                  E.BODY(E.H1(_clean(title)), _p(subtitle), toc, *sections), lang="en")
    return b"<!DOCTYPE html>\n" + html.tostring(page, encoding="utf-8", pretty_print=True)


def _studyid(study: dict, define: DefineInfo) -> str:
    return str(_get(study, "study.studyid") or define.study_name or "")


@dataclass
class _Package:
    """What both guides read from a package: its SDTM and ADaM folders and defines, the
    dataset names of each part, the trial summary and the findings after the waivers."""

    sdtm: _Folder
    adam: _Folder
    sdtm_define: DefineInfo
    adam_define: DefineInfo
    sdtm_names: set[str]
    adam_names: set[str]
    ts: TrialSummary | None
    conf: Conformance


def _read_package(package_dir: Path, report: dict,
                  waivers: list[dict] | None) -> _Package:
    sdtm, adam = _Folder(package_dir / "sdtm"), _Folder(package_dir / "adam")
    sdtm_define = _read_define(package_dir / "sdtm" / "define.xml", "sdtm/define.xml")
    adam_define = _read_define(package_dir / "adam" / "define.xml", "adam/define.xml")
    return _Package(sdtm, adam, sdtm_define, adam_define,
                    {g.name for g in sdtm_define.groups} | set(sdtm.names()),
                    {g.name for g in adam_define.groups} | set(adam.names()),
                    _trial_summary(sdtm), _conformance(report, waivers))


def _conformance_section(pkg: _Package, report: dict, part: str,
                         label: str) -> list[html.HtmlElement]:
    return [E.H3("Validator and rule catalogue"), *_validator_part(pkg.conf, report),
            E.H3(f"Findings on the {label} datasets"),
            *_findings_part(pkg.conf, part, pkg.sdtm_names, pkg.adam_names, label)]


# --- cSDRG ---------------------------------------------------------------------------------------

def build_csdrg(package_dir: Path, study_config: dict, report: dict, *,
                waivers: list[dict] | None = None) -> bytes:
    """The Clinical Study Data Reviewer's Guide of package_dir/sdtm, as UTF-8 HTML bytes."""
    package_dir = Path(package_dir)
    study = _as_dict(study_config)
    pkg = _read_package(package_dir, report, waivers)
    sdtm, define, ts = pkg.sdtm, pkg.sdtm_define, pkg.ts
    studyid = _studyid(study, define)
    rows = _dataset_rows(define, sdtm, _report_records(report))

    intro = [E.H3("Purpose"),
             _p(f"This guide accompanies the SDTM tabulation datasets of study "
                f"{studyid or NOT_PROVIDED}. It describes how the datasets are organised, the "
                "decisions the sponsor recorded in define.xml while mapping the collected data, "
                "the conformance findings that remain with their explanations, and the "
                "collected values that were queried with the sites. It was generated by "
                f"cdisc-pipeline {__version__} from the package itself; where the package does "
                f"not hold an item the guide says \"{NOT_PROVIDED}\"."),
             E.H3("Study data standards and dictionary inventory"), *_standards_part(define)]
    if ts is not None and ts.references:
        intro += [E.H4("References named in the trial summary (TSVCDREF, TSVCDVER)"),
                  _table(["Reference", "Version", "TS parameters"], ts.references,
                         table_id="ts-references")]

    protocol = _protocol_part(study, define, ts, DESIGN_PARAMS)
    protocol.append(E.H3("Trial design datasets"))
    design = [(n, g, r) for n, g, r, _ in rows if n in TRIAL_DESIGN]
    if design:
        protocol.append(_table(["Dataset", "Label", "Records"],
                               [[n, g.label, NOT_PROVIDED if r is None else r]
                                for n, g, r in design], table_id="trial-design"))
    else:
        protocol.append(_missing("Trial design datasets (TA, TE, TI, TS, TV)"))
    ta = sdtm.frame("TA")
    if ta is not None:
        arms = sorted(set(zip(_text_column(ta[0], "ARMCD"), _text_column(ta[0], "ARM"),
                              strict=True)))
        protocol += [E.H4("Planned arms (TA)"),
                     _table(["ARMCD", "ARM"], [list(a) for a in arms], table_id="arms")]

    subject = [_p(f"{len(rows)} SDTM datasets, "
                  f"{sum(r for _, _, r, _ in rows if r is not None)} records in all. Class, "
                  "structure and keys are those of define.xml; the record counts are those of "
                  "the dataset files (as the validator counted them when the report gives "
                  "them).")] if rows else [_missing("SDTM datasets")]
    if rows:
        subject.append(_dataset_table(rows))
        subject.append(E.H3("Sponsor decisions per dataset"))
        if not define.readable:
            subject.append(_missing("Comments and methods (sdtm/define.xml)"))
        for name, g, _, _ in rows:
            block = [E.H4(_clean(f"{name} ({g.label})" if g.label else name))]
            if g.comments:
                block.append(E.UL(*[E.LI(_clean(f"{what}: {text}")) for what, text in g.comments],
                                  **{"class": "comments"}))
            if g.methods:
                block.append(_table(["Variable", "Method type", "Method (define.xml)"],
                                    [list(m) for m in g.methods], cls="methods"))
            if not g.comments and not g.methods:
                block.append(_p("No comment or method is recorded for this dataset in "
                                "define.xml.", cls="not-provided"))
            subject.append(E.DIV(*block, id=f"dataset-{name}", **{"class": "dataset"}))

    conformance = _conformance_section(pkg, report, "sdtm", "SDTM")

    sections = [
        _section("introduction", "1 Introduction", *intro),
        _section("protocol", "2 Protocol description", *protocol),
        _section("subject-data", "3 Subject data description", *subject),
        _section("conformance", "4 Data conformance summary", *conformance),
        _section("data-issues", "5 Data issues", *_data_issues_part(package_dir)),
        _section("appendix", "6 Appendix: files of the package",
                 *_files_part(package_dir, "sdtm")),
    ]
    return _page(f"{studyid}: Clinical Study Data Reviewer's Guide (SDTM)".lstrip(": "),
                 f"Written from the package by cdisc-pipeline {__version__}.", sections)


def _data_issues_part(package_dir: Path) -> list[html.HtmlElement]:
    path = package_dir / "sdtm" / "data_issues.csv"
    if not path.is_file():
        return [_missing("Data issues (sdtm/data_issues.csv)")]
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return [_p(f"sdtm/data_issues.csv could not be read ({exc}).", cls="not-provided")]
    table = list(csv.reader(io.StringIO(text, newline="")))
    if not table:
        return [_missing("Data issues (sdtm/data_issues.csv is empty)")]
    header, body = table[0], [r for r in table[1:] if any(c.strip() for c in r)]
    width = len(header)
    body = [(r + [""] * width)[:width] for r in body]
    parts = [_p(_count(len(body), id="data-issue-count"),
                " collected values were queried with the sites (sdtm/data_issues.csv): each "
                "row gives the raw file and row, the subject, the SDTM variables concerned, the "
                "value as collected, what is wrong with it and the query sent.")]
    if body:
        parts.append(_table(header, body, table_id="data-issues-table", cls="data-issues"))
    return parts


# --- ADRG ----------------------------------------------------------------------------------------

def _populations_part(adam_cfg: dict, define: DefineInfo, adam: _Folder
                      ) -> list[html.HtmlElement]:
    adsl = define.group("ADSL") if define.readable else None
    got = adam.frame("ADSL", adsl.href if adsl else "")
    flags: list[str] = []
    if adsl is not None:
        flags = [v for v, _, _ in adsl.methods if POPULATION_FLAG.match(v)]
    if got is not None:
        configured = set((adam_cfg.get("populations") or {}) if isinstance(adam_cfg, dict)
                         else ())
        flags += [c for c in got[0].columns if (POPULATION_FLAG.match(c) or c in configured)
                  and c not in flags]
    parts = []
    if not flags:
        parts.append(_missing("ADSL population flags"))
    else:
        rows = []
        for flag in flags:
            method = next((m for v, _, m in (adsl.methods if adsl else []) if v == flag), "")
            key = f"populations.{flag}"
            settings = [f"{key}: {_plain(_get(adam_cfg, key))}"] \
                if _get(adam_cfg, key) is not None else []
            yes = (sum(1 for v in _text_column(got[0], flag) if v == "Y")
                   if got is not None and flag in got[0].columns else None)
            rows.append([flag, method or f"definition {NOT_PROVIDED} in adam/define.xml",
                         "; ".join(settings) or "the ADaM configuration states nothing for "
                         "this flag", NOT_PROVIDED if yes is None else yes,
                         NOT_PROVIDED if got is None else len(got[0])])
        parts.append(_table(["Flag", "Definition (adam/define.xml)", "ADaM configuration",
                             "Subjects with Y", "Subjects in ADSL"], rows,
                            table_id="populations"))
    pops = adam_cfg.get("populations") if isinstance(adam_cfg, dict) else None
    if isinstance(pops, dict) and pops:
        parts.append(_p("Population settings of the ADaM configuration: "
                        + "; ".join(f"populations.{k} = {_plain(v)}" for k, v in pops.items())
                        + "."))
    return parts


def _treatment_part(adam_cfg: dict) -> list[html.HtmlElement]:
    treatment = adam_cfg.get("treatment")
    if not isinstance(treatment, dict):
        return [_missing("Study treatment (adam.yaml treatment)")]
    rows = []
    if "name" in treatment:
        rows.append(["treatment.name", "TRT01P/TRT01A of treated subjects",
                     _plain(treatment["name"])])
    spec = treatment.get("exposure")
    if isinstance(spec, dict):
        rows.append(["treatment.exposure", "first/last dose (TRTSDT(M), TRTEDT(M))",
                     f"{spec.get('dataset', NOT_PROVIDED)} where "
                     f"{_filter_text(spec.get('where'))}"])
    for key in sorted(set(treatment) - {"name", "exposure"}):
        rows.append([f"treatment.{key}", "", _plain(treatment[key])])
    return [_table(["Setting", "Used for", "Value"], rows, table_id="treatment")]


def _adrs_part(adam_cfg: dict, define: DefineInfo, adam: _Folder) -> list[html.HtmlElement]:
    group = define.group("ADRS") if define.readable else None
    got = adam.frame("ADRS", group.href if group else "")
    response = adam_cfg.get("response") if isinstance(adam_cfg, dict) else None
    if got is None:
        return [_missing("ADRS (adam/adrs.xpt)")]
    df = got[0]
    codes, labels = _text_column(df, "PARAMCD"), _text_column(df, "PARAM")
    seen: dict[str, list] = {}
    for code, label in zip(codes, labels, strict=True):
        seen.setdefault(code, [label, 0])[1] += 1
    rows = []
    for code, (label, n) in seen.items():
        subject = isinstance(response, dict) and code in (response.get("subject_parameters")
                                                          or {})
        keys = (f"response.subject_parameters.{code}", *SUBJECT_PARAMETER_SETTINGS) \
            if subject else ASSESSMENT_SETTINGS if isinstance(response, dict) and code == \
            response.get("paramcd", "OVR") else ()
        text = "; ".join(f"{k} = {_describe_setting(k, _get(adam_cfg, k))}" for k in keys
                         if _get(adam_cfg, k) is not None)
        rows.append([code, label, n, text or "the ADaM configuration does not describe this "
                     "parameter"])
    parts = [_table(["PARAMCD", "PARAM", "Records", "Derived from (ADaM configuration)"], rows,
                    table_id="adrs-parameters")]
    if not isinstance(response, dict):
        parts.append(_missing("Response settings (adam.yaml response)"))
    flags = [(v, m) for v, _, m in (group.methods if group else []) if v.startswith("ANL")]
    if flags:
        parts.append(_p("Records used by the derived parameters, as adam/define.xml defines "
                        "them:"))
        parts.append(E.UL(*[E.LI(_clean(f"{v}: {m}")) for v, m in flags]))
    return parts


def _describe_setting(key: str, value: object) -> str:
    if key.endswith(".where"):
        return _filter_text(value)
    if key.endswith(".hierarchy") and isinstance(value, list):
        return f"{_plain(value)} (best first)"
    return _plain(value)


def _source_text(src: dict) -> tuple[str, str]:
    """(source, condition) of an event or censoring source of adam.yaml."""
    kind = str(src.get("source", src.get("dataset", "")) or NOT_PROVIDED)
    condition = []
    if src.get("date"):
        condition.append(f"date {src['date']}")
    if src.get("where"):
        condition.append(f"records where {_filter_text(src['where'])}")
    if kind.upper() == "START":
        condition.append("the start date itself")
    return kind, "; ".join(condition)


def _adtte_part(adam_cfg: dict, define: DefineInfo, adam: _Folder) -> list[html.HtmlElement]:
    group = define.group("ADTTE") if define.readable else None
    got = adam.frame("ADTTE", group.href if group else "")
    params = adam_cfg.get("parameters") if isinstance(adam_cfg, dict) else None
    params = params if isinstance(params, dict) else {}
    observed: dict[str, Counter] = {}
    labels: dict[str, str] = {}
    if got is not None:
        df = got[0]
        cnsr = [_plain(v) for v in (df["CNSR"].tolist() if "CNSR" in df.columns
                                    else [""] * len(df))]
        for code, label, c, ev, cn in zip(_text_column(df, "PARAMCD"), _text_column(df, "PARAM"),
                                          cnsr, _text_column(df, "EVNTDESC"),
                                          _text_column(df, "CNSDTDSC"), strict=True):
            observed.setdefault(code, Counter())[(c, ev or cn)] += 1
            labels.setdefault(code, label)
    if got is None and not params:
        return [_missing("ADTTE (adam/adtte.xpt) and the time-to-event parameters of the ADaM "
                         "configuration")]
    parts = [_p("Each subject with a start date gets one record per parameter: the earliest "
                "event on or after the start date (CNSR = 0, EVNTDESC from the event source); "
                "without an event, the latest censoring date (CNSR and CNSDTDSC from the "
                "censoring source). A 'censor at' date on or after the start ends the window: "
                "events and censoring dates after it are not used and a subject censored after "
                "it takes that entry's CNSR and description. AVAL = ADT - STARTDT + 1 (days). "
                "This is how cdisc's ADTTE derivation applies the sources listed below.")]
    if got is None:
        parts.append(_missing("ADTTE records (adam/adtte.xpt)"))
    codes = list(observed) + [c for c in params if c not in observed]
    for code in codes:
        spec = params.get(code)
        title = f"{code}: {labels.get(code) or (spec or {}).get('param') or ''}".rstrip(": ")
        block: list[html.HtmlElement] = [E.H4(_clean(title))]
        if not isinstance(spec, dict):
            block.append(_p(f"{code} is in ADTTE but the ADaM configuration does not describe "
                            "it: its derivation is not provided here.", cls="not-provided"))
        else:
            rows = [["start", _plain(spec.get("start")) or NOT_PROVIDED,
                     "STARTDT (ADSL variable named by the configuration)", "", ""]]
            for src in spec.get("events") or []:
                if isinstance(src, dict):
                    kind, cond = _source_text(src)
                    rows.append(["event", kind, cond, "0", _plain(src.get("description"))])
            for src in spec.get("censors") or []:
                if isinstance(src, dict):
                    kind, cond = _source_text(src)
                    rows.append(["censoring", kind, cond, _plain(src.get("cnsr")),
                                 _plain(src.get("description"))])
            for src in spec.get("censor_at") or []:
                if isinstance(src, dict):
                    rows.append(["censor at", "ADSL", f"date {_plain(src.get('date'))}",
                                 _plain(src.get("cnsr")), _plain(src.get("description"))])
            block.append(_table(["Role", "Source", "Condition", "CNSR",
                                 "EVNTDESC / CNSDTDSC"], rows, table_id=f"tte-{code}",
                                cls="tte"))
        if code in observed:
            configured = {"0"} | ({_plain(s.get("cnsr")) for s in
                                   [*(spec or {}).get("censors", []),
                                    *(spec or {}).get("censor_at", [])] if isinstance(s, dict)}
                                  if isinstance(spec, dict) else set())
            orows = [[c, text, n, "" if c in configured else "CNSR not in the ADaM configuration"]
                     for (c, text), n in sorted(observed[code].items())]
            block.append(_table(["CNSR", "EVNTDESC / CNSDTDSC", "Records", "Note"], orows,
                                table_id=f"tte-{code}-observed", cls="tte-observed"))
        else:
            block.append(_p(f"{code} is configured but ADTTE has no record of it.",
                            cls="not-provided"))
        parts.append(E.DIV(*block, id=f"parameter-{code}", **{"class": "parameter"}))
    return parts


def _analyses_part(adam_cfg: dict) -> list[html.HtmlElement]:
    entries = [a for a in (adam_cfg.get("analyses") or []) if isinstance(a, dict)]
    if not entries:
        return [_missing("Analysis results (adam.yaml analyses)")]
    rows = [[a.get("id"), a.get("display"), " ".join(_plain(a.get("title")).split()),
             a.get("purpose"), a.get("reason"), a.get("dataset"), a.get("parameter"),
             _filter_text(a.get("where")), a.get("variables"),
             " ".join(_plain(a.get("method")).split())] for a in entries]
    return [_table(["ID", "Display", "Title", "Purpose", "Reason", "Dataset", "PARAMCD",
                    "Records besides PARAMCD", "Variables", "Method"], rows,
                   table_id="analyses")]


def _imputation_part(adam_cfg: dict) -> list[html.HtmlElement]:
    death = adam_cfg.get("death") if isinstance(adam_cfg, dict) else None
    rows = []
    if isinstance(death, dict):
        if "impute" in death:
            how = _plain(death["impute"])
            rows.append(["death.impute", "partial death date (DM.DTHDTC) to DTHDT",
                         how + (f": {DEATH_IMPUTATION[how]}" if how in DEATH_IMPUTATION else "")])
        if "never_before" in death:
            rows.append(["death.never_before", "lower bound of an imputed death date",
                         _plain(death["never_before"])])
        for key in sorted(set(death) - {"impute", "never_before"}):
            rows.append([f"death.{key}", "", _plain(death[key])])
    parts = []
    if rows:
        parts.append(_table(["Setting", "Applies to", "Rule"], rows, table_id="imputation"))
    else:
        parts.append(_p("The ADaM configuration states no imputation rule.", cls="not-provided"))
    parts.append(_p("The ADaM configuration states no other imputation rule."))
    return parts


def _other_settings_part(adam_cfg: dict) -> list[html.HtmlElement]:
    rows = []
    for n, g in enumerate(adam_cfg.get("age_groups") or [], start=1):
        if isinstance(g, dict):
            bounds = [f"from {g['min']}" if "min" in g else "", f"to {g['max']}"
                      if "max" in g else ""]
            rows.append([f"age_groups[{n}]", "AGEGR1 / AGEGR1N",
                         f"{_plain(g.get('label'))}: age {' '.join(b for b in bounds if b)}"])
    for n, src in enumerate(adam_cfg.get("alive_evidence") or [], start=1):
        if isinstance(src, dict):
            rows.append([f"alive_evidence[{n}]", "LSTALVDT (latest of these dates)",
                         f"{_plain(src.get('dataset'))}.{_plain(src.get('date'))}"
                         + (f" where {_filter_text(src['where'])}" if src.get("where") else "")])
    for name, spec in (adam_cfg.get("first_dates") or {}).items():
        if isinstance(spec, dict):
            rows.append([f"first_dates.{name}", name,
                         f"{_plain(spec.get('dataset'))}.{_plain(spec.get('date'))} where "
                         f"{_filter_text(spec.get('where'))}"])
    for name, spec in (adam_cfg.get("intercurrent") or {}).items():
        if isinstance(spec, dict):
            rows.append([f"intercurrent.{name}", name,
                         f"{_plain(spec.get('dataset'))}.{_plain(spec.get('date'))} where "
                         f"{_filter_text(spec.get('where'))}"])
    eos = adam_cfg.get("end_of_study")
    if isinstance(eos, dict):
        rows.append(["end_of_study", "EOSSTT / DCSREAS",
                     f"records where {_filter_text(eos.get('where'))}; completed = "
                     f"{_plain(eos.get('completed'))} (the dataset is not named in the "
                     "configuration)"])
    if not rows:
        return [_missing("Other ADSL settings")]
    return [_table(["Setting", "Derives", "Value"], rows, table_id="adsl-settings")]


def _dependencies(adam_cfg: dict, define: DefineInfo, names: list[str], known: set[str]
                  ) -> dict[str, dict[str, list[str]]]:
    """ADaM dataset -> source dataset -> the evidence that names it."""
    deps: dict[str, dict[str, list[str]]] = {n: {} for n in names}

    def add(target: str, source: str, evidence: str) -> None:
        source = str(source or "").strip().upper()
        if target in deps and source and source not in ("START", target):
            found = deps[target].setdefault(source, [])
            if evidence not in found:
                found.append(evidence)

    if define.readable:
        for g in define.groups:
            for source, variables in g.predecessors.items():
                add(g.name, source, f"adam/define.xml: Predecessor origin of "
                                    f"{', '.join(variables)}")
            for source, variables in g.mentions.items():
                if source in known:
                    add(g.name, source, f"adam/define.xml: method of {', '.join(variables)}")
    cfg = adam_cfg if isinstance(adam_cfg, dict) else {}
    treatment = cfg.get("treatment") or {}
    spec = treatment.get("exposure") if isinstance(treatment, dict) else None
    if isinstance(spec, dict):
        add("ADSL", spec.get("dataset"), "adam.yaml: treatment.exposure")
    for name, spec in (cfg.get("first_dates") or {}).items():
        if isinstance(spec, dict):
            add("ADSL", spec.get("dataset"), f"adam.yaml: first_dates.{name}")
    for src in cfg.get("alive_evidence") or []:
        if isinstance(src, dict):
            add("ADSL", src.get("dataset"), "adam.yaml: alive_evidence")
    for name, spec in (cfg.get("intercurrent") or {}).items():
        if isinstance(spec, dict):
            add("ADSL", spec.get("dataset"), f"adam.yaml: intercurrent.{name}")
    response = cfg.get("response")
    if isinstance(response, dict) and response.get("dataset"):
        add("ADRS", response["dataset"], "adam.yaml: response.dataset")
        for flag, rule in (cfg.get("populations") or {}).items():
            if isinstance(rule, dict) and rule.get("assessed_after"):
                add("ADSL", response["dataset"],
                    f"adam.yaml: populations.{flag}.assessed_after (response.dataset)")
    for code, spec in (cfg.get("parameters") or {}).items():
        if not isinstance(spec, dict):
            continue
        for role in ("events", "censors"):
            for src in spec.get(role) or []:
                if isinstance(src, dict):
                    add("ADTTE", src.get("source", src.get("dataset")),
                        f"adam.yaml: parameters.{code}.{role}")
    return deps


def build_adrg(package_dir: Path, adam_config: dict, report: dict, *,
               waivers: list[dict] | None = None) -> bytes:
    """The Analysis Data Reviewer's Guide of package_dir/adam, as UTF-8 HTML bytes."""
    package_dir = Path(package_dir)
    cfg = _as_dict(adam_config)
    pkg = _read_package(package_dir, report, waivers)
    adam, sdtm_define, define, ts = pkg.adam, pkg.sdtm_define, pkg.adam_define, pkg.ts
    sdtm_names, adam_names = pkg.sdtm_names, pkg.adam_names
    studyid = define.study_name or sdtm_define.study_name
    rows = _dataset_rows(define, adam, _report_records(report))
    no_cfg = [] if cfg else [_missing("The ADaM configuration (adam.yaml)")]

    intro = [E.H3("Purpose"),
             _p(f"This guide accompanies the ADaM analysis datasets of study "
                f"{studyid or NOT_PROVIDED}: the analysis populations, how each endpoint is "
                "derived, which datasets each analysis dataset is built from, and the "
                "conformance findings that remain with their explanations. It was generated by "
                f"cdisc-pipeline {__version__} from the package and the ADaM configuration; "
                f"where they do not hold an item the guide says \"{NOT_PROVIDED}\"."),
             E.H3("Study data standards"), *_standards_part(define)]
    sdtm_std = [s for s in sdtm_define.standards if s[1] == "IG"]
    if sdtm_std:
        intro.append(_p("The SDTM datasets the analysis datasets are derived from follow "
                        + ", ".join(f"{s[0]} {s[3]}" for s in sdtm_std) + " (sdtm/define.xml)."))

    protocol = _protocol_part({"study": {"protocol": sdtm_define.protocol or define.protocol,
                                         "studyid": studyid,
                                         "description": define.description
                                         or sdtm_define.description}},
                              define, ts, SHORT_DESIGN)

    analysis = [*no_cfg, E.H3("Analysis populations"), *_populations_part(cfg, define, adam),
                E.H3("Study treatment"), *_treatment_part(cfg),
                E.H3("Response endpoints (ADRS)"), *_adrs_part(cfg, define, adam),
                E.H3("Time-to-event endpoints (ADTTE)"), *_adtte_part(cfg, define, adam),
                E.H3("Analyses of the endpoints"), *_analyses_part(cfg),
                E.H3("Imputation"), *_imputation_part(cfg),
                E.H3("Other ADSL derivations configured"), *_other_settings_part(cfg)]

    dependencies: list[html.HtmlElement] = []
    if rows:
        dependencies += [_p(f"{len(rows)} ADaM datasets, "
                            f"{sum(r for _, _, r, _ in rows if r is not None)} records in all."),
                         _dataset_table(rows)]
        deps = _dependencies(cfg, define, [n for n, _, _, _ in rows],
                             sdtm_names | adam_names)
        drows = [[target, source, "; ".join(evidence)]
                 for target in deps for source, evidence in sorted(deps[target].items())]
        for target in deps:
            if not deps[target]:
                drows.append([target, NOT_PROVIDED, "neither adam/define.xml nor the ADaM "
                              "configuration names a source dataset"])
        dependencies += [E.H3("Data dependencies"),
                         _p("Each analysis dataset and the datasets it is built from, with "
                            "where the package states it."),
                         _table(["ADaM dataset", "Built from", "Stated in"], drows,
                                table_id="data-dependencies")]
    else:
        dependencies.append(_missing("ADaM datasets"))

    conformance = _conformance_section(pkg, report, "adam", "ADaM")
    sections = [
        _section("introduction", "1 Introduction", *intro),
        _section("protocol", "2 Protocol description", *protocol),
        _section("analysis", "3 Analysis considerations", *analysis),
        _section("dependencies", "4 Analysis data description and dependencies",
                 *dependencies),
        _section("conformance", "5 ADaM conformance summary", *conformance),
        _section("appendix", "6 Appendix: files of the package",
                 *_files_part(package_dir, "adam")),
    ]
    return _page(f"{studyid}: Analysis Data Reviewer's Guide (ADaM)".lstrip(": "),
                 f"Written from the package by cdisc-pipeline {__version__}.", sections)


# --- writing -------------------------------------------------------------------------------------

def write_reviewers_guides(package_dir: Path, study_config: dict, adam_config: dict | None,
                           report: dict, waivers: list[dict] | None = None) -> list[Path]:
    """sdtm/csdrg.html and, when package_dir/adam exists, adam/adrg.html; the paths written."""
    package_dir = Path(package_dir)
    written = []
    target = package_dir / "sdtm" / GUIDE_FILES["sdtm"]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(build_csdrg(package_dir, study_config, report, waivers=waivers))
    written.append(target)
    if (package_dir / "adam").is_dir():
        target = package_dir / "adam" / GUIDE_FILES["adam"]
        target.write_bytes(build_adrg(package_dir, adam_config or {}, report, waivers=waivers))
        written.append(target)
    return written
