"""CDISC ODM 1.3 XML as a raw source: the same forms as CSV or as ODM give the same SDTM."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pandas as pd
import pytest
from click.testing import CliRunner

from cdisc.cli import main
from cdisc.io.odm import KEY_COLUMNS, read_odm_form
from cdisc.io.xpt import read_xpt

FORMS = ("dm", "ic", "elig", "cart", "death", "eos")  # ld stays an XPT file


def to_odm(raw: Path, forms=FORMS, doctype: str = "") -> bytes:
    """Every CSV form of raw/ as one ODM ClinicalData export (FormOID = form name in upper
    case, ItemOID = CSV column, SubjectKey = SUBJECT); CSV row order kept."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', doctype,
           '<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" FileType="Snapshot" FileOID="F.1" '
           'CreationDateTime="2022-01-01T00:00:00" ODMVersion="1.3.2">',
           '<ClinicalData StudyOID="NCT04265963" MetaDataVersionOID="MDV.1">']
    for form in forms:
        with (raw / f"{form}.csv").open(newline="", encoding="utf-8") as fh:
            for i, row in enumerate(csv.DictReader(fh), start=1):
                items = "".join(f"<ItemData ItemOID={quoteattr(k)} Value={quoteattr(v)}/>"
                                for k, v in row.items() if v != "")
                out.append(f'<SubjectData SubjectKey={quoteattr(row["SUBJECT"])}>'
                           f'<StudyEventData StudyEventOID="SE.{form}">'
                           f'<FormData FormOID="{form.upper()}" FormRepeatKey="{i}">'
                           f'<ItemGroupData ItemGroupOID="IG.{form}">{items}</ItemGroupData>'
                           '</FormData></StudyEventData></SubjectData>')
    out += ["</ClinicalData>", "</ODM>"]
    return "\n".join(out).encode("utf-8")


def odm_mapping(mapping: Path) -> None:
    study = mapping / "study.yaml"
    text = study.read_text()
    for form in FORMS:
        text = re.sub(rf"\{{file: {form}\.csv\}}",
                      f"{{file: export.xml, form: {form.upper()}}}", text)
    study.write_text(text)


def test_reader_columns_rows_and_missing_items(mini_raw: Path) -> None:
    (mini_raw / "export.xml").write_bytes(to_odm(mini_raw))
    df = read_odm_form(mini_raw / "export.xml", "DEATH")
    assert list(df.columns[:6]) == KEY_COLUMNS and "DTHDAT" in df.columns
    assert list(df["SubjectKey"]) == ["920-002", "920-004"]
    assert list(df["AUTOPSY"]) == ["N", ""]  # an item not given is ""


def test_same_sdtm_from_odm_as_from_csv(mini_raw: Path, dm_ex_mapping: Path,
                                       tmp_path: Path) -> None:
    runner = CliRunner()
    from_csv = tmp_path / "csv"
    assert runner.invoke(main, ["sdtm", str(mini_raw), "--mapping", str(dm_ex_mapping),
                                "--out", str(from_csv), "--format", "xpt"]).exit_code == 0
    odm_raw = tmp_path / "odm_raw"
    odm_raw.mkdir()
    (odm_raw / "export.xml").write_bytes(to_odm(mini_raw))
    (odm_raw / "ld.xpt").write_bytes((mini_raw / "ld.xpt").read_bytes())
    odm_mapping(dm_ex_mapping)
    from_odm = tmp_path / "odm"
    result = runner.invoke(main, ["sdtm", str(odm_raw), "--mapping", str(dm_ex_mapping),
                                  "--out", str(from_odm), "--format", "xpt"])
    assert result.exit_code == 0, result.output
    for name in ("dm.xpt", "ex.xpt", "suppdm.xpt"):
        if (from_csv / name).exists():
            pd.testing.assert_frame_equal(read_xpt(from_odm / name)[0],
                                          read_xpt(from_csv / name)[0])
    rejects = pd.read_csv(from_odm / "rejects.csv", dtype=str)
    assert rejects["file"].str.startswith("export.xml#").all() and len(rejects)
    rec = pd.read_csv(from_odm / "reconciliation.csv")
    assert "export.xml#DM" in set(rec["file"]) and (rec["unused"] == 0).all()


@pytest.mark.parametrize("doctype,form,message", [
    ('<!DOCTYPE ODM [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "DM",
     "DOCTYPE/ENTITY declarations are not allowed"),
    ("", "NOPE", "form 'NOPE' is neither defined nor has data"),
])
def test_bad_odm_is_one_line_exit_2(mini_raw: Path, dm_ex_mapping: Path, tmp_path: Path,
                                    doctype: str, form: str, message: str) -> None:
    raw = tmp_path / "odm_raw"
    raw.mkdir()
    (raw / "export.xml").write_bytes(to_odm(mini_raw, doctype=doctype))
    (raw / "ld.xpt").write_bytes((mini_raw / "ld.xpt").read_bytes())
    odm_mapping(dm_ex_mapping)
    study = dm_ex_mapping / "study.yaml"
    study.write_text(study.read_text().replace("form: DM}", f"form: {form}}}"))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["sdtm", str(raw), "--mapping", str(dm_ex_mapping),
                                       "--out", str(out)])
    assert result.exit_code == 2 and message in result.output, result.output
    assert result.output.count("\n") == 1 and "export.xml" in result.output
    assert "root:" not in result.output and not out.exists()
