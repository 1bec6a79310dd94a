"""The ``upload_budgets`` collection: one document per address with the reservations that count against its
daily byte budget of anonymous uploads (see :mod:`intake.domain.upload_budget`), shared by every replica.

A reservation is admitted by a conditional replace of the address's document on the version it was read
at: two uploads racing for the last bytes of a budget write the same document, one of them wins and the
other reads again and is judged against the winner's reservation. Nothing can overshoot the budget.
The document expires (TTL index) once none of its reservations counts any more.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from pymongo.errors import DuplicateKeyError

from greenchannel.problems import Problem
from intake.domain.upload_budget import Reservation, counting, held_for, wait_for_room

#: Rounds of read-and-replace before a reservation gives up under contention (each round someone else won).
MAX_ROUNDS = 100


class BudgetExhausted(Problem):
    def __init__(self, retry_after_s: float) -> None:
        seconds = max(1, round(retry_after_s))
        super().__init__(
            429,
            "upload_budget_exhausted",
            f"本地址今日的匿名上传额度已用完，请在 {seconds} 秒后再试，或提交投诉后再补充证据。 "
            f"The anonymous upload allowance of this address for the day is used up; try again in {seconds} s, "
            "or file the complaint first and add the evidence to it.",
            headers={"Retry-After": str(seconds)},
            retry_after_s=seconds,
        )


class UploadBudget:
    def __init__(self, db, *, budget_bytes: int, enabled: bool = True) -> None:
        self.collection = db["upload_budgets"]
        self.budget_bytes = budget_bytes
        self.enabled = enabled

    @asynccontextmanager
    async def reserved(
        self, address: str, size: int, unattached_removed_after_s: float | None
    ) -> AsyncIterator[Callable[[int], None]]:
        """Reserve ``size`` bytes for ``address`` (429 :class:`BudgetExhausted` when they do not fit) for the block.

        The block is given a function to call with the size actually stored; the reservation is brought
        down to it when the block ends. A block that raises gives the whole reservation back: the upload
        stored nothing."""
        if not self.enabled:
            yield lambda _: None
            return
        reservation_id = uuid.uuid4().hex
        await self._reserve(address, reservation_id, size, held_for(unattached_removed_after_s))
        stored: list[int] = []
        try:
            yield stored.append
        except BaseException:
            await asyncio.shield(self._change(address, reservation_id, None))
            raise
        if stored and stored[-1] < size:
            await self._change(address, reservation_id, stored[-1])

    async def _reserve(self, address: str, reservation_id: str, size: int, held: timedelta) -> None:
        for _ in range(MAX_ROUNDS):
            document = await self.collection.find_one({"_id": address})
            now = datetime.now(UTC)
            reservations = counting(_reservations(document), now)
            retry_after_s = wait_for_room(reservations, size, self.budget_bytes, now)
            if retry_after_s is not None:
                raise BudgetExhausted(retry_after_s)
            reservations.append(Reservation(reservation_id, size, now + held))
            if await self._replace(address, document, reservations):
                return
            await asyncio.sleep(random.uniform(0, 0.01))  # another upload of this address won the round
        raise Problem(
            503,
            "upload_budget_busy",
            "Too many uploads from this address at once; try again shortly.",
            headers={"Retry-After": "1"},
        )

    async def _change(self, address: str, reservation_id: str, size: int | None) -> None:
        """Bring one reservation down to ``size`` bytes, or remove it (``None``)."""
        for _ in range(MAX_ROUNDS):
            document = await self.collection.find_one({"_id": address})
            if document is None:
                return
            reservations = []
            for reservation in _reservations(document):
                if reservation.id != reservation_id:
                    reservations.append(reservation)
                elif size is not None:
                    reservations.append(Reservation(reservation.id, size, reservation.until))
            if await self._replace(address, document, reservations):
                return
            await asyncio.sleep(random.uniform(0, 0.01))

    async def _replace(self, address: str, read: dict | None, reservations: list[Reservation]) -> bool:
        """Write ``reservations`` if the document is still the one ``read``; ``False`` when another write came first."""
        expires_at = max((reservation.until for reservation in reservations), default=datetime.now(UTC))
        replacement = {"reservations": [asdict(reservation) for reservation in reservations], "expires_at": expires_at}
        if read is None:
            try:
                await self.collection.insert_one({"_id": address, "version": 1, **replacement})
            except DuplicateKeyError:
                return False
            return True
        result = await self.collection.replace_one(
            {"_id": address, "version": read["version"]}, {"version": read["version"] + 1, **replacement}
        )
        return result.modified_count == 1


def _reservations(document: dict | None) -> list[Reservation]:
    if document is None:
        return []
    return [Reservation(item["id"], item["bytes"], _aware(item["until"])) for item in document["reservations"]]


def _aware(moment: datetime) -> datetime:
    # The store hands datetimes back naive (UTC) unless its client was made tz_aware.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
