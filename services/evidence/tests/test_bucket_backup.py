"""The evidence bucket in a backup (evidence.adapters.bucket_backup) against nanio: every object back under its
key with its bytes, type and user metadata; a restore refuses a bucket that holds anything."""

from __future__ import annotations

import asyncio
import io
import os

import pytest

from evidence.adapters.bucket_backup import BucketPart
from evidence.adapters.object_storage import ObjectStorage
from greenchannel.backup import BackupError

pytestmark = pytest.mark.integration


async def test_objects_come_back_with_their_bytes_type_and_metadata(settings, storage, tmp_path) -> None:
    source = ObjectStorage(settings.model_copy(update={"s3_bucket": f"{settings.s3_bucket}-bk-src"}))
    target = ObjectStorage(settings.model_copy(update={"s3_bucket": f"{settings.s3_bucket}-bk-dst"}))
    await source.ensure_bucket()
    files = {
        "evidence/ev-1/订单截图.png": (os.urandom(3000), "image/png", {"evidence-id": "ev-1"}),
        "evidence/ev-2/合同.pdf": (os.urandom(70_000), "application/pdf", {"evidence-id": "ev-2", "number": "GC1"}),
        "quarantine/up-1": (b"", "application/octet-stream", {}),
    }
    try:
        for key, (data, media_type, metadata) in files.items():
            await source.put(key, io.BytesIO(data), len(data), content_type=media_type, metadata=metadata)
        part = BucketPart(source)
        section = await part.dump(tmp_path)
        assert section["counts"] == {"objects": 3, "bytes": sum(len(d) for d, _, _ in files.values())}

        await BucketPart(target).ensure_empty()  # makes the bucket, as the service would
        assert await BucketPart(target).restore(tmp_path, section) == {"objects": 3}

        assert await target.keys() == sorted(files)
        for key, (data, media_type, metadata) in files.items():
            stat = await asyncio.to_thread(storage.stat_object, target.bucket, key)
            assert stat.content_type == media_type
            assert {k.lower(): v for k, v in stat.metadata.items() if k.lower().startswith("x-amz-meta-")} == {
                f"x-amz-meta-{name}": value for name, value in metadata.items()
            }
            assert (await target.digest(key))[1] == len(data)
            assert b"".join([chunk async for chunk in target.read(key)]) == data

        with pytest.raises(BackupError, match="is not empty"):
            await BucketPart(target).ensure_empty()
    finally:
        await source.close()
        await target.close()
