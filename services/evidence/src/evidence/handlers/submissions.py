"""``complaint.submitted`` and ``complaint.supplemented``: the files listed at filing, or with the answer to
the company's question, now belong to the complaint and are no longer orphans.

intake checked that each listed file existed and was unattached, and it links each file to one
complaint only; these handlers make the same fact true here (status ``attached``, the number set,
the complaint's file count raised), in one transaction with the inbox entry, so the clean-up of
files never attached leaves them alone. A listed file that is not unattached any more (removed by
the clean-up in the meantime, or unknown) is logged: the event records what happened and is not refused.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from pymongo.asynchronous.client_session import AsyncClientSession

from evidence.adapters.evidence_repository import EvidenceRepository
from greenchannel.contracts import CloudEvent, ComplaintSubmitted, ComplaintSupplemented
from greenchannel.runtime import ServiceRuntime

log = logging.getLogger(__name__)


class SubmissionHandlers:
    def __init__(self, runtime: ServiceRuntime, repository: EvidenceRepository) -> None:
        self.runtime = runtime
        self.repository = repository

    async def on_submitted(self, event: CloudEvent, submitted: ComplaintSubmitted) -> None:
        await self._attach(event, submitted.number, list(submitted.evidence_ids))

    async def on_supplemented(self, event: CloudEvent, supplemented: ComplaintSupplemented) -> None:
        await self._attach(event, supplemented.number, [ref.evidence_id for ref in supplemented.evidence])

    async def _attach(self, event: CloudEvent, number: str, evidence_ids: list[str]) -> None:
        if not evidence_ids:
            return
        attached: list[str] = []

        async def attach(session: AsyncClientSession) -> None:
            attached.clear()
            ids = await self.repository.attach(evidence_ids, number, datetime.now(UTC), session)
            if ids:
                await self.repository.count_files(number, len(ids), session)
            attached.extend(ids)

        if not await self.runtime.inbox.handle_once(event, attach):
            return
        missing = set(evidence_ids) - await self.repository.attached_to(evidence_ids, number)
        if missing:
            log.warning("complaint %s: listed evidence could not be attached: %s", number, sorted(missing))
        log.info("complaint %s: %d evidence file(s) attached", number, len(attached))
