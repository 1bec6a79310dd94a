"""Who may see and do what on a complaint, over HTTP against the real stand-ins: guests, complainant
accounts, companies, operators; expired tokens and revoked keys; illegal transitions and races."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from devstack.accounts import create_account
from devstack.eventtap import event_tap
from devstack.servers import serve
from greenchannel.contracts import CloudEvent, ComplaintScreened, WebhookDelivered
from intake.adapters.identities import LoginTaken
from intake.config import Settings
from intake.domain.statistics import CHINA
from intake.main import create_app

pytestmark = pytest.mark.integration

FORM = {
    "complainant": {"name": "赵六", "id_number": "11010519491231002X", "phone": "13512345678"},
    "company": {"name": "迅联"},
    "category": "refund",
    "title": "退款申请被拒绝",
    "description": "购买的课程无法使用，申请退款被客服拒绝。",
    "occurred_on": "2026-09-01",
    "desired_outcome": "全额退款",
}
ADMIN = {"login": "admin", "password": "development-only-admin-password"}


@pytest.fixture(scope="module")
async def platform(mongo_url, broker_namespace, run_id):
    namespace = broker_namespace.isolated("intake-access")
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_intake_access",
        outbox_poll_interval_s=0.1,
        evidence_url="http://127.0.0.1:9",
        trusted_proxies=["127.0.0.1/32"],
        **namespace.settings_for("intake"),
    )
    app = create_app(settings)
    async with (
        event_tap(namespace.amqp_url, namespace.exchange, ["complaint.*"]) as tap,
        serve(app) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=10) as client,
    ):
        await tap.wait_for_consumer(f"{namespace.queue_prefix}.intake")
        client.app, client.tap, client.settings = app, tap, settings
        yield client


async def token(client, login: str, password: str = "a-long-password-1") -> dict[str, str]:
    with contextlib.suppress(LoginTaken):
        await create_account(client.app, login, password)
    response = await client.post("/v1/auth/token", json={"login": login, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def api_key(client, company_id: str) -> dict[str, str]:
    issued = await client.app.state.intake.identities.issue_api_key(company_id, "test", "test")
    return {"X-Api-Key": issued["api_key"]}


async def forward(client, number: str, company_id: str) -> None:
    """Play routing's acceptance and notification's delivery, as the other services would publish them."""
    now = datetime.now(UTC)
    await client.tap.publish(
        CloudEvent.wrap(
            ComplaintScreened(
                number=number,
                decision="accepted",
                company_id=company_id,
                company_name=f"{company_id} 公司",
                category="refund",
                response_due=datetime.now(CHINA).date() + timedelta(days=14),
                screened_at=now,
            ),
            source="/t",
            subject=number,
        )
    )
    await client.tap.wait_for("complaint.accepted", subject=number)
    await client.tap.publish(
        CloudEvent.wrap(
            WebhookDelivered(
                webhook_id=f"msg_{number}",
                number=number,
                company_id=company_id,
                event_type="complaint.forwarded",
                attempts=1,
                status_code=204,
                delivered_at=now,
            ),
            source="/t",
            subject=number,
        )
    )
    await client.tap.wait_for("complaint.forwarded", subject=number)


async def test_who_reads_a_complaint(platform):
    alice, bob = await token(platform, "alice@example.cn"), await token(platform, "13600000001")
    filed = (await platform.post("/v1/complaints", json=FORM, headers=alice)).json()
    number, code = filed["number"], filed["access_code"]
    x, y = await api_key(platform, "c-x"), await api_key(platform, "c-y")

    async def status(headers):
        return (await platform.get(f"/v1/complaints/{number}", headers=headers)).status_code

    async def company_status(headers):
        return (await platform.get(f"/v1/company/complaints/{number}", headers=headers)).status_code

    assert await status(alice) == 200
    assert await status({"X-Access-Code": code}) == 200
    assert await status(bob) == 404
    assert await status({}) == 404
    assert await status({"X-Access-Code": "WRONGCODE9"}) == 404
    assert await company_status(x) == 404  # not forwarded yet: not even its addressee sees it
    await forward(platform, number, "c-x")
    assert await company_status(x) == 200
    assert await company_status(y) == 404
    assert await status(x) == 404  # companies read through their own API only
    listed = (await platform.get("/v1/company/complaints", headers=x)).json()
    assert [item["number"] for item in listed["items"]] == [number]
    assert (await platform.get("/v1/company/complaints", headers=y)).json()["items"] == []

    # The company sees what it needs to act, no more.
    view = (await platform.get(f"/v1/company/complaints/{number}", headers=x)).json()
    assert view["complainant"] == {
        "name": "赵六",
        "phone": "+8613512345678",
        "id_number": "1101**********002X",
        "email": None,
    }
    # A denial looks exactly like a complaint that does not exist.
    missing = await platform.get("/v1/complaints/GC-20000101-000009", headers=bob)
    denied = await platform.get(f"/v1/complaints/{number}", headers=bob)
    assert missing.json() == denied.json()

    operator = (await platform.post("/v1/ops/auth/token", json=ADMIN)).json()
    assert (
        await platform.get(
            f"/v1/ops/complaints/{number}", headers={"Authorization": f"Bearer {operator['access_token']}"}
        )
    ).status_code == 200
    assert (await platform.get(f"/v1/ops/complaints/{number}", headers=alice)).status_code == 403
    assert (await platform.get("/v1/ops/queue", params={"kind": "appeals"}, headers=x)).status_code == 403
    assert (await platform.get("/v1/me/complaints", headers=x)).status_code == 403


async def test_expired_token_and_revoked_key_are_refused(platform):
    identities = platform.app.state.intake.identities
    expired = jwt.encode(
        {
            "iss": "greenchannel-intake",
            "sub": "someone",
            "kind": "complainant",
            "roles": [],
            "exp": datetime.now(UTC) - timedelta(seconds=5),
        },
        platform.settings.jwt_secret.get_secret_value(),
        algorithm="HS256",
    )
    response = await platform.get("/v1/me/complaints", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and response.json()["code"] == "unauthorized"
    forged = jwt.encode(
        {
            "iss": "greenchannel-intake",
            "sub": "x",
            "kind": "operator",
            "roles": ["admin"],
            "exp": datetime.now(UTC) + timedelta(hours=1),
        },
        "not-the-secret-but-long-enough-for-hs256-use",
        algorithm="HS256",
    )
    assert (
        await platform.get("/v1/ops/queue", params={"kind": "appeals"}, headers={"Authorization": f"Bearer {forged}"})
    ).status_code == 401
    issued = await identities.issue_api_key("c-x", "to revoke", "test")
    headers = {"X-Api-Key": issued["api_key"]}
    assert (await platform.get("/v1/company/complaints", headers=headers)).status_code == 200
    assert await identities.revoke_api_key(issued["key_id"])
    assert (await platform.get("/v1/company/complaints", headers=headers)).status_code == 401
    stored = await identities.api_keys.find_one({"_id": issued["key_id"]})
    assert issued["api_key"].split("_")[-1] not in str(stored)  # only its hash is kept


async def test_accounts_login_claim_and_list(platform):
    assert (await platform.post("/v1/accounts/registrations", json={"login": "not-a-login"})).status_code == 422
    short = {"login": "c@example.cn", "code": "123456", "password": "short"}
    assert (await platform.post("/v1/accounts/registrations/confirm", json=short)).status_code == 422
    carol = await token(platform, "C@Example.cn")
    wrong = await platform.post("/v1/auth/token", json={"login": "c@example.cn", "password": "wrong-password"})
    unknown = await platform.post("/v1/auth/token", json={"login": "nobody@example.cn", "password": "wrong-password"})
    assert wrong.status_code == unknown.status_code == 401 and wrong.json() == unknown.json()

    guest = (await platform.post("/v1/complaints", json=FORM)).json()
    claimed = await platform.post(
        "/v1/me/complaints/claim", headers=carol, json={"number": guest["number"], "access_code": guest["access_code"]}
    )
    assert claimed.status_code == 200
    dave = await token(platform, "d@example.cn")
    stolen = await platform.post(
        "/v1/me/complaints/claim", headers=dave, json={"number": guest["number"], "access_code": guest["access_code"]}
    )
    assert stolen.status_code == 409
    own = (await platform.post("/v1/complaints", json=FORM, headers=carol)).json()
    listing = (await platform.get("/v1/me/complaints", headers=carol, params={"limit": 1})).json()
    assert [item["number"] for item in listing["items"]] == [own["number"]]
    rest = (
        await platform.get("/v1/me/complaints", headers=carol, params={"limit": 1, "cursor": listing["next_cursor"]})
    ).json()
    assert [item["number"] for item in rest["items"]] == [guest["number"]] and rest["next_cursor"] is None
    assert (await platform.get("/v1/me/complaints", headers=carol, params={"cursor": "garbage!"})).status_code == 400


async def test_illegal_transitions_answer_409_and_one_of_two_racing_answers_wins(platform):
    filed = (await platform.post("/v1/complaints", json=FORM)).json()
    number, guest = filed["number"], {"X-Access-Code": filed["access_code"]}
    early = await platform.post(f"/v1/complaints/{number}/rating", json={"rating": 5}, headers=guest)
    assert early.status_code == 409
    assert early.json()["code"] == "illegal_transition" and early.json()["status_now"] == "submitted"
    await forward(platform, number, "c-race")
    company = await api_key(platform, "c-race")
    answers = await asyncio.gather(
        *(
            platform.post(
                f"/v1/company/complaints/{number}/response",
                headers=company,
                json={"response_type": kind, "text": "已核实并处理完毕。"},
            )
            for kind in ("explained", "monetary_relief")
        )
    )
    assert sorted(response.status_code for response in answers) == [200, 409]
    case = (await platform.get(f"/v1/complaints/{number}", headers=guest)).json()
    assert case["status"] == "responded" and [e["action"] for e in case["timeline"]].count("respond") == 1
    assert len(platform.tap.events("complaint.responded", subject=number)) <= 1
    assert set(case["allowed_actions"]) == {"rate", "appeal", "withdraw"}

    # Idempotent company POST: the same key and body answer the same, a new body with it is refused.
    retry = await platform.post(
        f"/v1/company/complaints/{number}/info-request",
        headers={**company, "Idempotency-Key": "q-1"},
        json={"question": "请提供订单号。"},
    )
    assert retry.status_code == 409  # already responded: illegal, and nothing remembered
    withdrawn = await platform.post(
        f"/v1/complaints/{number}/withdrawal", headers={**guest, "Idempotency-Key": "w-1"}, json={"reason": "已和解"}
    )
    repeat = await platform.post(
        f"/v1/complaints/{number}/withdrawal", headers={**guest, "Idempotency-Key": "w-1"}, json={"reason": "已和解"}
    )
    assert withdrawn.status_code == repeat.status_code == 200 and withdrawn.json() == repeat.json()
    event = await platform.tap.wait_for("complaint.withdrawn", subject=number)
    assert event.event.data["company_id"] == "c-race"
    await asyncio.sleep(0.3)
    assert len(platform.tap.events("complaint.withdrawn", subject=number)) == 1


async def test_internal_contact_needs_the_internal_token(platform):
    filed = (
        await platform.post(
            "/v1/complaints", json={**FORM, "complainant": {**FORM["complainant"], "email": "zhao@example.cn"}}
        )
    ).json()
    path = f"/internal/v1/complaints/{filed['number']}/contact"
    internal_token = {"Authorization": f"Bearer {platform.settings.internal_token.get_secret_value()}"}
    async with httpx.AsyncClient(base_url=platform.app.state.internal_url, timeout=10) as internal:
        assert (await internal.get(path)).status_code == 401
        assert (await internal.get(path, headers={"Authorization": "Bearer wrong"})).status_code == 401
        contact = await internal.get(path, headers=internal_token)
        assert contact.json() == {"email": "zhao@example.cn", "phone": "+8613512345678"}
    # The public port knows no such route, even with the right token and a forwarded-for header of the cluster.
    for headers in ({}, internal_token, {**internal_token, "X-Real-IP": "10.0.0.7", "X-Forwarded-For": "10.0.0.7"}):
        refused = await platform.get(path, headers=headers)
        assert (refused.status_code, refused.json()["code"]) == (404, "not_found")
        assert "zhao@example.cn" not in refused.text


async def test_dead_letters_are_listed_inspected_replayed_and_discarded(platform):
    operator = {
        "Authorization": "Bearer " + (await platform.post("/v1/ops/auth/token", json=ADMIN)).json()["access_token"]
    }
    filed = (await platform.post("/v1/complaints", json=FORM)).json()
    number = filed["number"]
    cases = platform.app.state.intake.cases.complaints
    case = await cases.find_one_and_delete({"_id": number})  # the store lost it: the decision cannot apply
    decision = await platform.tap.publish(
        CloudEvent.wrap(
            ComplaintScreened(
                number=number,
                decision="accepted",
                company_id="c-x",
                company_name="X 公司",
                category="refund",
                response_due=datetime.now(CHINA).date() + timedelta(days=14),
                screened_at=datetime.now(UTC),
            ),
            source="/t",
            subject=number,
        )
    )
    await platform.tap.publish_raw(b"\xff not json at all", "complaint.screened")

    async def pending():
        listed = (await platform.get("/v1/ops/dead-letters", params={"service": "intake"}, headers=operator)).json()
        return listed["items"] if len(listed["items"]) >= 2 else None

    for _ in range(100):
        if items := await pending():
            break
        await asyncio.sleep(0.1)
    by_message = {item["message_id"]: item for item in items}
    lost = by_message[decision.id]
    assert lost["reason"].startswith("contract") and lost["event"]["subject"] == number
    poison = next(item for item in items if item["message_id"] != decision.id)
    assert poison["event"] is None and poison["reason"].startswith("contract")
    # At rest, straight from the store: the message sealed, with its expiry; the API above answered it in plaintext.
    for stored in await platform.app.state.dead_letters.collection.find({"service": "intake"}).to_list():
        assert "body" not in stored and "event" not in stored and set(stored["sealed_body"]) == {"kid", "nonce", "ct"}
        assert stored["expires_at"] - stored["taken_at"] == timedelta(days=90)
        assert number not in repr(stored["sealed_body"]) and "X 公司" not in repr(stored)
    assert (await platform.get(f"/v1/ops/dead-letters/{lost['id']}", headers=operator)).json()["event"][
        "id"
    ] == decision.id
    assert (
        await platform.get(
            "/v1/ops/dead-letters", params={"service": "intake"}, headers={"X-Access-Code": filed["access_code"]}
        )
    ).status_code == 401

    await cases.insert_one(case)  # the fix
    replayed = await platform.post(f"/v1/ops/dead-letters/{lost['id']}/replay", headers=operator)
    assert replayed.json()["status"] == "replayed"
    assert (await platform.post(f"/v1/ops/dead-letters/{lost['id']}/replay", headers=operator)).status_code == 409
    accepted = await platform.tap.wait_for("complaint.accepted", subject=number)
    assert accepted.event.data["company_id"] == "c-x"
    discarded = await platform.post(
        f"/v1/ops/dead-letters/{poison['id']}/discard", headers=operator, json={"note": "garbage from a test publisher"}
    )
    assert discarded.json()["status"] == "discarded" and discarded.json()["note"].startswith("garbage")
    left = (await platform.get("/v1/ops/dead-letters", params={"service": "intake"}, headers=operator)).json()
    assert left["items"] == []


async def test_sign_ups_from_one_address_are_limited(platform):
    # An address of its own (through the trusted proxy, the test client): the other tests' sign-ups don't count.
    address = {"X-Forwarded-For": "203.0.113.7"}
    for n in range(platform.settings.account_codes_per_ip_per_hour):
        asked = await platform.post(
            "/v1/accounts/registrations", json={"login": f"signup{n}@example.cn"}, headers=address
        )
        assert asked.status_code == 202, asked.text
    refused = await platform.post("/v1/accounts/registrations", json={"login": "one-more@example.cn"}, headers=address)
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
    # The same login asks from elsewhere.
    elsewhere = await platform.post(
        "/v1/accounts/registrations", json={"login": "one-more@example.cn"}, headers={"X-Forwarded-For": "203.0.113.8"}
    )
    assert elsewhere.status_code == 202, elsewhere.text


async def test_pii_keys_rotate_without_downtime(platform):
    import base64

    from intake.adapters.pii import PiiCipher
    from intake.rotate_keys import rotate

    filed = (await platform.post("/v1/complaints", json=FORM)).json()
    db = platform.app.state.runtime.db
    old = PiiCipher.from_settings(platform.settings.pii_keys.get_secret_value(), platform.settings.pii_active_key_id)
    ring = {
        **json.loads(platform.settings.pii_keys.get_secret_value()),
        "2026-12": base64.b64encode(b"n" * 32).decode(),
    }
    both = PiiCipher.from_settings(json.dumps(ring), "2026-12")
    counts = await rotate(db, both)
    assert counts["complaints.complainant.id_number"] >= 1
    case = await db.complaints.find_one({"_id": filed["number"]})
    assert case["complainant"]["id_number"]["kid"] == "2026-12"
    assert await db.complaints.count_documents({"complainant.phone.kid": {"$ne": "2026-12"}}) == 0
    assert (
        await db.dead_letters.count_documents({"sealed_body": {"$exists": True, "$ne": None}})
        == counts["dead_letters.sealed_body"]
    )
    # Only the new key is needed now; the old one can leave the ring.
    new_only = PiiCipher.from_settings(json.dumps({"2026-12": ring["2026-12"]}), "2026-12")
    assert new_only.decrypt("id_number", case["complainant"]["id_number"]) == "11010519491231002X"
    with pytest.raises(KeyError):
        old.decrypt("id_number", case["complainant"]["id_number"])
    assert (await rotate(db, both))["complaints.complainant.id_number"] == 0  # idempotent
    # Back to the running service's key, so the rest of this module's data stays readable to it.
    await rotate(db, PiiCipher.from_settings(json.dumps(ring), platform.settings.pii_active_key_id))
