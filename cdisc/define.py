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
from cdisc.io.xpt import XptPart, xpt_lengths
from cdisc.model import Column, Dataset
from cdisc.specs import Specs
from cdisc.xmlsafe import parse_untrusted, safe_parser  # rules.py, define_html.py use it

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NSMAP = {None: ODM_NS, "def": DEF_NS, "xlink": XLINK_NS}

# SDTMIG class names -> Define-XML def:Class values
CLASS_NAMES = {"Special-Purpose": "SPECIAL PURPOSE", "Interventions": "INTERVENTIONS",
               "Events": "EVENTS", "Findings": "FINDINGS", "Findings About": "FINDINGS ABOUT",
               "Relationship": "RELATIONSHIP", "Trial Design": "TRIAL DESIGN"}
ONE_RECORD_PER_SUBJECT = ("DM", "ADSL")


@dataclass(frozen=True)
class StudyInfo:
    study_oid: str
    study_name: str
    description: str
    protocol_name: str


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


def _codelists_used(datasets: list[Dataset]) -> dict[str, _CodeListUse]:
    """Codelist C-code -> the union of values used by every variable bound to it."""
    used: dict[str, _CodeListUse] = {}
    for ds in datasets:
        for col in ds.columns:
            if not col.codelist or col.type != "Char":
                continue
            values = {str(v) for v in pd.unique(ds.data[col.name])} - {"", "nan"}
            used.setdefault(col.codelist, _CodeListUse(col.codelist, set())).values |= values
    # a CodeList needs at least one item: a variable with no values gets no CodeListRef
    return {code: use for code, use in used.items() if use.values}


def _codelist_oid(specs: Specs, code: str) -> str:
    return f"CL.{specs.codelists[code].short_name}"


def _method_oid(ds: Dataset, col: Column) -> str:
    return f"MT.{ds.name}.{col.name}"


def build_define(datasets: list[Dataset], specs: Specs, study: StudyInfo, *,
                 creation_datetime: str, context: str = "Submission",
                 parts: dict[str, list[XptPart]] | None = None) -> bytes:
    """Define-XML 2.1 for the datasets; `parts` lists the numbered files of split datasets."""
    datasets = sorted(datasets, key=lambda d: d.name)
    standards = _standards(datasets, specs)
    used = _codelists_used(datasets)

    root = etree.Element(_odm("ODM"), nsmap=NSMAP)
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

    lengths = {ds.name: xpt_lengths(ds) for ds in datasets}
    for ds in datasets:
        roles = _roles(ds, specs)
        _item_group(mdv, ds, standards, roles=roles)
        for part in (parts or {}).get(ds.name, []):
            _item_group(mdv, ds, standards, part, roles=roles)
    for ds in datasets:
        for col in ds.columns:
            _item_def(mdv, ds, col, lengths[ds.name][col.name], specs, set(used))
    for code in sorted(used, key=lambda c: _codelist_oid(specs, c)):
        _codelist(mdv, specs, used[code], standards)
    for ds in datasets:
        for col in ds.columns:
            if col.method:
                method = etree.SubElement(mdv, _odm("MethodDef"), OID=_method_oid(ds, col),
                                          Name=f"Algorithm for {ds.name}.{col.name}",
                                          Type="Computation")
                _description(method, col.method)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


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
    if sdtm and not ds.name.startswith("SUPP"):
        attrs["Domain"] = ds.name
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


def _item_def(mdv: etree._Element, ds: Dataset, col: Column, length: int, specs: Specs,
              codelists: set[str]) -> None:
    info = type_info(col, ds.data[col.name], length)
    item = etree.SubElement(mdv, _odm("ItemDef"), OID=f"IT.{ds.name}.{col.name}", Name=col.name,
                            DataType=info.data_type)
    if info.length is not None:
        item.set("Length", str(info.length))
    if info.significant_digits is not None:
        item.set("SignificantDigits", str(info.significant_digits))
    item.set("SASFieldName", col.name)
    if col.display_format:
        item.set(_def("DisplayFormat"), col.display_format)
    _description(item, col.label)
    if col.codelist in codelists and col.type == "Char":
        etree.SubElement(item, _odm("CodeListRef"), CodeListOID=_codelist_oid(specs, col.codelist))
    origin = etree.SubElement(item, _def("Origin"), Type=col.origin.type)
    if col.origin.source:
        origin.set("Source", col.origin.source)
    if col.origin.description:
        _description(origin, col.origin.description)


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


def check_define_file(path: Path) -> None:
    """Refuse a define.xml that is not a plain, well-formed XML file (cdisc.xmlsafe)."""
    from cdisc.errors import InputError

    if not path.is_file():
        raise InputError("define.xml not found or not a file", file=str(path))
    parse_untrusted(path, file=str(path))


def validate_define(xml: bytes, schema_dir: Path) -> list[str]:
    """Schema errors of a define.xml against the Define-XML 2.1 XSDs in schema_dir."""
    xsd_path = schema_dir / "cdisc-define-2.1" / "define2-1-0.xsd"
    schema = etree.XMLSchema(etree.parse(str(xsd_path), safe_parser()))
    doc = parse_untrusted(xml, file="define.xml")
    if schema.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]

