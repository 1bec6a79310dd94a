"""Object storage through the MinIO Python SDK, in one private bucket.

The SDK is synchronous (urllib3), so every call runs in a worker thread (``asyncio.to_thread``)
and the event loop never blocks on storage. Objects are uploaded from a seekable file with a known
length: the SDK then sends one PUT, or a multipart upload in parts of 5 MiB for larger files, so
memory stays bounded whatever the file's size. The bucket gets no policy: it stays private, and
clients read an object only through a presigned, short-lived link.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import timedelta
from typing import BinaryIO

import certifi
import urllib3
from minio import Minio
from minio.error import S3Error

from evidence.config import Settings

log = logging.getLogger(__name__)

BUCKET_RETRY_S = 2.0


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

    async def remove(self, key: str) -> None:
        await asyncio.to_thread(self._client.remove_object, self.bucket, key)

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
