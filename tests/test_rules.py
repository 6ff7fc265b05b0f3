"""Every conformance rule: a minimal package that breaks it and one that passes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cdisc.validate.package import Package, Table
from cdisc.validate.rules import RULES, run_rules


def pkg(**tables: pd.DataFrame) -> Package:
    return Package(Path("."), {n: Table(n, df.astype({c: object for c in df.columns
                                                      if df[c].dtype != float}),
                                        label="ok")
                               for n, df in tables.items()})


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


CASES = {
    "CD0001": (lambda: pkg(DM=dm(), EX=ex()),
               lambda: pkg(DM=dm(), EX=ex(USUBJID=["S-1", "S-9"])), ("EX", "USUBJID")),
    "CD0002": (lambda: pkg(DM=dm()), lambda: pkg(DM=dm(USUBJID=["S-1", "S-1"])),
               ("DM", "USUBJID")),
    "CD0003": (lambda: pkg(DM=dm(), EX=ex()),
               lambda: pkg(DM=dm(), EX=ex(USUBJID=["S-1", "S-1"])), ("EX", "EXSEQ")),
    "CD0004": (lambda: pkg(DM=dm(), EX=ex()),
               lambda: pkg(DM=dm(), EX=ex(EXSTDY=[0.0, 1.0])), ("EX", "EXSTDY")),
    "CD0005": (lambda: pkg(DM=dm(), AE=ae()),
               lambda: pkg(DM=dm(), AE=ae(AEENDTC=["2021-01-09"])), ("AE", "AEENDTC")),
    "CD0006": (lambda: pkg(DM=dm()), lambda: pkg(DM=dm(DTHFL=["", ""])), ("DM", "DTHFL")),
    "CD0007": (lambda: pkg(DM=dm()), lambda: pkg(DM=dm(ARM=["Arm A", "Arm B"])),
               ("DM", "ARMCD")),
    "CD0008": (lambda: pkg(DM=dm(), EX=ex()),
               lambda: pkg(DM=dm(), EX=ex(USUBJID=["S-1", "S-1"], EXSEQ=[1.0, 2.0])),
               ("DM", "ACTARMCD")),
    "CD0009": (lambda: pkg(AE=ae()), lambda: pkg(AE=ae(AESHOSP=["N"])), ("AE", "AESER")),
    "CD0010": (lambda: pkg(AE=ae()), lambda: pkg(AE=ae(AETOXGR=["6"])), ("AE", "AETOXGR")),
    "CD0011": (lambda: pkg(AE=ae()),
               lambda: pkg(AE=ae(AEOUT=["NOT RECOVERED/NOT RESOLVED"])), ("AE", "AEENDTC")),
    "CD0012": (lambda: pkg(DM=dm(), EX=ex()),
               lambda: pkg(DM=dm(), EX=ex(EXSTDTC=["2021-01-10", "2021-02-12"])),
               ("EX", "EXSTDTC")),
    "CD0013": (lambda: pkg(LB=lb()), lambda: pkg(LB=lb(LBSTRESN=[15.0])), ("LB", "LBSTRESN")),
    "CD0014": (lambda: pkg(LB=lb()), lambda: pkg(LB=lb(LBNRIND=["NORMAL"])), ("LB", "LBNRIND")),
    "CD0015": (lambda: pkg(RS=rs()), lambda: pkg(RS=rs(RSSTRESC=["CR", "GREAT"])),
               ("RS", "RSSTRESC")),
    "CD0016": (lambda: pkg(RS=rs()), lambda: pkg(RS=rs(RSDTC=["2021-02-01"] * 2)),
               ("RS", "RSDTC")),
    "CD0017": (lambda: pkg(DM=dm(), ADSL=dm()[["STUDYID", "USUBJID"]]),
               lambda: pkg(DM=dm(), ADSL=pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["S-7"]})),
               ("ADSL", "USUBJID")),
    "CD0018": (lambda: pkg(ADTTE=adtte()), lambda: pkg(ADTTE=adtte(AVAL=[10.0])),
               ("ADTTE", "AVAL")),
    "CD0019": (lambda: pkg(DM=dm()), lambda: pkg(DM=dm(ARM=["Arm \u00e9", "Arm \u00e9"])),
               ("DM", "ARM")),
    "CD0020": (lambda: pkg(DM=dm()), lambda: pkg(DM=dm()[["DOMAIN", "STUDYID", "USUBJID"]]),
               ("DM", None)),
}


def test_every_rule_has_a_case() -> None:
    # define rules: tested below on a real define.xml
    assert {r.id for r in RULES} - set(CASES) == {"CD0021", "CD0022", "CD0023"}


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_breaks_and_passes(rule_id: str) -> None:
    good, bad, (dataset, variable) = CASES[rule_id]
    ok, _ = run_rules(good())
    assert [f for f in ok if f.rule == rule_id] == []
    found, _ = run_rules(bad())
    mine = [f for f in found if f.rule == rule_id]
    assert mine, rule_id
    assert (mine[0].dataset, mine[0].variable) == (dataset, variable)
    assert mine[0].count >= 1


def test_rows_are_one_based_and_values_shown() -> None:
    found, _ = run_rules(pkg(DM=dm(), EX=ex(USUBJID=["S-1", "S-9"])))
    f = next(f for f in found if f.rule == "CD0001")
    assert (f.rows, f.values) == ((2,), ("S-9",))


def test_rules_that_cannot_run_say_so() -> None:
    _, skipped = run_rules(pkg(AE=ae()))
    assert "CD0001 not run: needs DM" in skipped


def test_define_rule(tmp_path: Path) -> None:
    p = pkg(DM=dm())
    p.define = tmp_path / "define.xml"
    p.define.write_text('<?xml version="1.0"?><ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"/>')
    found, _ = run_rules(p)
    assert any(f.rule == "CD0021" and "schema" in f.message for f in found)


def test_label_over_40(tmp_path: Path) -> None:
    p = pkg(DM=dm())
    p.tables["DM"].column_labels = {"ARM": "x" * 41}
    found, _ = run_rules(p)
    assert any(f.rule == "CD0019" and f.variable == "ARM" and "40" in f.message for f in found)


def _with_define(tmp_path: Path, data: pd.DataFrame) -> Package:
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
    p.define = tmp_path / "define.xml"
    return p


def test_define_describes_every_variable_and_value(tmp_path: Path) -> None:
    data = dm(SEX=["M", "F"])[["STUDYID", "USUBJID"]].assign(SEX=["M", "F"])
    good = _with_define(tmp_path, data)
    found, _ = run_rules(good)
    assert [f for f in found if f.rule in ("CD0021", "CD0022", "CD0023")] == []
    extra = good.tables["DM"].data.assign(AGE=[1.0, 2.0], SEX=["M", "U"])
    good.tables["DM"].data = extra
    found, _ = run_rules(good)
    assert any(f.rule == "CD0022" and f.variable == "AGE" for f in found)
    [bad] = [f for f in found if f.rule == "CD0023"]
    assert (bad.variable, bad.rows, bad.values) == ("SEX", (2,), ("U",))


def test_seq_must_be_a_whole_number() -> None:
    from cdisc.validate.rules import RULES

    rule = next(r for r in RULES if r.id == "CD0003")
    findings = rule.check(rule, pkg(DM=dm(), EX=ex(EXSEQ=[1.5, 0.0])))
    [f] = [f for f in findings if "whole number" in f.message]
    assert (f.dataset, f.variable, f.count, f.rows) == ("EX", "EXSEQ", 2, (1, 2))
