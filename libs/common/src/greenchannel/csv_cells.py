"""CSV that a spreadsheet opens as data: no cell the platform writes starts a formula.

A spreadsheet reads a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and one that starts
with a tab or a carriage return may be read as one after its whitespace is trimmed. A complaint's title or
a company's answer is text a stranger typed, so ``=HYPERLINK("http://...", "点击")`` or ``@SUM(...)`` in it
would run in the spreadsheet of whoever opens the export (CSV injection). Every such text cell is written
with a leading ``'``, which spreadsheets show as text and do not display. Numbers and booleans the
platform itself writes (a negative figure) are left as they are: they are not text anyone typed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

#: What a text cell may not start with.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def safe_cell(value: Any) -> Any:
    """``value`` as a CSV cell: text that would start a formula gets a leading ``'``, anything else is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return QUOTE + value
    return value


class SafeWriter:
    """A :func:`csv.writer` whose every text cell goes through :func:`safe_cell`."""

    def __init__(self, out: Any, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
