"""Collected value -> CDISC submission value, through a codelist and a study-level CT map.

Lookup order for one collected value (after normalising case, blanks and the micro sign):
1. the study CT map (mappings/<study>/ct_map.csv: codelist, collected, submission);
2. the codelist's submission values;
3. the codelist's CDISC synonyms and NCI preferred terms (only those that name one term).
A value found nowhere is returned as unmapped: the caller rejects or flags it, never blanks it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cdisc.distinct import on_distinct
from cdisc.errors import SpecError
from cdisc.specs import Codelist, Specs
from cdisc.text import text_column

_MICRO = str.maketrans({"\u00b5": "u", "\u03bc": "u"})


def normalise(values: pd.Series) -> pd.Series:
    """Trim, collapse inner blanks, fold case and spell the micro sign as 'u'."""
    return on_distinct(_normalise, values)


def _normalise(values: pd.Series) -> pd.Series:
    text = text_column(values)
    return (text.str.translate(_MICRO).str.strip().str.replace(r"\s+", " ", regex=True)
            .str.casefold())


def normalise_one(value: str) -> str:
    return " ".join(value.translate(_MICRO).split()).casefold()


@dataclass
class StudyCT:
    """Study-level synonyms: {codelist key: {normalised collected value: submission value}}.

    The codelist key is a CDISC codelist (C-code or short name) or a study-defined list name
    (e.g. ISO3166) whose terms exist only here.
    """

    maps: dict[str, dict[str, str]] = field(default_factory=dict)
    source: str = ""

    @classmethod
    def load(cls, path: Path, specs: Specs) -> StudyCT:
        out = cls(source=str(path))
        if not path.exists():
            return out
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = {"codelist", "collected", "submission"} - set(reader.fieldnames or [])
            if missing:
                raise SpecError(f"CT map lacks columns {sorted(missing)}", file=str(path))
            for row_no, row in enumerate(reader, start=1):
                key = _codelist_key(row["codelist"].strip(), specs)
                collected = normalise_one(row["collected"])
                submission = row["submission"].strip()
                previous = out.maps.setdefault(key, {}).get(collected)
                if previous is not None and previous != submission:
                    raise SpecError(f"collected value {row['collected']!r} maps to both "
                                    f"{previous!r} and {submission!r}", file=str(path), row=row_no)
                out.maps[key][collected] = submission
        return out


def _codelist_key(name: str, specs: Specs) -> str:
    """C-code for a CDISC codelist, the name itself for a study-defined list."""
    try:
        return specs.codelist(name).code
    except SpecError:
        return name


@dataclass
class CTLookup:
    """One codelist (CDISC or study-defined) ready for vectorised lookups."""

    key: str
    codelist: Codelist | None
    table: dict[str, str]

    def map(self, values: pd.Series) -> tuple[pd.Series, pd.Series]:
        """Return (submission values, unmapped mask); missing input stays "" and is not unmapped."""
        norm = normalise(values)
        mapped = norm.map(self.table)
        unmapped = mapped.isna() & (norm != "")
        return mapped.fillna("").astype(object), unmapped


def build_lookup(name: str, specs: Specs, study_ct: StudyCT) -> CTLookup:
    key = _codelist_key(name, specs)
    codelist = specs.codelists.get(key)
    table: dict[str, str] = {}
    if codelist is not None:
        ambiguous: set[str] = set()
        for term in codelist.terms.values():
            for alias in (*term.synonyms, term.preferred_term):
                a = normalise_one(alias)
                if a in table and table[a] != term.submission_value:
                    ambiguous.add(a)
                table.setdefault(a, term.submission_value)
        for a in ambiguous:
            del table[a]
        # submission values win over another term's synonym
        table.update({normalise_one(v): v for v in codelist.terms})
    elif key not in study_ct.maps:
        raise SpecError(f"codelist {name} is neither in specs/ct nor in the study CT map")
    table.update(study_ct.maps.get(key, {}))
    return CTLookup(key=key, codelist=codelist, table=table)
