"""intake's own figures for Prometheus: open cases by state, and cases past their deadline, read by the runtime's
periodic gauge refresh (a scrape reads only what the last refresh set)."""

from __future__ import annotations

from prometheus_client import Gauge

from intake.adapters.case_store import CaseStore
from intake.domain.lifecycle import Status

CASES_BY_STATE = Gauge("greenchannel_cases", "Complaints by state.", ["state"])
CASES_OVERDUE = Gauge("greenchannel_cases_overdue", "Open complaints past their deadline (the overdue flag).")


async def refresh_case_metrics(cases: CaseStore) -> None:
    counts = {
        row["_id"]: row["n"]
        for row in await (
            await cases.complaints.aggregate([{"$group": {"_id": "$status", "n": {"$sum": 1}}}])
        ).to_list()
    }
    for state in Status:
        CASES_BY_STATE.labels(state.value).set(counts.get(state.value, 0))
    CASES_OVERDUE.set(
        await cases.complaints.count_documents(
            {
                "overdue": True,
                "status": {"$in": [Status.FORWARDED.value, Status.INFO_REQUESTED.value, Status.APPEALED.value]},
            }
        )
    )
