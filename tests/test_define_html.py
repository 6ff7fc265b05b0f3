"""define.html rendered from two hand-written Define-XML 2.1 fixtures (tests/data/define/):
an SDTM one (DM, LB, SUPPLB, value-level metadata, MedDRA, aCRF page references) and an ADaM
one (ADSL, ADTTE, VLM per PARAMCD, decoded codelists, Analysis Results Metadata). Every
expected string below was worked out by hand from the fixture XML."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree, html

from cdisc.define import safe_parser, validate_define
from cdisc.define_html import render_define_html
from tests.conftest import REFERENCE, REPO

DATA = REPO / "tests" / "data" / "define"
SDTM = DATA / "define_sdtm.xml"
ADAM = DATA / "define_adam.xml"
SPECS = REPO / "specs" / "define-xml-2.1"
ARM_XSD_CANDIDATES = [SPECS / "cdisc-arm-1.0" / "arm1-0-0.xsd",
                      REFERENCE / "define-xml-2.1" / "schema" / "cdisc-arm-1.0" / "arm1-0-0.xsd"]
NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1",
      "arm": "http://www.cdisc.org/ns/arm/v1.0"}
SECTION_IDS = ["toc", "study", "standards", "documents", "files", "datasets", "variables",
               "valuelists", "codelists", "methods", "comments"]

# every where clause of the fixtures, rendered by hand
WHERE_TEXT = {
    "WC.LB.LBTESTCD.ALB": 'LBTESTCD EQ "ALB"',
    "WC.LB.LBTESTCD.GLUC": 'LBTESTCD EQ "GLUC" and LBCAT NE "URINALYSIS"',
    "WC.LB.LBTESTCD.ALB_PROT": 'LBTESTCD IN ("ALB", "PROT")',
    "WC.SUPPLB.QNAM.LBCLSIG": 'QNAM EQ "LBCLSIG"',
    "WC.SUPPLB.QNAM.LBCSPT": 'QNAM EQ "LBCSPT"',
    "WC.ADTTE.PARAMCD.OS": 'PARAMCD EQ "OS"',
    "WC.ADTTE.PARAMCD.PFS": 'PARAMCD EQ "PFS"',
    "WC.ARM.ADTTE.OS.ITT": 'PARAMCD EQ "OS" and ITTFL EQ "Y"',
    "WC.ARM.ADTTE.PFS.ITT": 'PARAMCD EQ "PFS" and ITTFL EQ "Y"',
    "WC.ARM.ADSL.ITT": 'ITTFL EQ "Y"',
}


def _page(xml: bytes) -> html.HtmlElement:
    return html.fromstring(render_define_html(xml))


@pytest.fixture(scope="module")
def sdtm() -> html.HtmlElement:
    return _page(SDTM.read_bytes())


@pytest.fixture(scope="module")
def adam() -> html.HtmlElement:
    return _page(ADAM.read_bytes())


def _text(el: html.HtmlElement) -> str:
    return " ".join(el.text_content().split())


def _rows(table: html.HtmlElement) -> list[list[str]]:
    return [[_text(td) for td in tr.xpath("td")] for tr in table.xpath("tbody/tr")]


def _table_after(page: html.HtmlElement, element_id: str) -> html.HtmlElement:
    return page.get_element_by_id(element_id).xpath("following-sibling::table[1]")[0]


def _row(page: html.HtmlElement, element_id: str) -> html.HtmlElement:
    """The table row whose first cell holds the element with that id."""
    return page.get_element_by_id(element_id).xpath("ancestor::tr[1]")[0]


def _hrefs(el: html.HtmlElement) -> list[str]:
    return [a.get("href") for a in el.xpath(".//a")]


def _strip_arm(xml: bytes) -> bytes:
    root = etree.fromstring(xml, safe_parser())
    for el in root.findall(".//arm:AnalysisResultDisplays", NS):
        el.getparent().remove(el)
    return etree.tostring(root)


def _check_links(page: html.HtmlElement) -> None:
    ids = page.xpath("//@id")
    assert len(ids) == len(set(ids)), "duplicate ids"
    targets = [a.get("href")[1:] for a in page.xpath("//a[starts-with(@href, '#')]")]
    assert targets
    assert sorted(set(targets) - set(ids)) == []
    assert all(" " not in i for i in ids)


# ---------------------------------------------------------------- the fixtures themselves

def test_sdtm_fixture_is_schema_valid() -> None:
    assert validate_define(SDTM.read_bytes(), SPECS) == []


def test_adam_fixture_is_schema_valid_with_and_without_arm() -> None:
    """validate_define takes the ARM schema for a define.xml that uses ARM, else the plain
    Define-XML 2.1 schema (which refuses ARM elements)."""
    xml = ADAM.read_bytes()
    assert validate_define(_strip_arm(xml), SPECS) == []
    assert validate_define(xml, SPECS) == []
    plain = etree.XMLSchema(etree.parse(str(SPECS / "cdisc-define-2.1" / "define2-1-0.xsd"),
                                        safe_parser()))
    assert not plain.validate(etree.fromstring(xml, safe_parser()))


def test_adam_fixture_is_valid_against_the_arm_schema() -> None:
    xsd = next((p for p in ARM_XSD_CANDIDATES if p.exists()), None)
    if xsd is None:
        pytest.skip("no ARM 1.0 schema (specs/define-xml-2.1/cdisc-arm-1.0 nor ../shared)")
    schema = etree.XMLSchema(etree.parse(str(xsd), safe_parser()))
    doc = etree.fromstring(ADAM.read_bytes(), safe_parser())
    assert schema.validate(doc), [str(e) for e in schema.error_log]


# ---------------------------------------------------------------- structure and links

@pytest.mark.parametrize("path", [SDTM, ADAM], ids=["sdtm", "adam"])
def test_every_internal_link_resolves(path: Path) -> None:
    page = _page(path.read_bytes())
    _check_links(page)
    assert not page.xpath("//*[@class='missing']")
    for sid in SECTION_IDS:
        assert page.get_element_by_id(sid) is not None


@pytest.mark.parametrize("path", [SDTM, ADAM], ids=["sdtm", "adam"])
def test_every_definition_appears(path: Path) -> None:
    xml = path.read_bytes()
    root = etree.fromstring(xml, safe_parser())
    page = _page(xml)
    ids = set(page.xpath("//@id"))
    tags = ("odm:ItemGroupDef", "def:ValueListDef", "odm:CodeList", "odm:MethodDef",
            "def:CommentDef", "def:Standards/def:Standard")
    oids = {el.get("OID") for tag in tags for el in root.findall(f".//{tag}", NS)}
    oids |= {r.get("ItemOID") for r in root.findall(".//odm:ItemRef", NS)}
    oids |= {el.get("OID") for el in root.findall(".//arm:AnalysisResult", NS)}
    oids |= {el.get("OID") for el in root.findall(".//arm:ResultDisplay", NS)}
    oids |= {el.get("ID") for el in root.findall(".//def:leaf", NS)}
    assert sorted(oids - ids) == []
    used = {r.get("WhereClauseOID") for r in root.findall(".//def:WhereClauseRef", NS)}
    assert used == {el.get("OID") for el in root.findall(".//def:WhereClauseDef", NS)}
    shown = {_text(s) for s in page.xpath("//span[@class='where']")}
    assert shown == {WHERE_TEXT[oid] for oid in used}


def test_table_of_contents(sdtm: html.HtmlElement, adam: html.HtmlElement) -> None:
    toc = set(_hrefs(sdtm.get_element_by_id("toc")))
    assert {f"#{s}" for s in SECTION_IDS if s != "toc"} <= toc
    assert {"#IG.DM", "#IG.LB", "#IG.SUPPLB", "#VL.LB.LBORRES", "#VL.LB.LBSTRESN",
            "#VL.LB.LBSTRESU", "#VL.SUPPLB.QVAL", "#CL.SEX", "#CL.MEDDRA"} <= toc
    assert "#arm" not in toc
    with pytest.raises(KeyError):
        sdtm.get_element_by_id("arm")
    toc = set(_hrefs(adam.get_element_by_id("toc")))
    assert {"#arm", "#RD.T14.2.01", "#RD.T14.2.02", "#IG.ADSL", "#IG.ADTTE",
            "#VL.ADTTE.AVAL", "#VL.ADTTE.EVNTDESC", "#CL.CNSR"} <= toc


def test_output_is_byte_identical_across_renders() -> None:
    for path in (SDTM, ADAM):
        xml = path.read_bytes()
        assert render_define_html(xml) == render_define_html(xml)
        assert render_define_html(xml).startswith(b"<!DOCTYPE html>\n")


def test_text_is_escaped_and_page_is_self_contained(sdtm: html.HtmlElement) -> None:
    raw = render_define_html(SDTM.read_bytes())
    assert b'&lt;script&gt;alert("x")&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;' in raw
    assert b"<script" not in raw and b"<link" not in raw
    assert not sdtm.xpath("//script") and not sdtm.xpath("//b")
    assert _row(sdtm, "COM.SCRIPT").xpath("td[2]")[0].text_content() == \
        'Shown as text: <script>alert("x")</script> & <b>bold</b>'


def test_unsafe_href_and_dangling_reference_are_not_links() -> None:
    xml = SDTM.read_bytes().replace(b'xlink:href="acrf.pdf"', b'xlink:href="javascript:alert(1)"')
    xml = xml.replace(b'MethodOID="MT.DM.AGE"', b'MethodOID="MT.NOWHERE"')
    page = _page(xml)
    assert not [h for h in _hrefs(page) if "javascript" in h]
    _check_links(page)
    missing = [_text(s) for s in page.xpath("//span[@class='missing']")]
    assert "MT.NOWHERE" in missing and "2" in missing  # SUBJID's aCRF page, unlinked


def test_oid_with_whitespace_gets_a_valid_id() -> None:
    """OIDs may hold spaces (the CDISC ADaM-MSG sample has "STD.ADaMIG 1.1"); HTML ids may
    not: the id percent-encodes them and the links follow."""
    xml = SDTM.read_bytes().replace(b'"STD.SDTMIG"', b'"STD.SDTMIG 3.4"')
    assert validate_define(xml, SPECS) == []
    page = _page(xml)
    _check_links(page)
    assert page.get_element_by_id("STD.SDTMIG%203.4").text == "SDTMIG"
    assert "#STD.SDTMIG%203.4" in _hrefs(page.xpath("//div[@id='datasets']")[0])


def test_cdisc_adam_sample_renders() -> None:
    """The CDISC ADaM-MSG sample define.xml (Define-XML 2.1 with ARM) in ../shared."""
    path = REFERENCE / "sample_packages" / "cdisc_adam_msg" / "define.xml"
    if not path.exists():
        pytest.skip("../shared/reference/sample_packages not present")
    xml = path.read_bytes()
    root = etree.fromstring(xml, safe_parser())
    page = _page(xml)
    _check_links(page)
    assert not page.xpath("//*[@class='missing']")
    results = [r.get("OID") for r in root.findall(".//arm:AnalysisResult", NS)]
    groups = [g.get("OID") for g in root.findall(".//odm:ItemGroupDef", NS)]
    assert results and groups
    for oid in results + groups:
        assert page.get_element_by_id(oid) is not None
    assert render_define_html(xml) == render_define_html(xml)


# ---------------------------------------------------------------- header, documents, datasets

def test_header_and_standards(sdtm: html.HtmlElement) -> None:
    facts = dict(r for r in (( _text(tr.xpath("th")[0]), _text(tr.xpath("td")[0]))
                             for tr in sdtm.xpath("//div[@id='study']//tr")))
    assert facts["Study name"] == "FIX01"
    assert facts["Study description"] == "Fixture study FIX01: a phase 2 study of drug A"
    assert facts["Protocol"] == "FIX01-P2"
    assert facts["Define-XML version"] == "2.1.0"
    assert facts["Context"] == "Submission"
    assert facts["Created"] == "2024-05-01T09:30:00"
    assert facts["Comment"] == "COM.MDV"
    standards = _rows(sdtm.xpath("//div[@id='standards']//table")[0])
    assert standards == [["SDTMIG", "IG", "", "3.4", "Final", ""],
                         ["CDISC/NCI", "CT", "SDTM", "2024-03-29", "Final", ""]]


def test_documents_and_files(sdtm: html.HtmlElement, adam: html.HtmlElement) -> None:
    docs = sdtm.get_element_by_id("documents")
    assert [(_text(a), a.get("href")) for a in docs.xpath(".//a")] == [
        ("Annotated CRF", "acrf.pdf"), ("Clinical Study Data Reviewer's Guide", "csdrg.pdf")]
    assert [_text(h) for h in docs.xpath(".//h3")] == ["Annotated CRF", "Supplemental documents"]
    files = _rows(sdtm.xpath("//div[@id='files']//table")[0])
    assert [r[0] for r in files] == ["LF.DM", "LF.LB", "LF.SUPPLB", "LF.acrf", "LF.csdrg"]
    assert files[3] == ["LF.acrf", "Annotated CRF", "acrf.pdf"]
    adam_files = dict((r[0], r[2]) for r in _rows(adam.xpath("//div[@id='files']//table")[0]))
    assert adam_files["LF.PGM.T14.2.02"] == "programs/t_14_02_02.r"
    assert "programs/t_14_02_02.r" in _hrefs(adam.get_element_by_id("files"))


def test_datasets_table(sdtm: html.HtmlElement, adam: html.HtmlElement) -> None:
    table = sdtm.xpath("//div[@id='datasets']//table")[0]
    assert [th.text for th in table.xpath("thead//th")] == [
        "Dataset", "Description", "Class", "Structure", "Purpose", "Keys", "Standard",
        "Domain", "Has no data", "Comment", "Location"]
    rows = _rows(table)
    assert rows[0] == ["DM", "Demographics", "SPECIAL PURPOSE", "One record per subject",
                       "Tabulation", "STUDYID, USUBJID", "SDTMIG 3.4", "DM", "", "", "dm.xpt"]
    assert rows[1][5] == "STUDYID, USUBJID, LBTESTCD, LBDTC"
    assert rows[1][9] == "COM.LB"
    assert rows[2][:3] == ["SUPPLB", "Supplemental Qualifiers for LB", "RELATIONSHIP"]
    assert rows[2][7] == "LB"
    lb = table.xpath("tbody/tr")[1]
    assert _hrefs(lb) == ["#IG.LB", "#STD.SDTMIG", "#COM.LB", "lb.xpt"]
    adam_rows = _rows(adam.xpath("//div[@id='datasets']//table")[0])
    assert adam_rows[1][:6] == ["ADTTE", "Time-to-Event Analysis Dataset",
                                "BASIC DATA STRUCTURE (TIME-TO-EVENT)",
                                "One record per subject per parameter", "Analysis",
                                "STUDYID, USUBJID, PARAMCD"]


def test_has_no_data_is_shown() -> None:
    xml = SDTM.read_bytes().replace(b'SASDatasetName="SUPPLB"',
                                    b'SASDatasetName="SUPPLB" def:HasNoData="Yes"')
    assert validate_define(xml, SPECS) == []
    rows = _rows(_page(xml).xpath("//div[@id='datasets']//table")[0])
    assert [r[8] for r in rows] == ["", "", "Yes"]


# ---------------------------------------------------------------- variables

def test_variables_follow_order_number(sdtm: html.HtmlElement) -> None:
    table = _table_after(sdtm, "IG.LB")
    assert [r[0] for r in _rows(table)] == [
        "STUDYID", "DOMAIN", "USUBJID", "LBSEQ", "LBTESTCD", "LBTEST", "LBCAT", "LBORRES",
        "LBSTRESC", "LBSTRESN", "LBSTRESU", "LBDTC"]
    assert [th.text for th in table.xpath("thead//th")] == [
        "Variable", "Label", "Type", "Length", "Significant digits", "Format", "Mandatory",
        "Key", "Role", "Controlled terms", "Origin", "Method", "Comment", "Value list"]


def test_variable_rows(sdtm: html.HtmlElement) -> None:
    lbstresn = _row(sdtm, "IT.LB.LBSTRESN")
    assert [_text(td) for td in lbstresn.xpath("td")] == [
        "LBSTRESN", "Numeric Result/Finding in Standard Units", "float", "8", "2", "8.2", "No",
        "", "Result Qualifier", "", "Derived", "Algorithm to derive LBSTRESN", "", "VLM"]
    assert _hrefs(lbstresn) == ["#MT.LB.LBSTRESN", "#VL.LB.LBSTRESN"]
    sex = _row(sdtm, "IT.DM.SEX").xpath("td")
    assert _text(sex[9]) == "Sex" and _hrefs(sex[9]) == ["#CL.SEX"]
    assert _text(sex[10]) == "Collected (Investigator)Annotated CRF p. 12, 13"
    assert _text(sex[10].xpath("span/span")[0]) == "Annotated CRF p. 12, 13"
    assert _hrefs(sex[10]) == ["acrf.pdf#page=12", "acrf.pdf#page=13"]
    brthdtc = _row(sdtm, "IT.DM.BRTHDTC").xpath("td")[10]
    assert _text(brthdtc.xpath("span/span")[0]) == "Annotated CRF p. 12-14"
    assert _hrefs(brthdtc) == ["acrf.pdf#page=12"]
    subjid = _row(sdtm, "IT.DM.SUBJID")
    assert _hrefs(subjid) == ["acrf.pdf#page=2", "#COM.SCRIPT"]
    age = _row(sdtm, "IT.DM.AGE").xpath("td")
    assert _text(age[11]) == "Algorithm to derive AGE" and _hrefs(age[11]) == ["#MT.DM.AGE"]
    usubjid = _row(sdtm, "IT.SUPPLB.USUBJID").xpath("td")
    assert _text(usubjid[10]) == "Predecessor: LB.USUBJID"


def test_shared_item_def_gets_one_id(sdtm: html.HtmlElement) -> None:
    """IT.STUDYID is used by DM, LB and SUPPLB: one id (on its first row), three rows."""
    assert len(sdtm.xpath("//*[@id='IT.STUDYID']")) == 1
    for oid in ("IG.DM", "IG.LB", "IG.SUPPLB"):
        assert _rows(_table_after(sdtm, oid))[0][:2] == ["STUDYID", "Study Identifier"]


# ---------------------------------------------------------------- value-level metadata

def test_value_level_metadata(sdtm: html.HtmlElement) -> None:
    lborres = _rows(_table_after(sdtm, "VL.LB.LBORRES"))
    assert lborres[0] == ['LBTESTCD EQ "ALB"', "LBORRES", "Albumin result in original units",
                          "float", "5", "1", "5.1", "No", "", "Collected (Vendor)", "", ""]
    assert lborres[1][0] == 'LBTESTCD EQ "GLUC" and LBCAT NE "URINALYSIS" (comment COM.WC.GLUC)'
    where = sdtm.get_element_by_id("IT.LB.LBORRES.ALB").xpath("ancestor::tr[1]/td[1]/span")[0]
    assert where.text_content() == 'LBTESTCD EQ "ALB"'
    # LBSTRESN rows follow OrderNumber (ALB first) and link their method
    lbstresn = _table_after(sdtm, "VL.LB.LBSTRESN")
    assert [r[0] for r in _rows(lbstresn)] == [
        'LBTESTCD EQ "ALB"', 'LBTESTCD EQ "GLUC" and LBCAT NE "URINALYSIS" (comment COM.WC.GLUC)']
    assert _hrefs(lbstresn.xpath("tbody/tr")[0]) == ["#MT.LB.LBSTRESN"]
    lbstresu = _rows(_table_after(sdtm, "VL.LB.LBSTRESU"))
    assert lbstresu[0][:2] == ['LBTESTCD IN ("ALB", "PROT")', "LBSTRESU"]
    assert lbstresu[0][8] == "Unit"
    qval = _table_after(sdtm, "VL.SUPPLB.QVAL")
    assert [r[:2] for r in _rows(qval)] == [['QNAM EQ "LBCLSIG"', "LBCLSIG"],
                                            ['QNAM EQ "LBCSPT"', "LBCSPT"]]
    assert _hrefs(qval) == ["#CL.NY", "acrf.pdf#page=20", "#CL.MEDDRA"]
    assert _text(sdtm.get_element_by_id("VL.SUPPLB.QVAL")) == "SUPPLB.QVAL"


def test_adam_value_level_metadata(adam: html.HtmlElement) -> None:
    aval = _table_after(adam, "VL.ADTTE.AVAL")
    assert [(r[0], r[1], r[2], r[10]) for r in _rows(aval)] == [
        ('PARAMCD EQ "OS"', "AVAL", "Overall survival (days)", "Algorithm to derive AVAL for OS"),
        ('PARAMCD EQ "PFS"', "AVAL", "Progression-free survival (days)",
         "Algorithm to derive AVAL for PFS")]
    assert _hrefs(_table_after(adam, "VL.ADTTE.EVNTDESC")) == ["#CL.EVNTDESC.OS",
                                                               "#CL.EVNTDESC.PFS"]


# ---------------------------------------------------------------- codelists, methods, comments

def test_codelists(sdtm: html.HtmlElement, adam: html.HtmlElement) -> None:
    heading = sdtm.get_element_by_id("CL.LBTESTCD")
    assert heading.text == "Laboratory Test Code"
    assert _text(heading.getnext()) == "Data type: text; C-code: C65047"
    rows = _rows(_table_after(sdtm, "CL.LBTESTCD"))
    assert rows[0] == ["ALB", "Albumin", "C64431", "1", "", ""]
    assert rows[3] == ["ALBX", "Albumin, Sponsor Assay", "", "4", "", "sponsor-extended value"]
    assert _rows(_table_after(sdtm, "CL.SEX")) == [["F", "", "C16576", "1", "", ""],
                                                   ["M", "", "C20197", "2", "", ""]]
    meddra = _table_after(sdtm, "CL.MEDDRA")
    assert _rows(meddra) == [["MedDRA", "26.1", "", "https://www.meddra.org/"]]
    qval = _row(sdtm, "IT.SUPPLB.QVAL.LBCSPT").xpath("td")
    assert _text(qval[8]) == "Adverse Event Dictionary (MedDRA 26.1)"
    assert _rows(_table_after(adam, "CL.CNSR")) == [["0", "Event", "", "", "1", ""],
                                                    ["1", "Censored", "", "", "2", ""]]
    assert _rows(_table_after(adam, "CL.SEX"))[0] == ["F", "Female", "C16576", "1", "", ""]


def test_methods_and_comments(sdtm: html.HtmlElement) -> None:
    age = _row(sdtm, "MT.DM.AGE")
    cells = age.xpath("td")
    assert _text(cells[0]) == "Algorithm to derive AGE" and _text(cells[1]) == "Computation"
    assert cells[2].xpath("br")  # the description's line break is kept
    assert _text(cells[3]) == "Clinical Study Data Reviewer's Guide p. 4"
    assert _hrefs(cells[3]) == ["csdrg.pdf#page=4"]
    assert _text(cells[4].xpath("div")[0]) == "Context: SAS 9.4"
    assert cells[4].xpath("pre")[0].text == "AGE = floor(yrdif(BRTHDT, RFSTDT, 'AGE'));"
    lb = _row(sdtm, "COM.LB").xpath("td")
    assert _text(lb[1]) == "Central laboratory data only."
    assert _hrefs(lb[2]) == ["csdrg.pdf#nameddest=LB_section"]
    assert _hrefs(_row(sdtm, "COM.MDV")) == ["csdrg.pdf"]


# ---------------------------------------------------------------- analysis results metadata

def _result(page: html.HtmlElement, oid: str) -> dict[str, html.HtmlElement]:
    table = _table_after(page, oid)
    return {_text(tr.xpath("th")[0]): tr.xpath("td")[0] for tr in table.xpath("tbody/tr")}


def test_analysis_results(adam: html.HtmlElement) -> None:
    display = adam.get_element_by_id("RD.T14.2.01")
    assert display.text == "Table 14.2.01"
    assert _hrefs(display.getnext().getnext()) == ["tlf/t-14-02-01.pdf"]
    os_ = _result(adam, "AR.T14.2.01.OS")
    assert _text(os_["Parameter"]) == "PARAMCD"
    assert _hrefs(os_["Parameter"]) == ["#IT.ADTTE.PARAMCD"]
    assert _text(os_["Analysis reason"]) == "SPECIFIED IN SAP"
    assert _text(os_["Analysis purpose"]) == "PRIMARY OUTCOME MEASURE"
    datasets = os_["Analysis datasets"]
    assert _rows(datasets.xpath("table")[0]) == [
        ["ADTTE", 'PARAMCD EQ "OS" and ITTFL EQ "Y"', "AVAL, CNSR"],
        ["ADSL", 'ITTFL EQ "Y"', "TRT01P"]]
    assert _hrefs(datasets) == ["#IG.ADTTE", "#IT.ADTTE.AVAL", "#IT.ADTTE.CNSR", "#IG.ADSL",
                                "#IT.ADSL.TRT01P", "#COM.ARM.JOIN"]
    assert _text(os_["Documentation"]) == \
        "See the SAP, section 9.1.Statistical Analysis Plan p. 21, 22"
    assert _hrefs(os_["Documentation"]) == ["sap.pdf#page=21", "sap.pdf#page=22"]
    code = os_["Programming code"]
    assert _text(code.xpath("div")[0]) == "Context: SAS 9.4"
    assert code.xpath("pre")[0].text == (
        "proc lifetest data=adtte(where=(PARAMCD = 'OS' and ITTFL = 'Y'));\n"
        "  time AVAL*CNSR(1);\n  strata TRTP;\nrun;")

    pfs = _result(adam, "AR.T14.2.02.PFS")
    assert _rows(pfs["Analysis datasets"].xpath("table")[0]) == [
        ["ADTTE", 'PARAMCD EQ "PFS" and ITTFL EQ "Y"', "AVAL, CNSR, TRTP"]]
    assert _text(pfs["Analysis reason"]) == "SPECIFIED IN PROTOCOL"
    code = pfs["Programming code"]
    assert _text(code.xpath("div")[0]) == "Context: R 4.3.1"
    assert code.xpath("pre")[0].text.startswith("fit <- survival::coxph(")
    assert 'PARAMCD == "PFS" & ITTFL == "Y"' in code.xpath("pre")[0].text
    assert _hrefs(code) == ["programs/t_14_02_02.r"]


# ---------------------------------------------------------------- a real browser

def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.parametrize("path", [SDTM, ADAM], ids=["sdtm", "adam"])
def test_chromium_renders_sections_and_links(path: Path, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium or chromium-browser on PATH (apt-get install -y chromium)")
    page_file = tmp_path / "define.html"
    page_file.write_bytes(render_define_html(path.read_bytes()))
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page_file.as_uri()],
        capture_output=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    dom = html.fromstring(done.stdout)
    sections = SECTION_IDS + (["arm"] if path == ADAM else [])
    found = [sid for sid in sections if dom.xpath(f"//*[@id='{sid}']")]
    assert found == sections
    _check_links(dom)
    n_links = len(dom.xpath("//a[starts-with(@href, '#')]"))
    assert n_links == len(_page(path.read_bytes()).xpath("//a[starts-with(@href, '#')]"))
    print(f"chromium {path.name}: {len(done.stdout)} bytes of DOM, sections {found}, "
          f"{n_links} internal links, all resolve")
