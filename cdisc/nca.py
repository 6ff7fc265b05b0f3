"""Non-compartmental analysis (NCA) of one concentration-time profile after a single dose
(here: one CAR-T infusion; times in days from the reference, i.e. the infusion).

Input: arrays of actual times (days), concentrations and a BLQ mask, one entry per sample.
Output: Cmax, Tmax, Clast, Tlast and the AUC from day 0 to day T2 (default 28), each with its
unit, or missing with the reason. Pure numpy. nca_profile analyses one profile; nca_profiles
analyses many at once (the samples of all, each with its profile number) by the same array
code, so a profile's results are the same either way. The rules below are written to be quoted in
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

import math
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


# sample roles as small integer codes while many profiles are analysed at once
ROLES = (QUANTIFIABLE, BLQ_ZERO, BLQ_EXCLUDED, NOT_EVALUABLE, EARLIER_PREDOSE)
_QUANT, _BLQ_ZERO, _BLQ_EXCLUDED, _NOT_EVALUABLE, _EARLIER_PREDOSE = range(len(ROLES))


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


def _profile_numbers(profile: ArrayLike, n_samples: int, n_profiles: int) -> np.ndarray:
    p = np.asarray(profile, dtype=np.intp)
    if p.shape != (n_samples,) or (n_samples and (p.min() < 0 or p.max() >= n_profiles)):
        raise ValueError("profile numbers must be one per sample, from 0 to n_profiles - 1")
    return p


def _run_ends(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the first and of the last element of each run of equal values in keys."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    change = keys[1:] != keys[:-1]
    return np.flatnonzero(np.r_[True, change]), np.flatnonzero(np.r_[change, True])


def _latest_predose(profile: np.ndarray, t: np.ndarray, evaluable: np.ndarray) -> np.ndarray:
    """Mask of evaluable samples at or before time 0 other than the latest one of their
    profile (among equal times the last one given)."""
    pre = np.flatnonzero(evaluable & (t <= 0))
    # by profile, time, input position: the latest of each profile ends its run
    pre = pre[np.lexsort((pre, t[pre], profile[pre]))]
    superseded = np.zeros(t.shape, dtype=bool)
    superseded[pre] = True
    superseded[pre[_run_ends(profile[pre])[1]]] = False
    return superseded


def _role_codes(profile: np.ndarray, t: np.ndarray, c: np.ndarray, b: np.ndarray,
                n_profiles: int) -> np.ndarray:
    """The role (index into ROLES) of each sample, by the BLQ and time zero rules."""
    evaluable = np.isfinite(t) & (b | np.isfinite(c))
    quant = evaluable & ~b & np.isfinite(c) & (c > 0)
    superseded = _latest_predose(profile, t, evaluable)
    kept = evaluable & ~superseded
    at = np.maximum(t, 0.0)  # the pre-infusion sample is at time 0
    # first and last quantifiable time of each profile; without one (all BLQ) every BLQ
    # sample counts as before the first
    first, last = np.full(n_profiles, np.inf), np.full(n_profiles, -np.inf)
    np.minimum.at(first, profile[kept & quant], at[kept & quant])
    np.maximum.at(last, profile[kept & quant], at[kept & quant])
    below = kept & ~quant
    embedded = below & (at >= first[profile]) & (at <= last[profile])
    roles = np.full(t.shape, _NOT_EVALUABLE)
    roles[superseded] = _EARLIER_PREDOSE
    roles[kept & quant] = _QUANT
    roles[below & ~embedded] = _BLQ_ZERO
    roles[embedded] = _BLQ_EXCLUDED
    return roles


def sample_roles(times: ArrayLike, conc: ArrayLike, blq: ArrayLike) -> np.ndarray:
    """The role of each sample (input order) in the NCA: QUANTIFIABLE, BLQ_ZERO, BLQ_EXCLUDED,
    NOT_EVALUABLE or EARLIER_PREDOSE (the BLQ and time zero rules of the module docstring)."""
    t, c, b = _arrays(times, conc, blq)
    return sample_roles_of(np.zeros(len(t), dtype=np.intp), t, c, b, 1)


def sample_roles_of(profile: ArrayLike, times: ArrayLike, conc: ArrayLike, blq: ArrayLike,
                    n_profiles: int) -> np.ndarray:
    """sample_roles of the samples of many profiles at once; profile: each sample's profile
    number (0 to n_profiles - 1, in any order)."""
    t, c, b = _arrays(times, conc, blq)
    codes = _role_codes(_profile_numbers(profile, len(t), n_profiles), t, c, b, n_profiles)
    return np.array(ROLES, dtype=object)[codes]


def _analysis_samples(profile: np.ndarray, t: np.ndarray, c: np.ndarray, b: np.ndarray,
                      n_profiles: int) -> tuple[np.ndarray, ...]:
    """(profile, time, concentration, quantifiable) of the samples the NCA uses, sorted by
    profile and time (ties in input order), with BLQ set to 0 and time 0 added
    (concentration 0) to each profile with samples but none at or before it."""
    roles = _role_codes(profile, t, c, b, n_profiles)
    used = np.flatnonzero((roles == _QUANT) | (roles == _BLQ_ZERO))
    prof, quant = profile[used], roles[used] == _QUANT
    at = np.maximum(t[used], 0.0)
    value = np.where(quant, c[used], 0.0)
    start = np.full(n_profiles, np.inf)
    np.minimum.at(start, prof, at)
    added = np.flatnonzero(np.isfinite(start) & (start > 0))
    zeros = np.zeros(len(added))
    prof, at, value = np.r_[added, prof], np.r_[zeros, at], np.r_[zeros, value]
    quant = np.r_[np.zeros(len(added), dtype=bool), quant]
    position = np.r_[np.full(len(added), -1), used]  # an added time 0 comes first
    order = np.lexsort((position, at, prof))
    return prof[order], at[order], value[order], quant[order]


def analysis_profile(times: ArrayLike, conc: ArrayLike,
                     blq: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time, concentration, quantifiable) of the samples the NCA uses, sorted by time, with
    BLQ set to 0 and time 0 added (concentration 0) when no sample is at or before it."""
    t, c, b = _arrays(times, conc, blq)
    _, at, value, quant = _analysis_samples(np.zeros(len(t), dtype=np.intp), t, c, b, 1)
    return at, value, quant


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


def _scalar_power(base: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """base ** exponent element by element with C pow: numpy's vectorised power may differ
    from it in the last bit, and the values must not depend on how many profiles are
    analysed together."""
    return np.array([math.pow(x, y) for x, y in zip(base.tolist(), exponent.tolist())],
                    dtype=float)


def _interpolated(t1: np.ndarray, c1: np.ndarray, t2: np.ndarray, c2: np.ndarray,
                  at: ArrayLike) -> np.ndarray:
    """Concentrations at `at` (t1 < at < t2) by the rule the AUC uses for each interval."""
    f = (at - t1) / (t2 - t1)
    out = c1 + (c2 - c1) * f
    falls = _falls(c1, c2)
    out[falls] = c1[falls] * _scalar_power(c2[falls] / c1[falls], f[falls])
    return out


def _partial_areas(t1: np.ndarray, c1: np.ndarray, t2: np.ndarray, c2: np.ndarray,
                   at: ArrayLike) -> np.ndarray:
    """Areas from t1 to `at` (t1 < at < t2) under the curve of each interval t1..t2: the rule
    is the interval's (a fall to 0 stays linear even though C1 > C(at) > 0)."""
    c_at = _interpolated(t1, c1, t2, c2, at)
    dt = at - t1
    return np.where(_falls(c1, c2), _log_area(c1, c_at, dt), (c1 + c_at) / 2 * dt)


def _one(*values: float) -> list[np.ndarray]:
    return [np.array([v], dtype=float) for v in values]


def interpolate(t1: float, c1: float, t2: float, c2: float, at: float) -> float:
    """Concentration at time `at` (t1 < at < t2) by the rule the AUC uses for the interval."""
    return float(_interpolated(*_one(t1, c1, t2, c2), at)[0])


def partial_area(t1: float, c1: float, t2: float, c2: float, at: float) -> float:
    """Area from t1 to `at` (t1 < at < t2) under the curve of the interval t1..t2: the rule is
    the interval's (a fall to 0 stays linear even though C1 > C(at) > 0)."""
    return float(_partial_areas(*_one(t1, c1, t2, c2), at)[0])


def _run_sums(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Sum of values[s:s + n] for each start s and length n, added in np.sum's (pairwise)
    order: the runs of one length are summed as the rows of a 2-D array, which numpy adds like
    1-D arrays (np.add.reduceat adds in another order and can differ in the last bit)."""
    out = np.zeros(len(starts))
    for n in np.unique(lengths):
        rows = np.flatnonzero(lengths == n)
        out[rows] = values[starts[rows, None] + np.arange(n)].sum(axis=1)
    return out


def _areas_to(profile: np.ndarray, t: np.ndarray, c: np.ndarray, n_profiles: int,
              end: float) -> np.ndarray:
    """AUC from the first sample to `end` of each profile (samples sorted by profile and
    time); NaN when the profile's samples do not reach end (no extrapolation)."""
    area = np.full(n_profiles, np.nan)
    if len(t) == 0:
        return area
    first, last = _run_ends(profile)
    prof = profile[first]
    covered = (t[first] <= end) & (t[last] >= end)
    # the samples up to end are the first n_inside of the profile (t is sorted)
    n_inside = np.bincount(profile[t <= end], minlength=n_profiles)[prof]
    # interval i joins samples i and i + 1; those across profiles are never summed
    inner = _run_sums(segment_areas(t, c), first, np.maximum(n_inside - 1, 0))
    j = first + n_inside  # the first sample after end
    cut = covered & (t[j - 1] < end)  # no sample exactly at end: part of the next interval
    i, j = j[cut] - 1, j[cut]
    inner[cut] += _partial_areas(t[i], c[i], t[j], c[j], end)
    area[prof[covered]] = inner[covered]
    return area


def auc_to(t: np.ndarray, c: np.ndarray, end: float) -> float:
    """AUC from t[0] to `end` of a sorted profile; NaN when the last sample is before end."""
    t, c = np.asarray(t, dtype=float), np.asarray(c, dtype=float)
    return float(_areas_to(np.zeros(len(t), dtype=np.intp), t, c, 1, end)[0])


def _peak(profile: np.ndarray, c: np.ndarray, has_quant: np.ndarray,
          n_profiles: int) -> tuple[np.ndarray, np.ndarray]:
    """(Cmax, row of Tmax) of each profile with samples: the highest concentration and the
    first sample with it (-1 without a quantifiable one, where Cmax is 0: all BLQ)."""
    cmax = np.full(n_profiles, np.nan)
    np.fmax.at(cmax, profile, c)
    peaks = np.flatnonzero(c == cmax[profile])
    row = np.full(n_profiles, -1)
    first = _run_ends(profile[peaks])[0]
    row[profile[peaks[first]]] = peaks[first]
    return cmax, np.where(has_quant, row, -1)


def _last_quantifiable(profile: np.ndarray, quant: np.ndarray, n_profiles: int) -> np.ndarray:
    """Row of the last quantifiable sample of each profile (-1 without one)."""
    rows = np.flatnonzero(quant)
    row = np.full(n_profiles, -1)
    last = _run_ends(profile[rows])[1]
    row[profile[rows[last]]] = rows[last]
    return row


def _picked(values: np.ndarray, row: np.ndarray) -> np.ndarray:
    """values[row], NaN where row is -1."""
    out = np.full(len(row), np.nan)
    out[row >= 0] = values[row[row >= 0]]
    return out


def nca_profiles(profile: ArrayLike, times: ArrayLike, conc: ArrayLike, blq: ArrayLike,
                 n_profiles: int, end: float = 28.0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """nca_profile of many profiles at once: {PKPARMCD: (values, reasons)}, one entry per
    profile number 0 to n_profiles - 1 (profile: each sample's number, in any order); values
    are NaN where not calculated, reasons "" where calculated."""
    t, c, b = _arrays(times, conc, blq)
    p = _profile_numbers(profile, len(t), n_profiles)
    p, t, c, quant = _analysis_samples(p, t, c, b, n_profiles)
    has_samples = np.bincount(p, minlength=n_profiles) > 0
    has_quant = np.bincount(p[quant], minlength=n_profiles) > 0
    cmax, peak = _peak(p, c, has_quant, n_profiles)
    last = _last_quantifiable(p, quant, n_profiles)
    auc = _areas_to(p, t, c, n_profiles, end)
    sparse = np.bincount(p[(t > 0) & (t <= end)], minlength=n_profiles) < MIN_SAMPLES
    auc[sparse] = np.nan
    values = {"CMAX": cmax, "TMAX": _picked(t, peak), "CLST": _picked(c, last),
              "TLST": _picked(t, last), "AUCINT": auc}
    out = {}
    for code in PARAMETERS:
        reason = np.full(n_profiles, "", dtype=object)
        if code == "AUCINT":
            reason[np.isnan(auc)] = not_covered(end)
            reason[sparse] = too_sparse(end)
        else:  # Cmax is 0 when all are BLQ; the others need a quantifiable sample
            reason[np.isnan(values[code])] = NO_QUANTIFIABLE
        reason[~has_samples] = NO_SAMPLES
        out[code] = (values[code], reason)
    return out


def nca_profile(times: ArrayLike, conc: ArrayLike, blq: ArrayLike, conc_unit: str,
                time_unit: str = "day", end: float = 28.0) -> dict[str, Result]:
    """CMAX, TMAX, CLST, TLST and AUCINT (from 0 to `end`) of one profile, keyed by CDISC
    PKPARMCD. times in days from the reference; conc NaN where not done or BLQ; blq True
    where BLQ. The AUC unit is time_unit*conc_unit (e.g. day*copies/ug)."""
    t, c, b = _arrays(times, conc, blq)
    results = nca_profiles(np.zeros(len(t), dtype=np.intp), t, c, b, 1, end)
    auc_unit = f"{time_unit}*{conc_unit}" if conc_unit else ""
    units = {"CMAX": conc_unit, "TMAX": time_unit, "CLST": conc_unit, "TLST": time_unit,
             "AUCINT": auc_unit}
    return {code: Result(float(value[0]), units[code], str(reason[0]))
            for code, (value, reason) in results.items()}
