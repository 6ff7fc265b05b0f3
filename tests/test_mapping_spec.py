"""Mapping specs are checked before any data is read, with messages naming the file and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cdisc.errors import SpecError
from cdisc.sdtm.mapping import check_against_files, load_study
from cdisc.specs import load_specs
from tests.conftest import DEMO_MAPPING


@pytest.fixture()
def mapping(tmp_path: Path) -> Path:
    folder = tmp_path / "mapping"
    shutil.copytree(DEMO_MAPPING, folder)
    return folder


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _error(mapping: Path) -> str:
    with pytest.raises(SpecError) as info:
        load_study(mapping, load_specs())
    return info.value.one_line()


def test_demo_mapping_loads() -> None:
    config = load_study(DEMO_MAPPING, load_specs())
    assert [d.domain for d in config.domains][:2] == ["DM", "EX"]


def test_unknown_variable(mapping: Path) -> None:
    _edit(mapping / "EX.yaml", "EXCAT: {hardcode: CAR-T}", "EXFOO: {hardcode: CAR-T}")
    assert "EXFOO is not a EX variable in SDTMIG 3.4" in _error(mapping)


def test_unknown_codelist(mapping: Path) -> None:
    _edit(mapping / "DM.yaml", "codelist: ISO3166", "codelist: NOSUCHLIST")
    assert "COUNTRY: codelist NOSUCHLIST is neither in specs/ct" in _error(mapping)


def test_hardcode_outside_non_extensible_codelist(mapping: Path) -> None:
    _edit(mapping / "DM.yaml", 'then: {hardcode: "Y"}', 'then: {hardcode: "YES"}')
    assert "DTHFL: hardcoded 'YES' is not in non-extensible codelist NY" in _error(mapping)


def test_undeclared_source(mapping: Path) -> None:
    _edit(mapping / "EX.yaml", "source: cart", "source: infusions")
    assert "uses source 'infusions', not declared in study.yaml" in _error(mapping)


def test_python_tag_is_refused(mapping: Path) -> None:
    _edit(mapping / "EX.yaml", "{hardcode: INTRAVENOUS}", "!!python/object/apply:os.system [ls]")
    assert "invalid YAML" in _error(mapping)


def test_alias_bomb_is_refused(mapping: Path) -> None:
    (mapping / "EX.yaml").write_text('a: &a ["x","x"]\nb: &b [*a,*a]\nc: [*b,*b]\n')
    assert "anchors and aliases are not allowed" in _error(mapping)


def test_path_outside_the_study_folder(mapping: Path) -> None:
    _edit(mapping / "study.yaml", "ct_map: ct_map.csv", "ct_map: ../../etc/passwd")
    assert "points outside" in _error(mapping)


def test_missing_raw_column_named_before_reading(dm_ex_mapping: Path, mini_raw: Path) -> None:
    mapping = dm_ex_mapping
    _edit(mapping / "DM.yaml", "{datetime: BRTHDAT}", "{datetime: BIRTHDATE}")
    config = load_study(mapping, load_specs())
    with pytest.raises(SpecError) as info:
        check_against_files(config, mini_raw)
    assert info.value.file == "dm.csv" and info.value.column == "BIRTHDATE"


def test_bad_duration_unit_is_refused_at_load(mapping: Path) -> None:
    _edit(mapping / "PC.yaml", "PCELTM: {iso_duration: {value: PCTPTNUM, unit: days}}",
          "PCELTM: {iso_duration: {value: PCTPTNUM, unit: fortnights}}")
    message = _error(mapping)
    assert "PC.yaml" in message and "PCELTM: iso_duration needs a unit" in message
