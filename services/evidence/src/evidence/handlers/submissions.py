"""``complaint.submitted``: the files listed at filing now belong to the complaint and are no longer orphans.

intake checked at filing that each listed file existed and was unattached, and it links each file
to one complaint only; this handler makes the same fact true here (status ``attached``, the number
set, the complaint's file count raised), in one transaction with the inbox entry. A listed file that
is not unattached any more (removed by the clean-up in the meantime, or unknown) is logged: the
event records a filing that happened and is not refused.
"""

from __future__ import annotations

from datetime import datetime, timezone

import structlog
from greenchannel.contracts import CloudEvent, ComplaintSubmitted
from greenchannel.messaging import ContractViolation
from greenchannel.runtime import ServiceRuntime
from pydantic import ValidationError
from pymongo.asynchronous.client_session import AsyncClientSession

from evidence.adapters.evidence_repository import EvidenceRepository

log = structlog.get_logger(__name__)


class SubmissionHandlers:
    def __init__(self, runtime: ServiceRuntime, repository: EvidenceRepository) -> None:
        self.runtime = runtime
        self.repository = repository

    async def on_submitted(self, event: CloudEvent) -> None:
        try:
            submitted = event.payload(ComplaintSubmitted)
        except ValidationError as error:
            raise ContractViolation(str(error)) from error
        assert isinstance(submitted, ComplaintSubmitted)
        if not submitted.evidence_ids:
            return
        attached: list[str] = []

        async def attach(session: AsyncClientSession) -> None:
            attached.clear()
            ids = await self.repository.attach(
                list(submitted.evidence_ids), submitted.number, datetime.now(timezone.utc), session
            )
            if ids:
                await self.repository.count_files(submitted.number, len(ids), session)
            attached.extend(ids)

        if not await self.runtime.inbox.handle_once(event, attach):
            return
        missing = set(submitted.evidence_ids) - await self.repository.attached_to(list(submitted.evidence_ids), submitted.number)
        if missing:
            log.warning("listed evidence could not be attached", number=submitted.number, evidence_ids=sorted(missing))
        log.info("evidence attached", number=submitted.number, count=len(attached))
