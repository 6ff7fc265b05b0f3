"""Text longer than 200 characters (SDTMIG v3.4 section 4.5.3.2): the first 200 characters stay
in the variable, the rest goes to SUPP-- records QNAM <VAR>1, <VAR>2, ... (the variable name cut
to 7 characters before the number), each part at most 200 characters and cut between words
where the text has a blank to cut at (the blank itself is dropped: parts join with a space).
"""

from __future__ import annotations

import pandas as pd

from cdisc.column_codes import distinct_values
from cdisc.text import text_column

MAX_CHARS = 200


def split_text(text: str, width: int = MAX_CHARS) -> list[str]:
    """text in parts of at most width characters, each cut at the last blank that fits."""
    parts = []
    while len(text) > width:
        cut = text.rfind(" ", 1, width + 1)
        if cut <= 0:  # one word longer than the width: a hard cut
            parts.append(text[:width])
            text = text[width:]
        else:
            parts.append(text[:cut])
            text = text[cut + 1:]
    parts.append(text)
    return parts


def overflow_qnam(variable: str, n: int) -> str:
    """AETERM, 1 -> AETERM1; AEACNOTH, 2 -> AEACNOT2."""
    return f"{variable[:7]}{n}"


def overflow_label(label: str, n: int) -> str:
    suffix = f" {n}"
    return label[: 40 - len(suffix)] + suffix


def split_long_values(values: pd.Series) -> tuple[pd.Series, list[pd.Series]]:
    """(the first part of each value, [second parts, third parts, ...]) for a text column;
    only values over 200 characters change (computed on the distinct long values)."""
    text = text_column(values)
    distinct = distinct_values(text)
    if distinct is None:  # not an object column
        distinct = pd.unique(text.to_numpy())
    long_values = [v for v in distinct if len(v) > MAX_CHARS]
    if not long_values:
        return values, []
    parts = {v: split_text(v) for v in long_values}
    depth = max(len(p) for p in parts.values())
    first = text.map(lambda v: parts[v][0] if v in parts else v)
    rest = [text.map(lambda v, i=i: parts[v][i] if v in parts and len(parts[v]) > i else "")
            for i in range(1, depth)]
    return first.astype(object), [r.astype(object) for r in rest]
