"""Non-compartmental analysis (NCA) of one concentration-time profile after a single dose
(here: one CAR-T infusion; times in days from the reference, i.e. the infusion).

Input: arrays of actual times (days), concentrations and a BLQ mask, one entry per sample.
Output: Cmax, Tmax, Clast, Tlast and the AUC from day 0 to day T2 (default 28), each with its
unit, or missing with the reason. Pure numpy. The rules below are written to be quoted in
define.xml; the constants TIME_ZERO_RULE, BLQ_RULE, ALL_BLQ_RULE, AUC_RULE and
INTERPOLATION_RULE hold the same text (a test keeps them equal).

Samples. A sample is evaluable when it has a time and either a numeric result or a BLQ flag;
samples not done (no result, no BLQ flag) are excluded. A numeric result of 0 counts as BLQ.

Time zero. The pre-infusion sample is at time 0: of the samples at or before the reference,
the latest is used at time 0 and earlier ones are excluded. When a profile has no sample at
or before the reference, a concentration of 0 at time 0 is assumed (no transgene before the
infusion).

BLQ. Concentrations below the lower limit of quantitation (BLQ) are handled by their position
relative to the quantifiable concentrations: BLQ before the first quantifiable concentration
is set to 0; BLQ between the first and the last quantifiable concentrations is set to missing
(the sample is excluded and the curve joins its quantifiable neighbours); BLQ after the last
quantifiable concentration (Tlast) is set to 0, so the curve falls to 0 at the first BLQ
sample after Tlast and stays 0 up to the last sample (later BLQ samples add no area). This is
the common PK convention in which BLQ values before the first and after the last quantifiable
concentration count as 0 and embedded ones as missing; after Tlast it is the convention of
AUCall (CDISC CT C85564, AUC to the last observation whether measurable or not), in which the
first BLQ after Tlast counts as 0. A profile whose evaluable samples are all BLQ has Cmax = 0
and, when it covers the interval, AUC = 0; Tmax, Clast and Tlast are then not calculated.

Parameters. Cmax is the highest concentration and Tmax the first time it occurs; Clast is the
last quantifiable concentration and Tlast its time. AUC from 0 to T2 is calculated by the
linear-up/log-down trapezoidal rule (CDISC CT C172581, LINEAR UP LOG DOWN METHOD): between
two consecutive samples, linear, (C1 + C2) / 2 * (t2 - t1), when the concentration rises or
stays equal or either concentration is 0; logarithmic, (C1 - C2) * (t2 - t1) / ln(C1 / C2),
when it falls. When no sample is exactly at T2, the concentration at T2 is interpolated
between the samples on either side by the same rule (linear when rising, equal or to or from
0: C1 + (C2 - C1) * f; logarithmic when falling: C1 * (C2 / C1) ** f; f = (T2 - t1) /
(t2 - t1)), and the area from t1 to T2 is calculated by the rule of that interval. There
is no extrapolation: when the profile's last evaluable sample is before T2, the AUC is not
calculated. Nor is it when fewer than two evaluable samples lie after time 0 and no later
than T2: the area would come from the assumed or pre-infusion value alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

TIME_ZERO_RULE = (
    "The pre-infusion sample is at time 0: of the samples at or before the reference, the "
    "latest is used at time 0 and earlier ones are excluded. When a profile has no sample at "
    "or before the reference, a concentration of 0 at time 0 is assumed (no transgene before "
    "the infusion).")
BLQ_RULE = (
    "BLQ before the first quantifiable concentration is set to 0; BLQ between the first and "
    "the last quantifiable concentrations is set to missing (the sample is excluded and the "
    "curve joins its quantifiable neighbours); BLQ after the last quantifiable concentration "
    "(Tlast) is set to 0, so the curve falls to 0 at the first BLQ sample after Tlast and "
    "stays 0 up to the last sample (later BLQ samples add no area).")
ALL_BLQ_RULE = (
    "A profile whose evaluable samples are all BLQ has Cmax = 0 and, when it covers the "
    "interval, AUC = 0; Tmax, Clast and Tlast are then not calculated.")
AUC_RULE = (
    "linear-up/log-down trapezoidal rule (CDISC CT C172581, LINEAR UP LOG DOWN METHOD): "
    "between two consecutive samples, linear, (C1 + C2) / 2 * (t2 - t1), when the "
    "concentration rises or stays equal or either concentration is 0; logarithmic, "
    "(C1 - C2) * (t2 - t1) / ln(C1 / C2), when it falls.")
INTERPOLATION_RULE = (
    "When no sample is exactly at T2, the concentration at T2 is interpolated between the "
    "samples on either side by the same rule (linear when rising, equal or to or from 0: "
    "C1 + (C2 - C1) * f; logarithmic when falling: C1 * (C2 / C1) ** f; f = (T2 - t1) / "
    "(t2 - t1)), and the area from t1 to T2 is calculated by the rule of that interval. There "
    "is no extrapolation: when the profile's last evaluable sample is before T2, the AUC is "
    "not calculated.")
SPARSE_RULE = (
    "Nor is it when fewer than two evaluable samples lie after time 0 and no later than T2: "
    "the area would come from the assumed or pre-infusion value alone.")
MIN_SAMPLES = 2  # evaluable samples in (0, T2] an AUC needs

# the role of each sample in the analysis (sample_roles)
QUANTIFIABLE = "QUANTIFIABLE"
BLQ_ZERO = "BLQ SET TO 0"
BLQ_EXCLUDED = "BLQ BETWEEN QUANTIFIABLE: EXCLUDED"
NOT_EVALUABLE = "NOT EVALUABLE: EXCLUDED"
EARLIER_PREDOSE = "EARLIER PRE-INFUSION SAMPLE: EXCLUDED"
USED = (QUANTIFIABLE, BLQ_ZERO)

# why a parameter is not calculated (SDTM PPREASND)
NO_SAMPLES = "NO EVALUABLE SAMPLES"
NO_QUANTIFIABLE = "NO QUANTIFIABLE CONCENTRATIONS"
PARAMETERS = ("CMAX", "TMAX", "CLST", "TLST", "AUCINT")  # CDISC CT PKPARMCD (C85839)


def not_covered(end: float) -> str:
    return f"NO SAMPLE ON OR AFTER DAY {end:g}"


def too_sparse(end: float) -> str:
    return f"FEWER THAN {MIN_SAMPLES} SAMPLES FROM DAY 0 TO DAY {end:g}"


@dataclass(frozen=True)
class Result:
    value: float  # NaN when not calculated
    unit: str
    reason: str = ""  # why value is NaN


def _arrays(times: ArrayLike, conc: ArrayLike,
            blq: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.asarray(times, dtype=float)
    c = np.asarray(conc, dtype=float)
    b = np.asarray(blq, dtype=bool)
    if not t.shape == c.shape == b.shape or t.ndim != 1:
        raise ValueError("times, concentrations and BLQ mask must be 1-D arrays of one length")
    if (c[np.isfinite(c)] < 0).any():
        raise ValueError("a concentration is negative")
    return t, c, b


def _latest_predose(t: np.ndarray, evaluable: np.ndarray) -> np.ndarray:
    """Mask of evaluable samples at or before time 0 other than the latest one."""
    pre = np.flatnonzero(evaluable & (t <= 0))
    superseded = np.zeros(t.shape, dtype=bool)
    if len(pre) > 1:
        # stable: among equal times the last one given is the latest
        latest = pre[np.argsort(t[pre], kind="stable")[-1]]
        superseded[pre[pre != latest]] = True
    return superseded


def sample_roles(times: ArrayLike, conc: ArrayLike, blq: ArrayLike) -> np.ndarray:
    """The role of each sample (input order) in the NCA: QUANTIFIABLE, BLQ_ZERO, BLQ_EXCLUDED,
    NOT_EVALUABLE or EARLIER_PREDOSE (the BLQ and time zero rules of the module docstring)."""
    t, c, b = _arrays(times, conc, blq)
    evaluable = np.isfinite(t) & (b | np.isfinite(c))
    quant = evaluable & ~b & np.isfinite(c) & (c > 0)
    superseded = _latest_predose(t, evaluable)
    roles = np.full(t.shape, NOT_EVALUABLE, dtype=object)
    roles[superseded] = EARLIER_PREDOSE
    kept = evaluable & ~superseded
    roles[kept & quant] = QUANTIFIABLE
    below = kept & ~quant
    at = np.maximum(t, 0.0)  # the pre-infusion sample is at time 0
    if (kept & quant).any():
        first, last = at[kept & quant].min(), at[kept & quant].max()
        roles[below & ((at < first) | (at > last))] = BLQ_ZERO
        roles[below & (at >= first) & (at <= last)] = BLQ_EXCLUDED
    else:
        roles[below] = BLQ_ZERO  # all BLQ: every one is before any quantifiable value
    return roles


def analysis_profile(times: ArrayLike, conc: ArrayLike,
                     blq: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time, concentration, quantifiable) of the samples the NCA uses, sorted by time, with
    BLQ set to 0 and time 0 added (concentration 0) when no sample is at or before it."""
    t, c, _ = _arrays(times, conc, blq)
    roles = sample_roles(t, c, blq)
    used = np.isin(roles, USED)
    quant = roles[used] == QUANTIFIABLE
    at = np.maximum(t[used], 0.0)
    value = np.where(quant, c[used], 0.0)
    if used.any() and at.min() > 0:
        at, value, quant = np.r_[0.0, at], np.r_[0.0, value], np.r_[False, quant]
    order = np.argsort(at, kind="stable")
    return at[order], value[order], quant[order]


def _falls(c1: np.ndarray, c2: np.ndarray) -> np.ndarray:
    """Where the log rule applies: the concentration falls and both are above 0."""
    return (c2 < c1) & (c2 > 0)


def _log_area(c1: np.ndarray, c2: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """(C1 - C2) * dt / ln(C1 / C2) for C1 >= C2 > 0; ln by log1p so that C1 a few ulps above
    C2 stays exact, and C1 * dt (the limit) when they are equal."""
    c1, c2, dt = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (c1, c2, dt)))
    diff = c1 - c2
    safe = (diff > 0) & (c2 > 0)
    denom = np.log1p(np.where(safe, diff, 1.0) / np.where(safe, c2, 1.0))
    return np.where(safe, diff * dt / denom, c1 * dt)


def segment_areas(t: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Area of each interval between consecutive samples by the linear-up/log-down rule."""
    t, c = np.asarray(t, dtype=float), np.asarray(c, dtype=float)
    dt, c1, c2 = np.diff(t), c[:-1], c[1:]
    return np.where(_falls(c1, c2), _log_area(c1, c2, dt), (c1 + c2) / 2 * dt)


def interpolate(t1: float, c1: float, t2: float, c2: float, at: float) -> float:
    """Concentration at time `at` (t1 < at < t2) by the rule the AUC uses for the interval."""
    f = (at - t1) / (t2 - t1)
    if _falls(np.float64(c1), np.float64(c2)):
        return float(c1 * (c2 / c1) ** f)
    return float(c1 + (c2 - c1) * f)


def partial_area(t1: float, c1: float, t2: float, c2: float, at: float) -> float:
    """Area from t1 to `at` (t1 < at < t2) under the curve of the interval t1..t2: the rule is
    the interval's (a fall to 0 stays linear even though C1 > C(at) > 0)."""
    c_at = interpolate(t1, c1, t2, c2, at)
    if _falls(np.float64(c1), np.float64(c2)):
        return float(_log_area(c1, c_at, at - t1))
    return float((c1 + c_at) / 2 * (at - t1))


def auc_to(t: np.ndarray, c: np.ndarray, end: float) -> float:
    """AUC from t[0] to `end` of a sorted profile; NaN when the last sample is before end."""
    t, c = np.asarray(t, dtype=float), np.asarray(c, dtype=float)
    if len(t) == 0 or t[-1] < end:
        return float("nan")
    inside = t <= end
    area = float(segment_areas(t[inside], c[inside]).sum())
    if t[inside][-1] < end:  # no sample exactly at end: the part of the next interval
        j = int(np.argmax(~inside))
        area += partial_area(t[j - 1], c[j - 1], t[j], c[j], end)
    return area


def _peak(t: np.ndarray, c: np.ndarray, quant: np.ndarray, conc_unit: str,
          time_unit: str) -> dict[str, Result]:
    """CMAX and TMAX (first time of Cmax); all BLQ: Cmax 0 and no Tmax."""
    if not quant.any():
        return {"CMAX": Result(0.0, conc_unit),
                "TMAX": Result(float("nan"), time_unit, NO_QUANTIFIABLE)}
    i = int(np.argmax(c))  # argmax returns the first of tied maxima
    return {"CMAX": Result(float(c[i]), conc_unit), "TMAX": Result(float(t[i]), time_unit)}


def _last(t: np.ndarray, c: np.ndarray, quant: np.ndarray, conc_unit: str,
          time_unit: str) -> dict[str, Result]:
    """CLST and TLST: the last quantifiable concentration and its time."""
    if not quant.any():
        nan = float("nan")
        return {"CLST": Result(nan, conc_unit, NO_QUANTIFIABLE),
                "TLST": Result(nan, time_unit, NO_QUANTIFIABLE)}
    i = int(np.flatnonzero(quant)[-1])
    return {"CLST": Result(float(c[i]), conc_unit), "TLST": Result(float(t[i]), time_unit)}


def _auc(t: np.ndarray, c: np.ndarray, end: float, unit: str) -> Result:
    if int(((t > 0) & (t <= end)).sum()) < MIN_SAMPLES:
        return Result(float("nan"), unit, too_sparse(end))
    value = auc_to(t, c, end)
    return Result(value, unit, not_covered(end) if np.isnan(value) else "")


def nca_profile(times: ArrayLike, conc: ArrayLike, blq: ArrayLike, conc_unit: str,
                time_unit: str = "day", end: float = 28.0) -> dict[str, Result]:
    """CMAX, TMAX, CLST, TLST and AUCINT (from 0 to `end`) of one profile, keyed by CDISC
    PKPARMCD. times in days from the reference; conc NaN where not done or BLQ; blq True
    where BLQ. The AUC unit is time_unit*conc_unit (e.g. day*copies/ug)."""
    t, c, quant = analysis_profile(times, conc, blq)
    auc_unit = f"{time_unit}*{conc_unit}" if conc_unit else ""
    if len(t) == 0:
        nan = float("nan")
        units = {"CMAX": conc_unit, "TMAX": time_unit, "CLST": conc_unit, "TLST": time_unit,
                 "AUCINT": auc_unit}
        return {p: Result(nan, units[p], NO_SAMPLES) for p in PARAMETERS}
    out = {**_peak(t, c, quant, conc_unit, time_unit), **_last(t, c, quant, conc_unit, time_unit)}
    out["AUCINT"] = _auc(t, c, end, auc_unit)
    return {p: out[p] for p in PARAMETERS}
