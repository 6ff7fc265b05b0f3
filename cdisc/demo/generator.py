"""Deterministic synthetic raw EDC exports for the demo study NCT04265963.

NCT04265963: phase 1, single arm, CD123-targeted CAR-T cells in relapsed/refractory AML. The
generator writes what a Medidata-Rave-like EDC exports - one file per CRF form, raw values as a
site would type them (case variants, trailing spaces, mixed date styles and units, a few records a
mapping must reject) - never SDTM. Every file and column is documented in FORMS.md next to this
module.

Design:
* one clinical course per subject is simulated first (consent, eligibility, lymphodepletion,
  infusion, response course, transplant, new therapy, death, end of study), vectorised over
  subjects with numpy; every form is then derived from that course, so dates agree across forms;
* each form draws its own noise from its own child of ``numpy.random.SeedSequence(seed)``;
* no clock reads, fixed column order, fixed-point number text, "\\n" line ends, UTF-8 without
  BOM: the same (seed, n_subjects) gives byte-identical files (see _csv.py; the XPT header
  timestamps are pinned to the data cut-off).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from . import _csv
from .dictionaries import CODED_COLUMNS, code_term

STUDY = "NCT04265963"
DEFAULT_SEED = 20200301
DEFAULT_SUBJECTS = 45

_EPOCH = _dt.date(1970, 1, 1)


def _d(text: str) -> int:
    """ISO date -> day number since 1970-01-01."""
    return (_dt.date.fromisoformat(text) - _EPOCH).days


ENROL_FIRST = _d("2020-03-02")   # first informed consent
ENROL_LAST = _d("2021-11-15")    # last informed consent (2-year follow-up fits before 2024)
LAST_STUDY_DAY = _d("2023-12-31")
DATA_CUTOFF = _d("2024-01-31")   # implicit data cut-off: no date after it
_NEVER = 10**7                   # "no event" sentinel (relative days)

# ---------------------------------------------------------------------------------------------
# Sites
# ---------------------------------------------------------------------------------------------
_EXTRA_COUNTRIES = ["United States", "Singapore", "China", "Japan", "Korea", "Australia",
                    "Germany"]


def _sites(n: int) -> tuple[list[str], list[str]]:
    if n <= 100:
        count = 1
    else:
        count = max(2, math.ceil(n / 200))
    numbers = [str(920 + i) for i in range(count)]
    countries = ["China"] + [_EXTRA_COUNTRIES[(i - 1) % len(_EXTRA_COUNTRIES)]
                             for i in range(1, count)]
    return numbers, countries


# ---------------------------------------------------------------------------------------------
# Visit schedule (folders) relative to the first CAR-T infusion (day 0)
# ---------------------------------------------------------------------------------------------
# name, nominal day, window (+/- days)
_SCHEDULE: list[tuple[str, int, int]] = [
    ("LD", -5, 0),
    ("DAY0", 0, 0), ("DAY4", 4, 1), ("DAY7", 7, 1), ("DAY10", 10, 1), ("DAY14", 14, 1),
    ("DAY21", 21, 1), ("DAY28", 28, 2), ("DAY35", 35, 2), ("DAY42", 42, 2), ("DAY49", 49, 2),
    ("MONTH2", 60, 3),
]
for _m in range(3, 13):
    _SCHEDULE.append((f"MONTH{_m}", round(30.44 * _m), 7))
for _m in (15, 18, 21, 24):
    _SCHEDULE.append((f"MONTH{_m}", round(30.44 * _m) if _m != 24 else 730, 7))
FOLDERS = ["SCREENING"] + [f for f, _, _ in _SCHEDULE] + ["UNSCHEDULED"]
_FOLDER_CODE = {f: i for i, f in enumerate(FOLDERS)}
_SCHED_INDEX = {f: i for i, (f, _, _) in enumerate(_SCHEDULE)}
_NOMINAL = np.array([d for _, d, _ in _SCHEDULE])
_WINDOW = np.array([w for _, _, w in _SCHEDULE])

RS_FOLDERS = ["DAY28", "MONTH2", "MONTH3", "MONTH6", "MONTH9", "MONTH12", "MONTH18", "MONTH24"]
_RS_SCHED = np.array([_SCHED_INDEX[f] for f in RS_FOLDERS])
_RS_NOMINAL = _NOMINAL[_RS_SCHED]
PB_FOLDERS = ["DAY0", "DAY4", "DAY7", "DAY10", "DAY14", "DAY21", "DAY28", "MONTH2", "MONTH3",
              "MONTH6", "MONTH9", "MONTH12", "MONTH18", "MONTH24"]

# best response categories and true response states
R_CR, R_CRI, R_MLFS, R_PR, R_NR, R_PD = range(6)
S_CR, S_CRI, S_MLFS, S_PR, S_NR, S_PD, S_REL = range(7)
# lab "count states"
L_DISEASE, L_APLASIA, L_PARTIAL, L_RECOVERED = range(4)

# death causes (death.csv DTHCAUS)
DEATH_CAUSES = ["Disease progression", "Infection", "CRS", "GVHD", "Unknown"]
C_DP, C_INF, C_CRS, C_GVHD, C_UNK = range(5)

# end of study reasons
EOS_REASONS = ["Death", "Screen failure", "Withdrawal by subject", "Lost to follow-up",
               "Progressive disease", "Physician decision"]
E_COMPLETED = -1
E_DEATH, E_SF, E_WD, E_LTFU, E_PD, E_PHYS = range(6)

# ---------------------------------------------------------------------------------------------
# Text helpers
# ---------------------------------------------------------------------------------------------
_MON = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DMY, ISO, SLASH, DATE9, UNMY, YM, YEAR, NODATE = range(8)


def _fmt_date(day: int, style: int) -> str:
    if style == NODATE:
        return ""
    d = _EPOCH + _dt.timedelta(days=int(day))
    mon = _MON[d.month - 1]
    if style == DMY:
        return f"{d.day:02d}-{mon}-{d.year:04d}"
    if style == ISO:
        return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
    if style == SLASH:
        return f"{d.year:04d}/{d.month:02d}/{d.day:02d}"
    if style == DATE9:
        return f"{d.day:02d}{mon}{d.year:04d}"
    if style == UNMY:
        return f"UN-{mon}-{d.year:04d}"
    if style == YM:
        return f"{d.year:04d}-{d.month:02d}"
    if style == YEAR:
        return f"{d.year:04d}"
    raise ValueError(style)


def _dates(days: np.ndarray, style: np.ndarray | int, missing: np.ndarray | None = None
           ) -> _csv.Field:
    days = np.asarray(days, dtype=np.int64)
    st = np.broadcast_to(np.asarray(style, dtype=np.int64), days.shape).copy()
    if missing is not None:
        st[np.asarray(missing, bool)] = NODATE
    days = np.where(st == NODATE, 0, days)
    key = days * 8 + st
    uniq, inv = np.unique(key, return_inverse=True)
    cats = [_fmt_date(int(k) // 8, int(k) % 8) for k in uniq]
    return _csv.cat(inv.reshape(-1), cats)


_TIME_CATS = [""] + [f"{m // 60:02d}:{m % 60:02d}" for m in range(1440)]


def _times(minutes: np.ndarray) -> _csv.Field:
    """Minutes after midnight -> "HH:MM"; negative -> empty."""
    m = np.asarray(minutes, dtype=np.int64)
    return _csv.cat(np.where(m < 0, 0, m + 1), _TIME_CATS)


def _choice(rng: np.random.Generator, n: int, p: list[float]) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _exact(rng: np.random.Generator, pool: np.ndarray, count: int) -> np.ndarray:
    """count distinct elements drawn from pool (sorted); fewer when the pool is smaller."""
    pool = np.asarray(pool)
    count = min(count, len(pool))
    if count <= 0:
        return np.array([], dtype=np.int64)
    return np.sort(rng.choice(pool, size=count, replace=False))


def _calendar(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d64 = (np.asarray(days, dtype=np.int64)).astype("datetime64[D]")
    y = d64.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d64.astype("datetime64[M]").astype(np.int64) % 12 + 1
    d = (d64 - d64.astype("datetime64[M]")).astype(np.int64) + 1
    return y, m, d


def _occurrence(keys: np.ndarray) -> np.ndarray:
    """1-based occurrence number of each row's key in row order (keys need not be contiguous)."""
    order = np.argsort(keys, kind="stable")
    pos = np.empty(len(keys), dtype=np.int64)
    pos[order] = _position(keys[order])
    return pos


def _position(keys: np.ndarray) -> np.ndarray:
    """1-based running number within runs of equal consecutive keys (rows already sorted)."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    start = np.ones(n, bool)
    start[1:] = keys[1:] != keys[:-1]
    idx = np.arange(n)
    first = np.maximum.accumulate(np.where(start, idx, 0))
    return idx - first + 1


# ---------------------------------------------------------------------------------------------
# The subject-level clinical course
# ---------------------------------------------------------------------------------------------
class Course:
    """All subject-level facts, arrays of length n (index = subject, sorted by site/number)."""

    def __init__(self, n: int, rng: np.random.Generator):
        self.n = n
        self.site_numbers, self.site_countries = _sites(n)
        ns = len(self.site_numbers)
        w = np.ones(ns)
        w[0] = 2.0
        site = np.sort(rng.choice(ns, size=n, p=w / w.sum()))
        consent = rng.integers(ENROL_FIRST, ENROL_LAST + 1, size=n)
        order = np.lexsort((consent, site))
        self.site = site[order]
        self.consent = consent[order]
        num = _position(self.site)
        width = max(3, len(str(int(num.max())))) if n else 3
        self.subject_ids = [f"{self.site_numbers[s]}-{k:0{width}d}"
                            for s, k in zip(self.site.tolist(), num.tolist())]

        # demography ---------------------------------------------------------------------
        child = rng.random(n) < 0.15
        age_target = np.where(child, rng.integers(2, 18, size=n),
                              18 + np.round(57 * rng.beta(2.2, 1.8, size=n)).astype(np.int64))
        frac = rng.uniform(0.05, 0.95, size=n)
        birth = self.consent - np.round((age_target + frac) * 365.2425).astype(np.int64)
        by, bm, bd = _calendar(birth)
        cy, cm, cd = _calendar(self.consent)
        age = cy - by - ((cm < bm) | ((cm == bm) & (cd < bd)))
        assert ((age >= 2) & (age <= 75)).all()
        self.birth, self.age = birth, age
        self.female = rng.random(n) < 0.44

        # screening ----------------------------------------------------------------------
        self.elig = self.consent + rng.integers(3, 15, size=n)
        n_sf = int(round(0.065 * n))
        self.sf = np.zeros(n, bool)
        self.sf[_exact(rng, np.arange(n), n_sf)] = True
        enrolled = np.flatnonzero(~self.sf)
        n_ni = int(round(0.045 * len(enrolled)))
        if len(enrolled) >= 10:
            n_ni = max(1, n_ni)
        self.ni = np.zeros(n, bool)
        self.ni[_exact(rng, enrolled, n_ni)] = True
        self.enrolled = ~self.sf
        self.inf = self.enrolled & ~self.ni
        self.ld_start = self.elig + rng.integers(7, 21, size=n)
        self.d0 = self.ld_start + 5           # (planned) first infusion = day 0
        inf_idx = np.flatnonzero(self.inf)
        self.split = np.zeros(n, bool)
        self.split[_exact(rng, inf_idx, int(round(0.2 * len(inf_idx))))] = True
        # dose escalation by enrolment order: 0.5 -> 1.0 -> 2.5 x10^6 CAR+ cells/kg
        rank = np.zeros(n)
        if len(inf_idx):
            r = np.argsort(np.argsort(self.consent[inf_idx], kind="stable"), kind="stable")
            rank[inf_idx] = (r + 0.5) / len(inf_idx)
        self.dose = np.where(rank < 0.25, 0.5, np.where(rank < 0.55, 1.0, 2.5))
        # the dose cohort assigned at enrolment (1, 2, 3): an infused subject's by its dose; a
        # subject never infused joins the cohort open at its consent (the last infused before)
        self.cohort = np.zeros(n, dtype=np.int64)
        self.cohort[self.inf] = np.searchsorted([0.5, 1.0, 2.5], self.dose[self.inf]) + 1
        order = np.argsort(self.consent, kind="stable")
        open_cohort = 1
        for i in order:
            if self.inf[i]:
                open_cohort = self.cohort[i]
            elif self.enrolled[i]:
                self.cohort[i] = open_cohort

        # visit dates (relative to day 0), one per scheduled folder ------------------------
        jit = rng.integers(-_WINDOW, _WINDOW + 1, size=(n, len(_SCHEDULE)))
        self.vrel = _NOMINAL[None, :] + jit
        self.screen_day = self.consent + (rng.random(n) * (self.elig - self.consent + 1)
                                          ).astype(np.int64)
        self.screen_day = np.minimum(self.screen_day, self.elig)

        # disease ------------------------------------------------------------------------
        self.best = _choice(rng, n, [0.30, 0.18, 0.06, 0.07, 0.26, 0.13])
        self.blast0 = np.round(8 + 52 * rng.beta(2.0, 2.2, size=n), 1)
        pr = self.best == R_PR
        self.blast0 = np.where(pr, np.round(20 + 40 * rng.beta(2, 2, size=n), 1), self.blast0)
        self.cd123_0 = np.round(rng.uniform(31, 99, size=n), 1)
        self._response(rng)
        self._crs(rng)
        self._outcome(rng)

    # response course -----------------------------------------------------------------------
    def _response(self, rng: np.random.Generator) -> None:
        n, best = self.n, self.best
        u = rng.random((n, 6))
        cr_start = np.where(u[:, 0] < 0.8, 0, 1)
        cri_conv = np.where(u[:, 1] < 0.25, 1, np.where(u[:, 1] < 0.40, 2, 99))
        responder = best <= R_MLFS
        cure_p = np.array([0.35, 0.20, 0.10, 0, 0, 0])[best]
        scale = np.array([200.0, 140.0, 90.0, 1, 1, 1])[best]
        t_rel = 40 + rng.exponential(1.0, size=n) * scale
        t_rel = np.where(responder & (u[:, 2] >= cure_p), t_rel, _NEVER)
        prog_idx = np.searchsorted(_RS_NOMINAL, t_rel, side="left")
        prog_idx = np.where(prog_idx >= len(RS_FOLDERS), 99, np.maximum(prog_idx, 1))
        early = np.where(u[:, 3] < 0.6, 1, 2)
        self.nr_nact = (best == R_NR) & (u[:, 4] < 0.3)
        prog_idx = np.where(best == R_PR, early, prog_idx)
        prog_idx = np.where(best == R_NR, np.where(self.nr_nact, 99, early), prog_idx)
        prog_idx = np.where(best == R_PD, 0, prog_idx)
        self.nr_text_sd = u[:, 5] < 0.5        # investigator writes "SD" instead of "NR"

        k = np.arange(len(RS_FOLDERS))[None, :]
        base = np.select(
            [best[:, None] == R_CR, best[:, None] == R_CRI, best[:, None] == R_MLFS,
             best[:, None] == R_PR, best[:, None] == R_NR],
            [np.where(k < cr_start[:, None], S_CRI, S_CR),
             np.where(k >= cri_conv[:, None], S_CR, S_CRI),
             np.full((n, 1), S_MLFS), np.full((n, 1), S_PR), np.full((n, 1), S_NR)],
            default=S_PD)
        base = np.broadcast_to(base, (n, len(RS_FOLDERS)))
        after = k >= prog_idx[:, None]
        self.rs_state = np.where(after, np.where(responder[:, None], S_REL, S_PD), base)
        self.rs_rel = self.vrel[:, _RS_SCHED]
        self.prog_idx = prog_idx
        has = prog_idx < len(RS_FOLDERS)
        self.prog_rel = np.where(has, self.rs_rel[np.arange(n), np.minimum(prog_idx, 7)], _NEVER)

    # CRS / ICANS --------------------------------------------------------------------------
    def _crs(self, rng: np.random.Generator) -> None:
        n = self.n
        self.crs = (rng.random(n) < 0.70) & self.inf
        inf_idx = np.flatnonzero(self.inf)
        n_crsd = max(1 if len(inf_idx) >= 20 else 0, int(round(0.015 * len(inf_idx))))
        self.crs_death = np.zeros(n, bool)
        self.crs_death[_exact(rng, inf_idx, n_crsd)] = True
        self.crs |= self.crs_death
        onset = np.minimum(rng.geometric(0.45, size=n), 10)
        onset = np.where(rng.random(n) < 0.08, 0, onset)
        self.crs_onset = onset
        self.crs_dur = 2 + rng.poisson(3.0, size=n)
        self.crs_grade = 1 + _choice(rng, n, [0.42, 0.36, 0.15, 0.07])
        self.crs_grade = np.where(self.crs_death, 5, self.crs_grade)
        p_icans = np.where(self.crs, 0.27, 0.03)
        self.icans = (rng.random(n) < p_icans) & self.inf
        self.icans_onset = np.where(self.crs, self.crs_onset + rng.integers(1, 6, size=n),
                                    rng.integers(4, 11, size=n))
        self.icans_dur = 1 + rng.poisson(3.0, size=n)
        self.icans_grade = 1 + _choice(rng, n, [0.40, 0.30, 0.20, 0.10])

    # transplant, new therapy, death, end of study -----------------------------------------
    def _outcome(self, rng: np.random.Generator) -> None:
        n = self.n
        u = rng.random((n, 16))
        responder = (self.best <= R_MLFS) & self.inf
        hsct_rel = self.rs_rel[:, 0] + rng.integers(25, 81, size=n)
        self.hsct = responder & (u[:, 0] < 0.30) & (hsct_rel < self.prog_rel)
        self.hsct_rel = np.where(self.hsct, hsct_rel, _NEVER)
        # a progression after transplant is not assessed on the response form
        self.prog_rel = np.where(self.hsct, _NEVER, self.prog_rel)
        self.prog_idx = np.where(self.hsct, 99, self.prog_idx)
        self.hsct_relapse_rel = np.where(self.hsct & (u[:, 1] < 0.25),
                                         self.hsct_rel + rng.integers(60, 501, size=n), _NEVER)

        # new anticancer therapy
        nact = np.full(n, _NEVER)
        nact = np.where(self.nr_nact, self.rs_rel[:, 0] + rng.integers(7, 22, size=n), nact)
        progressed = self.prog_rel < _NEVER
        nact = np.where(progressed & (u[:, 2] < 0.65),
                        self.prog_rel + rng.integers(3, 29, size=n), nact)
        nact = np.where((self.hsct_relapse_rel < _NEVER) & (u[:, 3] < 0.5),
                        self.hsct_relapse_rel + rng.integers(3, 22, size=n), nact)
        self.nact_rel = np.where(self.inf, nact, _NEVER)
        self.nact2_rel = np.where((self.nact_rel < _NEVER) & (u[:, 4] < 0.2),
                                  self.nact_rel + rng.integers(40, 121, size=n), _NEVER)

        # death candidates (relative days) and causes
        e1 = rng.exponential(1.0, size=(n, 4))
        cand = np.full((n, 7), _NEVER, dtype=np.int64)
        cause = np.empty((n, 7), dtype=np.int64)
        cand[:, 0] = np.where(progressed & (u[:, 5] < 0.85),
                              self.prog_rel + 7 + (110 * e1[:, 0]).astype(np.int64), _NEVER)
        cause[:, 0] = np.where(u[:, 6] < 0.9, C_DP, C_UNK)
        cand[:, 1] = np.where(self.nr_nact & (u[:, 7] < 0.7),
                              self.nact_rel + 20 + (150 * e1[:, 1]).astype(np.int64), _NEVER)
        cause[:, 1] = C_DP
        cand[:, 2] = np.where((self.hsct_relapse_rel < _NEVER) & (u[:, 8] < 0.8),
                              self.hsct_relapse_rel + 7 + (120 * e1[:, 2]).astype(np.int64),
                              _NEVER)
        cause[:, 2] = C_DP
        cand[:, 3] = np.where(self.hsct & (u[:, 9] < 0.10),
                              self.hsct_rel + rng.integers(40, 301, size=n), _NEVER)
        cause[:, 3] = C_GVHD
        cand[:, 4] = np.where(self.hsct & (u[:, 10] < 0.07),
                              self.hsct_rel + rng.integers(20, 201, size=n), _NEVER)
        cause[:, 4] = C_INF
        cand[:, 5] = np.where(self.inf & (u[:, 11] < 0.025), rng.integers(8, 61, size=n),
                              _NEVER)
        cause[:, 5] = C_INF
        crs_death_rel = self.crs_onset + rng.integers(2, 8, size=n)
        cand[:, 6] = np.where(self.crs_death, crs_death_rel, _NEVER)
        cause[:, 6] = C_CRS
        cand[self.crs_death, :6] = _NEVER
        cand[~self.inf] = _NEVER
        j = np.argmin(cand, axis=1)
        death_rel = cand[np.arange(n), j]
        death_cause = cause[np.arange(n), j]

        # never infused: deaths or discontinuation shortly after lymphodepletion
        ni_idx = np.flatnonzero(self.ni)
        ni_rank = np.zeros(n, dtype=np.int64)
        ni_rank[ni_idx] = np.arange(len(ni_idx))
        ni_die = self.ni & (ni_rank % 2 == 0)
        death_rel = np.where(ni_die, rng.integers(-2, 9, size=n), death_rel)
        death_cause = np.where(ni_die, np.where(ni_rank % 4 == 0, C_INF, C_DP), death_cause)

        # discontinuations other than death
        other_rel = np.where(self.inf & (u[:, 12] < 0.08), rng.integers(30, 701, size=n),
                             _NEVER)
        other_reason = np.array([E_WD, E_WD, E_WD, E_LTFU, E_LTFU, E_LTFU, E_PHYS, E_PHYS]
                                )[rng.integers(0, 8, size=n)]
        first_prog = np.minimum(np.minimum(self.prog_rel, self.hsct_relapse_rel),
                                np.where(self.nr_nact, self.nact_rel, _NEVER))
        pd_rel = np.where(self.inf & (first_prog < _NEVER) & (u[:, 13] < 0.25),
                          first_prog + rng.integers(1, 31, size=n), _NEVER)
        # guaranteed time-to-event paths (FORMS.md): the first eligible infused subject is lost
        # to follow-up on day 75 after two response assessments, the next eligible one
        # withdraws on day 15, before any assessment (PFS censored at the first infusion)
        calm = self.inf & ~self.crs_death & (death_rel > 120) & (first_prog > 120) & \
            (self.hsct_rel > 120) & (self.nact_rel > 120)
        picks = np.flatnonzero(calm)[:2]
        if len(picks) == 2:
            other_rel[picks] = [75, 15]
            other_reason[picks] = [E_LTFU, E_WD]
        m24 = self.vrel[:, _SCHED_INDEX["MONTH24"]]
        ni_stop = np.where(self.ni & ~ni_die, rng.integers(1, 15, size=n), _NEVER)
        ni_reason = np.where(ni_rank % 4 == 1, E_PD, E_PHYS)

        opts = np.stack([death_rel, other_rel, pd_rel, ni_stop,
                         np.where(self.inf, m24, _NEVER)], axis=1)
        k = np.argmin(opts, axis=1)
        eos_rel = opts[np.arange(n), k]
        reason = np.select([k == 0, k == 1, k == 2, k == 3],
                           [E_DEATH, other_reason, E_PD, ni_reason], default=E_COMPLETED)
        self.died = self.enrolled & (k == 0) & (death_rel < _NEVER)
        eos_abs = self.d0 + eos_rel
        # screen failures
        sf_eos = self.elig + rng.integers(0, 4, size=n)
        eos_abs = np.where(self.sf, sf_eos, eos_abs)
        reason = np.where(self.sf, E_SF, reason)
        self.died &= ~self.sf
        over = eos_abs > LAST_STUDY_DAY
        if over.any():  # cannot happen with the enrolment window; kept as a guard
            eos_abs = np.where(over, LAST_STUDY_DAY, eos_abs)
            reason = np.where(over & ~self.died, E_COMPLETED, reason)
            self.died &= ~over
        self.eos = eos_abs
        self.eos_reason = reason
        self.death = np.where(self.died, self.d0 + death_rel, -1)
        self.death_cause = np.where(self.died, death_cause, -1)
        # last day any post-baseline record may carry (inclusive)
        self.last_day = np.where(self.died, self.death, self.eos)
        self.hsct_ok = self.hsct & (self.d0 + self.hsct_rel < self.last_day)


# ---------------------------------------------------------------------------------------------
# Form writers
# ---------------------------------------------------------------------------------------------
class _Writer:
    def __init__(self, course: Course, out_dir: Path):
        self.c = course
        self.out = out_dir
        self.counts: dict[str, int] = {}

    def lead(self, subj: np.ndarray, site_col: str = "SITENUMBER") -> list[tuple[str, _csv.Field]]:
        c = self.c
        subj = np.asarray(subj, dtype=np.int64)
        return [("STUDY", _csv.const(STUDY, len(subj))),
                (site_col, _csv.cat(c.site[subj], c.site_numbers)),
                ("SUBJECT", _csv.cat(subj, c.subject_ids))]

    def write(self, name: str, cols: list[tuple[str, _csv.Field]]) -> None:
        rows = _csv.write(self.out / name, [h for h, _ in cols], [f for _, f in cols])
        self.counts[name] = rows


def _variants(rng: np.random.Generator, codes: np.ndarray, table: list[list[tuple[str, float]]]
              ) -> tuple[np.ndarray, list[str]]:
    """Map category codes to raw text variants: table[code] = [(text, weight), ...]."""
    cats: list[str] = []
    where: list[list[int]] = []
    probs: list[np.ndarray] = []
    for opts in table:
        idx = []
        for txt, _ in opts:
            if txt not in cats:
                cats.append(txt)
            idx.append(cats.index(txt))
        where.append(idx)
        w = np.array([p for _, p in opts], dtype=float)
        probs.append(np.cumsum(w / w.sum()))
    u = rng.random(len(codes))
    out = np.zeros(len(codes), dtype=np.int64)
    for k, (idx, cp) in enumerate(zip(where, probs)):
        m = codes == k
        if m.any():
            j = np.minimum(np.searchsorted(cp, u[m], side="right"), len(idx) - 1)
            out[m] = np.array(idx)[j]
    return out, cats


def _form_dm(w: _Writer, rng: np.random.Generator) -> None:
    c = w.c
    n = c.n
    subj = np.arange(n)
    style = _choice(rng, n, [0.70, 0.15, 0.15])
    bstyle = np.array([DMY, UNMY, YEAR])[style]
    ageu, ageu_c = _variants(rng, np.zeros(n, np.int64),
                             [[("Years", 0.8), ("years", 0.1), ("YEARS ", 0.1)]])
    sex, sex_c = _variants(rng, c.female.astype(np.int64),
                           [[("Male", 0.80), ("M", 0.15), ("male ", 0.05)],
                            [("Female", 0.82), ("F", 0.18)]])
    country = np.array(c.site_countries)[c.site]
    race_grp = np.select([country == "China", np.isin(country, ["Singapore", "Japan", "Korea"]),
                          country == "United States"], [0, 1, 2], default=3)
    race, race_c = _variants(rng, race_grp, [
        [("Asian", 0.88), ("ASIAN", 0.10), ("Other", 0.02)],
        [("Asian", 0.80), ("ASIAN", 0.05), ("White", 0.05), ("Other", 0.10)],
        [("White", 0.60), ("Asian", 0.20), ("Other", 0.20)],
        [("White", 0.85), ("Asian", 0.10), ("Other", 0.05)],
    ])
    eth, eth_c = _variants(rng, np.zeros(n, np.int64), [[
        ("Not Hispanic or Latino", 0.80), ("NOT HISPANIC OR LATINO", 0.10), ("", 0.10)]])
    w.write("dm.csv", w.lead(subj) + [
        ("BRTHDAT", _dates(c.birth, bstyle)),
        ("AGE", _csv.number(c.age.astype(float), 0)),
        ("AGEU", _csv.cat(ageu, ageu_c)),
        ("SEX", _csv.cat(sex, sex_c)),
        ("RACE", _csv.cat(race, race_c)),
        ("ETHNIC", _csv.cat(eth, eth_c)),
        ("COUNTRY", _csv.cat(c.site, c.site_countries)),
    ])


def _form_ic(w: _Writer, rng: np.random.Generator) -> None:
    c = w.c
    n = c.n
    adult_assent = np.where(rng.random(n) < 0.1, 2, 1)
    code = np.where(c.age < 18, 0, adult_assent)
    w.write("ic.csv", w.lead(np.arange(n)) + [
        ("ICDAT", _dates(c.consent, DMY)),
        ("ICVER", _csv.const("V2.0", n)),
        ("ASSENT", _csv.cat(code, ["Y", "", "N"])),
    ])


IE_FAIL_TEXT = [
    "INCL03: CD123 expression < 30% of blasts",
    "EXCL05: active uncontrolled infection",
    "INCL05: ECOG performance status > 2",
    "EXCL02: active CNS leukaemia",
    "INCL06: inadequate organ function (creatinine clearance < 60 mL/min)",
    "EXCL08: HIV, HBV or HCV positive",
]


def _form_elig(w: _Writer, rng: np.random.Generator) -> None:
    c = w.c
    n = c.n
    fail = _choice(rng, n, [0.40, 0.20, 0.15, 0.10, 0.10, 0.05]) + 1
    w.write("elig.csv", w.lead(np.arange(n)) + [
        ("ELIGDAT", _dates(c.elig, DMY)),
        ("IEYN", _csv.cat(c.sf.astype(np.int64), ["Yes", "No"])),
        ("IEFAIL", _csv.cat(np.where(c.sf, fail, 0), [""] + IE_FAIL_TEXT)),
        ("COHORT", _csv.cat(c.cohort, ["", "Cohort 1", "Cohort 2", "Cohort 3"])),
    ])


_SAS_EPOCH_OFFSET = (_EPOCH - _dt.date(1960, 1, 1)).days  # 3653
_XPT_STAMP = re.compile(rb"\d{2}[A-Z]{3}\d{2}:\d{2}:\d{2}:\d{2}")


def _pin_xpt_timestamps(path: Path, stamp: bytes) -> None:
    """Replace the created/modified stamps in the XPT headers (written from the clock)."""
    data = bytearray(path.read_bytes())
    marker = data.find(b"HEADER RECORD*******OBS     HEADER RECORD")
    head = bytes(data[:marker])
    fixed = _XPT_STAMP.sub(stamp, head)
    data[:marker] = fixed
    path.write_bytes(bytes(data))


def _form_ld(w: _Writer, rng: np.random.Generator) -> None:
    c = w.c
    subj = np.flatnonzero(c.enrolled)
    m = len(subj)
    s = np.repeat(subj, 6)
    k = np.tile(np.arange(6), m)
    day = c.ld_start[s] + k // 2                       # days -5, -4, -3
    drug = k % 2                                       # 0 fludarabine, 1 cyclophosphamide
    flu = np.array([25.0, 30.0])[rng.integers(0, 2, size=c.n)]
    cy = np.array([250.0, 300.0, 500.0])[_choice(rng, c.n, [0.3, 0.4, 0.3])]
    dose = np.where(drug == 0, flu[s], cy[s])
    drug_txt, drug_c = _variants(rng, drug, [[("Fludarabine", 0.8), ("FLUDARABINE", 0.2)],
                                             [("Cyclophosphamide", 0.8),
                                              ("cyclophosphamide ", 0.2)]])
    if len(s):
        dose[_exact(rng, np.arange(len(s)), 3)] = np.nan
    unit = np.where(rng.random(len(s)) < 0.85, "mg/m2", "MG/M2")
    route = np.where(rng.random(len(s)) < 0.7, "IV", "Intravenous")
    df = pd.DataFrame({
        "STUDY": pd.Series([STUDY] * len(s), dtype=object),
        "SITENUMB": pd.Series(np.array(c.site_numbers, dtype=object)[c.site[s]], dtype=object),
        "SUBJECT": pd.Series(np.array(c.subject_ids, dtype=object)[s], dtype=object),
        "FOLDER": pd.Series(["LD"] * len(s), dtype=object),
        "RECPOS": (k + 1).astype(np.float64),
        "LDDRUG": pd.Series(np.array(drug_c, dtype=object)[drug_txt], dtype=object),
        "LDDAT": (day + _SAS_EPOCH_OFFSET).astype(np.float64),
        "LDDOSE": dose,
        "LDDOSU": pd.Series(unit.astype(object), dtype=object),
        "LDROUTE": pd.Series(route.astype(object), dtype=object),
    })
    path = w.out / "ld.xpt"
    pyreadstat.write_xport(
        df, str(path), file_label="Lymphodepletion", table_name="LD", file_format_version=5,
        variable_format={"LDDAT": "DATE9.", "RECPOS": "8.", "LDDOSE": "8.1"},
        column_labels={"STUDY": "Study", "SITENUMB": "Site number", "SUBJECT": "Subject",
                       "FOLDER": "Folder", "RECPOS": "Record position",
                       "LDDRUG": "Lymphodepleting drug", "LDDAT": "Administration date",
                       "LDDOSE": "Dose", "LDDOSU": "Dose unit", "LDROUTE": "Route"})
    _pin_xpt_timestamps(path, b"31JAN24:00:00:00")
    w.counts["ld.xpt"] = len(df)


def _dose_text(x: float) -> str:
    t = f"{x:.2f}".rstrip("0")
    return t + "0" if t.endswith(".") else t


def _form_cart(w: _Writer, rng: np.random.Generator) -> None:
    c = w.c
    inf = np.flatnonzero(c.inf)
    rows_s = np.concatenate([inf, np.flatnonzero(c.split), np.flatnonzero(c.ni)])
    pos = np.concatenate([np.ones(len(inf), np.int64), np.full(c.split.sum(), 2, np.int64),
                          np.ones(c.ni.sum(), np.int64)])
    order = np.lexsort((pos, rows_s))
    s, pos = rows_s[order], pos[order]
    given = c.inf[s]
    day = c.d0[s] + (pos - 1)
    dose = np.where(c.split[s], c.dose[s] / 2, c.dose[s])
    dose_vals = sorted(set(dose[given].tolist()))
    dose_cats = [""] + [_dose_text(x) for x in dose_vals] + ["abc"]
    dose_code = np.where(given, np.searchsorted(dose_vals, dose) + 1, 0)
    minutes = 9 * 60 + 5 * rng.integers(0, 8 * 12, size=len(s))
    minutes = np.where(given & (rng.random(len(s)) >= 0.1), minutes, -1)
    unit = np.where(given, np.where(rng.random(len(s)) < 0.8, 1, 2), 0)
    # deliberate bad records: one impossible date, one non-numeric dose
    bad_date = np.zeros(len(s), bool)
    bad_dose = np.zeros(len(s), bool)
    second = np.flatnonzero(pos == 2)
    pool = second if len(second) else np.flatnonzero(given)
    if len(pool):
        bad_date[_exact(rng, pool, 1)] = True
    pool2 = np.flatnonzero(given & ~bad_date & (pos == 1))
    if len(pool2):
        bad_dose[_exact(rng, pool2, 1)] = True
    dose_code = np.where(bad_dose, len(dose_cats) - 1, dose_code)
    date_f = _dates(day, np.where(given, SLASH, NODATE))
    date_f = _csv.override(date_f, bad_date, _csv.const("2021/02/31", len(s)))
    w.write("cart.csv", w.lead(s) + [
        ("RECORDPOSITION", _csv.number(pos.astype(float), 0)),
        ("INFDAT", date_f),
        ("INFTIM", _times(minutes)),
        ("INFDOSE", _csv.cat(dose_code, dose_cats)),
        ("INFDOSU", _csv.cat(unit, ["", "x10^6 cells/kg", "10^6/kg"])),
        ("INFYN", _csv.cat(np.where(given, 0, 1), ["Yes", "No"])),
    ])


def _form_death(w: _Writer, rng: np.random.Generator) -> None:
    c = w.c
    s = np.flatnonzero(c.died)
    style = np.where(rng.random(len(s)) < 0.8, DMY, UNMY)
    autopsy = np.where(rng.random(len(s)) < 0.7, 0, 1)
    w.write("death.csv", w.lead(s) + [
        ("DTHDAT", _dates(c.death[s], style)),
        ("DTHCAUS", _csv.cat(c.death_cause[s], DEATH_CAUSES)),
        ("AUTOPSY", _csv.cat(autopsy, ["N", ""])),
    ])


def _form_eos(w: _Writer, rng: np.random.Generator) -> None:
    c = w.c
    n = c.n
    r = c.eos_reason
    code = np.where(r == E_COMPLETED, 0, r + 1)
    table = [[("", 1.0)],
             [("Death", 0.85), ("death", 0.15)],
             [("Screen failure", 0.8), ("Screen Failure", 0.2)],
             [("Withdrawal by subject", 0.7), ("Withdrawal By Subject ", 0.15),
              ("withdrawal by subject", 0.15)],
             [("Lost to follow-up", 0.7), ("lost to follow up", 0.3)],
             [("Progressive disease", 0.8), ("progressive disease", 0.2)],
             [("Physician decision", 0.85), ("Physician Decision", 0.15)]]
    reas, reas_c = _variants(rng, code, table)
    w.write("eos.csv", w.lead(np.arange(n)) + [
        ("EOSDAT", _dates(c.eos, DATE9)),
        ("EOSSTAT", _csv.cat((r != E_COMPLETED).astype(np.int64), ["Completed", "Discontinued"])),
        ("EOSREAS", _csv.cat(reas, reas_c)),
    ])


def _form_dx(w: _Writer, rng: np.random.Generator) -> None:
    c = w.c
    s = np.flatnonzero(c.enrolled)
    m = len(s)
    dx = c.consent[s] - rng.integers(120, 1500, size=m)
    style = np.where(rng.random(m) < 0.8, DMY, UNMY)
    dxtype = _choice(rng, m, [0.70, 0.20, 0.10])
    stat, stat_c = _variants(rng, _choice(rng, m, [0.6, 0.4]),
                             [[("Relapsed", 0.85), ("relapsed", 0.15)],
                              [("Refractory", 0.9), ("REFRACTORY", 0.1)]])
    lines = 1 + np.minimum(rng.poisson(1.2, size=m), 5)
    prior_hsct = np.where(rng.random(m) < 0.2, 0, 1)
    w.write("dx.csv", w.lead(s) + [
        ("FOLDER", _csv.const("SCREENING", m)),
        ("DXDAT", _dates(dx, style)),
        ("DXTYPE", _csv.cat(dxtype, ["De novo AML", "Secondary AML", "Therapy-related AML"])),
        ("DISSTAT", _csv.cat(stat, stat_c)),
        ("PRIORLIN", _csv.number(lines.astype(float), 0)),
        ("PRIORSCT", _csv.cat(prior_hsct, ["Y", "N"])),
        ("BMDAT", _dates(c.screen_day[s], DMY)),
        ("BMBLAST", _csv.number(c.blast0[s], 1)),
    ])


# ---------------------------------------------------------------------------------------------
# Adverse events
# ---------------------------------------------------------------------------------------------
# key: (verbatim variants, population, probability, onset lo, onset hi, duration lo, hi,
#       grade probabilities G1..G4, relatedness variants, serious-eligible)
_REL_CART = [("Related", 0.8), ("related", 0.1), ("Probably related", 0.1)]
_REL_POSS = [("Possibly related", 0.7), ("Probably related", 0.15), ("Related", 0.15)]
_REL_INF = [("Possibly related", 0.5), ("Not related", 0.3), ("Unlikely related", 0.2)]
_REL_LD = [("Not related", 0.6), ("Unlikely related", 0.3), ("Not Related", 0.1)]

AE_CATALOG: list[dict] = [
    dict(terms=[("fever", .5), ("Fever", .3), ("pyrexia", .2)], pop="inf", p=0.35,
         on=(0, 20), dur=(1, 5), g=[.6, .4, 0, 0], rel=_REL_POSS, ser=False),
    dict(terms=[("febrile neutropenia", .6), ("Febrile Neutropenia", .2),
                ("neutropenic fever", .2)], pop="ld", p=0.40, on=(1, 20), dur=(3, 10),
         g=[0, 0, .85, .15], rel=_REL_POSS, ser=True),
    dict(terms=[("neutropenia", .5), ("Neutrophil count decreased", .3),
                ("neutrophils low", .2)], pop="ld", p=0.55, on=(-3, 5), dur=(14, 60),
         g=[0, 0, .3, .7], rel=_REL_CART, ser=False),
    dict(terms=[("thrombocytopenia", .6), ("Platelet count decreased", .3),
                ("low platelets", .1)], pop="ld", p=0.50, on=(-3, 7), dur=(14, 90),
         g=[0, 0, .35, .65], rel=_REL_CART, ser=False),
    dict(terms=[("anemia", .6), ("Anaemia", .2), ("anaemia", .2)], pop="ld", p=0.45,
         on=(-5, 10), dur=(14, 90), g=[0, .3, .7, 0], rel=_REL_POSS, ser=False),
    dict(terms=[("leukopenia", .6), ("White blood cell count decreased", .4)], pop="ld",
         p=0.30, on=(-3, 3), dur=(10, 40), g=[0, 0, .4, .6], rel=_REL_CART, ser=False),
    dict(terms=[("lymphopenia", .6), ("Lymphocyte count decreased", .4)], pop="ld", p=0.35,
         on=(-4, 0), dur=(7, 30), g=[0, 0, .3, .7], rel=_REL_LD, ser=False),
    dict(terms=[("hypotension", .6), ("Hypotension", .3), ("low blood pressure", .1)],
         pop="crs", p=0.30, on=(0, 3), dur=(1, 5), g=[.3, .45, .2, .05], rel=_REL_CART,
         ser=True),
    dict(terms=[("hypoxia", .6), ("Hypoxia", .2), ("desaturation", .2)], pop="crs", p=0.16,
         on=(0, 4), dur=(1, 6), g=[0, .6, .35, .05], rel=_REL_CART, ser=True),
    dict(terms=[("sinus tachycardia", .6), ("tachycardia", .4)], pop="crs", p=0.20,
         on=(0, 3), dur=(1, 4), g=[.6, .4, 0, 0], rel=_REL_POSS, ser=False),
    dict(terms=[("pneumonia", .6), ("Pneumonia", .3), ("lung infection", .1)], pop="inf",
         p=0.15, on=(5, 200), dur=(7, 21), g=[0, .3, .62, .08], rel=_REL_INF, ser=True),
    dict(terms=[("sepsis", .7), ("Sepsis", .3)], pop="inf", p=0.06, on=(5, 150),
         dur=(5, 14), g=[0, 0, .4, .6], rel=_REL_INF, ser=True),
    dict(terms=[("nausea", .7), ("Nausea", .3)], pop="ld", p=0.25, on=(-5, 2), dur=(1, 5),
         g=[.7, .3, 0, 0], rel=_REL_LD, ser=False),
    dict(terms=[("vomiting", .7), ("Vomiting", .3)], pop="ld", p=0.12, on=(-5, 2),
         dur=(1, 3), g=[.7, .3, 0, 0], rel=_REL_LD, ser=False),
    dict(terms=[("diarrhea", .6), ("Diarrhoea", .4)], pop="inf", p=0.12, on=(-2, 30),
         dur=(1, 7), g=[.7, .25, .05, 0], rel=_REL_POSS, ser=False),
    dict(terms=[("headache", .7), ("Headache", .3)], pop="inf", p=0.15, on=(0, 14),
         dur=(1, 4), g=[.8, .2, 0, 0], rel=_REL_POSS, ser=False),
    dict(terms=[("fatigue", .6), ("Fatigue", .3), ("tiredness", .1)], pop="inf", p=0.20,
         on=(0, 60), dur=(5, 40), g=[.6, .35, .05, 0], rel=_REL_POSS, ser=False),
    dict(terms=[("ALT increased", .5), ("Alanine aminotransferase increased", .3),
                ("elevated ALT", .2)], pop="inf", p=0.18, on=(2, 14), dur=(5, 20),
         g=[.5, .3, .2, 0], rel=_REL_POSS, ser=False),
    dict(terms=[("AST increased", .6), ("Aspartate aminotransferase increased", .4)],
         pop="inf", p=0.15, on=(2, 14), dur=(5, 20), g=[.55, .3, .15, 0], rel=_REL_POSS,
         ser=False),
    dict(terms=[("hypokalemia", .5), ("Hypokalaemia", .3), ("low potassium", .2)],
         pop="inf", p=0.18, on=(0, 21), dur=(2, 10), g=[.5, .3, .2, 0], rel=_REL_POSS,
         ser=False),
    dict(terms=[("hypoalbuminemia", .6), ("Hypoalbuminaemia", .4)], pop="inf", p=0.15,
         on=(3, 21), dur=(7, 30), g=[.5, .4, .1, 0], rel=_REL_POSS, ser=False),
    dict(terms=[("rash", 1.0)], pop="inf", p=0.06, on=(3, 30), dur=(3, 14),
         g=[.7, .3, 0, 0], rel=_REL_POSS, ser=False),
    dict(terms=[("cough", 1.0)], pop="inf", p=0.08, on=(5, 120), dur=(3, 14),
         g=[.8, .2, 0, 0], rel=_REL_INF, ser=False),
    dict(terms=[("tumor lysis syndrome", 1.0)], pop="inf", p=0.03, on=(1, 5), dur=(2, 7),
         g=[0, 0, .8, .2], rel=_REL_POSS, ser=True),
    dict(terms=[("HLH", .5), ("haemophagocytic lymphohistiocytosis", .5)], pop="crs",
         p=0.04, on=(5, 14), dur=(5, 20), g=[0, .2, .5, .3], rel=_REL_CART, ser=True),
    dict(terms=[("confusion", 1.0)], pop="inf", p=0.04, on=(3, 14), dur=(1, 5),
         g=[.6, .4, 0, 0], rel=_REL_POSS, ser=False),
    dict(terms=[("acute GVHD", .4), ("graft versus host disease", .4), ("GVHD", .2)],
         pop="hsct", p=0.35, on=(14, 150), dur=(14, 90), g=[0, .55, .4, .05],
         rel=[("Not related", 1.0)], ser=True),
]
_CRS_TERMS = [("Cytokine release syndrome", .55), ("CRS", .3), ("cytokine release syndrome", .1),
              ("CRS ", .05)]
_ICANS_TERMS = [("neurotoxicity/ICANS", .4), ("ICANS", .4),
                ("Immune effector cell-associated neurotoxicity syndrome", .2)]
_FATAL_INF_TERMS = [("sepsis", .4), ("septic shock", .3), ("pneumonia", .3)]
_FATAL_GVHD_TERMS = [("acute GVHD", .5), ("graft versus host disease", .5)]
_UNCODED_TERM = "felt unwell"


def _form_ae(w: _Writer, rng: np.random.Generator) -> None:
    c = w.c
    n = c.n
    parts: dict[str, list[np.ndarray]] = {k: [] for k in
                                          ("s", "on", "end", "g", "term", "rel", "ser", "scale",
                                           "kind", "cat")}
    term_cats: list[str] = []
    rel_cats: list[str] = []

    def add(s, on_abs, dur, grade, terms, rels, ser_ok, scale, kind, catno):
        m = len(s)
        tcode, tc = _variants(rng, np.zeros(m, np.int64), [terms])
        rcode, rc = _variants(rng, np.zeros(m, np.int64), [rels])
        for cats, code, local in ((term_cats, tcode, tc), (rel_cats, rcode, rc)):
            remap = []
            for t in local:
                if t not in cats:
                    cats.append(t)
                remap.append(cats.index(t))
            code[:] = np.array(remap)[code]
        parts["s"].append(s)
        parts["on"].append(on_abs)
        parts["end"].append(on_abs + dur)
        parts["g"].append(grade)
        parts["term"].append(tcode)
        parts["rel"].append(rcode)
        parts["ser"].append(np.full(m, ser_ok))
        parts["scale"].append(np.full(m, scale))
        parts["kind"].append(np.full(m, kind))
        parts["cat"].append(np.full(m, catno))

    # CRS and ICANS (ASTCT 2019 grading) from the subject course
    s = np.flatnonzero(c.crs)
    add(s, c.d0[s] + c.crs_onset[s], c.crs_dur[s], c.crs_grade[s], _CRS_TERMS, _REL_CART,
        True, 1, "crs", 0)
    s = np.flatnonzero(c.icans)
    add(s, c.d0[s] + c.icans_onset[s], c.icans_dur[s], c.icans_grade[s], _ICANS_TERMS,
        _REL_CART, True, 1, "icans", 1)
    for i, spec in enumerate(AE_CATALOG):
        pop = {"inf": c.inf, "ld": c.enrolled, "crs": c.crs, "hsct": c.hsct_ok}[spec["pop"]]
        hit = pop & (rng.random(n) < spec["p"])
        s = np.flatnonzero(hit)
        lo, hi = spec["on"]
        base = np.where(spec["pop"] == "hsct", c.d0[s] + c.hsct_rel[s], c.d0[s])
        if spec["pop"] == "crs":
            base = c.d0[s] + c.crs_onset[s]
        on = base + rng.integers(lo, hi + 1, size=len(s))
        dlo, dhi = spec["dur"]
        dur = rng.integers(dlo, dhi + 1, size=len(s))
        grade = 1 + _choice(rng, len(s), spec["g"]) if len(s) else np.zeros(0, np.int64)
        add(s, on, dur, grade, spec["terms"], spec["rel"], spec["ser"], 0, "cat", 2 + i)
    # fatal AEs for deaths from infection and GVHD (CRS deaths: the CRS record is grade 5)
    s = np.flatnonzero(c.died & (c.death_cause == C_INF))
    on = np.maximum(c.death[s] - rng.integers(1, 11, size=len(s)), c.ld_start[s] + 1)
    add(s, on, c.death[s] - on, np.full(len(s), 5), _FATAL_INF_TERMS, _REL_INF, True, 0,
        "fatal", 90)
    s = np.flatnonzero(c.died & (c.death_cause == C_GVHD))
    on = np.maximum(c.death[s] - rng.integers(10, 40, size=len(s)), c.d0[s] + c.hsct_rel[s] + 7)
    add(s, on, c.death[s] - on, np.full(len(s), 5), _FATAL_GVHD_TERMS, [("Not related", 1.0)],
        True, 0, "fatal", 91)
    # one verbatim term the coders have not coded yet
    cand = np.flatnonzero(c.inf & ~c.died)
    s = _exact(rng, cand, 1)
    add(s, c.d0[s] + rng.integers(2, 21, size=len(s)), np.full(len(s), 2),
        np.ones(len(s), np.int64), [(_UNCODED_TERM, 1.0)], [("Possibly related", 1.0)], False,
        0, "cat", 99)

    s = np.concatenate(parts["s"]).astype(np.int64)
    on = np.concatenate(parts["on"]).astype(np.int64)
    end = np.concatenate(parts["end"]).astype(np.int64)
    grade = np.concatenate(parts["g"]).astype(np.int64)
    term = np.concatenate(parts["term"])
    rel = np.concatenate(parts["rel"])
    ser_ok = np.concatenate(parts["ser"])
    scale = np.concatenate(parts["scale"])
    kind = np.concatenate(parts["kind"])
    catno = np.concatenate(parts["cat"])

    # fatal records: the CRS of a CRS death, and the added infection / GVHD records
    fatal = (grade == 5)
    fatal_crs = (kind == "crs") & c.died[s] & (c.death_cause[s] == C_CRS)
    grade = np.where((kind == "crs") & (grade == 5) & ~fatal_crs, 4, grade)
    fatal = fatal_crs | (kind == "fatal")
    end = np.where(fatal, c.death[s], end)
    on = np.minimum(on, np.where(fatal, c.death[s], on))
    # collection window: lymphodepletion start .. end of study; nothing after death
    keep = (on >= c.ld_start[s]) & (on <= c.last_day[s])
    keep &= np.where(c.died[s] & ~fatal, on < c.death[s], True)
    s, on, end, grade, term, rel, ser_ok, scale, kind, catno, fatal = (
        x[keep] for x in (s, on, end, grade, term, rel, ser_ok, scale, kind, catno, fatal))
    ongoing = ~fatal & ((end > c.last_day[s]) | (c.died[s] & (end >= c.death[s])))
    order = np.lexsort((catno, on, s))
    s, on, end, grade, term, rel, ser_ok, scale, kind, catno, fatal, ongoing = (
        x[order] for x in (s, on, end, grade, term, rel, ser_ok, scale, kind, catno, fatal,
                           ongoing))
    m = len(s)
    u = rng.random((m, 8))

    # seriousness
    serious = fatal | (grade == 4) | (ser_ok & (grade == 3) & (u[:, 0] < 0.6)) | (
        ser_ok & (grade == 2) & (kind == "crs") & (u[:, 0] < 0.2))
    sdth = fatal
    slife = serious & (grade == 4)
    shosp = serious & ~fatal & ((grade == 3) | (u[:, 1] < 0.5))
    smie = serious & ~sdth & ~slife & ~shosp
    sequelae = ~fatal & ~ongoing & (
        ((kind == "icans") & (grade >= 3) & (u[:, 2] < 0.3)) | (u[:, 2] < 0.01))
    sdisab = serious & sequelae & (kind == "icans")
    # one deliberately inconsistent record: serious, but no criterion ticked
    inconsistent = np.zeros(m, bool)
    pool = np.flatnonzero(serious & ~fatal)
    if len(pool):
        inconsistent[_exact(rng, pool, 1)] = True
    flags = [sdth, slife, shosp, sdisab, np.zeros(m, bool), smie]
    flags = [np.where(inconsistent, False, f) for f in flags]
    aeser = np.where(serious, np.where(u[:, 3] < 0.9, 1, 2), 0)

    # action taken with CAR-T
    before_inf = on <= c.d0[s]
    acn = np.where(before_inf & c.ni[s], 1, np.where(before_inf, 2, 0))
    # outcome
    out = np.where(fatal, 2, np.where(ongoing, np.where(u[:, 4] < 0.8, 1, 3),
                                      np.where(sequelae, 4, 0)))
    # toxicity grade text variants
    gtxt = np.where(u[:, 5] < 0.75, 0, np.where(u[:, 5] < 0.92, 1, 2))
    gr_code = (grade - 1) * 3 + gtxt
    gr_cats = [t for g in range(1, 6) for t in (str(g), f"Grade {g}", f"grade {g} ")]
    # dates: mostly ISO, some partial
    sst = np.select([u[:, 6] < 0.05, u[:, 6] < 0.10, u[:, 6] < 0.15], [YM, UNMY, DMY],
                    default=ISO)
    sst = np.where(fatal, ISO, sst)
    est = np.select([u[:, 7] < 0.04, u[:, 7] < 0.08], [YM, UNMY], default=ISO)
    est = np.where(fatal, ISO, est)

    # coding
    coded = [code_term(t) for t in term_cats]
    cols = {name: [("" if cd is None else cd[name]) for cd in coded] for name in CODED_COLUMNS}
    yn = ["N", "Y"]
    w.write("ae.csv", w.lead(s) + [
        ("RECORDPOSITION", _csv.number(_position(s).astype(float), 0)),
        ("AETERM", _csv.cat(term, term_cats)),
    ] + [(name, _csv.cat(term, cols[name])) for name in CODED_COLUMNS] + [
        ("AESTDAT", _dates(on, sst)),
        ("AEENDAT", _dates(end, est, missing=ongoing)),
        ("AEONGO", _csv.cat(ongoing.astype(np.int64), yn)),
        ("AETOXGR", _csv.cat(gr_code, gr_cats)),
        ("AEGRSCL", _csv.cat(scale, ["CTCAE v5.0", "ASTCT 2019"])),
        ("AESER", _csv.cat(aeser, ["N", "Y", "Yes"])),
        ("AESDTH", _csv.cat(flags[0].astype(np.int64), yn)),
        ("AESLIFE", _csv.cat(flags[1].astype(np.int64), yn)),
        ("AESHOSP", _csv.cat(flags[2].astype(np.int64), yn)),
        ("AESDISAB", _csv.cat(flags[3].astype(np.int64), yn)),
        ("AESCONG", _csv.cat(flags[4].astype(np.int64), yn)),
        ("AESMIE", _csv.cat(flags[5].astype(np.int64), yn)),
        ("AEREL", _csv.cat(rel, rel_cats)),
        ("AEACN", _csv.cat(acn, ["Not applicable", "Drug withdrawn", "Dose not changed"])),
        ("AEOUT", _csv.cat(out, ["Recovered/Resolved", "Not recovered/Not resolved", "Fatal",
                                 "Recovering/Resolving", "Recovered with sequelae"])),
    ])


# ---------------------------------------------------------------------------------------------
# Response, transplant, new anticancer therapy
# ---------------------------------------------------------------------------------------------
def _rs_rows(c: Course, rng: np.random.Generator):
    """Included response assessments: (subject, RS index, state, NE flag)."""
    n = c.n
    k = np.arange(len(RS_FOLDERS))[None, :]
    day = c.d0[:, None] + c.rs_rel
    stop = np.minimum(c.last_day, np.where(c.died, c.death - 1, c.last_day))
    ok = c.inf[:, None] & (day <= stop[:, None]) & (k <= c.prog_idx[:, None])
    ok &= day < (c.d0 + np.minimum(c.hsct_rel, c.nact_rel))[:, None]
    u = rng.random((n, len(RS_FOLDERS), 2))
    missed = (u[:, :, 0] < 0.04) & (k != c.prog_idx[:, None]) & (k > 0)
    ok &= ~missed
    s, j = np.nonzero(ok)
    ne = (u[s, j, 1] < 0.03) & (j != c.prog_idx[s]) & (j > 0)
    return s, j, c.rs_state[s, j], ne


def _form_rs(w: _Writer, rng: np.random.Generator) -> None:
    c = w.c
    s, j, st, ne = w.rs_rows
    m = len(s)
    u = rng.random((m, 3))
    bl = c.blast0[s]
    blast = np.select(
        [st <= S_MLFS, st == S_PR, st == S_NR, st == S_PD],
        [0.2 + 4.6 * u[:, 0], np.clip(bl * (0.2 + 0.25 * u[:, 0]), 5.0, 25.0),
         np.minimum(bl * (0.6 + 0.65 * u[:, 0]), 95.0),
         np.minimum(bl + np.maximum(15.0, 0.6 * bl) + 10 * u[:, 0], 98.0)],
        default=5.5 + 34.5 * u[:, 0])
    blast = np.round(blast, 1)
    # investigator's wording
    code = np.select(
        [st == S_CR, st == S_CRI, st == S_MLFS, st == S_PR, st == S_NR, st == S_PD],
        [0, 1, 2, 3, np.where(c.nr_text_sd[s], 5, 4), 6], default=7)
    code = np.where(ne, 8, code)
    txt, txt_c = _variants(rng, code, [
        [("CR", 0.93), ("CR ", 0.07)],
        [("CRi", 0.7), ("CR with incomplete hematologic recovery", 0.3)],
        [("MLFS", 1.0)], [("PR", 1.0)], [("NR", 1.0)], [("SD", 1.0)], [("PD", 1.0)],
        [("Relapse", 0.6), ("relapsed disease", 0.4)], [("NE", 1.0)]])
    folder = np.array([_FOLDER_CODE[f] for f in RS_FOLDERS])[j]
    day = c.d0[s] + c.rs_rel[s, j]
    w.write("rs.csv", w.lead(s) + [
        ("FOLDER", _csv.cat(folder, FOLDERS)),
        ("RSDAT", _dates(day, DMY)),
        ("RSORRES", _csv.cat(txt, txt_c)),
        ("BMBLAST", _csv.number(blast, 1, missing=ne)),
        ("RSCRIT", _csv.const("ELN 2017", m)),
    ])


def _form_hsct(w: _Writer, rng: np.random.Generator) -> None:
    c = w.c
    s = np.flatnonzero(c.hsct_ok)
    m = len(s)
    typ, typ_c = _variants(rng, np.zeros(m, np.int64),
                           [[("Allogeneic", 0.85), ("allogeneic", 0.1), ("ALLOGENEIC", 0.05)]])
    w.write("hsct.csv", w.lead(s) + [
        ("RECORDPOSITION", _csv.const("1", m)),
        ("HSCTDAT", _dates(c.d0[s] + c.hsct_rel[s], DMY)),
        ("HSCTTYP", _csv.cat(typ, typ_c)),
        ("HSCTDON", _csv.cat(_choice(rng, m, [.35, .35, .3]),
                             ["Matched sibling", "Matched unrelated", "Haploidentical"])),
        ("HSCTCOND", _csv.cat(_choice(rng, m, [.55, .45]),
                              ["Myeloablative", "Reduced intensity"])),
    ])


NACT_TREATMENTS = [("Venetoclax + azacitidine", .30), ("venetoclax+aza", .08),
                   ("Gilteritinib", .08), ("FLAG-IDA", .15), ("Decitabine", .10),
                   ("CLAG-M", .08), ("Azacitidine", .08), ("Low-dose cytarabine", .08),
                   ("Homoharringtonine + cytarabine", .05)]


def _form_nact(w: _Writer, rng: np.random.Generator) -> None:
    c = w.c
    rel = np.concatenate([c.nact_rel, c.nact2_rel])
    s = np.concatenate([np.arange(c.n), np.arange(c.n)])
    line = np.concatenate([np.ones(c.n, np.int64), np.full(c.n, 2)])
    day = c.d0[s] + np.minimum(rel, 10**6)
    ok = (rel < _NEVER) & (day <= c.last_day[s]) & ~(c.died[s] & (day >= c.death[s]))
    # a second line only when the first was recorded
    first_ok = np.zeros(c.n, bool)
    first_ok[s[ok & (line == 1)]] = True
    ok &= (line == 1) | first_ok[s]
    s, line, day, rel = s[ok], line[ok], day[ok], rel[ok]
    order = np.lexsort((line, s))
    s, line, day = s[order], line[order], day[order]
    m = len(s)
    trt, trt_c = _variants(rng, np.zeros(m, np.int64), [NACT_TREATMENTS])
    style = np.where(rng.random(m) < 0.1, YM, ISO)
    after_hsct = c.hsct_ok[s]
    reason = np.where(line == 2, 1, np.where(c.nr_nact[s], 2, np.where(
        (c.best[s] <= R_MLFS) | after_hsct, 0, 1)))
    w.write("nact.csv", w.lead(s) + [
        ("RECORDPOSITION", _csv.number(line.astype(float), 0)),
        ("NACTTRT", _csv.cat(trt, trt_c)),
        ("NACTDAT", _dates(day, style)),
        ("NACTREAS", _csv.cat(reason, ["Relapse", "Progressive disease", "No response"])),
    ])


# ---------------------------------------------------------------------------------------------
# Local laboratory
# ---------------------------------------------------------------------------------------------
# test, specimen, SI unit spellings (system 1, system 2), conventional unit, factor SI per
# conventional unit, decimals (SI, conventional)
LAB_TESTS: list[dict] = [
    dict(test="Hemoglobin", spec="Blood", si=("g/L", "g/L"), conv="g/dL", f=10.0, dec=(0, 1)),
    dict(test="Neutrophils", spec="Blood", si=("x10^9/L", "10^9/L"), conv="/uL", f=0.001,
         dec=(2, 0)),
    dict(test="Platelets", spec="Blood", si=("x10^9/L", "10^9/L"), conv="/uL", f=0.001,
         dec=(0, 0)),
    dict(test="WBC", spec="Blood", si=("x10^9/L", "10^9/L"), conv="/uL", f=0.001, dec=(2, 0)),
    dict(test="Lymphocytes", spec="Blood", si=("x10^9/L", "10^9/L"), conv="/uL", f=0.001,
         dec=(2, 0)),
    dict(test="ALT", spec="Serum", si=("IU/L", "U/L"), conv="U/L", f=1.0, dec=(0, 0)),
    dict(test="AST", spec="Serum", si=("IU/L", "U/L"), conv="U/L", f=1.0, dec=(0, 0)),
    dict(test="Total bilirubin", spec="Serum", si=("\u00b5mol/L", "umol/L"), conv="mg/dL",
         f=17.1, dec=(1, 2)),
    dict(test="Creatinine", spec="Serum", si=("\u03bcmol/L", "umol/L"), conv="mg/dL", f=88.4,
         dec=(0, 2)),
    dict(test="Albumin", spec="Serum", si=("g/L", "g/L"), conv="g/dL", f=10.0, dec=(1, 1)),
    dict(test="LDH", spec="Serum", si=("IU/L", "U/L"), conv="U/L", f=1.0, dec=(0, 0)),
    dict(test="CRP", spec="Serum", si=("mg/L", "mg/L"), conv="mg/dL", f=10.0, dec=(1, 2)),
    dict(test="Ferritin", spec="Serum", si=("\u00b5g/L", "ng/mL"), conv="ng/mL", f=1.0,
         dec=(0, 0)),
    dict(test="IL-6", spec="Serum", si=("pg/mL", "ng/L"), conv="pg/mL", f=1.0, dec=(1, 1)),
    dict(test="Glucose", spec="Serum", si=("mmol/L", "mmol/L"), conv="mg/dL", f=0.0555,
         dec=(1, 0)),
    dict(test="Urea nitrogen", spec="Serum", si=("mmol/L", "mmol/L"), conv="mg/dL", f=0.357,
         dec=(1, 0)),
]
T_HGB, T_ANC, T_PLT, T_WBC, T_LYM, T_ALT, T_AST, T_BILI, T_CREA, T_ALB, T_LDH, T_CRP, T_FER, \
    T_IL6, T_GLU, T_BUN = range(16)
# SI reference ranges: group 0 adult male, 1 adult female, 2 child (< 18)
_REF_SI = {
    T_HGB: [(130, 175), (115, 150), (110, 145)],
    T_ANC: [(1.8, 6.3)] * 2 + [(1.5, 8.0)],
    T_PLT: [(125, 350)] * 3,
    T_WBC: [(3.5, 9.5)] * 2 + [(4.5, 13.5)],
    T_LYM: [(1.1, 3.2)] * 2 + [(1.5, 6.5)],
    T_ALT: [(9, 50), (7, 40), (5, 40)],
    T_AST: [(15, 40), (13, 35), (15, 50)],
    T_BILI: [(3.4, 20.5)] * 3,
    T_CREA: [(57, 111), (41, 81), (27, 62)],
    T_ALB: [(40, 55)] * 3,
    T_LDH: [(120, 250)] * 2 + [(120, 300)],
    T_CRP: [(0, 10)] * 3,
    T_FER: [(30, 400), (15, 150), (15, 150)],
    T_IL6: [(0, 7)] * 3,
    T_GLU: [(3.9, 6.1)] * 3,
    T_BUN: [(2.9, 8.2), (2.9, 8.2), (1.8, 6.4)],
}
LAB_GARBAGE = ["hemolyzed", "see comment", ".", "pending"]
_SI_920_FROM = _d("2020-10-01")
_SI_920_NEW = _d("2021-07-01")


def _lab_visits(c: Course, rng: np.random.Generator):
    """Lab visit table: subject, folder code, relative day, absolute day."""
    n = c.n
    lab_sched = list(range(len(_SCHEDULE)))
    rel = c.vrel[:, lab_sched]
    absd = c.d0[:, None] + rel
    missed = rng.random(rel.shape) < 0.04
    missed[:, :2] = False  # LD and DAY0 always done
    ok = c.enrolled[:, None] & (absd <= c.last_day[:, None]) & ~missed
    ok &= ~(c.died[:, None] & (absd >= c.death[:, None]))
    s, j = np.nonzero(ok)
    folder = np.array([_FOLDER_CODE[f] for f, _, _ in _SCHEDULE])[j]
    vrel = rel[s, j]
    # screening
    es = np.flatnonzero(c.enrolled)
    s = np.concatenate([es, s])
    folder = np.concatenate([np.zeros(len(es), np.int64), folder])
    vrel = np.concatenate([c.screen_day[es] - c.d0[es], vrel])
    kind = np.zeros(len(s), np.int64)  # 0 scheduled, 1 unscheduled CRS, 2 unscheduled other
    # unscheduled: CRS work-up and random follow-up visits
    u = rng.random((n, 2))
    cs = np.flatnonzero(c.crs & (c.crs_grade >= 2) & (u[:, 0] < 0.5))
    crel = c.crs_onset[cs] + 1
    fs = np.flatnonzero(c.inf & (u[:, 1] < 0.3))
    frel = rng.integers(30, 400, size=len(fs))
    us = np.concatenate([cs, fs])
    urel = np.concatenate([crel, frel])
    uabs = c.d0[us] + urel
    uok = (uabs <= c.last_day[us]) & ~(c.died[us] & (uabs >= c.death[us]))
    s = np.concatenate([s, us[uok]])
    folder = np.concatenate([folder, np.full(uok.sum(), _FOLDER_CODE["UNSCHEDULED"])])
    vrel = np.concatenate([vrel, urel[uok]])
    kind = np.concatenate([kind, np.where(np.arange(len(us)) < len(cs), 1, 2)[uok]])
    order = np.lexsort((folder, vrel, s))
    return s[order], folder[order], vrel[order], kind[order]


def _lab_state(c: Course, s: np.ndarray, rel: np.ndarray) -> np.ndarray:
    """Blood-count state of subject s on relative day rel."""
    st = np.full(len(s), L_DISEASE)
    st = np.where((rel >= 0) & (rel <= 21), L_APLASIA, st)
    later = (rel > 21) & c.inf[s]
    k = (c.rs_rel[s] <= rel[:, None]).sum(axis=1) - 1
    rs = c.rs_state[s, np.maximum(k, 0)]
    mapped = np.array([L_RECOVERED, L_PARTIAL, L_PARTIAL, L_RECOVERED, L_DISEASE, L_DISEASE,
                       L_DISEASE])[rs]
    mapped = np.where(k < 0, L_APLASIA, mapped)
    st = np.where(later, mapped, st)
    h = c.hsct_rel[s]
    st = np.where(c.hsct[s] & (rel >= h), np.where(rel <= h + 21, L_APLASIA, L_RECOVERED), st)
    st = np.where(rel >= c.hsct_relapse_rel[s], L_DISEASE, st)
    st = np.where(rel >= c.nact_rel[s], np.where(st == L_RECOVERED, L_PARTIAL, L_DISEASE), st)
    return st


def _form_lb(w: _Writer, rng: np.random.Generator) -> None:
    c = w.c
    vs, vfolder, vrel, vkind = _lab_visits(c, rng)
    nv = len(vs)
    # panel per visit
    panel = np.ones((nv, 16), bool)
    early = (vfolder <= _FOLDER_CODE["DAY28"])
    upto_m3 = (vfolder <= _FOLDER_CODE["MONTH3"])
    panel[:, T_IL6] = (early & (vfolder != _FOLDER_CODE["UNSCHEDULED"])) | (vkind == 1)
    panel[:, T_CRP] = upto_m3 | (vkind == 1) | (vfolder == _FOLDER_CODE["UNSCHEDULED"])
    panel[:, T_FER] = upto_m3 | (vkind == 1)
    crs_panel = np.zeros(16, bool)
    crs_panel[[T_HGB, T_ANC, T_PLT, T_WBC, T_LYM, T_ALT, T_AST, T_CREA, T_CRP, T_FER, T_IL6]] = 1
    panel[vkind == 1] &= crs_panel
    panel &= rng.random(panel.shape) >= 0.015
    vi, t = np.nonzero(panel)
    s = vs[vi]
    rel = vrel[vi]
    day = c.d0[s] + rel
    m = len(s)
    # ---------------------------------------------------------------- values (SI units)
    # One latent value per visit and test, so the counts of one visit agree with each other
    # (WBC = neutrophils + lymphocytes + other cells).
    vstate = _lab_state(c, vs, vrel)
    Z = rng.standard_normal((nv, 16))
    on = c.crs_onset[vs]
    g = np.minimum(c.crs_grade[vs], 4)
    crs_f = np.where(c.crs[vs] & (vrel >= on) & (vrel <= on + c.crs_dur[vs] + 14),
                     np.exp(-np.maximum(vrel - (on + 1), 0) / 4.0), 0.0)
    severe = crs_f * (g >= 3)

    def pick(a, b, cc, d):
        return np.choose(vstate, [a, b, cc, d])

    def lnorm(t_, median, sd):
        return median * np.exp(sd * Z[:, t_])

    V = np.empty((nv, 16))
    anc = lnorm(T_ANC, pick(0.6, 0.12, 0.7, 2.6), pick(0.9, 0.8, 0.45, 0.35))
    V[:, T_ANC] = np.where(vstate == L_RECOVERED, np.maximum(anc, 1.05), anc)
    plt_ = lnorm(T_PLT, pick(35, 14, 48, 165), pick(0.6, 0.5, 0.35, 0.3))
    plt_ = np.where(vstate == L_RECOVERED, np.maximum(plt_, 101), plt_)
    V[:, T_PLT] = np.where(vstate == L_PARTIAL, np.minimum(plt_, 95), plt_)
    V[:, T_HGB] = lnorm(T_HGB, pick(82, 76, 90, 118), 0.1)
    expansion = np.where((vrel >= 5) & (vrel <= 18) & c.inf[vs], 6.0, 1.0)
    V[:, T_LYM] = lnorm(T_LYM, pick(0.9, 0.08, 0.8, 1.5) * expansion, 0.5)
    other = lnorm(T_WBC, pick(1.4, 0.08, 0.4, 0.6), pick(1.0, 0.6, 0.4, 0.3))  # blasts, monos
    V[:, T_WBC] = V[:, T_ANC] + V[:, T_LYM] + other
    V[:, T_ALT] = lnorm(T_ALT, 25.0, 0.4) * (1 + 3.5 * severe)
    V[:, T_AST] = lnorm(T_AST, 27.0, 0.4) * (1 + 3.5 * severe)
    V[:, T_BILI] = lnorm(T_BILI, 9.0, 0.4) * (1 + 1.0 * severe)
    age = c.age[vs]
    crea0 = np.where(age < 18, 22 + 2.2 * age, np.where(c.female[vs], 62, 78))
    V[:, T_CREA] = lnorm(T_CREA, crea0, 0.15) * (1 + 1.2 * severe)
    V[:, T_ALB] = lnorm(T_ALB, pick(35, 33, 37, 41), 0.07) * (1 - 0.2 * crs_f)
    V[:, T_LDH] = lnorm(T_LDH, pick(380, 300, 230, 185), 0.35) * (1 + 0.6 * crs_f)
    V[:, T_CRP] = lnorm(T_CRP, 8.0, 0.8) + crs_f * (40 + 45 * g) * np.exp(0.3 * Z[:, T_CRP])
    V[:, T_FER] = lnorm(T_FER, 1100, 0.6) * (1 + crs_f * (1.5 + 3.0 * g))
    V[:, T_IL6] = lnorm(T_IL6, 6.0, 0.7) + crs_f * 30 * 4.0 ** g * np.exp(0.5 * Z[:, T_IL6])
    V[:, T_GLU] = lnorm(T_GLU, 5.4, 0.15)
    V[:, T_BUN] = lnorm(T_BUN, 5.0, 0.3) * (1 + 0.8 * severe)
    val = V[vi, t]
    u = rng.random(m)
    grp = np.where(c.age[s] < 18, 2, np.where(c.female[s], 1, 0))
    # ---------------------------------------------------------------- unit system per row
    site = c.site[s]
    country = np.array(c.site_countries)[site]
    system = np.where(country == "United States", 0, np.where(site % 2 == 1, 1, 2))
    s920 = site == 0
    system = np.where(s920, np.where(day < _SI_920_FROM, 0, np.where(day < _SI_920_NEW, 1, 2)),
                      system)
    system = np.where(vfolder[vi] == _FOLDER_CODE["UNSCHEDULED"], 0, system)
    factor = np.array([d["f"] for d in LAB_TESTS])[t]
    conv = system == 0
    shown = np.where(conv, val / factor, val)
    dec_tab = np.array([[d["dec"][0], d["dec"][0], d["dec"][1]] for d in LAB_TESTS])
    dec = dec_tab[t, np.where(conv, 2, system - 1)]
    # conventional counts (/uL) are reported to the nearest 10 (platelets: 1000)
    per_ul = conv & np.isin(t, [T_ANC, T_WBC, T_LYM])
    shown = np.where(per_ul, np.round(shown / 10) * 10, shown)
    shown = np.where(conv & (t == T_PLT), np.round(shown / 1000) * 1000, shown)
    res = _csv.number(shown, dec)
    # censored and garbage results
    lt01 = ~conv & np.isin(t, [T_ANC, T_LYM]) & (val < 0.1) & (u < 0.5)
    lt_il6 = (t == T_IL6) & (val < 1.5)
    res = _csv.override(res, lt01, _csv.const("<0.1", m))
    res = _csv.override(res, lt_il6, _csv.const("<1.5", m))
    garbage = np.zeros(m, np.int64)
    gidx = _exact(rng, np.arange(m), len(LAB_GARBAGE))
    garbage[gidx] = np.arange(1, len(gidx) + 1)
    res = _csv.override(res, garbage > 0, _csv.cat(garbage, [""] + LAB_GARBAGE))
    # units
    unit_cats: list[str] = []
    unit_tab = np.zeros((16, 3), np.int64)
    for i, d in enumerate(LAB_TESTS):
        for sy, txt in enumerate((d["conv"], d["si"][0], d["si"][1])):
            if txt not in unit_cats:
                unit_cats.append(txt)
            unit_tab[i, sy] = unit_cats.index(txt)
    unit = unit_tab[t, system]
    # reference ranges (categorical: test x system x group)
    lo_cats: list[str] = []
    hi_cats: list[str] = []
    ref_lo = np.zeros((16, 3, 3), np.int64)
    ref_hi = np.zeros((16, 3, 3), np.int64)
    for i, d in enumerate(LAB_TESTS):
        for sy in range(3):
            for gr in range(3):
                lo, hi = _REF_SI[i][gr]
                dd = d["dec"][1] if sy == 0 else d["dec"][0]
                f = d["f"] if sy == 0 else 1.0
                if sy == 0 and i in (T_ANC, T_WBC, T_LYM, T_PLT):
                    dd = 0
                for val_, cats, tab in ((lo / f, lo_cats, ref_lo), (hi / f, hi_cats, ref_hi)):
                    txt = _fixed(val_, dd)
                    if txt not in cats:
                        cats.append(txt)
                    tab[i, sy, gr] = cats.index(txt)
    # dates and times, one style per visit
    vstyle = np.array([DMY, ISO, DATE9])[_choice(rng, nv, [0.70, 0.25, 0.05])]
    vtime = 7 * 60 + 5 * rng.integers(0, 60, size=nv)
    vtime = np.where(rng.random(nv) < 0.25, -1, vtime)
    pos = _occurrence(s * 64 + vfolder[vi])
    spec = np.array([0 if d["spec"] == "Blood" else 1 for d in LAB_TESTS])[t]
    w.write("lb.csv", w.lead(s) + [
        ("FOLDER", _csv.cat(vfolder[vi], FOLDERS)),
        ("RECORDPOSITION", _csv.number(pos.astype(float), 0)),
        ("LBDAT", _dates(day, vstyle[vi])),
        ("LBTIM", _times(vtime[vi])),
        ("LBTEST", _csv.cat(t, [d["test"] for d in LAB_TESTS])),
        ("LBORRES", res),
        ("LBORRESU", _csv.cat(unit, unit_cats)),
        ("LBORNRLO", _csv.cat(ref_lo[t, system, grp], lo_cats)),
        ("LBORNRHI", _csv.cat(ref_hi[t, system, grp], hi_cats)),
        ("LBSPEC", _csv.cat(spec, ["Blood", "Serum"])),
    ])


def _fixed(x: float, d: int) -> str:
    q = math.floor(abs(x) * 10**d + 0.5 + 1e-9)
    txt = str(q).rjust(d + 1, "0")
    return (txt[:-d] + "." + txt[-d:]) if d else txt


# ---------------------------------------------------------------------------------------------
# Cellular kinetics and CD123
# ---------------------------------------------------------------------------------------------
KIN_ANALYTES = ["CAR transgene", "CAR+ T cells (% of CD3+)", "CD123+ blasts (% of blasts)"]


def _form_kinetics(w: _Writer, rng: np.random.Generator) -> None:
    c = w.c
    n = c.n
    resp = c.best <= R_MLFS
    cmax = 4.5 + 0.5 * rng.standard_normal(n) + 0.3 * np.log10(c.dose) + np.where(resp, 0.4,
                                                                                  -0.3)
    tpk = rng.uniform(7, 14, size=n)
    kd1 = rng.uniform(0.04, 0.08, size=n)
    kd2 = rng.uniform(0.003, 0.008, size=n)
    end_pb = np.minimum(c.last_day, c.d0 + c.hsct_rel - 1)
    end_pb = np.where(c.died, np.minimum(end_pb, c.death - 1), end_pb)

    # peripheral blood samples
    pbj = np.array([_SCHED_INDEX[f] for f in PB_FOLDERS])
    rel = c.vrel[:, pbj]
    absd = c.d0[:, None] + rel
    ok = c.inf[:, None] & (absd <= end_pb[:, None]) & (rng.random(rel.shape) >= 0.05)
    ps, pj = np.nonzero(ok)
    p_rel = rel[ps, pj]
    p_folder = np.array([_FOLDER_CODE[f] for f in PB_FOLDERS])[pj]
    # bone marrow samples: screening (CD123 only) and with each evaluable response marrow
    rs_s, rs_j, rs_st, rs_ne = w.rs_rows  # the same marrows as rs.csv
    keep = ~rs_ne
    bs, bj, bst = rs_s[keep], rs_j[keep], rs_st[keep]
    b_rel = c.rs_rel[bs, bj]
    b_folder = np.array([_FOLDER_CODE[f] for f in RS_FOLDERS])[bj]
    es = np.flatnonzero(c.enrolled)

    # rows: sample kind 0 = PB (2 analytes), 1 = BM post (3 analytes), 2 = BM screening (1)
    s = np.concatenate([np.repeat(ps, 2), np.repeat(bs, 3), es])
    rel_all = np.concatenate([np.repeat(p_rel, 2), np.repeat(b_rel, 3),
                              c.screen_day[es] - c.d0[es]])
    folder = np.concatenate([np.repeat(p_folder, 2), np.repeat(b_folder, 3),
                             np.zeros(len(es), np.int64)])
    spec = np.concatenate([np.zeros(2 * len(ps), np.int64), np.ones(3 * len(bs) + len(es),
                                                                      np.int64)])
    analyte = np.concatenate([np.tile([0, 1], len(ps)), np.tile([0, 1, 2], len(bs)),
                              np.full(len(es), 2)])
    st = np.concatenate([np.full(2 * len(ps), -1), np.repeat(bst, 3), np.full(len(es), -2)])
    order = np.lexsort((analyte, spec, rel_all, s))
    s, rel_all, folder, spec, analyte, st = (x[order] for x in
                                             (s, rel_all, folder, spec, analyte, st))
    m = len(s)
    z = rng.standard_normal(m)
    u = rng.random(m)
    t = rel_all.astype(float)
    pk = tpk[s]
    cm = cmax[s]
    rise = cm - (pk - t) * (cm - 1.0) / pk
    fall = cm - kd1[s] * np.minimum(t - pk, 28) - kd2[s] * np.maximum(t - pk - 28, 0)
    logc = np.where(t <= 0, -1.0, np.where(t < pk, rise, fall)) + 0.15 * z
    logc = np.where(spec == 1, logc - 0.2, logc)
    copies = 10.0 ** logc
    pct = np.minimum(10.0 ** (logc - 3.3), 85.0)
    bl = c.cd123_0[s]
    escape = (u < 0.5) & (st == S_REL)
    cd123 = np.select([st == -2, np.isin(st, [S_CR, S_CRI, S_MLFS]), escape],
                      [bl, bl * (0.3 + 0.7 * u), 2 + 23 * u],
                      default=np.minimum(bl * (0.8 + 0.25 * u), 99.9))
    value = np.select([analyte == 0, analyte == 1], [copies, pct], default=cd123)
    dec = np.select([analyte == 0, analyte == 1], [0, 2], default=1)
    res = _csv.number(value, dec)
    blq = (analyte == 0) & (copies < 50)
    lt = (analyte == 1) & (pct < 0.01)
    res = _csv.override(res, blq, _csv.const("BLQ", m))
    res = _csv.override(res, lt, _csv.const("<0.01", m))
    qns = np.zeros(m, bool)
    qns[_exact(rng, np.flatnonzero(folder != 0), 2)] = True
    res = _csv.override(res, qns, _csv.const("QNS", m))
    day = c.d0[s] + rel_all
    # sample time: DAY0 blood is drawn before the infusion (07:00-08:55)
    minutes = np.where(folder == _FOLDER_CODE["DAY0"], 7 * 60 + 5 * rng.integers(0, 24, size=m),
                       8 * 60 + 5 * rng.integers(0, 72, size=m))
    # one time per sample (specimen + day)
    sample_key = (s * 4096 + folder) * 2 + spec
    first = np.ones(m, bool)
    first[1:] = sample_key[1:] != sample_key[:-1]
    idx = np.maximum.accumulate(np.where(first, np.arange(m), 0))
    minutes = minutes[idx]
    minutes = np.where((u[idx] < 0.1) & (folder != _FOLDER_CODE["DAY0"]), -1, minutes)
    assay = np.where(analyte == 0, 0, 1)
    unit = np.where(analyte == 0, 0, 1)
    lloq = np.select([analyte == 0, analyte == 1], [1, 2], default=0)
    pos = _occurrence(s * 64 + folder)
    w.write("kinetics.csv", w.lead(s) + [
        ("FOLDER", _csv.cat(folder, FOLDERS)),
        ("RECORDPOSITION", _csv.number(pos.astype(float), 0)),
        ("SMPDAT", _dates(day, ISO)),
        ("SMPTIM", _times(minutes)),
        ("SPEC", _csv.cat(spec, ["Peripheral blood", "Bone marrow"])),
        ("ASSAY", _csv.cat(assay, ["qPCR", "Flow cytometry"])),
        ("ANALYTE", _csv.cat(analyte, KIN_ANALYTES)),
        ("RESULT", res),
        ("UNIT", _csv.cat(unit, ["copies/ug gDNA", "%"])),
        ("LLOQ", _csv.cat(lloq, ["", "50", "0.01"])),
    ])


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------
_STREAMS = ["course", "dm", "ic", "elig", "ld", "cart", "death", "eos", "dx", "ae", "rs",
            "hsct", "nact", "lb", "kinetics"]


def generate_demo(out_dir: Path, n_subjects: int = DEFAULT_SUBJECTS,
                  seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Write the raw EDC exports of the demo study into out_dir; returns rows per file."""
    if n_subjects < 1:
        raise ValueError("n_subjects must be at least 1")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    streams = dict(zip(_STREAMS, (np.random.default_rng(s) for s in
                                  np.random.SeedSequence(seed).spawn(len(_STREAMS)))))
    course = Course(int(n_subjects), streams["course"])
    w = _Writer(course, out)
    w.rs_rows = _rs_rows(course, np.random.default_rng(np.random.SeedSequence(seed).spawn(
        len(_STREAMS) + 1)[-1]))
    _form_dm(w, streams["dm"])
    _form_ic(w, streams["ic"])
    _form_elig(w, streams["elig"])
    _form_dx(w, streams["dx"])
    _form_ld(w, streams["ld"])
    _form_cart(w, streams["cart"])
    _form_ae(w, streams["ae"])
    _form_rs(w, streams["rs"])
    _form_hsct(w, streams["hsct"])
    _form_nact(w, streams["nact"])
    _form_lb(w, streams["lb"])
    _form_kinetics(w, streams["kinetics"])
    _form_death(w, streams["death"])
    _form_eos(w, streams["eos"])
    return dict(sorted(w.counts.items()))
