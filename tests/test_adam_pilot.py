"""ADaM on another study with only the config changed: the CDISC pilot package (ADSL, ADTTE OS)
and a small pilot-layout SDTM set whose RS uses RECIST values, for PFS and DOR."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cdisc.adam.build import derive_from_sdtm
from cdisc.adam.config import load_config
from tests.conftest import REFERENCE, REPO

PILOT = REPO / "mappings" / "cdiscpilot01"
RAW = REFERENCE / "pharmaverseraw" / "csv"


def sas(iso: str) -> float:
    return float((dt.date.fromisoformat(iso) - dt.date(1960, 1, 1)).days)


@pytest.mark.skipif(not RAW.exists(), reason="../shared/reference not present")
def test_cdisc_adam_on_the_pilot_package(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cdisc.cli import main

    runner = CliRunner()
    sdtm = tmp_path / "sdtm"
    assert runner.invoke(main, ["sdtm", str(RAW), "--mapping", str(PILOT), "--out",
                                str(sdtm)]).exit_code == 0
    out = tmp_path / "adam"
    result = runner.invoke(main, ["adam", str(sdtm), "--config", str(PILOT / "adam.yaml"),
                                  "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.xpt")) == ["adsl.xpt", "adtte.xpt"]
    from cdisc.io.xpt import read_xpt

    adsl, _ = read_xpt(out / "adsl.xpt")
    adtte, _ = read_xpt(out / "adtte.xpt")
    assert len(adsl) == 306 and set(adtte["PARAMCD"]) == {"OS"}
    assert len(adtte) == (adsl["SAFFL"] == "Y").sum() == 254
    s = adtte.set_index("USUBJID").loc["01-701-1211"]  # died 2013-01-14, first dose 2012-11-15
    assert (s["CNSR"], s["AVAL"], s["EVNTDESC"]) == (0.0, 61.0, "DEATH")
    s = adtte.set_index("USUBJID").loc["01-701-1015"]  # alive: last dose end 2014-07-02
    assert (s["CNSR"], s["ADT"], s["AVAL"]) == (1.0, sas("2014-07-02"), 182.0)


def recist_config(tmp_path: Path) -> Path:
    config = yaml.safe_load((PILOT / "adam.yaml").read_text())
    config["response"] = {"dataset": "RS", "where": {"RSTESTCD": "OVRLRESP"},
                          "variable": "RSSTRESC", "hierarchy": ["CR", "PR", "SD", "PD", "NE"],
                          "progression": ["PD"], "not_evaluable": ["NE"],
                          "population": "SAFFL",
                          "subject_parameters": {
                              "BOR": {"param": "Best Overall Response", "best": True},
                              "CRCRI": {"param": "CR or PR Achieved", "achieved": ["CR", "PR"],
                                        "rate": "objective response rate"}},
                          "adsl": {"FCRCRIDT": {"parameter": "CRCRI", "variable": "ADT",
                                                "where": {"AVALC": "Y"}}}}
    progression = {"source": "ADRS", "where": {"PARAMCD": "OVR", "AVALC": ["PD"]},
                   "description": "DISEASE PROGRESSION"}
    death = {"source": "ADSL", "date": "DTHDT", "description": "DEATH"}
    last = {"source": "ADRS", "where": {"PARAMCD": "OVR", "ANL02FL": "Y"}, "cnsr": 1,
            "description": "LAST ADEQUATE ASSESSMENT"}
    config["parameters"]["PFS"] = {
        "param": "Progression-Free Survival (days)", "start": "TRTSDT",
        "events": [progression, death],
        "censors": [last, {"source": "START", "cnsr": 2, "description": "NO ASSESSMENT"}]}
    config["parameters"]["DOR"] = {
        "param": "Duration of Response (days)", "start": "FCRCRIDT",
        "events": [progression, death],
        "censors": [last, {"source": "START", "cnsr": 2, "description": "NO ASSESSMENT"}]}
    path = tmp_path / "adam_recist.yaml"
    path.write_text(yaml.safe_dump(json.loads(json.dumps(config))))  # no shared nodes
    return path


def recist_sdtm() -> dict[str, pd.DataFrame]:
    subjects = ["01-701-0001", "01-701-0002", "01-701-0003"]
    dm = pd.DataFrame({"STUDYID": "CDISCPILOT01", "USUBJID": subjects,
                       "SUBJID": ["0001", "0002", "0003"], "SITEID": "701",
                       "AGE": [70.0, 66.0, 81.0], "AGEU": "YEARS", "SEX": "M", "RACE": "WHITE",
                       "ARM": "Placebo", "ARMCD": "Pbo", "ACTARM": "Placebo", "ACTARMCD": "Pbo",
                       "DTHFL": ["", "", "Y"], "DTHDTC": ["", "", "2014-05"]})
    ex = pd.DataFrame({"USUBJID": subjects, "EXSEQ": 1.0, "EXTRT": "PLACEBO",
                       "EXSTDTC": "2014-01-01", "EXENDTC": "2014-03-01"})
    rs = pd.DataFrame([(subjects[0], "PR", "2014-02-01"), (subjects[0], "PD", "2014-04-01"),
                       (subjects[1], "CR", "2014-02-01"), (subjects[1], "CR", "2014-06-01"),
                       (subjects[2], "SD", "2014-02-01")],
                      columns=["USUBJID", "RSSTRESC", "RSDTC"]).assign(
        RSTESTCD="OVRLRESP", RSSEQ=1.0, VISIT="", VISITNUM=np.nan)
    return {"DM": dm, "EX": ex, "RS": rs}


def test_recist_pfs_and_dor_with_only_the_config_changed(tmp_path: Path) -> None:
    result = derive_from_sdtm(recist_sdtm(), load_config(recist_config(tmp_path)), None)
    t = result.datasets["ADTTE"].data.set_index(["USUBJID", "PARAMCD"])
    # 0001: PR 02-01, PD 04-01 -> PFS event day 91, DOR from 02-01: 60 days -> 60
    assert t.loc[("01-701-0001", "PFS"), ["AVAL", "CNSR"]].tolist() == [91.0, 0.0]
    assert t.loc[("01-701-0001", "DOR"), ["AVAL", "CNSR"]].tolist() == [60.0, 0.0]
    # 0002: CR twice, no progression -> censored at the last assessment (06-01)
    assert t.loc[("01-701-0002", "PFS"), ["AVAL", "CNSR", "ADT"]].tolist() == \
        [152.0, 1.0, sas("2014-06-01")]
    assert t.loc[("01-701-0002", "DOR"), ["AVAL", "CNSR"]].tolist() == [121.0, 1.0]
    # 0003: SD, death 2014-05 (imputed 2014-05-01, after the last assessment) -> PFS event
    assert t.loc[("01-701-0003", "PFS"), ["AVAL", "CNSR", "EVNTDESC"]].tolist() == \
        [121.0, 0.0, "DEATH"]
    assert ("01-701-0003", "DOR") not in t.index  # not a responder
    adsl = result.datasets["ADSL"].data.set_index("USUBJID")
    assert (adsl.loc["01-701-0003", "DTHDT"], adsl.loc["01-701-0003", "DTHDTF"]) == \
        (sas("2014-05-01"), "D")
