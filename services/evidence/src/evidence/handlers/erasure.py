"""``complaint.erased``: intake erased the complaint's personal data, so its files go too
(``evidence.core.erasure.Erasure``: the objects, the records, the uploads' filenames, the outbox entries)."""

from __future__ import annotations

from evidence.core.erasure import Erasure
from greenchannel.contracts import CloudEvent, ComplaintErased


class ErasureHandler:
    def __init__(self, erasure: Erasure) -> None:
        self.erasure = erasure

    async def on_erased(self, event: CloudEvent, erased: ComplaintErased) -> None:
        await self.erasure.on_erased(event, erased)
