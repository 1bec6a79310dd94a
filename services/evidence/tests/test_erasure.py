"""``complaint.erased`` in evidence, against the real stand-ins: every object of the complaint's files goes from the
bucket (uploaded for its number, or before filing), then their records, the complaint's file counter, the uploads'
filenames and the outbox entries about the complaint or its files; a redelivery does nothing; another complaint's
files stay. A file whose object storage still retained (an object lock) keeps a record with its key and retry time
only, and the clean-up removes it once the retry is due, not before."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from minio import Minio

from evidence.domain.records import STATUS_ERASING
from greenchannel.contracts import CloudEvent, ComplaintErased, ComplaintSubmitted
from greenchannel.mongo import in_transaction

pytestmark = pytest.mark.integration


def new_number() -> str:
    return f"GC-{uuid.uuid4().hex[:12]}"


def keys_under(storage: Minio, bucket: str) -> list[str]:
    return [item.object_name for item in storage.list_objects(bucket, recursive=True)]


async def upload(client, content: bytes, number: str | None = None) -> dict:
    path = f"/v1/complaints/{number}/evidence" if number else "/v1/evidence"
    answer = await client.post(
        path,
        content=content,
        headers={"Content-Type": "text/plain", "Content-Disposition": "attachment; filename*=UTF-8''%E5%AD%99.txt"},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def erased(number: str, evidence_ids: list[str]) -> CloudEvent:
    data = ComplaintErased(number=number, reason="retention", evidence_ids=evidence_ids, erased_at=datetime.now(UTC))
    return CloudEvent.wrap(data, source="/services/intake", subject=number)


async def attach(app, number: str, evidence_ids: list[str]) -> None:
    data = ComplaintSubmitted(
        number=number,
        category="billing",
        title="扣费",
        description="未经同意扣费",
        occurred_on="2026-10-01",
        desired_outcome="退款",
        complainant_key="k" * 64,
        region_code="11",
        evidence_ids=evidence_ids,
        submitted_at=datetime.now(UTC),
    )
    await app.state.submissions.on_submitted(CloudEvent.wrap(data, source="/services/intake", subject=number), data)


async def test_an_erased_complaints_files_go_everywhere_and_anothers_stay(client, app, settings, storage, db):
    number, other = new_number(), new_number()
    before_filing = await upload(client, b"uploaded before filing " + number.encode())
    await attach(app, number, [before_filing["evidence_id"]])
    later = await upload(client, b"uploaded for the complaint " + number.encode(), number)
    kept = await upload(client, b"another complaint's file " + other.encode(), other)
    ids = [before_filing["evidence_id"], later["evidence_id"]]
    assert await db.outbox.count_documents({"event.subject": {"$in": [number, *ids]}}) >= 2
    keys = await asyncio.to_thread(keys_under, storage, settings.s3_bucket)
    assert {f"unattached/{ids[0]}", f"{number}/{ids[1]}", f"{other}/{kept['evidence_id']}"} <= set(keys)

    event = erased(number, ids)
    await app.state.erasure.on_erased(event, ComplaintErased.model_validate(event.data))

    keys = await asyncio.to_thread(keys_under, storage, settings.s3_bucket)
    assert [key for key in keys if number in key or any(evidence_id in key for evidence_id in ids)] == []
    assert f"{other}/{kept['evidence_id']}" in keys
    assert await db.evidence.count_documents({"_id": {"$in": ids}}) == 0
    assert await db.complaint_files.find_one({"_id": number}) is None
    assert await db.outbox.count_documents({"event.subject": {"$in": [number, *ids]}}) == 0
    assert (await client.get(f"/v1/evidence/{ids[1]}")).status_code == 404
    assert (await client.get(f"/v1/evidence/{kept['evidence_id']}")).status_code == 200
    assert await db.complaint_files.find_one({"_id": other}) is not None
    # Delivered again: the inbox skips it.
    await app.state.erasure.on_erased(event, ComplaintErased.model_validate(event.data))
    assert await db.inbox.count_documents({"_id": event.id}) == 1


async def test_a_retained_object_waits_for_its_retry_and_is_removed_then(client, app, settings, storage, db):
    number = new_number()
    stored = await upload(client, b"retained by an object lock " + number.encode(), number)
    evidence_id = stored["evidence_id"]
    key = f"{number}/{evidence_id}"
    retry_at = datetime.now(UTC) + timedelta(days=30)
    repository = app.state.repository
    # What the erasure records when storage refuses to remove the object (nanio has no object lock to refuse with).
    await in_transaction(
        app.state.runtime.mongo,
        lambda session: repository.wait_for_erasure({evidence_id: retry_at}, {evidence_id: key}, session),
    )
    waiting = await db.evidence.find_one({"_id": evidence_id})
    assert waiting["status"] == STATUS_ERASING and set(waiting) == {
        "_id",
        "status",
        "object_key",
        "erasure_retry_at",
        "lease_until",
    }
    assert (await client.get(f"/v1/evidence/{evidence_id}")).status_code == 404

    await app.state.cleanup.run_once(retry_at - timedelta(minutes=1))
    assert key in await asyncio.to_thread(keys_under, storage, settings.s3_bucket)
    assert await db.evidence.find_one({"_id": evidence_id}) is not None

    report = await app.state.cleanup.run_once(retry_at + timedelta(minutes=1))

    assert report.erased == 1
    assert key not in await asyncio.to_thread(keys_under, storage, settings.s3_bucket)
    assert await db.evidence.find_one({"_id": evidence_id}) is None
