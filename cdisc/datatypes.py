"""One rule for a variable's data type, length and digits, shared by define.xml and Dataset-JSON.

Define-XML 2.1 section 4.3.1: Char ISO 8601 variables take the most precise type their values
allow (date, datetime, partialDate, partialDatetime, incompleteDatetime); other Char is text;
Num is integer (whole numbers, including ADaM numeric dates) or float. Length is given only for
text, integer and float; float also gets SignificantDigits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cdisc.model import Column

DATE_FORMATS = ("DATE9.", "E8601DA.", "YYMMDD10.")
DATETIME_FORMATS = ("DATETIME20.", "E8601DT.")


@dataclass(frozen=True)
class TypeInfo:
    data_type: str  # Define-XML DataType
    length: int | None  # only for text, integer, float
    significant_digits: int | None  # only for float


def _iso_type(values: pd.Series) -> str:
    text = values.astype(str)
    text = text[text != ""]
    if text.str.contains("---", regex=False).any() or text.str.contains("/").any():
        return "incompleteDatetime"
    has_time = text.str.contains("T", regex=False)
    if has_time.any():
        return "datetime" if text.str.fullmatch(r".{10}T\d{2}:\d{2}:\d{2}").all() \
            else "partialDatetime"
    return "date" if text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all() else "partialDate"


def _number_text(values: np.ndarray) -> list[str]:
    return [np.format_float_positional(v, trim="-") for v in np.unique(values)]


def type_info(column: Column, values: pd.Series, char_length: int) -> TypeInfo:
    if column.type == "Char":
        if column.value_domain.startswith("ISO 8601 datetime"):
            return TypeInfo(_iso_type(values), None, None)
        return TypeInfo("text", char_length, None)
    numbers = values.dropna().to_numpy(dtype="float64")
    texts = _number_text(numbers) if len(numbers) else ["0"]
    if len(numbers) == 0 or np.all(np.mod(numbers, 1) == 0):
        return TypeInfo("integer", max(len(t) for t in texts), None)
    decimals = max(len(t.split(".")[1]) if "." in t else 0 for t in texts)
    whole = max(len(t.split(".")[0]) for t in texts)
    return TypeInfo("float", whole + 1 + decimals, decimals)


def json_data_type(column: Column, values: pd.Series) -> tuple[str, str | None]:
    """Dataset-JSON (dataType, targetDataType)."""
    if column.type == "Num" and column.display_format in DATE_FORMATS:
        return "date", "integer"
    if column.type == "Num" and column.display_format in DATETIME_FORMATS:
        return "datetime", "integer"
    info = type_info(column, values, 1)
    if info.data_type in ("date", "partialDate"):
        return "date", None
    if info.data_type in ("datetime", "partialDatetime", "incompleteDatetime"):
        return "datetime", None
    return {"text": "string", "float": "double"}.get(info.data_type, info.data_type), None
