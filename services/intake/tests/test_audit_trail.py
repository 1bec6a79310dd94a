"""Every operator action leaves one audit entry (who, when, what, complaint, note, trace id) next to the
disclosures, against a real intake over SecantusDB: written with the action, once however often an idempotent
request is retried, never for an action that was refused; admins search it by operator, complaint, action and
time, and export it as CSV whose cells never start a formula.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from devstack.servers import serve
from intake.config import Settings
from intake.main import create_app

pytestmark = pytest.mark.integration

ADMIN = {"login": "admin", "password": "development-only-admin-password"}
PASSWORD = "a-long-password-1"
FORM = {
    "complainant": {"name": "赵六", "id_number": "11010519491231002X", "phone": "13512345678"},
    "company": {"name": "迅联"},
    "category": "refund",
    "title": "退款申请被拒绝",
    "description": "购买的课程无法使用，申请退款被客服拒绝。",
    "occurred_on": "2026-09-01",
    "desired_outcome": "全额退款",
}


@pytest.fixture(scope="module")
async def intake(mongo_url, broker_namespace, run_id):
    # Routing is unreachable: a complaint stays submitted, which an operator may reject by hand.
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_intake_audit_trail",
        evidence_url="http://127.0.0.1:9",
        notification_url="http://127.0.0.1:9",
        routing_url="http://127.0.0.1:9",
        admin_token="test-admin-token",
        log_json=False,
        **broker_namespace.isolated("intake-audit").settings_for("intake"),
    )
    async with serve(create_app(settings)) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client


def bearer(answer: httpx.Response) -> dict[str, str]:
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def test_each_action_and_reveal_leaves_one_entry_searchable_and_exported(intake):
    chief = bearer(await intake.post("/v1/ops/auth/token", json=ADMIN))
    created = await intake.post(
        "/v1/ops/operators", headers=chief, json={"login": "audit-clerk", "password": PASSWORD, "roles": ["operator"]}
    )
    assert created.status_code == 201, created.text
    clerk = bearer(await intake.post("/v1/ops/auth/token", json={"login": "audit-clerk", "password": PASSWORD}))
    started = datetime.now(UTC)
    number = (await intake.post("/v1/complaints", json=FORM)).json()["number"]
    other = (await intake.post("/v1/complaints", json=FORM)).json()["number"]

    note = '=HYPERLINK("http://x") 不属于受理范围'
    rejection = {"reason": "out_of_scope", "detail": note}
    key = {"Idempotency-Key": "audit-reject-1"}
    for _ in range(2):  # a retried request is done, and recorded, once
        rejected = await intake.post(f"/v1/ops/complaints/{number}/reject", headers={**clerk, **key}, json=rejection)
        assert rejected.status_code == 200, rejected.text
    refused = await intake.post(f"/v1/ops/complaints/{number}/reject", headers=clerk, json=rejection)
    assert refused.status_code == 409  # rejected already: refused, and not recorded
    reviewed = await intake.post(f"/v1/ops/complaints/{number}/review", headers=clerk)
    assert reviewed.status_code == 200, reviewed.text
    revealed = await intake.post(
        f"/v1/ops/complaints/{other}/reveal",
        headers=clerk,
        json={"field": "phone", "reason": "申诉调解需要电话联系投诉人"},
    )
    assert revealed.status_code == 200, revealed.text
    staff_change = await intake.put("/v1/ops/operators/audit-clerk/roles", headers=chief, json={"roles": ["operator"]})
    assert staff_change.status_code == 200, staff_change.text
    sent = await intake.post("/v1/public/feedback", json={"topic": "process", "text": "希望查询页面显示更多进度。"})
    assert sent.status_code == 201, sent.text
    handled = await intake.post(
        f"/v1/ops/feedback/{sent.json()['id']}/handle", headers=chief, json={"note": "已转产品组评估"}
    )
    assert handled.status_code == 200, handled.text
    revoked = await intake.delete("/v1/ops/api-keys/0123456789abcdef", headers=chief)
    assert revoked.status_code == 404  # no such key: nothing done, nothing recorded

    async def search(**params) -> list[dict]:
        answer = await intake.get("/v1/ops/audit", headers=chief, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()["items"]

    by_clerk = await search(operator="audit-clerk")
    assert [(entry["action"], entry["complaint"]) for entry in by_clerk] == [
        ("reveal", other),
        ("confirm_rejection", number),
        ("reject", number),
    ]
    reject = by_clerk[2]
    assert (reject["reason"], reject["detail"], reject["operator_login"]) == (note, "out_of_scope", "audit-clerk")
    assert reject["trace_id"] and len(reject["trace_id"]) == 32
    assert by_clerk[0]["field"] == "phone" and by_clerk[0]["reason"] == "申诉调解需要电话联系投诉人"
    assert [entry["action"] for entry in await search(complaint=number)] == ["confirm_rejection", "reject"]
    assert [entry["action"] for entry in await search(action="operator_roles")] == ["operator_roles"]
    assert [entry["target"] for entry in await search(action="operator_create")] == ["audit-clerk"]
    handling = await search(action="feedback_handle")
    assert [(entry["target"], entry["reason"]) for entry in handling] == [(sent.json()["id"], "已转产品组评估")]
    assert await search(action="api_key_revoke") == []
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert await search(since=later) == []
    assert await search(until=started.isoformat(), operator="audit-clerk") == []
    assert len(await search(since=started.isoformat(), operator="audit-clerk")) == 3
    # Operators do their work; reading the log is for admins.
    assert (await intake.get("/v1/ops/audit", headers=clerk)).status_code == 403

    exported = await intake.get("/v1/ops/audit", headers=chief, params={"operator": "audit-clerk", "format": "csv"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["action"] for row in rows] == ["reveal", "confirm_rejection", "reject"]
    assert rows[2]["reason"] == "'" + note  # a spreadsheet shows it as text, never runs it
    assert rows[2]["complaint"] == number and rows[0]["field"] == "phone"
