"""The typed Python client of the company API (clients/python/company-client), as a company uses it: over HTTP
against the running platform with its API key, it lists the complaints forwarded to it, reads one in full and
answers it. And the checked-in client is exactly what the generator writes from intake's current OpenAPI, so it
cannot fall behind the API."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "clients" / "python" / "generate.py"
CLIENT = ROOT / "clients" / "python" / "company-client"
# What running the client or a checker over it leaves in its folder (git ignores them): no part of the client.
CACHES = {"__pycache__", ".ruff_cache", ".mypy_cache", ".pytest_cache"}
# The client is a project of its own (not installed into the platform's environment): imported from its folder.
sys.path.insert(0, str(CLIENT))

from greenchannel_company_client import AuthenticatedClient  # noqa: E402
from greenchannel_company_client.api.company import (  # noqa: E402
    company_complaints_answer,
    company_complaints_get,
    company_complaints_list,
)
from greenchannel_company_client.models import (  # noqa: E402
    Answer,
    AnswerReceipt,
    AnswerResponseType,
    CompanyComplaint,
    CompanyInboxPage,
    Problem,
    Status,
)

ADMIN = {"login": "admin", "password": "development-only-admin-password"}
ID_NUMBER = "11010519491231002X"
FORM: dict[str, Any] = {
    "complainant": {
        "name": "钱八",
        "id_number": ID_NUMBER,
        "phone": "13822223333",
        "email": "qian@example.cn",
    },
    "category": "refund",
    "title": "会员费重复扣款",
    "description": "同一个月的会员费被扣了两次，联系客服后一直没有退回。",
    "occurred_on": "2026-11-02",
    "desired_outcome": "退回重复扣除的会员费",
}


async def forwarded_complaint(platform) -> tuple[str, str]:
    """A complaint filed against a directory company and forwarded to it; its number and the company's id."""
    company = (await platform.routing.get("/v1/companies", params={"q": "迅联"})).json()["items"][0]
    filed = await platform.intake.post("/v1/complaints", json={**FORM, "company": {"name": company["name"]}})
    assert filed.status_code == 201, filed.text
    number, access = filed.json()["number"], {"X-Access-Code": filed.json()["access_code"]}
    deadline = asyncio.get_running_loop().time() + 30
    while (await platform.intake.get(f"/v1/complaints/{number}", headers=access)).json()["status"] != "forwarded":
        assert asyncio.get_running_loop().time() < deadline, f"{number} was not forwarded"
        await asyncio.sleep(0.1)
    return number, company["id"]


async def api_key(platform, company_id: str) -> str:
    token = (await platform.intake.post("/v1/ops/auth/token", json=ADMIN)).json()["access_token"]
    issued = await platform.intake.post(
        f"/v1/ops/companies/{company_id}/api-keys",
        json={"label": "client"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert issued.status_code == 201, issued.text
    return issued.json()["api_key"]


@pytest.mark.e2e
async def test_a_company_lists_reads_and_answers_with_the_generated_client(platform):
    number, company_id = await forwarded_complaint(platform)
    key = await api_key(platform, company_id)
    base_url = str(platform.intake.base_url).rstrip("/")

    async with AuthenticatedClient(base_url=base_url, token=key, prefix="", auth_header_name="X-Api-Key") as client:
        page = await company_complaints_list.asyncio(client=client, status=Status.FORWARDED)
        assert isinstance(page, CompanyInboxPage)
        assert number in [item.number for item in page.items]
        listed = next(item for item in page.items if item.number == number)
        assert listed.status is Status.FORWARDED and listed.company.id == company_id and listed.overdue is False

        complaint = await company_complaints_get.asyncio(number, client=client)
        assert isinstance(complaint, CompanyComplaint)
        assert complaint.title == FORM["title"] and complaint.status is Status.FORWARDED
        assert complaint.complainant.name == "钱八" and complaint.complainant.phone == "+8613822223333"
        assert complaint.complainant.id_number != ID_NUMBER  # masked
        assert complaint.response is None and complaint.round_ == 1

        answer = Answer(response_type=AnswerResponseType.MONETARY_RELIEF, text="已核实重复扣款，3 个工作日内退回。")
        receipt = await company_complaints_answer.asyncio(number, client=client, body=answer, idempotency_key="a1")
        assert isinstance(receipt, AnswerReceipt)
        assert receipt.number == number and receipt.status is Status.RESPONDED and receipt.timely is True

        answered = await company_complaints_get.asyncio(number, client=client)
        assert isinstance(answered, CompanyComplaint) and answered.response is not None
        assert answered.response.type_ == "monetary_relief" and answered.response.text == answer.text

        # A refusal arrives typed too: the problem document with the code a client branches on.
        unknown = await company_complaints_get.asyncio_detailed("GC-NO-SUCH-NUMBER", client=client)
        assert (
            unknown.status_code == 404
            and isinstance(unknown.parsed, Problem)
            and unknown.parsed.code == "complaint_not_found"
        )

    async with AuthenticatedClient(base_url=base_url, token="gck_x_y", prefix="", auth_header_name="X-Api-Key") as bad:
        refused = await company_complaints_list.asyncio_detailed(client=bad)
        assert refused.status_code == 401 and isinstance(refused.parsed, Problem)


def test_the_checked_in_client_is_what_the_generator_writes_from_the_current_api(tmp_path):
    subprocess.run([sys.executable, str(GENERATOR), str(tmp_path / "client")], check=True, capture_output=True)

    def files(root: Path) -> dict[str, bytes]:
        return {
            str(path.relative_to(root)): path.read_bytes()
            for path in sorted(root.rglob("*"))
            if path.is_file() and not CACHES & set(path.parts)
        }

    generated, checked_in = files(tmp_path / "client"), files(CLIENT)
    assert sorted(generated) == sorted(checked_in), "files differ: run `make client`"
    stale = [name for name in generated if generated[name] != checked_in[name]]
    assert not stale, f"the checked-in client differs from the API in {stale}: run `make client`"
