"""specs/ is a faithful, trimmed copy of the reference metadata, and the loader reads it right."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest

from cdisc.specs import load_specs
from tests.conftest import REFERENCE, REPO


def test_versions_recorded() -> None:
    std = load_specs().standards
    assert std["sdtm"]["version"] == "3.4" and std["adam"]["version"] == "1.3"
    assert std["ct"]["sdtm"] == "2025-03-28"


def test_every_produced_dataset_is_specified() -> None:
    specs = load_specs()
    for name in ("DM", "EX", "AE", "RS", "LB", "DS", "SUPPQUAL", "ADSL", "ADRS", "ADTTE"):
        ds = specs.dataset(name)
        assert ds.variables and ds.keys[:2] == ("STUDYID", "USUBJID") or name == "SUPPQUAL"


def test_dm_metadata_matches_sdtmig() -> None:
    dm = load_specs().dataset("DM")
    assert [v.name for v in dm.variables][:5] == ["STUDYID", "DOMAIN", "USUBJID", "SUBJID",
                                                  "RFSTDTC"]
    sex = dm.variable("SEX")
    assert (sex.label, sex.type, sex.core, sex.codelist) == ("Sex", "Char", "Req", "C66731")
    assert dm.variable("AGE").type == "Num"
    assert dm.variable("RFSTDTC").is_iso8601


def test_codelist_terms_and_extensibility() -> None:
    specs = load_specs()
    ny = specs.codelist("NY")
    assert ny.code == "C66742" and not ny.extensible
    assert set(ny.terms) == {"N", "NA", "U", "Y"}
    assert specs.codelist("C66731").terms["M"].code == "C20197"
    assert specs.codelist("UNIT").extensible


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference not present")
def test_vendored_specs_are_up_to_date(tmp_path) -> None:
    """Re-vendoring from ../shared/reference changes nothing (specs/ did not drift)."""
    before = {p: p.read_bytes() for p in (REPO / "specs").rglob("*.csv")}
    subprocess.run([sys.executable, str(REPO / "tools" / "vendor_specs.py"), str(REFERENCE)],
                   check=True, capture_output=True)
    after = {p: p.read_bytes() for p in (REPO / "specs").rglob("*.csv")}
    assert before == after


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference not present")
def test_every_ig_variable_of_ex_is_vendored() -> None:
    with (REFERENCE / "standards_metadata/sdtm/ig/v3.4/Variables.csv").open(
            encoding="utf-8-sig") as fh:
        ig = [r["Variable Name"] for r in csv.DictReader(fh) if r["Dataset Name"] == "EX"]
    assert load_specs().dataset("EX").variable_names == ig
