"""The evidence bucket as a part of evidence's backups (greenchannel.backup): every object with its type and user
metadata, one file each, listed in the manifest with its key, size and SHA-256.

A backup copies the bucket after the database (greenchannel.backup.take_backup keeps that order): an object is
stored before the record naming it is committed, so every object a record of the copy names is in the bucket
when it is copied. Objects stored after the database was read come along too: no restored record names
them, so the clean-up, which goes by records, leaves them in the bucket. A restore creates the bucket as the service does (object lock and default retention when
``EVIDENCE_OBJECT_LOCK_DAYS`` asks: the restored versions' retention starts at the restore) and writes each
object back under its key with its type and metadata.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evidence.adapters.object_storage import ObjectStorage
from greenchannel.backup import BackupError, file_entry


class BucketPart:
    name = "bucket"

    def __init__(self, storage: ObjectStorage) -> None:
        self.storage = storage

    async def dump(self, directory: Path) -> dict[str, Any]:
        folder = directory / "bucket"
        folder.mkdir(parents=True, exist_ok=True)
        objects = []
        # Files are numbered: a key may hold characters (slashes, any Unicode) a file name should not.
        for index, key in enumerate(await self.storage.keys()):
            path = folder / f"{index:08d}.object"
            stored = await self.storage.save_to(key, path)
            entry = file_entry(directory, path)
            if entry["sha256"] != stored.sha256:
                raise BackupError(f"object {key} changed while it was copied")
            objects.append({**entry, "key": key, "content_type": stored.content_type, "metadata": stored.metadata})
        return {
            "bucket": self.storage.bucket,
            "objects": objects,
            "counts": {"objects": len(objects), "bytes": sum(item["bytes"] for item in objects)},
        }

    async def ensure_empty(self) -> None:
        await self.storage.ensure_bucket()
        if await self.storage.keys():
            raise BackupError(f"bucket {self.storage.bucket} is not empty: a backup is restored into an empty bucket")

    async def restore(self, directory: Path, section: dict[str, Any]) -> dict[str, int]:
        restored = 0
        for item in section["objects"]:
            with (directory / item["file"]).open("rb") as file:
                await self.storage.put(
                    item["key"], file, item["bytes"], content_type=item["content_type"], metadata=item["metadata"]
                )
            restored += 1
        return {"objects": restored}
