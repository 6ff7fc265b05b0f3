"""cdisc run / cdisc adam end to end on the demo: outputs, validity, determinism, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cdisc.cli import main
from tests.conftest import REFERENCE, REPO


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    result = CliRunner().invoke(main, ["run", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "CR + CRi rate (EFFFL = Y): 16/40 = 40.0%" in result.output
    return out


def test_adam_outputs(demo_out: Path) -> None:
    names = {p.name for p in (demo_out / "adam").iterdir()}
    assert {"adsl.xpt", "adrs.xpt", "adtte.xpt", "adae.xpt", "adpc.xpt", "adpp.xpt",
            "adsl.json", "define.xml", "define.html", "kinetics_plot.png"} <= names
    tables = {p.name for p in (demo_out / "adam" / "tables").iterdir()}
    assert tables == {"overview.csv", "overview_trtfl.csv", "teae_by_soc_pt.csv",
                      "related_teae_by_soc_pt.csv", "max_grade.csv", "safety_tables.html"}


def test_demo_adae_keeps_every_ae_and_flags_the_lymphodepletion_death(demo_out: Path) -> None:
    from cdisc.io.xpt import read_xpt

    ae, _ = read_xpt(demo_out / "sdtm" / "ae.xpt")
    adae, _ = read_xpt(demo_out / "adam" / "adae.xpt")
    assert len(adae) == len(ae) == 278
    # 920-006: grade 5 pneumonia one day after the lymphodepletion start, never infused
    death = adae[(adae["USUBJID"] == "NCT04265963-920-006") & (adae["ATOXGR"] == "5")]
    assert len(death) == 1
    r = death.iloc[0]
    assert (r["AEDECOD"], r["TRTEMFL"], r["LDTEMFL"], r["RELGR2"], r["TRTFL"], r["SAFFL"]) == \
        ("Pneumonia", "", "Y", "RELATED TO LYMPHODEPLETION", "Y", "N")
    crs = adae[adae["AEDECOD"] == "Cytokine release syndrome"]
    assert (crs["CQ01NAM"] == "CYTOKINE RELEASE SYNDROME").all()
    assert set(crs["AETOXGRS"]) == {"ASTCT CONSENSUS GRADING 2019"}


def test_demo_pp_and_adpp_trace_to_pc(demo_out: Path) -> None:
    from cdisc.io.xpt import read_xpt

    pc, _ = read_xpt(demo_out / "sdtm" / "pc.xpt")
    pp, _ = read_xpt(demo_out / "sdtm" / "pp.xpt")
    adpp, _ = read_xpt(demo_out / "adam" / "adpp.xpt")
    profiles = pc[["USUBJID", "PCSPEC", "PCRFTDTC"]].drop_duplicates()
    assert len(pp) == 5 * len(profiles)  # CMAX TMAX CLST TLST AUCINT per profile
    assert set(pp["PPTESTCD"]) == {"CMAX", "TMAX", "CLST", "TLST", "AUCINT"}
    linked = pp.merge(profiles, left_on=["USUBJID", "PPSPEC", "PPRFTDTC"],
                      right_on=["USUBJID", "PCSPEC", "PCRFTDTC"])
    assert len(linked) == len(pp)
    # ADPP: the calculated parameters, each the PP record it names
    done = pp[pp["PPSTAT"] != "NOT DONE"]
    assert len(adpp) == len(done)
    merged = adpp.merge(pp, left_on=["USUBJID", "SRCSEQ"], right_on=["USUBJID", "PPSEQ"])
    assert (merged["AVAL"] == merged["PPSTRESN"]).all()


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference not present")
def test_adam_define_is_schema_valid(demo_out: Path) -> None:
    from cdisc.define import validate_define

    xml = (demo_out / "adam" / "define.xml").read_bytes()
    assert validate_define(xml, REFERENCE / "define-xml-2.1" / "schema") == []
    assert b"MT.ADTTE.CNSR" in xml and b'Name="ADaMIG"' in xml


def test_run_is_byte_identical(demo_out: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert CliRunner().invoke(main, ["run", "--out", str(again)]).exit_code == 0
    for path in sorted(demo_out.rglob("*")):
        if path.is_file():
            assert (again / path.relative_to(demo_out)).read_bytes() == path.read_bytes(), path


def test_adam_from_an_sdtm_folder_with_cutoff(demo_out: Path, tmp_path: Path) -> None:
    out = tmp_path / "adam"
    result = CliRunner().invoke(main, ["adam", str(demo_out / "sdtm"), "--out", str(out),
                                       "--cutoff", "2021-06-30"])
    assert result.exit_code == 0, result.output
    from cdisc.io.xpt import read_xpt

    adtte, _ = read_xpt(out / "adtte.xpt")
    cut = (pd_date("2021-06-30"))
    assert (adtte["ADT"] <= cut).all()


def _stamp(define: Path) -> str:
    from cdisc.xmlsafe import parse_untrusted

    return parse_untrusted(define).get("CreationDateTime")


def test_one_creation_datetime_rule_for_sdtm_adam_and_run(demo_out: Path, tmp_path: Path) -> None:
    """Without --cutoff, cdisc adam on the SDTM of a run stamps its ADaM as the run did: with
    the SDTM's creation time (the data cut, the latest complete date in the SDTM data); with
    --cutoff, the cut-off date."""
    from cdisc.pipeline import data_cut_datetime, map_raw

    sdtm_stamp = _stamp(demo_out / "sdtm" / "define.xml")
    _, _, mapped = map_raw(REPO / "cdisc" / "data" / "demo_raw", REPO / "mappings" / "nct04265963")
    assert sdtm_stamp == data_cut_datetime(mapped.datasets)
    assert _stamp(demo_out / "adam" / "define.xml") == sdtm_stamp
    out = tmp_path / "adam"
    assert CliRunner().invoke(main, ["adam", str(demo_out / "sdtm"), "--out",
                                     str(out)]).exit_code == 0
    assert _stamp(out / "define.xml") == sdtm_stamp
    cut = tmp_path / "cut"
    assert CliRunner().invoke(main, ["adam", str(demo_out / "sdtm"), "--out", str(cut),
                                     "--cutoff", "2021-06-30"]).exit_code == 0
    assert _stamp(cut / "define.xml") == "2021-06-30T00:00:00"


def pd_date(iso: str) -> float:
    import datetime as dt

    return float((dt.date.fromisoformat(iso) - dt.date(1960, 1, 1)).days)


@pytest.mark.parametrize("text,message", [
    ("parameters: {}\n", "'treatment' is required"),
    ("treatment: {exposure: {dataset: EX}}\nparameters:\n  os: {start: TRTSDT, events: []}\n",
     "PARAMCD must be upper case"),
    ("treatment: {exposure: {dataset: EX}}\nbogus: 1\nparameters: {}\n", "unknown key"),
])
def test_config_errors_are_one_line_exit_2(demo_out: Path, tmp_path: Path, text: str,
                                           message: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    result = CliRunner().invoke(main, ["adam", str(demo_out / "sdtm"), "--out",
                                       str(tmp_path / "o"), "--config", str(config)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and message in result.output
    assert not (tmp_path / "o").exists()


def test_bad_cutoff_is_a_usage_error(demo_out: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["adam", str(demo_out / "sdtm"), "--out",
                                       str(tmp_path / "o"), "--cutoff", "30/06/2021"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


def test_demo_exercises_every_event_and_censoring_path(demo_out: Path, tmp_path: Path) -> None:
    from cdisc.io.xpt import read_xpt

    adtte, _ = read_xpt(demo_out / "adam" / "adtte.xpt")
    adsl, _ = read_xpt(demo_out / "adam" / "adsl.xpt")
    pfs = adtte[adtte["PARAMCD"] == "PFS"]
    paths = set(zip(pfs["CNSR"], pfs["EVNTDESC"] + pfs["CNSDTDSC"], strict=True))
    assert {(0.0, "DEATH"), (0.0, "DISEASE PROGRESSION OR RELAPSE"),
            (1.0, "LAST ADEQUATE RESPONSE ASSESSMENT"),
            (2.0, "NO POST-BASELINE RESPONSE ASSESSMENT"),
            (3.0, "LAST ADEQUATE ASSESSMENT BEFORE HSCT"),
            (4.0, "LAST ADEQUATE ASSESSMENT BEFORE NEW THERAPY")} <= paths
    assert {"LOST TO FOLLOW-UP", "WITHDRAWAL BY SUBJECT", "DEATH"} <= set(adsl["DCSREAS"])
    assert set(adtte.loc[adtte["PARAMCD"] == "DOR", "CNSR"]) >= {0.0, 1.0, 3.0}
    # a cut-off before the last events turns some events into censored records
    out = tmp_path / "cut"
    assert CliRunner().invoke(main, ["adam", str(demo_out / "sdtm"), "--out", str(out),
                                     "--cutoff", "2021-01-31"]).exit_code == 0
    cut, _ = read_xpt(out / "adtte.xpt")
    merged = adtte.merge(cut, on=["USUBJID", "PARAMCD"], suffixes=("", "_CUT"))
    assert ((merged["CNSR"] == 0) & (merged["CNSR_CUT"] > 0)).any()


def test_manifest_lists_every_output_with_its_hash(demo_out: Path) -> None:
    import hashlib
    import json

    doc = json.loads((demo_out / "manifest.json").read_text())
    files = sorted(p.relative_to(demo_out).as_posix() for p in demo_out.rglob("*")
                   if p.is_file() and p.name != "manifest.json")
    assert sorted(doc["outputs"]) == files
    for name in ("sdtm/dm.xpt", "adam/adtte.xpt", "reconciliation.csv"):
        assert doc["outputs"][name] == hashlib.sha256((demo_out / name).read_bytes()).hexdigest()
    assert "dm.csv" in doc["inputs"] and len(doc["specs_sha256"]) == 64


def locked_versions() -> dict[str, str]:
    """name -> version pinned in requirements/dev.txt for this interpreter (markers applied)."""
    from packaging.markers import Marker
    from packaging.utils import canonicalize_name

    pins = {}
    for line in (REPO / "requirements" / "dev.txt").read_text().splitlines():
        if "==" not in line or line.startswith((" ", "#")):
            continue
        spec, _, marker = line.rstrip(" \\").partition(";")
        if marker.strip() and not Marker(marker.strip()).evaluate():
            continue
        name, version = spec.strip().split("==")
        pins[canonicalize_name(name)] = version
    return pins


def test_manifest_records_the_locked_library_versions(demo_out: Path) -> None:
    """The libraries that shape the outputs are recorded, and they are the locked versions."""
    import json

    from packaging.utils import canonicalize_name

    doc = json.loads((demo_out / "manifest.json").read_text())
    libraries = doc["libraries"]
    assert {"pandas", "numpy", "pyreadstat", "lxml", "great-expectations", "PyYAML",
            "lifelines"} <= set(libraries)
    pins = locked_versions()
    assert {name: version for name, version in libraries.items()} == \
        {name: pins[canonicalize_name(name)] for name in libraries}
    assert doc["python"].count(".") == 2


def test_unaccounted_raw_rows_fail_the_run_with_exit_1(tmp_path: Path, monkeypatch) -> None:
    """A raw row neither mapped, rejected nor filtered: outputs written, run fails (exit 1)."""
    import pandas as pd

    from cdisc.sdtm.engine import Ledger

    real = Ledger.reconciliation

    def leaky(self):  # type: ignore[no-untyped-def]
        rec = real(self)
        first = rec.index[rec["file"] == "ae.csv"][0]
        rec.loc[first, ["mapped", "unused"]] = [rec.loc[first, "mapped"] - 2, 2]
        return rec

    monkeypatch.setattr(Ledger, "reconciliation", leaky)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", "--out", str(out), "--format", "xpt"])
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert "reconciliation failed" in last and "ae.csv: 2" in last and "Traceback" not in \
        result.output
    rec = pd.read_csv(out / "reconciliation.csv")
    assert int(rec.loc[rec["file"] == "ae.csv", "unused"].iloc[0]) == 2


def test_reconciliation_balances_on_the_demo(demo_out: Path) -> None:
    import pandas as pd

    rec = pd.read_csv(demo_out / "reconciliation.csv")
    assert (rec["unused"] == 0).all()
    assert (rec["read"] == rec["mapped"] + rec["rejected"] + rec["filtered"]).all()


def test_run_hands_adam_and_validation_exactly_what_the_files_hold(demo_out: Path,
                                                                  tmp_path: Path) -> None:
    """cdisc run derives ADaM and validates from the tables in memory; the results must be
    those of cdisc adam / cdisc validate reading the written files."""
    import json

    out = tmp_path / "adam"
    assert CliRunner().invoke(main, ["adam", str(demo_out / "sdtm"), "--out", str(out),
                                     "--format", "xpt,json"]).exit_code == 0
    for name in ("adsl.xpt", "adrs.xpt", "adtte.xpt"):
        assert (out / name).read_bytes() == (demo_out / "adam" / name).read_bytes(), name
    # the whole package at once (sdtm/ and adam/), as cdisc run validates it
    report = tmp_path / "report.json"
    CliRunner().invoke(main, ["validate", str(demo_out), "--json", str(report)])
    fresh = json.loads(report.read_text())
    in_run = json.loads((demo_out / "validation" / "report.json").read_text())
    assert fresh["findings"] == in_run["findings"]
    assert fresh["rules"] == in_run["rules"]
    assert fresh["standard"] == in_run["standard"] == "mixed"
