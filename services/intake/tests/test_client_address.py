"""Which address a request counts for, and the limit on public reads, over real HTTP from 127.0.0.1: once
as a trusted proxy (its X-Forwarded-For names the client), once as an untrusted peer (the header is a lie
anyone can tell, and is ignored)."""

from __future__ import annotations

import asyncio
from ipaddress import ip_network

import httpx
import pytest

from devstack.servers import serve
from intake.api.client_address import client_address
from intake.config import Settings
from intake.main import create_app

pytestmark = pytest.mark.integration

BURST = 4
TRUSTED = [ip_network("127.0.0.1/32"), ip_network("10.0.0.0/8")]
PUBLIC_READS = (
    "/v1/public/statistics/summary",
    "/v1/public/complaints",
    "/v1/public/rankings",
    "/v1/public/open-data/complaints.csv",
    "/v1/complaints/GC-20260101-000001",
)


def test_the_first_untrusted_hop_from_the_right_is_the_client():
    assert client_address("127.0.0.1", ["203.0.113.9"], TRUSTED) == "203.0.113.9"
    # Whatever the client wrote itself stands left of the hop the proxies saw: it is never reached.
    assert client_address("127.0.0.1", ["1.2.3.4, 203.0.113.9, 10.1.2.3"], TRUSTED) == "203.0.113.9"
    assert client_address("127.0.0.1", ["1.2.3.4", "203.0.113.9,10.1.2.3"], TRUSTED) == "203.0.113.9"
    assert client_address("198.51.100.7", ["203.0.113.9"], TRUSTED) == "198.51.100.7"  # untrusted peer
    assert client_address("127.0.0.1", [], TRUSTED) == "127.0.0.1"
    assert client_address("127.0.0.1", ["10.0.0.5, 10.0.0.6"], TRUSTED) == "10.0.0.5"  # only proxies: the farthest
    assert client_address("127.0.0.1", ["garbage"], TRUSTED) == "127.0.0.1"  # a proxy wrote no address
    assert client_address("127.0.0.1", ["not-an-ip, 203.0.113.9"], TRUSTED) == "203.0.113.9"
    assert client_address("127.0.0.1", ["2001:db8::1"], TRUSTED) == "2001:db8::1"
    assert client_address("::ffff:127.0.0.1", ["203.0.113.9"], TRUSTED) == "203.0.113.9"
    assert client_address("127.0.0.1", ["203.0.113.9"], []) == "127.0.0.1"  # nothing trusted: the peer


@pytest.fixture(scope="module")
async def served(mongo_url, broker_namespace, run_id):
    """Two intakes on one store: one trusts 127.0.0.1 as its proxy, the other trusts nobody."""

    def settings(name: str, trusted: list[str]) -> Settings:
        return Settings(
            mongo_url=mongo_url,
            mongo_db=f"t{run_id}_intake_{name}",
            evidence_url="http://127.0.0.1:9",
            routing_url="http://127.0.0.1:9",
            trusted_proxies=trusted,
            public_read_burst=BURST,
            public_reads_per_ip_per_minute=1,
            **broker_namespace.isolated(name).settings_for("intake"),
        )

    async with (
        serve(create_app(settings("behind_proxy", ["127.0.0.1/32"]))) as trusting,
        serve(create_app(settings("exposed", []))) as exposed,
        httpx.AsyncClient(base_url=trusting, timeout=30) as behind_proxy,
        httpx.AsyncClient(base_url=exposed, timeout=30) as untrusting,
    ):
        yield behind_proxy, untrusting


async def test_public_reads_are_limited_per_client_behind_a_trusted_proxy(served):
    behind_proxy, _ = served
    client = {"X-Forwarded-For": "198.51.100.1"}
    answers = [await behind_proxy.get(path, headers=client) for path in PUBLIC_READS]
    assert all(answer.status_code != 429 for answer in answers[:BURST])
    refused = answers[BURST]
    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "rate_limited" and int(refused.headers["Retry-After"]) >= 1
    # Every public read counts: the status lookup and the open data as much as the results.
    for path in PUBLIC_READS:
        assert (await behind_proxy.get(path, headers=client)).status_code == 429, path
    # Another client behind the same proxy has its own bucket.
    assert (await behind_proxy.get(PUBLIC_READS[0], headers={"X-Forwarded-For": "198.51.100.2"})).status_code == 200
    # A client cannot get a fresh bucket by writing its own X-Forwarded-For: the proxy appends the real address.
    spoofed = {"X-Forwarded-For": "192.0.2.77, 198.51.100.1"}
    assert (await behind_proxy.get(PUBLIC_READS[0], headers=spoofed)).status_code == 429
    # An IPv6 subscriber's addresses share its /64's bucket: a new address from it is no new bucket.
    statuses = [
        (await behind_proxy.get(PUBLIC_READS[0], headers={"X-Forwarded-For": f"2001:db8:5:6::{n}"})).status_code
        for n in range(1, BURST + 2)
    ]
    assert statuses == [200] * BURST + [429]
    assert (await behind_proxy.get(PUBLIC_READS[0], headers={"X-Forwarded-For": "2001:db8:5:7::1"})).status_code == 200
    # Concurrent reads take one token each, never more than the bucket holds.
    burst = await asyncio.gather(
        *(behind_proxy.get(PUBLIC_READS[0], headers={"X-Forwarded-For": "198.51.100.3"}) for _ in range(3 * BURST))
    )
    assert sorted(answer.status_code for answer in burst) == [200] * BURST + [429] * (2 * BURST)


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(served):
    _, untrusting = served
    statuses = [
        (await untrusting.get(PUBLIC_READS[0], headers={"X-Forwarded-For": f"198.51.100.{n}"})).status_code
        for n in range(1, BURST + 3)
    ]
    # Each request claimed another address; all counted for the peer, 127.0.0.1.
    assert statuses == [200] * BURST + [429] * 2
    assert (await untrusting.get(PUBLIC_READS[0])).status_code == 429
    # What is not a public read is not limited by it.
    assert (await untrusting.get("/healthz")).status_code == 200
    assert (await untrusting.get("/v1/public/open-data/schema")).status_code == 429
