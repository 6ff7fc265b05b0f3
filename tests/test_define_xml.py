"""Define-XML 2.1: schema-valid, complete (every OID defined and used), terms actually used."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lxml import etree, html

from cdisc.define import StudyInfo, build_define, safe_parser, validate_define
from cdisc.define_html import render_define_html
from cdisc.model import Column, Dataset, Origin
from cdisc.specs import load_specs
from tests.conftest import REFERENCE

SCHEMA_DIR = REFERENCE / "define-xml-2.1" / "schema"
NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}
STUDY = StudyInfo("S1", "S1", "A study", "P1")


def dm() -> Dataset:
    cols = [Column("STUDYID", "Study Identifier", "Char", core="Req", origin=Origin("Assigned")),
            Column("DOMAIN", "Domain Abbreviation", "Char", core="Req",
                   origin=Origin("Assigned")),
            Column("USUBJID", "Unique Subject Identifier", "Char", core="Req",
                   method="STUDYID-SUBJID"),
            Column("RFSTDTC", "Subject Reference Start Date/Time", "Char",
                   value_domain="ISO 8601 datetime or interval", origin=Origin("Derived"),
                   method="First infusion"),
            Column("AGE", "Age", "Num", origin=Origin("Collected", "Investigator")),
            Column("SEX", "Sex", "Char", codelist="C66731", core="Req",
                   origin=Origin("Collected", "Investigator")),
            Column("DTHFL", "Subject Death Flag", "Char", codelist="C66742"),
            Column("EPOCH", "Epoch", "Char", codelist="C99079")]
    data = pd.DataFrame({"STUDYID": ["S1"] * 3, "DOMAIN": ["DM"] * 3,
                         "USUBJID": ["S1-1", "S1-2", "S1-3"],
                         "RFSTDTC": ["2021-01-01T10:00", "2021-02", ""],
                         "AGE": [34.0, 8.0, np.nan], "SEX": ["M", "F", "M"],
                         "DTHFL": ["Y", "", ""], "EPOCH": ["TREATMENT", "CAR-T PHASE", ""]})
    return Dataset("DM", "Demographics", cols, data, keys=("STUDYID", "USUBJID"),
                   dataset_class="Special-Purpose", structure="One record per subject")


def adsl() -> Dataset:
    cols = [Column("STUDYID", "Study Identifier", "Char", core="Req"),
            Column("USUBJID", "Unique Subject Identifier", "Char", core="Req"),
            Column("TRTSDT", "Date of First Exposure to Treatment", "Num",
                   display_format="DATE9.", method="Date part of DM.RFSTDTC")]
    data = pd.DataFrame({"STUDYID": ["S1"], "USUBJID": ["S1-1"], "TRTSDT": [22281.0]})
    return Dataset("ADSL", "Subject-Level Analysis Dataset", cols, data,
                   keys=("STUDYID", "USUBJID"), dataset_class="SUBJECT LEVEL ANALYSIS DATASET",
                   structure="One record per subject", standard="ADaMIG")


def doc(*datasets: Dataset) -> etree._Element:
    xml = build_define(list(datasets), load_specs(), STUDY,
                       creation_datetime="2024-01-31T00:00:00")
    return etree.fromstring(xml, safe_parser())


@pytest.mark.skipif(not SCHEMA_DIR.exists(), reason="../shared/reference not present")
@pytest.mark.parametrize("datasets", [[dm()], [adsl()], [dm(), adsl()]])
def test_schema_valid(datasets) -> None:
    xml = build_define(datasets, load_specs(), STUDY, creation_datetime="2024-01-31T00:00:00")
    assert validate_define(xml, SCHEMA_DIR) == []


@pytest.mark.skipif(not SCHEMA_DIR.exists(), reason="../shared/reference not present")
def test_schema_validation_catches_errors() -> None:
    xml = build_define([dm()], load_specs(), STUDY, creation_datetime="2024-01-31T00:00:00")
    assert validate_define(xml.replace(b' def:Context="Submission"', b""), SCHEMA_DIR)


def test_structure_and_counts() -> None:
    root = doc(dm())
    group = root.find(".//odm:ItemGroupDef", NS)
    assert group.get("OID") == "IG.DM" and group.get("Repeating") == "No"
    assert group.find("def:Class", NS).get("Name") == "SPECIAL PURPOSE"
    refs = group.findall("odm:ItemRef", NS)
    assert [r.get("ItemOID") for r in refs][:3] == ["IT.DM.STUDYID", "IT.DM.DOMAIN",
                                                    "IT.DM.USUBJID"]
    assert [r.get("KeySequence") for r in refs][:3] == ["1", None, "2"]
    assert refs[0].get("Mandatory") == "Yes" and refs[3].get("Mandatory") == "No"
    assert len(root.findall(".//odm:ItemDef", NS)) == 8


def test_data_types_and_lengths() -> None:
    items = {i.get("Name"): i for i in doc(dm(), adsl()).findall(".//odm:ItemDef", NS)}
    assert (items["USUBJID"].get("DataType"), items["USUBJID"].get("Length")) == ("text", "4")
    assert items["RFSTDTC"].get("DataType") == "partialDatetime"
    assert items["RFSTDTC"].get("Length") is None
    assert (items["AGE"].get("DataType"), items["AGE"].get("Length")) == ("integer", "2")
    assert items["TRTSDT"].get("DataType") == "integer"
    assert items["TRTSDT"].get("{http://www.cdisc.org/ns/def/v2.1}DisplayFormat") == "DATE9."
    assert items["SEX"].find("def:Origin", NS).get("Source") == "Investigator"


def test_codelists_hold_only_used_terms_with_codes() -> None:
    root = doc(dm())
    cls = {c.get("OID"): c for c in root.findall(".//odm:CodeList", NS)}
    sex = cls["CL.SEX"]
    terms = {e.get("CodedValue"): e.find("odm:Alias", NS).get("Name")
             for e in sex.findall("odm:EnumeratedItem", NS)}
    assert terms == {"F": "C16576", "M": "C20197"}
    assert sex.find("odm:Alias", NS).get("Name") == "C66731"
    assert [e.get("CodedValue") for e in cls["CL.NY"].findall("odm:EnumeratedItem", NS)] == ["Y"]
    epoch = {e.get("CodedValue"): e for e in cls["CL.EPOCH"].findall("odm:EnumeratedItem", NS)}
    assert epoch["CAR-T PHASE"].get("{http://www.cdisc.org/ns/def/v2.1}ExtendedValue") == "Yes"
    assert epoch["TREATMENT"].get("{http://www.cdisc.org/ns/def/v2.1}ExtendedValue") is None


def test_every_oid_referenced_is_defined() -> None:
    root = doc(dm(), adsl())
    defined = {e.get("OID") for e in root.iter() if e.get("OID")}
    for attr in ("ItemOID", "MethodOID", "CodeListOID"):
        for e in root.iter():
            if e.get(attr):
                assert e.get(attr) in defined, (attr, e.get(attr))
    methods = {m.get("OID") for m in root.findall(".//odm:MethodDef", NS)}
    used = {r.get("MethodOID") for r in root.findall(".//odm:ItemRef", NS) if r.get("MethodOID")}
    assert methods == used


def test_deterministic() -> None:
    specs = load_specs()
    a = build_define([dm()], specs, STUDY, creation_datetime="2024-01-31T00:00:00")
    assert build_define([dm()], specs, STUDY, creation_datetime="2024-01-31T00:00:00") == a


def test_define_html() -> None:
    xml = build_define([dm(), adsl()], load_specs(), STUDY,
                       creation_datetime="2024-01-31T00:00:00")
    page = html.fromstring(render_define_html(xml))
    assert page.get_element_by_id("IG.DM") is not None
    assert page.get_element_by_id("CL.SEX") is not None
    dm_rows = page.xpath("//h2[@id='IG.DM']/following-sibling::table[1]//tbody/tr")
    assert [r.xpath("td[1]")[0].text_content() for r in dm_rows] == [
        "STUDYID", "DOMAIN", "USUBJID", "RFSTDTC", "AGE", "SEX", "DTHFL", "EPOCH"]
    links = {a.get("href") for a in page.xpath("//a")}
    assert {"#IG.DM", "#CL.SEX", "#MT.DM.USUBJID", "dm.xpt"} <= links
    assert not page.xpath("//script") and not page.xpath("//link")  # self-contained
