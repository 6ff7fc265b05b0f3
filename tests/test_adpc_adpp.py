"""cdisc.adam.adpc, adpp and kinetics_plot on small hand-made PC/PP frames: parameters, BLQ
handling, timing, analysis flags, traceability, metadata, and a deterministic plot."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc.adam import adpc as adpc_mod
from cdisc.adam import adpp as adpp_mod
from cdisc.adam.adpc import build_adpc
from cdisc.adam.adpp import build_adpp
from cdisc.adam.kinetics_plot import median_profile, plot_median_profile, unit_of
from cdisc.errors import SpecError
from cdisc.sdtm.pp import derive_pp
from cdisc.specs import adam_variable, load_specs
from tests.test_pp import PC, REF, TEST, UNIT, sample

# Subject C: a screening sample (excluded from the NCA), the pre-infusion BLQ, an embedded
# BLQ at day 10 (excluded), and a BLQ after the last quantifiable (set to 0).
C_REF = "2024-05-01T10:00"
SUBJECT_C = [
    sample("C", 1, "BLOOD", "2024-04-20", -11, "<50", ref=C_REF),
    sample("C", 2, "BLOOD", "2024-05-01T09:00", 0, "<50", ref=C_REF),
    sample("C", 3, "BLOOD", "2024-05-08T10:00", 7, "900", ref=C_REF),
    sample("C", 4, "BLOOD", "2024-05-11T10:00", 10, "<50", ref=C_REF),
    sample("C", 5, "BLOOD", "2024-05-15T10:00", 14, "300", ref=C_REF),
    sample("C", 6, "BLOOD", "2024-05-29T10:00", 28, "<50", ref=C_REF),
]
# Subject X is in PC but not in ADSL: not in ADPC
SUBJECT_X = [sample("X", 1, "BLOOD", "2024-01-17T12:00", 7, "100")]
PC_ALL = pd.concat([PC, pd.DataFrame(SUBJECT_C + SUBJECT_X)], ignore_index=True)
ADSL = pd.DataFrame({
    "STUDYID": "NCT04265963", "USUBJID": ["A", "B", "C"], "SUBJID": ["001", "002", "003"],
    "TRT01A": "CD123 CAR-T", "TRT01AN": 1.0, "SAFFL": "Y",
    "TRTSDT": pd.to_datetime(["2024-01-10", "2024-03-01", "2024-05-01"])})
SPONSOR = {"NRELTM", "NRELTMU", "BLQFL", "ALLOQ"}  # for specs/adam/sponsor_variables.csv


@pytest.fixture(scope="module")
def adpc() -> pd.DataFrame:
    return build_adpc(PC_ALL, ADSL)


def row(adpc: pd.DataFrame, usubjid: str, seq: float) -> pd.Series:
    found = adpc[(adpc["USUBJID"] == usubjid) & (adpc["SRCSEQ"] == seq)]
    assert len(found) == 1
    return found.iloc[0]


def test_one_record_per_sample_with_a_result(adpc: pd.DataFrame) -> None:
    # A: 4 blood + 2 marrow results (1 marrow not done); B: 3; C: 6; X: not in ADSL
    assert adpc.groupby("USUBJID").size().to_dict() == {"A": 6, "B": 3, "C": 6}
    assert 6.0 not in adpc.loc[adpc["USUBJID"] == "A", "SRCSEQ"].tolist()
    assert set(adpc["SRCDOM"]) == {"PC"}
    assert adpc.columns.tolist() == [c for c in adpc_mod.ADPC_COLUMNS if c != "SITEID"]


def test_parameters(adpc: pd.DataFrame) -> None:
    params = adpc[["PARAMCD", "PARAM", "PARAMN", "PARCAT1"]].drop_duplicates()
    assert sorted(map(tuple, params.to_numpy().tolist())) == [
        ("CARTBL", f"{TEST} in Blood ({UNIT})", 1.0, TEST),
        ("CARTBM", f"{TEST} in Bone Marrow ({UNIT})", 2.0, TEST)]
    assert adpc["PARAMCD"].str.len().max() <= 8


def test_blq_and_quantifiable_values(adpc: pd.DataFrame) -> None:
    blq, quant = row(adpc, "A", 1), row(adpc, "A", 2)
    assert math.isnan(blq["AVAL"]) and blq["AVALC"] == "<50" and blq["BLQFL"] == "Y"
    assert blq["SRCVAR"] == "PCSTRESC" and blq["ALLOQ"] == 50.0
    assert (quant["AVAL"], quant["AVALC"], quant["BLQFL"], quant["SRCVAR"]) == (
        1000.0, "1000", "N", "PCSTRESN")


def test_timing(adpc: pd.DataFrame) -> None:
    pre, day7, day14 = row(adpc, "A", 1), row(adpc, "A", 2), row(adpc, "A", 3)
    # pre-infusion 08:00, infusion 12:00 the same day: -4 h = -1/6 day, kept negative
    assert pre["ARELTM"] == pytest.approx(-1 / 6) and pre["NRELTM"] == 0.0
    assert day7["ARELTM"] == 7.25 and day7["NRELTM"] == 7.0  # 7 days 6 hours
    assert day14["ARELTM"] == 14.0  # date only: whole days
    assert (day7["ARELTMU"], day7["NRELTMU"]) == ("DAYS", "DAYS")
    assert day7["ADTM"] == pd.Timestamp("2024-01-17T18:00") and day7["ATMF"] == ""
    assert day14["ADTM"] == pd.Timestamp("2024-01-24") and day14["ATMF"] == "H"
    assert day7["ADT"] == pd.Timestamp("2024-01-17")
    # ADY from TRTSDT 2024-01-10: day of infusion 1, 2024-01-17 -> 8
    assert (pre["ADY"], day7["ADY"]) == (1.0, 8.0)
    assert row(adpc, "C", 1)["ADY"] == -11.0  # 2024-04-20 is 11 days before 2024-05-01
    assert (day7["AVISIT"], day7["AVISITN"], day7["ATPT"], day7["ATPTN"]) == (
        "DAY 7", 7.0, "DAY 7", 7.0)
    assert day7["ATPTREF"] == "FIRST CAR-T INFUSION"
    assert pd.api.types.is_datetime64_any_dtype(adpc["ADTM"])
    assert pd.api.types.is_datetime64_any_dtype(adpc["ADT"])


def test_nca_flag_follows_the_blq_rules(adpc: pd.DataFrame) -> None:
    c = adpc[adpc["USUBJID"] == "C"].set_index("SRCSEQ")
    # screening (earlier pre-infusion): excluded; pre-infusion BLQ: 0; embedded BLQ: excluded;
    # BLQ after the last quantifiable: 0
    assert c["ANL01FL"].to_dict() == {1.0: "", 2.0: "Y", 3.0: "Y", 4.0: "", 5.0: "Y", 6.0: "Y"}
    assert set(c["ANL02FL"]) == {"Y"}  # all have a nominal time and a value or LLOQ


def test_nca_flag_matches_the_pp_auc() -> None:
    # C by hand from the ANL01FL records: times 0, 7, 14, 28 (C = 0, 900, 300, 0)
    #   0-7 linear 900 / 2 * 7 = 3150; 7-14 log 600 * 7 / ln 3 = 3823.0049;
    #   14-28 linear to 0: 300 / 2 * 14 = 2100 -> 9073.0048 day*, x 24 in h*DNA copies/ug
    pp = derive_pp(PC_ALL)
    auc = pp[(pp["USUBJID"] == "C") & (pp["PPTESTCD"] == "AUCINT")]["PPSTRESN"].iloc[0]
    assert auc == pytest.approx((3150 + 600 * 7 / math.log(3) + 2100) * 24, rel=1e-9)


def test_adsl_variables_and_sequence(adpc: pd.DataFrame) -> None:
    a = adpc[adpc["USUBJID"] == "A"]
    assert set(a["TRT01A"]) == {"CD123 CAR-T"} and set(a["SAFFL"]) == {"Y"}
    assert set(a["TRT01AN"]) == {1.0} and set(a["SUBJID"]) == {"001"}
    # ASEQ: blood (PARAMN 1) by time, then marrow
    assert list(zip(a["ASEQ"], a["PARAMCD"], a["SRCSEQ"], strict=False)) == [
        (1.0, "CARTBL", 1.0), (2.0, "CARTBL", 2.0), (3.0, "CARTBL", 3.0), (4.0, "CARTBL", 4.0),
        (5.0, "CARTBM", 5.0), (6.0, "CARTBM", 7.0)]
    shuffled = build_adpc(PC_ALL.sample(frac=1, random_state=3), ADSL)
    pd.testing.assert_frame_equal(shuffled, adpc)


def test_adsl_without_optional_variables() -> None:
    out = build_adpc(PC, ADSL[["USUBJID", "SAFFL"]])
    assert "TRT01A" not in out and "TRTSDT" not in out
    assert out["ADY"].isna().all()
    empty = build_adpc(PC.iloc[0:0], ADSL)
    assert empty.empty and "PARAMCD" in empty.columns


def test_paramcd_clash_is_an_error() -> None:
    a = pd.DataFrame([sample("A", 1, "BLOOD", "2024-01-17", 7, "100"),
                      sample("A", 2, "BLOOD", "2024-01-17", 7, "100")])
    a.loc[0, ["PCTESTCD", "PCTEST"]] = ["ANALYTE1", "Analyte 1"]
    a.loc[1, ["PCTESTCD", "PCTEST"]] = ["ANALYTE2", "Analyte 2"]
    with pytest.raises(ValueError, match="ANALYTBL"):
        build_adpc(a, ADSL)


def test_specimen_codes() -> None:
    assert [adpc_mod.specimen_code(s) for s in ("BLOOD", "BONE MARROW", "URINE",
                                                "CEREBROSPINAL FLUID")] == ["BL", "BM", "UR",
                                                                            "CF"]


def _resolves(dataset: str, var: str) -> bool:
    try:
        adam_variable(load_specs(), dataset, var)
        return True
    except SpecError:
        return False


def test_variables_are_adamig_or_listed_sponsor_ones() -> None:
    unknown = {v for v in adpc_mod.ADPC_COLUMNS if not _resolves("ADPC", v)}
    assert unknown <= SPONSOR
    assert all(_resolves("ADPP", v) for v in adpp_mod.ADPP_COLUMNS)
    assert set(adpc_mod.METHODS) <= set(adpc_mod.ADPC_COLUMNS)
    assert set(adpp_mod.METHODS) <= set(adpp_mod.ADPP_COLUMNS)


# --- ADPP -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pp() -> pd.DataFrame:
    return derive_pp(PC_ALL)


def test_adpp_one_record_per_calculated_parameter(pp: pd.DataFrame) -> None:
    out = build_adpp(pp, ADSL)
    # A blood 5; A marrow (all BLQ, one sample after day 0) CMAX only; B blood 4 (no AUC);
    # C blood 5
    assert out.groupby("USUBJID").size().to_dict() == {"A": 6, "B": 4, "C": 5}
    assert out.columns.tolist() == [c for c in adpp_mod.ADPP_COLUMNS if c != "SITEID"]
    a = out[out["USUBJID"] == "A"]
    assert a["PARAMCD"].tolist() == ["CMAXBL", "TMAXBL", "CLSTBL", "TLSTBL", "AUCINTBL",
                                     "CMAXBM"]
    assert a["PARAMN"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert a["ASEQ"].tolist() == [float(i) for i in range(1, 7)]
    assert set(out["PARCAT1"]) == {TEST}


def test_adpp_param_labels_and_values(pp: pd.DataFrame) -> None:
    out = build_adpp(pp, ADSL)
    params = dict(zip(out["PARAMCD"], out["PARAM"], strict=False))
    assert params["CMAXBL"] == "Max Conc in Blood (DNA copies/ug)"
    assert params["TMAXBL"] == "Time of CMAX Observation in Blood (day)"
    assert params["AUCINTBL"] == "AUC from Day 0 to Day 28 in Blood (h*DNA copies/ug)"
    assert params["CMAXBM"] == "Max Conc in Bone Marrow (DNA copies/ug)"
    assert out["PARAMCD"].str.len().max() <= 8
    # traceability: AVAL is the PP record's PPSTRESN
    merged = out.merge(pp, left_on=["USUBJID", "SRCSEQ"], right_on=["USUBJID", "PPSEQ"])
    assert len(merged) == len(out)
    assert (merged["AVAL"] == merged["PPSTRESN"]).all()
    assert set(out["SRCDOM"]) == {"PP"} and set(out["SRCVAR"]) == {"PPSTRESN"}
    tmax = out[(out["USUBJID"] == "A") & (out["PARAMCD"] == "TMAXBL")]["AVAL"].iloc[0]
    assert tmax == 7.25


def test_adpp_second_analyte_clash_is_an_error(pp: pd.DataFrame) -> None:
    other = pp.copy()
    other.loc[other["USUBJID"] == "B", "PPCAT"] = "Another Analyte"
    with pytest.raises(ValueError, match="would name several parameters"):
        build_adpp(other, ADSL)


def test_adpp_empty() -> None:
    out = build_adpp(derive_pp(PC.iloc[0:0]), ADSL)
    assert out.empty and "PARAMCD" in out.columns


# --- plot -----------------------------------------------------------------------------------

def test_median_profile_counts_blq_at_half_the_lloq(adpc: pd.DataFrame) -> None:
    table = median_profile(adpc)
    blood = table[table["PARAMCD"] == "CARTBL"].set_index("NRELTM")
    # day 0: A, B, C all BLQ -> 25, 25, 25; day 7: A 1000, B 2000, C 900 -> 1000;
    # day 28: A 100, C BLQ (25) -> (100 + 25) / 2 = 62.5; day -11: C screening BLQ -> 25
    assert blood.loc[0.0, ["N", "N_BLQ", "MEDIAN"]].tolist() == [3, 3, 25.0]
    assert blood.loc[7.0, "MEDIAN"] == 1000.0
    assert blood.loc[28.0, ["N", "N_BLQ", "MEDIAN"]].tolist() == [2, 1, 62.5]
    marrow = table[table["PARAMCD"] == "CARTBM"]
    assert marrow["NRELTM"].tolist() == [0.0, 28.0] and set(marrow["MEDIAN"]) == {25.0}
    assert unit_of(f"X in Blood ({UNIT})") == UNIT and unit_of("X") == ""


def test_plot_is_a_deterministic_png(adpc: pd.DataFrame, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    plot_median_profile(adpc, first)
    plot_median_profile(adpc.sample(frac=1, random_state=1), second)
    data = first.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data == second.read_bytes()
    assert b"Software" not in data
    empty = tmp_path / "empty.png"
    plot_median_profile(adpc.iloc[0:0], empty)
    assert empty.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_reference_is_carried_unchanged(adpc: pd.DataFrame) -> None:
    # PCRFTDTC drives ARELTM: the A day-28 sample is exactly 28 days after REF
    assert REF == "2024-01-10T12:00"
    assert row(adpc, "A", 4)["ARELTM"] == 28.0
    assert np.isfinite(adpc["ARELTM"]).all()
