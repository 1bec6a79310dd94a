"""Disclosure control on the public statistics: no published figure lets a reader single out a complainant.

A cell that counts fewer than ``k`` complaints (``PUBLIC_STATISTICS_MIN_COUNT``, 5 by default) is published
suppressed: ``null``, its row marked ``suppressed`` with the field named in ``suppressed_fields``. Zero is
published: it says no one complained, which is about no one.

Suppressing the small cells alone is not enough, because the figures add up: a row's ``received`` is its
``accepted`` plus its ``rejected``, its ``rejected`` the sum of its reasons, and each column of the rows sums
to the totals. A single hidden cell in such a sum is the published total minus the published others. So
every sum that holds a hidden cell holds at least two (complementary suppression): the smallest other
published cell of that sum is hidden too, and this is repeated until no sum has exactly one hidden
cell. A rate is hidden when the count it is a share of (answered cases, ratings, handled cases) is below
``k`` or hidden.

A company's scorecard and the rankings show figures of the same table: the statistics by company over the same
months (a scorecard's period), every company a row. They are read from that table as published
(:func:`suppress_scorecard`), so a scorecard, the rankings and the statistics by company hide the same cells, and
the statistics' totals minus the scorecards of the other companies give no hidden volume away. Complaints per
million users are the volume over a published user base: hidden with the volume.

The figures are also published as a snapshot taken once per refresh (``PUBLIC_STATISTICS_REFRESH``, a day
by default), not as they change (:mod:`intake.adapters.statistics_snapshot`): a reader who compares the
figures before and after one publication sees the same figures. Regulators read exact, current figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Counts of complaints in a row, and how they add up: received = accepted + rejected.
COUNTS = ("received", "accepted", "rejected", "answered")
PARTS_OF_RECEIVED = ("accepted", "rejected")
#: Rates and what each is a share of ("rated" and "handled" are kept beside the figures, never published).
RATES = {
    "timely_rate": "answered",
    "relief_rate": "answered",
    "appeal_rate": "answered",
    "satisfaction": "rated",
    "median_handling_days": "handled",
}
REASON = "rejected_by_reason."
TOTAL = "\x00total"


def _value(row: Mapping[str, Any], field: str) -> int:
    if field.startswith(REASON):
        return int((row.get("rejected_by_reason") or {}).get(field[len(REASON) :], 0))
    return int(row.get(field) or 0)


def _reasons(row: Mapping[str, Any]) -> list[str]:
    return [REASON + reason for reason in (row.get("rejected_by_reason") or {})]


class _Hidden:
    """The hidden cells: (row key, field) pairs."""

    def __init__(self, rows: dict[str, Mapping[str, Any]]) -> None:
        self.rows = rows
        self.cells: set[tuple[str, str]] = set()

    def __contains__(self, cell: tuple[str, str]) -> bool:
        return cell in self.cells

    def hide(self, key: str, field: str) -> bool:
        if (key, field) in self.cells:
            return False
        self.cells.add((key, field))
        return True

    def hide_all(self, key: str, fields: list[str] | tuple[str, ...]) -> bool:
        """Hide every one of ``fields`` of a row; True if any was not hidden yet."""
        added = {(key, field) for field in fields} - self.cells
        self.cells |= added
        return bool(added)

    def value(self, cell: tuple[str, str]) -> int:
        return _value(self.rows[cell[0]], cell[1])

    def complete(self, whole: tuple[str, str], cells: list[tuple[str, str]]) -> bool:
        """Make a sum's cells (the parts of a published whole) hold no single hidden count; True if anything changed.

        A hidden zero (a part of a hidden whole) is neither: it needs no complement, a zero being about no one, and
        it is none, since a reader who knows it is zero (the public figures count no rejection) subtracts it as if
        it were published. So the complement is the smallest other part that is not zero, and with no such part
        the whole is hidden (and its own sums are completed in turn)."""
        hidden = [cell for cell in cells if cell in self and self.value(cell)]
        if len(hidden) != 1:
            return False
        shown = [cell for cell in cells if cell not in self and self.value(cell)]
        if not shown:
            return self.hide(*whole)
        return self.hide(*min(shown, key=lambda cell: (self.value(cell), cell)))


def suppress(rows: list[dict[str, Any]], totals: dict[str, Any], k: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The rows and totals as published: small cells and their complements ``None``, each row saying which.

    ``rows`` and ``totals`` hold the figures plus ``rated`` and ``handled`` (the counts behind satisfaction and the
    median), which are removed here.
    """
    table: dict[str, Mapping[str, Any]] = {row["key"]: row for row in rows}
    table[TOTAL] = totals
    hidden = _Hidden(table)
    reasons = sorted({field for row in table.values() for field in _reasons(row)})
    for key, row in table.items():
        for field in (*COUNTS, *_reasons(row)):
            if 0 < _value(row, field) < k:
                hidden.hide(key, field)
    changed = True
    while changed:
        changed = False
        for key, row in table.items():
            # received = accepted + rejected; rejected = the sum of its reasons. A hidden whole hides its parts.
            if (key, "received") in hidden:
                changed |= hidden.hide_all(key, PARTS_OF_RECEIVED)
            else:
                changed |= hidden.complete((key, "received"), [(key, part) for part in PARTS_OF_RECEIVED])
            if (key, "rejected") in hidden:
                changed |= hidden.hide_all(key, _reasons(row))
            else:
                changed |= hidden.complete((key, "rejected"), [(key, field) for field in _reasons(row)])
        # Each column of the rows sums to the totals.
        for field in (*COUNTS, *reasons):
            column = [(key, field) for key in table if key != TOTAL]
            if (TOTAL, field) in hidden:
                # A hidden total is the sum of its rows: one of them at least must be hidden too.
                nonzero = [cell for cell in column if _value(table[cell[0]], field)]
                if nonzero and not any(cell in hidden for cell in column):
                    changed |= hidden.hide(*min(nonzero, key=lambda cell: _value(table[cell[0]], field)))
            else:
                changed |= hidden.complete((TOTAL, field), column)
    published = [_published(row, row["key"], hidden, k) for row in rows]
    return published, _published(totals, TOTAL, hidden, k)


def _published(row: Mapping[str, Any], key: str, hidden: _Hidden, k: int) -> dict[str, Any]:
    out = {name: value for name, value in row.items() if name not in ("rated", "handled")}
    fields = []
    for field in COUNTS:
        if (key, field) in hidden:
            out[field] = None
            fields.append(field)
    # A reason the row has none of may be hidden too, as the complement of another row's: it shows as None.
    hidden_reasons = sorted(field for cell_key, field in hidden.cells if cell_key == key and field.startswith(REASON))
    if row.get("rejected_by_reason") or hidden_reasons:
        out["rejected_by_reason"] = dict(row.get("rejected_by_reason") or {})
        for field in sorted({*_reasons(row), *hidden_reasons}):
            if (key, field) in hidden:
                out["rejected_by_reason"][field[len(REASON) :]] = None
                fields.append(field)
    for rate, base in RATES.items():
        base_hidden = base in COUNTS and (key, base) in hidden
        if out.get(rate) is not None and (base_hidden or int(row.get(base) or 0) < k):
            out[rate] = None
            fields.append(rate)
    out["suppressed"] = bool(fields)
    out["suppressed_fields"] = fields
    return out


def suppress_summary(summary: dict[str, Any], rated: int, k: int) -> dict[str, Any]:
    """The home page's headline figures: a count below ``k`` and the rates over one are published as ``None``."""
    out = dict(summary)
    fields = []
    for field in ("published", "last_30_days_published", "companies"):
        if 0 < int(summary.get(field) or 0) < k:
            out[field] = None
            fields.append(field)
    published = int(summary.get("published") or 0)
    for rate, base in (("answered_rate", published), ("timely_rate", published), ("satisfaction", rated)):
        if summary.get(rate) is not None and base < k:
            out[rate] = None
            fields.append(rate)
    out["suppressed"] = bool(fields)
    out["suppressed_fields"] = fields
    return out


#: A scorecard's figures and the cell of its company's row in the statistics by company each one is.
SCORECARD_CELLS = {
    "volume": "accepted",
    "timely_rate": "timely_rate",
    "relief_rate": "relief_rate",
    "average_rating": "satisfaction",
    "appeal_rate": "appeal_rate",
}
#: Figures a reader could turn back into a hidden one: complaints per million users times the user base is the volume.
SCORECARD_DERIVED = {"per_million_users": "volume"}


def suppress_scorecard(card: Mapping[str, Any], row: Mapping[str, Any] | None) -> dict[str, Any]:
    """A company's scorecard as published: a figure is ``None`` where its cell of the company's row is hidden.

    ``row`` is the company's row as :func:`suppress` published it over every company of the period (None for a
    company with nothing in it: nothing to hide)."""
    hidden = set((row or {}).get("suppressed_fields") or ())
    fields = [name for name, cell in SCORECARD_CELLS.items() if cell in hidden]
    fields += [name for name, source in SCORECARD_DERIVED.items() if source in fields and card.get(name) is not None]
    out = {**card, **dict.fromkeys(fields)}
    out["suppressed"] = bool(fields)
    out["suppressed_fields"] = fields
    return out
