"""Hostile input at every edge of the platform: oversized and deeply nested bodies, MongoDB operators in
every filter, invalid UTF-8, huge headers, control characters and Unicode tricks.

Each refused request must answer a clear 4xx problem document carrying a ``code`` and leave every
service's store exactly as it was (documents counted in every collection before and after). Filters
given an operator as text take it literally: they find nothing, never everything.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest

from devstack.accounts import register
from devstack.platform import ADMIN_TOKEN, INTERNAL_TOKEN, OPERATOR_TOKEN

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
ADMIN = {"login": "admin", "password": "development-only-admin-password"}
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
INTERNAL = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
# What an attacker sends where a string is expected, hoping a query hands it to MongoDB as an operator.
OPERATOR_OBJECTS = [{"$ne": None}, {"$gt": ""}, {"$where": "sleep(1000) || true"}]
# The same as text, for query strings, paths and headers, where nothing but text can arrive.
OPERATOR_TEXTS = ['{"$ne": null}', '{"$gt": ""}', "$where", ".*"]
UNKNOWN_FEEDBACK = "0123456789abcdef0123456789abcdef"


def form(**changes: Any) -> dict[str, Any]:
    """A complaint form that is valid as it is; ``changes`` replace its fields (dotted names reach into objects)."""
    body: dict[str, Any] = {
        "complainant": {
            "name": "王五",
            "id_number": "11010519491231002X",
            "phone": "13700001111",
            "email": "wangwu@example.com",
        },
        "company": {"id": "c-xunlian"},
        "category": "auto_renewal",
        "title": "会员到期自动续费未提醒",
        "description": "到期前没有任何提醒就扣费三十元，申请退款被拒。",
        "occurred_on": "2026-10-20",
        "desired_outcome": "退款并关闭自动续费",
    }
    for dotted, value in changes.items():
        target = body
        *parents, leaf = dotted.split(".")
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    return body


def with_operator(body: dict[str, Any], operator: Any) -> dict[str, Any]:
    return {key: operator if value == "OPERATOR" else value for key, value in body.items()}


def cursor_of(value: Any) -> str:
    """A cursor in the services' own format (url-safe base64 of JSON) around what an attacker chose."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 30.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


class World:
    """What the module's requests act on: a forwarded complaint, its delivery, and callers of every kind."""

    def __init__(self, platform: Any, census: Callable[[], Awaitable[dict[str, int]]]) -> None:
        self.platform = platform
        self.census = census
        self.clients = {
            "intake": platform.intake,
            "evidence": platform.evidence,
            "routing": platform.routing,
            "notification": platform.notification,
        }
        # "service_admin": notification's admin token, the only one that sets a webhook endpoint.
        self.auth: dict[str, dict[str, str]] = {
            "operator": OPERATOR,
            "internal": INTERNAL,
            "none": {},
            "service_admin": {"Authorization": f"Bearer {ADMIN_TOKEN}"},
        }
        self.number = ""
        self.access_code = ""
        self.company_id = "c-xunlian"
        # Set when a request was taken (a test about to fail, or one that files on purpose): its events are still
        # travelling, so the next census waits until the platform is quiet again.
        self.busy = False

    async def quiet(self) -> dict[str, int]:
        """The census once the platform stopped writing (the events of what was taken are all handled)."""
        previous = await self.census()
        while True:
            await asyncio.sleep(0.5)
            current = await self.census()
            if current == previous:
                return current
            previous = current

    async def settled(self) -> dict[str, int]:
        if self.busy:
            self.busy = False
            return await self.quiet()
        return await self.census()


@pytest.fixture(scope="module")
async def world(platform, census) -> World:
    world = World(platform, census)
    signed_in = await platform.intake.post("/v1/ops/auth/token", json=ADMIN)
    assert signed_in.status_code == 200, signed_in.text
    world.auth["admin"] = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    issued = await platform.intake.post(
        f"/v1/ops/companies/{world.company_id}/api-keys", json={"label": "hostile"}, headers=world.auth["admin"]
    )
    assert issued.status_code == 201, issued.text
    world.auth["company"] = {"X-Api-Key": issued.json()["api_key"]}
    account = {"login": "hostile@example.com", "password": "hostile-password-1"}
    await register(platform.intake, platform.mailbox, account["login"], account["password"])
    token = (await platform.intake.post("/v1/auth/token", json=account)).json()["access_token"]
    world.auth["complainant"] = {"Authorization": f"Bearer {token}"}

    filed = await platform.intake.post("/v1/complaints", json=form(), headers=world.auth["complainant"])
    assert filed.status_code == 201, filed.text
    world.number, world.access_code = filed.json()["number"], filed.json()["access_code"]

    async def delivered() -> bool:
        case = (
            await platform.intake.get(f"/v1/complaints/{world.number}", headers={"X-Access-Code": world.access_code})
        ).json()
        deliveries = (await platform.notification.get("/v1/deliveries", headers=OPERATOR)).json()["items"]
        return case["status"] == "forwarded" and any(item["status"] == "delivered" for item in deliveries)

    await until(delivered)
    await world.quiet()
    return world


def assert_problem(response: httpx.Response, statuses: set[int] | None = None) -> dict[str, Any]:
    where = f"{response.request.method} {response.request.url.raw_path[:200]!r}"
    assert 400 <= response.status_code < 500, f"{where}: {response.status_code} {response.text[:500]}"
    if statuses is not None:
        assert response.status_code in statuses, f"{where}: {response.status_code} {response.text[:500]}"
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers["content-type"]
    problem = response.json()
    assert isinstance(problem.get("code"), str) and problem["code"], problem
    assert problem["status"] == response.status_code, problem
    return problem


async def refused(
    world: World,
    service: str,
    method: str,
    url: str,
    *,
    auth: str = "none",
    statuses: set[int] | None = None,
    **request: Any,
) -> dict[str, Any]:
    """Send one request that must be refused: a 4xx problem document, and nothing stored anywhere."""
    before = await world.settled()
    headers = {**world.auth[auth], **request.pop("headers", {})}
    response = await world.clients[service].request(method, url, headers=headers, **request)
    world.busy = world.busy or (response.is_success and method != "GET")
    problem = assert_problem(response, statuses)
    assert await world.census() == before, f"{method} {url} changed the stores"
    return problem


async def taken_literally(world: World, service: str, path: str, query: dict[str, Any] | str, auth: str) -> None:
    """A filter given an operator as text finds nothing, where the same listing without it finds something."""
    before = await world.settled()
    client, headers = world.clients[service], world.auth[auth]
    assert (await client.get(path, headers=headers)).json()["items"], "the listing must have items to hide"
    response = await client.get(path, params=query, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["items"] == [], f"{query} matched {response.json()['items']}"
    assert await world.census() == before


# --- MongoDB operators where strings are expected -------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        "complainant.name",
        "complainant.id_number",
        "complainant.phone",
        "complainant.email",
        "company.id",
        "company.name",
        "company",
        "category",
        "title",
        "description",
        "occurred_on",
        "desired_outcome",
        "evidence_ids",
        "publication_consent",
    ],
)
async def test_operator_objects_in_a_complaint_form_are_refused(world, field):
    for operator in OPERATOR_OBJECTS:
        problem = await refused(
            world, "intake", "POST", "/v1/complaints", json=form(**{field: operator}), statuses={422}
        )
        assert problem["code"] == "validation_failed"


@pytest.mark.parametrize(
    ("path", "body", "auth"),
    [
        ("/v1/auth/token", {"login": "hostile@example.com", "password": "OPERATOR"}, "none"),
        ("/v1/auth/token", {"login": "OPERATOR", "password": "hostile-password-1"}, "none"),
        ("/v1/ops/auth/token", {"login": "admin", "password": "OPERATOR"}, "none"),
        ("/v1/ops/auth/token", {"login": "OPERATOR", "password": "development-only-admin-password"}, "none"),
        ("/v1/accounts/registrations", {"login": "OPERATOR"}, "none"),
        (
            "/v1/accounts/registrations/confirm",
            {"login": "hostile-new@example.com", "code": "OPERATOR", "password": "long-enough-password"},
            "none",
        ),
        (
            "/v1/accounts/password-resets/confirm",
            {"login": "hostile@example.com", "code": "123456", "password": "OPERATOR"},
            "none",
        ),
        ("/v1/me/complaints/claim", {"number": "OPERATOR", "access_code": "OPERATOR"}, "complainant"),
        (
            "/v1/company/complaints/NUMBER/response",
            {"response_type": "OPERATOR", "text": "We refunded the fee."},
            "company",
        ),
        ("/v1/company/complaints/NUMBER/info-request", {"question": "OPERATOR"}, "company"),
        ("/v1/ops/complaints/NUMBER/accept", {"company_id": "OPERATOR", "category": "auto_renewal"}, "admin"),
        ("/v1/ops/complaints/NUMBER/redirect", {"company_id": "OPERATOR"}, "admin"),
        ("/v1/ops/complaints/NUMBER/reject", {"reason": "OPERATOR"}, "admin"),
        ("/v1/public/feedback", {"topic": "OPERATOR", "text": "查询页面在手机上显示不全"}, "none"),
        ("/v1/public/feedback", {"topic": "website", "text": "OPERATOR"}, "none"),
        ("/v1/public/feedback", {"topic": "website", "text": "查询页面在手机上显示不全", "email": "OPERATOR"}, "none"),
        ("/v1/public/feedback", {"topic": "website", "text": "查询页面在手机上显示不全", "phone": "OPERATOR"}, "none"),
        (f"/v1/ops/feedback/{UNKNOWN_FEEDBACK}/handle", {"note": "OPERATOR"}, "admin"),
    ],
)
async def test_operator_objects_in_intake_bodies_are_refused(world, path, body, auth):
    for operator in OPERATOR_OBJECTS:
        await refused(
            world,
            "intake",
            "POST",
            path.replace("NUMBER", world.number),
            auth=auth,
            json=with_operator(body, operator),
            statuses={422},
        )


@pytest.mark.parametrize(
    ("service", "method", "path", "body"),
    [
        ("routing", "PUT", "/v1/companies/c-injected", {"name": "OPERATOR", "name_en": "Injected"}),
        ("routing", "PUT", "/v1/companies/c-injected", {"name": "注入", "name_en": "Injected", "aliases": "OPERATOR"}),
        ("notification", "PUT", "/v1/companies/c-xunlian/webhook-endpoint", {"url": "OPERATOR"}),
        (
            "notification",
            "PUT",
            "/v1/companies/c-xunlian/webhook-endpoint",
            {"url": "http://127.0.0.1:9/hook", "secret": "OPERATOR"},
        ),
        ("evidence", "POST", "/v1/uploads", {"media_type": "OPERATOR", "size": 10, "sha256": "0" * 64}),
        (
            "evidence",
            "POST",
            "/v1/uploads",
            {"media_type": "image/png", "size": 10, "sha256": "0" * 64, "number": "OPERATOR"},
        ),
    ],
)
async def test_operator_objects_in_other_services_bodies_are_refused(world, service, method, path, body):
    auth = {"evidence": "internal", "notification": "service_admin"}.get(service, "operator")
    for operator in OPERATOR_OBJECTS:
        await refused(world, service, method, path, auth=auth, json=with_operator(body, operator), statuses={422})


CURSORS = [
    cursor_of([{"$gt": ""}, {"$ne": None}]),
    cursor_of({"$where": "true", "$ne": None}),
    cursor_of("$where"),
    '{"$ne": null}',
    "$where",
    "%00%ff",
]


@pytest.mark.parametrize(
    ("path", "params", "auth"),
    [
        ("/v1/company/complaints", {}, "company"),
        ("/v1/ops/queue", {"kind": "unscreened"}, "admin"),
        ("/v1/me/complaints", {}, "complainant"),
        ("/v1/ops/feedback", {}, "admin"),
    ],
    ids=["company", "operator-queue", "complainant", "operator-feedback"],
)
@pytest.mark.parametrize(
    "cursors",
    [
        CURSORS,
        pytest.param([cursor_of(["2026-01-01T00:00:00+00:00", {"$ne": None}])], id="non-string-number"),
    ],
    ids=["forged", "non-string-number"],
)
async def test_forged_cursors_are_refused_by_intake(world, path, params, auth, cursors):
    for cursor in cursors:
        problem = await refused(
            world, "intake", "GET", path, auth=auth, params={**params, "cursor": cursor}, statuses={400}
        )
        assert problem["code"] == "invalid_cursor"


async def test_forged_cursors_are_refused_by_the_inbox(world):
    for cursor in [*CURSORS, cursor_of(["2026-01-01T00:00:00+00:00", {"$ne": None}])]:
        problem = await refused(
            world,
            "notification",
            "GET",
            "/v1/messages",
            auth="internal",
            params={"number": world.number, "cursor": cursor},
            statuses={422},
        )
        assert problem["code"] == "invalid_cursor"


@pytest.mark.parametrize("parameter", ["status", "submitted_from", "submitted_to", "limit"])
async def test_operator_text_in_the_company_list_filters_is_refused(world, parameter):
    for text in OPERATOR_TEXTS:
        await refused(
            world, "intake", "GET", "/v1/company/complaints", auth="company", params={parameter: text}, statuses={422}
        )


async def test_operator_text_as_the_queue_kind_is_refused(world):
    for text in OPERATOR_TEXTS:
        await refused(world, "intake", "GET", "/v1/ops/queue", auth="admin", params={"kind": text}, statuses={422})


@pytest.mark.parametrize(
    ("path", "auth", "headers"),
    [
        ("/v1/complaints/TEXT", "none", {"X-Access-Code": "ACCESS"}),
        ("/v1/complaints/NUMBER", "none", {"X-Access-Code": "TEXT"}),
        ("/v1/complaints/TEXT/messages", "none", {"X-Access-Code": "ACCESS"}),
        ("/v1/company/complaints/TEXT", "company", {}),
        ("/v1/ops/complaints/TEXT", "admin", {}),
    ],
)
async def test_operator_text_in_complaint_numbers_and_access_codes_finds_nothing(world, path, auth, headers):
    for text in OPERATOR_TEXTS:
        url = path.replace("NUMBER", world.number).replace("TEXT", quote(text, safe=""))
        sent = {key: value.replace("ACCESS", world.access_code).replace("TEXT", text) for key, value in headers.items()}
        problem = await refused(world, "intake", "GET", url, auth=auth, headers=sent, statuses={404})
        assert problem["code"] == "complaint_not_found"


@pytest.mark.parametrize(
    ("path", "auth", "code"),
    [
        ("/v1/public/pages/TEXT", "none", "page_not_found"),
        ("/v1/ops/feedback/TEXT", "admin", "feedback_not_found"),
    ],
)
async def test_operator_text_in_page_slugs_and_feedback_ids_finds_nothing(world, path, auth, code):
    for text in OPERATOR_TEXTS:
        problem = await refused(
            world, "intake", "GET", path.replace("TEXT", quote(text, safe="")), auth=auth, statuses={404}
        )
        assert problem["code"] == code


@pytest.mark.parametrize(
    ("path", "parameter", "auth"),
    [
        ("/v1/public/pages/faq", "lang", "none"),
        ("/v1/ops/feedback", "status", "admin"),
    ],
)
async def test_operator_text_as_the_page_language_or_feedback_status_is_refused(world, path, parameter, auth):
    for text in OPERATOR_TEXTS:
        await refused(world, "intake", "GET", path, auth=auth, params={parameter: text}, statuses={422})


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/v1/public/complaints", "company_id"),
        ("/v1/public/complaints", "category"),
        ("/v1/public/complaints", "status"),
        ("/v1/public/complaints", "cluster_id"),
        ("/v1/public/complaints", "from"),
        ("/v1/public/statistics", "from"),
        ("/v1/public/statistics", "by"),
        ("/v1/public/rankings", "order_by"),
        ("/v1/public/rankings", "period"),
        ("/v1/public/open-data/complaints.jsonl", "to"),
    ],
)
async def test_operator_text_in_the_public_results_filters_is_refused(world, path, parameter):
    for text in OPERATOR_TEXTS:
        await refused(world, "intake", "GET", path, params={parameter: text}, statuses={422})


async def test_forged_cursors_are_refused_by_the_public_results(world):
    for cursor in CURSORS:
        problem = await refused(
            world, "intake", "GET", "/v1/public/complaints", params={"cursor": cursor}, statuses={400}
        )
        assert problem["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    ("path", "statuses", "code"),
    [
        ("/v1/public/complaints/TEXT", {404}, "complaint_not_found"),
        ("/v1/public/clusters/TEXT", {404}, "cluster_not_found"),
        ("/v1/public/companies/TEXT/scorecard", {404, 422}, None),
    ],
)
async def test_operator_text_in_public_results_paths_finds_nothing(world, path, statuses, code):
    for text in OPERATOR_TEXTS:
        problem = await refused(world, "intake", "GET", path.replace("TEXT", quote(text, safe="")), statuses=statuses)
        assert code is None or problem["code"] == code


@pytest.mark.parametrize("path", ["/v1/regulator/statistics", "/v1/regulator/companies/c-xunlian/scorecard"])
async def test_the_regulator_view_is_closed_to_everyone_else(world, path):
    for auth, status in (("none", 401), ("complainant", 403), ("company", 403)):
        await refused(world, "intake", "GET", path, auth=auth, statuses={status})
    assert (await world.clients["intake"].get(path, headers=world.auth["admin"])).status_code == 200


async def test_operator_text_in_the_directory_search_is_taken_literally(world):
    for text in OPERATOR_TEXTS:
        await taken_literally(world, "routing", "/v1/companies", {"q": text, "limit": 100}, "none")


@pytest.mark.parametrize(
    ("path", "auth", "code"),
    [
        ("/v1/companies/TEXT", "none", "company_not_found"),
        ("/v1/decisions/TEXT", "internal", "decision_not_found"),
        ("/v1/clocks/TEXT", "operator", "clocks_not_found"),
    ],
)
async def test_operator_text_in_routing_paths_finds_nothing(world, path, auth, code):
    for text in OPERATOR_TEXTS:
        problem = await refused(
            world, "routing", "GET", path.replace("TEXT", quote(text, safe="")), auth=auth, statuses={404}
        )
        assert problem["code"] == code


@pytest.mark.parametrize("parameter", ["company_id", "number"])
async def test_operator_text_in_the_delivery_filters_is_taken_literally(world, parameter):
    for text in OPERATOR_TEXTS:
        await taken_literally(world, "notification", "/v1/deliveries", {parameter: text}, "operator")


async def test_operator_text_as_the_delivery_status_is_refused(world):
    for text in OPERATOR_TEXTS:
        await refused(
            world, "notification", "GET", "/v1/deliveries", auth="operator", params={"status": text}, statuses={422}
        )


@pytest.mark.parametrize(
    ("service", "method", "path", "auth", "statuses"),
    [
        ("notification", "GET", "/v1/deliveries/TEXT", "operator", {404}),
        ("notification", "GET", "/v1/companies/TEXT/webhook-endpoint", "operator", {404, 422}),
        ("notification", "POST", "/v1/messages/TEXT/read", "internal", {404, 422}),
        ("evidence", "GET", "/v1/complaints/TEXT/evidence", "internal", {404, 422}),
        ("evidence", "GET", "/v1/evidence/TEXT", "internal", {404}),
        ("evidence", "POST", "/v1/evidence/TEXT/link", "internal", {404}),
        ("evidence", "POST", "/v1/uploads/TEXT/complete", "internal", {404}),
    ],
)
async def test_operator_text_in_other_services_paths_finds_nothing(world, service, method, path, auth, statuses):
    for text in OPERATOR_TEXTS:
        await refused(world, service, method, path.replace("TEXT", quote(text, safe="")), auth=auth, statuses=statuses)


async def test_operator_text_in_inbox_numbers_is_refused(world):
    for text in OPERATOR_TEXTS:
        await refused(
            world, "notification", "GET", "/v1/messages", auth="internal", params={"number": text}, statuses={422}
        )


# --- Size, depth, encoding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "method", "path", "auth"),
    [
        ("intake", "POST", "/v1/complaints", "none"),
        ("intake", "POST", "/v1/auth/token", "none"),
        ("routing", "PUT", "/v1/companies/c-oversized", "operator"),
        ("notification", "PUT", "/v1/companies/c-xunlian/webhook-endpoint", "service_admin"),
        ("evidence", "POST", "/v1/uploads", "internal"),
    ],
)
async def test_a_ten_mebibyte_json_body_is_refused(world, service, method, path, auth):
    body = json.dumps(form(description="投诉" * (5 * MIB // 2))).encode()
    assert len(body) > 10 * MIB
    await refused(
        world,
        service,
        method,
        path,
        auth=auth,
        content=body,
        headers={"Content-Type": "application/json"},
        statuses={413, 422},
    )


async def test_a_body_over_intakes_limit_is_refused_before_it_is_parsed(world):
    limit = world.platform.apps["intake"].state.intake.settings.max_request_body_bytes
    body = json.dumps(form(description="x" * limit)).encode()
    problem = await refused(
        world,
        "intake",
        "POST",
        "/v1/complaints",
        content=body,
        headers={"Content-Type": "application/json"},
        statuses={413},
    )
    assert problem["code"] == "payload_too_large"


@pytest.mark.parametrize(("opening", "closing"), [("[", "]"), ('{"a":', "}")], ids=["arrays", "objects"])
@pytest.mark.parametrize(
    ("service", "method", "path", "auth"),
    [
        ("intake", "POST", "/v1/complaints", "none"),
        ("intake", "POST", "/v1/ops/auth/token", "none"),
        ("routing", "PUT", "/v1/companies/c-nested", "operator"),
        ("notification", "PUT", "/v1/companies/c-xunlian/webhook-endpoint", "service_admin"),
        ("evidence", "POST", "/v1/uploads", "internal"),
    ],
)
async def test_ten_thousand_levels_of_nesting_are_refused(world, service, method, path, auth, opening, closing):
    depth = 10_000
    body = '{"description": ' + opening * depth + "1" + closing * depth + "}"
    await refused(
        world,
        service,
        method,
        path,
        auth=auth,
        content=body.encode(),
        headers={"Content-Type": "application/json"},
        statuses={400, 413, 422},
    )


# Byte-order-mark bytes, a bad continuation byte, an encoded surrogate, a code point beyond Unicode.
INVALID_UTF8 = [b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]


@pytest.mark.parametrize(
    ("service", "method", "path", "auth"),
    [
        ("intake", "POST", "/v1/complaints", "none"),
        ("intake", "POST", "/v1/ops/auth/token", "none"),
        ("routing", "PUT", "/v1/companies/c-utf8", "operator"),
        ("notification", "PUT", "/v1/companies/c-xunlian/webhook-endpoint", "service_admin"),
        ("evidence", "POST", "/v1/uploads", "internal"),
        ("intake", "POST", "/v1/public/feedback", "none"),
    ],
)
async def test_invalid_utf8_in_a_json_body_is_refused(world, service, method, path, auth):
    for raw in INVALID_UTF8:
        body = json.dumps(form(title="标题XX"), ensure_ascii=False).encode().replace("标题XX".encode(), b"title" + raw)
        await refused(
            world,
            service,
            method,
            path,
            auth=auth,
            content=body,
            headers={"Content-Type": "application/json"},
            statuses={400, 422},
        )


@pytest.mark.parametrize("field", ["complainant.name", "title", "description", "company.name"])
async def test_lone_surrogates_in_a_complaint_are_refused(world, field):
    for escape in ["\\ud800", "\\udfff", "a\\udc80b"]:
        body = json.dumps(form(**{field: "正常文字SURROGATE"})).replace("SURROGATE", escape)
        await refused(
            world,
            "intake",
            "POST",
            "/v1/complaints",
            content=body.encode(),
            headers={"Content-Type": "application/json"},
            statuses={422},
        )


@pytest.mark.parametrize(
    ("service", "method", "path", "body"),
    [
        ("routing", "PUT", "/v1/companies/c-surrogate", {"name": "注入SURROGATE", "name_en": "Surrogate"}),
        ("notification", "PUT", "/v1/companies/c-xunlian/webhook-endpoint", {"url": "http://127.0.0.1:9/SURROGATE"}),
        ("intake", "POST", "/v1/auth/token", {"login": "hostile@example.com", "password": "passwordSURROGATE"}),
        (
            "intake",
            "POST",
            "/v1/ops/auth/token",
            {"login": "adminSURROGATE", "password": "development-only-admin-password"},
        ),
        ("intake", "POST", "/v1/public/feedback", {"topic": "website", "text": "查询页面显示不全SURROGATE"}),
    ],
)
async def test_lone_surrogates_elsewhere_are_refused(world, service, method, path, body):
    content = json.dumps(body).replace("SURROGATE", "\\ud800")
    await refused(
        world,
        service,
        method,
        path,
        auth="service_admin" if service == "notification" else "operator",
        content=content.encode(),
        headers={"Content-Type": "application/json"},
        statuses={401, 422},
    )


@pytest.mark.parametrize(
    ("service", "path", "auth"),
    [
        ("intake", "/v1/complaints/%ff%fe", "none"),
        ("intake", "/v1/company/complaints?status=%ff&cursor=%ed%a0%80", "company"),
        ("routing", "/v1/companies/%ff%fe", "none"),
        ("routing", "/v1/decisions/%ed%a0%80", "internal"),
        ("notification", "/v1/deliveries/%ff%fe", "operator"),
        ("notification", "/v1/messages?number=%ff%fe", "internal"),
        ("evidence", "/v1/evidence/%ff%fe", "internal"),
    ],
)
async def test_invalid_utf8_in_paths_and_query_strings_is_refused(world, service, path, auth):
    await refused(world, service, "GET", path, auth=auth, statuses={400, 404, 422})


async def test_invalid_utf8_in_the_directory_search_finds_nothing(world):
    await taken_literally(world, "routing", "/v1/companies", "q=%ff%fe%ed%a0%80", "none")


# --- Headers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "value", "statuses"),
    [
        ("X-Access-Code", b"\xff\xfe\xfd", {404, 422}),
        ("Authorization", b"Bearer \xff\xfe\xfd", {401}),
        ("X-Api-Key", b"gck_\xff\xfe_\xfd", {401}),
    ],
)
async def test_invalid_utf8_in_credential_headers_is_refused(world, header, value, statuses):
    await refused(world, "intake", "GET", f"/v1/complaints/{world.number}", headers={header: value}, statuses=statuses)


async def test_invalid_utf8_in_an_idempotency_key_is_refused(world):
    problem = await refused(
        world,
        "intake",
        "POST",
        "/v1/complaints",
        json=form(),
        headers={"Idempotency-Key": b"key-\xff\xfe"},
        statuses={400},
    )
    assert problem["code"] == "invalid_idempotency_key"


HUGE = "A" * (64 * 1024)


@pytest.mark.parametrize(
    ("path", "headers", "statuses"),
    [
        ("/v1/complaints/NUMBER", {"X-Access-Code": HUGE}, {404, 422, 431}),
        ("/v1/complaints/NUMBER", {"Authorization": f"Bearer {HUGE}"}, {401, 431}),
        ("/v1/company/complaints", {"X-Api-Key": HUGE}, {401, 431}),
        ("/v1/ops/queue?kind=appeals", {"Authorization": f"Bearer {HUGE}"}, {401, 431}),
    ],
)
async def test_a_64_kib_credential_header_is_refused(world, path, headers, statuses):
    await refused(world, "intake", "GET", path.replace("NUMBER", world.number), headers=headers, statuses=statuses)


async def test_a_64_kib_idempotency_key_is_refused(world):
    await refused(
        world, "intake", "POST", "/v1/complaints", json=form(), headers={"Idempotency-Key": HUGE}, statuses={400, 431}
    )


@pytest.mark.parametrize(
    ("service", "method", "path", "auth", "body"),
    [
        ("intake", "POST", "/v1/complaints", "none", form()),
        ("routing", "PUT", "/v1/companies/c-big-header", "operator", {"name": "大头", "name_en": "Big header"}),
    ],
)
async def test_a_request_with_a_64_kib_header_is_refused(world, service, method, path, auth, body):
    problem = await refused(
        world, service, method, path, auth=auth, json=body, headers={"X-Padding": HUGE}, statuses={431}
    )
    assert problem["code"] == "request_headers_too_large"


async def raw_request(base_url: str, message: bytes) -> int:
    """Send bytes no HTTP client library would send; answer the response's status."""
    url = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write(message)
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    return int(response.split(b" ", 2)[1])


@pytest.mark.parametrize(
    "header",
    [b"X-Access-Code: AB\x00CD", b"Idempotency-Key: key\x00", b"X-Filler\x00: 1", b"X-Filler: a\rb"],
    ids=["nul-in-access-code", "nul-in-idempotency-key", "nul-in-name", "bare-cr"],
)
async def test_nul_and_bare_cr_in_headers_are_refused(world, header):
    """The HTTP server refuses these before any service sees them (a plain 400, not a problem document)."""
    before = await world.settled()
    body = json.dumps(form()).encode()
    message = (
        b"POST /v1/complaints HTTP/1.1\r\nHost: intake\r\nContent-Type: application/json\r\nConnection: close\r\n"
        + header
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    status = await raw_request(str(world.platform.intake.base_url), message)
    world.busy = world.busy or status < 300
    assert 400 <= status < 500
    assert await world.census() == before


# --- Control characters and Unicode tricks in what people type ---------------------------------------


@pytest.mark.parametrize(
    "value",
    ["张\x00三", "张三\x1b[31m", "张\x07三", "\u202e三张", "张\u200f三", "张\u200b三", "张三😀"],
    ids=["nul", "ansi-escape", "bell", "rtl-override", "rtl-mark", "zero-width-space", "emoji"],
)
async def test_control_characters_invisible_marks_and_emoji_in_names_are_refused(world, value):
    await refused(world, "intake", "POST", "/v1/complaints", json=form(**{"complainant.name": value}), statuses={422})


@pytest.mark.parametrize(
    "value",
    ["标题\x00截断", "标题\x1b[2J清屏", "\u202egpj.exe", "标题\u2066隔离\u2069"],
    ids=["nul", "ansi-escape", "rtl-override", "bidi-isolate"],
)
@pytest.mark.parametrize("field", ["title", "description", "desired_outcome", "company.name"])
async def test_control_characters_and_direction_overrides_in_free_text_are_refused(world, field, value):
    await refused(world, "intake", "POST", "/v1/complaints", json=form(**{field: value * 3}), statuses={422})


@pytest.mark.parametrize(
    "value",
    ["意见\x00截断", "意见\x1b[2J清屏", "\u202egpj.exe", "意见\u2066隔离\u2069"],
    ids=["nul", "ansi-escape", "rtl-override", "bidi-isolate"],
)
@pytest.mark.parametrize(
    ("path", "body", "auth"),
    [
        ("/v1/public/feedback", {"topic": "website", "text": "VALUE"}, "none"),
        (f"/v1/ops/feedback/{UNKNOWN_FEEDBACK}/handle", {"note": "VALUE"}, "admin"),
    ],
)
async def test_control_characters_and_direction_overrides_in_feedback_are_refused(world, path, body, auth, value):
    sent = {key: value * 3 if item == "VALUE" else item for key, item in body.items()}
    await refused(world, "intake", "POST", path, auth=auth, json=sent, statuses={422})


async def test_names_in_any_script_emoji_and_right_to_left_text_are_kept_as_written(world):
    """The refusals above are about invisible controls: real writing in any script, emoji in free text, is kept."""
    text = "客服不回复 😡😡 — עברית ו-العربية mixed\n第二行\t制表"
    world.busy = True
    filed = await world.platform.intake.post(
        "/v1/complaints",
        json=form(**{"complainant.name": "阿卜杜拉·买买提", "description": text, "title": "标题 😀 title"}),
    )
    assert filed.status_code == 201, filed.text
    case = (
        await world.platform.intake.get(
            f"/v1/complaints/{filed.json()['number']}", headers={"X-Access-Code": filed.json()["access_code"]}
        )
    ).json()
    assert (case["description"], case["title"]) == (text, "标题 😀 title")
    assert case["complainant"]["name"].startswith("阿")


async def test_control_characters_in_the_directory_search_find_nothing(world):
    """MongoDB refuses a NUL inside ``$regex``: the search must never hand one on (SecantusDB is more lenient)."""
    for text in ["\x00", "a\x00b", "\x00" * 200, "\x1b[2J"]:
        before = await world.settled()
        response = await world.platform.routing.get("/v1/companies", params={"q": text})
        if response.status_code == 200:
            assert response.json()["items"] == []
        else:
            assert_problem(response, {422})
        assert await world.census() == before


# --- Values at the edge of their types ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("submitted_from", "0001-01-01"),
        ("submitted_to", "0001-01-01"),
        ("submitted_from", "9999-12-31"),
        ("submitted_to", "9999-12-31"),
        ("limit", "99999999999999999999999"),
        ("limit", "1e309"),
        ("limit", "-0"),
    ],
)
async def test_extreme_values_in_the_company_list_are_no_server_error(world, parameter, value):
    before = await world.settled()
    response = await world.platform.intake.get(
        "/v1/company/complaints", params={parameter: value}, headers=world.auth["company"]
    )
    if response.status_code != 200:
        assert_problem(response, {422})
    assert await world.census() == before


@pytest.mark.parametrize("occurred_on", ["9999-12-31", "2026-02-30", "+002026-01-01", "20261020", "2026-10-20T25:00"])
async def test_impossible_dates_in_a_complaint_are_refused(world, occurred_on):
    await refused(world, "intake", "POST", "/v1/complaints", json=form(occurred_on=occurred_on), statuses={422})


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/ops/companies/c-a%07b/api-keys", {"label": "x"}),
        ("PUT", "/v1/ops/companies/c-a%07b", {"name": "控制", "name_en": "Control"}),
        ("POST", "/v1/ops/complaints/NUMBER/accept", {"company_id": "c-a\x07b", "category": "auto_renewal"}),
        ("POST", "/v1/ops/complaints/NUMBER/redirect", {"company_id": "c-a\x07b"}),
        ("POST", "/v1/ops/complaints/NUMBER/accept", {"company_id": "../categories", "category": "auto_renewal"}),
        ("POST", "/v1/ops/complaints/NUMBER/redirect", {"company_id": "../categories"}),
    ],
)
async def test_company_ids_that_are_no_path_segment_are_refused(world, method, path, body):
    await refused(
        world, "intake", method, path.replace("NUMBER", world.number), auth="admin", json=body, statuses={404, 422}
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/ops/deliveries/a%07b"),
        ("POST", "/v1/ops/alerts/a%07b"),
        ("GET", "/v1/ops/companies/a%07b/webhook-endpoint"),
        ("POST", "/v1/ops/companies/c-xunlian/webhook-endpoint/a%07b"),
        ("GET", "/v1/ops/deliveries/..%2Fmessages"),
    ],
)
async def test_operator_paths_passed_on_to_notification_are_checked(world, method, path):
    await refused(world, "intake", method, path, auth="admin", statuses={404})
