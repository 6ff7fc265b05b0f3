"""What the SDTM define.xml of the demo study tells a reviewer: value-level metadata, external
dictionaries, origins with their source, comments, SUPP-- domains. Expected values are read
off the study configuration (mappings/nct04265963) and Define-XML 2.1 by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from lxml import etree

from cdisc.define import validate_define
from cdisc.define_vlm import value_lists
from cdisc.model import Column, Dataset, Origin
from cdisc.paths import DEMO_MAPPING_DIR, DEMO_RAW_DIR, SPECS_DIR
from cdisc.pipeline import map_raw, write_sdtm

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}


@pytest.fixture(scope="module")
def define(tmp_path_factory) -> etree._Element:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("define") / "sdtm"
    specs, config, result = map_raw(DEMO_RAW_DIR, DEMO_MAPPING_DIR)
    write_sdtm(folder, specs, config, result, ("xpt",), "2024-01-01T00:00:00")
    xml = (folder / "define.xml").read_bytes()
    assert validate_define(xml, SPECS_DIR / "define-xml-2.1") == []
    return etree.fromstring(xml)


def _item(define: etree._Element, oid: str) -> etree._Element:
    found = define.find(f".//odm:ItemDef[@OID='{oid}']", NS)
    assert found is not None, oid
    return found


def _where(define: etree._Element, oid: str) -> list[tuple[str, str, list[str]]]:
    clause = define.find(f".//def:WhereClauseDef[@OID='{oid}']", NS)
    assert clause is not None, oid
    return [(rc.get(f"{{{NS['def']}}}ItemOID"), rc.get("Comparator"),
             [cv.text for cv in rc.findall("odm:CheckValue", NS)])
            for rc in clause.findall("odm:RangeCheck", NS)]


def _value_list(define: etree._Element, oid: str) -> list[etree._Element]:
    vl = define.find(f".//def:ValueListDef[@OID='{oid}']", NS)
    assert vl is not None, oid
    return vl.findall("odm:ItemRef", NS)


def test_supplemental_datasets_name_their_parent_domain(define) -> None:  # type: ignore[no-untyped-def]
    groups = {g.get("Name"): g.get("Domain") for g in define.iterfind(".//odm:ItemGroupDef", NS)}
    assert groups["SUPPAE"] == "AE" and groups["SUPPMH"] == "MH" and groups["SUPPPR"] == "PR"
    assert groups["LB"] == "LB"


def test_supp_qval_has_value_level_metadata_by_qnam(define) -> None:  # type: ignore[no-untyped-def]
    refs = _value_list(define, "VL.SUPPAE.QVAL")
    assert [r.get("ItemOID") for r in refs] == ["IT.SUPPAE.QVAL.AETOXGRS"]
    where = refs[0].find("def:WhereClauseRef", NS).get("WhereClauseOID")
    assert _where(define, where) == [("IT.SUPPAE.QNAM", "EQ", ["AETOXGRS"])]
    item = _item(define, "IT.SUPPAE.QVAL.AETOXGRS")
    assert item.get("Name") == "AETOXGRS"
    assert item.findtext("odm:Description/odm:TranslatedText", namespaces=NS) == \
        "Toxicity Grading Scale"
    assert _item(define, "IT.SUPPAE.QVAL").find("def:ValueListRef", NS).get(
        "ValueListOID") == "VL.SUPPAE.QVAL"


def test_findings_results_by_test_split_by_specimen_only_where_it_varies(define) -> None:  # type: ignore[no-untyped-def]
    # the qPCR transgene (PC) is measured in blood and in bone marrow; albumin in serum only
    assert _where(define, "WC.LB.LBTESTCD.ALB") == [("IT.LB.LBTESTCD", "EQ", ["ALB"])]
    assert _where(define, "WC.PC.PCTESTCD.CARTCOPY.PCSPEC.BLOOD") == [
        ("IT.PC.PCTESTCD", "EQ", ["CARTCOPY"]), ("IT.PC.PCSPEC", "EQ", ["BLOOD"])]
    assert _where(define, "WC.PC.PCTESTCD.CARTCOPY.PCSPEC.BONE_MARROW")[1] == \
        ("IT.PC.PCSPEC", "EQ", ["BONE MARROW"])
    refs = {r.get("ItemOID") for r in _value_list(define, "VL.PC.PCSTRESN")}
    assert refs == {"IT.PC.PCSTRESN.CARTCOPY.BLOOD", "IT.PC.PCSTRESN.CARTCOPY.BONE_MARROW"}
    assert "IT.LB.LBSTRESN.ALB" in {r.get("ItemOID") for r in _value_list(define,
                                                                          "VL.LB.LBSTRESN")}
    unit = _item(define, "IT.LB.LBSTRESU.ALB")
    assert unit.find("odm:CodeListRef", NS).get("CodeListOID") == "CL.UNIT"
    # CD123+ blasts are measured in marrow only: one description, no specimen in its clause
    assert _where(define, "WC.CP.CPTESTCD.BLSBL") == [("IT.CP.CPTESTCD", "EQ", ["BLSBL"])]


def test_kinetics_codelists_and_derivations(define) -> None:  # type: ignore[no-untyped-def]
    """PC's test code has no CDISC codelist: the sponsor's, decoded by PCTEST; its unit is the
    PKUNIT term DNA copies/ug (C170632); CP's tests and category are CT terms or extended
    values of the extensible lists; the nominal times say how they are derived."""
    code = define.find(".//odm:CodeList[@OID='CL.PCTESTCD']", NS)
    assert [(i.get("CodedValue"), i.findtext(".//odm:TranslatedText", namespaces=NS))
            for i in code.iterfind("odm:CodeListItem", NS)] == [
        ("CARTCOPY", "CAR-T Transgene Copies")]
    assert _item(define, "IT.PC.PCTESTCD").find("odm:CodeListRef", NS).get(
        "CodeListOID") == "CL.PCTESTCD"
    pkunit = define.find(".//odm:CodeList[@OID='CL.PKUNIT']", NS)
    # PC's concentration unit and PP's time and AUC units (PKUNIT C85494)
    terms = {t.get("CodedValue"): t.find("odm:Alias", NS).get("Name")
             for t in pkunit.iterfind("odm:EnumeratedItem", NS)}
    assert terms == {"DNA copies/ug": "C170632", "day": "C25301", "h*DNA copies/ug": "C172585"}
    assert _item(define, "IT.PC.PCSTRESU").find("odm:CodeListRef", NS).get(
        "CodeListOID") == "CL.PKUNIT"

    def items(oid: str) -> dict[str, str | None]:
        cl = define.find(f".//odm:CodeList[@OID='{oid}']", NS)
        return {i.get("CodedValue"): (i.find("odm:Alias", NS).get("Name")
                                      if i.find("odm:Alias", NS) is not None else
                                      i.get("{http://www.cdisc.org/ns/def/v2.1}ExtendedValue"))
                for i in cl.iterfind("odm:EnumeratedItem", NS)}

    assert items("CL.CPTESTCD") == {"BLSBL": "Yes", "TLSTLY": "C181261"}
    assert items("CL.CPCAT") == {"CELLULAR KINETICS": "Yes", "IMMUNOPHENOTYPING": "C181250"}
    assert items("CL.METHOD")["REAL-TIME POLYMERASE CHAIN REACTION ASSAY"] == "C51962"
    assert items("CL.METHOD")["FLOW CYTOMETRY"] == "C16585"
    for var, words in (("PCTPTNUM", "VISITDY"), ("PCELTM", "ISO 8601 duration"),
                       ("PCRFTDTC", "first CAR-T infusion"), ("CPTPTNUM", "VISITDY")):
        domain = var[:2]
        ref = define.find(f".//odm:ItemGroupDef[@OID='IG.{domain}']/odm:ItemRef"
                          f"[@ItemOID='IT.{domain}.{var}']", NS)
        method = define.find(f".//odm:MethodDef[@OID='{ref.get('MethodOID')}']", NS)
        assert words in method.findtext(".//odm:TranslatedText", namespaces=NS), var
        assert _item(define, f"IT.{domain}.{var}").find("def:Origin", NS).get("Type") == \
            "Derived"


def test_result_variables_are_not_codelists_of_observed_numbers(define) -> None:  # type: ignore[no-untyped-def]
    for name in ("IT.LB.LBORRES", "IT.LB.LBSTRESC"):
        assert _item(define, name).find("odm:CodeListRef", NS) is None
    names = {cl.get("OID") for cl in define.iterfind(".//odm:CodeList", NS)}
    assert "CL.LBSTRESC" not in names


def test_response_results_by_test_and_category(define) -> None:  # type: ignore[no-untyped-def]
    (ref,) = _value_list(define, "VL.RS.RSSTRESC")
    where = ref.find("def:WhereClauseRef", NS).get("WhereClauseOID")
    assert _where(define, where) == [("IT.RS.RSTESTCD", "EQ", ["OVRLRESP"]),
                                     ("IT.RS.RSCAT", "EQ", ["ELN DOHNER AML 2017"])]
    item = _item(define, ref.get("ItemOID"))
    assert item.find("odm:CodeListRef", NS).get("CodeListOID") == "CL.ONCRSR"


def test_every_sdtm_origin_has_type_and_source(define) -> None:  # type: ignore[no-untyped-def]
    origins = define.findall(".//def:Origin", NS)
    assert origins
    for origin in origins:
        assert origin.get("Type") != "Not Available"
        if origin.get("Type") == "Predecessor":
            assert origin.get("Source") is None
        else:
            assert origin.get("Source") in ("Investigator", "Vendor", "Sponsor", "Subject")


def test_coded_terms_are_assigned_from_the_configured_dictionary(define) -> None:  # type: ignore[no-untyped-def]
    decod = _item(define, "IT.AE.AEDECOD")
    assert decod.find("def:Origin", NS).attrib == {"Type": "Assigned", "Source": "Sponsor"}
    assert decod.find("odm:CodeListRef", NS).get("CodeListOID") == "CL.MEDDRA"
    ext = define.find(".//odm:CodeList[@OID='CL.MEDDRA']/odm:ExternalCodeList", NS)
    assert ext.attrib == {"Dictionary": "MedDRA", "Version": "26.1"}
    # a numeric code gets no text codelist
    assert _item(define, "IT.AE.AEPTCD").find("odm:CodeListRef", NS) is None
    country = _item(define, "IT.DM.COUNTRY")  # collected, written in ISO 3166 codes
    assert country.find("def:Origin", NS).get("Type") == "Collected"
    assert define.find(".//odm:CodeList[@OID='CL.ISO_3166_1_ALPHA_3']/odm:ExternalCodeList",
                       NS).get("Version") == "2020-08"


def test_vendor_data_say_so_at_value_level(define) -> None:  # type: ignore[no-untyped-def]
    kinetics = _item(define, "IT.PC.PCORRES.CARTCOPY.BLOOD").find("def:Origin", NS)
    assert kinetics.attrib == {"Type": "Collected", "Source": "Vendor"}
    flow = _item(define, "IT.CP.CPORRES.TLSTLY.BLOOD").find("def:Origin", NS)
    assert flow.attrib == {"Type": "Collected", "Source": "Vendor"}
    local = _item(define, "IT.LB.LBORRES.ALB").find("def:Origin", NS)
    assert local.attrib == {"Type": "Collected", "Source": "Investigator"}


def test_sponsor_decisions_are_comments(define) -> None:  # type: ignore[no-untyped-def]
    epoch = define.find(".//def:CommentDef[@OID='COM.EPOCH']", NS)
    text = epoch.findtext(".//odm:TranslatedText", namespaces=NS)
    assert "SCREENING: before DM.RFXSTDTC" in text
    assert "TREATMENT: from DM.RFXSTDTC through DM.RFSTDTC + 28 days" in text
    assert "FOLLOW-UP: after DM.RFSTDTC + 28 days" in text
    users = define.findall(".//odm:ItemDef[@def:CommentOID='COM.EPOCH']", NS)
    assert {u.get("Name") for u in users} == {"EPOCH"} and len(users) >= 5
    grade = define.find(".//def:CommentDef[@OID='COM.AE.AETOXGR']", NS)
    assert "CTCAE v5.0" in grade.findtext(".//odm:TranslatedText", namespaces=NS)
    assert _item(define, "IT.DM.RFSTDTC").get(f"{{{NS['def']}}}CommentOID") == "COM.DM.RFSTDTC"


def test_every_reference_resolves(define) -> None:  # type: ignore[no-untyped-def]
    defined = {e.get("OID") for e in define.iter() if e.get("OID")}
    refs = [(attr, e.get(attr)) for e in define.iter()
            for attr in ("ItemOID", "WhereClauseOID", "ValueListOID", "CodeListOID",
                         "MethodOID", f"{{{NS['def']}}}CommentOID", f"{{{NS['def']}}}ItemOID")
            if e.get(attr)]
    assert refs
    assert [r for r in refs if r[1] not in defined] == []


def _tiny_findings() -> Dataset:
    data = pd.DataFrame({
        "LBTESTCD": ["ALB", "ALB", "CD4", "CD4", "HGB"],
        "LBTEST": ["Albumin", "Albumin", "CD4 Cells", "CD4 Cells", "Hemoglobin"],
        "LBSPEC": ["SERUM", "SERUM", "BLOOD", "BONE MARROW", "BLOOD"],
        "LBORRES": ["40", "41.5", "12", "", ""],
        "LBSTRESN": [40.0, 41.5, 12.0, float("nan"), float("nan")]})
    cols = [Column("LBTESTCD", "Lab Test or Examination Short Name", "Char"),
            Column("LBTEST", "Lab Test or Examination Name", "Char"),
            Column("LBSPEC", "Specimen Type", "Char"),
            Column("LBORRES", "Result or Finding in Original Units", "Char",
                   origin=Origin("Collected", "Investigator")),
            Column("LBSTRESN", "Numeric Result/Finding in Standard Units", "Num")]
    return Dataset("LB", "Laboratory Test Results", cols, data, dataset_class="Findings")


def test_value_lists_of_a_hand_made_dataset() -> None:
    lists = {vl.variable: vl for vl in value_lists(_tiny_findings(), {}, {})}
    orres = lists["LBORRES"]
    # CD4 in two specimens: split; ALB in one; HGB and CD4 in marrow have no result
    assert [i.where.checks for i in orres.items] == [
        (("LBTESTCD", "ALB"),), (("LBTESTCD", "CD4"), ("LBSPEC", "BLOOD"))]
    assert [i.oid for i in orres.items] == ["IT.LB.LBORRES.ALB", "IT.LB.LBORRES.CD4.BLOOD"]
    assert orres.items[0].label == "Result or Finding in Original Units (Albumin)"
    assert list(orres.items[0].values) == ["40", "41.5"]
    assert [i.oid for i in lists["LBSTRESN"].items] == ["IT.LB.LBSTRESN.ALB",
                                                        "IT.LB.LBSTRESN.CD4.BLOOD"]


def test_no_value_lists_outside_the_rules() -> None:
    ds = _tiny_findings()
    events = Dataset("AE", "Adverse Events", ds.columns, ds.data, dataset_class="Events")
    assert value_lists(events, {}, {}) == []


def test_config_dictionary_needs_version(tmp_path: Path) -> None:
    import shutil

    from cdisc.errors import SpecError
    from cdisc.sdtm.mapping import load_study
    from cdisc.specs import load_specs

    folder = tmp_path / "m"
    shutil.copytree(DEMO_MAPPING_DIR, folder)
    study = folder / "study.yaml"
    study.write_text(study.read_text().replace('    version: "26.1"\n', ""))
    with pytest.raises(SpecError) as err:
        load_study(folder, load_specs())
    assert "dictionary MedDRA needs a 'version'" in err.value.message


# --- ADaM -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def adam_define(tmp_path_factory) -> etree._Element:  # type: ignore[no-untyped-def]
    from cdisc.adam.build import derive_from_sdtm
    from cdisc.adam.config import load_config
    from cdisc.io.xpt import as_read_back
    from cdisc.pipeline import study_info, write_adam

    folder = tmp_path_factory.mktemp("adam")
    specs, config, result = map_raw(DEMO_RAW_DIR, DEMO_MAPPING_DIR)
    sdtm = {name: as_read_back(ds) for name, ds in result.datasets.items()}
    adam = derive_from_sdtm(sdtm, load_config(DEMO_MAPPING_DIR / "adam.yaml"), None)
    write_adam(folder, adam, study_info(config), ("xpt",), "2024-01-01T00:00:00")
    xml = (folder / "define.xml").read_bytes()
    assert validate_define(xml, SPECS_DIR / "define-xml-2.1") == []
    return etree.fromstring(xml)


def _origin(item: etree._Element) -> tuple[str, str | None, str | None]:
    origin = item.find("def:Origin", NS)
    return (origin.get("Type"), origin.get("Source"),
            origin.findtext("odm:Description/odm:TranslatedText", namespaces=NS))


def test_adsl_copies_of_dm_are_predecessors(adam_define) -> None:  # type: ignore[no-untyped-def]
    for var in ("AGE", "SEX", "RACE", "SITEID", "ARM"):
        assert _origin(_item(adam_define, f"IT.ADSL.{var}")) == ("Predecessor", None, f"DM.{var}")
    assert _origin(_item(adam_define, "IT.ADTTE.AGE")) == ("Predecessor", None, "ADSL.AGE")
    assert _origin(_item(adam_define, "IT.ADRS.VISIT")) == ("Predecessor", None, "RS.VISIT")


def test_no_placeholder_methods(adam_define) -> None:  # type: ignore[no-untyped-def]
    texts = [m.findtext(".//odm:TranslatedText", namespaces=NS)
             for m in adam_define.iterfind(".//odm:MethodDef", NS)]
    assert texts and all(t and "See the" not in t and "adam.yaml" not in t for t in texts)


def _items(define: etree._Element, oid: str) -> list[tuple[str, str]]:
    cl = define.find(f".//odm:CodeList[@OID='{oid}']", NS)
    assert cl is not None, oid
    return [(i.get("CodedValue"), i.findtext("odm:Decode/odm:TranslatedText", namespaces=NS))
            for i in cl if i.tag.endswith("Item")]


def test_adam_codelists(adam_define) -> None:  # type: ignore[no-untyped-def]
    # from adam.yaml: the PFS parameter's censoring reasons, the age groups, the parameters
    assert _items(adam_define, "CL.ADTTE.CNSR.PFS") == [
        ("0", "EVENT: DISEASE PROGRESSION OR RELAPSE OR DEATH"),
        ("1", "LAST ADEQUATE RESPONSE ASSESSMENT"),
        ("2", "NO POST-BASELINE RESPONSE ASSESSMENT"),
        ("3", "LAST ADEQUATE ASSESSMENT BEFORE HSCT"),
        ("4", "LAST ADEQUATE ASSESSMENT BEFORE NEW THERAPY")]
    assert _items(adam_define, "CL.ADTTE.CNSR.OS") == [("0", "EVENT: DEATH"),
                                                      ("1", "LAST KNOWN ALIVE DATE"),
                                                      ("2", "NO DATE KNOWN ALIVE AFTER START")]
    assert _items(adam_define, "CL.ADTTE.CNSR.EFS") == [
        ("0", "EVENT: INDUCTION FAILURE OR RELAPSE OR PROGRESSION OR DEATH"),
        ("1", "LAST ADEQUATE RESPONSE ASSESSMENT"),
        ("2", "NO POST-BASELINE RESPONSE ASSESSMENT")]
    assert _items(adam_define, "CL.AGEGR1") == [("<18", None), ("18-64", None), (">=65", None)]
    assert _items(adam_define, "CL.ADTTE.PARAMCD") == [
        ("DOR", "Duration of Response (CR/CRi) (days)"), ("EFS", "Event-Free Survival (days)"),
        ("OS", "Overall Survival (days)"), ("PFS", "Progression-Free Survival (days)"),
        ("PFSSENS", "PFS, No Censoring at HSCT or New Therapy (days)"),
        ("RFS", "Relapse-Free Survival (CR/CRi) (days)")]
    assert _item(adam_define, "IT.ADSL.SAFFL").find("odm:CodeListRef", NS).get(
        "CodeListOID") == "CL.NY"
    assert _item(adam_define, "IT.ADSL.AGEGR1").find("odm:CodeListRef", NS).get(
        "CodeListOID") == "CL.AGEGR1"


def test_adam_value_level_metadata_per_parameter(adam_define) -> None:  # type: ignore[no-untyped-def]
    refs = _value_list(adam_define, "VL.ADTTE.CNSR")
    assert [r.get("ItemOID") for r in refs] == [f"IT.ADTTE.CNSR.{p}" for p in (
        "DOR", "EFS", "OS", "PFS", "PFSSENS", "RFS")]
    efs = adam_define.find(".//odm:MethodDef[@OID='MT.ADTTE.CNSR.EFS']", NS)
    assert "INDUCTION FAILURE (the start date, when no ADRS record where PARAMCD = OVR and " \
           "AVALC in CR, CRi, MORPHOLOGIC LEUKEMIA-FREE STATE is dated within 42 days of " \
           "STARTDT)" in efs.findtext(".//odm:TranslatedText", namespaces=NS)
    pfs = _item(adam_define, "IT.ADTTE.CNSR.PFS")
    assert pfs.find("odm:CodeListRef", NS).get("CodeListOID") == "CL.ADTTE.CNSR.PFS"
    method = adam_define.find(".//odm:MethodDef[@OID='MT.ADTTE.CNSR.PFS']", NS)
    text = method.findtext(".//odm:TranslatedText", namespaces=NS)
    assert text.startswith("PFS (Progression-Free Survival (days)): from STARTDT = ADSL.TRTSDT")
    assert "DISEASE PROGRESSION OR RELAPSE (ADRS.ADT where PARAMCD = OVR and AVALC in PD, " \
           "RELAPSED DISEASE FROM CR)" in text
    assert "CNSR = 2: NO POST-BASELINE RESPONSE ASSESSMENT (the start date)" in text
    assert "ADSL.HSCTDT (CNSR = 3: LAST ADEQUATE ASSESSMENT BEFORE HSCT)" in text
    assert _where(adam_define, "WC.ADRS.PARAMCD.CRCRI") == [("IT.ADRS.PARAMCD", "EQ", ["CRCRI"])]
    assert _item(adam_define, "IT.ADRS.AVALC.CRCRI").find("odm:CodeListRef", NS).get(
        "CodeListOID") == "CL.NY"
    assert _item(adam_define, "IT.ADRS.AVALC.OVR").find("odm:CodeListRef", NS).get(
        "CodeListOID") == "CL.ONCRSR"


def test_adam_origins_have_sponsor_source(adam_define) -> None:  # type: ignore[no-untyped-def]
    for origin in adam_define.iterfind(".//def:Origin", NS):
        if origin.get("Type") == "Predecessor":
            assert origin.get("Source") is None
        else:
            assert (origin.get("Type"), origin.get("Source")) in (("Derived", "Sponsor"),
                                                                  ("Assigned", "Sponsor"))


def test_adam_references_resolve(adam_define) -> None:  # type: ignore[no-untyped-def]
    test_every_reference_resolves(adam_define)


ARM = {"arm": "http://www.cdisc.org/ns/arm/v1.0"}


def test_analysis_results_metadata_for_the_primary_and_time_to_event_analyses(adam_define) -> None:  # type: ignore[no-untyped-def]
    results = {r.get("OID"): r for r in adam_define.iterfind(".//arm:AnalysisResult", ARM)}
    assert sorted(results) == ["AR.CRCRI", "AR.DOR", "AR.OS", "AR.PFS"]
    primary = results["AR.CRCRI"]
    assert primary.get("AnalysisPurpose") == "PRIMARY OUTCOME MEASURE"
    assert primary.get("ParameterOID") == "IT.ADRS.PARAMCD"
    dataset = primary.find("arm:AnalysisDatasets/arm:AnalysisDataset", ARM)
    assert dataset.get("ItemGroupOID") == "IG.ADRS"
    where = dataset.find("def:WhereClauseRef", NS).get("WhereClauseOID")
    # the efficacy population's (all infused) CR/CRi record, as adam.yaml analyses says
    assert _where(adam_define, where) == [("IT.ADRS.PARAMCD", "EQ", ["CRCRI"]),
                                          ("IT.ADRS.EFFFL", "EQ", ["Y"])]
    assert [v.get("ItemOID") for v in dataset.findall("arm:AnalysisVariable", ARM)] == \
        ["IT.ADRS.AVALC"]
    assert "Clopper-Pearson" in primary.findtext("arm:Documentation//odm:TranslatedText",
                                                 namespaces={**ARM, **NS})
    pfs = results["AR.PFS"].find("arm:AnalysisDatasets/arm:AnalysisDataset", ARM)
    assert _where(adam_define, pfs.find("def:WhereClauseRef", NS).get("WhereClauseOID")) == \
        [("IT.ADTTE.PARAMCD", "EQ", ["PFS"])]
    assert [v.get("ItemOID") for v in pfs.findall("arm:AnalysisVariable", ARM)] == \
        ["IT.ADTTE.AVAL", "IT.ADTTE.CNSR"]
    assert results["AR.OS"].getparent().get("Name") == \
        "Figure 14.2.2: Kaplan-Meier estimates of overall survival"


def test_arm_define_is_rejected_by_the_schema_when_broken(adam_define) -> None:  # type: ignore[no-untyped-def]
    import copy

    broken = copy.deepcopy(adam_define)
    result = broken.find(".//arm:AnalysisResult", ARM)
    result.remove(result.find("arm:AnalysisDatasets", ARM))  # required by ARM 1.0
    errors = validate_define(etree.tostring(broken), SPECS_DIR / "define-xml-2.1")
    assert errors and any("AnalysisDatasets" in e for e in errors)


def test_analyses_config_is_checked(tmp_path: Path) -> None:
    from cdisc.adam.config import load_config
    from cdisc.errors import SpecError

    text = (DEMO_MAPPING_DIR / "adam.yaml").read_text()
    path = tmp_path / "adam.yaml"
    path.write_text(text.replace("purpose: PRIMARY OUTCOME MEASURE", "purpose: MAIN"))
    with pytest.raises(SpecError) as err:
        load_config(path)
    assert err.value.message.startswith("analyses[1]: purpose must be one of")


def test_define_html_shows_the_analysis_results(adam_define) -> None:  # type: ignore[no-untyped-def]
    from lxml import html

    from cdisc.define_html import render_define_html

    page = html.fromstring(render_define_html(etree.tostring(adam_define)))
    text = page.text_content()
    assert "Table 14.2.1: CR or CRi rate" in text and 'PARAMCD EQ "CRCRI"' in text
    ids = {e.get("id") for e in page.iter() if e.get("id")}
    links = [a.get("href")[1:] for a in page.iter("a") if (a.get("href") or "").startswith("#")]
    assert links and not [link for link in links if link not in ids]


def test_annotated_crf_pages_on_collected_origins(tmp_path: Path) -> None:
    """A study with an annotated CRF: the define points at it (def:AnnotatedCRF), each
    collected variable's origin at the pages of its form, and the PDF is in the package."""
    import shutil

    from cdisc.pipeline import run_sdtm

    raw, mapping = tmp_path / "raw", tmp_path / "mapping"
    shutil.copytree(DEMO_RAW_DIR, raw)
    shutil.copytree(DEMO_MAPPING_DIR, mapping)
    (raw / "acrf.pdf").write_bytes(b"%PDF-1.4\n% a stand-in annotated CRF\n%%EOF\n")
    study = mapping / "study.yaml"
    study.write_text(study.read_text() + "\nannotated_crf:\n  file: acrf.pdf\n"
                     "  title: Annotated CRF\n  pages: {ae: [12, 13], dm: 3}\n")
    out = tmp_path / "out"
    run_sdtm(raw, mapping, out, ("xpt",), "2024-01-01T00:00:00")
    assert (out / "acrf.pdf").read_bytes() == (raw / "acrf.pdf").read_bytes()
    define = etree.parse(str(out / "define.xml")).getroot()
    assert validate_define(etree.tostring(define), SPECS_DIR / "define-xml-2.1") == []
    assert define.find(".//def:AnnotatedCRF/def:DocumentRef", NS).get("leafID") == "LF.ACRF"
    leaf = define.find(".//def:leaf[@ID='LF.ACRF']", NS)
    assert leaf.get("{http://www.w3.org/1999/xlink}href") == "acrf.pdf"

    def pages(oid: str) -> str | None:
        ref = _item(define, oid).find("def:Origin/def:DocumentRef/def:PDFPageRef", NS)
        return None if ref is None else ref.get("PageRefs")

    assert pages("IT.AE.AETERM") == "12 13" and pages("IT.DM.SEX") == "3"
    assert pages("IT.AE.AESEQ") is None  # derived: no CRF page
    assert pages("IT.LB.LBORRES") is None  # a form without annotated pages


def test_annotated_crf_missing_is_one_clear_error(tmp_path: Path) -> None:
    import shutil

    from cdisc.errors import InputError
    from cdisc.pipeline import run_sdtm

    raw, mapping = tmp_path / "raw", tmp_path / "mapping"
    shutil.copytree(DEMO_RAW_DIR, raw)
    shutil.copytree(DEMO_MAPPING_DIR, mapping)
    study = mapping / "study.yaml"
    study.write_text(study.read_text() + "\nannotated_crf: {file: acrf.pdf, pages: {ae: 1}}\n")
    with pytest.raises(InputError) as err:
        run_sdtm(raw, mapping, tmp_path / "out", ("xpt",), "2024-01-01T00:00:00")
    assert err.value.file.endswith("acrf.pdf") and not (tmp_path / "out").exists()


@pytest.mark.parametrize("part", ["sdtm", "adam"])
def test_demo_define_html_in_a_real_browser(part: str, request, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The demo's own define.html, opened in headless Chromium: every section is there and
    every internal link finds its target."""
    import subprocess

    from lxml import html

    from cdisc.define_html import render_define_html
    from tests.test_define_html import SECTION_IDS, _check_links, _chromium

    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium or chromium-browser on PATH (apt-get install -y chromium)")
    root = request.getfixturevalue("define" if part == "sdtm" else "adam_define")
    page = tmp_path / "define.html"
    page.write_bytes(render_define_html(etree.tostring(root)))
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, timeout=180, check=False)
    assert done.returncode == 0
    dom = html.fromstring(done.stdout)
    expected = SECTION_IDS + (["arm"] if part == "adam" else [])
    missing = [sid for sid in expected if not dom.xpath(f"//*[@id='{sid}']")]
    assert missing == []
    _check_links(dom)
    assert len(dom.xpath("//a[starts-with(@href, '#')]")) > 100


def test_no_placeholder_methods_in_the_sdtm_define(define) -> None:  # type: ignore[no-untyped-def]
    texts = {m.get("OID"): m.findtext(".//odm:TranslatedText", namespaces=NS)
             for m in define.iterfind(".//odm:MethodDef", NS)}
    assert texts
    bad = {oid: t for oid, t in texts.items()
           if not t or "mapping rule" in t or ".yaml" in t or "See the" in t}
    assert bad == {}
    # the standardisation algorithms say what they do with their own parameters
    assert texts["MT.LB.LBSTRESN"].startswith(
        "LBORRES as a number in the standard unit of the test (LBTESTCD)")
    assert texts["MT.LB.LBNRIND"].startswith("LOW when LBSTRESN < LBSTNRLO, HIGH when "
                                             "LBSTRESN > LBSTNRHI, NORMAL otherwise")
