"""Seal the signing secrets of webhook endpoints stored before secrets were sealed.

Such an endpoint holds ``secret`` (and during a rotation ``previous_secret``) as text; each becomes the sealed
form ``EndpointRepository`` writes (bound to the same field). Each endpoint is one update conditional on both
values being those read, so a rotation that committed meanwhile (which seals what it writes) is never overwritten;
a sealed value is left alone.
"""

from __future__ import annotations

from typing import Any

from pymongo import UpdateOne

from greenchannel.migrations import StepContext, batches, rewrite
from notification.adapters.endpoints import SECRET_FIELD
from notification.migrations._sealing import key_ring, settings_of

SECRETS = ("secret", "previous_secret")
PLAINTEXT = {"$or": [{field: {"$type": "string"}} for field in SECRETS]}


async def up(context: StepContext) -> None:
    cipher = key_ring(settings_of(context))
    endpoints = context.db["endpoints"]
    async for batch in batches(endpoints, PLAINTEXT, context.progress):
        writes = []
        for endpoint in batch:
            read = {field: endpoint.get(field) for field in SECRETS}
            sealed: dict[str, Any] = {
                field: cipher.encrypt(SECRET_FIELD, value) for field, value in read.items() if isinstance(value, str)
            }
            writes.append(UpdateOne({"_id": endpoint["_id"], **read}, {"$set": sealed}))
        await rewrite(endpoints, writes, context.progress, "sealed")
