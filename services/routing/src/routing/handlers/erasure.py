"""``complaint.erased``: intake erased the complaint's personal data, so routing forgets what it kept of the
complainant and their words: the complaint's similarity signature (the complainant's keyed hash and a fingerprint of
the text) and every entry about the complaint in routing's outbox, with the inbox entry in one transaction. The
screening decision and the clocks stay: codes, dates and the company, which the public record shows anyway."""

from __future__ import annotations

import logging

from pymongo.asynchronous.client_session import AsyncClientSession

from greenchannel.contracts import CloudEvent, ComplaintErased
from greenchannel.runtime import ServiceRuntime
from routing.adapters.similarity import SimilarityRepository

log = logging.getLogger(__name__)


class ErasureHandler:
    def __init__(self, runtime: ServiceRuntime, similar: SimilarityRepository) -> None:
        self.runtime = runtime
        self.similar = similar

    async def on_erased(self, event: CloudEvent, erased: ComplaintErased) -> None:
        async def erase(session: AsyncClientSession) -> None:
            await self.similar.erase(erased.number, session)
            await self.runtime.outbox.forget(erased.number, session=session)

        if await self.runtime.inbox.handle_once(event, erase):
            log.info("complaint %s: routing's copies erased", erased.number)
