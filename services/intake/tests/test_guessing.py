"""Guessing access codes and passwords over HTTP against a served intake: strangers slow themselves down but
never lock the owner out, concurrency buys no extra guesses, the event loop keeps serving while Argon2
runs, and many addresses failing at one secret raise ``access.guessing_detected``.

The test client stands for a trusted proxy (127.0.0.1): each attacker is an X-Forwarded-For address of
its own. The backoff's base is ten minutes, so nothing here depends on how fast the machine is.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from pymongo import AsyncMongoClient

from devstack.accounts import create_account
from devstack.eventtap import event_tap
from devstack.servers import serve
from greenchannel.problems import Problem
from intake.adapters.guesses import GuessGuard
from intake.config import Settings
from intake.domain.guessing import Backoff, GuessPolicy, SecretKind
from intake.main import create_app

pytestmark = pytest.mark.integration

FORM = {
    "complainant": {"name": "钱七", "id_number": "11010519491231002X", "phone": "13512345679"},
    "company": {"name": "迅联"},
    "category": "refund",
    "title": "会员自动续费",
    "description": "未经同意自动续费会员，要求退款。",
    "occurred_on": "2026-09-01",
    "desired_outcome": "退款",
}
FREE_PER_PAIR = 3
FREE_PER_ADDRESS = 8
CEILING = 10
ALERT_SOURCES = 5
BASE_S = 600.0
PASSWORD = "the-owners-password"


@pytest.fixture(scope="module")
async def intake(mongo_url, broker_namespace, run_id):
    namespace = broker_namespace.isolated("intake-guessing")
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_intake_guessing",
        outbox_poll_interval_s=0.1,
        evidence_url="http://127.0.0.1:9",
        trusted_proxies=["127.0.0.1/32"],
        guess_free_failures_per_pair=FREE_PER_PAIR,
        guess_free_failures_per_ip=FREE_PER_ADDRESS,
        guess_backoff_base_s=BASE_S,
        guess_target_ceiling_per_hour=CEILING,
        guess_alert_sources_per_hour=ALERT_SOURCES,
        **namespace.settings_for("intake"),
    )
    app = create_app(settings)
    async with (
        event_tap(namespace.amqp_url, namespace.exchange, ["access.*"]) as tap,
        serve(app) as base_url,
        httpx.AsyncClient(
            base_url=base_url, timeout=30, limits=httpx.Limits(max_connections=100, keepalive_expiry=2)
        ) as client,
    ):
        client.tap, client.app = tap, app
        yield client


def source(n: int, net: int = 0) -> dict[str, str]:
    return {"X-Forwarded-For": f"10.{net}.{n // 250}.{n % 250 + 1}"}


async def code_attempt(intake, number: str, code: str, headers: dict[str, str]) -> httpx.Response:
    return await intake.get(f"/v1/complaints/{number}", headers={"X-Access-Code": code, **headers})


async def test_strangers_guessing_a_code_never_lock_its_owner_out(intake):
    filed = (await intake.post("/v1/complaints", json=FORM, headers=source(0, 1))).json()
    number, code = filed["number"], filed["access_code"]
    attackers, tries = 20, FREE_PER_PAIR + 3
    answers = [
        [(await code_attempt(intake, number, f"WRONG{n:02d}{t:03d}", source(n, 2))).status_code for t in range(tries)]
        for n in range(attackers)
    ]
    wrong = sum(row.count(404) for row in answers)
    refused = sum(row.count(429) for row in answers)
    assert wrong + refused == attackers * tries
    # Until the target drew CEILING failures each address had its free failures (and one more that set the
    # wait); past the ceiling, two each.
    first_pairs = -(-CEILING // (FREE_PER_PAIR + 1))
    assert wrong <= first_pairs * (FREE_PER_PAIR + 1) + (attackers - first_pairs) * 2 < attackers * (FREE_PER_PAIR + 1)
    assert all(row[0] == 404 for row in answers)  # a new address is always heard

    # A throttled address is refused before its code is checked: even the right code gets 429 there.
    throttled = await code_attempt(intake, number, code, source(0, 2))
    assert throttled.status_code == 429 and throttled.json()["code"] == "rate_limited"
    assert int(throttled.headers["Retry-After"]) > BASE_S / 2

    # The owner, from an address of their own, is in at once: after {wrong} wrong codes from {attackers} addresses.
    owner = await code_attempt(intake, number, code, source(0, 3))
    assert owner.status_code == 200, owner.text
    assert owner.json()["number"] == number

    # Operators hear of it once: the failure from the ALERT_SOURCES-th distinct address raised the event.
    alert = await intake.tap.wait_for("access.guessing_detected", subject=number)
    assert alert.event.data["secret"] == "access_code" and alert.event.data["number"] == number
    assert alert.event.data["distinct_sources"] == ALERT_SOURCES
    await asyncio.sleep(0.5)
    assert len(intake.tap.events("access.guessing_detected", subject=number)) == 1
    print(
        f"{attackers * tries} wrong codes from {attackers} addresses: {wrong} checked, {refused} refused; "
        "the owner in at the first try"
    )


async def test_one_address_guessing_across_many_complaints_slows_down(intake):
    address = source(7, 4)
    answers = [
        (await code_attempt(intake, f"GC-20260101-{n:06d}", "WRONGCODE2", address)).status_code
        for n in range(FREE_PER_ADDRESS + 4)
    ]
    # Each number is new to it, but the address's own failures count too.
    assert answers == [404] * (FREE_PER_ADDRESS + 1) + [429] * 3
    # Another address is not affected.
    assert (await code_attempt(intake, "GC-20260101-000001", "WRONGCODE2", source(8, 4))).status_code == 404


async def sign_in(intake, login: str, password: str, headers: dict[str, str]) -> httpx.Response:
    # Argon2 costs up to a second of CPU per check on a busy machine: sixty queue for a while.
    return await intake.post(
        "/v1/auth/token", json={"login": login, "password": password}, headers=headers, timeout=300
    )


async def test_wrong_passwords_from_strangers_never_lock_out_the_owner(intake):
    login = "13700000001"  # a phone number: the company sees it, anyone may try it
    await create_account(intake.app, login, PASSWORD)
    statuses = [
        (await sign_in(intake, login, f"guess-number-{n}-{t}", source(n, 6))).status_code
        for n in range(12)
        for t in range(FREE_PER_PAIR + 2)
    ]
    assert set(statuses) == {401, 429}
    blocked = await sign_in(intake, login, PASSWORD, source(0, 6))
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0  # not even checked there
    owner = await sign_in(intake, login, PASSWORD, source(2, 5))
    assert owner.status_code == 200 and owner.json()["token_type"] == "bearer"
    # The owner's own typo on the way in costs nothing extra once the right password follows.
    assert (await sign_in(intake, login, "a-typo-of-the-owner", source(3, 5))).status_code == 401
    assert (await sign_in(intake, login, PASSWORD, source(3, 5))).status_code == 200


async def test_concurrent_wrong_passwords_get_no_more_checks_than_sequential_ones(intake):
    for login in ("storm-1@example.cn", "steady-1@example.cn"):
        await create_account(intake.app, login, PASSWORD)
    concurrent = await asyncio.gather(
        *(sign_in(intake, "storm-1@example.cn", f"wrong-password-{n}", source(1, 8)) for n in range(60))
    )
    sequential = [await sign_in(intake, "steady-1@example.cn", f"wrong-password-{n}", source(2, 8)) for n in range(60)]
    checked = [response.status_code for response in concurrent].count(401)
    assert {response.status_code for response in concurrent} == {401, 429}
    assert checked == [response.status_code for response in sequential].count(401) == FREE_PER_PAIR + 1
    print(f"60 concurrent wrong passwords from one address: {checked} Argon2 checks (60 sequential: as many)")


async def test_the_event_loop_keeps_serving_while_argon2_checks_a_storm(intake):
    login = "storm-2@example.cn"
    await create_account(intake.app, login, PASSWORD)
    latencies: list[float] = []
    storm = asyncio.gather(*(sign_in(intake, login, f"wrong-password-{n}", source(n, 10)) for n in range(60)))
    storming = asyncio.ensure_future(storm)
    while not storming.done():
        started = time.perf_counter()
        assert (await intake.get("/healthz")).status_code == 200
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.02)
    answers = storming.result()
    # Sixty addresses, each new to the login: every guess is checked (the ceiling slows, never refuses a first try).
    assert [response.status_code for response in answers].count(401) == 60
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    assert len(latencies) >= 10 and p99 < 1.0, latencies[-5:]
    print(
        f"healthz during 60 concurrent Argon2 checks: {len(latencies)} probes, p99 {p99 * 1000:.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms"
    )


async def test_the_owners_concurrent_attempts_are_never_refused(mongo_url, run_id):
    """A follow page asks for a case, its messages and its files at once, with the right code: while their
    count stays within the free failures, none of them may be refused, however the reservations of concurrent
    attempts interleave (each right attempt gives its reservation back)."""
    client = AsyncMongoClient(mongo_url)
    free = 64
    backoff = Backoff(free=free, base_s=BASE_S, max_s=BASE_S * 8)
    policy = GuessPolicy(backoff, backoff, target_ceiling=10_000, alert_sources=ALERT_SOURCES, window_s=3600)

    async def no_alert(*_: object) -> None:
        raise AssertionError("a right code alerts nobody")

    guard = GuessGuard(client[f"t{run_id}_intake_guessing_owner"], policy, no_alert)
    refused: list[str] = []

    async def owner(n: int) -> None:
        for _ in range(8):
            try:
                reservation = await guard.reserve(SecretKind.ACCESS_CODE, "GC-20260101-000042", "10.9.9.9")
            except Problem as problem:
                refused.append(f"{n}: {problem.detail}")
                continue
            await guard.succeeded(reservation)

    try:
        await asyncio.gather(*[owner(n) for n in range(24)])
    finally:
        await client.close()
    assert refused == []
