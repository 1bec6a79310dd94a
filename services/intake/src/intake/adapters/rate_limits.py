"""Rate limits at the public edge.

Writes (filing, uploads, sign-ups, feedback) are counted in MongoDB, shared by every replica: fixed windows,
one counter document per (rule, key, window), incremented atomically and expired by a TTL index. Guessing
secrets has its own, growing delays (:mod:`intake.adapters.guesses`).

Public reads are counted in each replica's memory (:class:`TokenBuckets`): a read must not cost a store
write, and a limit per replica is still a limit (N replicas allow N times the rate, which the generous
default allows for).
"""

from __future__ import annotations

import math
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from greenchannel.mongo import upserted
from greenchannel.problems import Problem

#: Attempts at counting a hit while concurrent first hits of a window race to create its counter.
MAX_COUNT_ROUNDS = 5


def rate_limited(wait_s: float) -> Problem:
    """429 with the whole seconds to wait, in ``Retry-After`` and in the problem document."""
    retry_after = max(1, math.ceil(wait_s))
    return Problem(
        429,
        "rate_limited",
        f"Too many requests; try again in {retry_after} s.",
        headers={"Retry-After": str(retry_after)},
        retry_after_s=retry_after,
    )


@dataclass(frozen=True)
class Rule:
    name: str
    limit: int
    window_s: int


class RateLimiter:
    def __init__(self, db, enabled: bool = True) -> None:
        self.collection = db["rate_limits"]
        self.enabled = enabled

    async def hit(self, rule: Rule, key: str) -> None:
        """Count one hit; 429 once the window's limit is passed."""
        if not self.enabled:
            return
        window = int(time.time()) // rule.window_s
        # Concurrent first hits of a window race to create its counter: the loser counts on the winner's.
        counter = await upserted(
            self.collection,
            {"_id": f"{rule.name}:{key}:{window}"},
            {
                "$inc": {"n": 1},
                "$setOnInsert": {"expires_at": datetime.now(UTC) + timedelta(seconds=rule.window_s * 2)},
            },
            rounds=MAX_COUNT_ROUNDS,
        )
        if counter is None:
            raise Problem(
                503, "rate_limit_busy", "Too many requests at once; try again shortly.", headers={"Retry-After": "1"}
            )
        if counter["n"] > rule.limit:
            raise rate_limited(rule.window_s - int(time.time()) % rule.window_s)

    async def forget(self, keys: list[str]) -> int:
        """Delete every counter of these keys, whatever the rule and window (an erased complainant's keyed hashes
        count their filings for a window or two); how many."""
        if not keys:
            return 0
        pattern = "|".join(re.escape(f":{key}:") for key in keys)
        result = await self.collection.delete_many({"_id": {"$regex": pattern}})
        return result.deleted_count

    async def check(self, rule: Rule, key: str) -> None:
        """Refuse if the window's limit is already reached, without counting (for failure counters, which
        :meth:`hit` counts only once a failure happened)."""
        if not self.enabled:
            return
        window = int(time.time()) // rule.window_s
        counter = await self.collection.find_one({"_id": f"{rule.name}:{key}:{window}"})
        if counter is not None and counter["n"] >= rule.limit:
            raise rate_limited(rule.window_s - int(time.time()) % rule.window_s)


# Addresses remembered per replica; the least recently seen are forgotten first (their buckets were full again
# long ago, or they are a flood of addresses, which a bucket could not have stopped anyway).
MAX_BUCKETS = 100_000


class TokenBuckets:
    """A token bucket per key in this process: ``burst`` tokens, refilled at ``rate_per_s``."""

    def __init__(self, rate_per_s: float, burst: int, enabled: bool = True) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.enabled = enabled
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def take(self, key: str) -> float:
        """Take one token: 0 if there was one, else the seconds until there is."""
        if not self.enabled:
            return 0.0
        now = time.monotonic()
        tokens, at = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate_per_s)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate_per_s
        self._buckets[key] = (tokens - 1 if tokens >= 1 else tokens, now)
        if len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)
        return wait
