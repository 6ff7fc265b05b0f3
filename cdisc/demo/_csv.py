"""A small, fast and byte-deterministic CSV writer for the demo generator.

Every column is held as a byte matrix (one row per record, NUL-padded on the right) and a whole
block of rows is written with a few numpy operations, so millions of lab rows cost seconds, not
minutes. Output: UTF-8 without BOM, "," separator, "\\n" line ends, a field quoted only when it
contains a comma, a double quote or a line break (RFC 4180 style, quotes doubled).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

_CHUNK = 250_000


def _quote(text: str) -> str:
    if any(ch in text for ch in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


class Field:
    """A column as a NUL-padded uint8 matrix, materialised lazily by row slices."""

    def __init__(self, n: int, table: np.ndarray | None = None, codes: np.ndarray | None = None,
                 mat: np.ndarray | None = None):
        self.n = n
        self._table = table
        self._codes = codes
        self._mat = mat

    def rows(self, start: int, stop: int) -> np.ndarray:
        if self._mat is not None:
            return self._mat[start:stop]
        return self._table[self._codes[start:stop]]

    def materialise(self) -> np.ndarray:
        return self.rows(0, self.n)


def _table(cats: Sequence[str]) -> np.ndarray:
    enc = [_quote(c).encode("utf-8") for c in cats]
    width = max((len(b) for b in enc), default=0)
    tab = np.zeros((max(len(enc), 1), width), dtype=np.uint8)
    for i, b in enumerate(enc):
        if b:
            tab[i, : len(b)] = np.frombuffer(b, dtype=np.uint8)
    return tab


def cat(codes: np.ndarray, cats: Sequence[str]) -> Field:
    """Categorical column: row i holds cats[codes[i]]."""
    codes = np.asarray(codes, dtype=np.int64)
    return Field(len(codes), table=_table(cats), codes=codes)


def const(value: str, n: int) -> Field:
    return cat(np.zeros(n, dtype=np.int64), [value])


def text(values: Sequence[str]) -> Field:
    """Column from Python strings (factorised; meant for the small forms)."""
    index: dict[str, int] = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.int64,
                        count=len(values))
    return cat(codes, list(index))


def number(values: np.ndarray, decimals: np.ndarray | int, missing: np.ndarray | None = None
           ) -> Field:
    """Fixed-point text of floats ("12.30", "7", "-0.5"); decimals may differ per row (0..6).

    Rounding is half-away-from-zero on the decimal scale (with a 1e-9 guard against binary
    representation error), done in integer arithmetic so the text never depends on printf.
    """
    v = np.asarray(values, dtype=np.float64)
    n = len(v)
    d = np.broadcast_to(np.asarray(decimals, dtype=np.int64), (n,)).copy()
    miss = np.zeros(n, bool) if missing is None else np.asarray(missing, bool).copy()
    miss |= ~np.isfinite(v)
    v = np.where(miss, 0.0, v)
    q = np.floor(np.abs(v) * (10.0 ** d) * (1 + 1e-12) + 0.5 + 1e-9).astype(np.int64)
    neg = (v < 0) & (q > 0)
    nq = np.ones(n, dtype=np.int64)
    p = 10
    while True:
        more = q >= p
        if not more.any():
            break
        nq += more
        p *= 10
    nq = np.maximum(nq, d + 1)  # at least one digit before the decimal point
    maxdig = int(nq.max()) if n else 1
    digs = np.empty((n, maxdig), dtype=np.uint8)
    qq = q.copy()
    for j in range(maxdig):
        digs[:, maxdig - 1 - j] = 48 + (qq % 10)
        qq //= 10
    sign = neg.astype(np.int16)
    d16 = d.astype(np.int16)
    nq16 = nq.astype(np.int16)
    hasdot = d16 > 0
    length = np.where(miss, 0, sign + nq16 + hasdot).astype(np.int16)
    width = int(length.max()) if n else 0
    k = np.arange(width, dtype=np.int16)[None, :]
    r = k - sign[:, None]
    dotpos = (nq16 - d16)[:, None]
    after_dot = hasdot[:, None] & (r > dotpos)
    src = (maxdig - nq16)[:, None] + r - after_dot
    np.clip(src, 0, maxdig - 1, out=src)
    mat = np.take_along_axis(digs, src.astype(np.intp), axis=1)
    mat[hasdot[:, None] & (r == dotpos)] = 46
    if width:
        mat[neg, 0] = 45
    mat[k >= length[:, None]] = 0
    return Field(n, mat=mat)


def override(base: Field, mask: np.ndarray, other: Field) -> Field:
    """Rows where mask is True take other's text."""
    a = base.materialise()
    b = other.materialise()
    w = max(a.shape[1], b.shape[1])
    out = np.zeros((base.n, w), dtype=np.uint8)
    out[:, : a.shape[1]] = a
    m = np.asarray(mask, bool)
    out[m] = 0
    out[m, : b.shape[1]] = b[m]
    return Field(base.n, mat=out)


def write(path: Path, header: Sequence[str], fields: Sequence[Field]) -> int:
    """Write the CSV; returns the number of data rows."""
    n = fields[0].n if fields else 0
    for f in fields:
        if f.n != n:
            raise ValueError("columns of unequal length")
    comma = np.full((1, 1), ord(","), dtype=np.uint8)
    newline = np.full((1, 1), ord("\n"), dtype=np.uint8)
    with open(path, "wb") as fh:
        fh.write((",".join(header) + "\n").encode("utf-8"))
        for start in range(0, n, _CHUNK):
            stop = min(n, start + _CHUNK)
            m = stop - start
            parts = []
            for k, f in enumerate(fields):
                parts.append(f.rows(start, stop))
                sep = comma if k < len(fields) - 1 else newline
                parts.append(np.broadcast_to(sep, (m, 1)))
            block = np.concatenate(parts, axis=1).ravel()
            fh.write(block[block != 0].tobytes())
    return n
