"""A company's staff accounts on the whole platform: the invitation travels the real way (intake's outbox, the broker,
notification, SMTP) and is read from a real SMTP server's mailbox; tokens are checked against the account on every
request, so a disabled colleague's session ends at once on this replica.

An operator admin invites a company's first administrator; the administrator invites a handler and a read-only
colleague; each role holds (a handler manages nobody, a read-only colleague answers nothing); another company's staff
get 404 on this company's complaint; disabling ends a session; two administrators disabling each other at once leave
one enabled; requiring TOTP ends the sessions without it and the next sign-in sets it up, each code working once.
"""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pyotp
import pytest
from standardwebhooks.webhooks import Webhook

from devstack.accounts import mails_to, next_mail
from devstack.platform import WEBHOOK_SECRET
from tests.e2e.test_lifecycle_journey import Journey, until

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-password-1"
LINK = re.compile(r"https?://\S+/company/invitation#(\S+)")
COMPANY_X, COMPANY_Y = "c-xunlian", "c-haina"


def new_email() -> str:
    return f"staff-{uuid.uuid4().hex[:10]}@example.cn"


def bearer(response: httpx.Response) -> dict[str, str]:
    assert response.status_code in (200, 201), response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def invitation_token(platform, email: str, seen: int = 0) -> str:
    mail = await next_mail(platform.mailbox, email, seen)
    found = LINK.search(mail.get_content())
    assert found is not None, mail.get_content()
    return found.group(1)


async def invite_first_administrator(platform, company_id: str, email: str) -> dict[str, str]:
    """The operator admin's invitation, accepted: the administrator's bearer headers."""
    invited = await platform.intake.post(
        f"/v1/ops/companies/{company_id}/staff-invitations",
        json={"email": email},
        headers=await Journey(platform).operator(),
    )
    assert invited.status_code == 201, invited.text
    return await accept(platform, email, "王经理")


async def accept(platform, email: str, name: str, seen: int = 0) -> dict[str, str]:
    token = await invitation_token(platform, email, seen)
    return bearer(
        await platform.intake.post(
            "/v1/company/invitation/accept", json={"token": token, "name": name, "password": PASSWORD}
        )
    )


async def invite(platform, administrator: dict[str, str], role: str) -> tuple[str, dict[str, str]]:
    email = new_email()
    invited = await platform.intake.post(
        "/v1/company/staff/invitations", json={"email": email, "role": role}, headers=administrator
    )
    assert invited.status_code == 201, invited.text
    return email, await accept(platform, email, "李同事")


async def staff_id(platform, headers: dict[str, str]) -> str:
    me = await platform.intake.get("/v1/company/me", headers=headers)
    assert me.status_code == 200, me.text
    return me.json()["staff_id"]


async def sign_in(platform, email: str, totp: str | None = None) -> httpx.Response:
    body = {"email": email, "password": PASSWORD} | ({"totp": totp} if totp else {})
    return await platform.intake.post("/v1/company/auth/token", json=body)


async def test_an_invitation_is_mailed_works_once_and_is_kept_only_as_a_hash(platform):
    email = new_email()
    operator = await Journey(platform).operator()
    path = f"/v1/ops/companies/{COMPANY_X}/staff-invitations"
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await platform.intake.post(path, json={"email": email}, headers={**operator, **key})
    again = await platform.intake.post(path, json={"email": email}, headers={**operator, **key})
    assert first.status_code == again.status_code == 201, first.text
    assert first.json() == again.json() and first.json()["role"] == "administrator"
    token = await invitation_token(platform, email)
    mail = mails_to(platform.mailbox, email)[0]
    assert "企业账户邀请" in mail["Subject"] and "迅联科技有限公司" in mail.get_content()

    # Neither the address nor the link's secret is in intake's store in clear.
    secret = token.split(".", 1)[1]
    db = platform.apps["intake"].state.runtime.db
    kept = [str(document) for name in ("company_invitations", "outbox") async for document in db[name].find()]
    assert kept and not any(secret in text or email in text for text in kept)

    shown = await platform.intake.post("/v1/company/invitation", json={"token": token})
    assert shown.status_code == 200 and shown.json()["email"] == email and shown.json()["company_id"] == COMPANY_X
    forged = await platform.intake.post("/v1/company/invitation", json={"token": token[:-2] + "xx"})
    assert forged.status_code == 404 and forged.json()["code"] == "invitation_invalid"

    administrator = bearer(
        await platform.intake.post(
            "/v1/company/invitation/accept", json={"token": token, "name": "王经理", "password": PASSWORD}
        )
    )
    used = await platform.intake.post(
        "/v1/company/invitation/accept", json={"token": token, "name": "别人", "password": PASSWORD}
    )
    assert used.status_code == 404
    me = (await platform.intake.get("/v1/company/me", headers=administrator)).json()
    assert me["role"] == "administrator" and me["company_id"] == COMPANY_X and me["email"] == email
    assert (await platform.intake.get("/v1/company/complaints", headers=administrator)).status_code == 200
    # The same address cannot be invited twice (a login is unique on the platform).
    taken = await platform.intake.post(path, json={"email": email}, headers=operator)
    assert taken.status_code == 409 and taken.json()["code"] == "email_taken"
    # An unknown company gets no invitation; a company administrator cannot invite through the operators' route.
    unknown = await platform.intake.post(
        "/v1/ops/companies/c-nobody/staff-invitations", json={"email": new_email()}, headers=operator
    )
    assert unknown.status_code == 422
    assert (await platform.intake.post(path, json={"email": new_email()}, headers=administrator)).status_code == 403


async def test_roles_hold_and_other_companies_see_nothing(platform):
    journey = Journey(platform)
    number, _ = await journey.file_and_forward()
    administrator = await invite_first_administrator(platform, COMPANY_X, new_email())
    _, handler = await invite(platform, administrator, "handler")
    _, reader = await invite(platform, administrator, "read_only")
    other = await invite_first_administrator(platform, COMPANY_Y, new_email())

    for headers in (administrator, handler, reader):
        assert (await platform.intake.get(f"/v1/company/complaints/{number}", headers=headers)).status_code == 200
    # Another company's staff: the complaint does not exist for them, nor does it for their actions.
    assert (await platform.intake.get(f"/v1/company/complaints/{number}", headers=other)).status_code == 404
    question = {"question": "请提供订单号和支付截图。"}
    path = f"/v1/company/complaints/{number}/info-request"
    assert (await platform.intake.post(path, json=question, headers=other)).status_code == 404
    # A read-only colleague reads and does nothing else.
    refused = await platform.intake.post(path, json=question, headers=reader)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    # A handler acts on complaints and manages nobody.
    assert (await platform.intake.post(path, json=question, headers=handler)).status_code == 200
    assert (await platform.intake.get("/v1/company/staff", headers=handler)).status_code == 403
    invited = await platform.intake.post(
        "/v1/company/staff/invitations", json={"email": new_email(), "role": "administrator"}, headers=handler
    )
    assert invited.status_code == 403
    # An API key is the company's systems: it answers, and manages no people.
    key = await journey.company_key(COMPANY_X)
    assert (await platform.intake.get("/v1/company/staff", headers=key)).status_code == 403

    listing = (await platform.intake.get("/v1/company/staff", headers=administrator)).json()
    assert {member["role"] for member in listing["staff"]} >= {"administrator", "handler", "read_only"}
    assert not any(member["email"].endswith("@other") for member in listing["staff"])
    assert (await platform.intake.get("/v1/company/staff", headers=other)).json()["staff"][0]["role"] == "administrator"
    assert len((await platform.intake.get("/v1/company/staff", headers=other)).json()["staff"]) == 1


async def test_a_disabled_colleague_is_signed_out_and_enabling_brings_no_session_back(platform):
    administrator = await invite_first_administrator(platform, COMPANY_X, new_email())
    email, handler = await invite(platform, administrator, "handler")
    colleague = await staff_id(platform, handler)
    # The handler's session also works as the web client's cookie session.
    session = await platform.intake.post("/v1/session", headers=handler)
    assert session.status_code == 200, session.text

    disabled = await platform.intake.post(f"/v1/company/staff/{colleague}/disable", headers=administrator)
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert (await platform.intake.get("/v1/company/complaints", headers=handler)).status_code == 401
    assert (await sign_in(platform, email)).status_code == 401
    assert (
        await platform.intake.post(f"/v1/company/staff/{colleague}/enable", headers=administrator)
    ).status_code == 200
    assert (await platform.intake.get("/v1/company/complaints", headers=handler)).status_code == 401
    again = bearer(await sign_in(platform, email))
    assert (await platform.intake.get("/v1/company/complaints", headers=again)).status_code == 200

    # Ending a colleague's sessions; an administrator cannot disable themselves; another company's id is unknown.
    assert (
        await platform.intake.post(f"/v1/company/staff/{colleague}/sign-out", headers=administrator)
    ).status_code == 200
    assert (await platform.intake.get("/v1/company/complaints", headers=again)).status_code == 401
    own = await staff_id(platform, administrator)
    refused = await platform.intake.post(f"/v1/company/staff/{own}/disable", headers=administrator)
    assert refused.status_code == 409 and refused.json()["code"] == "own_account"
    other = await invite_first_administrator(platform, COMPANY_Y, new_email())
    assert (await platform.intake.post(f"/v1/company/staff/{colleague}/disable", headers=other)).status_code == 404


async def test_two_administrators_disabling_each_other_at_once_leave_one(platform):
    first = await invite_first_administrator(platform, COMPANY_Y, new_email())
    _, second = await invite(platform, first, "administrator")
    ids = [await staff_id(platform, first), await staff_id(platform, second)]
    # Every other administrator of the company steps aside first, so these two are the last.
    for member in (await platform.intake.get("/v1/company/staff", headers=first)).json()["staff"]:
        if member["role"] == "administrator" and member["staff_id"] not in ids and not member["disabled"]:
            changed = await platform.intake.post(f"/v1/company/staff/{member['staff_id']}/disable", headers=first)
            assert changed.status_code == 200, changed.text

    answers = await asyncio.gather(
        platform.intake.post(f"/v1/company/staff/{ids[1]}/disable", headers=first),
        platform.intake.post(f"/v1/company/staff/{ids[0]}/disable", headers=second),
    )
    statuses = sorted(answer.status_code for answer in answers)
    # One wins; the other saw the change (it would leave no administrator) or its own session had ended.
    assert statuses[0] == 200 and statuses[1] in (401, 409), [answer.text for answer in answers]
    db = platform.apps["intake"].state.runtime.db
    enabled = await db["company_staff"].count_documents(
        {"_id": {"$in": ids}, "role": "administrator", "disabled": False}
    )
    assert enabled == 1


async def test_requiring_totp_ends_sessions_without_it_and_each_code_works_once(platform):
    email = new_email()
    administrator = await invite_first_administrator(platform, "c-qingtu", email)
    _, handler = await invite(platform, administrator, "handler")
    required = await platform.intake.put("/v1/company/security", json={"totp_required": True}, headers=administrator)
    assert required.status_code == 200 and required.json() == {"totp_required": True}
    for headers in (administrator, handler):
        assert (await platform.intake.get("/v1/company/complaints", headers=headers)).status_code == 401

    enrol = await sign_in(platform, email)
    assert enrol.status_code == 403 and enrol.json()["code"] == "totp_enrolment_required", enrol.text
    secret = enrol.json()["totp_secret"]
    assert enrol.json()["otpauth_uri"].startswith("otpauth://totp/")
    assert (
        await sign_in(platform, email, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    ).status_code == 403
    code = pyotp.TOTP(secret).now()
    signed_in = bearer(await sign_in(platform, email, code))
    assert (await platform.intake.get("/v1/company/complaints", headers=signed_in)).status_code == 200
    # The same code a second time (read over a shoulder) is refused; without a code, too.
    replayed = await sign_in(platform, email, code)
    assert replayed.status_code == 401 and replayed.json()["code"] == "totp_required"
    assert (await sign_in(platform, email)).status_code == 401
    me = (await platform.intake.get("/v1/company/me", headers=signed_in)).json()
    assert me["totp"] is True
    # The wrong password tells nothing about the second factor.
    wrong = await platform.intake.post("/v1/company/auth/token", json={"email": email, "password": "not-the-password"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"


async def test_assignment_and_internal_notes_stay_within_the_company(platform):
    journey = Journey(platform)
    number, access = await journey.file_and_forward()
    administrator = await invite_first_administrator(platform, COMPANY_X, new_email())
    _, handler = await invite(platform, administrator, "handler")
    _, reader = await invite(platform, administrator, "read_only")
    other = await invite_first_administrator(platform, COMPANY_Y, new_email())
    handler_id, reader_id = await staff_id(platform, handler), await staff_id(platform, reader)
    base = f"/v1/company/complaints/{number}"

    assigned = await platform.intake.put(f"{base}/assignee", json={"staff_id": handler_id}, headers=administrator)
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["assignee"] == {"staff_id": handler_id, "name": "李同事"}
    refused = await platform.intake.put(f"{base}/assignee", json={"staff_id": reader_id}, headers=administrator)
    assert refused.status_code == 422 and refused.json()["code"] == "assignee_refused"
    assert (await platform.intake.put(f"{base}/assignee", json={"staff_id": None}, headers=reader)).status_code == 403

    text = f"已联系用户，待财务核实 {uuid.uuid4().hex[:6]}"
    key = {"Idempotency-Key": uuid.uuid4().hex}
    for _ in range(2):
        added = await platform.intake.post(f"{base}/notes", json={"text": text}, headers={**handler, **key})
        assert added.status_code == 201, added.text
    handling = (await platform.intake.get(f"{base}/handling", headers=reader)).json()
    assert [note["text"] for note in handling["notes"]] == [text]
    assert handling["notes"][0]["by"]["staff_id"] == handler_id
    # Sealed in the store; nowhere the complainant or another company looks.
    db = platform.apps["intake"].state.runtime.db
    assert not [doc async for doc in db["company_handling"].find() if text in str(doc)]
    assert text not in (await platform.intake.get(f"/v1/complaints/{number}", headers=access)).text
    assert (await platform.intake.get(f"{base}/handling", headers=other)).status_code == 404
    assert (await platform.intake.post(f"{base}/notes", json={"text": "越权"}, headers=other)).status_code == 404

    # The company's view of the case: its steps by side, never by whose account.
    case = (await platform.intake.get(base, headers=reader)).json()
    assert case["rating"] is None
    sides = {entry["by"] for entry in case["timeline"]}
    assert "complainant" in sides and sides <= {
        "guest",
        "complainant",
        "company",
        "operator",
        "routing",
        "notification",
    }
    assert case["timeline"][0]["action"] == "submit"
    assert not [entry for entry in case["timeline"] if ":" in entry["by"]]


async def test_an_administrator_issues_lists_and_revokes_the_company_s_api_keys(platform):
    administrator = await invite_first_administrator(platform, COMPANY_X, new_email())
    _, handler = await invite(platform, administrator, "handler")
    other = await invite_first_administrator(platform, COMPANY_Y, new_email())

    issued = await platform.intake.post("/v1/company/api-keys", json={"label": "客服系统"}, headers=administrator)
    assert issued.status_code == 201, issued.text
    key = issued.json()
    assert key["company_id"] == COMPANY_X and key["api_key"].startswith("gck_")
    listed = (await platform.intake.get("/v1/company/api-keys", headers=administrator)).json()["items"]
    mine = next(item for item in listed if item["key_id"] == key["key_id"])
    assert mine["label"] == "客服系统" and mine["last_used_at"] is None and "api_key" not in mine

    # The key works as the company, and its use is recorded.
    headers = {"X-Api-Key": key["api_key"]}
    assert (await platform.intake.get("/v1/company/complaints", headers=headers)).status_code == 200
    listed = (await platform.intake.get("/v1/company/api-keys", headers=administrator)).json()["items"]
    assert next(item for item in listed if item["key_id"] == key["key_id"])["last_used_at"] is not None

    # A handler cannot manage keys; nor can a key; another company's administrator cannot revoke this one.
    assert (await platform.intake.get("/v1/company/api-keys", headers=handler)).status_code == 403
    assert (await platform.intake.post("/v1/company/api-keys", json={"label": "x"}, headers=handler)).status_code == 403
    assert (await platform.intake.get("/v1/company/api-keys", headers=headers)).status_code == 403
    path = f"/v1/company/api-keys/{key['key_id']}"
    assert (await platform.intake.delete(path, headers=other)).status_code == 404
    assert key["key_id"] not in str((await platform.intake.get("/v1/company/api-keys", headers=other)).json())

    assert (await platform.intake.delete(path, headers=administrator)).status_code == 204
    assert (await platform.intake.get("/v1/company/complaints", headers=headers)).status_code == 401
    assert (await platform.intake.delete(path, headers=administrator)).status_code == 404


async def test_an_administrator_manages_the_webhook_endpoint_and_its_delivery_log(platform):
    administrator = await invite_first_administrator(platform, COMPANY_X, new_email())
    _, handler = await invite(platform, administrator, "handler")
    other = await invite_first_administrator(platform, COMPANY_Y, new_email())
    assert (await platform.intake.get("/v1/company/webhook-endpoint", headers=handler)).status_code == 403

    url = f"{platform.receiver_url}/webhooks/{COMPANY_X}"
    registered = await platform.intake.put("/v1/company/webhook-endpoint", json={"url": url}, headers=administrator)
    assert registered.status_code == 200, registered.text
    shown = (await platform.intake.get("/v1/company/webhook-endpoint", headers=administrator)).json()
    assert shown["url"] == url and shown["secret_masked"] is True and shown["company_id"] == COMPANY_X

    number, _ = await Journey(platform).file_and_forward()
    deliveries = (await platform.intake.get("/v1/company/deliveries", headers=administrator)).json()["items"]
    delivery = next(item for item in deliveries if item["number"] == number)
    assert delivery["company_id"] == COMPANY_X and delivery["status"] == "delivered"
    assert not [item for item in deliveries if item["company_id"] != COMPANY_X]
    webhook_id = delivery["webhook_id"]
    assert (await platform.intake.get(f"/v1/company/deliveries/{webhook_id}", headers=other)).status_code == 404
    assert (
        await platform.intake.post(f"/v1/company/deliveries/{webhook_id}/redeliver", headers=other)
    ).status_code == 404

    # Rotation with an overlap: the new secret shown once; a redelivery carries both signatures, each verifying.
    rotated = await platform.intake.post(
        "/v1/company/webhook-endpoint/rotate-secret", json={"overlap_s": 3600}, headers=administrator
    )
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert rotated.json()["secret_masked"] is False and new_secret != WEBHOOK_SECRET
    seen = len([item for item in platform.receiver.received if item.webhook_id == webhook_id])
    again = await platform.intake.post(f"/v1/company/deliveries/{webhook_id}/redeliver", headers=administrator)
    assert again.status_code == 200, again.text

    async def redelivered():
        found = [item for item in platform.receiver.received if item.webhook_id == webhook_id]
        return found[-1] if len(found) > seen else None

    received = await until(redelivered, what="the redelivery")
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    for secret in (WEBHOOK_SECRET, new_secret):
        assert Webhook(secret).verify(received.raw, received.headers)["data"]["number"] == number

    disabled = await platform.intake.post(
        "/v1/company/webhook-endpoint/disable", json={"reason": "维护"}, headers=administrator
    )
    assert disabled.status_code == 200 and disabled.json()["status"] == "disabled"
    enabled = await platform.intake.post("/v1/company/webhook-endpoint/enable", headers=administrator)
    assert enabled.status_code == 200 and enabled.json()["status"] == "enabled"


async def test_an_administrator_sends_a_test_event_and_finds_it_in_the_delivery_log(platform):
    company = "c-lanjing"
    administrator = await invite_first_administrator(platform, company, new_email())
    _, handler = await invite(platform, administrator, "handler")
    assert (await platform.intake.post("/v1/company/webhook-endpoint/test", headers=handler)).status_code == 403
    key = {"Idempotency-Key": uuid.uuid4().hex}

    sent = await platform.intake.post("/v1/company/webhook-endpoint/test", headers={**administrator, **key})
    assert sent.status_code == 201, sent.text
    webhook_id = sent.json()["webhook_id"]
    assert sent.json()["company_id"] == company and sent.json()["event_type"] == "webhook.test"

    async def received():
        return next((item for item in platform.receiver.received if item.webhook_id == webhook_id), None)

    got = await until(received, what="the test event")
    body = Webhook(WEBHOOK_SECRET).verify(got.raw, got.headers)
    assert body["type"] == "webhook.test" and body["data"]["company_id"] == company
    assert "number" not in body["data"] and "complainant" not in body["data"]

    async def logged():
        items = (await platform.intake.get("/v1/company/deliveries", headers=administrator)).json()["items"]
        found = next((item for item in items if item["webhook_id"] == webhook_id), None)
        return found if found and found["status"] == "delivered" else None

    delivery = await until(logged, what="the test event delivered in the log")
    assert delivery["number"] is None and [a["status_code"] for a in delivery["attempts"]] == [got.answered]
    again = await platform.intake.post("/v1/company/webhook-endpoint/test", headers={**administrator, **key})
    assert again.status_code == 201 and again.json()["webhook_id"] == webhook_id
    await asyncio.sleep(0.5)
    assert len([item for item in platform.receiver.received if item.webhook_id == webhook_id]) == 1


async def test_a_profile_change_reaches_the_directory_only_once_an_operator_approves(platform):
    administrator = await invite_first_administrator(platform, "c-polaris", new_email())
    _, handler = await invite(platform, administrator, "handler")
    operator = await Journey(platform).operator()
    alias = f"北极星{uuid.uuid4().hex[:4]}"
    before = (await platform.intake.get("/v1/company/profile", headers=handler)).json()["company"]
    proposal = {
        "aliases": [*before["aliases"], alias],
        "apps": before["apps"],
        "domains": before["domains"],
        "user_base_millions": 12.5,
    }
    assert (
        await platform.intake.post("/v1/company/profile-changes", json=proposal, headers=handler)
    ).status_code == 403
    proposed = await platform.intake.post("/v1/company/profile-changes", json=proposal, headers=administrator)
    assert proposed.status_code == 201 and proposed.json()["status"] == "pending", proposed.text
    change_id = proposed.json()["change_id"]
    # Not in the directory before an operator admin approves.
    directory = (await platform.routing.get("/v1/companies/c-polaris")).json()
    assert alias not in directory["aliases"]
    waiting = (await platform.intake.get("/v1/ops/company-profile-changes", headers=operator)).json()["items"]
    assert change_id in [item["change_id"] for item in waiting]

    approved = await platform.intake.post(f"/v1/ops/company-profile-changes/{change_id}/approve", headers=operator)
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    directory = (await platform.routing.get("/v1/companies/c-polaris")).json()
    assert alias in directory["aliases"] and directory["user_base_millions"] == 12.5
    assert directory["name"] == before["name"]  # the registered name stays the platform's
    again = await platform.intake.post(f"/v1/ops/company-profile-changes/{change_id}/approve", headers=operator)
    assert again.status_code == 409

    # A rejection leaves the directory as it is and tells the company why.
    second = await platform.intake.post(
        "/v1/company/profile-changes", json={**proposal, "apps": ["别人的应用"]}, headers=administrator
    )
    rejected = await platform.intake.post(
        f"/v1/ops/company-profile-changes/{second.json()['change_id']}/reject",
        json={"note": "该应用不属于贵企业"},
        headers=operator,
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert "别人的应用" not in (await platform.routing.get("/v1/companies/c-polaris")).json()["apps"]
    history = (await platform.intake.get("/v1/company/profile", headers=administrator)).json()["changes"]
    assert [change["status"] for change in history[:2]] == ["rejected", "approved"]
    assert history[0]["note"] == "该应用不属于贵企业"
