"""The parts of evidence's backups: its database, then its bucket (see greenchannel.backup and
evidence.adapters.bucket_backup). ``python -m evidence.backup <dir>`` and ``python -m evidence.restore <dir>``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from evidence.adapters.bucket_backup import BucketPart
from evidence.adapters.object_storage import ObjectStorage
from evidence.config import Settings
from greenchannel.backup import DatabasePart, Part
from greenchannel.mongo import make_client


def evidence_parts(settings: Settings, app_name: str):
    async def parts() -> tuple[Sequence[Part], Callable[[], Awaitable[None]]]:
        client = make_client(settings.mongo_url, app_name)
        storage = ObjectStorage(settings)

        async def close() -> None:
            await storage.close()
            await client.close()

        return [DatabasePart(client, settings.database_name), BucketPart(storage)], close

    return parts
