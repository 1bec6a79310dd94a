"""Takes the public statistics' snapshot when its period is due (``PUBLIC_STATISTICS_REFRESH``): the public figures
change once a period, not with every publication, so comparing them before and after one tells nobody anything."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from greenchannel.periodic import every
from intake.adapters.statistics_snapshot import SNAPSHOT_CHECK_S, StatisticsSnapshot

NAME = "public-statistics-snapshot"


def statistics_snapshot(snapshot: StatisticsSnapshot) -> Callable[[], Coroutine[Any, Any, None]]:
    """The job, for ``ServiceRuntime.start(jobs=...)``."""

    async def run() -> None:
        await every(SNAPSHOT_CHECK_S, snapshot.refresh_if_due, "public statistics snapshot")

    return run
