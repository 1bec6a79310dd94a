"""Per-subject ordering of concurrently consumed messages."""

from __future__ import annotations

import asyncio

import pytest

from greenchannel.locks import SubjectLocks

pytestmark = pytest.mark.unit


async def test_subject_locks_keep_one_subjects_messages_in_order_and_others_concurrent():
    locks, order = SubjectLocks(), []

    async def handle(subject: str, n: int, delay: float) -> None:
        async with locks.hold(subject):
            await asyncio.sleep(delay)
            order.append((subject, n))

    # The first message of A is slow: the second of A waits for it, B does not.
    await asyncio.gather(handle("A", 1, 0.05), handle("A", 2, 0), handle("B", 1, 0))
    assert order == [("B", 1), ("A", 1), ("A", 2)]
    assert locks._locks == {}
