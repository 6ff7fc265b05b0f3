"""The vendored CORE catalogue is the reference one, unchanged; our own rules load beside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cdisc.validate.core.catalogue import load_catalogue, read_core_catalogue, rule_from_dict

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "core_rules" / \
    "sdtmig-3-4-rules.json"


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference not beside the repo")
def test_vendored_catalogue_equals_the_reference_rule_by_rule() -> None:
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    vendored = read_core_catalogue()
    assert len(vendored) == len(reference) == 430
    assert {r["core_id"]: r for r in vendored} == {r["core_id"]: r for r in reference}


def test_catalogue_has_core_and_own_rules_each_once() -> None:
    rules = load_catalogue()
    ids = [r.core_id for r in rules]
    assert len(ids) == len(set(ids))
    core = [r for r in rules if r.source == "CORE"]
    assert len(core) == 430
    own = {r.core_id for r in rules if r.source == "own"}
    assert {"TRC1734", "TRC1736A", "CD0010", "AD0001"} <= own
    # a rule CORE has is not repeated among ours
    assert not own & {"CD0001", "CD0002", "CD0003", "CD0004", "CD0005", "CD0006", "CD0009"}


def test_references_keep_cdisc_then_fda_ids_of_sdtmig_only() -> None:
    rules = {r.core_id: r for r in load_catalogue()}
    assert rules["CORE-000001"].references == ("CG0176",)  # TIG0405 is the TIG's, not SDTMIG's
    assert rules["CORE-000008"].references == ("CG0132", "FB0601")
    assert rules["CORE-000505"].severity == "reject"  # TRC1734c
    assert rules["CORE-000581"].severity == "reject"  # TRC1736a: DM missing
    assert rules["CORE-000001"].severity == "error"


def test_severity_of_overreporting_rules_is_warning() -> None:
    raw = {"core_id": "X1", "rule_type": "Record Data", "executability":
           "partially executable - possible overreporting", "actions": [
               {"params": {"message": "m"}}], "conditions": {}}
    assert rule_from_dict(raw).severity == "warning"
    assert rule_from_dict({**raw, "severity": "notice"}).severity == "notice"
