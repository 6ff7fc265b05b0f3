"""Each former hand-written rule (CD0001-CD0023) keeps its behaviour under the rule that now
covers it: a CORE rule where CORE's catalogue has it, else our own rule in the same schema
(validation/rules/own.yaml). A minimal package that breaks it and one that passes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cdisc.validate.core.catalogue import load_catalogue
from cdisc.validate.core.runner import Submission, run_one
from cdisc.validate.package import Package, Table

RULES = {r.core_id: r for r in load_catalogue()}


def pkg(**tables: pd.DataFrame) -> Submission:
    """SDTM tables as one package, ADaM (AD*) tables as the other."""
    def part(names: list[str]) -> Package | None:
        if not names:
            return None
        return Package(Path("."), {n: Table(n, tables[n].astype(
            {c: object for c in tables[n].columns if tables[n][c].dtype != float}),
            label="ok") for n in names})
    sdtm = [n for n in tables if not n.startswith("AD")]
    adam = [n for n in tables if n.startswith("AD")]
    return Submission(part(sdtm), part(adam))


def findings(rule_id: str, submission: Submission):  # type: ignore[no-untyped-def]
    run, found = run_one(RULES[rule_id], submission)
    assert run.status in ("passed", "failed"), (rule_id, run.status, run.reason)
    return found


def dm(**over) -> pd.DataFrame:
    base = {"STUDYID": ["S", "S"], "DOMAIN": ["DM", "DM"], "USUBJID": ["S-1", "S-2"],
            "RFSTDTC": ["2021-01-10", "2021-01-12"], "RFXSTDTC": ["2021-01-05", "2021-01-07"],
            "RFXENDTC": ["2021-01-10", "2021-01-12"], "DTHDTC": ["", "2021-05-01"],
            "DTHFL": ["", "Y"], "ARMCD": ["A", "A"], "ARM": ["Arm A", "Arm A"],
            "ACTARMCD": ["A", "A"], "ACTARM": ["Arm A", "Arm A"], "ARMNRS": ["", ""]}
    base.update(over)
    return pd.DataFrame(base)


def ex(**over) -> pd.DataFrame:
    base = {"STUDYID": ["S", "S"], "DOMAIN": ["EX", "EX"], "USUBJID": ["S-1", "S-2"],
            "EXSEQ": [1.0, 1.0], "EXSTDTC": ["2021-01-10", "2021-01-12"],
            "EXENDTC": ["2021-01-10", "2021-01-12"], "EXSTDY": [1.0, 1.0], "EXENDY": [1.0, 1.0]}
    base.update(over)
    return pd.DataFrame(base)


def ae(**over) -> pd.DataFrame:
    base = {"STUDYID": ["S"], "DOMAIN": ["AE"], "USUBJID": ["S-1"], "AESEQ": [1.0],
            "AESER": ["Y"], "AESHOSP": ["Y"], "AESDTH": ["N"], "AETOXGR": ["3"],
            "AEOUT": ["RECOVERED/RESOLVED"], "AESTDTC": ["2021-01-11"],
            "AEENDTC": ["2021-01-15"]}
    base.update(over)
    return pd.DataFrame(base)


def lb(**over) -> pd.DataFrame:
    base = {"STUDYID": ["S"], "DOMAIN": ["LB"], "USUBJID": ["S-1"], "LBSEQ": [1.0],
            "LBSTRESC": ["1.5"], "LBSTRESN": [1.5], "LBSTNRLO": [2.0], "LBSTNRHI": [8.0],
            "LBNRIND": ["LOW"]}
    base.update(over)
    return pd.DataFrame(base)


def rs(**over) -> pd.DataFrame:
    base = {"STUDYID": ["S", "S"], "DOMAIN": ["RS", "RS"], "USUBJID": ["S-1", "S-1"],
            "RSSEQ": [1.0, 2.0], "RSTESTCD": ["OVRLRESP"] * 2, "RSSTRESC": ["CR", "CRi"],
            "RSEVAL": ["INVESTIGATOR"] * 2, "RSDTC": ["2021-02-01", "2021-03-01"]}
    base.update(over)
    return pd.DataFrame(base)


def adtte(**over) -> pd.DataFrame:
    base = {"STUDYID": ["S"], "USUBJID": ["S-1"], "PARAMCD": ["OS"], "AVAL": [11.0],
            "STARTDT": [22290.0], "ADT": [22300.0], "CNSR": [0.0], "EVNTDESC": ["DEATH"]}
    base.update(over)
    return pd.DataFrame(base)


# former id: (rule that covers it now, passing package, failing package, (dataset, variable))
CASES = {
    "CD0001": ("CORE-000201", lambda: pkg(DM=dm(), EX=ex()),
               lambda: pkg(DM=dm(), EX=ex(USUBJID=["S-1", "S-9"])), ("EX", "USUBJID")),
    "CD0002": ("CORE-000351", lambda: pkg(DM=dm()), lambda: pkg(DM=dm(USUBJID=["S-1", "S-1"])),
               ("DM", "USUBJID")),
    "CD0003": ("CORE-000544", lambda: pkg(DM=dm(), EX=ex()),
               lambda: pkg(DM=dm(), EX=ex(USUBJID=["S-1", "S-1"])), ("EX", "EXSEQ, USUBJID")),
    "CD0004": ("CORE-000552", lambda: pkg(DM=dm(), EX=ex()),
               lambda: pkg(DM=dm(), EX=ex(EXSTDY=[2.0, 1.0])), ("EX", "EXSTDY, EXSTDTC")),
    "CD0005": ("CORE-000718", lambda: pkg(DM=dm(), AE=ae()),
               lambda: pkg(DM=dm(), AE=ae(AEENDTC=["2021-01-09"])), ("AE", "AESTDTC, AEENDTC")),
    "CD0006": ("CORE-000007", lambda: pkg(DM=dm()), lambda: pkg(DM=dm(DTHFL=["", ""])),
               ("DM", "DTHDTC, DTHFL")),
    "CD0007": ("CORE-000318", lambda: pkg(DM=dm()), lambda: pkg(DM=dm(ARM=["Arm A", "Arm B"])),
               ("DM", "ARMCD, ARM")),
    "CD0008": ("CD0008", lambda: pkg(DM=dm(), EX=ex()),
               lambda: pkg(DM=dm(), EX=ex(USUBJID=["S-1", "S-1"], EXSEQ=[1.0, 2.0])),
               ("DM", "ACTARMCD")),
    "CD0009": ("CORE-000266", lambda: pkg(AE=ae()), lambda: pkg(AE=ae(AESHOSP=["N"])),
               ("AE", "AESER, AESDTH, AESHOSP")),
    "CD0010": ("CD0010", lambda: pkg(AE=ae()), lambda: pkg(AE=ae(AETOXGR=["6"])),
               ("AE", "AETOXGR")),
    "CD0011": ("CORE-000657", lambda: pkg(AE=ae()),
               lambda: pkg(AE=ae(AEOUT=["NOT RECOVERED/NOT RESOLVED"])), ("AE", "AEOUT, AEENDTC")),
    "CD0012": ("CD0012", lambda: pkg(DM=dm(), EX=ex()),
               lambda: pkg(DM=dm(), EX=ex(EXSTDTC=["2021-01-10", "2021-02-12"])),
               ("EX", "EXSTDTC")),
    "CD0013": ("CORE-000542", lambda: pkg(LB=lb()), lambda: pkg(LB=lb(LBSTRESN=[15.0])),
               ("LB", "LBSTRESC, LBSTRESN")),
    "CD0014": ("CD0014", lambda: pkg(LB=lb()), lambda: pkg(LB=lb(LBNRIND=["NORMAL"])),
               ("LB", "LBNRIND")),
    "CD0015": ("CD0015", lambda: pkg(RS=rs()), lambda: pkg(RS=rs(RSSTRESC=["CR", "GREAT"])),
               ("RS", "RSSTRESC")),
    "CD0016": ("CD0016", lambda: pkg(RS=rs()), lambda: pkg(RS=rs(RSDTC=["2021-02-01"] * 2)),
               ("RS", "RSDTC")),
    "CD0017": ("AD0002", lambda: pkg(DM=dm(), ADSL=dm()[["STUDYID", "USUBJID"]]),
               lambda: pkg(DM=dm(), ADSL=pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["S-7"]})),
               ("ADSL", "USUBJID")),
    "CD0018": ("AD0009", lambda: pkg(ADTTE=adtte()), lambda: pkg(ADTTE=adtte(AVAL=[10.0])),
               ("ADTTE", "AVAL")),
    "CD0019": ("CD0019", lambda: pkg(DM=dm()), lambda: pkg(DM=dm(ARM=["Arm \u00e9", "Arm \u00e9"])),
               ("DM", "ARM")),
    "CD0020": ("CORE-000852", lambda: pkg(DM=dm()),
               lambda: pkg(DM=dm()[["DOMAIN", "STUDYID", "USUBJID"]]), ("DM", None)),
}


@pytest.mark.parametrize("former", sorted(CASES))
def test_rule_breaks_and_passes(former: str) -> None:
    rule_id, good, bad, (dataset, variable) = CASES[former]
    assert findings(rule_id, good()) == []
    mine = findings(rule_id, bad())
    assert mine, rule_id
    assert (mine[0].dataset, mine[0].variable) == (dataset, variable)
    assert mine[0].count >= 1


def test_rows_are_one_based_and_values_shown() -> None:
    [f] = findings("CORE-000201", pkg(DM=dm(), EX=ex(USUBJID=["S-1", "S-9"])))
    assert f.rows == (2,)
    assert (f.records[0].row, f.records[0].usubjid, f.records[0].value) == (2, "S-9",
                                                                          "USUBJID=S-9")


def test_rules_that_cannot_run_say_so() -> None:
    run, found = run_one(RULES["CORE-000201"], pkg(AE=ae()))
    assert (run.status, found) == ("skipped", [])
    assert "DM" in run.reason


def test_define_rule(tmp_path: Path) -> None:
    p = pkg(DM=dm())
    p.sdtm.define = tmp_path / "define.xml"
    p.sdtm.define.write_text('<?xml version="1.0"?><ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"/>')
    assert any("schema" in f.message for f in findings("CD0021", p))


def test_label_over_40() -> None:
    p = pkg(DM=dm())
    p.sdtm.tables["DM"].column_labels = {"ARM": "x" * 41}
    [f] = findings("CORE-000019", p)  # Dataset sensitivity: one result naming the variable
    assert (f.dataset, f.count, f.records[0].key, f.records[0].value) == (
        "DM", 1, "variable=ARM", "variable=ARM: variable_label=" + "x" * 41)


def _with_define(tmp_path: Path, data: pd.DataFrame) -> Submission:
    from cdisc.define import StudyInfo, build_define
    from cdisc.model import Column, Dataset
    from cdisc.specs import load_specs

    cols = [Column("STUDYID", "Study Identifier", "Char"),
            Column("USUBJID", "Unique Subject Identifier", "Char"),
            Column("SEX", "Sex", "Char", codelist="C66731")]
    described = Dataset("DM", "Demographics", cols, data[["STUDYID", "USUBJID", "SEX"]].copy(),
                        dataset_class="Special-Purpose", structure="One record per subject")
    xml = build_define([described], load_specs(), StudyInfo("S", "S", "S", "S"),
                       creation_datetime="2024-01-01T00:00:00")
    (tmp_path / "define.xml").write_bytes(xml)
    p = pkg(DM=data)
    p.sdtm.define = tmp_path / "define.xml"
    return p


def test_define_describes_every_variable_and_value(tmp_path: Path) -> None:
    data = dm(SEX=["M", "F"])[["STUDYID", "USUBJID"]].assign(SEX=["M", "F"])
    good = _with_define(tmp_path, data)
    for rule in ("CD0021", "CD0022", "CD0023"):
        assert findings(rule, good) == []
    extra = good.sdtm.tables["DM"].data.assign(AGE=[1.0, 2.0], SEX=["M", "U"])
    good.sdtm.tables["DM"].data = extra
    good.studies.clear()
    assert any(f.variable == "AGE" for f in findings("CD0022", good))
    [bad] = findings("CD0023", good)
    assert (bad.variable, bad.rows, bad.values) == ("SEX", (2,), ("U",))


def test_seq_must_be_unique_within_subject() -> None:
    [f] = findings("CORE-000544", pkg(DM=dm(), EX=ex(USUBJID=["S-1", "S-1"], EXSEQ=[1.0, 1.0])))
    assert (f.dataset, f.count, f.rows) == ("EX", 2, (1, 2))
