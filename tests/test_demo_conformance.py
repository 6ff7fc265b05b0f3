"""The CDISC and FDA rules of issue 10 on the demo study's SDTM, until `cdisc validate` runs the
CORE catalogue: each test is one rule (CORE id, CDISC/FDA id), checked on the mapped tables the
way the rule's conditions in ../shared/reference/core_rules state it."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from cdisc.paths import DEMO_MAPPING_DIR, DEMO_RAW_DIR
from cdisc.pipeline import map_raw
from cdisc.specs import load_model_variables

CONTINUOUS = r"^-?(\d+(\.\d+)?$)|(\.\d+$)"  # the rules' own regex for a continuous result


@pytest.fixture(scope="module")
def sdtm() -> dict[str, pd.DataFrame]:
    _, _, result = map_raw(DEMO_RAW_DIR, DEMO_MAPPING_DIR)
    return {name: ds.data for name, ds in result.datasets.items()}


def _dm(sdtm: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return sdtm["DM"].set_index("USUBJID")


def test_cg0069_fb0611_ds_death_date_equals_dthdtc(sdtm) -> None:
    ds, dm = sdtm["DS"], _dm(sdtm)
    death = ds[ds["DSDECOD"] == "DEATH"]
    assert len(death) == 24
    assert (death["DSSTDTC"].to_numpy() == dm.loc[death["USUBJID"], "DTHDTC"].to_numpy()).all()


def test_fb0612_fatal_ae_end_equals_dthdtc_and_is_serious_death(sdtm) -> None:
    ae, dm = sdtm["AE"], _dm(sdtm)
    fatal = ae[ae["AEOUT"] == "FATAL"]
    assert len(fatal) == 2
    assert (fatal["AEENDTC"].to_numpy() == dm.loc[fatal["USUBJID"], "DTHDTC"].to_numpy()).all()
    assert set(fatal["AESDTH"]) == {"Y"}


def test_dthdtc_is_the_most_complete_death_date(sdtm) -> None:
    """920-023: the death form says UN-APR-2021, end of study 27APR2021: DTHDTC 2021-04-27."""
    dm = _dm(sdtm)
    assert dm.loc["NCT04265963-920-023", "DTHDTC"] == "2021-04-27"
    dead = dm[dm["DTHFL"] == "Y"]
    assert len(dead) == 24 and dead["DTHDTC"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


def test_cg0529_cg0530_rfendtc_with_arm_and_not_with_armnrs(sdtm) -> None:
    dm = sdtm["DM"]
    assert not ((dm["ARM"] != "") & (dm["RFENDTC"] == "")).any()       # CORE-000191
    assert not ((dm["ARMNRS"] != "") & (dm["RFENDTC"] != "")).any()    # CORE-000192


def test_arms_are_the_dose_cohorts_of_ta(sdtm) -> None:
    """CORE-000047/000208/000223: ARM and ACTARMCD are TA arms; ARMNRS wherever ACTARMCD is
    empty; the lymphodepleted-only subjects 920-006 and 920-010 followed their arm."""
    dm, ta = _dm(sdtm), sdtm["TA"]
    assert set(dm["ARMCD"]) - {""} == set(ta["ARMCD"]) == {"DL1", "DL2", "DL3"}
    assert set(dm["ACTARMCD"]) - {""} <= set(ta["ARMCD"])
    assert ((dm["ACTARMCD"] != "") | (dm["ARMNRS"] != "")).all()
    assert dm.loc[["NCT04265963-920-006", "NCT04265963-920-010"], "ACTARMCD"].tolist() == \
        ["DL1", "DL1"]
    assert dm.loc[["NCT04265963-920-006", "NCT04265963-920-010"], "ARMNRS"].tolist() == ["", ""]
    assert set(dm.loc[dm["ARMCD"] == "", "ARMNRS"]) == {"SCREEN FAILURE"}


def test_fb2201_epoch_on_every_placeable_record(sdtm) -> None:
    """EPOCH is empty only on partial dates that straddle an epoch boundary (documented)."""
    dm = _dm(sdtm)
    for name, table in sdtm.items():
        if "EPOCH" not in table or name in ("DD", "MH", "PP", "SE", "TA"):
            continue
        start = f"{name}STDTC" if f"{name}STDTC" in table else f"{name}DTC"
        empty = table[table["EPOCH"] == ""]
        assert not empty[start].str.fullmatch(r"\d{4}-\d{2}-\d{2}.*").any(), name
        for _, row in empty.iterrows():  # partial: its month holds a boundary of the subject
            month = row[start][:7]
            bounds = [dm.loc[row["USUBJID"], "RFXSTDTC"][:10],
                      (pd.Timestamp(dm.loc[row["USUBJID"], "RFSTDTC"][:10] or "NaT")
                       + pd.Timedelta(days=28)).strftime("%Y-%m-%d")
                      if dm.loc[row["USUBJID"], "RFSTDTC"] else ""]
            assert any(b and b[:7] == month for b in bounds), (name, row["USUBJID"], month)


def test_cg0180_to_cg0183_no_numeric_range_on_noncontinuous_results(sdtm) -> None:
    lb = sdtm["LB"]
    noncontinuous = (lb["LBORRES"] != "") & ~lb["LBORRES"].str.match(CONTINUOUS)
    assert noncontinuous.sum() > 0
    for col in ("LBORNRLO", "LBORNRHI"):
        assert (lb.loc[noncontinuous, col] == "").all(), col
    for col in ("LBSTNRLO", "LBSTNRHI"):
        assert lb.loc[noncontinuous, col].isna().all(), col


def test_censored_cytopenias_are_graded(sdtm) -> None:
    """33 neutrophil and 22 lymphocyte results '<0.1' (x10^9/L): LOW and CTCAE grade 4."""
    lb = sdtm["LB"]
    censored = lb[lb["LBSTRESC"] == "<0.1"]
    counts = censored.groupby("LBTESTCD").size().to_dict()
    assert counts == {"LYM": 22, "NEUT": 33}
    assert set(censored["LBNRIND"]) == {"LOW"} and set(censored["LBTOXGR"]) == {"4"}


def test_cg0314_no_qnam_is_a_model_variable(sdtm) -> None:
    model = {row["variable"] for row in load_model_variables()}
    for name, table in sdtm.items():
        if not name.startswith("SUPP"):
            continue
        parent = name[4:]
        generic = {"--" + q[len(parent):] if q.startswith(parent) else q for q in table["QNAM"]}
        assert not generic & model, (name, generic & model)
    # the kinetics' LLOQ is PCLLOQ (IG) and CPLLOQ (the Findings class's --LLOQ), not SUPP--:
    # every qPCR record (429) and every CAR+ T cell record (429); CD123+ blasts have none
    assert "LBLLOQ" not in sdtm["LB"]
    assert sdtm["PC"]["PCLLOQ"].notna().sum() == 429
    assert sdtm["CP"]["CPLLOQ"].notna().sum() == 429


def test_fb3202_stdy_wherever_stdtc(sdtm) -> None:
    for name, table in sdtm.items():
        if f"{name}STDTC" in table:
            assert f"{name}STDY" in table, name


def test_converted_results_keep_the_collected_precision(sdtm) -> None:
    """Glucose 89 mg/dL x 0.0555 is 4.9 mmol/L (two significant digits), not 4.9395."""
    lb = sdtm["LB"]
    gluc = lb[(lb["LBTESTCD"] == "GLUC") & (lb["LBORRES"] == "89")]
    assert set(gluc["LBSTRESC"]) == {"4.9"} and set(gluc["LBSTRESN"]) == {4.9}
    decimals = lb["LBSTRESC"].str.extract(r"\.(\d+)$")[0].str.len().fillna(0)
    assert decimals.max() <= 3


def test_relapse_from_cr_only_after_a_complete_response(sdtm) -> None:
    """920-011 relapsed after MLFS: RELAPSED DISEASE; the others after CR/CRi: FROM CR."""
    rs = sdtm["RS"]
    relapses = rs[rs["RSSTRESC"].str.startswith("RELAPSED")]
    by_subject = relapses.set_index("USUBJID")["RSSTRESC"]
    assert by_subject["NCT04265963-920-011"] == "RELAPSED DISEASE"
    for subject, value in by_subject.items():
        prior = rs[(rs["USUBJID"] == subject) & (rs["RSDTC"] < relapses.loc[
            relapses["USUBJID"] == subject, "RSDTC"].iloc[0])]["RSSTRESC"]
        had_cr = prior.isin(["CR", "CRi", "CRh"]).any()
        had_pr = prior.isin(["PR"]).any()
        expected = ("RELAPSED DISEASE FROM CR" if had_cr else
                    "RELAPSED DISEASE FROM CR OR PR" if had_pr else "RELAPSED DISEASE")
        assert value == expected, subject


def test_ie_death_details_assent_and_one_dsterm_spelling(sdtm) -> None:
    ie = sdtm["IE"]
    assert sorted(ie["USUBJID"].str[-7:]) == ["920-015", "920-019", "920-045"]
    assert set(ie["IETESTCD"]) == {"INCL03"} and set(ie["IEORRES"]) == {"N"}
    ti = sdtm["TI"].set_index("IETESTCD")
    assert (ie["IETEST"] == ti.loc["INCL03", "IETEST"]).all()
    dd = sdtm["DD"]
    assert set(dd["DDTESTCD"]) == {"PRCDTH", "AUTOPIND"}
    assert (dd["DDTESTCD"] == "PRCDTH").sum() == 24
    ds = sdtm["DS"]
    assert (ds["DSDECOD"] == "INFORMED ASSENT OBTAINED").sum() == 5
    terms = set(ds["DSTERM"])  # no term in two spellings ("Death" and "death")
    assert len({t.upper() for t in terms}) == len(terms)
    assert "SUPPDM" not in sdtm


def test_trial_design_present_with_sstdtc(sdtm) -> None:
    """FDA Technical Rejection Criterion 1734: TS with SSTDTC."""
    for name in ("TS", "TA", "TE", "TV", "TI", "SE", "SV"):
        assert name in sdtm and len(sdtm[name]) > 0, name
    ts = sdtm["TS"]
    assert ts.loc[ts["TSPARMCD"] == "SSTDTC", "TSVAL"].tolist() == ["2020-03-22"]
    assert re.fullmatch(r"NCT\d{8}", ts.loc[ts["TSPARMCD"] == "REGID", "TSVAL"].iloc[0])
