"""Progress bars on stderr for the long stages, only for a person at a terminal.

Off unless stderr is a terminal; off with --quiet, in CI (the CI variable most CI services
set) and with TERM=dumb. Bars go to stderr and leave nothing behind, so stdout and every
output file are the same with or without them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_enabled = False


def configure(quiet: bool = False) -> None:
    """Decide once per command whether bars are shown."""
    global _enabled
    _enabled = (not quiet and sys.stderr.isatty() and not os.environ.get("CI")
                and os.environ.get("TERM") != "dumb")


def enabled() -> bool:
    return _enabled


def track(items: Iterable[T], desc: str, unit: str = "step",
          label: Callable[[T], str] = str) -> Iterator[T]:
    """The items, with a bar named desc (and the current item's label) while they are
    consumed, when enabled."""
    if not _enabled:
        yield from items
        return
    from tqdm import tqdm

    total = len(items) if hasattr(items, "__len__") else None  # type: ignore[arg-type]
    with tqdm(items, desc=desc, total=total, unit=unit, leave=False, file=sys.stderr,
              dynamic_ncols=True) as bar:
        for item in bar:
            bar.set_postfix_str(label(item)[:24], refresh=False)
            yield item
