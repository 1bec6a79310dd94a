"""The filing limit is fair to complainants who share one address (a carrier's NAT): many different people
file from one address, while one person repeating, under the same ID number or the same phone, is limited.
Real HTTP, real MongoDB counters, requests at once."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from devstack.servers import serve
from intake.config import Settings
from intake.domain.identity import id_check_character
from intake.main import create_app

pytestmark = pytest.mark.integration

PER_COMPLAINANT = 3
PER_SOURCE = 70
STRANGERS = 61  # more than the old limit of 60 filings per address and hour

FORM = {
    "company": {"name": "迅联"},
    "category": "auto_renewal",
    "title": "会员自动续费未提醒",
    "description": "会员到期前未收到任何提醒即被扣费三十元，客服拒绝退款。",
    "occurred_on": "2026-10-01",
    "desired_outcome": "退还扣费并关闭自动续费",
}


def person(n: int) -> dict[str, str]:
    """A distinct complainant: a valid ID number (its check character computed) and phone of their own."""
    first17 = f"11010519800101{n:03d}"
    return {"name": "张三", "id_number": first17 + id_check_character(first17), "phone": f"139{n:08d}"}


@pytest.fixture(scope="module")
async def behind_nat(mongo_url, broker_namespace, run_id):
    """intake behind a trusted proxy (127.0.0.1): X-Forwarded-For names the address the filings come from."""
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_intake_filing_limits",
        evidence_url="http://127.0.0.1:9",
        routing_url="http://127.0.0.1:9",
        trusted_proxies=["127.0.0.1/32"],
        filings_per_ip_per_hour=PER_SOURCE,
        filings_per_complainant_per_hour=PER_COMPLAINANT,
        **broker_namespace.isolated("filing_limits").settings_for("intake"),
    )
    async with serve(create_app(settings)) as base_url, httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        yield client


def file(client: httpx.AsyncClient, complainant: dict[str, str], address: str):
    return client.post(
        "/v1/complaints", json={**FORM, "complainant": complainant}, headers={"X-Forwarded-For": address}
    )


async def test_sixty_one_strangers_behind_one_address_all_file(behind_nat):
    answers = await asyncio.gather(*(file(behind_nat, person(n), "100.64.0.7") for n in range(STRANGERS)))
    assert [answer.status_code for answer in answers] == [201] * STRANGERS, [
        a.text for a in answers if a.status_code != 201
    ]


async def test_one_complainant_repeating_is_limited_and_others_on_the_address_are_not(behind_nat):
    repeater = person(500)
    answers = await asyncio.gather(*(file(behind_nat, repeater, "100.64.0.8") for _ in range(PER_COMPLAINANT + 2)))
    assert sorted(answer.status_code for answer in answers) == [201] * PER_COMPLAINANT + [429] * 2, [
        a.text for a in answers
    ]
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "rate_limited" and int(refused.headers["Retry-After"]) >= 1
    # Another address does not help the repeater; the repeater does not hold back a neighbour.
    assert (await file(behind_nat, repeater, "198.51.100.20")).status_code == 429
    assert (await file(behind_nat, person(501), "100.64.0.8")).status_code == 201


async def test_a_new_id_number_with_the_same_phone_is_the_same_complainant(behind_nat):
    phone = person(600)["phone"]
    answers = [
        await file(behind_nat, {**person(600 + n), "phone": phone}, "100.64.0.9") for n in range(PER_COMPLAINANT + 1)
    ]
    assert [answer.status_code for answer in answers] == [201] * PER_COMPLAINANT + [429]


async def test_one_source_flooding_reaches_the_address_ceiling_and_ipv6_counts_per_64(behind_nat):
    # The addresses of one IPv6 /64 are one subscriber's: they share one window.
    answers = await asyncio.gather(
        *(file(behind_nat, person(700 + n), f"2001:db8:1:2::{n + 1:x}") for n in range(PER_SOURCE + 1))
    )
    assert sorted(answer.status_code for answer in answers) == [201] * PER_SOURCE + [429]
    # The next /64 is another subscriber.
    assert (await file(behind_nat, person(800), "2001:db8:1:3::1")).status_code == 201
