"""A corpus of broken inputs: each gives one clear line and exit 2 (or, where a record can be
skipped safely, exit 0 with a rejects.csv entry naming file, row, column and reason), never a
traceback, and leaves no output folder or temporary folder behind.

Every case copies the conftest mini study (plus a small AE form) into tmp_path and breaks one
thing. Hostile files that read better as files live in tests/bad_input/.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from cdisc.cli import main
from cdisc.paths import DEMO_RAW_DIR
from cdisc.validate.core.catalogue import load_catalogue
from tests.conftest import DEMO_MAPPING, write_mini_study

CORPUS = Path(__file__).parent / "bad_input"
AE_SUBJECTS = ("920-001", "920-002")

Mutation = Callable[[Path, Path], None]  # (raw folder, mapping folder) -> None


# ---------------------------------------------------------------------------------------------
# fixtures: one good study built once per module, copied per case


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """raw/ (mini study + 4 AE rows from the demo export) and map/ (demo mapping: DM, EX, AE)."""
    root = tmp_path_factory.mktemp("bad_input_template")
    raw = write_mini_study(root / "raw")
    with (DEMO_RAW_DIR / "ae.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    subject = rows[0].index("SUBJECT")
    body = [r for r in rows[1:] if r[subject] in AE_SUBJECTS][:4]
    with (raw / "ae.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([rows[0], *body])
    mapping = root / "map"
    shutil.copytree(DEMO_MAPPING, mapping)
    study = mapping / "study.yaml"
    study.write_text(re.sub(r"^domains: .*$", "domains: [DM, EX, AE]", study.read_text(),
                            flags=re.M))
    (mapping / "adam.yaml").unlink()  # `cdisc run` stops after SDTM + validation
    return root


@pytest.fixture()
def study(template: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    """(raw, mapping, out) in a fresh tmp_path; out does not exist yet."""
    raw, mapping = tmp_path / "raw", tmp_path / "map"
    shutil.copytree(template / "raw", raw)
    shutil.copytree(template / "map", mapping)
    return raw, mapping, tmp_path / "out"


@pytest.fixture(scope="module")
def sdtm_out(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A good SDTM folder (xpt, json, define.xml) of the template study."""
    out = tmp_path_factory.mktemp("bad_input_sdtm") / "sdtm"
    result = invoke("sdtm", str(template / "raw"), "--mapping", str(template / "map"),
                    "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


# ---------------------------------------------------------------------------------------------
# helpers


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def stderr_of(result: Result) -> str:
    try:
        return result.stderr
    except ValueError:  # click < 8.2 mixes stderr into output
        return result.output


def assert_no_debris(out: Path) -> None:
    assert not out.exists(), f"{out} left behind"
    leftovers = sorted(p.name for p in out.parent.glob(f".{out.name}.*"))
    assert not leftovers, f"temporary folders left behind: {leftovers}"


def assert_one_line_error(result: Result, out: Path | None, *fragments: str) -> str:
    """Exit 2, exactly one line 'error: ...' on stderr containing every fragment, no traceback,
    and (for commands that write OUT) nothing left behind. Returns the message."""
    err = stderr_of(result)
    assert isinstance(result.exception, SystemExit) or result.exception is None, \
        repr(result.exception)
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    message = lines[0]
    assert message.startswith("error: "), message
    assert "internal error" not in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert "Traceback" not in result.output and "Traceback" not in err
    if out is not None:
        assert_no_debris(out)
    return message


def sdtm(raw: Path, mapping: Path, out: Path) -> Result:
    """`cdisc sdtm` (XPT only: Dataset-JSON adds time and nothing to these cases)."""
    return invoke("sdtm", str(raw), "--mapping", str(mapping), "--out", str(out),
                  "--format", "xpt")


def rejects(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "rejects.csv", dtype=str, keep_default_na=False)


def sub(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def set_ld_dose(raw: Path, value: float) -> None:
    """Rewrite ld.xpt with LDDOSE of its first record replaced."""
    import pyreadstat

    path = raw / "ld.xpt"
    df, _ = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
    df.loc[0, "LDDOSE"] = value
    pyreadstat.write_xport(df, str(path), file_format_version=5, table_name="LD",
                           variable_format={"LDDAT": "DATE9."})


# ---------------------------------------------------------------------------------------------
# broken raw files -> exit 2 with one line naming the file (and row/column where they apply)


def _truncate_last_line(raw: Path, _: Path) -> None:
    text = (raw / "ae.csv").read_text(encoding="utf-8")
    (raw / "ae.csv").write_text(text[: text.rindex(",Recovered")], encoding="utf-8")


def _unclosed_quote(raw: Path, _: Path) -> None:
    """The export stops inside a quoted free-text field of its last row."""
    lines = lines_of(raw / "ae.csv")
    fields = next(csv.reader([lines[-1]]))
    fields[4] = '"' + fields[4]  # AETERM opens a quote ...
    lines[-1] = ",".join(fields[:5])  # ... and the file ends right after it
    (raw / "ae.csv").write_text("\n".join(lines), encoding="utf-8")


def _semicolons(raw: Path, _: Path) -> None:
    (raw / "dm.csv").write_text((raw / "dm.csv").read_text().replace(",", ";"))


def _latin1(raw: Path, _: Path) -> None:
    text = (raw / "ae.csv").read_text(encoding="utf-8").replace("fever", "fébrile")
    (raw / "ae.csv").write_bytes(text.encode("latin-1"))


def _utf16(raw: Path, _: Path) -> None:
    (raw / "dm.csv").write_bytes((raw / "dm.csv").read_text().encode("utf-16"))


def _nul_byte(raw: Path, _: Path) -> None:
    (raw / "ae.csv").write_bytes((raw / "ae.csv").read_bytes().replace(b"fever", b"fe\x00ver"))


def _duplicate_column(raw: Path, _: Path) -> None:
    lines = lines_of(raw / "dm.csv")
    write_lines(raw / "dm.csv", [lines[0] + ",SEX"] + [line + ",F" for line in lines[1:]])


def _folder_named_csv(raw: Path, _: Path) -> None:
    (raw / "ae.csv").unlink()
    (raw / "ae.csv").mkdir()


def _xpt_random(raw: Path, _: Path) -> None:
    import random

    rng = random.Random(20240131)
    (raw / "ld.xpt").write_bytes(bytes(rng.randrange(256) for _ in range(4000)))


def _xpt_half(raw: Path, _: Path) -> None:
    data = (raw / "ld.xpt").read_bytes()
    (raw / "ld.xpt").write_bytes(data[: len(data) // 2])


def _xpt_tail_cut(raw: Path, _: Path) -> None:
    """Cut inside the observations: pyreadstat alone silently returns fewer rows."""
    data = (raw / "ld.xpt").read_bytes()
    (raw / "ld.xpt").write_bytes(data[:-100])


RAW_ERRORS: dict[str, tuple[Mutation, tuple[str, ...]]] = {
    "empty-0-bytes": (lambda raw, _: (raw / "dm.csv").write_bytes(b""),
                      ("dm.csv: file is empty (no header line)",)),
    "blank-lines-only": (lambda raw, _: (raw / "dm.csv").write_text("\n\n  \n"),
                         ("dm.csv: file is empty",)),
    "truncated-last-line": (_truncate_last_line,
                            ("ae.csv, row 4: row has", "fields, header has 30")),
    "unclosed-quote": (_unclosed_quote, ("ae.csv, row 4: unclosed quote",)),
    "semicolon-delimiter": (_semicolons,
                            ("dm.csv, row 0: only one column found", "comma-separated")),
    "latin1-e-acute": (_latin1, ("ae.csv: not UTF-8 text: byte 0xe9 at line 3",)),
    "utf16": (_utf16, ("dm.csv: NUL byte at line 1", "UTF-16")),
    "nul-byte": (_nul_byte, ("ae.csv: NUL byte at line 3",)),
    "duplicate-column-names": (_duplicate_column,
                               ("dm.csv, row 0: duplicate column names ['SEX']",)),
    "missing-required-column": (
        lambda raw, _: sub(raw / "ae.csv", "AESTDAT", "STARTDATE"),
        ("ae.csv, row 0, column AESTDAT: column AESTDAT (needed by AE mapping 'adverse events') "
         "is missing",)),
    "missing-subject-column": (
        lambda raw, _: sub(raw / "ae.csv", ",SUBJECT,", ",PATIENT,"),
        ("ae.csv, row 0, column SUBJECT: subject column SUBJECT missing",)),
    "missing-file": (lambda raw, _: (raw / "ae.csv").unlink(),
                     ("source ae: raw file ae.csv not found",)),
    "folder-named-like-a-file": (_folder_named_csv, ("ae.csv: not a regular file",)),
    "xpt-0-bytes": (lambda raw, _: (raw / "ld.xpt").write_bytes(b""),
                    ("ld.xpt: file is empty (0 bytes)",)),
    "xpt-random-bytes": (_xpt_random, ("ld.xpt: cannot read SAS file (corrupt, truncated",)),
    "xpt-first-half": (_xpt_half, ("ld.xpt: truncated or corrupt XPT",)),
    "xpt-cut-in-observations": (_xpt_tail_cut, ("ld.xpt: truncated or corrupt XPT",
                                                "not a whole number of 80-byte records")),
    "xpt-named-csv": (lambda raw, _: shutil.copy(raw / "ld.xpt", raw / "ae.csv"),
                      ("ae.csv: NUL byte",)),
}


@pytest.mark.parametrize("mutate,fragments", list(RAW_ERRORS.values()), ids=list(RAW_ERRORS))
def test_broken_raw_file_is_one_line_exit_2(study, mutate: Mutation,
                                            fragments: tuple[str, ...]) -> None:
    raw, mapping, out = study
    mutate(raw, mapping)
    assert_one_line_error(sdtm(raw, mapping, out), out, *fragments)


def test_utf8_bom_is_stripped(study) -> None:
    """A BOM before the first column name must not rename it: SUBJECT is moved first."""
    raw, mapping, out = study
    df = pd.read_csv(raw / "dm.csv", dtype=str, keep_default_na=False)
    df = df[["SUBJECT", *[c for c in df.columns if c != "SUBJECT"]]]
    (raw / "dm.csv").write_bytes(b"\xef\xbb\xbf" + df.to_csv(index=False, lineterminator="\n")
                                 .encode("utf-8"))
    (raw / "ae.csv").write_bytes(b"\xef\xbb\xbf" + (raw / "ae.csv").read_bytes())
    result = sdtm(raw, mapping, out)
    assert result.exit_code == 0, result.output
    assert "DM: 5 records" in result.output and "AE: 4 records" in result.output
    assert not (rejects(out)["file"] == "ae.csv").any()


def test_crlf_line_endings_work(study) -> None:
    raw, mapping, out = study
    for name in ("dm.csv", "ae.csv"):
        (raw / name).write_bytes((raw / name).read_bytes().replace(b"\n", b"\r\n"))
    result = sdtm(raw, mapping, out)
    assert result.exit_code == 0, result.output
    assert "DM: 5 records" in result.output and "AE: 4 records" in result.output


def test_non_ascii_text_fails_inside_the_staged_output_and_leaves_nothing(study) -> None:
    """UTF-8 'fièvre' is read fine but XPT v5 (FDA TCG) takes ASCII only: the run stops while
    writing, i.e. inside the temporary folder beside OUT, which must vanish with it."""
    raw, mapping, out = study
    sub(raw / "ae.csv", ",fever,", ",fièvre,")
    message = assert_one_line_error(sdtm(raw, mapping, out), out, "column AETERM",
                                    "non-ASCII text in AETERM", "'fièvre'")
    assert message.startswith("error: AE, row ")


def test_header_only_form_maps_to_no_domain(study) -> None:
    """A form with no records yet (e.g. no adverse events) is valid: AE is not written (an empty
    domain is not submitted), the run is clean and nothing is rejected."""
    raw, mapping, out = study
    write_lines(raw / "ae.csv", lines_of(raw / "ae.csv")[:1])
    result = sdtm(raw, mapping, out)
    assert result.exit_code == 0, result.output
    assert "AE: no records, not written" in result.output
    assert not (out / "ae.xpt").exists()
    assert not (rejects(out)["file"] == "ae.csv").any()


def test_header_only_demographics_is_one_line_exit_2(study) -> None:
    """A study without a single subject is no study: DM needs at least one record."""
    raw, mapping, out = study
    write_lines(raw / "dm.csv", lines_of(raw / "dm.csv")[:1])
    assert_one_line_error(sdtm(raw, mapping, out), out,
                          "dm.csv: no subject records: DM needs at least one subject")


DEMO_FORMS = sorted(p.name for p in DEMO_RAW_DIR.iterdir())
# the errors validation finds on the whole demo: the data's own (cdisc/demo/FORMS.md: AESER = Y
# without a criterion, an uncoded term), kept and reported, never dropped
# the demo's own findings at error level and above (tests/test_validate_cli.py says why)
DEMO_ERRORS = {("CORE-000266", "AE"), ("CORE-000356", "AE"), ("CORE-000365", "MH"),
               ("CORE-000699", "LB"), ("CORE-000718", "AE"), ("CORE-000720", "LB"),
               ("CORE-000720", "PC"), ("CORE-000720", "CP"),
               ("CORE-000952", "SV"), ("CORE-001078", "AE"), ("GX.REQ.POPULATED", "AE"),
               # the uncoded AE again in ADAE; PP's PPTPTREF (CORE-000080, see test_validate_cli)
               ("GX.REQ.POPULATED", "ADAE"), ("CORE-000080", "PP")}
# what validation rightly says of the other forms' data when one form has no records
WITHOUT_FORM = {
    # no infusion: no RFSTDTC, no study days, so SE/SV carry --STDTC without --STDY/--ENDY
    "cart.csv": {("CORE-000328", "SE"), ("CORE-000328", "SV"), ("CORE-000776", "SE"),
                 ("CORE-000776", "SV")},
    # no eligibility form: no dose cohort, so treated subjects have EX but no arm
    "elig.csv": {("CORE-000192", "DM"), ("CORE-000758", "DM"), ("CORE-000927", "DM")},
    # no end-of-study form: deaths (death form) without a DS death record, AEs after DS
    "eos.csv": {("CORE-000679", "DS"), ("CORE-000717", "AE")},
    # no consent form: no study start date, so TS SSTDTC has no value (TRC 1734)
    "ic.csv": {("CORE-000505", "TS")},
    # no lymphodepletion form: RFENDTC of subjects with an arm and no other exposure
    "ld.xpt": {("CORE-000191", "DM")},
}
PRESENCE_RULES = {r.core_id for r in load_catalogue() if r.rule_type == "Domain Presence Check"}
# forms that are a domain's only source: with no records the domain is not written
NO_DOMAIN_WITHOUT = {"ae.csv": ["AE"], "dx.csv": ["MH"], "hsct.csv": ["PR"], "nact.csv": ["CM"],
                     "rs.csv": ["RS"], "elig.csv": ["IE"], "death.csv": ["DD"],
                     "kinetics.csv": ["CP", "PC"]}


def header_only(path: Path) -> None:
    """Keep the header (CSV) or the variables (XPT) of an export and drop every record."""
    if path.suffix == ".csv":
        write_lines(path, lines_of(path)[:1])
        return
    import pyreadstat
    df, meta = pyreadstat.read_xport(str(path))
    pyreadstat.write_xport(df.iloc[:0], str(path), file_format_version=5,
                           table_name=meta.table_name, column_labels=meta.column_labels)


@pytest.mark.parametrize("form", [f for f in DEMO_FORMS if f != "dm.csv"])
def test_header_only_export_of_every_demo_form_runs_clean(form: str, tmp_path: Path) -> None:
    """An early data cut exports forms with no records yet (no deaths, no transplants): every
    stage runs, nothing is lost, validation finds no error, and the form's rows reconcile to 0."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(DEMO_RAW_DIR, raw)
    header_only(raw / form)
    result = invoke("run", str(raw), "--mapping", str(DEMO_MAPPING), "--out", str(out),
                    "--format", "xpt")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    rec = pd.read_csv(out / "reconciliation.csv", dtype={"file": str})
    row = rec[rec["file"] == form].iloc[0]
    assert (row["read"], row["mapped"], row["rejected"], row["unused"]) == (0, 0, 0, 0)
    assert (rec["read"] == rec["mapped"] + rec["rejected"] + rec["filtered"] + rec["unused"]).all()
    report = json.loads((out / "validation" / "report.json").read_text())
    presence = {r["rule"] for r in report["rules"] if r["rule"] in PRESENCE_RULES}
    errors = {(f["rule"], f["dataset"]) for f in report["findings"]
              if f["severity"] in ("reject", "error") and f["rule"] not in presence}
    # no error of its own: only the demo's real data findings, what a domain's absence itself
    # means (EX missing, ...), and what the rest of the data says once this form is gone
    assert errors <= DEMO_ERRORS | WITHOUT_FORM.get(form, set()), errors - DEMO_ERRORS
    for xpt in (out / "sdtm").glob("*.xpt"):
        assert xpt.stat().st_size > 0
    absent = NO_DOMAIN_WITHOUT.get(form, [])
    written = [line.split(":")[0] for line in result.output.splitlines()
               if line.endswith("no records, not written (a domain without records is not "
                                "submitted)")]
    assert sorted(written) == absent
    for domain in absent:
        assert not (out / "sdtm" / f"{domain.lower()}.xpt").exists()


# ---------------------------------------------------------------------------------------------
# bad records: rows about nobody known are left out (rejects.csv); bad values are kept and
# queried (data_issues.csv); exit 0 either way


def _ae_subject_not_in_dm(raw: Path, _: Path) -> None:
    lines = lines_of(raw / "ae.csv")
    lines[2] = lines[2].replace(",920-001,", ",920-777,", 1)
    write_lines(raw / "ae.csv", lines)


def _duplicate_dm_subject(raw: Path, _: Path) -> None:
    lines = lines_of(raw / "dm.csv")
    write_lines(raw / "dm.csv", [*lines, lines[1].replace("Male", "Female")])


def _ae_start(value: str) -> Mutation:
    return lambda raw, _: sub(raw / "ae.csv", ",2020-04-12,", f",{value},")


def _birth_date(value: str) -> Mutation:
    return lambda raw, _: sub(raw / "dm.csv", "12-MAR-1986", value)


def _infusion_dose(value: str) -> Mutation:
    return lambda raw, _: sub(raw / "cart.csv", ",1.0,x10^6 cells/kg,Yes\n",
                              f",{value},x10^6 cells/kg,Yes\n")


def _age(value: str) -> Mutation:
    return lambda raw, _: sub(raw / "dm.csv", ",34,", f",{value},")


# id -> (mutation, (file, row, column, fragment, where)): "rejects" for a row that is not data
# about a known subject (left out), "data_issues" for a value kept in SDTM as far as reliable
# and queried (fragment: "VARIABLE: issue")
REJECTED: dict[str, tuple[Mutation, tuple[str, str, str, str, str]]] = {
    "ae-subject-not-in-dm": (_ae_subject_not_in_dm,
                             ("ae.csv", "2", "SUBJECT", "subject not in DM", "rejects")),
    "dm-duplicate-subject": (_duplicate_dm_subject,
                             ("dm.csv", "6", "SUBJECT",
                              "subject appears more than once (first at row 1)", "rejects")),
    "date-31-feb": (_ae_start("31-FEB-2021"),
                    ("ae.csv", "1", "AESTDAT", "AESTDTC: day 31 does not exist in 2021-02",
                     "data_issues")),
    "date-month-13": (_ae_start("2021-13-01"),
                      ("ae.csv", "1", "AESTDAT", "AESTDTC: month 13 out of range",
                       "data_issues")),
    "date-yesterday": (_ae_start("yesterday"),
                       ("ae.csv", "1", "AESTDAT", "AESTDTC: not a date", "data_issues")),
    "date-ambiguous": (_ae_start("03/04/2021"),
                       ("ae.csv", "1", "AESTDAT", "AESTDTC: ambiguous date format",
                        "data_issues")),
    "date-year-1899": (_ae_start("1899-05-01"),
                       ("ae.csv", "1", "AESTDAT", "AESTDTC: year 1899 outside 1900-2100",
                        "data_issues")),
    "date-year-2999": (_ae_start("2999-05-01"),
                       ("ae.csv", "1", "AESTDAT", "AESTDTC: year 2999 outside 1900-2100",
                        "data_issues")),
    "birth-year-1899": (_birth_date("01-JAN-1899"),
                        ("dm.csv", "1", "BRTHDAT", "BRTHDTC: year 1899 outside 1900-2100",
                         "data_issues")),
    "birth-year-2999": (_birth_date("01-JAN-2999"),
                        ("dm.csv", "1", "BRTHDAT", "BRTHDTC: year 2999 outside 1900-2100",
                         "data_issues")),
    "dose-decimal-comma": (_infusion_dose('"1,5"'),
                           ("cart.csv", "1", "INFDOSE", "EXDOSE: not a number", "data_issues")),
    "dose-with-unit": (_infusion_dose("10 mg"),
                       ("cart.csv", "1", "INFDOSE", "EXDOSE: not a number", "data_issues")),
    "dose-negative": (_infusion_dose("-5"),
                      ("cart.csv", "1", "INFDOSE", "EXDOSE: below the plausible minimum 0",
                       "data_issues")),
    "dose-1e12-cells-per-kg": (_infusion_dose("1e12"),
                               ("cart.csv", "1", "INFDOSE",
                                "EXDOSE: above the plausible maximum 100", "data_issues")),
    "dose-infinite": (_infusion_dose("inf"),
                      ("cart.csv", "1", "INFDOSE", "EXDOSE: not a number", "data_issues")),
    "xpt-dose-negative": (lambda raw, _: set_ld_dose(raw, -5.0),
                          ("ld.xpt", "1", "LDDOSE", "EXDOSE: below the plausible minimum 0",
                           "data_issues")),
    "xpt-dose-1e12": (lambda raw, _: set_ld_dose(raw, 1e12),
                      ("ld.xpt", "1", "LDDOSE", "EXDOSE: above the plausible maximum 2000",
                       "data_issues")),
    "age-decimal-comma": (_age('"1,5"'),
                          ("dm.csv", "1", "AGE", "AGE: not a number", "data_issues")),
    "age-with-unit": (_age("34 years"), ("dm.csv", "1", "AGE", "AGE: not a number",
                                         "data_issues")),
    # DM.yaml bounds AGE to 0-120; non-finite spellings (inf, 1e400) are not numbers
    "age-negative": (_age("-5"), ("dm.csv", "1", "AGE", "AGE: below the plausible minimum",
                                  "data_issues")),
    "age-absurd": (_age("1e12"), ("dm.csv", "1", "AGE", "AGE: above the plausible maximum",
                                  "data_issues")),
    "age-infinite": (_age("inf"), ("dm.csv", "1", "AGE", "AGE: not a", "data_issues")),
}


@pytest.mark.parametrize("mutate,expected", [pytest.param(*v, id=k) for k, v in REJECTED.items()])
def test_bad_value_is_rejected_or_queried_with_reason(study, mutate: Mutation,
                                                      expected: tuple[str, str, str, str, str]
                                                      ) -> None:
    """A row about nobody known is left out with its reason; a bad value of a known subject's
    record keeps the record (nothing collected is dropped) and is listed with its query."""
    raw, mapping, out = study
    mutate(raw, mapping)
    result = sdtm(raw, mapping, out)
    assert result.exit_code == 0, result.output
    file, row, column, fragment, where = expected
    rej = rejects(out)
    issues = pd.read_csv(out / "data_issues.csv", dtype=str, keep_default_na=False)
    listed = rej if where == "rejects" else issues
    hit = listed[(listed["file"] == file) & (listed["row"] == row) & (listed["column"] == column)]
    assert not hit.empty, listed.to_string()
    if where == "rejects":
        assert hit["reason"].str.contains(fragment, regex=False).any(), hit.to_string()
        return
    variable, _, issue = fragment.partition(": ")
    assert (hit["variable"].str.split().apply(lambda v: variable in v)).any(), hit.to_string()
    assert hit["issue"].str.contains(issue, regex=False).any(), hit.to_string()
    assert (hit["query"].str.len() > 0).all()
    assert not ((rej["file"] == file) & (rej["row"] == row)).any()  # the record is kept
    rec = pd.read_csv(out / "reconciliation.csv").set_index("file")
    assert rec.loc[file, "rejected"] == rej.loc[rej["file"] == file, "row"].nunique()


# ---------------------------------------------------------------------------------------------
# mapping specs


def _python_tag(_: Path, mapping: Path) -> None:
    shutil.copy(CORPUS / "python_tag.yaml", mapping / "EX.yaml")


def _alias_bomb(_: Path, mapping: Path) -> None:
    shutil.copy(CORPUS / "alias_bomb.yaml", mapping / "EX.yaml")


def _deep_nesting(_: Path, mapping: Path) -> None:
    (mapping / "EX.yaml").write_text("domain: " + "[" * 20000 + "]" * 20000 + "\n")


def _duplicate_key(_: Path, mapping: Path) -> None:
    sub(mapping / "EX.yaml", "      EXCAT: {hardcode: CAR-T}\n",
        "      EXCAT: {hardcode: CAR-T}\n      EXCAT: {hardcode: LYMPHODEPLETION}\n")


def _derivation_scalar(_: Path, mapping: Path) -> None:
    with (mapping / "EX.yaml").open("a") as fh:
        fh.write("derivations:\n  - last_observation_before_exposure: 5\n")


SPEC_ERRORS: dict[str, tuple[Mutation, tuple[str, ...]]] = {
    "yaml-python-tag": (_python_tag, ("EX.yaml, row 2: invalid YAML: tags are not allowed",
                                      "python/object/apply:os.system")),
    "yaml-billion-laughs": (_alias_bomb,
                            ("EX.yaml, row 2: YAML anchors and aliases are not allowed",)),
    "yaml-deep-nesting": (_deep_nesting, ("EX.yaml, row 1: YAML nested deeper than",)),
    "yaml-duplicate-key": (_duplicate_key, ("EX.yaml, row", "duplicate key 'EXCAT'")),
    "yaml-tab-indent": (lambda _, m: (m / "EX.yaml").write_text("domain: EX\nrecords:\n\t- a\n"),
                        ("EX.yaml, row 3: invalid YAML",)),
    "yaml-latin1": (lambda _, m: (m / "EX.yaml").write_bytes(b"# caf\xe9\ndomain: EX\n"),
                    ("EX.yaml, row 1: not UTF-8 text: byte 0xe9",)),
    "yaml-not-a-mapping": (lambda _, m: (m / "study.yaml").write_text("- DM\n- EX\n"),
                           ("study.yaml: study.yaml must be a mapping",)),
    "yaml-empty": (lambda _, m: (m / "EX.yaml").write_text(""),
                   ("EX.yaml: EX.yaml must be a mapping",)),
    "unknown-algorithm": (
        lambda _, m: sub(m / "EX.yaml", "{hardcode: INTRAVENOUS}", "{frobnicate: INTRAVENOUS}"),
        ("EX.yaml: EXROUTE: unknown algorithm or option ['frobnicate']",)),
    "rule-not-a-mapping": (lambda _, m: sub(m / "EX.yaml", "{hardcode: INTRAVENOUS}", "IV"),
                           ("EX.yaml: EXROUTE: rule must be a mapping",)),
    "unknown-domain": (lambda _, m: sub(m / "EX.yaml", "domain: EX", "domain: ZZ"),
                       ("EX.yaml: domain: dataset ZZ is not defined",)),
    "unknown-source": (lambda _, m: sub(m / "EX.yaml", "source: cart", "source: nowhere"),
                       ("EX.yaml: records[1] uses source 'nowhere', not declared",)),
    "derivation-params-not-a-mapping": (_derivation_scalar,
                                        ("EX.yaml: derivation last_observation_before_exposure "
                                         "needs a mapping",)),
    "source-path-escapes-raw-folder": (
        lambda _, m: sub(m / "study.yaml", "{file: dm.csv}", "{file: ../../etc/passwd}"),
        ("study.yaml: path '../../etc/passwd' points outside",)),
    "source-absolute-path": (
        lambda _, m: sub(m / "study.yaml", "{file: dm.csv}", "{file: /etc/passwd}"),
        ("study.yaml: path '/etc/passwd' points outside",)),
    "ct-map-escapes-mapping-folder": (
        lambda _, m: sub(m / "study.yaml", "ct_map: ct_map.csv", "ct_map: ../../../etc/passwd"),
        ("study.yaml: path '../../../etc/passwd' points outside",)),
    "domain-name-escapes-mapping-folder": (
        lambda _, m: sub(m / "study.yaml", "domains: [DM, EX, AE]", "domains: [DM, ../../x]"),
        ("study.yaml: path '../../X.yaml' points outside",)),
    "visits-missing-columns": (lambda _, m: (m / "visits.csv").write_text("a,b\n1,2\n"),
                               ("visits.csv, row 0: visit table lacks columns",)),
    "visits-visitnum-text": (lambda _, m: (m / "visits.csv").write_text(
        "folder,visitnum,visit\nSCR,one,SCREENING\n"),
        ("visits.csv, row 1, column visitnum: visitnum is not a number (value 'one')",)),
    "ct-map-missing-columns": (lambda _, m: (m / "ct_map.csv").write_text("a,b\n1,2\n"),
                               ("ct_map.csv: CT map lacks columns",)),
    "study-yaml-missing": (lambda _, m: (m / "study.yaml").unlink(),
                           ("study.yaml: file not found",)),
}


@pytest.mark.parametrize("mutate,fragments", list(SPEC_ERRORS.values()), ids=list(SPEC_ERRORS))
def test_bad_mapping_spec_is_one_line_exit_2(study, mutate: Mutation,
                                             fragments: tuple[str, ...],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    raw, mapping, out = study
    monkeypatch.chdir(out.parent)
    mutate(raw, mapping)
    message = assert_one_line_error(sdtm(raw, mapping, out), out, *fragments)
    assert "root:" not in message  # nothing of /etc/passwd was read into the message
    assert not (out.parent / "PWNED_BY_YAML").exists()


def test_bad_adam_config_is_one_line_exit_2(sdtm_out: Path, tmp_path: Path) -> None:
    out = tmp_path / "adam"
    for name, problem in (("python_tag.yaml", "invalid YAML: tags are not allowed"),
                          ("alias_bomb.yaml", "YAML anchors and aliases are not allowed")):
        result = invoke("adam", str(sdtm_out), "--out", str(out), "--config",
                        str(CORPUS / name))
        assert_one_line_error(result, out, f"{name}, row 2: {problem}")


# ---------------------------------------------------------------------------------------------
# define.xml / datasets given to `cdisc validate` and `cdisc adam`


def _copy_sdtm(sdtm_out: Path, folder: Path) -> Path:
    shutil.copytree(sdtm_out, folder)
    return folder


def _with_doctype(define: Path, doctype: str, reference: str) -> None:
    text = define.read_text(encoding="utf-8")
    declaration, rest = text.split("\n", 1)
    rest = rest.replace('<TranslatedText xml:lang="en">',
                        f'<TranslatedText xml:lang="en">{reference}', 1)
    define.write_text(f"{declaration}\n{doctype}{rest}", encoding="utf-8")


@pytest.mark.parametrize("doctype,reference", [
    pytest.param("xxe_doctype.xml", "&xxe;", id="xxe-file-etc-passwd"),
    pytest.param("lol_doctype.xml", "&lol9;", id="entity-expansion-bomb"),
])
def test_define_with_entities_is_refused(sdtm_out: Path, tmp_path: Path, doctype: str,
                                         reference: str) -> None:
    folder = _copy_sdtm(sdtm_out, tmp_path / "sdtm")
    _with_doctype(folder / "define.xml", (CORPUS / doctype).read_text(), reference)
    for args in ([], ["--no-gx"]):
        result = invoke("validate", str(folder), *args)
        message = assert_one_line_error(result, None, "define.xml, row 2: DOCTYPE/ENTITY "
                                        "declarations are not allowed")
        assert "root:" not in result.output and "lollol" not in result.output
        assert len(message) < 300
    # --define pointing at the same file: same refusal
    define = tmp_path / "elsewhere.xml"
    shutil.copy(folder / "define.xml", define)
    (folder / "define.xml").unlink()
    result = invoke("validate", str(folder), "--no-gx", "--define", str(define))
    assert_one_line_error(result, None, "elsewhere.xml, row 2: DOCTYPE")


def test_safe_parser_never_expands_entities(sdtm_out: Path, tmp_path: Path) -> None:
    """Below the refusal: the parser itself neither reads files nor expands entities."""
    from lxml import etree

    from cdisc.define import safe_parser

    define = tmp_path / "define.xml"
    shutil.copy(sdtm_out / "define.xml", define)
    _with_doctype(define, (CORPUS / "xxe_doctype.xml").read_text(), "&xxe;")
    root = etree.fromstring(define.read_bytes(), safe_parser())
    assert "root:" not in etree.tostring(root, encoding="unicode")


def test_malformed_define_is_one_line_exit_2(sdtm_out: Path, tmp_path: Path) -> None:
    folder = _copy_sdtm(sdtm_out, tmp_path / "sdtm")
    data = (folder / "define.xml").read_bytes()
    (folder / "define.xml").write_bytes(data[: len(data) // 2])
    result = invoke("validate", str(folder), "--no-gx")
    assert_one_line_error(result, None, "define.xml, row", "not well-formed XML")


def _dm_random(folder: Path) -> None:
    import random

    rng = random.Random(7)
    (folder / "dm.xpt").write_bytes(bytes(rng.randrange(256) for _ in range(80 * 40)))


DATASET_ERRORS: dict[str, tuple[Callable[[Path], None], str]] = {
    "xpt-0-bytes": (lambda f: (f / "dm.xpt").write_bytes(b""),
                    "dm.xpt: XPT file is empty (0 bytes)"),
    "xpt-random-bytes": (_dm_random, "dm.xpt: cannot read XPT (corrupt, truncated or not XPT?)"),
    "xpt-first-half": (lambda f: (f / "dm.xpt").write_bytes((f / "dm.xpt").read_bytes()[:1000]),
                       "dm.xpt: truncated or corrupt XPT: 1000 bytes"),
    "xpt-cut-in-observations": (
        lambda f: (f / "dm.xpt").write_bytes((f / "dm.xpt").read_bytes()[:-30]),
        "dm.xpt: truncated or corrupt XPT"),
    "json-truncated": (
        lambda f: ((f / "dm.xpt").unlink(),
                   (f / "dm.json").write_bytes((f / "dm.json").read_bytes()[:500])),
        "dm.json: not a Dataset-JSON file"),
}


@pytest.mark.parametrize("command", ["validate", "adam"])
@pytest.mark.parametrize("mutate,fragment", list(DATASET_ERRORS.values()),
                         ids=list(DATASET_ERRORS))
def test_broken_dataset_is_one_line_exit_2(sdtm_out: Path, tmp_path: Path, command: str,
                                           mutate: Callable[[Path], None],
                                           fragment: str) -> None:
    folder = _copy_sdtm(sdtm_out, tmp_path / "sdtm")
    mutate(folder)
    out = tmp_path / "adam"
    if command == "validate":
        assert_one_line_error(invoke("validate", str(folder), "--no-gx"), None, fragment)
    else:
        assert_one_line_error(invoke("adam", str(folder), "--out", str(out)), out, fragment)


def test_adam_without_dm_is_one_line_exit_2(sdtm_out: Path, tmp_path: Path) -> None:
    folder = _copy_sdtm(sdtm_out, tmp_path / "sdtm")
    (folder / "dm.xpt").unlink()
    (folder / "dm.json").unlink()
    out = tmp_path / "adam"
    assert_one_line_error(invoke("adam", str(folder), "--out", str(out)), out,
                          "no DM dataset (dm.xpt or dm.json)")


# ---------------------------------------------------------------------------------------------
# outputs that cannot be written


@pytest.mark.parametrize("command", ["sdtm", "run", "adam", "demo"])
def test_output_under_a_regular_file_is_one_line_exit_2(study, sdtm_out: Path, tmp_path: Path,
                                                        command: str) -> None:
    raw, mapping, _ = study
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder\n")
    out = blocker / "out"
    args = {"sdtm": ["sdtm", str(raw), "--mapping", str(mapping), "--out", str(out)],
            "run": ["run", str(raw), "--mapping", str(mapping), "--out", str(out)],
            "adam": ["adam", str(sdtm_out), "--out", str(out)],
            "demo": ["demo", str(out), "--subjects", "2"]}[command]
    assert_one_line_error(invoke(*args), None, str(out), "cannot write to", str(blocker))
    assert blocker.read_text() == "not a folder\n"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(("raw", "map"))) \
        == ["file.txt"]


@pytest.mark.parametrize("option", ["--json", "--junit", "--html"])
def test_validate_report_under_a_regular_file_is_one_line_exit_2(sdtm_out: Path, tmp_path: Path,
                                                                 option: str) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    target = blocker / "report"
    result = invoke("validate", str(sdtm_out), "--no-gx", "--quiet", option, str(target))
    assert_one_line_error(result, None, f"{target}: cannot write report")


# ---------------------------------------------------------------------------------------------
# `cdisc run` goes through the same checks; real processes print no traceback


def test_run_reports_the_same_one_line_errors(study) -> None:
    raw, mapping, out = study
    _latin1(raw, mapping)
    result = invoke("run", str(raw), "--mapping", str(mapping), "--out", str(out))
    assert_one_line_error(result, out, "ae.csv: not UTF-8 text: byte 0xe9 at line 3")


@pytest.mark.parametrize("case", ["unclosed-quote", "yaml-python-tag"])
def test_subprocess_stderr_is_one_line_without_traceback(study, case: str) -> None:
    raw, mapping, out = study
    mutate = RAW_ERRORS[case][0] if case in RAW_ERRORS else SPEC_ERRORS[case][0]
    mutate(raw, mapping)
    proc = subprocess.run([sys.executable, "-m", "cdisc.cli", "sdtm", str(raw), "--mapping",
                           str(mapping), "--out", str(out)], capture_output=True, text=True,
                          timeout=120, cwd=out.parent,
                          env={k: v for k, v in os.environ.items() if k != "CDISC_DEBUG"})
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    assert_no_debris(out)
    assert not (out.parent / "PWNED_BY_YAML").exists()


def test_ae_term_over_200_characters_goes_on_in_suppae(study) -> None:
    """SDTMIG v3.4 section 4.5.3.2: a 250-character verbatim term keeps its first 200
    characters (cut between words) in AETERM and the rest in SUPPAE QNAM AETERM1; the run is
    clean, nothing is lost."""
    raw, mapping, out = study
    words = [f"word{i:03d}" for i in range(32)]   # 32 x 7 characters + 31 blanks = 255
    term = " ".join(words)
    assert len(term) == 255
    sub(raw / "ae.csv", ",fever,", f",{term},")
    result = sdtm(raw, mapping, out)
    assert result.exit_code == 0, result.output
    import pyreadstat

    ae, _ = pyreadstat.read_xport(str(out / "ae.xpt"))
    supp, _ = pyreadstat.read_xport(str(out / "suppae.xpt"))
    kept = ae[ae["AETERM"].str.startswith("word000")]
    assert len(kept) == 1
    # 25 words and 24 blanks = 199 characters fit in 200; the 26th word would not
    assert kept["AETERM"].iloc[0] == " ".join(words[:25])
    rest = supp[(supp["QNAM"] == "AETERM1") & (supp["USUBJID"] == kept["USUBJID"].iloc[0])]
    assert rest["QVAL"].tolist() == [" ".join(words[25:])]
    assert rest["QLABEL"].tolist() == ["Reported Term for the Adverse Event 1"]
    assert rest["IDVARVAL"].tolist() == [str(int(kept["AESEQ"].iloc[0]))]
