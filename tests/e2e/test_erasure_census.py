"""Erasure end to end, proved by a census: a registered complainant files a complaint with evidence, an ID number, a
phone, a name and an e-mail; the company is sent its webhook, asks for information, gets a supplement and answers;
the complainant gets messages and rates it, which closes it; a poison message holding the complaint's words waits in
the consumers' dead-letter queues. The complainant asks for the account and the complaint to be erased; once the
hold passed the retention job erases them, and every service erases its copies on ``complaint.erased``. Then every
document of every collection of every service's database, every sealed record opened, every object of the bucket,
every outbox and every dead letter (in intake's store and still in the broker's queues) is searched for the
complaint's personal values, and none is found; the public record and the statistics are as they were.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
from datetime import datetime, timedelta
from typing import Any

import aio_pika
import httpx
import pytest
from minio import Minio
from PIL import Image

from devstack import standins
from devstack.accounts import register
from devstack.invariants import until
from greenchannel.contracts import CloudEvent
from greenchannel.messaging import CONSUMERS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SERVICES = ("intake", "evidence", "routing", "notification")
ADMIN = {"login": "admin", "password": "development-only-admin-password"}
NAME, ID_NUMBER, PHONE, EMAIL = "欧阳明远", "440105194912310026", "13766554433", "ouyang.census@example.cn"
TITLE = "普查标题会员费扣了两次"
DESCRIPTION = "普查叙述：欧阳明远的会员费在同一天被扣了两次，客服电话一直打不通。"
OUTCOME = "普查诉求退还多扣的会员费"
SUPPLEMENT = "普查补充：银行流水编号九九八八七七，扣款两笔。"
POISON = "普查死信：欧阳明远的补充说明，消费者无法处理。"
FILENAME = "普查欧阳明远扣款截图.png"
# Every value the census looks for, in any field, any collection, any service (the phone also as stored, +86...).
PERSONAL = (NAME, ID_NUMBER, PHONE, EMAIL, TITLE, DESCRIPTION, OUTCOME, SUPPLEMENT, POISON, FILENAME, "普查")


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 32), (200, 40, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


def texts(value: Any) -> list[str]:
    """Every string in ``value``, bytes read as UTF-8 (and as base64 of UTF-8, the way sealed bodies travel)."""
    if isinstance(value, str):
        found = [value]
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            found.append(base64.b64decode(value, validate=True).decode("utf-8"))
        return found
    if isinstance(value, bytes):
        return [value.decode("utf-8", errors="ignore")]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in texts(key) + texts(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in texts(item)]
    return []


def personal_in(value: Any, extra: tuple[str, ...] = ()) -> set[str]:
    joined = "\n".join(texts(value))
    return {mark for mark in (*PERSONAL, *extra) if mark in joined}


async def operator(intake: httpx.AsyncClient) -> dict[str, str]:
    token = (await intake.post("/v1/ops/auth/token", json=ADMIN)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def file_close_and_poison(platform) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The complaint's whole life, as many places as possible holding its personal data; the account's headers and
    what the complaint left in intake's own store to look for later (its keyed hashes, its files)."""
    intake = platform.intake
    await register(intake, platform.mailbox, EMAIL, "census-password-1", name=NAME)
    token = (await intake.post("/v1/auth/token", json={"login": EMAIL, "password": "census-password-1"})).json()
    me = {"Authorization": f"Bearer {token['access_token']}"}
    receipt = (await intake.post("/v1/evidence", files={"file": (FILENAME, png(), "image/png")}, headers=me)).json()
    company = (await platform.routing.get("/v1/companies", params={"q": "迅联"})).json()["items"][0]
    filed = await intake.post(
        "/v1/complaints",
        headers=me,
        json={
            "complainant": {"name": NAME, "id_number": ID_NUMBER, "phone": PHONE, "email": EMAIL},
            "company": {"name": company["name"]},
            "category": "refund",
            "title": TITLE,
            "description": DESCRIPTION,
            "occurred_on": "2026-11-01",
            "desired_outcome": OUTCOME,
            "evidence_ids": [receipt["evidence_id"]],
            # What the complainant agreed to publish would stay published: nothing, here, so nothing stays.
            "publication_consent": False,
        },
    )
    assert filed.status_code == 201, filed.text
    number = filed.json()["number"]

    async def status(expected: str) -> bool:
        return (await intake.get(f"/v1/complaints/{number}", headers=me)).json().get("status") == expected

    await until(lambda: status("forwarded"), 60, f"{number} forwarded")
    issued = await intake.post(
        f"/v1/ops/companies/{company['id']}/api-keys", json={"label": "census"}, headers=await operator(intake)
    )
    company_key = {"X-Api-Key": issued.json()["api_key"]}
    asked = await intake.post(
        f"/v1/company/complaints/{number}/info-request", headers=company_key, json={"question": "请提供扣款流水。"}
    )
    assert asked.status_code == 200, asked.text
    supplied = await intake.post(f"/v1/complaints/{number}/supplement", headers=me, json={"text": SUPPLEMENT})
    assert supplied.status_code == 200, supplied.text
    answered = await intake.post(
        f"/v1/company/complaints/{number}/response",
        headers=company_key,
        json={"response_type": "monetary_relief", "text": "已退还重复扣除的会员费。"},
    )
    assert answered.status_code == 200, answered.text
    rated = await intake.post(f"/v1/complaints/{number}/rating", headers=me, json={"rating": 5, "comment": "满意"})
    assert rated.json()["status"] == "closed", rated.text

    # The webhooks reached the company, the messages the complainant, before anything is erased.
    async def delivered() -> bool:
        types = {
            d.body.get("type") for d in platform.receiver.received if d.body.get("data", {}).get("number") == number
        }
        return {"complaint.forwarded", "complaint.supplemented"} <= types

    await until(delivered, 60, "the company's webhooks")

    async def messages() -> bool:
        items = (await intake.get("/v1/me/messages", headers=me, params={"limit": 50})).json()["items"]
        return {"complaint.info_requested", "complaint.closed"} <= {item["kind"] for item in items}

    await until(messages, 60, "the complainant's messages")

    # A message every consumer of complaint.supplemented refuses (it breaks the contract), holding the complaint's
    # words: it lands in each of their dead-letter queues, and one of them is moved into intake's store.
    broker = platform.apps["intake"].state.runtime.broker.settings
    poison = CloudEvent(
        type="complaint.supplemented", source="/census", subject=number, data={"number": number, "text": POISON}
    )
    connection = await aio_pika.connect_robust(broker.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(broker.event_exchange)
        await exchange.publish(
            aio_pika.Message(poison.model_dump_json().encode(), message_id=poison.id, type=poison.type),
            routing_key=poison.type,
        )
    runtime = platform.apps["intake"].state.runtime

    async def poisoned() -> bool:
        depths = [
            await runtime.broker.queue_depth(f"{broker.queue_prefix}.{service}.dlq")
            for service in ("routing", "notification")
        ]
        return all(depth for depth in depths)

    await until(poisoned, 30, "the poison message in the dead-letter queues")
    listed = await intake.get("/v1/ops/dead-letters", params={"service": "routing"}, headers=await operator(intake))
    assert listed.status_code == 200 and POISON in listed.text

    case = await platform.apps["intake"].state.intake.cases.get(number)
    hashes = (case["complainant_key"], case["phone_key"], case["access_code_hash"])
    return number, me, {"hashes": hashes, "evidence_id": receipt["evidence_id"], "company": company_key}


async def every_document(platform) -> dict[str, list[dict[str, Any]]]:
    """Every document of every collection of every service, keyed ``service.collection``; sealed records opened."""
    found: dict[str, list[dict[str, Any]]] = {}
    for service in SERVICES:
        db = platform.apps[service].state.runtime.db
        for name in await db.list_collection_names():
            found[f"{service}.{name}"] = await db[name].find({}).to_list()
    # What is sealed is read through the adapters that open it: dead letters, messages, deliveries.
    intake_state = platform.apps["intake"].state
    found["intake.dead_letters (opened)"] = await intake_state.dead_letters.list(None, None, 10_000)
    notification = platform.apps["notification"].state
    found["notification.deliveries (opened)"] = [
        await notification.deliveries.get(document["_id"]) for document in found["notification.deliveries"]
    ]
    numbers = sorted({document["number"] for document in found["notification.messages"]})
    found["notification.messages (opened)"] = await notification.messages.page(numbers, 10_000) if numbers else []
    return found


async def test_erasure_leaves_no_personal_value_anywhere_and_keeps_the_public_record(platform):
    intake = platform.intake
    number, me, left = await file_close_and_poison(platform)
    hashes: tuple[str, ...] = left["hashes"]
    public_before = await intake.get(f"/v1/public/complaints/{number}")
    assert public_before.status_code == 200, public_before.text
    figures_before = (await intake.get("/v1/public/statistics", params={"by": "category"})).json()
    # The census finds what it looks for before the erasure: it can fail.
    before = {key: personal_in(documents, hashes) for key, documents in (await every_document(platform)).items()}
    assert {key for key, marks in before.items() if marks} >= {
        "intake.complaints",
        "intake.outbox",
        "evidence.evidence",
        "routing.signatures",
        "notification.deliveries (opened)",
        "intake.dead_letters (opened)",
    }

    asked = await intake.post("/v1/accounts/me/erasure", headers=me)
    assert asked.status_code == 202, asked.text
    due = datetime.fromisoformat(asked.json()["erasure_due_at"])
    report = await platform.apps["intake"].state.retention.run_once(due + timedelta(seconds=1))
    assert (report.erased, report.accounts_deleted) == (1, 1)

    async def everywhere_erased() -> dict[str, set[str]] | None:
        found = {key: personal_in(documents, hashes) for key, documents in (await every_document(platform)).items()}
        left_over = {key: marks for key, marks in found.items() if marks}
        return None if left_over else found

    try:
        await until(everywhere_erased, 60, "every service to erase its copies")
    except AssertionError:
        found = {key: personal_in(documents, hashes) for key, documents in (await every_document(platform)).items()}
        raise AssertionError({key: marks for key, marks in found.items() if marks}) from None

    # Nothing of it waits in any consumer's dead-letter queue either (they were drained into the store, then erased).
    runtime = platform.apps["intake"].state.runtime
    prefix = runtime.broker.settings.queue_prefix
    assert [await runtime.broker.queue_depth(f"{prefix}.{service}.dlq") for service in CONSUMERS] == [0] * len(
        CONSUMERS
    )
    # The bucket holds no object of the complaint's, under its number or from before filing.
    evidence_settings = platform.apps["evidence"].state.settings
    storage = Minio(
        evidence_settings.s3_endpoint,
        access_key=standins.S3_ACCESS_KEY,
        secret_key=standins.S3_SECRET_KEY,
        secure=False,
    )
    keys = await asyncio.to_thread(
        lambda: [item.object_name for item in storage.list_objects(evidence_settings.s3_bucket, recursive=True)]
    )
    assert [key for key in keys if number in key or left["evidence_id"] in key] == []
    # The delivery log and the messages know the complaint no more; nor does the account survive.
    headers = {
        "Authorization": f"Bearer {platform.apps['notification'].state.settings.operator_token.get_secret_value()}"
    }
    deliveries = await platform.notification.get("/v1/deliveries", params={"number": number}, headers=headers)
    assert deliveries.status_code == 200 and deliveries.json()["items"] == []
    assert (await intake.get("/v1/me/messages", headers=me)).status_code == 401

    # The company and the operators reach it by its number no more; the company's list forgets it.
    company = await intake.get(f"/v1/company/complaints/{number}", headers=left["company"])
    assert (company.status_code, company.json()["code"]) == (410, "complaint_erased")
    listed = await intake.get("/v1/company/complaints", headers=left["company"], params={"limit": 100})
    assert number not in [item["number"] for item in listed.json()["items"]]
    ops = await intake.get(f"/v1/ops/complaints/{number}", headers=await operator(intake))
    assert (ops.status_code, ops.json()["code"]) == (410, "complaint_erased")

    # The public record and the statistics stay as they were.
    public_after = await intake.get(f"/v1/public/complaints/{number}")
    assert public_after.status_code == 200
    assert public_after.json() == public_before.json()
    assert (await intake.get("/v1/public/statistics", params={"by": "category"})).json() == figures_before
