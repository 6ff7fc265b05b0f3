"""Tests of the synthetic raw EDC demo generator (cdisc.demo)."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from cdisc.demo import DEFAULT_SEED, generate_demo
from cdisc.demo import dictionaries
from cdisc.demo.__main__ import main as cli_main
from cdisc.demo.generator import FOLDERS
from cdisc.paths import DEMO_RAW_DIR

CSV_FORMS = ["ae", "cart", "death", "dm", "dx", "elig", "eos", "hsct", "ic", "kinetics", "lb",
             "nact", "rs"]
ALL_FILES = sorted([f"{f}.csv" for f in CSV_FORMS] + ["ld.xpt"])

CONTRACT = {
    "dm.csv": ["STUDY", "SITENUMBER", "SUBJECT", "BRTHDAT", "AGE", "AGEU", "SEX", "RACE",
               "ETHNIC", "COUNTRY"],
    "ic.csv": ["STUDY", "SITENUMBER", "SUBJECT", "ICDAT", "ICVER", "ASSENT"],
    "elig.csv": ["STUDY", "SITENUMBER", "SUBJECT", "ELIGDAT", "IEYN", "IEFAIL", "COHORT"],
    "ld.xpt": ["STUDY", "SITENUMB", "SUBJECT", "FOLDER", "RECPOS", "LDDRUG", "LDDAT", "LDDOSE",
               "LDDOSU", "LDROUTE"],
    "cart.csv": ["STUDY", "SITENUMBER", "SUBJECT", "RECORDPOSITION", "INFDAT", "INFTIM",
                 "INFDOSE", "INFDOSU", "INFYN"],
    "death.csv": ["STUDY", "SITENUMBER", "SUBJECT", "DTHDAT", "DTHCAUS", "AUTOPSY"],
    "eos.csv": ["STUDY", "SITENUMBER", "SUBJECT", "EOSDAT", "EOSSTAT", "EOSREAS"],
}
# leading columns of the other forms (documented in FORMS.md)
OTHER_LEAD = {
    "ae.csv": ["STUDY", "SITENUMBER", "SUBJECT", "RECORDPOSITION", "AETERM"],
    "rs.csv": ["STUDY", "SITENUMBER", "SUBJECT", "FOLDER", "RSDAT", "RSORRES", "BMBLAST",
               "RSCRIT"],
    "hsct.csv": ["STUDY", "SITENUMBER", "SUBJECT", "RECORDPOSITION", "HSCTDAT", "HSCTTYP"],
    "nact.csv": ["STUDY", "SITENUMBER", "SUBJECT", "RECORDPOSITION", "NACTTRT", "NACTDAT"],
    "lb.csv": ["STUDY", "SITENUMBER", "SUBJECT", "FOLDER", "RECORDPOSITION", "LBDAT", "LBTIM",
               "LBTEST", "LBORRES", "LBORRESU", "LBORNRLO", "LBORNRHI", "LBSPEC"],
    "kinetics.csv": ["STUDY", "SITENUMBER", "SUBJECT", "FOLDER", "RECORDPOSITION", "SMPDAT",
                     "SMPTIM", "SPEC", "ASSAY", "ANALYTE", "RESULT", "UNIT", "LLOQ"],
    "dx.csv": ["STUDY", "SITENUMBER", "SUBJECT", "FOLDER"],
}
CUTOFF = dt.date(2024, 1, 31)
FIRST = dt.date(2020, 3, 1)

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
_MON = {m: i + 1 for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"])}


def _month_end(y: int, m: int) -> dt.date:
    return (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1))


def date_range(text: str) -> tuple[dt.date, dt.date] | None:
    """Earliest and latest date a raw (possibly partial) date can mean; None if empty/invalid."""
    t = text.strip()
    try:
        if m := re.fullmatch(r"(\d{2})-([A-Z]{3})-(\d{4})", t):
            d = dt.date(int(m[3]), _MON[m[2]], int(m[1]))
            return d, d
        if m := re.fullmatch(r"(\d{2})([A-Z]{3})(\d{4})", t):
            d = dt.date(int(m[3]), _MON[m[2]], int(m[1]))
            return d, d
        if m := re.fullmatch(r"UN-([A-Z]{3})-(\d{4})", t):
            y, mo = int(m[2]), _MON[m[1]]
            return dt.date(y, mo, 1), _month_end(y, mo)
        if m := re.fullmatch(r"(\d{4})[-/](\d{2})[-/](\d{2})", t):
            d = dt.date(int(m[1]), int(m[2]), int(m[3]))
            return d, d
        if m := re.fullmatch(r"(\d{4})-(\d{2})", t):
            y, mo = int(m[1]), int(m[2])
            return dt.date(y, mo, 1), _month_end(y, mo)
        if m := re.fullmatch(r"(\d{4})", t):
            return dt.date(int(m[1]), 1, 1), dt.date(int(m[1]), 12, 31)
    except (ValueError, KeyError):
        return None
    return None


def read(d: Path, name: str) -> pd.DataFrame:
    if name.endswith(".xpt"):
        df, _ = pyreadstat.read_xport(str(d / name))
        return df
    return pd.read_csv(d / name, dtype=str, keep_default_na=False, na_filter=False)


def files_bytes(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.is_file()}


# ---------------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo45(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    d = tmp_path_factory.mktemp("demo45")
    return d, generate_demo(d)


@pytest.fixture(scope="module")
def demo500(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    d = tmp_path_factory.mktemp("demo500")
    return d, generate_demo(d, 500, 4242)


@pytest.fixture(scope="module")
def big(demo500) -> dict[str, pd.DataFrame]:
    d, _ = demo500
    return {name: read(d, name) for name in ALL_FILES}


# ---------------------------------------------------------------------------------------------
# determinism and the shipped copy
# ---------------------------------------------------------------------------------------------
def test_same_seed_same_bytes(tmp_path, demo45):
    d45, counts = demo45
    again = generate_demo(tmp_path / "again")
    assert again == counts
    assert files_bytes(tmp_path / "again") == files_bytes(d45)


def test_same_seed_same_bytes_other_size(tmp_path):
    generate_demo(tmp_path / "a", 130, 7)
    generate_demo(tmp_path / "b", 130, 7)
    assert files_bytes(tmp_path / "a") == files_bytes(tmp_path / "b")


def test_different_seed_differs(tmp_path, demo45):
    d45, _ = demo45
    generate_demo(tmp_path / "other", 45, DEFAULT_SEED + 1)
    a, b = files_bytes(d45), files_bytes(tmp_path / "other")
    assert a.keys() == b.keys()
    for name in ["dm.csv", "lb.csv", "ae.csv", "rs.csv", "ld.xpt"]:
        assert a[name] != b[name], name


def test_shipped_copy_matches_generator(demo45):
    d45, counts = demo45
    assert DEMO_RAW_DIR.is_dir(), "regenerate with: python -m cdisc.demo cdisc/data/demo_raw"
    shipped = files_bytes(DEMO_RAW_DIR)
    fresh = files_bytes(d45)
    assert sorted(shipped) == sorted(fresh) == ALL_FILES
    for name in fresh:
        assert shipped[name] == fresh[name], (
            f"{name} drifted from the generator; regenerate cdisc/data/demo_raw")
    assert sum(len(b) for b in shipped.values()) < 2_000_000


def test_return_value_counts_rows(demo45):
    d, counts = demo45
    assert sorted(counts) == ALL_FILES
    for name, rows in counts.items():
        assert len(read(d, name)) == rows, name
    assert counts["dm.csv"] == counts["ic.csv"] == counts["elig.csv"] == counts["eos.csv"] == 45


# ---------------------------------------------------------------------------------------------
# file format and contract
# ---------------------------------------------------------------------------------------------
def test_csv_format(demo45):
    d, _ = demo45
    for form in CSV_FORMS:
        raw = (d / f"{form}.csv").read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")
        assert b"\r" not in raw
        assert raw.endswith(b"\n")
        raw.decode("utf-8")
        with open(d / f"{form}.csv", newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        assert all(len(r) == len(rows[0]) for r in rows), form


def test_contract_columns(demo45):
    d, _ = demo45
    for name, cols in CONTRACT.items():
        assert list(read(d, name).columns) == cols, name
    for name, lead in OTHER_LEAD.items():
        assert list(read(d, name).columns)[: len(lead)] == lead, name


def test_leading_identifiers(demo45):
    d, _ = demo45
    for name in ALL_FILES:
        df = read(d, name)
        site = "SITENUMB" if name.endswith(".xpt") else "SITENUMBER"
        assert (df["STUDY"] == "NCT04265963").all(), name
        assert (df[site] == "920").all(), name
        assert df["SUBJECT"].str.fullmatch(r"920-\d{3}").all(), name
        assert (df["SUBJECT"].str[:3] == df[site]).all()
    dm = read(d, "dm.csv")
    assert dm["SUBJECT"].is_unique and len(dm) == 45
    assert set(dm["COUNTRY"]) == {"China"}


def test_contract_values(demo45, big):
    d, _ = demo45
    for df in (read(d, "dm.csv"), big["dm.csv"]):
        assert set(df["AGEU"]) <= {"Years", "years", "YEARS "}
        assert set(df["SEX"]) <= {"Male", "Female", "M", "F", "male "}
        assert set(df["RACE"]) <= {"Asian", "ASIAN", "White", "Other"}
        assert set(df["ETHNIC"]) <= {"Not Hispanic or Latino", "NOT HISPANIC OR LATINO", ""}
        assert all(date_range(x) for x in df["BRTHDAT"])
        assert df["AGE"].str.fullmatch(r"\d+").all()
    ic = big["ic.csv"]
    assert set(ic["ICVER"]) == {"V2.0"}
    assert ic["ICDAT"].str.fullmatch(r"\d{2}-[A-Z]{3}-\d{4}").all()
    dm = big["dm.csv"].set_index("SUBJECT")
    age = dm["AGE"].astype(int)
    assent = ic.set_index("SUBJECT")["ASSENT"]
    assert (assent[age[age < 18].index] == "Y").all()
    assert set(assent[age[age >= 18].index]) <= {"", "N"}
    elig = big["elig.csv"]
    assert set(elig["IEYN"]) == {"Yes", "No"}
    assert ((elig["IEYN"] == "No") == (elig["IEFAIL"] != "")).all()
    cart = big["cart.csv"]
    assert set(cart["INFYN"]) == {"Yes", "No"}
    assert set(cart["INFDOSU"]) == {"x10^6 cells/kg", "10^6/kg", ""}
    assert (cart.loc[cart["INFYN"] == "No", "INFDOSE"] == "").all()
    assert cart["INFTIM"].str.fullmatch(r"(\d{2}:\d{2})?").all()
    death = big["death.csv"]
    assert set(death["DTHCAUS"]) <= {"Disease progression", "Infection", "CRS", "GVHD",
                                     "Unknown"}
    assert set(death["AUTOPSY"]) <= {"N", ""}
    assert death["DTHDAT"].str.fullmatch(r"(\d{2}|UN)-[A-Z]{3}-\d{4}").all()
    eos = big["eos.csv"]
    assert eos["EOSDAT"].str.fullmatch(r"\d{2}[A-Z]{3}\d{4}").all()
    assert set(eos["EOSSTAT"]) == {"Completed", "Discontinued"}
    reasons = {r.strip().lower() for r in eos["EOSREAS"]}
    assert reasons <= {"", "death", "screen failure", "withdrawal by subject",
                       "lost to follow-up", "lost to follow up", "progressive disease",
                       "physician decision"}
    assert ((eos["EOSSTAT"] == "Completed") == (eos["EOSREAS"] == "")).all()


def test_ld_xpt(demo45):
    d, _ = demo45
    df, meta = pyreadstat.read_xport(str(d / "ld.xpt"))
    assert meta.table_name == "LD"
    assert list(df.columns) == CONTRACT["ld.xpt"]
    assert meta.original_variable_types["LDDAT"].startswith("DATE")
    assert all(isinstance(x, dt.date) for x in df["LDDAT"])
    assert set(df["FOLDER"]) == {"LD"}
    assert set(df["LDDRUG"].str.strip().str.lower()) == {"fludarabine", "cyclophosphamide"}
    assert set(df["LDDOSU"]) <= {"mg/m2", "MG/M2"}
    assert set(df["LDROUTE"]) <= {"IV", "Intravenous"}
    assert df["LDDOSE"].isna().sum() >= 1
    flu = df[df["LDDRUG"].str.lower().str.startswith("flu")]["LDDOSE"].dropna()
    cy = df[df["LDDRUG"].str.lower().str.startswith("cyc")]["LDDOSE"].dropna()
    assert set(flu) <= {25.0, 30.0}
    assert cy.between(250, 500).all()
    # both drugs on each of three consecutive days, RECPOS 1..6
    for subj, g in df.groupby("SUBJECT"):
        assert sorted(g["RECPOS"]) == [1, 2, 3, 4, 5, 6]
        days = sorted(set(g["LDDAT"]))
        assert len(days) == 3 and (days[2] - days[0]).days == 2
        assert (g.groupby("LDDAT").size() == 2).all()
    # the header timestamps are pinned, so the file is reproducible
    assert b"31JAN24:00:00:00" in (d / "ld.xpt").read_bytes()[:800]


# ---------------------------------------------------------------------------------------------
# cross-form coherence (500 subjects)
# ---------------------------------------------------------------------------------------------
def _first(df: pd.DataFrame, col: str, lo: bool = True) -> dict[str, dt.date]:
    out: dict[str, dt.date] = {}
    for subj, text in zip(df["SUBJECT"], df[col]):
        r = date_range(text)
        if r is None:
            continue
        v = r[0] if lo else r[1]
        if subj not in out or v < out[subj]:
            out[subj] = v
    return out


def test_screen_failures_have_no_treatment(big):
    elig = big["elig.csv"]
    sf = set(elig.loc[elig["IEYN"] == "No", "SUBJECT"])
    assert sf
    for name in ALL_FILES:
        if name in ("dm.csv", "ic.csv", "elig.csv", "eos.csv"):
            continue
        assert not (set(big[name]["SUBJECT"]) & sf), name
    eos = big["eos.csv"].set_index("SUBJECT")
    assert (eos.loc[sorted(sf), "EOSREAS"].str.lower().str.strip() == "screen failure").all()
    assert big["eos.csv"]["SUBJECT"].is_unique and len(eos) == 500


def test_date_order(big):
    consent = {s: date_range(x)[0] for s, x in zip(big["ic.csv"]["SUBJECT"],
                                                    big["ic.csv"]["ICDAT"])}
    elig = {s: date_range(x)[0] for s, x in zip(big["elig.csv"]["SUBJECT"],
                                                 big["elig.csv"]["ELIGDAT"])}
    ld = big["ld.xpt"].groupby("SUBJECT")["LDDAT"].min().to_dict()
    ld_last = big["ld.xpt"].groupby("SUBJECT")["LDDAT"].max().to_dict()
    cart = big["cart.csv"]
    inf = _first(cart[cart["INFYN"] == "Yes"], "INFDAT")
    death = {s: date_range(x) for s, x in zip(big["death.csv"]["SUBJECT"],
                                               big["death.csv"]["DTHDAT"])}
    eos = {s: date_range(x)[0] for s, x in zip(big["eos.csv"]["SUBJECT"],
                                                big["eos.csv"]["EOSDAT"])}
    for s in consent:
        assert consent[s] < elig[s] <= eos[s], s
        if s in ld:
            assert elig[s] < ld[s]
        if s in inf:
            assert ld[s] < inf[s] and (inf[s] - ld[s]).days == 5, s
            assert (inf[s] - ld_last[s]).days == 3
        if s in death:
            lo, hi = death[s]
            assert ld_last[s] < hi, s
            if s in inf:
                assert inf[s] <= hi
            assert lo <= eos[s] <= hi
    # lymphodepleted but never infused: a few
    never = set(ld) - set(inf)
    assert 1 <= len(never) <= 0.08 * len(ld)


def test_nothing_after_death_or_cutoff(big):
    death = {s: date_range(x)[1] for s, x in zip(big["death.csv"]["SUBJECT"],
                                                  big["death.csv"]["DTHDAT"])}
    eos = {s: date_range(x)[0] for s, x in zip(big["eos.csv"]["SUBJECT"],
                                                big["eos.csv"]["EOSDAT"])}
    consent = {s: date_range(x)[0] for s, x in zip(big["ic.csv"]["SUBJECT"],
                                                    big["ic.csv"]["ICDAT"])}
    checks = [("ae.csv", "AESTDAT"), ("ae.csv", "AEENDAT"), ("rs.csv", "RSDAT"),
              ("lb.csv", "LBDAT"), ("kinetics.csv", "SMPDAT"), ("hsct.csv", "HSCTDAT"),
              ("nact.csv", "NACTDAT"), ("cart.csv", "INFDAT"), ("dx.csv", "BMDAT")]
    for name, col in checks:
        df = big[name]
        for s, text in zip(df["SUBJECT"], df[col]):
            r = date_range(text)
            if r is None:
                continue
            lo, hi = r
            assert FIRST <= hi and lo <= CUTOFF, (name, s, text)
            assert lo <= eos[s], (name, col, s, text)
            if s in death:
                assert lo <= death[s], (name, col, s, text)
            if name != "dx.csv":
                assert hi >= consent[s], (name, s, text)
    for s, x in eos.items():
        assert FIRST <= x <= CUTOFF


def test_death_day_only_fatal_ae_ends(big):
    ae = big["ae.csv"]
    death = {s: date_range(x) for s, x in zip(big["death.csv"]["SUBJECT"],
                                               big["death.csv"]["DTHDAT"])}
    fatal = ae[ae["AEOUT"] == "Fatal"]
    assert len(fatal) >= 1
    for _, r in fatal.iterrows():
        assert r["SUBJECT"] in death
        lo, hi = death[r["SUBJECT"]]
        end = date_range(r["AEENDAT"])
        assert end and lo <= end[0] <= hi
        assert r["AESDTH"] == "Y" and r["AESER"] in ("Y", "Yes")
        assert r["AETOXGR"].strip().lower().replace("grade ", "") == "5"
    assert fatal["SUBJECT"].is_unique
    grade5 = ae["AETOXGR"].str.strip().str.lower().str.replace("grade ", "") == "5"
    assert (grade5 == (ae["AEOUT"] == "Fatal")).all()
    # causes that have a fatal AE
    dc = big["death.csv"].set_index("SUBJECT")["DTHCAUS"]
    for s in dc[dc.isin(["CRS", "GVHD", "Infection"])].index:
        assert s in set(fatal["SUBJECT"]), s


def test_lab_visits_after_infusion_match_response_dates(big):
    rs = big["rs.csv"]
    lb = big["lb.csv"]
    lbd = {(s, f): date_range(x)[0] for s, f, x in zip(lb["SUBJECT"], lb["FOLDER"],
                                                        lb["LBDAT"]) if f != "UNSCHEDULED"}
    for s, f, x in zip(rs["SUBJECT"], rs["FOLDER"], rs["RSDAT"]):
        if (s, f) in lbd:
            assert lbd[(s, f)] == date_range(x)[0]


# ---------------------------------------------------------------------------------------------
# clinical plausibility (500 subjects)
# ---------------------------------------------------------------------------------------------
def _norm_grade(x: str) -> int:
    return int(x.strip().lower().replace("grade", "").strip())


def test_proportions(big):
    dm, elig, cart = big["dm.csv"], big["elig.csv"], big["cart.csv"]
    n = len(dm)
    age = dm["AGE"].astype(int)
    assert age.between(2, 75).all()
    assert 0.05 <= (age < 18).mean() <= 0.30
    assert 0.04 <= (elig["IEYN"] == "No").mean() <= 0.09
    infused = set(cart.loc[(cart["INFYN"] == "Yes"), "SUBJECT"])
    assert 0.85 * n <= len(infused) <= 0.95 * n
    per = cart[cart["INFYN"] == "Yes"].groupby("SUBJECT").size()
    assert set(per) <= {1, 2}
    assert 0.15 <= (per == 2).mean() <= 0.25
    ae = big["ae.csv"]
    crs = set(ae.loc[ae["AEPT"] == "Cytokine release syndrome", "SUBJECT"])
    icans = set(ae.loc[ae["AEPT"] == "Immune effector cell-associated neurotoxicity syndrome",
                       "SUBJECT"])
    assert 0.60 <= len(crs & infused) / len(infused) <= 0.80
    assert 0.12 <= len(icans & infused) / len(infused) <= 0.28
    assert (ae.loc[ae["AEPT"] == "Cytokine release syndrome", "AEGRSCL"] == "ASTCT 2019").all()
    # best overall response
    rank = {"cr": 0, "cri": 1, "cr with incomplete hematologic recovery": 1, "mlfs": 2, "pr": 3,
            "sd": 4, "nr": 4, "pd": 5, "relapse": 5, "relapsed disease": 5, "ne": 6}
    rs = big["rs.csv"]
    ranked = rs.assign(r=rs["RSORRES"].str.strip().str.lower().map(rank))
    best = ranked.groupby("SUBJECT")["r"].min()
    assert best.notna().all()
    crcri = (best <= 1).sum() / len(infused)
    assert 0.40 <= crcri <= 0.60
    hsct = set(big["hsct.csv"]["SUBJECT"])
    responders = set(best[best <= 2].index)
    assert hsct <= responders
    assert 0.15 <= len(hsct) / len(responders) <= 0.45
    deaths = len(big["death.csv"])
    assert 0.3 * n <= deaths <= 0.8 * n
    eos = big["eos.csv"]
    assert 0.1 <= (eos["EOSSTAT"] == "Completed").mean() <= 0.6
    # sites for > 100 subjects
    assert set(dm["SITENUMBER"]) == {"920", "921", "922"}
    assert set(dm.loc[dm["SITENUMBER"] == "920", "COUNTRY"]) == {"China"}


def test_response_consistent_with_blasts_and_counts(big):
    rs = big["rs.csv"]
    dx = big["dx.csv"].set_index("SUBJECT")["BMBLAST"].astype(float)
    r = rs["RSORRES"].str.strip().str.lower()
    bl = pd.to_numeric(rs["BMBLAST"].replace("", np.nan))
    assert (bl.isna() == (r == "ne")).all()
    base = rs["SUBJECT"].map(dx)
    low = r.isin(["cr", "cri", "cr with incomplete hematologic recovery", "mlfs"])
    assert (bl[low] < 5).all()
    pr = r == "pr"
    assert (bl[pr].between(5, 25) & (bl[pr] <= 0.5 * base[pr])).all()
    pd_ = r == "pd"
    assert ((bl[pd_] > 1.5 * base[pd_]) | ((base[pd_] < 30) & (bl[pd_] - base[pd_] >= 15))).all()
    rel = r.isin(["relapse", "relapsed disease"])
    assert (bl[rel] >= 5).all()
    nr = r.isin(["nr", "sd"])
    assert (bl[nr] >= 5).all()
    # nothing after progression / relapse on the response form
    last = rs.groupby("SUBJECT").tail(1).index
    prog = rs.index[r.isin(["pd", "relapse", "relapsed disease"])]
    assert set(prog) <= set(last)
    # counts on the day of a CR: ANC >= 1.0 and platelets >= 100 x10^9/L; CRi: not both
    lb = big["lb.csv"]
    lb = lb[lb["LBTEST"].isin(["Neutrophils", "Platelets"]) & (lb["FOLDER"] != "UNSCHEDULED")]
    num = pd.to_numeric(lb["LBORRES"], errors="coerce")
    si = np.where(lb["LBORRESU"] == "/uL", num / 1000, num)
    counts = dict(zip(zip(lb["SUBJECT"], lb["FOLDER"], lb["LBTEST"]), si))
    checked = 0
    for s, f, res in zip(rs["SUBJECT"], rs["FOLDER"], r):
        anc = counts.get((s, f, "Neutrophils"))
        plt_ = counts.get((s, f, "Platelets"))
        if anc is None or plt_ is None or np.isnan(anc) or np.isnan(plt_):
            continue
        if res == "cr":
            assert anc >= 1.0 and plt_ >= 100, (s, f)
            checked += 1
        if res in ("cri", "cr with incomplete hematologic recovery"):
            assert anc < 1.0 or plt_ < 100, (s, f)
    assert checked > 20


def test_ae_rules(big):
    ae = big["ae.csv"]
    assert (ae.groupby("SUBJECT")["RECORDPOSITION"].apply(
        lambda x: list(x.astype(int)) == list(range(1, len(x) + 1)))).all()
    flags = ["AESDTH", "AESLIFE", "AESHOSP", "AESDISAB", "AESCONG", "AESMIE"]
    for f in flags + ["AEONGO"]:
        assert set(ae[f]) <= {"Y", "N"}
    assert set(ae["AESER"]) <= {"Y", "N", "Yes"}
    serious = ae["AESER"].isin(["Y", "Yes"])
    anyflag = (ae[flags] == "Y").any(axis=1)
    assert (anyflag & ~serious).sum() == 0
    assert (serious & ~anyflag).sum() == 1          # the one deliberate inconsistency
    ongoing = ae["AEONGO"] == "Y"
    assert (ongoing == (ae["AEENDAT"] == "")).all()
    assert ae.loc[ongoing, "AEOUT"].isin(["Not recovered/Not resolved",
                                          "Recovering/Resolving"]).all()
    grades = ae["AETOXGR"].map(_norm_grade)
    assert grades.between(1, 5).all()
    assert set(ae["AEGRSCL"]) == {"CTCAE v5.0", "ASTCT 2019"}
    for _, r in ae[~ongoing].iterrows():
        st, en = date_range(r["AESTDAT"]), date_range(r["AEENDAT"])
        assert st[0] <= en[1]
    # coding from the built-in dictionary; exactly one verbatim left uncoded
    uncoded = ae[ae["AEPT"] == ""]
    assert len(uncoded) == 1 and (uncoded[["AESOC", "AELLT"]] == "").all(axis=None)
    for term, pt, soc in zip(ae["AETERM"], ae["AEPT"], ae["AESOC"]):
        coded = dictionaries.code_term(term)
        if pt:
            assert coded["AEPT"] == pt and coded["AESOC"] == soc
    assert ae.loc[ae["AEPT"] != "", "AEPTCD"].str.fullmatch(r"\d{8}").all()


def test_dictionary_is_complete():
    dictionaries._check()
    c = dictionaries.code_term("  Neurotoxicity/ICANS ")
    assert c["AEPT"] == "Immune effector cell-associated neurotoxicity syndrome"
    assert dictionaries.code_term("felt unwell") is None


def test_labs(big):
    lb = big["lb.csv"]
    tests = {"Hemoglobin", "Neutrophils", "Platelets", "WBC", "Lymphocytes", "ALT", "AST",
             "Total bilirubin", "Creatinine", "Albumin", "LDH", "CRP", "Ferritin", "IL-6",
             "Glucose", "Urea nitrogen"}
    assert set(lb["LBTEST"]) == tests
    assert set(lb["LBSPEC"]) == {"Blood", "Serum"}
    units = set(lb["LBORRESU"])
    assert {"g/dL", "g/L", "/uL", "10^9/L", "x10^9/L", "mg/dL", "umol/L", "\u00b5mol/L",
            "\u03bcmol/L"} <= units
    num = pd.to_numeric(lb["LBORRES"], errors="coerce")
    bad = lb["LBORRES"][num.isna()]
    assert bad.str.startswith("<").sum() >= 3
    garbage = bad[~bad.str.startswith("<")]
    assert 1 <= len(garbage) <= 10
    assert pd.to_numeric(lb["LBORNRLO"]).notna().all()
    assert (pd.to_numeric(lb["LBORNRLO"]) < pd.to_numeric(lb["LBORNRHI"])).all()
    assert (num.dropna() >= 0).all()
    # units of one test are either conventional or SI, with the matching range magnitude
    hgb = lb[(lb["LBTEST"] == "Hemoglobin") & num.notna()]
    gdl = hgb["LBORRESU"] == "g/dL"
    assert pd.to_numeric(hgb.loc[gdl, "LBORRES"]).max() < 25
    assert pd.to_numeric(hgb.loc[~gdl, "LBORRES"]).min() > 25
    # CRS: CRP/IL-6 peak in the first two weeks
    il6 = lb[(lb["LBTEST"] == "IL-6")]
    v = pd.to_numeric(il6["LBORRES"], errors="coerce")
    early = il6["FOLDER"].isin(["DAY4", "DAY7", "DAY10"])
    assert v[early].median() > 3 * v[il6["FOLDER"] == "SCREENING"].median()
    # one row per test per visit; record positions unique within subject and folder
    key = lb[lb["FOLDER"] != "UNSCHEDULED"][["SUBJECT", "FOLDER", "LBTEST"]]
    assert not key.duplicated().any()
    assert not lb[["SUBJECT", "FOLDER", "RECORDPOSITION"]].duplicated().any()
    assert set(lb["FOLDER"]) <= set(FOLDERS)
    # counts of one visit agree: WBC >= neutrophils + lymphocytes (same unit, same visit)
    cbc = lb[lb["LBTEST"].isin(["WBC", "Neutrophils", "Lymphocytes"])].assign(v=num)
    wide = cbc.pivot_table(index=["SUBJECT", "FOLDER", "LBDAT", "LBORRESU"], columns="LBTEST",
                           values="v", aggfunc="first").dropna()
    assert len(wide) > 1000
    tol = np.where(wide.index.get_level_values("LBORRESU") == "/uL", 20, 0.02)
    assert (wide["WBC"] + tol >= wide["Neutrophils"] + wide["Lymphocytes"]).all()


def test_kinetics(big):
    k = big["kinetics.csv"]
    assert set(k["SPEC"]) == {"Peripheral blood", "Bone marrow"}
    assert set(k["ASSAY"]) == {"qPCR", "Flow cytometry"}
    assert set(k["ANALYTE"]) == {"CAR transgene", "CAR+ T cells (% of CD3+)",
                                 "CD123+ blasts (% of blasts)"}
    assert set(k["UNIT"]) == {"copies/ug gDNA", "%"}
    pb = k[(k["SPEC"] == "Peripheral blood") & (k["ANALYTE"] == "CAR transgene")]
    v = pd.to_numeric(pb["RESULT"], errors="coerce").fillna(0)
    med = v.groupby(pb["FOLDER"]).median()
    assert med[["DAY7", "DAY10", "DAY14"]].max() > 10 * med["DAY0"] + 100
    assert med[["DAY7", "DAY10", "DAY14"]].max() > 5 * med["MONTH6"]
    assert (pb.loc[pb["FOLDER"] == "DAY0", "RESULT"] == "BLQ").all()
    assert (k["RESULT"] == "QNS").sum() == 2
    assert not k[["SUBJECT", "FOLDER", "RECORDPOSITION"]].duplicated().any()
    assert set(k["FOLDER"]) <= set(FOLDERS)
    assert set(big["rs.csv"]["FOLDER"]) <= {"DAY28", "MONTH2", "MONTH3", "MONTH6", "MONTH9",
                                            "MONTH12", "MONTH18", "MONTH24"}


def test_other_forms(big):
    nact = big["nact.csv"]
    assert len(nact) > 0 and (nact["NACTTRT"] != "").all()
    hsct = big["hsct.csv"]
    assert set(hsct["HSCTTYP"].str.lower()) == {"allogeneic"}
    # transplant after the infusion and after the last response assessment
    inf = _first(big["cart.csv"][big["cart.csv"]["INFYN"] == "Yes"], "INFDAT")
    rs_last = {}
    for s, x in zip(big["rs.csv"]["SUBJECT"], big["rs.csv"]["RSDAT"]):
        rs_last[s] = max(rs_last.get(s, dt.date.min), date_range(x)[0])
    for s, x in zip(hsct["SUBJECT"], hsct["HSCTDAT"]):
        d = date_range(x)[0]
        assert inf[s] < d and rs_last[s] < d


def test_deliberate_bad_records(big, demo45):
    for df in (big["cart.csv"], read(demo45[0], "cart.csv")):
        assert (df["INFDAT"] == "2021/02/31").sum() == 1
        assert (df["INFDOSE"] == "abc").sum() == 1
        ok = df[(df["INFYN"] == "Yes") & (df["INFDOSE"] != "abc")]
        assert pd.to_numeric(ok["INFDOSE"]).between(0.1, 5).all()
    assert read(demo45[0], "ld.xpt")["LDDOSE"].isna().sum() == 3


# ---------------------------------------------------------------------------------------------
# scale
# ---------------------------------------------------------------------------------------------
def test_scaling_is_linear(tmp_path):
    small = generate_demo(tmp_path / "s", 200, 99)
    large = generate_demo(tmp_path / "l", 2000, 99)
    assert small.keys() == large.keys()
    for name in small:
        if small[name] >= 40:
            ratio = large[name] / small[name]
            assert 7 <= ratio <= 13, (name, small[name], large[name])
    assert 8.5 <= sum(large.values()) / sum(small.values()) <= 11.5
    dm = read(tmp_path / "l", "dm.csv")
    assert dm["SUBJECT"].is_unique
    assert dm["AGE"].astype(int).between(2, 75).all()
    assert dm["SITENUMBER"].nunique() == 10
    assert (dm["SUBJECT"].str.split("-").str[0] == dm["SITENUMBER"]).all()
    assert dm["SUBJECT"].str.fullmatch(r"9\d\d-\d{3,}").all()


def test_cli(tmp_path, capsys):
    assert cli_main([str(tmp_path / "cli"), "--subjects", "12", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "dm.csv\t12" in out
    assert sorted(p.name for p in (tmp_path / "cli").iterdir()) == ALL_FILES


def test_cohort_is_the_dose_level_assigned_at_enrolment(demo45):
    """Cohort 1/2/3 are the 0.5/1.0/2.5 x10^6 cells/kg levels: an infused subject's total dose
    (split doses added) is its cohort's; screen failures have none; a subject never infused is
    in the cohort of the last infused subject who consented before it."""
    d, _ = demo45
    elig, cart, ic = read(d, "elig.csv"), read(d, "cart.csv"), read(d, "ic.csv")
    level = {"Cohort 1": 0.5, "Cohort 2": 1.0, "Cohort 3": 2.5}
    given = cart[cart["INFYN"] == "Yes"]
    readable = given.groupby("SUBJECT")["INFDOSE"].transform(
        lambda v: v.str.fullmatch(r"[0-9.]+").all())
    total = given[readable].groupby("SUBJECT")["INFDOSE"].apply(
        lambda v: sum(float(x) for x in v))  # the subject with the 'abc' dose is left out
    cohort = elig.set_index("SUBJECT")["COHORT"]
    assert len(total) == given["SUBJECT"].nunique() - 1
    for subject, dose in total.items():
        assert level[cohort[subject]] == pytest.approx(dose), subject
    assert set(elig.loc[elig["IEYN"] == "No", "COHORT"]) == {""}
    consent = pd.to_datetime(ic.set_index("SUBJECT")["ICDAT"], format="%d-%b-%Y")
    infused = set(given["SUBJECT"])
    never = [s for s in cohort.index if cohort[s] and s not in set(cart["SUBJECT"][cart["INFYN"]
                                                                               == "Yes"])]
    assert never, "the demo has subjects enrolled but never infused"
    for subject in never:
        before = [s for s in infused if consent[s] <= consent[subject]]
        last = max(before, key=lambda s: (consent[s], s)) if before else None
        expected = cohort[last] if last else "Cohort 1"
        assert cohort[subject] == expected, subject
