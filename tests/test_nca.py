"""cdisc.nca: hand-derived NCA of small profiles, every BLQ rule, day-28 interpolation, ties,
all-BLQ and not-done samples, and properties of the linear-up/log-down AUC.

Expected values are written as the hand formulas: linear (C1 + C2) / 2 * dt, logarithmic
(C1 - C2) * dt / ln(C1 / C2); never computed with the code under test."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc import nca

NAN = math.nan
U = "copies/ug"


def run(times, conc, blq=None, end=28.0):  # type: ignore[no-untyped-def]
    """nca_profile with BLQ where conc is the string 'BLQ' (concentration NaN there)."""
    if blq is None:
        blq = [c == "BLQ" for c in conc]
    values = [NAN if c == "BLQ" else c for c in conc]
    return nca.nca_profile(times, values, blq, U, end=end)


def values(result) -> dict:  # type: ignore[no-untyped-def]
    return {k: r.value for k, r in result.items()}


# Profile A: day 0 pre-infusion BLQ, 1000 at day 7, 400 at day 14, 100 at day 28.
#   0-7   rising from 0: linear  (0 + 1000) / 2 * 7       = 3500
#   7-14  falling:       log     (1000 - 400) * 7 / ln 2.5 = 4200 / 0.916291 = 4583.6980
#   14-28 falling:       log     (400 - 100) * 14 / ln 4   = 4200 / 1.386294 = 3029.6596
#   AUC0-28 = 11113.3576; Cmax 1000 at 7; Clast 100 at 28.
AUC_A = 3500 + (1000 - 400) * 7 / math.log(1000 / 400) + (400 - 100) * 14 / math.log(400 / 100)


def test_four_point_profile_by_hand() -> None:
    result = run([0, 7, 14, 28], ["BLQ", 1000.0, 400.0, 100.0])
    assert AUC_A == pytest.approx(11113.3576, abs=1e-4)
    assert values(result) == pytest.approx({"CMAX": 1000.0, "TMAX": 7.0, "CLST": 100.0,
                                            "TLST": 28.0, "AUCINT": AUC_A})
    assert {k: r.unit for k, r in result.items()} == {
        "CMAX": U, "TMAX": "day", "CLST": U, "TLST": "day", "AUCINT": "day*copies/ug"}
    assert all(r.reason == "" for r in result.values())


def test_input_order_does_not_matter() -> None:
    result = run([28, 7, 0, 14], [100.0, 1000.0, "BLQ", 400.0])
    assert result["AUCINT"].value == pytest.approx(AUC_A)


def test_log_interpolation_at_day_28_when_falling() -> None:
    # 0 BLQ, 800 at 7, 200 at 21, 50 at 35: no sample at 28.
    #   C(28) = 200 * (50 / 200) ** ((28 - 21) / (35 - 21)) = 200 * 0.25 ** 0.5 = 100
    #   0-7 linear 800 / 2 * 7 = 2800; 7-21 log 600 * 14 / ln 4 = 6059.3192;
    #   21-28 log (200 - 100) * 7 / ln 2 = 1009.8865; AUC = 9869.2057
    expected = 2800 + 600 * 14 / math.log(4) + 100 * 7 / math.log(2)
    result = run([0, 7, 21, 35], ["BLQ", 800.0, 200.0, 50.0])
    assert result["AUCINT"].value == pytest.approx(expected)
    assert expected == pytest.approx(9869.2057, abs=1e-3)
    assert nca.interpolate(21, 200, 35, 50, 28) == pytest.approx(100.0)
    assert result["TLST"].value == 35.0  # the whole profile, not only up to day 28


def test_linear_interpolation_at_day_28_when_rising() -> None:
    # 0 BLQ, 50 at 7, 100 at 14, 300 at 42: C(28) = 100 + 200 * 14 / 28 = 200
    #   0-7: 50 / 2 * 7 = 175; 7-14: (50 + 100) / 2 * 7 = 525;
    #   14-28: (100 + 200) / 2 * 14 = 2100; AUC = 2800
    result = run([0, 7, 14, 42], ["BLQ", 50.0, 100.0, 300.0])
    assert result["AUCINT"].value == pytest.approx(2800.0)


def test_too_few_samples_in_the_interval_give_no_auc() -> None:
    # one sample in (0, 28] (day 14): the area would be the line from the pre-infusion 0
    result = run([0, 14, 42], ["BLQ", 100.0, 300.0])
    assert np.isnan(result["AUCINT"].value)
    assert result["AUCINT"].reason == "FEWER THAN 2 SAMPLES FROM DAY 0 TO DAY 28"
    assert result["CMAX"].value == 300.0  # the other parameters are still calculated
    # two samples in (0, 28] suffice: 0-7 linear 350, 7-14 log 100 * 7 / ln 2 = 1009.87
    result = run([0, 7, 14, 42], ["BLQ", 100.0, 50.0, 300.0])
    assert result["AUCINT"].value > 0


def test_interpolation_towards_a_trailing_blq_is_linear_in_area_too() -> None:
    # 0 BLQ, 500 at 7, 100 at 21, BLQ at 35 (first BLQ after Tlast = 0).
    #   C(28) = 100 + (0 - 100) * 7 / 14 = 50 (linear: the interval falls to 0)
    #   0-7: 1750; 7-21 log: 400 * 14 / ln 5 = 3479.4756; 21-28 linear: (100 + 50) / 2 * 7 = 525
    #   (log on 100 -> 50 would give 504.94: the interval's rule, not the part's, applies)
    expected = 1750 + 400 * 14 / math.log(5) + 525
    result = run([0, 7, 21, 35], ["BLQ", 500.0, 100.0, "BLQ"])
    assert result["AUCINT"].value == pytest.approx(expected)
    assert (result["CLST"].value, result["TLST"].value) == (100.0, 21.0)


def test_sample_exactly_at_day_28_needs_no_interpolation() -> None:
    # later samples do not change the AUC to day 28
    result = run([0, 7, 14, 28, 56], ["BLQ", 1000.0, 400.0, 100.0, 10.0])
    assert result["AUCINT"].value == pytest.approx(AUC_A)


def test_blq_before_first_quantifiable_is_zero() -> None:
    # BLQ at 0 and 4 -> 0; 300 at 7, 300 at 28 (equal: linear)
    #   0-4: 0; 4-7: (0 + 300) / 2 * 3 = 450; 7-28: 300 * 21 = 6300; AUC = 6750
    result = run([0, 4, 7, 28], ["BLQ", "BLQ", 300.0, 300.0])
    assert result["AUCINT"].value == pytest.approx(6750.0)
    roles = nca.sample_roles([0, 4, 7, 28], [NAN, NAN, 300, 300], [1, 1, 0, 0])
    assert roles.tolist() == [nca.BLQ_ZERO, nca.BLQ_ZERO, nca.QUANTIFIABLE, nca.QUANTIFIABLE]


def test_embedded_blq_is_excluded() -> None:
    # BLQ at 0; 200 at 4; BLQ at 7 (between quantifiable: excluded); 800 at 14; 200 at 28
    #   0-4: 400; 4-14 rising: (200 + 800) / 2 * 10 = 5000; 14-28 log: 600 * 14 / ln 4
    expected = 400 + 5000 + 600 * 14 / math.log(4)
    result = run([0, 4, 7, 14, 28], ["BLQ", 200.0, "BLQ", 800.0, 200.0])
    assert result["AUCINT"].value == pytest.approx(expected)
    assert (result["CMAX"].value, result["TMAX"].value) == (800.0, 14.0)
    roles = nca.sample_roles([0, 4, 7, 14, 28], [NAN, 200, NAN, 800, 200], [1, 0, 1, 0, 0])
    assert roles[2] == nca.BLQ_EXCLUDED


def test_blq_after_last_quantifiable_is_zero_and_adds_no_area_later() -> None:
    # BLQ at 0; 600 at 7; 300 at 14; BLQ at 21 and 28
    #   0-7: 2100; 7-14 log: 300 * 7 / ln 2 = 3029.6596; 14-21 linear to 0: 300 / 2 * 7 = 1050;
    #   21-28: 0 -> AUC = 6179.6596
    expected = 2100 + 300 * 7 / math.log(2) + 1050
    result = run([0, 7, 14, 21, 28], ["BLQ", 600.0, 300.0, "BLQ", "BLQ"])
    assert result["AUCINT"].value == pytest.approx(expected)
    assert (result["CLST"].value, result["TLST"].value) == (300.0, 14.0)
    roles = nca.sample_roles([0, 7, 14, 21, 28], [NAN, 600, 300, NAN, NAN], [1, 0, 0, 1, 1])
    assert roles[3:].tolist() == [nca.BLQ_ZERO, nca.BLQ_ZERO]


def test_tmax_is_the_first_time_of_tied_maxima() -> None:
    # 500 at 7 and at 14: Tmax = 7. AUC: 0-7 1750; 7-14 equal -> linear 3500;
    #   14-28 log 400 * 14 / ln 5 = 3479.4756
    result = run([0, 7, 14, 28], ["BLQ", 500.0, 500.0, 100.0])
    assert (result["CMAX"].value, result["TMAX"].value) == (500.0, 7.0)
    assert result["AUCINT"].value == pytest.approx(1750 + 3500 + 400 * 14 / math.log(5))


def test_all_blq_profile() -> None:
    result = run([0, 7, 14, 28], ["BLQ"] * 4)
    assert result["CMAX"].value == 0.0 and result["CMAX"].reason == ""
    assert result["AUCINT"].value == 0.0
    for code in ("TMAX", "CLST", "TLST"):
        assert math.isnan(result[code].value)
        assert result[code].reason == nca.NO_QUANTIFIABLE
    short = run([0, 7, 14], ["BLQ"] * 3)
    assert math.isnan(short["AUCINT"].value)
    assert short["AUCINT"].reason == "NO SAMPLE ON OR AFTER DAY 28"


def test_not_done_sample_is_excluded() -> None:
    # day 14 not done (no value, not BLQ): 7-28 log 750 * 21 / ln 4; 0-7 3500
    result = run([0, 7, 14, 28], ["BLQ", 1000.0, NAN, 250.0])
    assert result["AUCINT"].value == pytest.approx(3500 + 750 * 21 / math.log(4))
    roles = nca.sample_roles([0, 7, 14, 28], [NAN, 1000, NAN, 250], [1, 0, 0, 0])
    assert roles[2] == nca.NOT_EVALUABLE
    # day 28 not done: the last sample is day 14, so no AUC to day 28 (no extrapolation)
    late = run([0, 7, 14, 28], ["BLQ", 1000.0, 400.0, NAN])
    assert math.isnan(late["AUCINT"].value)
    assert late["AUCINT"].reason == "NO SAMPLE ON OR AFTER DAY 28"
    assert (late["CLST"].value, late["TLST"].value) == (400.0, 14.0)


def test_no_evaluable_samples() -> None:
    result = run([0, 7], [NAN, NAN])
    assert all(math.isnan(r.value) and r.reason == nca.NO_SAMPLES for r in result.values())
    assert result["AUCINT"].unit == "day*copies/ug"


def test_pre_infusion_sample_is_time_zero_and_earlier_ones_are_excluded() -> None:
    # pre-infusion at -0.25 day (time 0); a screening sample at -20 (excluded): same as A
    result = run([-20, -0.25, 7, 14, 28], [80.0, "BLQ", 1000.0, 400.0, 100.0])
    assert result["AUCINT"].value == pytest.approx(AUC_A)
    roles = nca.sample_roles([-20, -0.25, 7, 14, 28], [80, NAN, 1000, 400, 100],
                             [0, 1, 0, 0, 0])
    assert roles[:2].tolist() == [nca.EARLIER_PREDOSE, nca.BLQ_ZERO]


def test_quantifiable_pre_infusion_value_is_kept() -> None:
    # 60 at time 0 (pre-infusion, quantifiable), 1000 at 7, 1000 at 28:
    #   0-7 linear (60 + 1000) / 2 * 7 = 3710; 7-28 equal: 21000
    result = run([-0.1, 7, 28], [60.0, 1000.0, 1000.0])
    assert result["AUCINT"].value == pytest.approx(3710 + 21000)
    assert result["TMAX"].value == 7.0


def test_no_pre_infusion_sample_assumes_zero_at_time_zero() -> None:
    result = run([7, 14, 28], [1000.0, 400.0, 100.0])
    assert result["AUCINT"].value == pytest.approx(AUC_A)


def test_zero_result_counts_as_blq_and_negative_is_an_error() -> None:
    roles = nca.sample_roles([0, 7, 14], [0.0, 100, 0.0], [0, 0, 0])
    assert roles.tolist() == [nca.BLQ_ZERO, nca.QUANTIFIABLE, nca.BLQ_ZERO]
    with pytest.raises(ValueError, match="negative"):
        nca.nca_profile([0, 7], [-1.0, 5.0], [False, False], U)
    with pytest.raises(ValueError, match="one length"):
        nca.nca_profile([0, 7], [1.0], [False, False], U)


def test_other_interval_end() -> None:
    # profile A to day 14: 3500 + 4583.6980
    result = run([0, 7, 14, 28], ["BLQ", 1000.0, 400.0, 100.0], end=14.0)
    assert result["AUCINT"].value == pytest.approx(3500 + 600 * 7 / math.log(2.5))
    assert nca.not_covered(14.0) == "NO SAMPLE ON OR AFTER DAY 14"


def test_many_profiles_at_once_with_interleaved_samples() -> None:
    # profile 0: A (AUC_A); 1: all BLQ (Cmax 0, AUC 0); 2: no samples at all;
    # 3: log interpolation at day 28 (2800 + 600 * 14 / ln 4 + 100 * 7 / ln 2, as above);
    # 4: one sample in (0, 28] (no AUC). The samples are given out of profile order.
    samples = [  # (profile, time, concentration; NAN with BLQ)
        (3, 35, 50.0), (0, 28, 100.0), (1, 0, NAN), (4, 42, 300.0), (0, 0, NAN),
        (3, 0, NAN), (1, 7, NAN), (0, 7, 1000.0), (4, 0, NAN), (3, 21, 200.0), (1, 14, NAN),
        (0, 14, 400.0), (4, 14, 100.0), (3, 7, 800.0), (1, 28, NAN)]
    profile, times, conc = (np.array(col) for col in zip(*samples))
    out = nca.nca_profiles(profile, times, conc, np.isnan(conc), 5, end=28.0)
    auc_3 = 2800 + 600 * 14 / math.log(4) + 100 * 7 / math.log(2)
    expected = {"CMAX": [1000.0, 0.0, NAN, 800.0, 300.0], "TMAX": [7.0, NAN, NAN, 7.0, 42.0],
                "CLST": [100.0, NAN, NAN, 50.0, 300.0], "TLST": [28.0, NAN, NAN, 35.0, 42.0],
                "AUCINT": [AUC_A, 0.0, NAN, auc_3, NAN]}
    q, s = nca.NO_QUANTIFIABLE, nca.NO_SAMPLES
    reasons = {"CMAX": ["", "", s, "", ""], "TMAX": ["", q, s, "", ""],
               "CLST": ["", q, s, "", ""], "TLST": ["", q, s, "", ""],
               "AUCINT": ["", "", s, "", "FEWER THAN 2 SAMPLES FROM DAY 0 TO DAY 28"]}
    assert list(out) == list(nca.PARAMETERS)
    for code, (value, reason) in out.items():
        assert value.tolist() == pytest.approx(expected[code], nan_ok=True), code
        assert reason.tolist() == reasons[code], code
    roles = nca.sample_roles_of(profile, times, conc, np.isnan(conc), 5)
    assert roles[[2, 6, 10, 14]].tolist() == [nca.BLQ_ZERO] * 4  # profile 1, all BLQ
    assert roles[1] == roles[7] == nca.QUANTIFIABLE
    with pytest.raises(ValueError, match="profile numbers"):
        nca.nca_profiles(profile, times, conc, np.isnan(conc), 4)


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.parametrize("name", ["TIME_ZERO_RULE", "BLQ_RULE", "ALL_BLQ_RULE", "AUC_RULE",
                                  "INTERPOLATION_RULE", "SPARSE_RULE"])
def test_define_texts_are_the_module_docstring(name: str) -> None:
    assert _words(getattr(nca, name)) in _words(nca.__doc__ or "")


# --- properties ----------------------------------------------------------------------------

SETTINGS = settings(max_examples=150, deadline=None)
CONC = st.floats(min_value=1.0, max_value=1e6, allow_nan=False)


@st.composite
def profiles(draw):  # type: ignore[no-untyped-def]
    """Sorted distinct times from 0 and positive concentrations, some BLQ (as 0)."""
    n = draw(st.integers(min_value=2, max_value=12))
    gaps = draw(st.lists(st.floats(min_value=0.25, max_value=20), min_size=n - 1,
                         max_size=n - 1))
    times = np.r_[0.0, np.cumsum(gaps)]
    conc = np.array(draw(st.lists(st.one_of(CONC, st.just(0.0)), min_size=n, max_size=n)))
    return times, conc


@SETTINGS
@given(profiles(), st.floats(min_value=0, max_value=1), st.floats(min_value=0, max_value=1))
def test_auc_is_non_negative_and_monotone_in_the_interval_end(profile: tuple, a: float,
                                                              b: float) -> None:
    t, c = profile
    e1, e2 = sorted((a * t[-1], b * t[-1]))
    low, high = nca.auc_to(t, c, e1), nca.auc_to(t, c, e2)
    assert low >= 0
    assert high >= low - 1e-9 * max(1.0, high)
    assert nca.auc_to(t, c, t[-1]) == pytest.approx(np.sum(nca.segment_areas(t, c)))


@SETTINGS
@given(profiles())
def test_rising_profile_equals_the_linear_trapezoid(profile: tuple) -> None:
    t, c = profile
    rising = np.sort(c)
    assert nca.auc_to(t, rising, t[-1]) == pytest.approx(np.trapezoid(rising, t), rel=1e-12)


@SETTINGS
@given(profiles())
def test_log_down_is_never_above_the_linear_trapezoid(profile: tuple) -> None:
    # on a fall the log trapezoid lies under the chord (the exponential is convex)
    t, c = profile
    assert nca.auc_to(t, c, t[-1]) <= np.trapezoid(c, t) * (1 + 1e-12) + 1e-9


@SETTINGS
@given(profiles(), st.floats(min_value=0.01, max_value=0.99))
def test_auc_to_a_point_inside_an_interval_lies_between_its_ends(profile: tuple,
                                                                  f: float) -> None:
    # the AUC to a point inside the last interval is between the AUCs to its two samples
    t, c = profile
    at = t[-2] + f * (t[-1] - t[-2])
    inside = nca.auc_to(t, c, at)
    whole = nca.auc_to(t, c, t[-1])
    assert inside <= whole * (1 + 1e-12) + 1e-9
    assert nca.auc_to(t, c, t[-2]) <= inside * (1 + 1e-12) + 1e-9
