"""Nothing collected about a subject is dropped: whatever is wrong in a raw value, its record
lands in SDTM (the value kept as far as it is reliable, the problem in data_issues.csv), and
the only rows left out are rows about nobody known, each with its reason in rejects.csv."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdisc.paths import DEMO_MAPPING_DIR, DEMO_RAW_DIR
from cdisc.sdtm.engine import map_study
from cdisc.sdtm.mapping import load_study
from cdisc.specs import load_specs
from tests.conftest import write_mini_study

AE_SUBJECTS = ("920-001", "920-002", "920-003", "920-004", "920-005")
GARBAGE = st.one_of(st.sampled_from(["", "31-FEB-2021", "2021-13-01", "yesterday", "03/04/2021",
                                     "abc", "-5", "1e12", "Yes", "No", "UNK", "9", "<0.1",
                                     "920-777", " ", "N/A"]),
                    st.text(alphabet="abcXYZ0123456789-/:. ", max_size=12))


def _mapping(root: Path) -> Path:
    mapping = root / "map"
    shutil.copytree(DEMO_MAPPING_DIR, mapping)
    study = mapping / "study.yaml"
    study.write_text(re.sub(r"^domains: .*$", "domains: [DM, EX, AE]", study.read_text(),
                            flags=re.M))
    return mapping


def _ae_rows() -> tuple[list[str], list[list[str]]]:
    with (DEMO_RAW_DIR / "ae.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    subject = rows[0].index("SUBJECT")
    # the demo's AE rows of its first subjects, renamed onto the mini study's five subjects
    body = [r for r in rows[1:] if r[subject] in ("920-001", "920-002")][:10]
    for i, r in enumerate(body):
        r[subject] = AE_SUBJECTS[i % len(AE_SUBJECTS)]
    return rows[0], body


HEADER, BODY = _ae_rows()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, len(BODY) - 1),
                                st.sampled_from([c for c in HEADER if c not in ("STUDY",)]),
                                GARBAGE), min_size=1, max_size=8))
def test_no_raw_row_disappears_without_a_rejects_entry(tmp_path_factory, edits) -> None:
    root = tmp_path_factory.mktemp("never_dropped")
    raw = write_mini_study(root / "raw")
    body = [list(r) for r in BODY]
    for row, column, value in edits:
        body[row][HEADER.index(column)] = value
    with (raw / "ae.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([HEADER, *body])
    specs = load_specs()
    result = map_study(load_study(_mapping(root), specs), raw, specs)

    subject = HEADER.index("SUBJECT")
    ae_rows_in_sdtm = set(result.trace.loc[result.trace["domain"] == "AE", "source_row"])
    rejected = result.rejects[result.rejects["file"] == "ae.csv"]
    rejected_rows = set(rejected["row"].astype(int))
    known = {"920-001", "920-002", "920-003", "920-004", "920-005"}
    for i, r in enumerate(body, 1):
        about_a_known_subject = r[subject].strip() in known
        # a row about a known subject is in AE; any other row is in rejects.csv, never both
        assert (i in ae_rows_in_sdtm) == about_a_known_subject, (i, r[subject])
        assert (i in rejected_rows) == (not about_a_known_subject), (i, r[subject])
    assert set(rejected["reason"]) <= {"subject not in DM", "missing subject identifier"}
    rec = result.reconciliation.set_index("file").loc["ae.csv"]
    assert rec["read"] == len(body) == rec["mapped"] + rec["rejected"]
