"""define.xml as the rules see it: per dataset, one row per variable with CORE's define_variable_*
columns (name, label, data type, length, role, codelist C-code and the C-codes of its terms).
Parsed once per file and shared by the rule engine and the Python checks."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

ODM = "http://www.cdisc.org/ns/odm/v1.3"
DEF = "http://www.cdisc.org/ns/def/v2.1"
COLUMNS = ["define_variable_name", "define_variable_label", "define_variable_data_type",
           "define_variable_size", "define_variable_role", "define_variable_order_number",
           "define_variable_ccode", "define_variable_codelist_coded_values",
           "define_variable_codelist_coded_codes", "define_dataset_name"]


def _ccode(element) -> str:  # type: ignore[no-untyped-def]
    alias = element.find(f"{{{ODM}}}Alias[@Context='nci:ExtCodeID']")
    return alias.get("Name", "") if alias is not None else ""


class DefineMeta:
    def __init__(self, path: Path) -> None:
        from lxml import etree

        from cdisc.define import safe_parser

        root = etree.parse(str(path), safe_parser()).getroot()
        items = {i.get("OID"): i for i in root.iter(f"{{{ODM}}}ItemDef")}
        lists = {}
        for cl in root.iter(f"{{{ODM}}}CodeList"):
            terms = [t for t in cl if t.tag in (f"{{{ODM}}}EnumeratedItem",
                                                f"{{{ODM}}}CodeListItem")]
            lists[cl.get("OID")] = (_ccode(cl), [t.get("CodedValue", "") for t in terms],
                                    [_ccode(t) for t in terms])
        self.groups: dict[str, pd.DataFrame] = {}
        # (dataset, variable) -> the coded values its codelist enumerates; a codelist without
        # items (an external dictionary such as MedDRA) enumerates nothing and is left out
        self.codelist_values: dict[tuple[str, str], set[str]] = {}
        for group in root.iter(f"{{{ODM}}}ItemGroupDef"):
            rows = []
            for n, ref in enumerate(group.findall(f"{{{ODM}}}ItemRef"), start=1):
                item = items.get(ref.get("ItemOID"))
                if item is None:
                    continue
                desc = item.find(f"{{{ODM}}}Description/{{{ODM}}}TranslatedText")
                cl_ref = item.find(f"{{{ODM}}}CodeListRef")
                ccode, values, codes = lists.get(
                    cl_ref.get("CodeListOID") if cl_ref is not None else None, ("", [], []))
                if values:
                    self.codelist_values[(group.get("Name", ""), item.get("Name", ""))] = \
                        set(values)
                rows.append([item.get("Name", ""), desc.text if desc is not None else "",
                             item.get("DataType", ""), item.get("Length", ""),
                             ref.get("Role", ""), int(ref.get("OrderNumber") or n), ccode,
                             values, [c for c in codes if c], group.get("Name", "")])
            self.groups[group.get("Name", "")] = pd.DataFrame(rows, columns=COLUMNS)

    def variables(self, dataset: str) -> pd.DataFrame:
        return self.groups.get(dataset, pd.DataFrame(columns=COLUMNS))


def read_define_meta(path: Path) -> DefineMeta:
    """The file's DefineMeta, parsed once while the file is unchanged."""
    stat = path.stat()
    return _parsed(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _parsed(path: str, mtime_ns: int, size: int) -> DefineMeta:
    return DefineMeta(Path(path))
