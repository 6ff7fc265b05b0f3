"""The reviewer's guides (csdrg.html, adrg.html) written from a real run: one small demo package
built once, every assertion checked against that package's own files (define.xml, XPT,
report.json, data_issues.csv) and the demo study's adam.yaml."""

from __future__ import annotations

import copy
import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree, html

from cdisc.cli import main
from cdisc.io.xpt import read_xpt
from cdisc.reviewers_guide import (
    NOT_PROVIDED,
    UNEXPLAINED,
    build_adrg,
    build_csdrg,
    write_reviewers_guides,
)
from cdisc.yamlsafe import load_yaml
from tests.conftest import DEMO_MAPPING

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}
CSDRG_SECTIONS = ["introduction", "protocol", "subject-data", "conformance", "data-issues",
                  "appendix"]
ADRG_SECTIONS = ["introduction", "protocol", "analysis", "dependencies", "conformance",
                 "appendix"]


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("guides")
    runner = CliRunner()
    made = runner.invoke(main, ["demo", str(root / "raw"), "--subjects", "12"],
                         catch_exceptions=False)
    assert made.exit_code == 0, made.output
    ran = runner.invoke(main, ["run", str(root / "raw"), "--out", str(root / "out"),
                               "--format", "xpt"], catch_exceptions=False)
    assert ran.exit_code == 0, ran.output
    return root / "out"


@pytest.fixture(scope="module")
def report(package: Path) -> dict:
    return json.loads((package / "validation" / "report.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def study() -> dict:
    return load_yaml(DEMO_MAPPING / "study.yaml")


@pytest.fixture(scope="module")
def adam_config() -> dict:
    return load_yaml(DEMO_MAPPING / "adam.yaml")


@pytest.fixture(scope="module")
def csdrg(package: Path, study: dict, report: dict) -> html.HtmlElement:
    return html.fromstring(build_csdrg(package, study, report))


@pytest.fixture(scope="module")
def adrg(package: Path, adam_config: dict, report: dict) -> html.HtmlElement:
    return html.fromstring(build_adrg(package, adam_config, report))


def define_groups(package: Path, part: str) -> list[str]:
    root = etree.parse(str(package / part / "define.xml"))
    return [g.get("Name") for g in root.iterfind(".//odm:ItemGroupDef", NS)]


def table_rows(page: html.HtmlElement, table_id: str) -> list[list[str]]:
    table = page.get_element_by_id(table_id)
    return [[td.text_content().strip() for td in tr.findall("td")]
            for tr in table.find("tbody").findall("tr")]


def section_text(page: html.HtmlElement, section_id: str) -> str:
    return " ".join(page.get_element_by_id(section_id).text_content().split())


def sdtm_findings(package: Path, report: dict) -> list[dict]:
    names = set(define_groups(package, "sdtm"))
    return [f for f in report["findings"] if f["dataset"] in names]


def finding_rows(page: html.HtmlElement, table_id: str = "findings") -> list[html.HtmlElement]:
    return page.get_element_by_id(table_id).find("tbody").findall("tr")


# --- structure -------------------------------------------------------------------------------


def test_sections_have_stable_ids_in_template_order(csdrg: html.HtmlElement,
                                                     adrg: html.HtmlElement) -> None:
    assert [s.get("id") for s in csdrg.iter("section")] == CSDRG_SECTIONS
    assert [s.get("id") for s in adrg.iter("section")] == ADRG_SECTIONS
    for page in (csdrg, adrg):
        assert [s.findtext("h2")[0] for s in page.iter("section")] == list("123456")


def test_ids_are_unique(csdrg: html.HtmlElement, adrg: html.HtmlElement) -> None:
    for page in (csdrg, adrg):
        ids = [el.get("id") for el in page.iter() if el.get("id")]
        assert len(ids) == len(set(ids))


def test_pages_are_self_contained(csdrg: html.HtmlElement, adrg: html.HtmlElement) -> None:
    for page in (csdrg, adrg):
        assert not list(page.iter("script", "link", "img", "iframe", "object"))
        assert all(a.get("href", "").startswith("#") for a in page.iter("a"))
        assert not [el for el in page.iter() if el.get("src")]


# --- cSDRG -------------------------------------------------------------------------------------


def test_standards_come_from_the_define(package: Path, csdrg: html.HtmlElement) -> None:
    root = etree.parse(str(package / "sdtm" / "define.xml"))
    expected = [[s.get("Name"), s.get("Type"), s.get("PublishingSet") or "", s.get("Version"),
                 s.get("Status")] for s in root.iterfind(".//def:Standard", NS)]
    assert table_rows(csdrg, "standards") == expected
    assert ["SDTMIG", "IG", "", "3.4", "Final"] in expected
    dictionaries = [(e.get("Dictionary"), e.get("Version"))
                    for e in root.iterfind(".//odm:ExternalCodeList", NS)]
    if dictionaries:
        assert [(r[0], r[1]) for r in table_rows(csdrg, "dictionaries")] == dictionaries
    else:
        assert "No external dictionary" in section_text(csdrg, "introduction")


def test_protocol_and_design_summary_come_from_ts(package: Path, study: dict,
                                                  csdrg: html.HtmlElement) -> None:
    ts, _ = read_xpt(package / "sdtm" / "ts.xpt")
    value = {p: str(v).strip() for p, v in zip(ts["TSPARMCD"], ts["TSVAL"], strict=True)}
    identity = dict(map(tuple, table_rows(csdrg, "protocol-identity")))
    assert identity["Protocol number"] == study["study"]["protocol"]
    assert identity["Protocol title (TS TITLE)"] == value["TITLE"]
    design = {row[0]: row[2] for row in table_rows(csdrg, "design")}
    for code in ("TPHASE", "STYPE", "NARMS", "PLANSUB", "ACTSUB", "SSTDTC", "SENDTC",
                 "TCNTRL", "INDIC"):
        assert design[code] == value[code], code
    present = {n for n in define_groups(package, "sdtm")} & {"TA", "TE", "TI", "TS", "TV"}
    assert {row[0] for row in table_rows(csdrg, "trial-design")} == present
    ta, _ = read_xpt(package / "sdtm" / "ta.xpt")
    assert {row[0] for row in table_rows(csdrg, "arms")} == set(ta["ARMCD"])


def test_every_sdtm_dataset_with_its_xpt_record_count(package: Path,
                                                      csdrg: html.HtmlElement) -> None:
    rows = {row[0]: row for row in table_rows(csdrg, "datasets")}
    names = define_groups(package, "sdtm")
    assert list(rows) == names
    for name in names:
        df, _ = read_xpt(package / "sdtm" / f"{name.lower()}.xpt")
        assert rows[name][5] == str(len(df)), name
        assert rows[name][6] == f"{name.lower()}.xpt"
    assert rows["DM"][2:5] == ["SPECIAL PURPOSE", "One record per subject", "STUDYID, USUBJID"]
    assert rows["AE"][1] == "Adverse Events"
    assert all(csdrg.get_element_by_id(f"dataset-{name}") is not None for name in names)


def test_sponsor_decisions_are_the_define_methods_and_comments(
        package: Path, csdrg: html.HtmlElement) -> None:
    root = etree.parse(str(package / "sdtm" / "define.xml"))

    def text(el: etree._Element) -> str:
        return " ".join(el.findtext("odm:Description/odm:TranslatedText", namespaces=NS).split())

    methods = {m.get("OID"): text(m) for m in root.iterfind(".//odm:MethodDef", NS)}
    comments = {c.get("OID"): text(c) for c in root.iterfind(".//def:CommentDef", NS)}
    items = {i.get("OID"): i for i in root.iterfind(".//odm:ItemDef", NS)}
    comment_oid = "{%s}CommentOID" % NS["def"]
    for group in root.iterfind(".//odm:ItemGroupDef", NS):
        block = csdrg.get_element_by_id(f"dataset-{group.get('Name')}")
        rows = [[td.text_content() for td in tr.findall("td")]
                for t in block.find_class("methods") for tr in t.find("tbody")]
        notes = [li.text_content() for ul in block.find_class("comments") for li in ul]
        for ref in group.iterfind("odm:ItemRef", NS):
            item = items[ref.get("ItemOID")]
            if ref.get("MethodOID"):
                assert [item.get("Name"), "Computation", methods[ref.get("MethodOID")]] in rows
            if item.get(comment_oid):
                assert f"{item.get('Name')}: {comments[item.get(comment_oid)]}" in notes
        if group.get(comment_oid):
            assert f"dataset: {comments[group.get(comment_oid)]}" in notes
    dm = csdrg.get_element_by_id("dataset-DM").text_content()
    assert methods["MT.DM.RFSTDTC"] in " ".join(dm.split())


def test_rule_counts_come_from_the_report(report: dict, csdrg: html.HtmlElement) -> None:
    counts = dict(map(tuple, table_rows(csdrg, "rule-counts")))
    statuses = [r["status"] for r in report["rules"]]
    assert counts["in the catalogue"] == str(len(report["rules"]))
    assert counts["passed"] == str(statuses.count("passed"))
    assert counts["failed"] == str(statuses.count("failed"))
    assert counts["skipped"] == str(statuses.count("skipped"))
    assert counts["not executable"] == str(statuses.count("not executable"))
    assert counts["executed (passed + failed)"] == str(report["summary"]["rules_executed"])


def test_one_row_per_sdtm_finding_all_unexplained(package: Path, report: dict,
                                                  csdrg: html.HtmlElement) -> None:
    expected = sdtm_findings(package, report)
    assert expected, "the demo package is expected to have SDTM findings"
    rows = finding_rows(csdrg)
    assert len(rows) == len(expected)
    cells = [[td.text_content() for td in tr.findall("td")] for tr in rows]
    assert sorted((c[0], c[3], c[4], int(c[5]), c[6]) for c in cells) == sorted(
        (f["rule"], f["dataset"], f["variable"] or "", f["count"], f["message"])
        for f in expected)
    assert all("unexplained" in tr.get("class").split() for tr in rows)
    assert all(c[7] == UNEXPLAINED for c in cells)
    assert csdrg.get_element_by_id("finding-count").text == str(len(expected))
    assert csdrg.get_element_by_id("unexplained-count").text == str(len(expected))
    # the ADaM findings are in the ADRG, not here
    assert not [c for c in cells if c[3].startswith("AD")]


def _unique_finding(package: Path, report: dict) -> dict:
    findings = sdtm_findings(package, report)
    for f in findings:
        if sum(1 for g in findings if (g["rule"], g["dataset"]) == (f["rule"], f["dataset"])) == 1:
            return f
    pytest.fail("no SDTM finding with a rule/dataset of its own")


def test_a_waiver_explains_its_finding_only(package: Path, study: dict, report: dict) -> None:
    target = _unique_finding(package, report)
    waiver = {"rule": target["rule"], "dataset": target["dataset"].lower(),
              "justification": "Confirmed with the site: the value is correct as collected",
              "author": "J. Reviewer", "date": "2024-05-02"}
    page = html.fromstring(build_csdrg(package, study, report, waivers=[waiver]))
    rows = finding_rows(page)
    assert len(rows) == len(sdtm_findings(package, report))
    explained = [tr for tr in rows if "explained" in tr.get("class").split()]
    assert len(explained) == 1
    cells = [td.text_content() for td in explained[0].findall("td")]
    assert (cells[0], cells[3], cells[6]) == (target["rule"], target["dataset"],
                                              target["message"])
    assert cells[7] == ("Confirmed with the site: the value is correct as collected "
                        "(J. Reviewer, 2024-05-02)")
    assert UNEXPLAINED not in cells[7]
    others = [tr for tr in rows if tr is not explained[0]]
    assert all(tr.findall("td")[7].text_content() == UNEXPLAINED for tr in others)
    assert page.get_element_by_id("explained-count").text == "1"
    assert page.get_element_by_id("unexplained-count").text == str(len(others))


def test_a_waiver_by_reference_id_and_where_splits_a_finding(package: Path, study: dict,
                                                            report: dict) -> None:
    findings = sdtm_findings(package, report)
    target = next(f for f in findings if f["reference"] and f["count"] == len(f["records"])
                  and len({r["usubjid"] for r in f["records"]}) > 1)
    subject = target["records"][0]["usubjid"]
    waived = sum(1 for r in target["records"] if r["usubjid"] == subject)
    waiver = {"rule": target["reference"].split(",")[0].strip(), "dataset": target["dataset"],
              "where": {"USUBJID": subject}, "justification": "Reviewed for this subject",
              "author": "A. Author", "date": "2024-06-01"}
    page = html.fromstring(build_csdrg(package, study, report, waivers=[waiver]))
    rows = finding_rows(page)
    assert len(rows) == len(findings) + 1  # the finding is split in waived and open records
    mine = [[td.text_content() for td in tr.findall("td")] for tr in rows
            if tr.findall("td")[0].text_content() == target["rule"]
            and tr.findall("td")[3].text_content() == target["dataset"]
            and tr.findall("td")[6].text_content() == target["message"]]
    assert sorted((int(c[5]), c[7]) for c in mine) == sorted(
        [(waived, "Reviewed for this subject (A. Author, 2024-06-01)"),
         (target["count"] - waived, UNEXPLAINED)])


def test_unused_waiver_is_listed(package: Path, study: dict, report: dict) -> None:
    waiver = {"rule": "CORE-999999", "dataset": "AE", "justification": "never matches",
              "author": "X", "date": "2024-01-01"}
    page = html.fromstring(build_csdrg(package, study, report, waivers=[waiver]))
    assert table_rows(page, "unused-waivers") == [["CORE-999999", "AE", "never matches", "X",
                                                   "2024-01-01"]]
    assert all("unexplained" in tr.get("class") for tr in finding_rows(page))


def test_a_report_already_waived_keeps_its_justification(package: Path, study: dict,
                                                         report: dict) -> None:
    target = _unique_finding(package, report)
    waived = copy.deepcopy(report)
    for f in waived["findings"]:
        if (f["rule"], f["dataset"]) == (target["rule"], target["dataset"]):
            f["waiver"] = "Accepted at the data review meeting"
    waived["waivers"] = [{"entry": 1, "rule": target["rule"], "dataset": target["dataset"],
                          "where": {}, "justification": "Accepted at the data review meeting",
                          "author": "D. Manager", "date": "2024-03-03",
                          "matched_findings": 1, "matched_records": target["count"]}]
    page = html.fromstring(build_csdrg(package, study, waived))
    texts = [tr.findall("td")[7].text_content() for tr in finding_rows(page)]
    assert texts.count("Accepted at the data review meeting (D. Manager, 2024-03-03)") == 1
    assert texts.count(UNEXPLAINED) == len(texts) - 1
    # the same waiver given again is not reported as unused, nor applied twice
    again = {k: v for k, v in waived["waivers"][0].items()
             if k in ("rule", "dataset", "justification", "author", "date")}
    out = build_csdrg(package, study, waived, waivers=[again])
    assert html.fromstring(out).get_element_by_id("explained-count").text == "1"
    assert b"unused-waivers" not in out


def test_script_in_a_justification_is_escaped(package: Path, study: dict, report: dict) -> None:
    target = _unique_finding(package, report)
    evil = "<script>alert('x')</script> & <b>bold</b>"
    waiver = {"rule": target["rule"], "dataset": target["dataset"], "justification": evil,
              "author": "<img src=x>", "date": "2024-05-02"}
    out = build_csdrg(package, study, report, waivers=[waiver])
    assert b"<script" not in out and b"<img" not in out and b"<b>" not in out
    assert b"&lt;script&gt;alert('x')&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in out
    page = html.fromstring(out)
    assert not list(page.iter("script", "img", "b"))
    assert any(evil in tr.text_content() for tr in finding_rows(page))


def test_data_issues_are_the_csv_rows(package: Path, csdrg: html.HtmlElement) -> None:
    with (package / "sdtm" / "data_issues.csv").open(encoding="utf-8", newline="") as fh:
        issues = list(csv.DictReader(fh))
    assert issues, "the demo is expected to raise data issues"
    assert csdrg.get_element_by_id("data-issue-count").text == str(len(issues))
    rows = table_rows(csdrg, "data-issues-table")
    assert len(rows) == len(issues)
    assert [r[2] for r in rows] == [i["subject"] for i in issues]
    assert [r[-1] for r in rows] == [i["query"] for i in issues]


def test_appendix_lists_the_files_with_their_sizes(package: Path,
                                                   csdrg: html.HtmlElement) -> None:
    listed = {row[0]: int(row[1]) for row in table_rows(csdrg, "files")}
    sdtm = package / "sdtm"
    expected = {f"sdtm/{p.name}": p.stat().st_size for p in sdtm.glob("*.xpt")}
    for name in ("define.xml", "define.html"):
        expected[f"sdtm/{name}"] = (sdtm / name).stat().st_size
    assert listed == expected


# --- ADRG --------------------------------------------------------------------------------------


def test_adrg_introduction_has_adamig_and_ct(package: Path, adrg: html.HtmlElement) -> None:
    rows = table_rows(adrg, "standards")
    root = etree.parse(str(package / "adam" / "define.xml"))
    ig = root.find(".//def:Standard[@Type='IG']", NS)
    assert [ig.get("Name"), "IG", "", ig.get("Version"), ig.get("Status")] in rows
    assert ig.get("Name") == "ADaMIG"
    assert any(r[1] == "CT" for r in rows)


def test_adrg_populations_count_the_adsl_flags(package: Path, adrg: html.HtmlElement) -> None:
    adsl, _ = read_xpt(package / "adam" / "adsl.xpt")
    rows = {row[0]: row for row in table_rows(adrg, "populations")}
    assert set(rows) == {"ENRLFL", "TRTFL", "SAFFL", "EFFFL"}
    for flag, row in rows.items():
        assert row[3] == str(int((adsl[flag] == "Y").sum())), flag
        assert row[4] == str(len(adsl))
    # treated includes lymphodepletion only; efficacy is every infused subject
    treated = int((adsl["LDSTDT"].notna() | adsl["TRTSDT"].notna()).sum())
    assert rows["TRTFL"][3] == str(treated) and rows["EFFFL"][3] == rows["SAFFL"][3]
    assert rows["ENRLFL"][3] == str(int((adsl["ARMCD"] != "").sum()))
    assert "populations.TRTFL: " in rows["TRTFL"][2] and "LDSTDT" in rows["TRTFL"][2]
    assert rows["TRTFL"][1] == "Y when any of LDSTDT, TRTSDT is populated, else N."


def test_adrg_lists_every_adtte_parameter_with_its_configured_sources(
        package: Path, adam_config: dict, adrg: html.HtmlElement) -> None:
    adtte, _ = read_xpt(package / "adam" / "adtte.xpt")
    codes = sorted(set(adtte["PARAMCD"]))
    assert codes == sorted(adam_config["parameters"])
    for code in codes:
        spec = adam_config["parameters"][code]
        rows = table_rows(adrg, f"tte-{code}")
        assert rows[0][:2] == ["start", spec["start"]]
        expected = ([("event", "0", e["description"]) for e in spec["events"]]
                    + [("censoring", str(c["cnsr"]), c["description"]) for c in spec["censors"]]
                    + [("censor at", str(c["cnsr"]), c["description"])
                       for c in spec.get("censor_at", [])])
        assert [(r[0], r[3], r[4]) for r in rows[1:]] == expected
        observed = table_rows(adrg, f"tte-{code}-observed")
        mine = adtte[adtte["PARAMCD"] == code]
        assert sum(int(r[2]) for r in observed) == len(mine)
        for cnsr in set(mine["CNSR"]):
            assert sum(int(r[2]) for r in observed if r[0] == str(int(cnsr))) == int(
                (mine["CNSR"] == cnsr).sum())
        assert all(r[3] == "" for r in observed)  # every CNSR present is a configured one


def test_adrg_response_parameters_and_imputation(package: Path, adam_config: dict,
                                                 adrg: html.HtmlElement) -> None:
    adrs, _ = read_xpt(package / "adam" / "adrs.xpt")
    rows = {row[0]: row for row in table_rows(adrg, "adrs-parameters")}
    assert set(rows) == set(adrs["PARAMCD"])
    for code, row in rows.items():
        assert row[2] == str(int((adrs["PARAMCD"] == code).sum()))
    crcri = adam_config["response"]["subject_parameters"]["CRCRI"]
    assert "response.subject_parameters.CRCRI = " in rows["CRCRI"][3]
    assert all(v in rows["CRCRI"][3] for v in crcri["achieved"])
    assert "response.population = EFFFL" in rows["CRCRI"][3]
    assert "response.where = RSTESTCD = OVRLRESP" in rows["OVR"][3]
    imputation = {row[0]: row for row in table_rows(adrg, "imputation")}
    assert imputation["death.impute"][2].startswith(adam_config["death"]["impute"])


def test_adrg_analyses_are_the_configured_ones(adam_config: dict,
                                              adrg: html.HtmlElement) -> None:
    analyses = adam_config.get("analyses") or []
    if not analyses:
        assert "Analysis results (adam.yaml analyses): not provided" in section_text(
            adrg, "analysis")
        return
    rows = table_rows(adrg, "analyses")
    assert [(r[0], r[5], r[6]) for r in rows] == [(a["id"], a["dataset"], a["parameter"])
                                                  for a in analyses]


def test_adrg_dependencies(adrg: html.HtmlElement) -> None:
    deps = {(row[0], row[1]): row[2] for row in table_rows(adrg, "data-dependencies")}
    assert "adam.yaml: response.dataset" in deps[("ADRS", "RS")]
    assert "Predecessor origin" in deps[("ADRS", "ADSL")]
    assert "adam.yaml: treatment.exposure" in deps[("ADSL", "EX")]
    assert "Predecessor origin" in deps[("ADSL", "DM")]
    assert {("ADTTE", "ADSL"), ("ADTTE", "ADRS")} <= set(deps)
    assert ("ADRS", "ADTTE") not in deps


def test_adrg_findings_are_the_adam_ones(package: Path, report: dict,
                                         adrg: html.HtmlElement) -> None:
    names = set(define_groups(package, "adam"))
    expected = [f for f in report["findings"] if f["dataset"] in names]
    rows = finding_rows(adrg)
    assert len(rows) == len(expected)
    assert {tr.findall("td")[3].text_content() for tr in rows} <= names


# --- determinism, writing, missing inputs ------------------------------------------------------


def test_same_package_same_bytes(package: Path, study: dict, adam_config: dict,
                                 report: dict) -> None:
    waiver = [{"rule": "CORE-000718", "dataset": "AE", "justification": "ok", "author": "A",
               "date": "2024-01-01"}]
    assert build_csdrg(package, study, report, waivers=waiver) == build_csdrg(
        package, copy.deepcopy(study), copy.deepcopy(report), waivers=copy.deepcopy(waiver))
    assert build_adrg(package, adam_config, report) == build_adrg(
        package, copy.deepcopy(adam_config), copy.deepcopy(report))


def test_write_reviewers_guides(package: Path, study: dict, adam_config: dict, report: dict,
                                tmp_path: Path) -> None:
    copied = tmp_path / "pkg"
    shutil.copytree(package, copied)
    paths = write_reviewers_guides(copied, study, adam_config, report)
    assert paths == [copied / "sdtm" / "csdrg.html", copied / "adam" / "adrg.html"]
    first = [p.read_bytes() for p in paths]
    assert first[0] == build_csdrg(copied, study, report)
    assert first[0].startswith(b"<!DOCTYPE html>") and b'charset="utf-8"' in first[0]
    # the guides are not listed in their own appendix, so a rewrite gives the same bytes
    assert [p.read_bytes() for p in write_reviewers_guides(copied, study, adam_config,
                                                           report)] == first
    shutil.rmtree(copied / "adam")
    assert write_reviewers_guides(copied, study, None, report) == [copied / "sdtm" /
                                                                   "csdrg.html"]


def test_missing_optional_parts_say_not_provided(package: Path, study: dict,
                                                 tmp_path: Path) -> None:
    copied = tmp_path / "pkg"
    shutil.copytree(package / "sdtm", copied / "sdtm")
    for name in ("ts.xpt", "data_issues.csv", "define.xml", "define.html"):
        (copied / "sdtm" / name).unlink()
    page = html.fromstring(build_csdrg(copied, study, {}))
    assert NOT_PROVIDED in section_text(page, "introduction")
    assert "Trial summary (sdtm/ts.xpt): not provided" in section_text(page, "protocol")
    assert "Validation results (validation/report.json): not provided" in section_text(
        page, "conformance")
    assert "Data issues (sdtm/data_issues.csv): not provided" in section_text(page, "data-issues")
    # without define.xml the datasets still come from the files, with their record counts
    rows = {row[0]: row for row in table_rows(page, "datasets")}
    dm, _ = read_xpt(copied / "sdtm" / "dm.xpt")
    assert "TS" not in rows and rows["DM"][5] == str(len(dm))
    assert rows["DM"][2] == NOT_PROVIDED

    adrg = html.fromstring(build_adrg(copied, {}, {}))
    for section in ADRG_SECTIONS[:-1]:
        assert NOT_PROVIDED in section_text(adrg, section), section
    assert "The adam/ folder: not provided" in section_text(adrg, "appendix")


def test_record_counts_the_report_carries_are_used(package: Path, study: dict, report: dict,
                                                   tmp_path: Path) -> None:
    copied = tmp_path / "pkg"
    shutil.copytree(package / "sdtm", copied / "sdtm")
    lb, _ = read_xpt(copied / "sdtm" / "lb.xpt")
    (copied / "sdtm" / "lb.xpt").unlink()
    rows = {r[0]: r for r in table_rows(html.fromstring(build_csdrg(copied, study, report)),
                                        "datasets")}
    assert rows["LB"][5:] == [NOT_PROVIDED, NOT_PROVIDED]
    counted = {**report, "dataset_records": {"LB": len(lb)}}
    rows = {r[0]: r for r in table_rows(html.fromstring(build_csdrg(copied, study, counted)),
                                        "datasets")}
    assert rows["LB"][5:] == [str(len(lb)), NOT_PROVIDED]


def test_an_empty_folder_gives_both_guides(tmp_path: Path) -> None:
    csdrg = html.fromstring(build_csdrg(tmp_path, {}, {}, waivers=None))
    adrg = html.fromstring(build_adrg(tmp_path, None, {}))  # type: ignore[arg-type]
    for page, ids in ((csdrg, CSDRG_SECTIONS), (adrg, ADRG_SECTIONS)):
        assert [s.get("id") for s in page.iter("section")] == ids
        for section in ids:
            assert NOT_PROVIDED in section_text(page, section), section


def test_unreadable_define_is_reported_not_raised(package: Path, study: dict, report: dict,
                                                  tmp_path: Path) -> None:
    copied = tmp_path / "pkg"
    shutil.copytree(package / "sdtm", copied / "sdtm")
    (copied / "sdtm" / "define.xml").write_bytes(b"<!DOCTYPE x [<!ENTITY a 'b'>]><ODM>&a;</ODM>")
    text = section_text(html.fromstring(build_csdrg(copied, study, report)), "introduction")
    assert "sdtm/define.xml could not be read" in text


def test_cdisc_run_writes_both_guides_and_the_defines_point_at_them(
        package: Path, study: dict, adam_config: dict, report: dict) -> None:
    from lxml import etree

    from cdisc.pipeline import ADRG, CSDRG

    for part, (leaf_id, href, title), build in (
            ("sdtm", CSDRG, lambda: build_csdrg(package, study, report)),
            ("adam", ADRG, lambda: build_adrg(package, adam_config, report))):
        written = (package / part / href).read_bytes()
        assert written == build()  # the run's guide is the one its own outputs give
        define = etree.parse(str(package / part / "define.xml")).getroot()
        ns = {"def": "http://www.cdisc.org/ns/def/v2.1"}
        ref = define.find(".//def:SupplementalDoc/def:DocumentRef", ns)
        assert ref.get("leafID") == leaf_id
        leaf = define.find(f".//def:leaf[@ID='{leaf_id}']", ns)
        assert leaf.get("{http://www.w3.org/1999/xlink}href") == href
        assert leaf.findtext("def:title", namespaces=ns) == title
