"""The vendored standards library (cdisc/validate/core/library.py, specs/library/): every fact is
checked against the source files in ../shared/reference, read here with the csv module."""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from pathlib import Path

import pytest

from cdisc.validate.core import library as L
from cdisc.validate.core.library import build_library, expand, load_library

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"
IG = REFERENCE / "standards_metadata" / "sdtm" / "ig" / "v3.4"
MODEL = REFERENCE / "standards_metadata" / "sdtm" / "model" / "v2.0"
CT_SOURCE = REFERENCE / "controlled_terminology" / "SDTM Terminology.txt"

needs_reference = pytest.mark.skipif(
    not REFERENCE.is_dir(), reason="../shared/reference not available"
)


def _csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def lib():
    return load_library()


@pytest.fixture(scope="module")
def ig_rows():
    return _csv(IG / "Variables.csv")


@pytest.fixture(scope="module")
def model_rows():
    return _csv(MODEL / "Variables.csv")


@pytest.fixture(scope="module")
def ct_rows():
    with open(CT_SOURCE, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


# --- the vendored files ---------------------------------------------------------------------------


@needs_reference
@pytest.mark.parametrize(
    "copy, source",
    [
        ("sdtmig-3.4-datasets.csv", IG / "Datasets.csv"),
        ("sdtmig-3.4-variables.csv", IG / "Variables.csv"),
        ("sdtm-2.0-datasets.csv", MODEL / "Datasets.csv"),
        ("sdtm-2.0-variables.csv", MODEL / "Variables.csv"),
        (
            "LICENSE-Trial-Submission-Studio",
            REFERENCE / "standards_metadata" / "LICENSE_Trial-Submission-Studio",
        ),
    ],
)
def test_vendored_copies_are_verbatim(copy, source):
    assert (L.LIBRARY_DIR / copy).read_bytes() == source.read_bytes()


@needs_reference
def test_vendored_ct_is_the_full_export_gzipped():
    packed = L.LIBRARY_DIR / L.FILES["ct"]
    assert gzip.decompress(packed.read_bytes()) == CT_SOURCE.read_bytes()
    assert packed.read_bytes()[4:8] == b"\0\0\0\0"  # gzip -n: no timestamp, reproducible


def test_readme_records_source_commit_and_version():
    text = (L.LIBRARY_DIR / "README.md").read_text(encoding="utf-8")
    for fact in (
        "222938d890fb78f83d21ca50930fbee4051a8cca",
        "a2dc5f32719c709c88f81d2b394eacaa245a964d",
        "e4fdc5f0f86997df89e15b39a33fbef10070915b",
        "2025-03-28",
        "SDTMIG v3.4",
        "SDTM model v2.0",
    ):
        assert fact in text


def test_library_reads_nothing_from_shared():
    source = Path(L.__file__).read_text(encoding="utf-8")
    assert (
        "../shared" not in source and "shared/reference" not in source and "parents[" not in source
    )
    assert L.LIBRARY_DIR == REPO / "specs" / "library"


# --- loading --------------------------------------------------------------------------------------


def test_load_library_is_cached(lib):
    assert load_library() is lib


# --- IG datasets and variables --------------------------------------------------------------------


@needs_reference
def test_ig_datasets_match_source(lib):
    rows = _csv(IG / "Datasets.csv")
    assert len(lib.ig_datasets) == len(rows) == 63
    for row in rows:
        dataset = lib.ig_datasets[row["Dataset Name"]]
        assert (dataset.label, dataset.class_name, dataset.structure) == (
            row["Dataset Label"],
            row["Class"],
            row["Structure"],
        )


@needs_reference
def test_ig_variables_match_source_in_order(lib, ig_rows):
    by_dataset: dict[str, list[dict]] = {}
    for row in ig_rows:
        by_dataset.setdefault(row["Dataset Name"], []).append(row)
    assert sum(len(v) for v in lib.ig_variables.values()) == len(ig_rows) == 1917
    for name, rows in by_dataset.items():
        rows = sorted(rows, key=lambda r: int(r["Variable Order"]))
        got = lib.variables(name)
        assert [v.name for v in got] == [r["Variable Name"] for r in rows]
        for v, r in zip(got, rows, strict=True):
            assert (v.label, v.type, v.core, v.role, v.order) == (
                r["Variable Label"],
                r["Type"],
                r["Core"],
                r["Role"],
                int(r["Variable Order"]),
            )
            assert ";".join(v.codelists) == r["CDISC CT Codelist Code(s)"].replace("; ", ";")


def test_dm_has_32_variables_studyid_first(lib):
    dm = lib.variables("DM")
    assert len(dm) == 32
    assert dm[0].name == "STUDYID" and dm[1].name == "DOMAIN" and dm[2].name == "USUBJID"
    assert dm[-1].name == "DMDY"
    counts = {name: len(lib.variables(name)) for name in ("EX", "AE", "LB", "RS")}
    assert counts == {"EX": 37, "AE": 60, "LB": 62, "RS": 46}  # MANIFEST.md


def test_core_counts(lib):
    cores = Counter(v.core for vs in lib.ig_variables.values() for v in vs)
    assert cores == {"Req": 366, "Exp": 274, "Perm": 1277}


def test_variable_facts(lib):
    sex = lib.variable("DM", "SEX")
    assert (sex.type, sex.core, sex.codelists, sex.label) == ("Char", "Req", ("C66731",), "Sex")
    assert lib.variable("AE", "AESER").codelists == ("C66742",)
    assert lib.variable("DS", "DSDECOD").codelists == ("C66727", "C114118", "C150811")
    assert lib.variable("LB", "LBSTRESN").type == "Num"
    assert lib.variable("AE", "AESTDTC").role == "Timing"
    assert lib.variable("AE", "NOPE") is None
    assert lib.variables("XX") == ()


def test_generic_names(lib):
    assert lib.variable("AE", "AETERM").generic == "--TERM"
    assert lib.variable("AE", "AESTDTC").generic == "--STDTC"
    assert lib.variable("DM", "STUDYID").generic == "STUDYID"
    assert lib.variable("DM", "RFSTDTC").generic == "RFSTDTC"  # DM + "RFSTDTC"? no: no --RFSTDTC
    assert lib.generic_name("AELNKGRP", "AE") == "--LNKGRP"
    assert lib.generic_name("VISITNUM", "VS") == "VISITNUM"
    assert lib.generic_name("LBFOO", "LB") == "LBFOO"
    assert expand("--STDTC", "AE") == "AESTDTC"
    assert expand("USUBJID", "AE") == "USUBJID"
    assert expand("--DY", "") == "--DY"


# --- classes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, columns, expected",
    [
        ("AE", (), "EVENTS"),
        ("CM", (), "INTERVENTIONS"),
        ("LB", (), "FINDINGS"),
        ("FA", (), "FINDINGS ABOUT"),
        ("DM", (), "SPECIAL PURPOSE"),
        ("TS", (), "TRIAL DESIGN"),
        ("OI", (), "STUDY REFERENCE"),
        ("RELREC", (), "RELATIONSHIP"),
        ("SUPPAE", (), "RELATIONSHIP"),
        ("SUPPQUAL", (), "RELATIONSHIP"),
        ("SQAPAE", (), "RELATIONSHIP"),
        ("SJ", (), "SPECIAL PURPOSE"),  # a model-only dataset
        ("APRELSUB", (), "RELATIONSHIP"),
        ("APMH", (), "EVENTS"),  # associated persons inherit their parent's class
        ("XX", ("STUDYID", "DOMAIN", "XXTERM"), "EVENTS"),
        ("XX", ("DOMAIN", "XXTRT"), "INTERVENTIONS"),
        ("XX", ("DOMAIN", "XXTESTCD"), "FINDINGS"),
        ("XX", ("DOMAIN", "XXTESTCD", "XXOBJ"), "FINDINGS ABOUT"),
        ("XX", ("RDOMAIN", "QNAM"), "RELATIONSHIP"),
        ("XX", ("DOMAIN", "XXFOO"), None),
        ("XX", ("XXTERM",), None),  # neither DOMAIN nor RDOMAIN: CORE cannot tell
    ],
)
def test_domain_class(lib, name, columns, expected):
    assert lib.domain_class(name, columns) == expected


def test_is_custom(lib):
    assert not lib.is_custom("AE") and not lib.is_custom("SUPPAE") and not lib.is_custom("SJ")
    assert not lib.is_custom("APMH")
    assert lib.is_custom("XX") and lib.is_custom("APXX")
    assert lib.standard_name("SUPPLB") == "SUPPQUAL"
    assert lib.standard_name("APMH") == "MH"
    assert lib.standard_name("APRELSUB") == "APRELSUB"


def test_labels_and_class_domains(lib):
    assert lib.label("LB") == "Laboratory Test Results"
    assert lib.label("ae") == "Adverse Events"
    assert lib.label("XX") == ""
    assert set(lib.domains_of_class("TRIAL DESIGN")) == {"TA", "TD", "TE", "TI", "TM", "TS", "TV"}
    assert lib.dataset("AE").ct_class == "EVENTS"
    assert lib.dataset("DM").class_name == "Special-Purpose"


# --- the model ------------------------------------------------------------------------------------


@needs_reference
def test_model_timing_and_identifier_variables(lib, model_rows):
    general = [r for r in model_rows if r["Class"] == "General Observations"]
    timing = [r["Variable Name"] for r in general if r["Role"] == "Timing"]
    identifiers = [r["Variable Name"] for r in general if r["Role"] == "Identifier"]
    assert [v.name for v in lib.timing_variables] == timing
    assert [v.name for v in lib.identifier_variables] == identifiers
    assert len(timing) == 48 and timing[:5] == ["VISITNUM", "VISIT", "VISITDY", "TAETORD", "EPOCH"]
    assert "--STDTC" in timing and timing[-1] == "--PDUR"
    assert identifiers[0] == "STUDYID" and identifiers[-1] == "--BEATNO"


@needs_reference
def test_model_class_and_dataset_variables_match_source(lib, model_rows):
    for cls in ("Interventions", "Events", "Findings", "Findings About", "Associated Persons"):
        expected = [
            r["Variable Name"] for r in model_rows if r["Class"] == cls and not r["Dataset Name"]
        ]
        assert [v.name for v in lib.class_variables(cls)] == expected
        assert [v.name for v in lib.class_variables(cls.upper())] == expected
    for dataset in ("DM", "SUPPQUAL", "TS", "RELREC"):
        expected = [r["Variable Name"] for r in model_rows if r["Dataset Name"] == dataset]
        assert [v.name for v in lib.model_variables(dataset)] == expected
    assert len(lib.model_variables("DM")) == 38


def test_topic_variables(lib):
    assert [v.name for v in lib.topic_variables("EVENTS")] == ["--TERM"]
    assert [v.name for v in lib.topic_variables("Interventions")] == ["--TRT"]
    assert [v.name for v in lib.topic_variables("FINDINGS")] == ["--TESTCD"]
    assert [v.name for v in lib.topic_variables("FINDINGS ABOUT")] == ["--TESTCD"]


def test_domain_variables_ig_domain_of_a_general_class(lib):
    ae = lib.domain_variables("AE")
    names = [v.name for v in ae]
    # the model's identifiers, Events variables and timing, with the IG's variables in place
    assert names[:9] == [
        "STUDYID",
        "DOMAIN",
        "USUBJID",
        "POOLID",
        "SPDEVID",
        "NHOID",
        "FETUSID",
        "FOCID",
        "AESEQ",
    ]
    assert len(names) == len(set(names)) == 16 + 56 + 48
    assert set(v.name for v in lib.variables("AE")) <= set(names)
    assert names.index("AETERM") == 16 and names[-1] == "AEPDUR"
    by_name = {v.name: v for v in ae}
    assert by_name["AESER"].source == "IG" and by_name["AESER"].core == "Exp"
    assert by_name["AEBEATNO"].source == "model" and by_name["AEBEATNO"].core == ""


def test_domain_variables_findings_about_puts_obj_after_test(lib):
    names = [v.name for v in lib.domain_variables("FA")]
    assert names[names.index("FATEST") + 1] == "FAOBJ"


def test_domain_variables_other_classes_are_ig_order(lib):
    assert [v.name for v in lib.domain_variables("DM")] == [v.name for v in lib.variables("DM")]
    assert [v.name for v in lib.domain_variables("SUPPAE")] == [
        v.name for v in lib.variables("SUPPQUAL")
    ]


def test_domain_variables_custom_domain_from_the_model(lib):
    names = [v.name for v in lib.domain_variables("XX", ["STUDYID", "DOMAIN", "XXTERM"])]
    assert names[8] == "XXSEQ" and names[16] == "XXTERM" and names[-1] == "XXPDUR"
    assert len(names) == 16 + 56 + 48
    with pytest.raises(L.LibraryError):
        lib.domain_variables("XX", ["DOMAIN", "XXFOO"])


def test_associated_persons_use_the_parent_prefix(lib):
    # APMH: "--" is MH (even when asked with prefix "AP"); the model's identifiers get the
    # Associated Persons ones (APID, RSUBJID, ...) instead of USUBJID, sorted by model order
    names = [v.name for v in lib.domain_variables("APMH", prefix="AP")]
    assert "MHTERM" in names and "MHSEQ" in names and "APID" in names and "APTERM" not in names
    model = [v.name for v in lib.domain_model_variables("APMH")]
    assert model[:4] == ["STUDYID", "APID", "DOMAIN", "RSUBJID"] and "USUBJID" not in model


def test_domain_model_variables(lib):
    assert [v.name for v in lib.domain_model_variables("DM")] == [
        v.name for v in lib.model_variables("DM")
    ]
    assert [v.name for v in lib.domain_model_variables("SUPPLB")] == [
        v.name for v in lib.model_variables("SUPPQUAL")
    ]
    ae = [v.name for v in lib.domain_model_variables("AE")]
    expected = [
        expand(v.name, "AE")
        for v in lib.identifier_variables + lib.class_variables("EVENTS") + lib.timing_variables
    ]
    assert ae == expected


# --- controlled terminology -----------------------------------------------------------------------


def test_sex_codelist(lib):
    sex = lib.codelist("C66731")
    assert sex is lib.codelist("SEX") is lib.codelist("sex")
    assert (sex.submission_value, sex.name, sex.extensible) == ("SEX", "Sex", False)
    assert sex.values == ("F", "INTERSEX", "M", "U")
    assert sex.codes == ("C16576", "C45908", "C20197", "C17998")
    assert sex.term("M").preferred_term == "Male"
    assert sex.term("C17998").synonyms == ("U", "UNK", "Unknown")
    assert lib.codelist("NOPE") is None


@needs_reference
def test_extensible_flags_match_source(lib, ct_rows):
    heads = {r["Code"]: r for r in ct_rows if not r["Codelist Code"]}
    assert heads["C66742"]["CDISC Submission Value"] == "NY"
    assert (
        lib.codelist("NY").extensible
        is (heads["C66742"]["Codelist Extensible (Yes/No)"] == "Yes")
        is False
    )
    assert lib.codelist("UNIT").extensible is True  # C71620: extensible "Yes"
    assert heads["C71620"]["Codelist Extensible (Yes/No)"] == "Yes"
    assert lib.codelist("NY").values == ("N", "NA", "U", "Y")
    for code, row in heads.items():
        assert lib.codelist(code).extensible is (row["Codelist Extensible (Yes/No)"] == "Yes")


@needs_reference
def test_every_codelist_and_term_matches_source(lib, ct_rows):
    assert len(lib.ct_lines) == len(ct_rows) == 44856
    assert all(len(row) == 8 for row in lib.ct_rows)
    terms: dict[str, list[dict]] = {}
    heads = []
    for row in ct_rows:
        if row["Codelist Code"]:
            terms.setdefault(row["Codelist Code"], []).append(row)
        else:
            heads.append(row)
    assert len(heads) == len(lib.codelist_codes()) == 1158
    for head in heads:
        codelist = lib.codelist(head["Code"])
        assert codelist.submission_value == head["CDISC Submission Value"]
        assert codelist.name == head["Codelist Name"]
        rows = terms.get(head["Code"], [])
        assert codelist.codes == tuple(r["Code"] for r in rows)
        assert codelist.values == tuple(r["CDISC Submission Value"] for r in rows)
    assert lib.ct_attribute_values("Term CCODE") == {
        r["Code"] for r in ct_rows if r["Codelist Code"]
    }
    assert lib.ct_attribute_values("Codelist Value") == {r["CDISC Submission Value"] for r in heads}


def test_ct_frame_and_attributes(lib):
    assert list(lib.ct.columns) == list(L.CT_COLUMNS) and len(lib.ct) == 44856
    assert "C16576" in lib.ct_attribute_values("Term CCODE")
    assert "C66731" in lib.ct_attribute_values("Codelist CCODE")
    assert lib.ct_attribute_values("Extensible") == {True, False}
    with pytest.raises(L.LibraryError):
        lib.ct_attribute_values("Colour")


def test_published_ct_dates(lib):
    dates = lib.published_ct_dates(["SDTM"])
    assert len(dates) == 42 and dates[0] == "2014-09-26" and dates[-1] == "2025-09-26"
    assert lib.ct_version in dates and dates == sorted(dates)
    assert lib.ct_package == "sdtmct-2025-03-28"
    with pytest.raises(L.LibraryError):
        lib.published_ct_dates(["ADAM"])
