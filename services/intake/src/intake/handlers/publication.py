"""How routing's events reach the public record and the statistics: the publication of a case
the company has not answered in time, the collective complaint a case joined, and the working days the
company's first answer took. Each applies inside the inbox transaction, like the lifecycle handlers.
"""

from __future__ import annotations

from greenchannel.contracts import CloudEvent, ClusterJoined, SlaClockStopped, SlaPublicationDue
from greenchannel.mongo import after_commit
from greenchannel.runtime import ServiceRuntime
from greenchannel.sealing import KeyRingCipher
from intake.adapters.case_store import CaseStore
from intake.adapters.publication import Publication
from intake.domain.statistics import china_day
from intake.handlers.lifecycle import LifecycleHandlers


class PublicationHandlers(LifecycleHandlers):
    def __init__(
        self, runtime: ServiceRuntime, cases: CaseStore, publication: Publication, cipher: KeyRingCipher | None = None
    ) -> None:
        super().__init__(runtime, cases, cipher)
        self.publication = publication

    async def on_publication_due(self, event: CloudEvent, due: SlaPublicationDue) -> None:

        async def apply(session) -> None:
            # Answered, withdrawn or closed meanwhile (or published already): nothing to do.
            await self.cases.publish_if_unanswered(due.number, session)

        await self._apply_once(event, due.number, apply)

    async def on_cluster_joined(self, event: CloudEvent, joined: ClusterJoined) -> None:

        async def apply(session) -> None:
            case = await self.cases.record(joined.number, {"cluster_id": joined.cluster_id}, session=session)
            await self.publication.records.join_cluster(
                joined.cluster_id,
                joined.company_id,
                case.get("company_name"),
                joined.size,
                joined.collective,
                joined.number,
                china_day(joined.joined_at).isoformat(),
                session,
            )
            # The cluster's size and whether it is collective show on every member's record and in the lists.
            after_commit(session, lambda: self.publication.rewritten(joined.number))

        await self._apply_once(event, joined.number, apply)

    async def on_clock_stopped(self, event: CloudEvent, stopped: SlaClockStopped) -> None:
        # The handling time statistics report: the first answer's working days, pauses excluded.
        if stopped.kind != "response" or stopped.reason != "responded" or stopped.round != 1:
            return

        async def apply(session) -> None:
            await self.cases.record(stopped.number, {"handling_days": stopped.working_days_used}, session=session)

        await self._apply_once(event, stopped.number, apply)
