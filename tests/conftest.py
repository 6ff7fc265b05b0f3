"""Shared fixtures: a tiny hand-made raw study whose SDTM values are derived by hand."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"
DEMO_MAPPING = REPO / "mappings" / "nct04265963"

HEAD = ["STUDY", "SITENUMBER", "SUBJECT"]


def _csv(folder: Path, name: str, columns: list[str], rows: list[list[str]]) -> None:
    pd.DataFrame(rows, columns=columns).to_csv(folder / name, index=False, lineterminator="\n")


def _row(subject: str, *values: str) -> list[str]:
    return ["NCT04265963", "920", subject, *values]


def sas_days(iso: str) -> float:
    return float((pd.Timestamp(iso) - pd.Timestamp("1960-01-01")).days)


def write_mini_study(folder: Path) -> Path:
    """Five subjects: 001 treated, 002 split dose and died, 003 screen failure,
    004 lymphodepleted never infused, 005 rejected (sex 'X'); plus bad records."""
    import pyreadstat

    folder.mkdir(parents=True, exist_ok=True)
    _csv(folder, "dm.csv", HEAD + ["BRTHDAT", "AGE", "AGEU", "SEX", "RACE", "ETHNIC", "COUNTRY"], [
        _row("920-001", "12-MAR-1986", "34", "Years", "Male", "Asian", "Not Hispanic or Latino",
             "China"),
        _row("920-002", "UN-JUN-2012", "8", "years ", "female ", "ASIAN", "", "China"),
        _row("920-003", "1950", "70", "YEARS", "M", "White", "NOT HISPANIC OR LATINO", "China"),
        _row("920-004", "", "45", "Years", "F", "Asian", "Not Hispanic or Latino", "China"),
        _row("920-005", "", "50", "Years", "X", "Asian", "Not Hispanic or Latino", "China"),
    ])
    _csv(folder, "ic.csv", HEAD + ["ICDAT", "ICVER", "ASSENT"], [
        _row("920-001", "05-JAN-2021", "V2.0", ""),
        _row("920-002", "20-JAN-2021", "V2.0", "Y"),
        _row("920-003", "01-FEB-2021", "V2.0", ""),
        _row("920-004", "15-FEB-2021", "V2.0", ""),
        _row("920-005", "16-FEB-2021", "V2.0", ""),
    ])
    _csv(folder, "elig.csv", HEAD + ["ELIGDAT", "IEYN", "IEFAIL", "COHORT"], [
        _row("920-001", "07-JAN-2021", "Yes", "", "Cohort 2"),
        _row("920-002", "22-JAN-2021", "Yes", "", "Cohort 1"),
        _row("920-003", "03-FEB-2021", "No", "INCL03: CD123 expression < 30% of blasts", ""),
        _row("920-004", "17-FEB-2021", "Yes", "", "Cohort 1"),
        _row("920-005", "18-FEB-2021", "Yes", "", "Cohort 1"),
    ])
    ld_rows = []
    for subject, days in (("920-001", ["2021-01-10", "2021-01-11", "2021-01-12"]),
                          ("920-002", ["2021-02-01", "2021-02-02", "2021-02-03"]),
                          ("920-004", ["2021-03-01", "2021-03-02", "2021-03-03"])):
        for day in days:
            ld_rows.append(["NCT04265963", "920", subject, "LD", float(len(ld_rows) + 1),
                            "Fludarabine", sas_days(day), 30.0, "mg/m2", "IV"])
            ld_rows.append(["NCT04265963", "920", subject, "LD", float(len(ld_rows) + 1),
                            "cyclophosphamide ", sas_days(day), 500.0, "MG/M2", "Intravenous"])
    ld = pd.DataFrame(ld_rows, columns=["STUDY", "SITENUMB", "SUBJECT", "FOLDER", "RECPOS",
                                        "LDDRUG", "LDDAT", "LDDOSE", "LDDOSU", "LDROUTE"])
    pyreadstat.write_xport(ld, str(folder / "ld.xpt"), file_format_version=5, table_name="LD",
                           variable_format={"LDDAT": "DATE9."})
    _csv(folder, "cart.csv", HEAD + ["RECORDPOSITION", "INFDAT", "INFTIM", "INFDOSE", "INFDOSU",
                                     "INFYN"], [
        _row("920-001", "1", "2021/01/15", "14:30", "1.0", "x10^6 cells/kg", "Yes"),
        _row("920-001", "2", "2021/02/31", "10:00", "1.0", "x10^6 cells/kg", "Yes"),
        _row("920-002", "1", "2021/02/06", "09:00", "0.5", "10^6/kg", "Yes"),
        _row("920-002", "2", "2021/02/07", "", "0.5", "10^6/kg", "Yes"),
        _row("920-004", "1", "", "", "", "", "No"),
        _row("920-999", "1", "2021/03/05", "10:00", "1.0", "10^6/kg", "Yes"),
    ])
    _csv(folder, "death.csv", HEAD + ["DTHDAT", "DTHCAUS", "AUTOPSY"], [
        _row("920-002", "UN-JUN-2021", "Disease progression", "N"),
        _row("920-004", "10-MAR-2021", "Infection", ""),
    ])
    _csv(folder, "eos.csv", HEAD + ["EOSDAT", "EOSSTAT", "EOSREAS"], [
        _row("920-001", "15JAN2022", "Completed", ""),
        _row("920-002", "20JUN2021", "Discontinued", "Death"),
        _row("920-003", "03FEB2021", "Discontinued", "Screen failure"),
        _row("920-004", "10MAR2021", "Discontinued", "Death"),
        _row("920-005", "18FEB2021", "Discontinued", "Screen failure"),
    ])
    return folder


@pytest.fixture()
def mini_raw(tmp_path: Path) -> Path:
    return write_mini_study(tmp_path / "raw")


@pytest.fixture()
def dm_ex_mapping(tmp_path: Path) -> Path:
    """The demo mapping restricted to DM and EX (the forms the mini study has)."""
    import re
    import shutil

    folder = tmp_path / "mapping_dm_ex"
    shutil.copytree(DEMO_MAPPING, folder)
    study = (folder / "study.yaml").read_text()
    study = re.sub(r"^domains: .*$", "domains: [DM, EX]", study, flags=re.M)
    (folder / "study.yaml").write_text(study)
    return folder
