"""The vectorised ADaM derivations give what the straightforward ones (one group at a time)
give, also on inputs the demo study does not have: subjects' records interleaved, missing
dates and grades, ties, SOCs and PTs with a missing key."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc import nca
from cdisc.adam import adae, adpc, adsl, safety_tables
from cdisc.sdtm import pp as sdtm_pp


def _rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


def test_latest_date_matches_groupby_max() -> None:
    rng = _rng()
    n = 500
    days = rng.integers(0, 400, n).astype("timedelta64[D]") + np.datetime64("2021-01-01")
    dates = pd.Series(days.astype("datetime64[us]")).mask(rng.random(n) < 0.2)
    subjects = pd.Series(rng.choice(["A", "B", "C", "D", None], n), dtype=object)
    found = pd.DataFrame({"USUBJID": subjects, "date": dates})
    for cutoff in (None, pd.Timestamp("2021-06-30")):
        kept = found if cutoff is None else found[found["date"] <= cutoff]
        expected = kept.dropna().groupby("USUBJID")["date"].max()
        got = adsl._latest_date(found, cutoff)
        assert got.reindex(expected.index).equals(expected)
        assert set(got.dropna().index) == set(expected.index)


def test_nca_roles_match_profile_by_profile() -> None:
    rng = _rng()
    n = 400
    data = pd.DataFrame({col: "X" for col in sdtm_pp.PROFILE}, index=range(n))
    data["USUBJID"] = rng.choice(["S1", "S2", "S3"], n)
    data["PCSPEC"] = rng.choice(["BLOOD", "BONE MARROW"], n)
    data["NCATIME"] = np.where(rng.random(n) < 0.1, np.nan, rng.integers(-3, 30, n))
    blq = rng.random(n) < 0.3
    data["NCABLQ"] = blq
    data["NCACONC"] = np.where(blq, np.nan, rng.choice([0.0, 1.0, 5.0, 20.0], n))
    data.index = rng.permutation(n) + 1000  # not a range index
    expected = pd.concat([pd.Series(nca.sample_roles(g["NCATIME"], g["NCACONC"], g["NCABLQ"]),
                                    index=g.index)
                          for _, g in data.groupby(sdtm_pp.PROFILE, sort=False)])
    assert adpc.nca_roles(data).equals(expected.reindex(data.index).astype(object))


def _reference_first_flag(frame: pd.DataFrame, among: pd.Series, by: list[str],
                          worst_first: bool) -> np.ndarray:
    rows = frame[among]
    keys = ["USUBJID", *by]
    order = (["ATOXGRN"] if worst_first else []) + ["ASTDT", "AESEQ"]
    ascending = ([False] if worst_first else []) + [True, True]
    ranked = rows.sort_values(keys + order, ascending=[True] * len(keys) + ascending,
                              kind="stable", na_position="last")
    return np.where(frame.index.isin(ranked.drop_duplicates(keys).index), "Y", "")


def _events(n: int) -> pd.DataFrame:
    rng = _rng()
    days = rng.integers(0, 20, n).astype("timedelta64[D]") + np.datetime64("2021-01-01")
    return pd.DataFrame({
        "USUBJID": rng.choice(["S1", "S2", "S3", "S4"], n),
        "AEBODSYS": pd.Series(rng.choice(["SOC A", "SOC B", "", None], n), dtype=object),
        "AEDECOD": pd.Series(rng.choice(["PT 1", "PT 2", "", None], n), dtype=object),
        "AETERM": rng.choice(["term x", "term y"], n),
        "ATOXGRN": pd.Series(rng.integers(1, 6, n).astype(float)).mask(rng.random(n) < 0.2),
        "ASTDT": pd.Series(days.astype("datetime64[us]")).mask(rng.random(n) < 0.2),
        "AESEQ": rng.integers(1, 5, n).astype(float),  # ties on purpose
        "TRTEMFL": rng.choice(["Y", ""], n),
    })


def test_occurrence_flags_match_one_sort_per_level() -> None:
    events = _events(600)
    flags = adae.derive_occurrence_flags(events, "TRTEMFL")
    among = events["TRTEMFL"] == "Y"
    for tag, by in {"": [], "S": ["AEBODSYS"], "P": ["AEBODSYS", "AEDECOD"]}.items():
        for suffix, worst in (("FL", False), ("IFL", True)):
            expected = _reference_first_flag(events, among, by, worst)
            assert (flags[f"AOCC{tag}{suffix}"].to_numpy() == expected).all(), tag + suffix


def _reference_soc_pt_rows(adae_: pd.DataFrame, columns: list, severe: float) -> list[list]:
    events = adae_[adae_["TRTEMFL"] == "Y"].copy()
    events["AEBODSYS"] = events["AEBODSYS"].replace("", safety_tables.NOT_CODED)
    events["AEDECOD"] = events["AEDECOD"].where(events["AEDECOD"] != "", events["AETERM"])
    high = events[events["ATOXGRN"] >= severe]

    def order(records: pd.DataFrame, level: str) -> list:
        counts = records.groupby(level, sort=False)["USUBJID"].nunique()
        return [key for key, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    def cells(part: pd.DataFrame, part_high: pd.DataFrame) -> list[str]:
        out = []
        for a, h in zip(safety_tables.subject_counts(part, columns),
                        safety_tables.subject_counts(part_high, columns), strict=True):
            out += [a, h]
        return out

    rows = [["Any event", "", *cells(events, high)]]
    for soc in order(events, "AEBODSYS"):
        in_soc = events[events["AEBODSYS"] == soc]
        rows.append([soc, "", *cells(in_soc, high[high["AEBODSYS"] == soc])])
        for pt in order(in_soc, "AEDECOD"):
            rows.append(["", pt, *cells(in_soc[in_soc["AEDECOD"] == pt],
                                        high[(high["AEBODSYS"] == soc)
                                             & (high["AEDECOD"] == pt)])])
    return rows


def test_soc_pt_table_matches_row_by_row_counts() -> None:
    events = _events(600)
    columns = [("Low", pd.Index(["S1", "S2"])), ("High", pd.Index(["S3"])),
               ("Total", pd.Index(["S1", "S2", "S3"]))]  # S4 is in no column
    table = safety_tables.soc_pt_table(events, columns, {"TRTEMFL": "Y"}, 3.0, "t", "T")
    assert table.frame.values.tolist() == _reference_soc_pt_rows(events, columns, 3.0)
