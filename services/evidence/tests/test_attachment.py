"""Files per complaint, attachment by ``complaint.submitted`` and ``complaint.supplemented``, and the operator's
re-verification, against the real stand-ins."""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from minio import Minio

from greenchannel.contracts import CloudEvent, ComplaintSubmitted, ComplaintSupplemented, EvidenceRef

pytestmark = pytest.mark.integration

MAX_FILES = 3
EVIDENCE_SETTINGS = {"max_files_per_complaint": MAX_FILES}


def new_number() -> str:
    return f"GC-{uuid.uuid4().hex[:12]}"


async def upload(client, content: bytes, media_type: str, number: str | None = None):
    path = f"/v1/complaints/{number}/evidence" if number else "/v1/evidence"
    return await client.post(path, content=content, headers={"Content-Type": media_type})


def submitted(number: str, evidence_ids: list[str]) -> CloudEvent:
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
    return CloudEvent.wrap(data, source="/services/intake", subject=number)


async def eventually(predicate, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def keys_under(storage: Minio, bucket: str, prefix: str) -> list[str]:
    return [item.object_name for item in storage.list_objects(bucket, prefix=prefix, recursive=True)]


async def test_files_listed_at_filing_are_attached_once_and_survive_the_clean_up(
    client, app, settings, storage, db, events, samples
):
    text, pdf = samples["txt"][0], samples["pdf"][0]
    first = (await upload(client, text, "text/plain")).json()
    second = (await upload(client, pdf, "application/pdf")).json()
    left_over = (await upload(client, text, "text/plain")).json()
    assert first["status"] == second["status"] == left_over["status"] == "unattached"
    number = new_number()
    event = submitted(number, [first["evidence_id"], second["evidence_id"], uuid.uuid4().hex])
    await events.wait_for_consumer(f"{settings.queue_prefix}.evidence")

    await events.publish(event)
    await events.publish(event)  # delivered twice: applied once

    async def attached() -> bool:
        return await db.evidence.count_documents({"number": number, "status": "attached"}) == 2

    await eventually(attached)
    receipt = (await client.get(f"/v1/evidence/{first['evidence_id']}")).json()
    assert (receipt["number"], receipt["status"]) == (number, "attached")
    assert receipt["sha256"] == first["sha256"] and receipt["received_at"] == first["received_at"]
    listed = (await client.get(f"/v1/complaints/{number}/evidence")).json()["items"]
    assert {item["evidence_id"] for item in listed} == {first["evidence_id"], second["evidence_id"]}
    await eventually(lambda: db.inbox.find_one({"_id": event.id}))
    await asyncio.sleep(0.3)
    assert (await db.complaint_files.find_one({"_id": number}))["files"] == 2

    # A day later the clean-up removes what no filing listed, and only that.
    report = await app.state.cleanup.run_once(datetime.now(UTC) + timedelta(seconds=settings.orphan_ttl_s + 60))
    assert report.orphans_removed >= 1
    assert await db.evidence.find_one({"_id": left_over["evidence_id"]}) is None
    assert f"unattached/{left_over['evidence_id']}" not in await asyncio.to_thread(
        keys_under, storage, settings.s3_bucket, "unattached/"
    )
    assert (await client.get(f"/v1/evidence/{left_over['evidence_id']}")).status_code == 404
    remaining = await asyncio.to_thread(keys_under, storage, settings.s3_bucket, "unattached/")
    assert {f"unattached/{first['evidence_id']}", f"unattached/{second['evidence_id']}"} <= set(remaining)
    assert await db.evidence.count_documents({"number": number}) == 2

    # The files attached at filing count towards the complaint's limit.
    assert (await upload(client, text, "text/plain", number)).status_code == 201
    full = await upload(client, text, "text/plain", number)
    assert full.status_code == 409 and full.json()["code"] == "too_many_evidence_files"


async def test_files_sent_with_a_supplement_are_attached_and_survive_the_clean_up(
    client, app, settings, db, events, samples
):
    pdf = samples["pdf"][0]
    sent = (await upload(client, pdf, "application/pdf")).json()
    number = new_number()
    ref = EvidenceRef(**{name: sent[name] for name in ("evidence_id", "filename", "media_type", "size", "sha256")})
    data = ComplaintSupplemented(
        number=number, company_id="c-1", text="补充付款截图", evidence=[ref], supplemented_at=datetime.now(UTC)
    )
    await events.wait_for_consumer(f"{settings.queue_prefix}.evidence")

    await events.publish(CloudEvent.wrap(data, source="/services/intake", subject=number))

    async def attached() -> bool:
        return (
            await db.evidence.count_documents({"_id": sent["evidence_id"], "number": number, "status": "attached"}) == 1
        )

    await eventually(attached)
    await app.state.cleanup.run_once(datetime.now(UTC) + timedelta(seconds=settings.orphan_ttl_s + 60))
    assert (await client.get(f"/v1/evidence/{sent['evidence_id']}")).json()["number"] == number


async def test_a_complaint_takes_at_most_its_limit_of_files_even_when_they_race(
    client, settings, storage, db, events, samples
):
    number = new_number()
    text = samples["txt"][0]

    answers = await asyncio.gather(
        *(upload(client, text + str(i).encode(), "text/plain", number) for i in range(MAX_FILES + 2))
    )

    assert sorted(answer.status_code for answer in answers) == [201] * MAX_FILES + [409] * 2
    refused = [answer.json() for answer in answers if answer.status_code == 409]
    assert all(
        problem["code"] == "too_many_evidence_files" and problem["limit_files"] == MAX_FILES for problem in refused
    )
    assert len(await asyncio.to_thread(keys_under, storage, settings.s3_bucket, f"{number}/")) == MAX_FILES
    assert await db.evidence.count_documents({"number": number}) == MAX_FILES
    assert (await db.complaint_files.find_one({"_id": number}))["files"] == MAX_FILES

    # Refused at once now, before any byte is read, and so is a presigned upload for it.
    late = await upload(client, text, "text/plain", number)
    assert late.status_code == 409
    presign = await client.post(
        "/v1/uploads",
        json={
            "media_type": "text/plain",
            "size": len(text),
            "sha256": hashlib.sha256(text).hexdigest(),
            "number": number,
        },
    )
    assert presign.status_code == 409 and presign.json()["code"] == "too_many_evidence_files"
    await eventually(lambda: _count(events, number, MAX_FILES))


async def _count(events, number: str, at_least: int) -> bool:
    return len(events.events("evidence.rejected", subject=number)) >= at_least


async def test_an_operator_reverifies_a_stored_object_against_its_receipt(
    client, settings, storage, db, operator, samples
):
    pdf = samples["pdf"][0]
    number = new_number()
    receipt = (await upload(client, pdf, "application/pdf", number)).json()
    path = f"/v1/evidence/{receipt['evidence_id']}/verify"

    assert (await client.post(path)).status_code == 401
    wrong = await client.post(path, headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"

    intact = await client.post(path, headers=operator)
    assert intact.status_code == 200, intact.text
    verdict = intact.json()
    assert verdict["ok"] is True
    assert verdict["expected"] == verdict["actual"] == {"sha256": hashlib.sha256(pdf).hexdigest(), "size": len(pdf)}
    assert abs(datetime.fromisoformat(verdict["verified_at"]) - datetime.now(UTC)) < timedelta(seconds=30)

    key = f"{number}/{receipt['evidence_id']}"
    tampered = pdf.replace(b"Catalog", b"Catalug")
    await asyncio.to_thread(storage.put_object, settings.s3_bucket, key, io.BytesIO(tampered), len(tampered))
    changed = (await client.post(path, headers=operator)).json()
    assert changed["ok"] is False and changed["actual"] == {
        "sha256": hashlib.sha256(tampered).hexdigest(),
        "size": len(pdf),
    }
    record = await db.evidence.find_one({"_id": receipt["evidence_id"]})
    assert record["last_verification"]["ok"] is False
    assert record["last_verification"]["actual"]["sha256"] == hashlib.sha256(tampered).hexdigest()

    await asyncio.to_thread(storage.remove_object, settings.s3_bucket, key)
    missing = (await client.post(path, headers=operator)).json()
    assert missing["ok"] is False and missing["actual"] is None

    unknown = await client.post(f"/v1/evidence/{uuid.uuid4().hex}/verify", headers=operator)
    assert unknown.status_code == 404


async def test_clean_ups_on_two_replicas_never_remove_the_same_file_twice(client, app, settings, storage, db, samples):
    from evidence.jobs.cleanup import Cleanup

    for i in range(8):
        assert (await upload(client, samples["txt"][0] + bytes([65 + i]), "text/plain")).status_code == 201
    later = datetime.now(UTC) + timedelta(seconds=settings.orphan_ttl_s + 60)
    unattached = await db.evidence.count_documents({"status": "unattached"})
    state = app.state.cleanup
    replicas = [Cleanup(settings, state.storage, state.evidence, state.uploads, state.erasure) for _ in range(2)]

    reports = await asyncio.gather(*(replica.run_once(later) for replica in replicas))

    assert sum(report.orphans_removed for report in reports) == unattached >= 8
    assert await db.evidence.count_documents({"status": {"$in": ["unattached", "removing"]}}) == 0
    # Only the objects of the files that were attached at filing remain.
    assert sorted(await asyncio.to_thread(keys_under, storage, settings.s3_bucket, "unattached/")) == sorted(
        [f"unattached/{record['_id']}" async for record in db.evidence.find({"object_key": {"$regex": "^unattached/"}})]
    )


async def test_a_removal_left_half_done_by_a_dead_replica_is_finished_after_its_lease(
    client, app, settings, storage, db, samples
):
    receipt = (await upload(client, samples["pdf"][0], "application/pdf")).json()
    later = datetime.now(UTC) + timedelta(seconds=settings.orphan_ttl_s + 60)
    repository = app.state.cleanup.evidence
    # A replica claims it and dies before removing anything.
    claimed = await repository.claim_orphan(later, later, settings.cleanup_lease_s, "dead-replica")
    assert claimed is not None and claimed.status == "removing"
    # Nobody else touches it while the lease holds; once it ran out, the next pass finishes the job.
    assert (await app.state.cleanup.run_once(later)).orphans_removed == 0
    report = await app.state.cleanup.run_once(later + timedelta(seconds=settings.cleanup_lease_s + 1))
    assert report.orphans_removed == 1
    assert await db.evidence.find_one({"_id": receipt["evidence_id"]}) is None
    assert f"unattached/{receipt['evidence_id']}" not in await asyncio.to_thread(
        keys_under, storage, settings.s3_bucket, "unattached/"
    )
