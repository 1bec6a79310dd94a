"""What the public may keep: Cache-Control, validators and 304s of every public read, over HTTP against the
real stand-ins, with routing and evidence running (the directory and the evidence limits answer for real).

Every operation of the gateway's OpenAPI is called: the public reads answer ``public`` with a strong ETag,
Last-Modified and a Surrogate-Key and revalidate to 304, everything else answers ``private, no-store``.
A revalidation that matches what this process remembers is answered without reading the store; a rating or
an appeal (through the projection) changes the record's ETag at once; nobody's answer is ever shareable.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import httpx
import pytest

from devstack import standins
from devstack.eventtap import event_tap
from devstack.servers import serve
from evidence.config import Settings as EvidenceSettings
from evidence.main import create_app as evidence_app
from greenchannel.contracts import CloudEvent, ClusterJoined, ComplaintScreened, SlaPublicationDue, WebhookDelivered
from intake.api import caching
from intake.config import Settings
from intake.domain.statistics import CHINA
from intake.main import create_app
from routing.config import Settings as RoutingSettings
from routing.main import create_app as routing_app

pytestmark = pytest.mark.integration

FORM = {
    "complainant": {"name": "钱七", "id_number": "440105194912310026", "phone": "13512345670"},
    "company": {"name": "缓存测试"},
    "category": "refund",
    "title": "会员自动续费未提醒",
    "description": "会员到期前没有任何提醒就被自动扣费，申请退款被拒绝。",
    "occurred_on": "2026-09-01",
    "desired_outcome": "退还扣费",
    "publication_consent": True,
}
COMPANY = "c-cache"
ADMIN = {"login": "admin", "password": "development-only-admin-password"}
STRONG_ETAG = re.compile(r'^"[0-9a-f]{32}"$')
# The public reads (path templates of the OpenAPI), written out here rather than taken from the policy table,
# so a route dropped from the table or added to it by mistake fails this test.
PUBLIC_READS = {
    "/v1/public/complaints",
    "/v1/public/complaints/{number}",
    "/v1/public/clusters/{cluster_id}",
    "/v1/public/statistics",
    "/v1/public/statistics/summary",
    "/v1/public/companies/{company_id}/scorecard",
    "/v1/public/rankings",
    "/v1/public/companies",
    "/v1/public/categories",
    "/v1/public/pages",
    "/v1/public/pages/{slug}",
    "/v1/public/open-data/schema",
    "/v1/evidence/limits",
}
# Streamed exports: shareable, but no validators (the body is not held to hash it).
STREAMED_READS = {"/v1/public/open-data/complaints.csv", "/v1/public/open-data/complaints.jsonl"}
PUBLIC_PAGES = [
    "/",
    "/file",
    "/public",
    "/public/results",
    "/public/companies",
    "/public/statistics",
    "/public/rankings",
    "/public/feedback",
    "/public/companies/c-cache",
    "/public/pages/how-it-works",
]
PRIVATE_PAGES = ["/follow", "/account", "/account/login", "/account/register", "/account/messages", "/file/receipt"]


@pytest.fixture(scope="module")
async def gateway(mongo_url, s3_endpoint, broker_namespace, run_id):
    """intake driven by events the way routing and notification publish them; routing and evidence run in
    namespaces of their own (they answer intake's HTTP calls, and never see its complaints)."""
    namespace = broker_namespace.isolated("intake-caching")
    routing = routing_app(
        RoutingSettings(
            mongo_url=mongo_url,
            mongo_db=f"t{run_id}_routing_caching",
            **broker_namespace.isolated("caching-routing").settings_for("routing"),
        )
    )
    evidence = evidence_app(
        EvidenceSettings(
            mongo_url=mongo_url,
            mongo_db=f"t{run_id}_evidence_caching",
            s3_endpoint=s3_endpoint,
            s3_access_key=standins.S3_ACCESS_KEY,
            s3_secret_key=standins.S3_SECRET_KEY,
            s3_bucket=f"cache-{run_id}",
            **broker_namespace.isolated("caching-evidence").settings_for("evidence"),
        )
    )
    async with serve(routing) as routing_url, serve(evidence) as evidence_url:
        settings = Settings(
            mongo_url=mongo_url,
            mongo_db=f"t{run_id}_intake_caching",
            outbox_poll_interval_s=0.1,
            evidence_url=evidence_url,
            routing_url=routing_url,
            rate_limits_enabled=False,
            # Caching of figures that follow each fold: the public figures as they change.
            public_statistics_refresh=timedelta(0),
            public_statistics_min_count=1,
            **namespace.settings_for("intake"),
        )
        app = create_app(settings)
        async with (
            event_tap(namespace.amqp_url, namespace.exchange, ["complaint.*"]) as tap,
            serve(app) as base_url,
            httpx.AsyncClient(base_url=base_url, timeout=15) as client,
        ):
            await tap.wait_for_consumer(f"{namespace.queue_prefix}.intake")
            for url in (routing_url, evidence_url):
                await until(lambda url=url: ready(client, url), "the directory and evidence to be ready")
            client.app, client.tap = app, tap
            yield client


async def ready(client: httpx.AsyncClient, url: str) -> bool:
    return (await client.get(f"{url}/readyz")).status_code == 200


async def until(check, what: str, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def file_and_forward(client) -> tuple[str, dict[str, str]]:
    filed = (await client.post("/v1/complaints", json=FORM)).json()
    number = filed["number"]
    now = datetime.now(UTC)
    await client.tap.publish(
        CloudEvent.wrap(
            ComplaintScreened(
                number=number,
                decision="accepted",
                company_id=COMPANY,
                company_name="缓存测试公司",
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
                company_id=COMPANY,
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
    return number, {"X-Access-Code": filed["access_code"]}


async def answered(client) -> tuple[str, dict[str, str]]:
    """A complaint the company answered: published, open to a rating or an appeal."""
    number, guest = await file_and_forward(client)
    key = await client.app.state.intake.identities.issue_api_key(COMPANY, "test", "test")
    response = await client.post(
        f"/v1/company/complaints/{number}/response",
        headers={"X-Api-Key": key["api_key"]},
        json={"response_type": "explained", "text": "已说明自动续费规则。"},
    )
    assert response.status_code == 200, response.text
    await client.tap.wait_for("complaint.published", subject=number)
    return number, guest


@pytest.fixture(scope="module")
async def published(gateway) -> dict[str, str]:
    """Two answered complaints, one of them in a published collective complaint."""
    first, guest = await answered(gateway)
    second, _ = await answered(gateway)
    cluster_id = f"CL-{first}"
    joined = await gateway.tap.publish(
        CloudEvent.wrap(
            ClusterJoined(cluster_id=cluster_id, number=first, company_id=COMPANY, size=1, joined_at=datetime.now(UTC)),
            source="/t",
            subject=first,
        )
    )
    await until(lambda: gateway.app.state.runtime.db["inbox"].find_one({"_id": joined.id}), "the cluster to be joined")
    await gateway.app.state.public_data.statistics.fold_all()
    return {
        "number": first,
        "other": second,
        "cluster_id": cluster_id,
        "company_id": COMPANY,
        "access_code": guest["X-Access-Code"],
    }


def assert_shareable(response: httpx.Response, max_age: int, what: str) -> None:
    assert response.status_code == 200, (what, response.status_code, response.text[:200])
    assert response.headers["cache-control"] == f"public, max-age={max_age}", what
    assert STRONG_ETAG.match(response.headers["etag"]), what
    assert parsedate_to_datetime(response.headers["last-modified"]) <= datetime.now(UTC), what
    assert response.headers["surrogate-key"], what


def assert_private(response: httpx.Response, what: str) -> None:
    cache_control = response.headers.get("cache-control", "")
    assert "no-store" in cache_control and "public" not in cache_control, (what, response.status_code, cache_control)
    assert response.status_code != 304 and "etag" not in response.headers and "surrogate-key" not in response.headers, (
        what
    )


async def test_each_public_read_says_how_long_and_revalidates(gateway, published):
    number, company_id = published["number"], published["company_id"]
    reads = {
        f"/v1/public/complaints/{number}": (caching.RECORD_MAX_AGE_S, f"complaint/{number}"),
        "/v1/public/complaints": (caching.LIST_MAX_AGE_S, "complaints"),
        f"/v1/public/complaints?company_id={company_id}": (caching.LIST_MAX_AGE_S, f"company/{company_id}"),
        f"/v1/public/clusters/{published['cluster_id']}": (
            caching.RECORD_MAX_AGE_S,
            f"cluster/{published['cluster_id']}",
        ),
        "/v1/public/statistics": (caching.FIGURES_MAX_AGE_S, "statistics"),
        "/v1/public/statistics/summary": (caching.FIGURES_MAX_AGE_S, "statistics"),
        "/v1/public/rankings": (caching.FIGURES_MAX_AGE_S, "statistics"),
        f"/v1/public/companies/{company_id}/scorecard": (caching.FIGURES_MAX_AGE_S, f"company/{company_id}"),
        "/v1/public/categories": (caching.REFERENCE_MAX_AGE_S, "directory"),
        "/v1/public/pages": (caching.REFERENCE_MAX_AGE_S, "pages"),
        "/v1/evidence/limits": (caching.REFERENCE_MAX_AGE_S, "evidence-limits"),
        "/": (caching.REFERENCE_MAX_AGE_S, "web"),
    }
    for path, (max_age, key) in reads.items():
        first = await gateway.get(path)
        assert_shareable(first, max_age, path)
        assert key in first.headers["surrogate-key"].split(), path
        etag, last_modified = first.headers["etag"], first.headers["last-modified"]
        # The client's copy is current: 304, no body, the same validators.
        for headers in (
            {"If-None-Match": etag},
            {"If-None-Match": f'"other", W/{etag}'},
            {"If-None-Match": "*"},
            {"If-Modified-Since": last_modified},
        ):
            again = await gateway.get(path, headers=headers)
            assert again.status_code == 304 and again.content == b"", (path, headers)
            assert (again.headers["etag"], again.headers["cache-control"]) == (etag, first.headers["cache-control"])
        # A copy that is not current (another ETag, an older date, a date that is no date): the whole answer.
        older = format_datetime(parsedate_to_datetime(last_modified) - timedelta(seconds=1), usegmt=True)
        for headers in (
            {"If-None-Match": '"0123456789abcdef0123456789abcdef"'},
            {"If-Modified-Since": older},
            {"If-Modified-Since": "yesterday"},
            {"If-Modified-Since": format_datetime(datetime.now(UTC) + timedelta(days=1), usegmt=True)},
            # If-None-Match decides when both are sent (RFC 9110).
            {"If-None-Match": '"stale"', "If-Modified-Since": last_modified},
        ):
            full = await gateway.get(path, headers=headers)
            assert full.status_code == 200 and full.content == first.content and full.headers["etag"] == etag, (
                path,
                headers,
            )


async def test_a_matching_revalidation_does_not_read_the_store_and_holds_no_longer_than_max_age(gateway, published):
    """The record is changed in the store behind the projection's back: a revalidation still answers 304
    (nothing was read), a plain request shows the change; once max-age has passed the 304 is gone too."""
    number = published["other"]
    path = f"/v1/public/complaints/{number}"
    before = await gateway.get(path)
    records = gateway.app.state.public_data.records.records
    await records.update_one({"_id": number}, {"$set": {"response_type": "declined"}})
    try:
        assert (await gateway.get(path, headers={"If-None-Match": before.headers["etag"]})).status_code == 304
        now = await gateway.get(path)
        assert now.json()["response_type"] == "declined" and now.headers["etag"] != before.headers["etag"]
        await records.update_one({"_id": number}, {"$set": {"response_type": "explained"}})
        assert (await gateway.get(path, headers={"If-None-Match": now.headers["etag"]})).status_code == 304
        validators = gateway.app.state.validators
        real_clock = validators.clock
        # Half-way: still 304, aged by the time since the store was read, so no copy outlives max-age.
        validators.clock = lambda: real_clock() + caching.RECORD_MAX_AGE_S / 2
        try:
            halfway = await gateway.get(path, headers={"If-None-Match": now.headers["etag"]})
            assert halfway.status_code == 304 and int(halfway.headers["age"]) >= caching.RECORD_MAX_AGE_S / 2
            validators.clock = lambda: real_clock() + caching.RECORD_MAX_AGE_S
            late = await gateway.get(path, headers={"If-None-Match": now.headers["etag"]})
        finally:
            validators.clock = real_clock
        assert late.status_code == 200 and late.headers["etag"] == before.headers["etag"]
    finally:
        await records.update_one({"_id": number}, {"$set": {"response_type": "explained"}})


async def test_a_rating_or_an_appeal_changes_the_etag_at_once(gateway, published):
    # A satisfied rating closes the case; an unsatisfied one keeps it answered (open to an appeal) but is shown.
    expected = {4: ("closed", 4), 2: ("responded", 2), None: ("appealed", None)}
    for action, body in (
        ("rating", {"rating": 4}),
        ("rating", {"rating": 2}),
        ("appeal", {"reason": "公司的说明与事实不符。"}),
    ):
        number, guest = await answered(gateway)
        record, listing = f"/v1/public/complaints/{number}", f"/v1/public/complaints?company_id={COMPANY}"
        shown = {path: await gateway.get(path) for path in (record, listing)}
        for path, response in shown.items():
            assert (await gateway.get(path, headers={"If-None-Match": response.headers["etag"]})).status_code == 304

        # Revalidations racing the change: whatever they answer, none may outlive it.
        racing = [
            gateway.get(path, headers={"If-None-Match": shown[path].headers["etag"]})
            for path in (record, listing)
            for _ in range(8)
        ]
        changed, *_ = await asyncio.gather(
            gateway.post(f"/v1/complaints/{number}/{action}", json=body, headers=guest), *racing
        )
        assert changed.status_code == 200, changed.text
        for path, response in shown.items():
            after = await gateway.get(path, headers={"If-None-Match": response.headers["etag"]})
            assert after.status_code == 200 and after.headers["etag"] != response.headers["etag"], (action, path)
        now = (await gateway.get(record)).json()
        assert (now["status"], now.get("rating")) == expected[body.get("rating")], now


async def test_figures_kept_a_moment_follow_a_fold_at_once(gateway, published):
    await gateway.app.state.public_data.statistics.fold_all()
    summary = (await gateway.get("/v1/public/statistics/summary")).json()
    assert (await gateway.get("/v1/public/statistics/summary")).json() == summary  # kept: the same answer
    number, _ = await file_and_forward(gateway)
    await gateway.tap.publish(
        CloudEvent.wrap(
            SlaPublicationDue(
                number=number,
                company_id=COMPANY,
                forwarded_at=datetime.now(UTC),
                due=datetime.now(CHINA).date(),
                raised_at=datetime.now(UTC),
            ),
            source="/t",
            subject=number,
        )
    )
    await gateway.tap.wait_for("complaint.published", subject=number)
    await gateway.app.state.public_data.statistics.fold_all()
    assert (await gateway.get("/v1/public/statistics/summary")).json()["published"] == summary["published"] + 1
    listed = (await gateway.get("/v1/public/complaints")).json()["items"]
    assert listed[0]["number"] == number
    # Many readers at once after a purge: one computes, the others get the same answer.
    gateway.app.state.validators.purge([caching.STATISTICS])
    together = await asyncio.gather(*(gateway.get("/v1/public/rankings") for _ in range(16)))
    assert {response.status_code for response in together} == {200}
    assert len({(response.headers["etag"], response.content) for response in together}) == 1


def concrete(path: str, published: dict[str, str], slug: str) -> str:
    values = {
        "number": published["number"],
        "cluster_id": published["cluster_id"],
        "company_id": COMPANY,
        "slug": slug,
        "action": "pause",
    }
    return re.sub(r"\{(\w+)\}", lambda match: values.get(match[1], "x1"), path)


async def test_every_operation_of_the_gateway_is_private_unless_it_is_a_public_read(gateway, published):
    slug = (await gateway.get("/v1/public/pages")).json()["items"][0]["slug"]
    operations = [(method.upper(), path) for path, item in gateway.app.openapi()["paths"].items() for method in item]
    assert len(operations) > 60 and {path for _, path in operations} >= PUBLIC_READS | STREAMED_READS
    # Every non-public operation called as a stranger and with someone's credentials: never shareable.
    guest = {"X-Access-Code": published["access_code"]}
    operator = await gateway.post("/v1/ops/auth/token", json=ADMIN)
    staff = {"Authorization": f"Bearer {operator.json()['access_token']}"}
    checked = 0
    for method, template in operations:
        path = concrete(template, published, slug)
        if method == "GET" and template in PUBLIC_READS:
            response = await gateway.get(path)
            assert_shareable(response, response_max_age(response), template)
            assert (await gateway.get(path, headers={"If-None-Match": response.headers["etag"]})).status_code == 304
        elif method == "GET" and template in STREAMED_READS:
            response = await gateway.get(path)
            assert response.status_code == 200 and response.headers["cache-control"].startswith("public, max-age=")
            assert "open-data" in response.headers["surrogate-key"].split()
        else:
            for headers in ({}, guest, staff):
                response = await gateway.request(
                    method,
                    path,
                    headers={**headers, "If-None-Match": "*"},
                    json={} if method in ("POST", "PUT") else None,
                )
                assert_private(response, f"{method} {template} {sorted(headers)}")
        checked += 1
    assert checked == len(operations)
    # Answers that hold someone's data, answered 200, are still private.
    mine = await gateway.get(f"/v1/complaints/{published['number']}", headers=guest)
    assert mine.status_code == 200 and mine.json()["number"] == published["number"]
    assert_private(mine, "the status lookup")
    # The walk signed the admin out everywhere (one of the operations): a new token for the last look.
    operator = await gateway.post("/v1/ops/auth/token", json=ADMIN)
    staff = {"Authorization": f"Bearer {operator.json()['access_token']}"}
    queue = await gateway.get("/v1/ops/queue", params={"kind": "appeals"}, headers=staff)
    assert queue.status_code == 200
    assert_private(queue, "the operators' queue")


def response_max_age(response: httpx.Response) -> int:
    return int(response.headers["cache-control"].removeprefix("public, max-age="))


async def test_web_pages_are_shared_per_language_and_personal_pages_are_not(gateway, published):
    for path in PUBLIC_PAGES:
        page = await gateway.get(path)
        assert_shareable(page, caching.REFERENCE_MAX_AGE_S, path)
        assert "Cookie" in page.headers["vary"], path
        assert (await gateway.get(path, headers={"If-None-Match": page.headers["etag"]})).status_code == 304, path
    chinese = await gateway.get("/public")
    english = await gateway.get("/public", headers={"Cookie": "lang=en"})
    assert english.headers["etag"] != chinese.headers["etag"] and '<html lang="en"' in english.text
    # The English copy is not the answer to a revalidation of the Chinese one, nor the other way round.
    assert (await gateway.get("/public", headers={"If-None-Match": english.headers["etag"]})).status_code == 200
    # An answer that sets a cookie belongs to whoever asked.
    chosen = await gateway.get("/public", params={"lang": "en"})
    assert "set-cookie" in chosen.headers
    assert_private(chosen, "a page that sets the language cookie")
    for path in PRIVATE_PAGES:
        assert_private(await gateway.get(path), path)
    # Static files keep a day and validate themselves.
    script = re.search(r'src="(/static/[^"]+)"', chinese.text)[1]
    static = await gateway.get(script)
    assert static.headers["cache-control"] == f"public, max-age={caching.STATIC_MAX_AGE_S}" and static.headers["etag"]
    assert (await gateway.get(script, headers={"If-None-Match": static.headers["etag"]})).status_code == 304


async def test_errors_and_forged_validators_are_never_kept(gateway, published):
    missing = "/v1/public/complaints/GC-20990101-000001"
    for headers in ({}, {"If-None-Match": "*"}, {"If-Modified-Since": format_datetime(datetime.now(UTC), usegmt=True)}):
        response = await gateway.get(missing, headers=headers)
        assert response.status_code == 404 and response.headers["cache-control"] == "no-store", headers
        assert response.headers["content-type"] == "application/problem+json"
    bad = await gateway.get("/v1/public/complaints", params={"company_id": "$where"})
    assert bad.status_code == 422 and bad.headers["cache-control"] == "no-store" and "surrogate-key" not in bad.headers
    # A surrogate key never carries what the request put there beyond the safe characters.
    injected = await gateway.get("/v1/public/complaints/GC-20261201-000001%0d%0aSet-Cookie:%20x=1")
    assert injected.status_code == 404 and "set-cookie" not in injected.headers
    # Someone else's access code with a validator that matches anything: never a 304 of their complaint.
    for code in ("ABCDEFGHJK", published["access_code"][::-1]):
        stranger = await gateway.get(
            f"/v1/complaints/{published['number']}", headers={"X-Access-Code": code, "If-None-Match": "*"}
        )
        assert stranger.status_code in (401, 403, 404) and stranger.content, stranger.status_code
        assert_private(stranger, "a wrong access code")
