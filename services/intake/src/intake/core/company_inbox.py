"""A company's inbox: the complaints forwarded to it, filtered, paged newest first, each with the working days it has
left to answer; and the same selection as CSV.

The working days come from routing's calendar (``RoutingClient.working_days``), read once per China day and replica
for a window around today: a page costs no call to routing, and a calendar change reaches the inbox the next day,
as it reaches routing's own deadlines only for clocks started after it.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime
from typing import Any

from greenchannel.csv_cells import SafeWriter
from intake.domain.company_inbox import (
    CSV_COLUMNS,
    InboxFilter,
    calendar_window,
    inbox_query,
    last_due_day,
    working_days_left,
)
from intake.domain.statistics import CHINA

# Rows read from the store per batch of an export.
EXPORT_BATCH = 200
# The most rows one export holds: a filter narrows a larger inbox.
EXPORT_MAX_ROWS = 20_000

Page = Callable[..., Awaitable[list[dict[str, Any]]]]
WorkingDaysSource = Callable[[str, str], Awaitable[list[str] | None]]
CollectiveClusters = Callable[[str], Awaitable[list[str]]]


class CalendarUnavailable(Exception):
    """Routing's calendar could not be read: a filter counting working days cannot be answered now."""


class WorkingDays:
    """Routing's working days around today, kept for the rest of the China day; None while routing is away (read
    again at the next request), so the inbox still lists complaints, without the days left."""

    def __init__(self, source: WorkingDaysSource) -> None:
        self.source = source
        self._day: date | None = None
        self._days: frozenset[date] = frozenset()
        self._lock = asyncio.Lock()

    async def around(self, today: date) -> frozenset[date] | None:
        async with self._lock:
            if self._day != today:
                start, end = calendar_window(today)
                listed = await self.source(start.isoformat(), end.isoformat())
                if listed is None:
                    return None
                self._days = frozenset(date.fromisoformat(day) for day in listed)
                self._day = today
            return self._days


class CompanyInbox:
    def __init__(self, page: Page, working_days: WorkingDays, collective_clusters: CollectiveClusters) -> None:
        self.page_of = page
        self.working_days = working_days
        self.collective_clusters = collective_clusters

    async def _query(
        self, company_id: str, chosen: InboxFilter, today: date
    ) -> tuple[dict[str, Any], frozenset[date] | None]:
        days = await self.working_days.around(today)
        if chosen.due_within is not None and days is None:
            raise CalendarUnavailable()
        due_by = last_due_day(today, chosen.due_within, days) if chosen.due_within is not None and days else None
        clusters = await self.collective_clusters(company_id) if chosen.collective is not None else None
        return inbox_query(company_id, chosen, today=today, due_by=due_by, collective_clusters=clusters), days

    async def page(
        self,
        company_id: str,
        chosen: InboxFilter,
        *,
        limit: int,
        after: tuple[datetime, str] | None,
        view: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of the selection as ``view`` shows a case, with ``working_days_left``; and the last case of the
        page when there is a next one (the cursor's)."""
        today = datetime.now(CHINA).date()
        query, days = await self._query(company_id, chosen, today)
        collective = set(await self.collective_clusters(company_id))
        rows = await self.page_of(query, limit=limit + 1, after=after)
        items = [self._item(case, view, today, days, collective) for case in rows[:limit]]
        return items, (rows[limit - 1] if len(rows) > limit else None)

    @staticmethod
    def _item(
        case: dict[str, Any],
        view: Callable[[dict[str, Any]], dict[str, Any]],
        today: date,
        days: frozenset[date] | None,
        collective: set[str],
    ) -> dict[str, Any]:
        due = case.get("response_due")
        pending = case["status"] in ("forwarded", "info_requested")
        return {
            **view(case),
            "category": case["category"],
            "working_days_left": (
                working_days_left(today, date.fromisoformat(due), days)
                if due and pending and days is not None
                else None
            ),
            "appealed": case.get("appeal") is not None,
            "collective": case.get("cluster_id") in collective,
        }

    async def export(
        self, company_id: str, chosen: InboxFilter, view: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> AsyncIterator[str]:
        """The selection as CSV (UTF-8 with a byte order mark, so a spreadsheet reads the Chinese), newest first,
        in batches; no text cell starts a formula. What can refuse the export does so here, before a byte is sent
        (:class:`CalendarUnavailable`)."""
        today = datetime.now(CHINA).date()
        query, days = await self._query(company_id, chosen, today)
        collective = set(await self.collective_clusters(company_id))
        return self._csv(query, view, today, days, collective)

    async def _csv(
        self,
        query: dict[str, Any],
        view: Callable[[dict[str, Any]], dict[str, Any]],
        today: date,
        days: frozenset[date] | None,
        collective: set[str],
    ) -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = SafeWriter(buffer)
        writer.writerow(CSV_COLUMNS)
        yield "\ufeff" + _drain(buffer)
        after: tuple[datetime, str] | None = None
        written = 0
        while written < EXPORT_MAX_ROWS:
            rows = await self.page_of(query, limit=min(EXPORT_BATCH, EXPORT_MAX_ROWS - written), after=after)
            for case in rows:
                item = self._item(case, view, today, days, collective)
                writer.writerow(
                    [
                        item["number"],
                        item["status"],
                        item["category"],
                        item["title"],
                        item["submitted_at"],
                        item.get("forwarded_at") or "",
                        item["response_due"] or "",
                        "" if item["working_days_left"] is None else item["working_days_left"],
                        item["overdue"],
                        item["appealed"],
                        item["collective"],
                    ]
                )
            written += len(rows)
            if rows:
                yield _drain(buffer)
            if len(rows) < EXPORT_BATCH:
                break
            after = (rows[-1]["submitted_at"], rows[-1]["_id"])


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
