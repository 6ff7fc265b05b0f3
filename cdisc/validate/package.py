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
    from cdisc.io.xpt import as_read_back, xpt_lengths

    tables = {}
    for name, ds in datasets.items():
        path = folder / f"{name.lower()}.xpt"
        tables[name] = Table(name, as_read_back(ds), ds.label,
                             {c.name: c.label for c in ds.columns}, path.name,
                             {k: v for k, v in xpt_lengths(ds).items()
                              if ds.column(k).type == "Char"},
                             {c.name: c.display_format for c in ds.columns if c.display_format},
                             path.stat().st_size if path.exists() else 0)
    define = folder / "define.xml"
    return Package(folder, tables, define if define.exists() else None)
