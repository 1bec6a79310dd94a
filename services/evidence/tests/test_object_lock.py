"""Evidence held unaltered (WORM): what the bucket must be (object lock, versioning, a default retention), and a
service asked for it that refuses, and stays not ready on, storage that cannot give it.

nanio, the S3 stand-in here, has neither object lock nor versioning: it answers the bucket's ``?versioning`` and
``?object-lock`` reads with a listing of the bucket. So what is tested against it is the refusal; the bucket
made with a lock and its retention are MinIO's and S3's (docker-compose.yml, deploy/k8s), checked by the same
calls (:meth:`ObjectStorage.lock_state`)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from devstack.servers import serve
from evidence.adapters.object_storage import BucketRefused, ObjectStorage
from evidence.domain.retention import BucketLock, Retention, lock_refusal, retention_to_set
from evidence.main import create_app

WANTED = Retention("GOVERNANCE", 365)


@pytest.mark.unit
def test_a_bucket_holds_evidence_unaltered_only_with_object_lock_and_versioning() -> None:
    assert lock_refusal(BucketLock("Enabled", True, WANTED)) is None
    assert lock_refusal(BucketLock("Enabled", True, None)) is None  # the retention the service sets itself
    assert "no object lock" in (lock_refusal(BucketLock("Enabled", False, None)) or "")
    assert "no object lock" in (lock_refusal(BucketLock(None, False, None)) or "")
    assert "versioning is Suspended" in (lock_refusal(BucketLock("Suspended", True, WANTED)) or "")
    assert "versioning is off" in (lock_refusal(BucketLock(None, True, WANTED)) or "")


@pytest.mark.unit
def test_the_default_retention_is_set_only_where_it_differs() -> None:
    assert retention_to_set(BucketLock("Enabled", True, WANTED), WANTED) is None
    assert retention_to_set(BucketLock("Enabled", True, None), WANTED) == WANTED
    assert retention_to_set(BucketLock("Enabled", True, Retention("GOVERNANCE", 30)), WANTED) == WANTED
    assert retention_to_set(BucketLock("Enabled", True, Retention("COMPLIANCE", 365)), WANTED) == WANTED


@pytest.mark.integration
async def test_storage_without_object_lock_is_refused_when_a_lock_is_asked(settings) -> None:
    locked = settings.model_copy(update={"evidence_object_lock_days": 30, "s3_bucket": f"{settings.s3_bucket}-worm"})
    storage = ObjectStorage(locked)
    try:
        with pytest.raises(BucketRefused, match="cannot hold evidence unaltered: the bucket has no object lock"):
            await storage.ensure_bucket()
        assert await storage.is_ready() is False
        state = await asyncio.to_thread(storage.lock_state)
        assert state == BucketLock(None, False, None)  # what nanio lacks, as the service reads it
    finally:
        await storage.close()


@pytest.mark.integration
async def test_a_service_asked_for_a_lock_stays_not_ready_on_storage_without_one(settings) -> None:
    locked = settings.model_copy(
        update={"evidence_object_lock_days": 30, "s3_bucket": f"{settings.s3_bucket}-worm2", "internal_port": 0}
    )
    application = create_app(locked)
    async with serve(application) as base_url, httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        await asyncio.sleep(1.0)  # the storage job has tried, and refused the bucket
        ready = await http.get("/readyz")
        assert ready.status_code == 503, ready.text
        assert "object_storage" in ready.text
    unlocked = ObjectStorage(settings.model_copy(update={"s3_bucket": f"{settings.s3_bucket}-plain"}))
    try:
        await unlocked.ensure_bucket()  # no lock asked (development): nanio's bucket serves
        assert await unlocked.is_ready() is True
    finally:
        await unlocked.close()
