"""Define-XML 2.1 from the datasets written and specs/ (standards, codelists).

One ItemGroupDef per dataset, one ItemDef per variable, a CodeList per codelist used (only the
terms present in the data; values outside an extensible CDISC codelist are marked
def:ExtendedValue="Yes"), a MethodDef per derivation, def:leaf per dataset file. Element order
follows the ODM 1.3.2 / Define-XML 2.1 schemas; output is deterministic (no clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from lxml import etree

from cdisc import __version__
from cdisc.datatypes import type_info
from cdisc.define_vlm import (FINDINGS_CLASSES, ValueList, WhereClause, define_rules,
                              value_type)
from cdisc.define_vlm import value_lists as value_lists_of
from cdisc.column_codes import FrameCodes
from cdisc.io.xpt import XptPart
from cdisc.model import Column, Dataset, Origin, SponsorCodelist
from cdisc.specs import Specs
from cdisc.xmlsafe import parse_untrusted, safe_parser  # rules.py, define_html.py use it

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ARM_NS = "http://www.cdisc.org/ns/arm/v1.0"
NSMAP = {None: ODM_NS, "def": DEF_NS, "xlink": XLINK_NS}
# how each analysis result's code is run (ARM ProgrammingCode Context)
CODE_CONTEXT = "Python 3 (cdisc-pipeline)"

# SDTMIG class names -> Define-XML def:Class values
CLASS_NAMES = {"Special-Purpose": "SPECIAL PURPOSE", "Interventions": "INTERVENTIONS",
               "Events": "EVENTS", "Findings": "FINDINGS", "Findings About": "FINDINGS ABOUT",
               "Relationship": "RELATIONSHIP", "Trial Design": "TRIAL DESIGN"}
ONE_RECORD_PER_SUBJECT = ("DM", "ADSL")


@dataclass(frozen=True)
class Dictionary:
    """An external dictionary the study codes with (MedDRA, ISO 3166): def ExternalCodeList."""

    name: str  # e.g. "MedDRA"
    version: str
    variables: tuple[str, ...]  # "AEDECOD" (any dataset) or "DM.COUNTRY"
    href: str = ""

    def covers(self, dataset: str, variable: str) -> bool:
        return variable in self.variables or f"{dataset}.{variable}" in self.variables


@dataclass(frozen=True)
class Document:
    """A document define.xml points at: the annotated CRF or a supplemental document."""

    leaf_id: str  # e.g. "LF.CSDRG"
    href: str  # relative to define.xml
    title: str
    kind: str = "supplemental"  # "annotated_crf" or "supplemental"


@dataclass(frozen=True)
class StudyInfo:
    study_oid: str
    study_name: str
    description: str
    protocol_name: str
    dictionaries: tuple[Dictionary, ...] = ()
    documents: tuple[Document, ...] = ()
    # raw file name -> Define Source of what was collected on it (Investigator, Vendor, ...)
    providers: tuple[tuple[str, str], ...] = ()


def metadata_version_oid(study_oid: str, adam: bool = False) -> str:
    """The MetaDataVersion OID that define.xml and Dataset-JSON files share."""
    return f"MDV.{study_oid}.{'ADAM' if adam else 'SDTM'}"


def _odm(tag: str) -> str:
    return f"{{{ODM_NS}}}{tag}"


def _def(tag: str) -> str:
    return f"{{{DEF_NS}}}{tag}"


def _description(parent: etree._Element, text: str) -> None:
    desc = etree.SubElement(parent, _odm("Description"))
    tt = etree.SubElement(desc, _odm("TranslatedText"))
    tt.set(XML_LANG, "en")
    tt.text = text


def _standards(datasets: list[Dataset], specs: Specs) -> dict[str, dict[str, str]]:
    """OID -> attributes of each standard referenced (the IGs used and their CT packages)."""
    std = specs.standards
    out: dict[str, dict[str, str]] = {}
    kinds = sorted({ds.standard for ds in datasets})
    for kind in kinds:
        if kind == "ADaMIG":
            out["STD.ADAMIG"] = {"Name": "ADaMIG", "Type": "IG", "Version": std["adam"]["version"],
                                 "Status": "Final"}
            out["STD.CT.ADAM"] = {"Name": "CDISC/NCI", "Type": "CT", "PublishingSet": "ADaM",
                                  "Version": std["ct"]["adam"], "Status": "Final"}
        else:
            out["STD.SDTMIG"] = {"Name": "SDTMIG", "Type": "IG", "Version": std["sdtm"]["version"],
                                 "Status": "Final"}
        out["STD.CT.SDTM"] = {"Name": "CDISC/NCI", "Type": "CT", "PublishingSet": "SDTM",
                              "Version": std["ct"]["sdtm"], "Status": "Final"}
    return out


def _class_name(ds: Dataset) -> str:
    return CLASS_NAMES.get(ds.dataset_class, ds.dataset_class.upper())


@dataclass
class _CodeListUse:
    code: str
    values: set[str]
    sponsor: SponsorCodelist | None = None


def _is_result(ds: Dataset, col: Column, roles: dict[str, str]) -> bool:
    """A result variable: described per test in the value-level metadata, no codelist here."""
    return roles.get(col.name, "") in define_rules()["result_roles"] and \
        ds.dataset_class.upper() in FINDINGS_CLASSES


def _variable_codelist(ds: Dataset, col: Column, roles: dict[str, str],
                       dictionaries: tuple[Dictionary, ...]) -> str | SponsorCodelist | None:
    """The codelist a variable's ItemDef references (a CT C-code or the sponsor's; None: no
    CodeListRef)."""
    if isinstance(col.codelist, SponsorCodelist):
        return col.codelist
    if not col.codelist or col.type != "Char" or _is_result(ds, col, roles):
        return None
    if any(d.covers(ds.name, col.name) for d in dictionaries):
        return None
    return col.codelist


def _codelists_used(datasets: list[Dataset], roles: dict[str, dict[str, str]],
                    value_lists: dict[str, list[ValueList]],
                    dictionaries: tuple[Dictionary, ...],
                    codes: dict[str, FrameCodes] | None = None) -> dict[str, _CodeListUse]:
    """Codelist C-code (or sponsor codelist OID) -> the union of values used by every
    variable and value description bound to it. codes: each dataset's FrameCodes, when
    kept."""
    used: dict[str, _CodeListUse] = {}

    def add(code: str | SponsorCodelist, values: pd.Series) -> None:
        if isinstance(code, SponsorCodelist):  # its items are declared, not observed
            used.setdefault(code.oid, _CodeListUse(code.oid, set(), code))
            return
        present = {str(v) for v in pd.unique(values)} - {"", "nan"}
        used.setdefault(code, _CodeListUse(code, set())).values |= present

    for ds in datasets:
        found = (codes or {}).get(ds.name) or FrameCodes(ds.data)
        for col in ds.columns:
            code = _variable_codelist(ds, col, roles[ds.name], dictionaries)
            if code:
                add(code, found.distinct(col.name))
        for vl in value_lists.get(ds.name, []):
            for item in vl.items:
                if item.codelist:
                    add(item.codelist, item.occurring())
    # a CodeList needs at least one item: a variable with no values gets no CodeListRef
    return {code: use for code, use in used.items() if use.values or use.sponsor}


def _codelist_oid(specs: Specs, code: str | SponsorCodelist) -> str:
    if isinstance(code, SponsorCodelist):
        return code.oid
    return f"CL.{specs.codelists[code].short_name}"


def _key(code: str | SponsorCodelist | None) -> str | None:
    return code.oid if isinstance(code, SponsorCodelist) else code


def _dictionary_oid(dictionary: Dictionary) -> str:
    return "CL." + "".join(ch if ch.isalnum() else "_" for ch in dictionary.name).upper()


def _method_oid(ds: Dataset, col: Column) -> str:
    return f"MT.{ds.name}.{col.name}"


def _comment_oids(datasets: list[Dataset]) -> dict[tuple[str, str], str]:
    """(dataset, variable) -> its CommentDef OID; one comment said of several variables of one
    name (EPOCH in every domain) is one CommentDef, COM.EPOCH."""
    by_text: dict[str, list[tuple[str, str]]] = {}
    for ds in datasets:
        for col in ds.columns:
            if col.comment:
                by_text.setdefault(col.comment, []).append((ds.name, col.name))
    out = {}
    for users in by_text.values():
        names = {name for _, name in users}
        oid = f"COM.{users[0][1]}" if len(users) > 1 and len(names) == 1 else \
            f"COM.{users[0][0]}.{users[0][1]}"
        out.update({user: oid for user in users})
    return out


def _terms(specs: Specs) -> dict[str, set[str]]:
    return {code: set(cl.terms) for code, cl in specs.codelists.items()}


def build_define(datasets: list[Dataset], specs: Specs, study: StudyInfo, *,
                 creation_datetime: str, context: str = "Submission",
                 parts: dict[str, list[XptPart]] | None = None,
                 analyses: tuple = ()) -> bytes:
    """Define-XML 2.1 for the datasets; `parts` lists the numbered files of split datasets;
    `analyses` (cdisc.adam.config.Analysis) become Analysis Results Metadata."""
    datasets = sorted(datasets, key=lambda d: d.name)
    standards = _standards(datasets, specs)
    roles = {ds.name: _roles(ds, specs) for ds in datasets}
    providers = dict(study.providers)
    terms = _terms(specs)
    # each column's distinct values, found once for all that depends on which values occur
    codes = {ds.name: FrameCodes(ds.data) for ds in datasets}
    value_lists = {}
    for ds in datasets:
        value_lists[ds.name] = value_lists_of(ds, providers, terms, codes[ds.name])
        codes[ds.name].drop_codes()  # the rows' codes: only the value lists needed them
    used = _codelists_used(datasets, roles, value_lists, study.dictionaries, codes)
    dictionaries = [d for d in study.dictionaries
                    if any(d.covers(ds.name, c.name) for ds in datasets for c in ds.columns)]

    names = {ds.name for ds in datasets}
    analyses = tuple(a for a in analyses if a.dataset in names)
    root = etree.Element(_odm("ODM"), nsmap={**NSMAP, "arm": ARM_NS} if analyses else NSMAP)
    for key, value in (("FileType", "Snapshot"), ("FileOID", f"DEF.{study.study_oid}"),
                       ("CreationDateTime", creation_datetime), ("ODMVersion", "1.3.2"),
                       ("Originator", "cdisc-pipeline"), ("SourceSystem", "cdisc-pipeline"),
                       ("SourceSystemVersion", __version__)):
        root.set(key, value)
    root.set(_def("Context"), context)
    study_el = etree.SubElement(root, _odm("Study"), OID=study.study_oid)
    gv = etree.SubElement(study_el, _odm("GlobalVariables"))
    for tag, text in (("StudyName", study.study_name), ("StudyDescription", study.description),
                      ("ProtocolName", study.protocol_name)):
        etree.SubElement(gv, _odm(tag)).text = text
    is_adam = all(ds.standard == "ADaMIG" for ds in datasets)
    mdv = etree.SubElement(study_el, _odm("MetaDataVersion"),
                           OID=metadata_version_oid(study.study_oid, is_adam),
                           Name=f"{study.study_name} {'ADaM' if is_adam else 'SDTM'} metadata",
                           Description=f"Define-XML for {study.study_name}")
    mdv.set(_def("DefineVersion"), "2.1.0")
    stds = etree.SubElement(mdv, _def("Standards"))
    for oid, attrs in standards.items():
        el = etree.SubElement(stds, _def("Standard"), OID=oid)
        for key in ("Name", "Type", "PublishingSet", "Version", "Status"):
            if key in attrs:
                el.set(key, attrs[key])
    _documents(mdv, study.documents)
    lengths = {ds.name: codes[ds.name].lengths(ds.columns) for ds in datasets}
    for ds in datasets:
        for vl in value_lists[ds.name]:
            _value_list(mdv, vl, roles[ds.name])
    for ds in datasets:
        clauses = {item.where.oid: item.where for vl in value_lists[ds.name]
                   for item in vl.items}
        for where in clauses.values():
            _where_clause(mdv, ds, where)
    for analysis in analyses:
        _where_clause(mdv, next(ds for ds in datasets if ds.name == analysis.dataset),
                      _analysis_where(analysis))
    for ds in datasets:
        _item_group(mdv, ds, standards, roles=roles[ds.name])
        for part in (parts or {}).get(ds.name, []):
            _item_group(mdv, ds, standards, part, roles=roles[ds.name])
    listed = {ds.name: {vl.variable: vl for vl in value_lists[ds.name]} for ds in datasets}
    comment_oids = _comment_oids(datasets)
    for ds in datasets:
        for col in ds.columns:
            codelist = _variable_codelist(ds, col, roles[ds.name], study.dictionaries)
            dictionary = next((d for d in study.dictionaries if d.covers(ds.name, col.name)
                               and col.type == "Char"), None)  # a text dictionary
            # the type follows from which values occur
            values = codes[ds.name].cells(col.name) if col.type == "Char" else \
                codes[ds.name].numbers(col.name)
            _item_def(mdv, ds, col, _TypeOf(col, values, lengths[ds.name][col.name]),
                      specs, codelist if _key(codelist) in used else None, dictionary,
                      listed[ds.name].get(col.name),
                      comment_oid=comment_oids.get((ds.name, col.name)))
    for ds in datasets:
        for vl in value_lists[ds.name]:
            for item in vl.items:
                data_type, length, digits = value_type(item, lengths[ds.name][vl.variable])
                _item_def(mdv, ds, item.column, _TypeOf(item.column, item.occurring(),
                                                        length or 1, (data_type, length, digits)),
                          specs, item.codelist if _key(item.codelist) in used else None,
                          None, None, oid=item.oid, name=item.name, sas_name=None)
    for use in sorted(used.values(), key=lambda u: _codelist_oid(specs, u.sponsor or u.code)):
        if use.sponsor is not None:
            _sponsor_codelist(mdv, use.sponsor)
        else:
            _codelist(mdv, specs, use, standards)
    for dictionary in sorted(dictionaries, key=_dictionary_oid):
        _external_codelist(mdv, dictionary)
    for ds in datasets:
        for col in ds.columns:
            if col.method:
                method = etree.SubElement(mdv, _odm("MethodDef"), OID=_method_oid(ds, col),
                                          Name=f"Algorithm for {ds.name}.{col.name}",
                                          Type="Computation")
                _description(method, col.method)
        for vl in value_lists[ds.name]:
            for item in vl.items:
                oid = _value_method_oid(vl, item)
                if item.column.method and oid != f"MT.{vl.dataset}.{vl.variable}":
                    method = etree.SubElement(mdv, _odm("MethodDef"), OID=oid,
                                              Name=f"Algorithm for {item.oid[3:]}",
                                              Type="Computation")
                    _description(method, item.column.method)
    written = set()
    for ds in datasets:
        for col in ds.columns:
            oid = comment_oids.get((ds.name, col.name))
            if oid and oid not in written:
                written.add(oid)
                comment = etree.SubElement(mdv, _def("CommentDef"), OID=oid)
                _description(comment, col.comment)
    for doc in study.documents:
        leaf = etree.SubElement(mdv, _def("leaf"), ID=doc.leaf_id)
        leaf.set(f"{{{XLINK_NS}}}href", doc.href)
        etree.SubElement(leaf, _def("title")).text = doc.title
    if analyses:
        _analysis_results(mdv, analyses)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _arm(tag: str) -> str:
    return f"{{{ARM_NS}}}{tag}"


def _analysis_where(analysis) -> WhereClause:  # type: ignore[no-untyped-def]
    """The records an analysis reads: its parameter and any further filter."""
    return WhereClause(f"WC.AR.{analysis.id}", (("PARAMCD", analysis.parameter),
                                                *analysis.where))


def _analysis_results(mdv: etree._Element, analyses: tuple) -> None:
    """Analysis Results Metadata 1.0: one result display per analysis."""
    displays = etree.SubElement(mdv, _arm("AnalysisResultDisplays"))
    for a in analyses:
        display = etree.SubElement(displays, _arm("ResultDisplay"), OID=f"RD.{a.id}",
                                   Name=a.display)
        _description(display, a.title)
        result = etree.SubElement(display, _arm("AnalysisResult"), OID=f"AR.{a.id}",
                                  ParameterOID=f"IT.{a.dataset}.PARAMCD",
                                  AnalysisReason=a.reason, AnalysisPurpose=a.purpose)
        _description(result, a.title)
        sets = etree.SubElement(result, _arm("AnalysisDatasets"))
        used = etree.SubElement(sets, _arm("AnalysisDataset"), ItemGroupOID=f"IG.{a.dataset}")
        etree.SubElement(used, _def("WhereClauseRef"), WhereClauseOID=f"WC.AR.{a.id}")
        for variable in a.variables:
            etree.SubElement(used, _arm("AnalysisVariable"), ItemOID=f"IT.{a.dataset}.{variable}")
        documentation = etree.SubElement(result, _arm("Documentation"))
        _description(documentation, a.method)
        if a.code:
            code = etree.SubElement(result, _arm("ProgrammingCode"), Context=CODE_CONTEXT)
            etree.SubElement(code, _arm("Code")).text = a.code


def _documents(mdv: etree._Element, documents: tuple[Document, ...]) -> None:
    """def:AnnotatedCRF and def:SupplementalDoc (their def:leaf elements close the MDV)."""
    for kind, tag in (("annotated_crf", "AnnotatedCRF"), ("supplemental", "SupplementalDoc")):
        docs = [d for d in documents if d.kind == kind]
        if docs:
            el = etree.SubElement(mdv, _def(tag))
            for doc in docs:
                etree.SubElement(el, _def("DocumentRef"), leafID=doc.leaf_id)


def _value_list(mdv: etree._Element, vl: ValueList, roles: dict[str, str]) -> None:
    el = etree.SubElement(mdv, _def("ValueListDef"), OID=vl.oid)
    for order, item in enumerate(vl.items, start=1):
        ref = etree.SubElement(el, _odm("ItemRef"), ItemOID=item.oid, OrderNumber=str(order),
                               Mandatory="No")
        if item.column.method:
            ref.set("MethodOID", _value_method_oid(vl, item))
        etree.SubElement(ref, _def("WhereClauseRef"), WhereClauseOID=item.where.oid)


def _value_method_oid(vl: ValueList, item) -> str:  # type: ignore[no-untyped-def]
    """A value with a derivation of its own has its own MethodDef, else the variable's."""
    own = item.column.method != vl.variable_method
    return f"MT.{item.oid[3:]}" if own else f"MT.{vl.dataset}.{vl.variable}"


def _where_clause(mdv: etree._Element, ds: Dataset, where: WhereClause) -> None:
    el = etree.SubElement(mdv, _def("WhereClauseDef"), OID=where.oid)
    for variable, value in where.checks:
        check = etree.SubElement(el, _odm("RangeCheck"), Comparator="EQ", SoftHard="Soft")
        check.set(_def("ItemOID"), f"IT.{ds.name}.{variable}")
        etree.SubElement(check, _odm("CheckValue")).text = value


def _roles(ds: Dataset, specs: Specs) -> dict[str, str]:
    """SDTM variable roles from specs (the IG's): ItemRef/@Role (CG0010). ADaM has none."""
    from cdisc.errors import SpecError

    if ds.standard == "ADaMIG":
        return {}
    try:
        return {v.name: v.role for v in specs.dataset(ds.name).variables if v.role}
    except SpecError:
        return {}


def _item_group(mdv: etree._Element, ds: Dataset, standards: dict,
                part: XptPart | None = None, roles: dict[str, str] | None = None) -> None:
    """The dataset's ItemGroupDef, or that of one numbered part of a split dataset (same
    variables, its own file under split/)."""
    sdtm = ds.standard != "ADaMIG"
    name = part.name if part else ds.name
    attrs = {"OID": f"IG.{name}", "Name": name, "SASDatasetName": name,
             "Repeating": "No" if ds.name in ONE_RECORD_PER_SUBJECT else "Yes",
             "IsReferenceData": "No", "Purpose": "Tabulation" if sdtm else "Analysis"}
    if sdtm and ds.name != "RELREC":
        # SUPP-- name their parent domain, the parts of a split dataset the whole one's
        attrs["Domain"] = ds.name[4:] if ds.name.startswith("SUPP") else ds.name
    group = etree.SubElement(mdv, _odm("ItemGroupDef"), **attrs)
    group.set(_def("Structure"), ds.structure)
    group.set(_def("StandardOID"), "STD.SDTMIG" if sdtm else "STD.ADAMIG")
    group.set(_def("ArchiveLocationID"), f"LF.{name}")
    _description(group, f"{ds.label} (part {part.number} of {part.of}: records {part.first}-"
                        f"{part.last})" if part else ds.label)
    key_seq = {k: i for i, k in enumerate(ds.keys, start=1)}
    for order, col in enumerate(ds.columns, start=1):
        ref = etree.SubElement(group, _odm("ItemRef"), ItemOID=f"IT.{ds.name}.{col.name}",
                               OrderNumber=str(order),
                               Mandatory="Yes" if col.core == "Req" else "No")
        if col.name in key_seq:
            ref.set("KeySequence", str(key_seq[col.name]))
        if roles and col.name in roles:
            ref.set("Role", roles[col.name])
        if col.method:
            ref.set("MethodOID", _method_oid(ds, col))
    etree.SubElement(group, _def("Class"), Name=_class_name(ds))
    href = part.href if part else f"{ds.name.lower()}.xpt"
    leaf = etree.SubElement(group, _def("leaf"), ID=f"LF.{name}")
    leaf.set(f"{{{XLINK_NS}}}href", href)
    etree.SubElement(leaf, _def("title")).text = href


@dataclass(frozen=True)
class _TypeOf:
    """What an ItemDef's DataType, Length and SignificantDigits are computed from."""

    column: Column
    values: pd.Series
    length: int
    known: tuple[str, int | None, int | None] | None = None

    def info(self) -> tuple[str, int | None, int | None]:
        if self.known is not None:
            return self.known
        info = type_info(self.column, self.values, self.length)
        return info.data_type, info.length, info.significant_digits


def origin_source(ds: Dataset, origin: Origin) -> str | None:
    """The Source of a def:Origin: as given, else the default of its Type (Define-XML 2.1
    4.3.2, specs/define.yaml); Predecessor has none."""
    if origin.type == "Predecessor":
        return None
    return origin.source or define_rules()["origin_sources"].get(ds.standard, {}).get(origin.type)


def _item_def(mdv: etree._Element, ds: Dataset, col: Column, typed: _TypeOf, specs: Specs,
              codelist: str | SponsorCodelist | None, dictionary: Dictionary | None, value_list: ValueList | None,
              *, oid: str | None = None, name: str | None = None,
              sas_name: str | None = "", comment_oid: str | None = None) -> None:
    data_type, length, digits = typed.info()
    item = etree.SubElement(mdv, _odm("ItemDef"), OID=oid or f"IT.{ds.name}.{col.name}",
                            Name=name or col.name, DataType=data_type)
    if length is not None:
        item.set("Length", str(length))
    if digits is not None:
        item.set("SignificantDigits", str(digits))
    if sas_name is not None:
        item.set("SASFieldName", sas_name or col.name)
    if col.display_format:
        item.set(_def("DisplayFormat"), col.display_format)
    if comment_oid:
        item.set(_def("CommentOID"), comment_oid)
    _description(item, col.label)
    if codelist is not None:
        etree.SubElement(item, _odm("CodeListRef"), CodeListOID=_codelist_oid(specs, codelist))
    elif dictionary is not None:
        etree.SubElement(item, _odm("CodeListRef"), CodeListOID=_dictionary_oid(dictionary))
    origin = etree.SubElement(item, _def("Origin"), Type=col.origin.type)
    source = origin_source(ds, col.origin)
    if source:
        origin.set("Source", source)
    if col.origin.description:
        _description(origin, col.origin.description)
    if col.origin.pages:
        leaf_id, pages = col.origin.pages
        ref = etree.SubElement(origin, _def("DocumentRef"), leafID=leaf_id)
        etree.SubElement(ref, _def("PDFPageRef"), PageRefs=pages, Type="PhysicalRef")
    if value_list is not None:
        etree.SubElement(item, _def("ValueListRef"), ValueListOID=value_list.oid)


def _codelist(mdv: etree._Element, specs: Specs, use: _CodeListUse, standards: dict) -> None:
    cl = specs.codelists[use.code]
    el = etree.SubElement(mdv, _odm("CodeList"), OID=_codelist_oid(specs, use.code), Name=cl.name,
                          DataType="text")
    std = "STD.CT.ADAM" if cl.standard == "ADaM" else "STD.CT.SDTM"
    if std in standards:
        el.set(_def("StandardOID"), std)
    for order, value in enumerate(sorted(use.values), start=1):
        item = etree.SubElement(el, _odm("EnumeratedItem"), CodedValue=value,
                                OrderNumber=str(order))
        term = cl.terms.get(value)
        if term is None:
            item.set(_def("ExtendedValue"), "Yes")
        else:
            etree.SubElement(item, _odm("Alias"), Context="nci:ExtCodeID", Name=term.code)
    etree.SubElement(el, _odm("Alias"), Context="nci:ExtCodeID", Name=cl.code)


def _sponsor_codelist(mdv: etree._Element, cl: SponsorCodelist) -> None:
    """A sponsor-defined CodeList: CodeListItem with a Decode when the items have decodes,
    else EnumeratedItem (ODM allows one kind per codelist)."""
    el = etree.SubElement(mdv, _odm("CodeList"), OID=cl.oid, Name=cl.name,
                          DataType=cl.data_type)
    decoded = any(decode for _, decode in cl.items)
    for order, (value, decode) in enumerate(cl.items, start=1):
        item = etree.SubElement(el, _odm("CodeListItem" if decoded else "EnumeratedItem"),
                                CodedValue=value, OrderNumber=str(order))
        if decoded:
            dec = etree.SubElement(item, _odm("Decode"))
            tt = etree.SubElement(dec, _odm("TranslatedText"))
            tt.set(XML_LANG, "en")
            tt.text = decode or value


def _external_codelist(mdv: etree._Element, dictionary: Dictionary) -> None:
    el = etree.SubElement(mdv, _odm("CodeList"), OID=_dictionary_oid(dictionary),
                          Name=dictionary.name, DataType="text")
    ext = etree.SubElement(el, _odm("ExternalCodeList"), Dictionary=dictionary.name,
                           Version=dictionary.version)
    if dictionary.href:
        ext.set("href", dictionary.href)


def check_define_file(path: Path) -> None:
    """Refuse a define.xml that is not a plain, well-formed XML file (cdisc.xmlsafe)."""
    from cdisc.errors import InputError

    if not path.is_file():
        raise InputError("define.xml not found or not a file", file=str(path))
    parse_untrusted(path, file=str(path))


def validate_define(xml: bytes, schema_dir: Path) -> list[str]:
    """Schema errors of a define.xml against the Define-XML 2.1 XSDs in schema_dir (with the
    Analysis Results Metadata extension when the document uses it)."""
    doc = parse_untrusted(xml, file="define.xml")
    uses_arm = any(el.tag.startswith(f"{{{ARM_NS}}}") for el in doc.iter()
                   if isinstance(el.tag, str))
    xsd_path = schema_dir / ("cdisc-arm-1.0/arm1-0-0.xsd" if uses_arm else
                             "cdisc-define-2.1/define2-1-0.xsd")
    schema = etree.XMLSchema(etree.parse(str(xsd_path), safe_parser()))
    if schema.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]

