"""Object storage through the MinIO Python SDK, in one private bucket.

The SDK is synchronous (urllib3), so every call runs in a worker thread and the event loop never
blocks on storage. A streamed upload is read by the SDK from a :class:`StreamBridge` while the
bytes arrive: one PUT for a file smaller than a part, else a multipart upload whose parts go out
one at a time, so memory stays at one part and the bridge's buffer whatever the file's size; if
the stream is abandoned, the SDK aborts the multipart upload and no part is kept. Streamed uploads
run in their own thread pool, so long uploads never starve the short calls (stat, links, removal).

The bucket gets no policy: it stays private; clients read an object only through a presigned,
short-lived GET, and write only through a presigned PUT into quarantine.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import BinaryIO

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import REPLACE, CopySource
from minio.error import S3Error

from evidence.adapters.stream_bridge import StreamBridge
from evidence.config import Settings

log = logging.getLogger(__name__)

BUCKET_RETRY_S = 2.0
#: Bytes per read when the service reads an object back (verification, quarantine checks).
READ_CHUNK_BYTES = 1024 * 1024
MISSING_OBJECT_CODES = frozenset({"NoSuchKey", "NoSuchObject", "ResourceNotFound"})


def _http_client(settings: Settings) -> urllib3.PoolManager:
    """The SDK's default pool, with timeouts short enough for a service (its default waits 5 minutes)."""
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=min(5.0, settings.s3_timeout_s), read=settings.s3_timeout_s),
        maxsize=16,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )


class ObjectStorage:
    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.s3_bucket
        credentials = {
            "access_key": settings.s3_access_key,
            "secret_key": settings.s3_secret_key.get_secret_value(),
            "secure": settings.s3_secure,
            "region": settings.s3_region,  # a known region spares the SDK a bucket-location request
        }
        self._client = Minio(settings.s3_endpoint, http_client=_http_client(settings), **credentials)
        # Links are signed for the name clients use; signing is local, this client never connects.
        self._signer = (
            Minio(settings.s3_public_endpoint, **credentials) if settings.s3_public_endpoint else self._client
        )
        self._bucket_ready = False
        self._part_bytes = settings.upload_part_bytes
        self._uploads = ThreadPoolExecutor(max_workers=settings.max_concurrent_uploads, thread_name_prefix="evidence-upload")

    def close(self) -> None:
        self._uploads.shutdown(wait=False, cancel_futures=True)

    async def ensure_bucket(self) -> None:
        def ensure() -> None:
            if not self._client.bucket_exists(self.bucket):
                try:
                    self._client.make_bucket(self.bucket)
                except S3Error as error:  # another replica made it first
                    if error.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
        await asyncio.to_thread(ensure)
        self._bucket_ready = True

    async def prepare(self) -> None:
        """Background start-up job: make sure the bucket exists, retrying while storage is away."""
        while True:
            try:
                await self.ensure_bucket()
                log.info("object storage ready (bucket %s)", self.bucket)
                return
            except Exception as error:  # noqa: BLE001 - storage not reachable yet; readiness says so meanwhile
                log.warning("object storage not ready (%s); retrying in %.0f s", error, BUCKET_RETRY_S)
                await asyncio.sleep(BUCKET_RETRY_S)

    async def is_ready(self) -> bool:
        """Readiness: the bucket was ensured and storage answers now."""
        return self._bucket_ready and await asyncio.to_thread(self._client.bucket_exists, self.bucket)

    async def put(self, key: str, data: BinaryIO, length: int, *, content_type: str, metadata: dict[str, str]) -> None:
        def put() -> None:
            data.seek(0)
            # One part in flight at a time: memory stays at one part (5 MiB) per upload.
            self._client.put_object(
                self.bucket, key, data, length, content_type=content_type, metadata=metadata, num_parallel_uploads=1
            )
        await asyncio.to_thread(put)

    def start_streamed_put(
        self, key: str, source: StreamBridge, *, content_type: str, metadata: dict[str, str]
    ) -> asyncio.Future:
        """Start uploading what ``source`` delivers, of unknown length; the future ends with the upload."""

        def put() -> None:
            try:
                self._client.put_object(
                    self.bucket, key, source, -1, content_type=content_type, metadata=metadata,
                    part_size=self._part_bytes, num_parallel_uploads=1,
                )
            finally:
                source.reader_done()

        return asyncio.get_running_loop().run_in_executor(self._uploads, put)

    async def copy(self, source_key: str, key: str, *, content_type: str, metadata: dict[str, str]) -> None:
        """Copy ``source_key`` to ``key`` inside storage (the bytes do not pass through the service)."""
        await asyncio.to_thread(
            self._client.copy_object, self.bucket, key, CopySource(self.bucket, source_key),
            metadata={"Content-Type": content_type, **metadata}, metadata_directive=REPLACE,
        )

    async def remove(self, key: str) -> None:
        """Remove ``key``; removing what is not there is not an error (S3 semantics)."""
        await asyncio.to_thread(self._client.remove_object, self.bucket, key)

    async def size_of(self, key: str) -> int | None:
        """The stored size of ``key``, ``None`` if there is no such object."""
        try:
            stat = await asyncio.to_thread(self._client.stat_object, self.bucket, key)
        except S3Error as error:
            if error.code in MISSING_OBJECT_CODES:
                return None
            raise
        return stat.size

    async def read(self, key: str) -> AsyncIterator[bytes]:
        """The object's bytes in chunks, read in a worker thread one chunk at a time (constant memory)."""
        response = await asyncio.to_thread(self._client.get_object, self.bucket, key)
        try:
            chunks = response.stream(READ_CHUNK_BYTES)
            while chunk := await asyncio.to_thread(next, chunks, b""):
                yield chunk
        finally:
            response.close()
            response.release_conn()

    async def digest(self, key: str) -> tuple[str, int] | None:
        """SHA-256 (hex) and size of what is stored under ``key``, read streaming; ``None`` if it is missing."""

        def digest() -> tuple[str, int] | None:
            try:
                response = self._client.get_object(self.bucket, key)
            except S3Error as error:
                if error.code in MISSING_OBJECT_CODES:
                    return None
                raise
            sha256, size = hashlib.sha256(), 0
            try:
                for chunk in response.stream(READ_CHUNK_BYTES):
                    sha256.update(chunk)
                    size += len(chunk)
            finally:
                response.close()
                response.release_conn()
            return sha256.hexdigest(), size

        return await asyncio.to_thread(digest)

    async def upload_link(self, key: str, ttl_s: int) -> str:
        """A presigned PUT of ``key`` valid ``ttl_s`` seconds."""
        return await asyncio.to_thread(self._signer.presigned_put_object, self.bucket, key, timedelta(seconds=ttl_s))

    async def download_link(self, key: str, ttl_s: int, *, content_type: str, content_disposition: str) -> str:
        """A presigned GET valid ``ttl_s`` seconds; the answer carries the stored type and a download name."""
        response_headers = {"response-content-type": content_type, "response-content-disposition": content_disposition}
        return await asyncio.to_thread(
            self._signer.presigned_get_object,
            self.bucket,
            key,
            expires=timedelta(seconds=ttl_s),
            response_headers=response_headers,
        )
