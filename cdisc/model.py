"""In-memory results passed between stages: a dataset's table plus the metadata writers need.

Conventions for ``Dataset.data`` (a pandas DataFrame):
- columns are exactly ``[c.name for c in columns]``, in that order;
- Char columns hold Python ``str`` (object dtype), missing values as "" (as SAS stores them);
- Num columns are float64, missing as NaN. Dates in ADaM are numeric SAS dates (days since
  1960-01-01) with ``display_format`` "DATE9." (datetimes: seconds, "DATETIME20.").
- Traceability (source file and row of each record) lives in ``trace``, never in ``data``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Origin:
    """Define-XML 2.1 def:Origin: Type is Collected, Derived, Assigned, Protocol or Predecessor."""

    type: str
    source: str | None = None  # Investigator, Sponsor, Subject, Vendor (for Collected)
    description: str | None = None  # e.g. the predecessor variable "DM.AGE"
    pages: tuple[str, str] | None = None  # (leaf ID of the annotated CRF, "12 13"): def:PageRefs


@dataclass(frozen=True)
class SponsorCodelist:
    """A codelist the sponsor defines (PARAMCD with its PARAM, CNSR per parameter, AGEGR1):
    a define.xml CodeList without a C-code; items are (coded value, decode or "")."""

    oid: str
    name: str
    data_type: str  # text, integer
    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    type: str  # "Char" or "Num"
    display_format: str | None = None  # e.g. "DATE9." for numeric dates
    codelist: str | SponsorCodelist | None = None  # C-code of the CT codelist, or the sponsor's
    origin: Origin = Origin("Derived")
    method: str | None = None  # plain-text description of the derivation, for MethodDef
    core: str = "Perm"
    value_domain: str = ""  # e.g. "ISO 8601 datetime or interval"
    comment: str | None = None  # a sponsor decision the reviewer must know (def:CommentDef)
    # value-level codelists: first where-clause value (a PARAMCD) -> codelist of those values
    value_codelists: tuple[tuple[str, str | SponsorCodelist], ...] = ()
    value_methods: tuple[tuple[str, str], ...] = ()  # the same, for the derivation's text


@dataclass
class Dataset:
    name: str  # upper case, <= 8 chars, e.g. "DM"
    label: str
    columns: list[Column]
    data: pd.DataFrame
    keys: tuple[str, ...] = ()
    dataset_class: str = ""  # e.g. "SPECIAL PURPOSE", "EVENTS"
    structure: str = ""
    standard: str = "SDTMIG"  # or "ADaMIG"
    # source file and 1-based row of each output record, aligned with data's rows
    trace: pd.DataFrame | None = field(default=None, repr=False)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)
