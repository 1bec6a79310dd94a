"""Rate limits at the public edge, shared by every intake replica through MongoDB.

Fixed windows: one counter document per (rule, key, window), incremented atomically and expired by
a TTL index. The counters that matter most count *failures*: wrong access codes per complaint
number make guessing a code infeasible whatever the number of addresses an attacker has (31^10
codes, a handful of tries an hour), and wrong passwords per login stop password guessing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from greenchannel.problems import Problem
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

#: Attempts at counting a hit while concurrent first hits of a window race to create its counter.
MAX_COUNT_ROUNDS = 5


@dataclass(frozen=True)
class Rule:
    name: str
    limit: int
    window_s: int


class RateLimiter:
    def __init__(self, db, enabled: bool = True) -> None:
        self.collection = db["rate_limits"]
        self.enabled = enabled

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("expires_at", expireAfterSeconds=0)

    async def hit(self, rule: Rule, key: str) -> None:
        """Count one hit; 429 once the window's limit is passed."""
        if not self.enabled:
            return
        window = int(time.time()) // rule.window_s
        counter = None
        # Concurrent first hits of a window race to create its counter: the one that lost sees no document (or a
        # duplicate key) and counts again, on the counter the winner created.
        for _ in range(MAX_COUNT_ROUNDS):
            try:
                counter = await self.collection.find_one_and_update(
                    {"_id": f"{rule.name}:{key}:{window}"},
                    {"$inc": {"n": 1}, "$setOnInsert": {
                        "expires_at": datetime.now(timezone.utc) + timedelta(seconds=rule.window_s * 2)}},
                    upsert=True, return_document=ReturnDocument.AFTER,
                )
            except DuplicateKeyError:
                continue
            if counter is not None:
                break
        if counter is None:
            raise Problem(503, "rate_limit_busy", "Too many requests at once; try again shortly.",
                          headers={"Retry-After": "1"})
        if counter["n"] > rule.limit:
            retry_after = rule.window_s - int(time.time()) % rule.window_s
            raise Problem(429, "rate_limited", f"Too many attempts; try again in {retry_after} s.",
                          headers={"Retry-After": str(retry_after)}, retry_after_s=retry_after)

    async def check(self, rule: Rule, key: str) -> None:
        """Refuse if the window's limit is already reached, without counting (for failure counters)."""
        if not self.enabled:
            return
        window = int(time.time()) // rule.window_s
        counter = await self.collection.find_one({"_id": f"{rule.name}:{key}:{window}"})
        if counter is not None and counter["n"] >= rule.limit:
            retry_after = rule.window_s - int(time.time()) % rule.window_s
            raise Problem(429, "rate_limited", f"Too many failed attempts; try again in {retry_after} s.",
                          headers={"Retry-After": str(retry_after)}, retry_after_s=retry_after)
