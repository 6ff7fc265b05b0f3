"""CDISC ODM 1.3 clinical data (an EDC's XML export) read as raw tables, one form at a time.

A mapping source names the form: ``ae: {file: export.xml, form: AE}`` (the FormOID). Each
ItemGroupData of that form is one row, in document order, with the columns

  SubjectKey, StudyEventOID, StudyEventRepeatKey, FormRepeatKey, ItemGroupOID,
  ItemGroupRepeatKey, then one column per ItemOID (its Value; "" when absent).

Item columns come from the study's metadata (FormDef -> ItemGroupDef -> ItemRef) when the file
has it, then any other ItemOID met in the data. The XML is parsed as untrusted input
(cdisc.xmlsafe): a DOCTYPE or ENTITY declaration is refused, nothing is fetched, no entity is
expanded.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd
from lxml import etree

from cdisc.errors import InputError
from cdisc.xmlsafe import parse_untrusted

NS = "http://www.cdisc.org/ns/odm/v1.3"
KEY_COLUMNS = ["SubjectKey", "StudyEventOID", "StudyEventRepeatKey", "FormRepeatKey",
               "ItemGroupOID", "ItemGroupRepeatKey"]


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _parse(path: Path) -> etree._Element:
    """The file's tree, parsed once however many forms (and headers) are read from it."""
    stat = path.stat()
    return _parse_cached(path.resolve(), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _parse_cached(path: Path, _mtime_ns: int, _size: int) -> etree._Element:
    root = parse_untrusted(path, file=path.name)
    if root.tag != _q("ODM"):
        raise InputError(f"not a CDISC ODM 1.3 file (root element {root.tag!r})", file=path.name)
    return root


def _metadata_items(root: etree._Element, form: str) -> tuple[bool, list[str]]:
    """(form defined in the metadata, its ItemOIDs in metadata order)."""
    groups = {g.get("OID"): g for g in root.iter(_q("ItemGroupDef"))}
    found, items = False, []
    for form_def in root.iter(_q("FormDef")):
        if form_def.get("OID") != form:
            continue
        found = True
        for ref in form_def.iter(_q("ItemGroupRef")):
            group = groups.get(ref.get("ItemGroupOID"))
            if group is not None:
                items += [i.get("ItemOID") for i in group.iter(_q("ItemRef"))
                          if i.get("ItemOID") not in items]
    return found, items


def _records(root: etree._Element, form: str) -> list[dict[str, str]]:
    rows = []
    for subject in root.iter(_q("SubjectData")):
        for event in subject.iter(_q("StudyEventData")):
            for form_data in event.iter(_q("FormData")):
                if form_data.get("FormOID") != form:
                    continue
                for group in form_data.iter(_q("ItemGroupData")):
                    row = {"SubjectKey": subject.get("SubjectKey", ""),
                           "StudyEventOID": event.get("StudyEventOID", ""),
                           "StudyEventRepeatKey": event.get("StudyEventRepeatKey", ""),
                           "FormRepeatKey": form_data.get("FormRepeatKey", ""),
                           "ItemGroupOID": group.get("ItemGroupOID", ""),
                           "ItemGroupRepeatKey": group.get("ItemGroupRepeatKey", "")}
                    for item in group.iter(_q("ItemData")):
                        oid = item.get("ItemOID")
                        if oid in row and oid not in KEY_COLUMNS:
                            raise InputError(f"ItemOID {oid} twice in one ItemGroupData",
                                             row=len(rows) + 1, column=oid)
                        row[oid] = item.get("Value", "")
                    rows.append(row)
    return rows


def read_odm_form(path: Path, form: str | None) -> pd.DataFrame:
    """The form's records as a table of text ("" for an item not given)."""
    if not form:
        raise InputError("an ODM source needs 'form:' (the FormOID to read)", file=path.name)
    root = _parse(path)
    defined, items = _metadata_items(root, form)
    try:
        rows = _records(root, form)
    except InputError as exc:
        exc.file = path.name
        raise
    if not rows and not defined:
        raise InputError(f"form {form!r} is neither defined nor has data in this ODM file",
                         file=path.name)
    for row in rows:
        items += [k for k in row if k not in KEY_COLUMNS and k not in items]
    columns = KEY_COLUMNS + items
    frame = pd.DataFrame.from_records(rows, columns=columns) if rows else \
        pd.DataFrame(columns=columns)
    return frame.fillna("").astype(object)


def odm_form_columns(path: Path, form: str | None) -> list[str]:
    return list(read_odm_form(path, form).columns)
