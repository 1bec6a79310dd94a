"""A census of what every service stores, to show a refused request left nothing behind (the platform of each
module comes from tests/conftest.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

SERVICES = ("intake", "evidence", "routing", "notification")
# Bookkeeping a request may touch without storing anything of its own: rate-limit counters (a refused request
# still counts against its sender), the leases of background jobs, and the dead-letter watch (it records each
# queue as the queue appears).
BOOKKEEPING = frozenset({"rate_limits", "leases", "job_leases", "locks", "dead_letter_watch"})


@pytest.fixture(scope="module")
def census(platform):
    """``await census()``: the document counts of the module's platform (see :func:`count_documents`)."""
    return lambda: count_documents(platform)


async def count_documents(platform: Any) -> dict[str, int]:
    """The number of documents in every collection of every service, keyed ``service.collection``."""
    collections = []
    for service in SERVICES:
        db = platform.apps[service].state.runtime.db
        collections += [(f"{service}.{name}", db[name]) for name in await db.list_collection_names()
                        if name not in BOOKKEEPING]
    counts = await asyncio.gather(*(collection.count_documents({}) for _, collection in collections))
    return dict(zip((key for key, _ in collections), counts))
