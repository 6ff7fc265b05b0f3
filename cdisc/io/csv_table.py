"""CSV files of large report tables (the record trace has a row per SDTM record).

The text is what DataFrame.to_csv(index=False, lineterminator="\\n") writes, byte for byte,
but each column's field text is made once per distinct value (csv's own quoting, applied to
that value) and the rows are joined from those pieces. Columns of another kind than text,
integers or nullable integers go to pandas' writer unchanged.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc.distinct import factorize

# what makes csv quote a field (QUOTE_MINIMAL): the delimiter, the quote, a line break
_NEEDS_QUOTES = re.compile('[,"\r\n]')
# rows joined per write, so that memory stays bounded
CHUNK_ROWS = 250_000


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """frame.to_csv(path, index=False, lineterminator="\\n"), faster for large tables."""
    fields = [_field_texts(frame[name]) for name in frame.columns] if len(frame.columns) > 1 \
        else None
    if fields is None or any(f is None for f in fields) or not frame.columns.is_unique:
        frame.to_csv(path, index=False, lineterminator="\n")
        return
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(_line([str(name) for name in frame.columns]))
        for start in range(0, len(frame), CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, len(frame))
            rows = zip(*(texts[codes[start:stop]].tolist() for codes, texts in fields),
                       strict=True)
            fh.write("\n".join(map(",".join, rows)) + "\n")


def _line(values: list[str]) -> str:
    """One CSV line as the csv module (and so pandas) writes it."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


def _field_texts(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """(each row's code, the field text of each distinct value), or None for a column this
    does not write as pandas would (floats, dates, mixed objects)."""
    if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
        codes, distinct = factorize(values)
        missing = distinct.isna().to_numpy()
        if not all(isinstance(v, str) for v in distinct[~missing]):
            return None  # numbers or other objects in a text column: pandas decides
        texts = distinct.where(~missing, "").astype(object).to_numpy()
        if _NEEDS_QUOTES.search("".join(texts)):  # rare: csv quotes them one by one
            texts = np.array([_quoted(v) for v in texts], dtype=object)
        return codes, texts
    if pd.api.types.is_integer_dtype(values) and not isinstance(values.dtype,
                                                                pd.CategoricalDtype):
        codes, distinct = factorize(values)
        missing = distinct.isna().to_numpy()
        texts = np.full(len(distinct), "", dtype=object)
        texts[~missing] = distinct[~missing].astype("int64").astype(str).astype(object)
        return codes, texts
    return None


def _quoted(value: str) -> str:
    """The field as csv writes it inside a row of several fields (QUOTE_MINIMAL)."""
    return _line([value, ""])[:-2]
