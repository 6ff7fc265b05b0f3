"""PC and CP from the demo mapping on a hand-made kinetics transfer: every value derived by
hand from the raw rows below, the mini study's infusions (920-001 first CAR-T infusion
2021-01-15T14:30, lymphodepletion from 2021-01-10; 920-002 2021-02-06T09:00) and the visit
table (DAY7 planned on study day 8, MONTH2 on study day 61)."""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cdisc.sdtm.engine import map_study
from cdisc.sdtm.mapping import load_study
from cdisc.specs import load_specs
from tests.conftest import DEMO_MAPPING

KINETICS = ["STUDY", "SITENUMBER", "SUBJECT", "FOLDER", "RECORDPOSITION", "SMPDAT", "SMPTIM",
            "SPEC", "ASSAY", "ANALYTE", "RESULT", "UNIT", "LLOQ"]
QPCR = ("qPCR", "CAR transgene")
CAR = ("Flow cytometry", "CAR+ T cells (% of CD3+)")
CD123 = ("Flow cytometry", "CD123+ blasts (% of blasts)")
BLOOD, MARROW = "Peripheral blood", "Bone marrow"
COPIES = "copies/ug gDNA"
ROWS = [  # raw row numbers 1..7
    ("920-001", "SCREENING", "1", "2021-01-08", "09:00", MARROW, *CD123, "67.8", "%", ""),
    ("920-001", "DAY0", "1", "2021-01-15", "07:15", BLOOD, *QPCR, "BLQ", COPIES, "50"),
    ("920-001", "DAY0", "2", "2021-01-15", "07:15", BLOOD, *CAR, "<0.01", "%", "0.01"),
    ("920-001", "DAY7", "1", "2021-01-22", "10:10", BLOOD, *QPCR, "303", COPIES, "50"),
    ("920-001", "DAY7", "2", "2021-01-22", "10:30", MARROW, *QPCR, "QNS", COPIES, "50"),
    ("920-001", "MONTH2", "1", "2021-03-16", "", BLOOD, *CAR, "0.04", "%", "0.01"),
    ("920-002", "DAY4", "1", "2021-02-10", "11:00", BLOOD, *QPCR, "78", COPIES, "50"),
]


def write_kinetics(raw: Path, rows: list[tuple]) -> None:
    frame = pd.DataFrame([("NCT04265963", "920", r[0], *r[1:]) for r in rows],
                         columns=KINETICS)
    frame.to_csv(raw / "kinetics.csv", index=False, lineterminator="\n")


@pytest.fixture()
def mapping(tmp_path: Path) -> Path:
    """The demo mapping restricted to DM, EX and the two kinetics domains."""
    folder = tmp_path / "mapping"
    shutil.copytree(DEMO_MAPPING, folder)
    study = (folder / "study.yaml").read_text()
    (folder / "study.yaml").write_text(
        re.sub(r"^domains: .*$", "domains: [DM, EX, PC, CP]", study, flags=re.M))
    return folder


def run(raw: Path, mapping: Path):
    specs = load_specs()
    return map_study(load_study(mapping, specs), raw, specs)


@pytest.fixture()
def result(mini_raw: Path, mapping: Path):
    write_kinetics(mini_raw, ROWS)
    return run(mini_raw, mapping)


def _by_row(result, domain: str) -> pd.DataFrame:
    """The domain's records indexed by the raw kinetics.csv row they come from."""
    ds = result.datasets[domain]
    return ds.data.set_index(ds.trace["source_row"].astype(int).to_numpy())


def test_every_kinetics_row_lands_in_pc_or_cp(result) -> None:
    """qPCR rows 2, 4, 5, 7 in PC; flow rows 1, 3, 6 in CP; reconciled 7 = 7 mapped."""
    assert sorted(_by_row(result, "PC").index) == [2, 4, 5, 7]
    assert sorted(_by_row(result, "CP").index) == [1, 3, 6]
    rec = result.reconciliation.set_index("file").loc["kinetics.csv"]
    assert (rec["read"], rec["mapped"], rec["rejected"], rec["filtered"], rec["unused"]) == \
        (7, 7, 0, 0, 0)
    assert "LB" not in result.datasets


def test_pc_day7_sample(result) -> None:
    """DAY7: visit 5, planned day 7 after the infusion (study day 8 - 1), P7D; sampled
    2021-01-22 = study day 8 (2021-01-22 - 2021-01-15 + 1)."""
    pc = _by_row(result, "PC").loc[4]
    assert (pc["PCTESTCD"], pc["PCTEST"]) == ("CARTCOPY", "CAR-T Transgene Copies")
    assert (pc["PCORRES"], pc["PCORRESU"]) == ("303", "DNA copies/ug")
    assert (pc["PCSTRESC"], pc["PCSTRESN"], pc["PCSTRESU"]) == ("303", 303.0, "DNA copies/ug")
    assert (pc["PCSPEC"], pc["PCMETHOD"]) == ("BLOOD", "REAL-TIME POLYMERASE CHAIN REACTION ASSAY")
    assert (pc["VISIT"], pc["VISITNUM"]) == ("DAY 7", 5.0)
    assert (pc["PCTPT"], pc["PCTPTNUM"], pc["PCELTM"]) == ("DAY 7", 7.0, "P7D")
    assert (pc["PCTPTREF"], pc["PCRFTDTC"]) == ("FIRST CAR-T INFUSION", "2021-01-15T14:30")
    assert (pc["PCDTC"], pc["PCDY"], pc["EPOCH"]) == ("2021-01-22T10:10", 8.0, "TREATMENT")
    assert (pc["PCLLOQ"], pc["PCSTAT"], pc["PCREASND"]) == (50.0, "", "")


def test_pc_pre_infusion_blq_sample(result) -> None:
    """DAY0 at 07:15, before the 14:30 infusion: pre-dose, day 0, P0D; BLQ is '<50' (the
    LLOQ) with no number, its unit kept (one standard unit per test)."""
    pc = _by_row(result, "PC").loc[2]
    assert (pc["PCTPT"], pc["PCTPTNUM"], pc["PCELTM"]) == ("PRE-INFUSION", 0.0, "P0D")
    assert (pc["PCORRES"], pc["PCSTRESC"], pc["PCSTRESU"]) == ("BLQ", "<50", "DNA copies/ug")
    assert math.isnan(pc["PCSTRESN"]) and pc["PCLLOQ"] == 50.0
    assert (pc["VISITNUM"], pc["PCDY"], pc["EPOCH"]) == (3.0, 1.0, "TREATMENT")


def test_pc_quantity_not_sufficient_is_kept_not_done(result) -> None:
    pc = _by_row(result, "PC").loc[5]
    assert (pc["PCSTAT"], pc["PCREASND"]) == ("NOT DONE", "QUANTITY NOT SUFFICIENT")
    assert (pc["PCORRES"], pc["PCORRESU"], pc["PCSTRESC"], pc["PCSTRESU"]) == ("", "", "", "")
    assert math.isnan(pc["PCSTRESN"])
    assert (pc["PCSPEC"], pc["PCTPTNUM"], pc["PCELTM"]) == ("BONE MARROW", 7.0, "P7D")
    # QNS is the laboratory's answer, not a value to query
    assert result.issues.empty or not (result.issues["file"] == "kinetics.csv").any()


def test_pc_reference_is_each_subjects_first_infusion(result) -> None:
    pc = _by_row(result, "PC")
    assert pc.loc[7, "PCRFTDTC"] == "2021-02-06T09:00"  # 920-002, the first of a split dose
    assert (pc.loc[7, "PCTPTNUM"], pc.loc[7, "PCELTM"], pc.loc[7, "PCDY"]) == (4.0, "P4D", 5.0)
    # PCSEQ follows the keys: blood DAY0, blood DAY7, marrow DAY7
    assert list(pc.loc[[2, 4, 5], "PCSEQ"]) == [1.0, 2.0, 3.0]


def test_cp_car_t_cells(result) -> None:
    cp = _by_row(result, "CP")
    pre, month2 = cp.loc[3], cp.loc[6]
    assert (pre["CPTESTCD"], pre["CPTEST"]) == ("TLSTLY", "TLym Sub/TLym")
    assert (pre["CPSBMRKS"], pre["CPMRKSTR"], pre["CPCAT"]) == ("CAR+", "CD3+CAR+",
                                                                "CELLULAR KINETICS")
    assert (pre["CPMETHOD"], pre["CPSPEC"]) == ("FLOW CYTOMETRY", "BLOOD")
    # below the LLOQ 0.01: the operator stays in CPSTRESC, no number
    assert (pre["CPORRES"], pre["CPSTRESC"], pre["CPSTRESU"], pre["CPLLOQ"]) == \
        ("<0.01", "<0.01", "%", 0.01)
    assert math.isnan(pre["CPSTRESN"])
    assert (pre["CPTPT"], pre["CPTPTNUM"], pre["CPELTM"]) == ("PRE-INFUSION", 0.0, "P0D")
    # MONTH2 (planned study day 61): day 60, P60D; no time collected; 2021-03-16 is study
    # day 61 and after day 28 (2021-02-12): follow-up
    assert (month2["CPSTRESC"], month2["CPSTRESN"]) == ("0.04", 0.04)
    assert (month2["CPTPT"], month2["CPTPTNUM"], month2["CPELTM"]) == ("MONTH 2", 60.0, "P60D")
    assert (month2["CPDTC"], month2["CPDY"], month2["EPOCH"]) == ("2021-03-16", 61.0, "FOLLOW-UP")
    assert month2["CPRFTDTC"] == "2021-01-15T14:30"
    assert pre["CPLOBXFL"] == "" and month2["CPLOBXFL"] == ""  # after lymphodepletion


def test_cp_cd123_blasts_are_a_disease_characteristic(result) -> None:
    """Screening marrow 2021-01-08: study day -7 (no day 0), screening, the last value before
    the first lymphodepletion dose (CPLOBXFL); no kinetics time point."""
    cd123 = _by_row(result, "CP").loc[1]
    assert (cd123["CPTESTCD"], cd123["CPTEST"]) == ("BLSBL", "Blasts Sub/Blasts")
    assert (cd123["CPSBMRKS"], cd123["CPCAT"], cd123["CPSPEC"]) == ("CD123+",
                                                                    "IMMUNOPHENOTYPING",
                                                                    "BONE MARROW")
    assert (cd123["CPSTRESC"], cd123["CPSTRESN"], cd123["CPSTRESU"]) == ("67.8", 67.8, "%")
    assert (cd123["CPDY"], cd123["EPOCH"], cd123["CPLOBXFL"]) == (-7.0, "SCREENING", "Y")
    assert (cd123["VISIT"], cd123["CPTPT"], cd123["CPTPTREF"]) == ("SCREENING", "", "")
    assert math.isnan(cd123["CPTPTNUM"]) and math.isnan(cd123["CPLLOQ"])


def test_define_metadata_of_the_kinetics(result) -> None:
    pc, cp = result.datasets["PC"], result.datasets["CP"]
    assert pc.column("PCORRES").origin.type == "Collected"
    assert pc.column("PCORRES").origin.source == "Vendor"  # the central laboratory's transfer
    assert pc.column("PCTPTNUM").origin.type == "Derived"
    assert "VISITDY" in pc.column("PCTPTNUM").method
    assert "ISO 8601 duration" in pc.column("PCELTM").method
    assert pc.column("PCORRESU").codelist == "C85494"  # PKUNIT
    assert cp.column("CPTESTCD").codelist == "C181173"
    # PCTESTCD has no CDISC codelist: the sponsor's, decoded by PCTEST
    assert pc.column("PCTESTCD").codelist.items == (("CARTCOPY", "CAR-T Transgene Copies"),)


def test_an_unknown_flow_analyte_is_kept_in_cp_and_queried(mini_raw: Path,
                                                          mapping: Path) -> None:
    """No row of the transfer is left out: a flow result the mapping does not know lands in
    CP with its analyte as collected, and is a data issue."""
    write_kinetics(mini_raw, [*ROWS, ("920-002", "DAY4", "2", "2021-02-10", "11:00", BLOOD,
                                      "Flow cytometry", "NK cells (% of lymphocytes)", "3.1",
                                      "%", "")])
    result = run(mini_raw, mapping)
    cp = _by_row(result, "CP")
    assert cp.loc[8, "CPTESTCD"] == "NK cells (% of lymphocytes)"
    issues = result.issues[result.issues["file"] == "kinetics.csv"]
    assert set(issues["row"]) == {8}
    # its code, hence its name and standard unit, are queried
    assert "not in codelist C181173 nor in the study CT map" in set(issues["issue"])
    assert {"CPTESTCD", "CPTEST", "CPSTRESU"} <= set(" ".join(issues["variable"]).split())
    rec = result.reconciliation.set_index("file").loc["kinetics.csv"]
    assert (rec["read"], rec["mapped"]) == (8, 8)
