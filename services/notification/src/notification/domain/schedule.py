"""The retry schedule: ``schedule[n]`` is the delay before attempt ``n + 1``; its length bounds the attempts."""

from __future__ import annotations

from datetime import datetime, timedelta


def delay_before_next(schedule: list[float], attempts_made: int) -> float | None:
    """Seconds to wait before the next attempt after ``attempts_made`` attempts; ``None`` when none is left."""
    if attempts_made < 0:
        raise ValueError("attempts_made cannot be negative")
    if attempts_made >= len(schedule):
        return None
    return float(schedule[attempts_made])


def next_attempt_at(schedule: list[float], attempts_made: int, now: datetime) -> datetime | None:
    delay = delay_before_next(schedule, attempts_made)
    return None if delay is None else now + timedelta(seconds=delay)


def total_span_s(schedule: list[float]) -> float:
    """How long after the first attempt the last one is made (for operators and tests)."""
    return float(sum(schedule[1:]))
