"""Object storage in one private bucket, through the MinIO Python SDK and botocore, public calls only.

The MinIO SDK serves the object calls (reads, stat, copy, removal, whole-file puts, download links);
it is synchronous (urllib3), so each call runs in a worker thread and the event loop never blocks on
storage. botocore, the AWS SDK's core, serves the multipart upload (create, complete, abort) and
presigns URLs, locally, without connecting.

A file whose length is known before its first byte (:meth:`ObjectStorage.put_stream`) goes as ONE
PutObject of that length, its body streamed from the event loop as it arrives (httpx, a pooled
connection) to a URL presigned for that one request, which signs its length, type and metadata and
carries the body as ``UNSIGNED-PAYLOAD`` (the service computes the file's SHA-256 for the receipt
anyway; a second pass over every byte would add nothing): nothing is gathered, and storage writes one
object rather than parts it concatenates later. A file of unknown length (:class:`StreamedPut`) is
gathered as it arrives into parts: one PUT for a file smaller than a part, else a multipart upload
where one part goes to storage while the next fills, so memory stays at two parts whatever the
file's size; an upload that is abandoned is aborted and no part is kept. When ``S3_SIGN_PAYLOADS``
asks for every body to be signed, parts go through botocore's own calls (which hash them) in a thread
pool of their own, so long uploads never starve the short calls (stat, links, removal).

When evidence is to be held unaltered (``EVIDENCE_OBJECT_LOCK_DAYS``), the bucket is made with object lock and a
default retention, and a bucket without object lock or versioning is refused (:meth:`ObjectStorage.ensure_bucket`,
``evidence.domain.retention``): every version stored is then kept until its retention ends, and a removal only
hides the object behind a delete marker.

The bucket gets no policy: it stays private; clients read an object only through a presigned,
short-lived GET, and write only through a presigned PUT into quarantine. That PUT carries the
declared size among its signed headers (``X-Amz-SignedHeaders=content-length;host``), so storage
refuses a body of any other length, or one sent chunked without a length (MinIO's SDK signs only the
host into a presigned URL, hence botocore). Links name the host and scheme clients reach storage by
(``S3_PUBLIC_ENDPOINT``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import os
import ssl
from collections.abc import AsyncGenerator, AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO, TypedDict
from urllib.parse import urlsplit

import botocore.session
import certifi
import httpx
import urllib3
from botocore.config import Config
from botocore.exceptions import ClientError
from minio import Minio
from minio.commonconfig import REPLACE, CopySource
from minio.error import S3Error
from minio.helpers import DictType

from evidence.config import Settings
from evidence.domain.retention import BucketLock, Retention, lock_refusal, retention_to_set
from greenchannel.streams import gathered

log = logging.getLogger(__name__)

BUCKET_RETRY_S = 2.0
#: Bytes per read when the service reads an object back (verification, quarantine checks).
READ_CHUNK_BYTES = 1024 * 1024
USER_METADATA_PREFIX = "x-amz-meta-"
MISSING_OBJECT_CODES = frozenset({"NoSuchKey", "NoSuchObject", "ResourceNotFound"})
#: What S3 and MinIO answer to removing a version under an object lock retention or legal hold.
LOCKED_OBJECT_CODES = frozenset({"AccessDenied", "ObjectLocked", "InvalidRequest"})


class ObjectRetained(Exception):
    """Storage keeps the object until its object lock retention ends (``until``, when known) or its hold is lifted."""

    def __init__(self, key: str, until: datetime | None) -> None:
        super().__init__(f"{key} is retained by an object lock" + (f" until {until.isoformat()}" if until else ""))
        self.key = key
        self.until = until


#: How long a URL the service presigns for its own request stays valid: storage checks it when the request starts.
OWN_REQUEST_TTL_S = 3600


def _ca_certs() -> str:
    return os.environ.get("SSL_CERT_FILE") or certifi.where()


def _http_client(settings: Settings) -> urllib3.PoolManager:
    """The SDK's default pool, with timeouts short enough for a service (its default waits 5 minutes)."""
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=min(5.0, settings.s3_timeout_s), read=settings.s3_timeout_s),
        maxsize=16,
        cert_reqs="CERT_REQUIRED",
        ca_certs=_ca_certs(),
        retries=urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )


def _streaming_client(settings: Settings) -> httpx.AsyncClient:
    """The pool of streamed PUTs: one connection per upload in flight, kept open between uploads."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.s3_timeout_s, connect=min(5.0, settings.s3_timeout_s)),
        limits=httpx.Limits(
            max_connections=settings.max_concurrent_uploads, max_keepalive_connections=settings.max_concurrent_uploads
        ),
        verify=ssl.create_default_context(cafile=_ca_certs()),
        trust_env=False,
    )


def _public_endpoint(settings: Settings) -> tuple[str, bool]:
    """The ``host[:port]`` clients reach storage by, and whether over TLS.

    ``S3_PUBLIC_ENDPOINT`` may name its scheme (``https://files.example.org``): storage published through a TLS
    gateway while the service talks plain HTTP inside the cluster. Without a scheme it is the service's
    (``S3_SECURE``); empty, the service's own endpoint.
    """
    endpoint = settings.s3_public_endpoint or settings.s3_endpoint
    parts = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}")
    return parts.netloc, (parts.scheme == "https") if parts.scheme else settings.s3_secure


def _botocore_client(settings: Settings, endpoint: str, secure: bool):
    """A botocore S3 client of ``endpoint`` (path-style, as MinIO serves). Thread-safe; presigning is local.

    Checksums only where the API requires them: botocore's default adds a CRC32 of every body, one more pass over
    every byte, and a header not every S3 implementation takes. Bodies it sends are signed with their SHA-256 (the
    case ``S3_SIGN_PAYLOADS`` asks for), over HTTPS too.
    """
    return botocore.session.get_session().create_client(
        "s3",
        endpoint_url=f"{'https' if secure else 'http'}://{endpoint}",
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key.get_secret_value(),
        aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
        verify=_ca_certs() if secure else None,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path", "payload_signing_enabled": True},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            connect_timeout=min(5.0, settings.s3_timeout_s),
            read_timeout=settings.s3_timeout_s,
            max_pool_connections=settings.max_concurrent_uploads,
            retries={"mode": "standard", "max_attempts": 3},
        ),
    )


def _metadata_headers(metadata: dict[str, str]) -> dict[str, str]:
    """User metadata as the headers storage reads it from (``x-amz-meta-<name>``)."""
    return {f"{USER_METADATA_PREFIX}{name}": value for name, value in metadata.items()}


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str
    content_type: str
    metadata: dict[str, str]


class _Credentials(TypedDict):
    access_key: str
    secret_key: str
    region: str


class ObjectStorage:
    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.s3_bucket
        credentials: _Credentials = {
            "access_key": settings.s3_access_key.get_secret_value(),
            "secret_key": settings.s3_secret_key.get_secret_value(),
            "region": settings.s3_region,  # a known region spares the SDK a bucket-location request
        }
        self._client = Minio(
            settings.s3_endpoint, secure=settings.s3_secure, http_client=_http_client(settings), **credentials
        )
        # Links are signed for the name (and scheme) clients use; signing is local, these clients never connect.
        public_endpoint, public_secure = _public_endpoint(settings)
        self._signer = (
            Minio(public_endpoint, secure=public_secure, **credentials) if settings.s3_public_endpoint else self._client
        )
        # Presigned PUTs for clients.
        self._put_signer = _botocore_client(settings, public_endpoint, public_secure)
        # Multipart uploads and the presigned URLs of the service's own streamed requests (to the name it uses).
        self._s3 = _botocore_client(settings, settings.s3_endpoint, settings.s3_secure)
        self._bucket_ready = False
        self._retention = (
            Retention(settings.evidence_object_lock_mode, settings.evidence_object_lock_days)
            if settings.evidence_object_lock_days
            else None
        )
        self._part_bytes = settings.upload_part_bytes
        self._sign_payloads = settings.s3_sign_payloads
        self._uploads = ThreadPoolExecutor(
            max_workers=settings.max_concurrent_uploads, thread_name_prefix="evidence-upload"
        )
        self._streaming = _streaming_client(settings)

    @property
    def streams_known_lengths(self) -> bool:
        """Whether :meth:`put_stream` may be used: a body of known length is sent unhashed, so not when
        every payload must be signed (its SHA-256 would be needed before the first byte)."""
        return not self._sign_payloads

    async def close(self) -> None:
        self._uploads.shutdown(wait=False, cancel_futures=True)
        await self._streaming.aclose()

    async def ensure_bucket(self) -> None:
        """Create the bucket if it is missing, with object lock and its default retention when evidence is to be
        held unaltered (``EVIDENCE_OBJECT_LOCK_DAYS``); a bucket that cannot hold it raises :class:`BucketRefused`."""

        def ensure() -> None:
            if not self._client.bucket_exists(self.bucket):
                try:
                    if self._retention is None:
                        self._client.make_bucket(self.bucket)
                    else:
                        # botocore: MinIO's SDK cannot read back whether a bucket has object lock, so it does all of it.
                        self._s3.create_bucket(Bucket=self.bucket, ObjectLockEnabledForBucket=True)
                except (S3Error, ClientError) as error:  # another replica made it first
                    code = error.code if isinstance(error, S3Error) else error.response["Error"]["Code"]
                    if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
            if self._retention is not None:
                self._ensure_lock(self._retention)

        await asyncio.to_thread(ensure)
        self._bucket_ready = True

    def lock_state(self) -> BucketLock:
        """What storage reports of the bucket's versioning and object lock (botocore's public calls)."""
        versioning = self._s3.get_bucket_versioning(Bucket=self.bucket).get("Status")
        try:
            configuration = self._s3.get_object_lock_configuration(Bucket=self.bucket).get(
                "ObjectLockConfiguration", {}
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ObjectLockConfigurationNotFoundError":
                raise
            configuration = {}
        default = configuration.get("Rule", {}).get("DefaultRetention", {})
        retention = Retention(default["Mode"], default["Days"]) if "Mode" in default and "Days" in default else None
        return BucketLock(versioning, configuration.get("ObjectLockEnabled") == "Enabled", retention)

    def _ensure_lock(self, wanted: Retention) -> None:
        state = self.lock_state()
        refusal = lock_refusal(state)
        if refusal is not None:
            raise BucketRefused(f"bucket {self.bucket} cannot hold evidence unaltered: {refusal}")
        if retention_to_set(state, wanted) is not None:
            self._s3.put_object_lock_configuration(
                Bucket=self.bucket,
                ObjectLockConfiguration={
                    "ObjectLockEnabled": "Enabled",
                    "Rule": {"DefaultRetention": {"Mode": wanted.mode, "Days": wanted.days}},
                },
            )
            log.info("bucket %s: default retention set to %s for %d days", self.bucket, wanted.mode, wanted.days)

    async def prepare(self) -> None:
        """Background start-up job: make sure the bucket exists, retrying while storage is away."""
        while True:
            try:
                await self.ensure_bucket()
                log.info("object storage ready (bucket %s)", self.bucket)
                return
            except BucketRefused as error:
                # Not a passing outage: said loudly, and tried again in case an operator mends the bucket meanwhile.
                log.error("%s; evidence stays not ready", error)
                await asyncio.sleep(BUCKET_RETRY_S)
            except Exception as error:  # noqa: BLE001 - storage not reachable yet; readiness says so meanwhile
                log.warning("object storage not ready (%s); retrying in %.0f s", error, BUCKET_RETRY_S)
                await asyncio.sleep(BUCKET_RETRY_S)

    async def is_ready(self) -> bool:
        """Readiness: the bucket was ensured and storage answers now."""
        return self._bucket_ready and await asyncio.to_thread(self._client.bucket_exists, self.bucket)

    async def put(self, key: str, data: BinaryIO, length: int, *, content_type: str, metadata: dict[str, str]) -> None:
        """Store ``length`` bytes of the file ``data`` (from its start) under ``key``."""
        if self.streams_known_lengths:
            await self.put_stream(key, _read_in_chunks(data), length, content_type=content_type, metadata=metadata)
            return

        stored_metadata: DictType = {**metadata}

        def put() -> None:
            data.seek(0)
            # One part in flight at a time: memory stays at one part (5 MiB) per upload.
            self._client.put_object(
                self.bucket,
                key,
                data,
                length,
                content_type=content_type,
                metadata=stored_metadata,
                num_parallel_uploads=1,
            )

        await asyncio.to_thread(put)

    async def put_stream(
        self, key: str, chunks: AsyncIterator[bytes], length: int, *, content_type: str, metadata: dict[str, str]
    ) -> None:
        """Store ``key`` with ONE PutObject of ``length`` bytes, sent as ``chunks`` arrive.

        An exception raised by ``chunks`` (a refusal, a client gone) propagates and the request is
        cut short, so storage creates no object (it has fewer bytes than announced); the caller still
        removes the key in case the cut came after the last byte. Storage refusing or away raises
        :class:`StorageFailed`. The request goes to a URL presigned for it, whose signature covers the
        length, type and metadata (``UNSIGNED-PAYLOAD``): no SDK call sends a body of known length from
        an asynchronous stream without gathering it first.
        """
        headers = {"Content-Type": content_type, "Content-Length": str(length), **_metadata_headers(metadata)}
        url = self._s3.generate_presigned_url(
            "put_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ContentLength": length,
                "ContentType": content_type,
                "Metadata": metadata,
            },
            ExpiresIn=OWN_REQUEST_TTL_S,
        )
        await _send(self._streaming, url, gathered(chunks), headers)

    def streamed_put(self, key: str, *, content_type: str, metadata: dict[str, str]) -> StreamedPut:
        """An object written while its bytes arrive (of a length known only at the end)."""
        return StreamedPut(
            self._s3,
            self._streaming,
            self.bucket,
            key,
            content_type=content_type,
            metadata=metadata,
            part_bytes=self._part_bytes,
            executor=self._uploads,
            sign_payloads=self._sign_payloads,
        )

    async def copy(self, source_key: str, key: str, *, content_type: str, metadata: dict[str, str]) -> None:
        """Copy ``source_key`` to ``key`` inside storage (the bytes do not pass through the service)."""
        await asyncio.to_thread(
            self._client.copy_object,
            self.bucket,
            key,
            CopySource(self.bucket, source_key),
            metadata={"Content-Type": content_type, **metadata},
            metadata_directive=REPLACE,
        )

    async def remove(self, key: str) -> None:
        """Remove ``key``; removing what is not there is not an error (S3 semantics)."""
        await asyncio.to_thread(self._client.remove_object, self.bucket, key)

    async def erase(self, key: str) -> None:
        """Remove every version of ``key`` for good (with versioning, a plain removal only hides the object behind a
        delete marker). :class:`ObjectRetained` when storage refuses because an object lock retention or legal hold
        still runs (with the end of the retention when storage tells it); removing what is not there is no error."""

        def erase() -> None:
            versions = self._client.list_objects(self.bucket, prefix=key, include_version=True)
            for version in [version for version in versions if version.object_name == key]:
                try:
                    self._client.remove_object(self.bucket, key, version_id=version.version_id)
                except S3Error as error:
                    if error.code in MISSING_OBJECT_CODES:
                        continue
                    if error.code not in LOCKED_OBJECT_CODES:
                        raise
                    raise ObjectRetained(key, self._retained_until(key, version.version_id)) from None

        await asyncio.to_thread(erase)

    def _retained_until(self, key: str, version_id: str | None) -> datetime | None:
        """When the object lock retention of a refused removal ends, if storage tells (None for a legal hold)."""
        try:
            retention = self._client.get_object_retention(self.bucket, key, version_id=version_id)
        except Exception:  # noqa: BLE001 - storage that cannot tell: the caller retries on its own schedule
            return None
        return retention.retain_until_date if retention is not None else None

    async def size_of(self, key: str) -> int | None:
        """The stored size of ``key``, ``None`` if there is no such object."""
        try:
            stat = await asyncio.to_thread(self._client.stat_object, self.bucket, key)
        except S3Error as error:
            if error.code in MISSING_OBJECT_CODES:
                return None
            raise
        return stat.size

    async def read(self, key: str) -> AsyncGenerator[bytes, None]:
        """The object's bytes in chunks, read in a worker thread one chunk at a time (constant memory)."""
        response = await asyncio.to_thread(self._client.get_object, self.bucket, key)
        try:
            chunks = response.stream(READ_CHUNK_BYTES)
            while chunk := await asyncio.to_thread(next, chunks, b""):
                yield chunk
        finally:
            response.close()
            response.release_conn()

    async def keys(self) -> list[str]:
        """Every key in the bucket (the current version of each), in key order: what a backup copies."""

        def listed() -> list[str]:
            return [item.object_name for item in self._client.list_objects(self.bucket, recursive=True)]

        return sorted(await asyncio.to_thread(listed))

    async def save_to(self, key: str, path: Path) -> StoredObject:
        """Write the object ``key`` into the file ``path``; answer what it is (size, SHA-256, type, user metadata)."""

        def save() -> StoredObject:
            stat = self._client.stat_object(self.bucket, key)
            response = self._client.get_object(self.bucket, key)
            sha256, size = hashlib.sha256(), 0
            try:
                with path.open("wb") as file:
                    for chunk in response.stream(READ_CHUNK_BYTES):
                        sha256.update(chunk)
                        size += len(chunk)
                        file.write(chunk)
            finally:
                response.close()
                response.release_conn()
            metadata = {
                name.lower().removeprefix(USER_METADATA_PREFIX): value
                for name, value in (stat.metadata or {}).items()
                if name.lower().startswith(USER_METADATA_PREFIX)
            }
            return StoredObject(
                key, size, sha256.hexdigest(), stat.content_type or "application/octet-stream", metadata
            )

        return await asyncio.to_thread(save)

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

    async def start_multipart(self, key: str) -> str:
        """Start a multipart upload to ``key`` that a client sends its parts to; storage's upload id."""
        started = await asyncio.to_thread(self._s3.create_multipart_upload, Bucket=self.bucket, Key=key)
        return started["UploadId"]

    def part_link(self, key: str, multipart_id: str, number: int, size: int, ttl_s: int) -> str:
        """A presigned PUT of part ``number`` of exactly ``size`` bytes, valid ``ttl_s`` seconds."""
        return self._put_signer.generate_presigned_url(
            "upload_part",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "UploadId": multipart_id,
                "PartNumber": number,
                "ContentLength": size,
            },
            ExpiresIn=ttl_s,
        )

    async def stored_parts(self, key: str, multipart_id: str) -> dict[int, tuple[int, str]] | None:
        """The parts storage holds of a multipart upload (number -> size and ETag), None once it is no more (completed
        or aborted)."""

        def listed() -> dict[int, tuple[int, str]] | None:
            parts: dict[int, tuple[int, str]] = {}
            marker = 0
            while True:
                try:
                    page = self._s3.list_parts(
                        Bucket=self.bucket, Key=key, UploadId=multipart_id, PartNumberMarker=marker
                    )
                except self._s3.exceptions.NoSuchUpload:
                    return None
                for part in page.get("Parts", ()):
                    parts[part["PartNumber"]] = (part["Size"], part["ETag"])
                if not page.get("IsTruncated"):
                    return parts
                marker = page["NextPartNumberMarker"]

        return await asyncio.to_thread(listed)

    async def complete_multipart(self, key: str, multipart_id: str, parts: list[tuple[int, str]]) -> None:
        """Join the parts (number, ETag; in order) into the object ``key``."""
        await asyncio.to_thread(
            self._s3.complete_multipart_upload,
            Bucket=self.bucket,
            Key=key,
            UploadId=multipart_id,
            MultipartUpload={"Parts": [{"PartNumber": number, "ETag": etag} for number, etag in parts]},
        )

    async def abort_multipart(self, key: str, multipart_id: str) -> None:
        """Drop a multipart upload and its parts; one that is no more (completed, aborted) is not an error."""
        with contextlib.suppress(self._s3.exceptions.NoSuchUpload):
            await asyncio.to_thread(self._s3.abort_multipart_upload, Bucket=self.bucket, Key=key, UploadId=multipart_id)

    def upload_link(self, key: str, size: int, ttl_s: int) -> str:
        """A presigned PUT of exactly ``size`` bytes to ``key``, valid ``ttl_s`` seconds (signing is local)."""
        return self._put_signer.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": key, "ContentLength": size},
            ExpiresIn=ttl_s,
        )

    async def download_link(self, key: str, ttl_s: int, *, content_type: str, content_disposition: str) -> str:
        """A presigned GET valid ``ttl_s`` seconds; the answer carries the stored type and a download name."""
        response_headers: DictType = {
            "response-content-type": content_type,
            "response-content-disposition": content_disposition,
        }
        return await asyncio.to_thread(
            self._signer.presigned_get_object,
            self.bucket,
            key,
            expires=timedelta(seconds=ttl_s),
            response_headers=response_headers,
        )


async def _read_in_chunks(data: BinaryIO) -> AsyncIterator[bytes]:
    """``data`` from its start, read in a worker thread one chunk at a time (it may be a file on disk)."""
    await asyncio.to_thread(data.seek, 0)
    while chunk := await asyncio.to_thread(data.read, READ_CHUNK_BYTES):
        yield chunk


class BucketRefused(Exception):
    """The bucket cannot hold evidence as the settings ask (no object lock, no versioning): the service is not ready."""


class StorageFailed(Exception):
    """Storage did not take a part, or the completion, of a streamed upload (the cause is chained)."""


async def _send(client: httpx.AsyncClient, url: str, content, headers: dict[str, str]) -> httpx.Response:
    """PUT ``content`` to a presigned ``url``; anything but 200 (or storage away) raises :class:`StorageFailed`."""
    try:
        response = await client.put(url, content=content, headers=headers)
    except httpx.HTTPError as error:
        raise StorageFailed(f"{type(error).__name__}: {error}") from error
    if response.status_code != 200:
        raise StorageFailed(f"storage answered {response.status_code}: {response.text[:300]}")
    return response


async def _released(part: bytearray) -> AsyncIterator[bytes]:
    """A part's bytes for one request, in slices, letting go of the part once sent.

    Given the part itself, httpx would keep it with the request it describes, and the request lives on in reference
    cycles until the garbage collector runs: parts would pile up with the file's size.
    """
    view = memoryview(part)
    try:
        for offset in range(0, len(view), READ_CHUNK_BYTES):
            yield bytes(view[offset : offset + READ_CHUNK_BYTES])
    finally:
        view.release()


class StreamedPut:
    """One object written while its bytes arrive: :meth:`write` each chunk, then :meth:`complete` or :meth:`abort`.

    Chunks are gathered into parts of at least ``part_bytes``. A file that ends before its first
    part is full is stored with one PUT; otherwise a multipart upload starts with the first part, and
    each part is uploaded while the event loop fills the next one. A full part waits for the one
    before it, so the client is slowed to what storage takes (back-pressure) and at most two parts
    are held. :meth:`abort` removes every part already uploaded.

    A part goes unhashed to a URL presigned for it (httpx, on the event loop), or, when every payload
    must be signed, through botocore's ``upload_part`` in a worker thread (it hashes the part first).
    The service gathers the parts itself rather than letting an SDK read them from a stream: an
    SDK's upload of a stream of unknown length copies each part again on its way and hashes it.
    """

    def __init__(
        self,
        s3,
        streaming: httpx.AsyncClient,
        bucket: str,
        key: str,
        *,
        content_type: str,
        metadata: dict[str, str],
        part_bytes: int,
        executor: ThreadPoolExecutor,
        sign_payloads: bool,
    ) -> None:
        self._s3 = s3
        self._streaming = streaming
        self._bucket = bucket
        self._key = key
        self._content_type = content_type
        self._metadata = metadata
        self._part_bytes = part_bytes
        self._executor = executor
        self._sign_payloads = sign_payloads
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._starting: asyncio.Future | None = None
        self._parts: list[dict] = []
        self._in_flight: tuple[int, asyncio.Future] | None = None

    async def write(self, chunk: bytes) -> None:
        """Take one more chunk; raises :class:`StorageFailed` if storage did not take an earlier part."""
        self._buffer += chunk
        if len(self._buffer) >= self._part_bytes:
            await self._send_part()

    async def complete(self) -> None:
        """Every byte was written: store the object (one PUT, or the last part and the completion)."""
        try:
            if self._upload_id is None:
                body, self._buffer = self._buffer, bytearray()
                await self._put_whole(body)
                return
            if self._buffer:
                await self._send_part()
            await self._settled_part()
            await self._run(
                self._s3.complete_multipart_upload,
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
        except StorageFailed:
            raise
        except Exception as error:
            raise StorageFailed(str(error)) from error

    async def abort(self) -> None:
        """The object will not be whole: remove what was uploaded of it (even if the caller is cancelled meanwhile)."""
        await asyncio.shield(self._abort())

    async def _abort(self) -> None:
        self._buffer = bytearray()
        if self._upload_id is None and self._starting is not None:
            await asyncio.wait([self._starting])  # started while the caller was cancelled: its id is needed here
            if not self._starting.cancelled() and self._starting.exception() is None:
                self._upload_id = self._starting.result()["UploadId"]
        if self._in_flight is not None:
            _, in_flight = self._in_flight
            self._in_flight = None
            await asyncio.wait([in_flight])
            if not in_flight.cancelled():
                in_flight.exception()  # looked at: the part is abandoned with the rest
        if self._upload_id is not None:
            try:
                await self._run(
                    self._s3.abort_multipart_upload, Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
                )
            except Exception as error:  # noqa: BLE001 - storage away: its expiry of incomplete uploads applies
                log.error("multipart upload %s of %s could not be aborted: %s", self._upload_id, self._key, error)

    async def _put_whole(self, body: bytearray) -> None:
        params = {
            "Bucket": self._bucket,
            "Key": self._key,
            "ContentType": self._content_type,
            "Metadata": self._metadata,
        }
        if self._sign_payloads:
            await self._run(self._s3.put_object, Body=body, **params)
            return
        url = self._s3.generate_presigned_url(
            "put_object", Params={**params, "ContentLength": len(body)}, ExpiresIn=OWN_REQUEST_TTL_S
        )
        headers = {"Content-Type": self._content_type, "Content-Length": str(len(body))}
        await _send(self._streaming, url, _released(body), {**headers, **_metadata_headers(self._metadata)})

    async def _send_part(self) -> None:
        part, self._buffer = self._buffer, bytearray()
        await self._settled_part()
        try:
            if self._upload_id is None:
                self._starting = self._run(
                    self._s3.create_multipart_upload,
                    Bucket=self._bucket,
                    Key=self._key,
                    ContentType=self._content_type,
                    Metadata=self._metadata,
                )
                self._upload_id = (await asyncio.shield(self._starting))["UploadId"]
        except Exception as error:
            raise StorageFailed(str(error)) from error
        number = len(self._parts) + 1
        self._in_flight = number, asyncio.ensure_future(self._upload_part(number, part))

    async def _upload_part(self, number: int, part: bytearray) -> str:
        """Upload part ``number``; its ETag."""
        params = {"Bucket": self._bucket, "Key": self._key, "UploadId": self._upload_id, "PartNumber": number}
        if self._sign_payloads:
            return (await self._run(self._s3.upload_part, Body=part, **params))["ETag"]
        url = self._s3.generate_presigned_url(
            "upload_part", Params={**params, "ContentLength": len(part)}, ExpiresIn=OWN_REQUEST_TTL_S
        )
        return (await _send(self._streaming, url, _released(part), {"Content-Length": str(len(part))})).headers["ETag"]

    async def _settled_part(self) -> None:
        """Wait for the part being uploaded, if any, and note its ETag; its failure raises here."""
        if self._in_flight is None:
            return
        number, in_flight = self._in_flight
        try:
            # Shielded: a caller cancelled meanwhile leaves the part to abort(), which waits for it to end.
            etag = await asyncio.shield(in_flight)
        except Exception as error:
            self._in_flight = None
            raise StorageFailed(str(error)) from error
        self._in_flight = None
        self._parts.append({"PartNumber": number, "ETag": etag})

    def _run(self, call, /, **params) -> asyncio.Future:
        return asyncio.get_running_loop().run_in_executor(self._executor, functools.partial(call, **params))
