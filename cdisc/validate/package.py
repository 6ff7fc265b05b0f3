"""A package to validate: every dataset of a folder (XPT or Dataset-JSON) with its labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cdisc.errors import InputError


@dataclass
class Table:
    name: str
    data: pd.DataFrame
    label: str = ""
    column_labels: dict[str, str] = field(default_factory=dict)
    file: str = ""  # path relative to the package root, e.g. "sdtm/ae.xpt"
    lengths: dict[str, int] = field(default_factory=dict)  # declared XPT text lengths
    formats: dict[str, str] = field(default_factory=dict)
    size: int = 0  # file bytes


@dataclass
class Package:
    folder: Path
    tables: dict[str, Table]
    define: Path | None = None

    def get(self, name: str) -> pd.DataFrame | None:
        table = self.tables.get(name)
        return table.data if table is not None else None


def read_package(folder: Path) -> Package:
    """Read *.xpt (preferred) or *.json datasets; a define.xml beside them is noted."""
    from cdisc.io.datasetjson import read_dataset_json
    from cdisc.io.xpt import read_xpt

    if not folder.is_dir():
        raise InputError("not a folder", file=str(folder))
    tables: dict[str, Table] = {}
    for path in sorted(folder.glob("*.xpt")):
        df, meta = read_xpt(path)
        name = (meta.table_name or path.stem).upper()
        tables[name] = Table(name, df, meta.file_label, meta.column_labels, path.name,
                             dict(meta.char_lengths), dict(meta.column_formats),
                             path.stat().st_size)
    for path in sorted(folder.glob("*.json")):
        name = path.stem.upper()
        if name not in tables:
            tables[name] = Table(name, read_dataset_json(path), "", {}, path.name,
                                 size=path.stat().st_size)
    if not tables:
        raise InputError("no datasets (*.xpt or Dataset-JSON *.json) to validate",
                         file=str(folder))
    define = folder / "define.xml"
    return Package(folder, tables, define if define.exists() else None)


def package_of(folder: Path, datasets: dict) -> Package:  # dict[str, cdisc.model.Dataset]
    """The package read_package would read from folder, built from the datasets just written
    there (no second read of files the same process wrote)."""
    tables = {}
    for name, ds in datasets.items():
        path = folder / f"{name.lower()}.xpt"
        frame, lengths = _read_back(ds)
        tables[name] = Table(name, frame, ds.label,
                             {c.name: c.label for c in ds.columns}, path.name, lengths,
                             {c.name: c.display_format for c in ds.columns if c.display_format},
                             path.stat().st_size if path.exists() else 0)
    define = folder / "define.xml"
    return Package(folder, tables, define if define.exists() else None)


def _read_back(ds) -> tuple[pd.DataFrame, dict[str, int]]:  # type: ignore[no-untyped-def]
    """as_read_back(ds) and the XPT lengths of its Char variables (xpt_lengths), from one
    look at each column's distinct values: a table whose numbers are float64 and whose text
    is str without trailing blanks reads back as it is (the frame shares its columns).

    Such a frame is frozen here (read-only storage), as the validation freezes the package's
    tables anyway (cdisc.validate.core.codes.freeze), and the distinct values just found are
    kept for it (cdisc.column_codes.distinct_values), so the GX suites do not look again."""
    from cdisc.column_codes import FrameCodes, keep_distinct_values
    from cdisc.io.xpt import as_read_back
    from cdisc.validate.core.codes import freeze

    # what as_read_back returns when it changes nothing
    frame = ds.data[[c.name for c in ds.columns]].assign().reset_index(drop=True)
    codes = FrameCodes(frame)  # its columns hold ds.data's values
    lengths = {c.name: codes.char_length(c.name) for c in ds.columns if c.type == "Char"}
    as_written = all(
        frame[c.name].dtype == "float64" if c.type == "Num" else _plain(codes, c.name)
        for c in ds.columns)
    if not as_written:
        return as_read_back(ds), lengths
    freeze(frame)
    for c in ds.columns:
        if c.type == "Char":
            keep_distinct_values(frame[c.name], codes.distinct_values(c.name))
    return frame, lengths


def _plain(codes, name: str) -> bool:  # type: ignore[no-untyped-def]
    """A column of str only, none with trailing blanks (cdisc.io.xpt._plain_text)."""
    distinct = codes.distinct_values(name) if codes.data[name].dtype == object else None
    if distinct is None:  # not str only: as_read_back decides
        return False
    # a value ends with a blank when the joined values show one before a separator
    joined = "\x00".join(distinct)
    return not (joined.endswith(" ") or " \x00" in joined) or \
        not any(v.endswith(" ") for v in distinct)
