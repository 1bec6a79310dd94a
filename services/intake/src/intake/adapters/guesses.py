"""Attempts at a secret, counted in MongoDB (shared by every replica) before the secret is checked.

Each attempt *reserves* a failure on its (target, source) pair and on its source first: one conditional
write on each, which succeeds only if the counter is what was read and the pair's wait is over. Only then
is the secret checked; a right secret gives the reservation back (the pair is forgotten, the source's
count restored). So concurrent wrong guesses get no more checks than sequential ones: each needs its own
successful write, and the write that pushes a counter past its free failures also sets the wait that
refuses the next one. The policy itself is :mod:`intake.domain.guessing`.

Failures per target (all sources, per window) only count: above the policy's ceiling they take the free
failures away from the target's pairs, and the first source that makes ``alert_sources`` distinct ones
in a window raises ``access.guessing_detected`` for operators.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from greenchannel.locks import SubjectLocks
from greenchannel.mongo import upserted
from intake.adapters.rate_limits import rate_limited
from intake.domain.guessing import Backoff, GuessPolicy, SecretKind, source_key

# How long an attempt may keep losing its read-then-conditional-write to concurrent ones before it is told to retry:
# a time, not a number of rounds, since a round lasts as long as the store takes (many concurrent attempts of one
# owner on a busy store lose many short rounds, and must not be refused for that).
CONTENTION_S = 2.0
# A lost round waits up to this long (at random) before reading again, so concurrent attempts stop colliding in step.
ROUND_JITTER_S = 0.005

Alert = Callable[[SecretKind, str, int, int, datetime], Awaitable[None]]


@dataclass(frozen=True)
class Counter:
    """One counter as read or as written by a reservation: its id and state (None: it did not exist)."""

    id: str
    failures: int
    not_before: float
    existed: bool


@dataclass(frozen=True)
class Reservation:
    kind: SecretKind
    target: str
    window: int
    pair: tuple[Counter, Counter]  # before, after
    source: tuple[Counter, Counter]
    new_pair: bool


def _named(target: str) -> str:
    """The target in a counter's id, its length first: no number or login can pass for another with an address."""
    return f"{len(target)}:{target}"


def _read(counter_id: str, document: dict[str, Any] | None) -> Counter:
    if document is None:
        return Counter(counter_id, 0, 0.0, False)
    return Counter(counter_id, document["failures"], document["not_before"], True)


class GuessGuard:
    def __init__(self, db, policy: GuessPolicy, alert: Alert, enabled: bool = True) -> None:
        self.collection = db["guesses"]
        self.policy = policy
        self.alert = alert
        self.enabled = enabled
        self.turns = SubjectLocks()

    async def reserve(self, kind: SecretKind, target: str, address: str) -> Reservation | None:
        """Count a failure of ``address`` on ``target`` before its secret is checked; 429 while it must wait."""
        if not self.enabled:
            return None
        source = source_key(address)
        pair_id = f"pair:{kind}:{_named(target)}:{source}"
        # Attempts of one pair in this process take turns: they would only lose their conditional writes to each
        # other (an owner's page asks for several things at once); other replicas' attempts may still interleave.
        async with self.turns.hold(pair_id):
            return await self._reserve(kind, target, pair_id, source)

    async def _reserve(self, kind: SecretKind, target: str, pair_id: str, source: str) -> Reservation:
        deadline = time.monotonic() + CONTENTION_S
        while time.monotonic() < deadline:
            now = time.time()
            window = int(now) // self.policy.window_s
            ids = (pair_id, f"source:{kind}:{source}", f"target:{kind}:{_named(target)}:{window}")
            found = {doc["_id"]: doc async for doc in self.collection.find({"_id": {"$in": list(ids)}})}
            pair, by_source = _read(ids[0], found.get(ids[0])), _read(ids[1], found.get(ids[1]))
            wait = max(pair.not_before, by_source.not_before) - now
            if wait > 0:
                raise rate_limited(wait)
            target_failures = found.get(ids[2], {}).get("failures", 0)
            pair_after = await self._advance(pair, self.policy.pair_backoff(target_failures), now)
            if pair_after is None:
                await asyncio.sleep(random.uniform(0, ROUND_JITTER_S))
                continue
            # The pair is ours now; the source's counter may still change under us (its other targets).
            while True:
                if (source_after := await self._advance(by_source, self.policy.per_source, now)) is not None:
                    return Reservation(
                        kind, target, window, (pair, pair_after), (by_source, source_after), not pair.existed
                    )
                if time.monotonic() >= deadline:
                    break
                await asyncio.sleep(random.uniform(0, ROUND_JITTER_S))
                now = time.time()
                by_source = _read(ids[1], await self.collection.find_one({"_id": ids[1]}))
                if by_source.not_before > now:
                    break
            await self._give_back(pair, pair_after)
            raise rate_limited(max(1.0, by_source.not_before - now))
        raise rate_limited(1)  # lost every round for seconds to concurrent attempts of the same source: a storm

    async def succeeded(self, reservation: Reservation | None) -> None:
        """The secret was right: the pair's failures are forgotten and the source's reservation given back."""
        if reservation is None:
            return
        await self.collection.delete_one({"_id": reservation.pair[1].id})
        await self._give_back(*reservation.source)

    async def failed(self, reservation: Reservation | None) -> None:
        """The secret was wrong: the reservation stands; the target's count across sources grows."""
        if reservation is None:
            return
        window_start = reservation.window * self.policy.window_s
        expires = datetime.fromtimestamp(window_start + 2 * self.policy.window_s, UTC)
        update = {
            "$inc": {"failures": 1, "sources": int(reservation.new_pair)},
            "$setOnInsert": {"expires_at": expires},
        }
        target_id = f"target:{reservation.kind}:{_named(reservation.target)}:{reservation.window}"
        # A concurrent first failure may insert it: this one then counts on the document that one made.
        counted = await upserted(self.collection, {"_id": target_id}, update)
        if counted is None:
            raise RuntimeError(f"the failures of {target_id} could not be counted")
        # Exactly one failure makes the count of distinct sources reach the threshold: it alone alerts.
        if reservation.new_pair and counted["sources"] == self.policy.alert_sources:
            await self.alert(
                reservation.kind,
                reservation.target,
                counted["sources"],
                counted["failures"],
                datetime.fromtimestamp(window_start, UTC),
            )

    async def _advance(self, before: Counter, backoff: Backoff, now: float) -> Counter | None:
        """One more failure on the counter, if nobody changed it since it was read; None if somebody did."""
        failures = before.failures + 1
        delay = backoff.delay_after(failures)
        # No wait is stored as 0, never as "now": a concurrent attempt that read the clock a moment before this
        # write must not find a wait it would have to honour (the owner's parallel requests would be refused).
        after = Counter(before.id, failures, now + delay if delay > 0 else 0.0, True)
        # Kept until its wait is over and as long again without failures: then its failures are forgotten.
        fields = {
            "failures": after.failures,
            "not_before": after.not_before,
            "expires_at": datetime.fromtimestamp(now + delay + backoff.max_s, UTC),
        }
        if not before.existed:
            try:
                await self.collection.insert_one({"_id": before.id, **fields})
            except DuplicateKeyError:
                return None
            return after
        changed = await self.collection.update_one(
            {"_id": before.id, "failures": before.failures, "not_before": before.not_before}, {"$set": fields}
        )
        return after if changed.modified_count == 1 else None

    async def _give_back(self, before: Counter, after: Counter) -> None:
        """Undo one reservation: the state before it if nothing came since, else one failure fewer."""
        unchanged = {"_id": after.id, "failures": after.failures, "not_before": after.not_before}
        if not before.existed:
            if (await self.collection.delete_one(unchanged)).deleted_count == 1:
                return
        elif (
            await self.collection.update_one(
                unchanged, {"$set": {"failures": before.failures, "not_before": before.not_before}}
            )
        ).modified_count:
            return
        await self.collection.update_one({"_id": after.id, "failures": {"$gt": 0}}, {"$inc": {"failures": -1}})
