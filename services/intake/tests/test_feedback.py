"""The feedback form (意见建议) over HTTP against the real stand-ins: sending, validation, idempotent
replays, the rate limit, who may read it, the contact encrypted at rest, paging and handling."""

from __future__ import annotations

import base64
import itertools
import json

import httpx
import pytest
from cryptography.exceptions import InvalidTag

from devstack.accounts import create_account
from devstack.servers import serve
from intake.adapters.pii import PiiCipher
from intake.config import Settings
from intake.main import create_app
from intake.rotate_keys import rotate

pytestmark = pytest.mark.integration

ADMIN = {"login": "admin", "password": "development-only-admin-password"}
FEEDBACK = {
    "topic": "website",
    "text": "查询投诉进度的页面在手机上显示不全，希望改进。",
    "email": "Zhang.San@Example.com",
    "phone": "138 0013 8000",
}
LIMIT = 5
# Every test sends from its own address (X-Forwarded-For, the test client stands for a trusted proxy), so the
# rate limit counts each apart.
ADDRESSES = (f"198.51.100.{n}" for n in itertools.count(1))


@pytest.fixture(scope="module")
async def intake(mongo_url, broker_namespace, run_id):
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_intake_feedback",
        evidence_url="http://127.0.0.1:9",
        trusted_proxies=["127.0.0.1/32"],
        feedback_per_ip_per_hour=LIMIT,
        **broker_namespace.settings_for("intake"),
    )
    app = create_app(settings)
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        client.app, client.settings = app, settings
        signed_in = await client.post("/v1/ops/auth/token", json=ADMIN)
        client.operator = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        yield client


@pytest.fixture
def address() -> dict[str, str]:
    return {"X-Forwarded-For": next(ADDRESSES)}


async def stored(client) -> int:
    return await client.app.state.feedback.collection.count_documents({})


async def test_feedback_is_received_and_operators_read_it_with_the_contact(intake, address):
    sent = await intake.post("/v1/public/feedback", json=FEEDBACK, headers=address)
    assert sent.status_code == 201, sent.text
    answer = sent.json()
    assert answer["status"] == "new" and len(answer["id"]) == 32 and answer["submitted_at"]

    listed = (await intake.get("/v1/ops/feedback", headers=intake.operator)).json()
    first = listed["items"][0]
    assert first["id"] == answer["id"] and first["text"] == FEEDBACK["text"] and first["topic"] == "website"
    assert first["contact"] == {"email": "Z***@example.com", "phone": "138****8000"}

    one = (await intake.get(f"/v1/ops/feedback/{answer['id']}", headers=intake.operator)).json()
    assert one["contact"] == {"email": "Zhang.San@example.com", "phone": "+8613800138000"}
    assert one["status"] == "new" and one["handled"] is None


async def test_the_contact_is_encrypted_at_rest(intake, address):
    answer = (await intake.post("/v1/public/feedback", json=FEEDBACK, headers=address)).json()
    raw = await intake.app.state.runtime.db["feedback"].find_one({"_id": answer["id"]})
    text = json.dumps(raw, default=str, ensure_ascii=False)
    for secret in ("Zhang.San@example.com", "Zhang.San", "+8613800138000", "13800138000"):
        assert secret not in text
    cipher = PiiCipher.from_settings(intake.settings.pii_keys.get_secret_value(), intake.settings.pii_active_key_id)
    assert cipher.decrypt("phone", raw["contact"]["phone"]) == "+8613800138000"
    with pytest.raises(InvalidTag):  # bound to its field: the phone's ciphertext does not open as an e-mail
        cipher.decrypt("email", raw["contact"]["phone"])


async def test_feedback_without_contact_is_taken(intake, address):
    answer = (
        await intake.post(
            "/v1/public/feedback", json={"topic": "other", "text": "没有联系方式的意见也应收到。"}, headers=address
        )
    ).json()
    one = (await intake.get(f"/v1/ops/feedback/{answer['id']}", headers=intake.operator)).json()
    assert one["contact"] == {"email": None, "phone": None} and one["topic"] == "other"


@pytest.mark.parametrize(
    ("change", "field", "error_type"),
    [
        ({"text": "太短了太短了太短了"}, "text", "string_too_short"),
        ({"text": "          很短        "}, "text", "string_too_short"),
        ({"text": "长" * 2001}, "text", "string_too_long"),
        ({"text": "控制字符\x07不应出现在意见里"}, "text", "text_control_character"),
        ({"text": "方向覆盖\u202e不应出现在意见里"}, "text", "text_control_character"),
        ({"topic": "complaint"}, "topic", "literal_error"),
        ({"topic": None}, "topic", "literal_error"),
        ({"email": "not-an-email"}, "email", "email_format"),
        ({"phone": "010-12345678"}, "phone", "phone_not_mobile"),
        ({"phone": "12345"}, "phone", "phone_format"),
        ({"name": "张三"}, "name", "extra_forbidden"),
        ({"text": {"$ne": None}}, "text", "string_type"),
    ],
)
async def test_invalid_feedback_is_a_problem_with_field_errors_and_stores_nothing(
    intake, address, change, field, error_type
):
    before = await stored(intake)
    response = await intake.post("/v1/public/feedback", json={**FEEDBACK, **change}, headers=address)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert [(error["field"], error["type"]) for error in problem["errors"]] == [(field, error_type)]
    assert await stored(intake) == before


async def test_a_replay_with_the_same_key_answers_the_first_answer(intake, address):
    headers = {**address, "Idempotency-Key": "feedback-7c1e"}
    first = await intake.post("/v1/public/feedback", json=FEEDBACK, headers=headers)
    before = await stored(intake)
    again = await intake.post("/v1/public/feedback", json=FEEDBACK, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert await stored(intake) == before
    other = await intake.post("/v1/public/feedback", json={**FEEDBACK, "topic": "policy"}, headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert await stored(intake) == before


async def test_too_much_feedback_from_one_address_is_refused_with_retry_after(intake, address):
    for _ in range(LIMIT):
        assert (await intake.post("/v1/public/feedback", json=FEEDBACK, headers=address)).status_code == 201
    before = await stored(intake)
    refused = await intake.post("/v1/public/feedback", json=FEEDBACK, headers=address)
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert await stored(intake) == before
    # Another address is not held back.
    elsewhere = await intake.post("/v1/public/feedback", json=FEEDBACK, headers={"X-Forwarded-For": next(ADDRESSES)})
    assert elsewhere.status_code == 201


async def test_only_operators_read_and_handle_feedback(intake, address):
    entry = (await intake.post("/v1/public/feedback", json=FEEDBACK, headers=address)).json()["id"]
    account = {"login": "feedback-reader@example.cn", "password": "a-long-password-1"}
    await create_account(intake.app, **account)
    complainant = {
        "Authorization": f"Bearer {(await intake.post('/v1/auth/token', json=account)).json()['access_token']}"
    }
    created = await intake.post(
        "/v1/ops/operators",
        headers=intake.operator,
        json={"login": "statistician", "password": "a-long-password-2", "roles": ["regulator"]},
    )
    assert created.status_code == 201, created.text
    signed_in = await intake.post("/v1/ops/auth/token", json={"login": "statistician", "password": "a-long-password-2"})
    regulator = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    company = {"X-Api-Key": (await intake.app.state.intake.identities.issue_api_key("c-xunlian", "t", "t"))["api_key"]}
    requests = [
        ("GET", "/v1/ops/feedback", None),
        ("GET", f"/v1/ops/feedback/{entry}", None),
        ("POST", f"/v1/ops/feedback/{entry}/handle", {"note": "已转网站组"}),
    ]
    for method, path, body in requests:
        for headers, status in (
            ({}, 401),
            (complainant, 403),
            (regulator, 403),
            (company, 403),
            ({"Authorization": "Bearer forged"}, 401),
        ):
            response = await intake.request(method, path, json=body, headers=headers)
            assert response.status_code == status, (method, path, headers, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
    assert (await intake.get(f"/v1/ops/feedback/{entry}", headers=intake.operator)).json()["status"] == "new"


async def test_an_operator_marks_feedback_handled_once(intake, address):
    entry = (await intake.post("/v1/public/feedback", json=FEEDBACK, headers=address)).json()["id"]
    handled = await intake.post(
        f"/v1/ops/feedback/{entry}/handle",
        json={"note": "已转网站组修复"},
        headers={**intake.operator, "Idempotency-Key": f"handle-{entry}"},
    )
    assert handled.status_code == 200, handled.text
    body = handled.json()
    assert body["status"] == "handled" and body["handled"]["note"] == "已转网站组修复"
    assert body["handled"]["by"].startswith("operator:") and body["handled"]["at"]
    replayed = await intake.post(
        f"/v1/ops/feedback/{entry}/handle",
        json={"note": "已转网站组修复"},
        headers={**intake.operator, "Idempotency-Key": f"handle-{entry}"},
    )
    assert replayed.status_code == 200 and replayed.json() == body
    again = await intake.post(f"/v1/ops/feedback/{entry}/handle", json={"note": "再处理一次"}, headers=intake.operator)
    assert again.status_code == 409 and again.json()["code"] == "feedback_already_handled"
    unknown = await intake.post(
        "/v1/ops/feedback/0123456789abcdef0123456789abcdef/handle", json={"note": "无此条"}, headers=intake.operator
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "feedback_not_found"
    missing = await intake.get("/v1/ops/feedback/0123456789abcdef0123456789abcdef", headers=intake.operator)
    assert missing.status_code == 404 and missing.json()["code"] == "feedback_not_found"

    handled_ids = [
        item["id"]
        for item in (
            await intake.get("/v1/ops/feedback", params={"status": "handled"}, headers=intake.operator)
        ).json()["items"]
    ]
    new_ids = [
        item["id"]
        for item in (await intake.get("/v1/ops/feedback", params={"status": "new"}, headers=intake.operator)).json()[
            "items"
        ]
    ]
    assert entry in handled_ids and entry not in new_ids


async def test_operators_page_through_feedback_newest_first(intake, address):
    for n in range(LIMIT):
        await intake.post("/v1/public/feedback", json={**FEEDBACK, "text": f"第 {n} 条分页测试的意见"}, headers=address)
    everything = await intake.app.state.feedback.collection.find({}, projection={"submitted_at": 1}).to_list()
    newest_first = [
        row["_id"] for row in sorted(everything, key=lambda row: (row["submitted_at"], row["_id"]), reverse=True)
    ]
    seen, cursor = [], None
    while True:
        page = (
            await intake.get(
                "/v1/ops/feedback",
                params={"limit": 2, **({"cursor": cursor} if cursor else {})},
                headers=intake.operator,
            )
        ).json()
        seen += [item["id"] for item in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == newest_first and len(seen) > 4
    forged = await intake.get("/v1/ops/feedback", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=intake.operator)
    assert forged.status_code == 400 and forged.json()["code"] == "invalid_cursor"
    unknown_status = await intake.get("/v1/ops/feedback", params={"status": "deleted"}, headers=intake.operator)
    assert unknown_status.status_code == 422


async def test_key_rotation_reaches_the_feedback_contact(intake, address):
    entry = (await intake.post("/v1/public/feedback", json=FEEDBACK, headers=address)).json()["id"]
    db = intake.app.state.runtime.db
    ring = {**json.loads(intake.settings.pii_keys.get_secret_value()), "2027-01": base64.b64encode(b"f" * 32).decode()}
    counts = await rotate(db, PiiCipher.from_settings(json.dumps(ring), "2027-01"))
    assert counts["feedback.contact.email"] >= 1 and counts["feedback.contact.phone"] >= 1
    raw = await db["feedback"].find_one({"_id": entry})
    assert raw["contact"]["email"]["kid"] == raw["contact"]["phone"]["kid"] == "2027-01"
    # Back to the running service's key, so the rest of this module's data stays readable to it.
    await rotate(db, PiiCipher.from_settings(json.dumps(ring), intake.settings.pii_active_key_id))
    one = (await intake.get(f"/v1/ops/feedback/{entry}", headers=intake.operator)).json()
    assert one["contact"]["phone"] == "+8613800138000"
