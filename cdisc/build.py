"""The one step from a derived table to a Dataset, shared by SDTM domains, trial design and ADaM.

Before anything is written, the data is checked against the metadata the way xportr checks a
dataset against its specification: each variable's values can be its type, its type and label
are the ones specs/ gives, names and labels fit XPT v5, and SDTM variables come in IG order. A
mismatch is an error naming the dataset, the variable and, for a value, the row; nothing is
coerced silently. Then the values are stored as Dataset.data holds them (cdisc/model.py): Num
as float64 with NaN for missing, Char as str with "" for missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc.errors import ConformanceError, SpecError
from cdisc.io.xpt import NAME_RE
from cdisc.model import Column, Dataset
from cdisc.specs import Specs
from cdisc.text import text_column

MAX_LABEL = 40


def numeric_values(values: pd.Series, dataset: str, variable: str) -> pd.Series:
    """Num values as float64, NaN for missing; text that is not a number is an error."""
    if values.dtype.kind in "fiub":
        return values.astype("float64")
    if pd.api.types.is_datetime64_any_dtype(values):
        raise ConformanceError("a date, not a number: convert it to a SAS date first",
                               file=dataset, column=variable)
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    given = values.notna() & (values.astype(object).astype(str).str.strip() != "")
    bad = given & numbers.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise ConformanceError("value is not a number but the variable is Num", file=dataset,
                               row=row, column=variable, value=values[bad].iloc[0])
    return numbers


def typed_table(dataset: str, columns: list[Column], table: pd.DataFrame) -> pd.DataFrame:
    """The columns of the table in order, each stored as its type says."""
    missing = [c.name for c in columns if c.name not in table.columns]
    if missing:
        raise SpecError(f"{dataset}: no values for {', '.join(missing)}")
    return pd.DataFrame({c.name: numeric_values(table[c.name], dataset, c.name)
                         if c.type == "Num" else text_column(table[c.name])
                         for c in columns}, index=table.index, copy=False)  # no second copy


def check_metadata(dataset: str, columns: list[Column], specs: Specs | None) -> None:
    """Names and labels that fit XPT v5, and for variables the spec defines: its type, its
    label and (SDTM) its order."""
    for c in columns:
        if not NAME_RE.fullmatch(c.name):
            raise SpecError(f"{dataset}.{c.name}: a variable name is a letter and at most 7 "
                            "more upper-case letters, digits or _")
        if len(c.label) > MAX_LABEL:
            raise SpecError(f"{dataset}.{c.name}: label over {MAX_LABEL} characters: {c.label!r}")
        if c.type not in ("Char", "Num"):
            raise SpecError(f"{dataset}.{c.name}: type {c.type!r} (Char or Num)")
    if specs is None or dataset not in specs.datasets:
        return
    spec = specs.datasets[dataset]
    defined = {v.name: v for v in spec.variables}
    for c in columns:
        v = defined.get(c.name)
        if v is None:
            continue
        if v.type != c.type:
            raise SpecError(f"{dataset}.{c.name} is {c.type} but {spec.standard} says {v.type}")
        if v.label != c.label:
            raise SpecError(f"{dataset}.{c.name} is labelled {c.label!r} but {spec.standard} "
                            f"says {v.label!r}")
    if spec.standard == "SDTMIG":
        order = [c.name for c in columns if c.name in defined]
        expected = [v.name for v in spec.variables if v.name in set(order)]
        if order != expected:
            raise SpecError(f"{dataset}: variables out of SDTMIG order: {', '.join(order)}")


def make_dataset(name: str, label: str, columns: list[Column], table: pd.DataFrame,
                 specs: Specs | None, **metadata) -> Dataset:  # type: ignore[no-untyped-def]
    """The Dataset of a derived table: checked against the metadata, then typed.
    metadata: keys, dataset_class, structure, standard, trace (as Dataset takes them)."""
    check_metadata(name, columns, specs)
    data = typed_table(name, columns, table).reset_index(drop=True)
    return Dataset(name=name, label=label, columns=columns, data=data, **metadata)
