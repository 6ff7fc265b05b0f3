"""The safety summary of the clinical study report from ADSL and ADAE (adam.yaml
`adverse_events.tables`): an overview of subjects with events, treatment-emergent events by
system organ class and preferred term (any grade and the configured severe grades),
treatment-related events likewise, and the configured event groups (CRS, ICANS) by maximum
grade. Each table counts subjects, once per row: n (%) of the population per dose cohort and
in total. Written as CSV and one HTML page under OUT/adam/tables/."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cdisc.adam.inputs import where_mask

TOTAL = "Total"
NOT_CODED = "Not coded"


@dataclass(frozen=True)
class Table:
    name: str  # file stem
    title: str
    frame: pd.DataFrame  # display cells, first columns are row labels


def cohorts(adsl: pd.DataFrame, population: str, column: str, order: str | None
            ) -> list[tuple[str, pd.Index]]:
    """(label, USUBJIDs) per cohort of the population in the configured order, then Total."""
    pop = adsl[adsl[population] == "Y"]
    by = order if order and order in pop else column
    labels = pop.sort_values(by, kind="stable")[column].drop_duplicates()
    out = [(str(v), pd.Index(pop.loc[pop[column] == v, "USUBJID"])) for v in labels]
    return out + [(TOTAL, pd.Index(pop["USUBJID"]))]


def n_percent(n: int, total: int) -> str:
    """'n (pp.p)'; '0' when nobody; the denominator is the column's N."""
    if n == 0 or total == 0:
        return "0"
    return f"{n} ({100.0 * n / total:.1f})"


def subject_numbers(records: pd.DataFrame, columns: list[tuple[str, pd.Index]]) -> list[int]:
    """The number of subjects with at least one of the records, per column."""
    subjects = set(records["USUBJID"])
    return [len(subjects.intersection(ids)) for _, ids in columns]


def subject_counts(records: pd.DataFrame, columns: list[tuple[str, pd.Index]]) -> list[str]:
    """Cells of one row: the subjects with at least one of the records, per column."""
    return [n_percent(n, len(ids))
            for n, (_, ids) in zip(subject_numbers(records, columns), columns, strict=True)]


def _header(columns: list[tuple[str, pd.Index]], suffix: str = "") -> list[str]:
    return [f"{label} (N={len(ids)}){suffix}" for label, ids in columns]


def _selected(adae: pd.DataFrame, where: dict, min_grade: float | None,
              columns: list[str]) -> pd.DataFrame:
    """The columns a table needs of the records the filter (and minimum grade) selects; only
    those columns, since ADAE has dozens and a table reads two or three."""
    keep = where_mask(adae, where, "ADAE")
    if min_grade is not None:
        keep &= adae["ATOXGRN"] >= min_grade
    return adae.loc[keep, columns]


def overview_tables(adsl: pd.DataFrame, adae: pd.DataFrame, spec: dict) -> list[Table]:
    """One row per configured line: subjects with an ADAE record the filter (and minimum
    grade) selects, or with an ADSL `subjects` filter. Lines that name another population
    than the tables' go to an overview of their own, with that population's columns."""
    main = str(spec.get("population", "SAFFL"))
    lines: dict[str, list[dict]] = {}
    for line in spec.get("overview") or []:
        lines.setdefault(str(line.get("population", main)), []).append(line)
    tables = []
    for population, group in lines.items():
        columns = cohorts(adsl, population, *_column_spec(spec))
        rows = []
        for line in group:
            if line.get("subjects"):
                records = adsl[where_mask(adsl, line["subjects"], "ADSL")]
            else:
                records = _selected(adae, line.get("where") or {}, line.get("min_grade"),
                                    ["USUBJID"])
            rows.append([str(line["label"]), *subject_counts(records, columns)])
        frame = pd.DataFrame(rows, columns=["Subjects with", *_header(columns)])
        suffix = "" if population == main else f"_{population.lower()}"
        tables.append(Table(f"overview{suffix}", f"Overview of adverse events, subjects with "
                            f"{population} = Y: n (%)", frame))
    return tables


def _column_spec(spec: dict) -> tuple[str, str | None]:
    column = dict(spec.get("columns") or {})
    return str(column.get("variable", "TRT01A")), column.get("order")


def _subjects_by(records: pd.DataFrame, by: list[str], columns: list[tuple[str, pd.Index]]
                 ) -> dict[tuple, list[int]]:
    """Per group of the records (by; groups with a missing key are left out), the number of
    distinct subjects in each column: one pass instead of a filter per row of the table."""
    pairs = records.drop_duplicates([*by, "USUBJID"])
    member = pd.DataFrame({i: pairs["USUBJID"].isin(ids) for i, (_, ids) in enumerate(columns)},
                          index=pairs.index, copy=False)
    counts = member.groupby([pairs[b] for b in by]).sum()
    keys = [key if isinstance(key, tuple) else (key,) for key in counts.index]
    return dict(zip(keys, counts.to_numpy().tolist(), strict=True))


def _ranked(counts: dict) -> list:
    """Groups (group -> distinct subjects) by descending number of subjects, then
    alphabetically."""
    return [key for key, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def soc_pt_table(adae: pd.DataFrame, columns: list[tuple[str, pd.Index]], where: dict,
                 severe: float, name: str, title: str) -> Table:
    """Subjects with events by SOC and PT: per column any grade and grade >= severe."""
    events = _selected(adae, where, None, ["USUBJID", "AEBODSYS", "AEDECOD", "AETERM",
                                           "ATOXGRN"])
    events["AEBODSYS"] = events["AEBODSYS"].replace("", NOT_CODED)
    events["AEDECOD"] = events["AEDECOD"].where(events["AEDECOD"] != "", events["AETERM"])
    high = events[events["ATOXGRN"] >= severe]
    totals = [len(ids) for _, ids in columns]

    def cells(any_n: list[int], high_n: list[int]) -> list[str]:
        out = []
        for n_any, n_high, total in zip(any_n, high_n, totals, strict=True):
            out += [n_percent(n_any, total), n_percent(n_high, total)]
        return out

    # the first row counts every selected record (also those with a missing SOC or PT)
    rows = [["Any event", "", *cells(subject_numbers(events, columns),
                                     subject_numbers(high, columns))]]
    by_soc, by_pt = ["AEBODSYS"], ["AEBODSYS", "AEDECOD"]
    any_soc, high_soc = (_subjects_by(e, by_soc, columns) for e in (events, high))
    any_pt, high_pt = (_subjects_by(e, by_pt, columns) for e in (events, high))
    none = [0] * len(columns)  # a group without severe events
    # the order of the rows: subjects with any such event, whatever their column
    soc_n = events.groupby(by_soc)["USUBJID"].nunique().to_dict()
    pt_n: dict[str, dict[str, int]] = {}
    for (soc, pt), n in events.groupby(by_pt)["USUBJID"].nunique().items():
        pt_n.setdefault(soc, {})[pt] = n
    for soc in _ranked(soc_n):
        rows.append([soc, "", *cells(any_soc[(soc,)], high_soc.get((soc,), none))])
        for pt in _ranked(pt_n.get(soc, {})):
            rows.append(["", pt, *cells(any_pt[(soc, pt)], high_pt.get((soc, pt), none))])
    header = []
    for label, ids in columns:
        header += [f"{label} (N={len(ids)}) any grade",
                   f"{label} (N={len(ids)}) grade >= {severe:g}"]
    frame = pd.DataFrame(rows, columns=["System organ class", "Preferred term", *header])
    return Table(name, title, frame)


def max_grade_table(adae: pd.DataFrame, columns: list[tuple[str, pd.Index]], where: dict,
                    groups: list[str]) -> Table:
    """Per event group variable (CQzzNAM): subjects by their maximum grade, and any grade."""
    rows = []
    events = _selected(adae, where, None, ["USUBJID", "ATOXGRN", *groups])
    for var in groups:
        in_group = events[events[var] != ""]
        name = str(in_group[var].iloc[0]) if not in_group.empty else var
        worst = in_group.groupby("USUBJID")["ATOXGRN"].max().reset_index()
        rows.append([name, "Any grade", *subject_counts(worst, columns)])
        for grade in range(1, 6):
            rows.append([name, f"Grade {grade}",
                         *subject_counts(worst[worst["ATOXGRN"] == grade], columns)])
        rows.append([name, "Grade missing",
                     *subject_counts(worst[worst["ATOXGRN"].isna()], columns)])
    frame = pd.DataFrame(rows, columns=["Event", "Maximum grade", *_header(columns)])
    return Table("max_grade", "Events of special interest by maximum grade: subjects, n (%)",
                 frame)


def safety_tables(adsl: pd.DataFrame, adae: pd.DataFrame, spec: dict) -> list[Table]:
    column, order = _column_spec(spec)
    columns = cohorts(adsl, str(spec.get("population", "SAFFL")), column, order)
    emergent = {str(spec.get("emergent", "TRTEMFL")): "Y"}
    severe = float(spec.get("severe_grade", 3))
    related = {**emergent, **dict(spec.get("related") or {})}
    return [
        *overview_tables(adsl, adae, spec),
        soc_pt_table(adae, columns, emergent, severe, "teae_by_soc_pt",
                     "Treatment-emergent adverse events by system organ class and preferred "
                     "term: subjects, n (%)"),
        soc_pt_table(adae, columns, related, severe, "related_teae_by_soc_pt",
                     "Treatment-related treatment-emergent adverse events by system organ "
                     "class and preferred term: subjects, n (%)"),
        max_grade_table(adae, columns, emergent, [str(v) for v in spec.get("by_max_grade")
                                                  or []]),
    ]


def _html_table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.frame.columns)
    body = []
    for row in table.frame.itertuples(index=False):
        body.append("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>")
    return (f'<h2 id="{table.name}">{html.escape(table.title)}</h2>\n<table><thead><tr>{head}'
            f"</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table>")


def write_safety_tables(tables: list[Table], folder: Path, studyid: str, notes: list[str]
                        ) -> None:
    """folder/<name>.csv per table and folder/safety_tables.html with all of them."""
    folder.mkdir(parents=True, exist_ok=True)
    for table in tables:
        table.frame.to_csv(folder / f"{table.name}.csv", index=False, lineterminator="\n")
    toc = "".join(f'<li><a href="#{t.name}">{html.escape(t.title)}</a></li>' for t in tables)
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(studyid)} safety tables</title><style>{CSS}</style></head>"
            f"<body><h1>{html.escape(studyid)}: safety summary</h1><ol>{toc}</ol>"
            + "".join(f"<p>{html.escape(n)}</p>" for n in notes)
            + "\n".join(_html_table(t) for t in tables) + "</body></html>\n")
    (folder / "safety_tables.html").write_text(page, encoding="utf-8")


CSS = ("body{font-family:Arial,Helvetica,sans-serif;font-size:13px;margin:24px;color:#222}"
       "table{border-collapse:collapse;margin:6px 0 18px 0}"
       "th{background:#35608f;color:#fff;text-align:left;padding:4px 6px}"
       "td{border:1px solid #c8c8c8;padding:3px 6px}tr:nth-child(even) td{background:#f2f5f9}")


def table_notes(spec: dict) -> list[str]:
    population = spec.get("population", "SAFFL")
    return [f"Subjects are counted once per row. Percentages of the subjects with {population}"
            f" = Y in each column (N). Treatment-emergent: {spec.get('emergent', 'TRTEMFL')} ="
            " Y. Grades are ADAE.ATOXGRN. System organ classes, and preferred terms within "
            "them, by descending number of subjects; an event without a coded term is listed "
            f"under its reported term in '{NOT_CODED}'.",
            *[str(n) for n in spec.get("notes") or []]]
