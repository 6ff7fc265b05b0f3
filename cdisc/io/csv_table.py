"""CSV files of large report tables (the record trace has a row per SDTM record).

The text is what DataFrame.to_csv(index=False, lineterminator="\\n") writes, byte for byte.
Text columns get their field text once per distinct value (csv's own quoting, applied to that
value); integer columns are turned into text a chunk of rows at a time; the rows are joined
from those pieces. Columns of any other kind send the table to pandas' writer unchanged.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc.distinct import factorize

# what makes csv quote a field (QUOTE_MINIMAL): the delimiter, the quote, a line break
_NEEDS_QUOTES = re.compile('[,"\r\n]')
# rows joined per write, so that memory stays bounded
CHUNK_ROWS = 250_000

# a column's field text for rows start..stop-1
FieldText = Callable[[int, int], list[str]]


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """frame.to_csv(path, index=False, lineterminator="\\n"), faster for large tables."""
    fields = [_field_text(frame[name]) for name in frame.columns] \
        if len(frame.columns) > 1 and frame.columns.is_unique else None
    if fields is None or any(f is None for f in fields):
        frame.to_csv(path, index=False, lineterminator="\n")
        return
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(_line([str(name) for name in frame.columns]))
        for start in range(0, len(frame), CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, len(frame))
            rows = zip(*(text(start, stop) for text in fields), strict=True)
            fh.write("\n".join(map(",".join, rows)) + "\n")


def _line(values: list[str]) -> str:
    """One CSV line as the csv module (and so pandas) writes it."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


def _field_text(values: pd.Series) -> FieldText | None:
    """How to write a column, or None for one this does not write as pandas would (floats,
    dates, numbers or other objects in a text column)."""
    if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
        return _text_fields(values)
    if pd.api.types.is_signed_integer_dtype(values) and not isinstance(values.dtype,
                                                                       pd.CategoricalDtype):
        return lambda start, stop: _integer_texts(values.iloc[start:stop])
    return None


def _text_fields(values: pd.Series) -> FieldText | None:
    """Field text of a text column, made once per distinct value ("" for missing)."""
    codes, distinct = factorize(values)
    missing = distinct.isna().to_numpy()
    if not all(isinstance(v, str) for v in distinct[~missing]):
        return None
    texts = distinct.where(~missing, "").astype(object).to_numpy()
    if _NEEDS_QUOTES.search("".join(texts)):  # rare: csv quotes them one by one
        texts = np.array([_quoted(v) for v in texts], dtype=object)
    # the narrowest integer for the codes: a trace of millions of rows holds one per cell
    codes = codes.astype(next(t for t in (np.int8, np.int16, np.int32, np.int64)
                              if len(texts) <= np.iinfo(t).max), copy=False)
    return lambda start, stop: texts[codes[start:stop]].tolist()


def _integer_texts(values: pd.Series) -> list[str]:
    """Integers as pandas writes them; missing (nullable integers) as ""."""
    missing = values.isna().to_numpy()
    texts = np.full(len(values), "", dtype=object)
    texts[~missing] = values[~missing].to_numpy(dtype=np.int64).astype(str)
    return texts.tolist()


def _quoted(value: str) -> str:
    """The field as csv writes it inside a row of several fields (QUOTE_MINIMAL)."""
    return _line([value, ""])[:-2]
