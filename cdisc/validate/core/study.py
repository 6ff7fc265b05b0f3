"""A package as the rules see it: each dataset with its domain ("--" prefix), SDTM or ADaM
class, metadata and the keys that identify its records across data cuts."""

from __future__ import annotations

import pandas as pd

from cdisc.validate.core.codes import factorize, freeze
from cdisc.validate.core.engine import DatasetInfo, Study
from cdisc.validate.package import Package, Table

ADAM_CLASSES = {"ADSL": "SUBJECT LEVEL ANALYSIS DATASET", "ADAE": "OCCURRENCE DATA STRUCTURE",
                "ADCM": "OCCURRENCE DATA STRUCTURE", "ADMH": "OCCURRENCE DATA STRUCTURE"}
RELATIONSHIP = {"RELREC", "RELSUB", "RELSPEC"}  # CO is special purpose (SDTMIG 3.4 5.1)


def _domain(name: str, frame: pd.DataFrame) -> str:
    if "DOMAIN" in frame.columns and len(frame):
        values = frame["DOMAIN"]
        if values.dtype == object:  # the first non-empty value is among the distinct ones
            values = pd.Series(factorize(values)[1], dtype=object)
        values = values.astype(str)
        first = values[values != ""]
        if len(first):
            return str(first.iloc[0])
    return name


def dataset_class(name: str, domain: str, columns: list[str], library: object) -> str:
    """The SDTM (or ADaM) class of a dataset: the IG's class for a standard domain, else what
    its variables say (--TESTCD findings, --TRT interventions, --TERM events)."""
    if name.startswith("AD"):
        if name in ADAM_CLASSES:
            return ADAM_CLASSES[name]
        return "OCCURRENCE DATA STRUCTURE" if "AETERM" in columns or "AEDECOD" in columns \
            else "BASIC DATA STRUCTURE"
    if name in RELATIONSHIP:
        return "RELATIONSHIP"
    return library.domain_class(name, columns, domain[:2]) or ""  # type: ignore[attr-defined]


def _keys(name: str, domain: str, frame: pd.DataFrame) -> tuple[str, ...]:
    from cdisc.errors import SpecError
    from cdisc.specs import load_specs

    try:
        keys = load_specs().dataset(name).keys
    except SpecError:
        keys = ()
    seq = f"{domain}SEQ"
    if seq in frame.columns and seq not in keys:
        keys = (*keys, seq) if not keys else keys
    if not keys:
        keys = tuple(k for k in ("USUBJID", seq, "PARAMCD", "QNAM", "IDVARVAL")
                     if k in frame.columns)
    return tuple(keys)


def dataset_info(table: Table, library: object) -> DatasetInfo:
    frame = table.data
    freeze(frame)  # rules only read the data: their shared column codes stay true
    domain = _domain(table.name, frame)
    return DatasetInfo(
        name=table.name, domain=domain,
        cls=dataset_class(table.name, domain, list(frame.columns), library), frame=frame,
        label=table.label, column_labels=dict(table.column_labels),
        lengths=dict(table.lengths),
        formats=dict(table.formats), file=table.file, size=table.size,
        keys=_keys(table.name, domain, frame))


def study_of(package: Package, library: object, define: object | None = None) -> Study:
    datasets = {name: dataset_info(t, library) for name, t in sorted(package.tables.items())}
    return Study(datasets, library, define)
