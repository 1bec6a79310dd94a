"""Folds the statistics staged by case changes into the public rollups, every ``STATISTICS_FOLD_INTERVAL_S``: how
far the public figures trail the case file."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from greenchannel.periodic import every
from intake.adapters.statistics import Statistics

NAME = "statistics-fold"


def statistics_fold(statistics: Statistics, interval_s: float) -> Callable[[], Coroutine[Any, Any, None]]:
    """The job, for ``ServiceRuntime.start(jobs=...)``."""

    async def run() -> None:
        await every(interval_s, statistics.fold_all, "statistics fold")

    return run
