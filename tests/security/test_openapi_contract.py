"""The OpenAPI documents as clients use them, read from each running service's /openapi.json: the security
schemes behind /docs' Authorize button and on each operation, readable operation ids unique per service, typed
answers where clients read them, and examples on the main request bodies. And declaring the schemes changed
nothing in who the caller is: the refusals answer the problem documents they answered before."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.integration

SERVICES = ("intake", "evidence", "routing", "notification")
OPERATION_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
COMPANY_OPERATIONS = {
    ("get", "/v1/company/complaints"): "company.complaints.list",
    ("get", "/v1/company/complaints/{number}"): "company.complaints.get",
    ("post", "/v1/company/complaints/{number}/response"): "company.complaints.answer",
    ("post", "/v1/company/complaints/{number}/info-request"): "company.complaints.request_info",
}
# What clients read most: each answers a named schema, not an untyped object.
TYPED = [
    ("post", "/v1/complaints", "201"),
    ("get", "/v1/complaints/{number}", "200"),
    ("post", "/v1/complaints/{number}/supplement", "200"),
    ("post", "/v1/complaints/{number}/rating", "200"),
    ("post", "/v1/complaints/{number}/appeal", "200"),
    ("post", "/v1/complaints/{number}/withdrawal", "200"),
    ("post", "/v1/me/complaints/claim", "200"),
    ("get", "/v1/me/complaints", "200"),
    *((method, path, "200") for method, path in COMPANY_OPERATIONS),
    ("post", "/v1/auth/token", "200"),
    ("post", "/v1/accounts/registrations", "202"),
    ("post", "/v1/accounts/registrations/confirm", "201"),
    ("post", "/v1/session", "200"),
    ("post", "/v1/ops/auth/token", "200"),
    *(("post", f"/v1/ops/complaints/{{number}}/{action}", "200") for action in ("reforward", "close", "redirect")),
    *(("post", f"/v1/ops/complaints/{{number}}/{action}", "200") for action in ("accept", "reject", "review")),
    ("post", "/v1/ops/complaints/{number}/resolve-company", "200"),
    ("get", "/v1/evidence/limits", "200"),
    ("post", "/v1/evidence", "201"),
    ("post", "/v1/complaints/{number}/evidence", "201"),
    ("get", "/v1/complaints/{number}/evidence/{evidence_id}/link", "200"),
    ("get", "/v1/complaints/{number}/messages", "200"),
    ("get", "/v1/me/messages", "200"),
    ("get", "/v1/public/pages", "200"),
    ("get", "/v1/public/pages/{slug}", "200"),
    ("post", "/v1/public/feedback", "201"),
    ("get", "/v1/ops/feedback", "200"),
    ("post", "/v1/ops/operators/{login}/disable", "200"),
    ("post", "/v1/complaints/{number}/access-code/recovery", "202"),
    ("post", "/v1/complaints/{number}/access-code/recovery/confirm", "200"),
    ("post", "/v1/accounts/password", "200"),
    ("post", "/v1/ops/companies/{company_id}/api-keys", "201"),
    ("get", "/v1/public/companies", "200"),
    ("get", "/v1/public/categories", "200"),
    ("get", "/v1/ops/queue", "200"),
    ("get", "/v1/ops/complaints/{number}", "200"),
    ("get", "/v1/ops/complaints/{number}/traces", "200"),
    ("get", "/v1/ops/dead-letters", "200"),
    ("post", "/v1/ops/dead-letters/replay-all", "200"),
    ("post", "/v1/ops/complaints/{number}/reveal", "200"),
    ("get", "/v1/ops/audit", "200"),
]
# What anyone may call without a credential; every other operation of every service declares a security scheme.
PUBLIC: dict[str, set[tuple[str, str]]] = {
    "intake": {
        ("get", "/v1/evidence/limits"),
        ("post", "/v1/evidence"),
        ("post", "/v1/uploads"),
        ("post", "/v1/uploads/{upload_id}/complete"),
        ("get", "/v1/uploads/{upload_id}/parts"),
        ("post", "/v1/accounts/registrations"),
        ("post", "/v1/accounts/registrations/confirm"),
        ("post", "/v1/accounts/password-resets"),
        ("post", "/v1/accounts/password-resets/confirm"),
        ("post", "/v1/auth/token"),
        ("post", "/v1/auth/code"),
        ("post", "/v1/auth/code/token"),
        ("post", "/v1/ops/auth/token"),
        ("post", "/v1/complaints/{number}/access-code/recovery"),
        ("post", "/v1/complaints/{number}/access-code/recovery/confirm"),
        ("post", "/v1/public/feedback"),
        # The company portal's sign-in: an invitation's link and a staff member's password.
        ("post", "/v1/company/invitation"),
        ("post", "/v1/company/invitation/accept"),
        ("post", "/v1/company/auth/token"),
    },
    "evidence": set(),
    "routing": {
        ("get", "/v1/companies"),
        ("get", "/v1/companies/{company_id}"),
        ("get", "/v1/categories"),
        ("get", "/v1/calendar/working-days"),
    },
    "notification": set(),
}
EVERYWHERE_PUBLIC = {("get", "/healthz"), ("get", "/readyz")}
WITH_EXAMPLES = [
    "/v1/complaints",
    "/v1/company/complaints/{number}/response",
    "/v1/complaints/{number}/rating",
    "/v1/complaints/{number}/appeal",
]


async def document(platform, service: str) -> dict[str, Any]:
    answer = await getattr(platform, service).get("/openapi.json")
    assert answer.status_code == 200
    return answer.json()


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method, path): op for path, item in spec["paths"].items() for method, op in item.items()}


def schemes_of(operation: dict[str, Any]) -> set[str]:
    return {name for entry in operation.get("security", ()) for name in entry}


async def test_intake_declares_its_three_security_schemes(platform):
    spec = await document(platform, "intake")
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKey"] == {**schemes["apiKey"], "type": "apiKey", "in": "header", "name": "X-Api-Key"}
    assert schemes["accessCode"] == {**schemes["accessCode"], "type": "apiKey", "in": "header", "name": "X-Access-Code"}
    ops = operations(spec)
    for key in COMPANY_OPERATIONS:
        assert "apiKey" in schemes_of(ops[key]), key
    assert {"bearer", "apiKey", "accessCode"} <= schemes_of(ops[("get", "/v1/complaints/{number}")])
    assert {"bearer", "accessCode"} <= schemes_of(ops[("post", "/v1/complaints/{number}/appeal")])
    # The schemes are the only place the credentials are documented: no header parameter repeats them.
    for key, op in ops.items():
        headers = {p["name"].lower() for p in op.get("parameters", ()) if p["in"] == "header"}
        assert not headers & {"authorization", "x-api-key", "x-access-code"}, key


async def test_operation_ids_are_readable_and_unique_in_every_service(platform):
    for service in SERVICES:
        ids = [op["operationId"] for op in operations(await document(platform, service)).values()]
        assert len(ids) == len(set(ids)), service
        assert [i for i in ids if not OPERATION_ID.match(i)] == [], service
    ops = operations(await document(platform, "intake"))
    assert {key: ops[key]["operationId"] for key in COMPANY_OPERATIONS} == COMPANY_OPERATIONS
    assert ops[("post", "/v1/complaints")]["operationId"] == "complaints.file_complaint"


async def test_what_clients_read_most_answers_a_named_schema_and_the_main_bodies_carry_examples(platform):
    ops = operations(await document(platform, "intake"))
    for method, path, status in TYPED:
        schema = ops[(method, path)]["responses"][status]["content"]["application/json"]["schema"]
        assert schema.get("$ref", "").startswith("#/components/schemas/"), (method, path, schema)
    for path in WITH_EXAMPLES:
        content = ops[("post", path)]["requestBody"]["content"]["application/json"]
        examples = content.get("examples") or content["schema"].get("examples")
        if examples is None:  # declared on the body's model
            name = content["schema"]["$ref"].rsplit("/", 1)[-1]
            examples = (await document(platform, "intake"))["components"]["schemas"][name].get("examples")
        assert examples, path


async def test_the_declared_schemes_leave_every_refusal_as_it_was(platform):
    intake = platform.intake
    number = "GC-20261101-000001"

    too_long = await intake.get(f"/v1/complaints/{number}", headers={"X-Access-Code": "A" * 65})
    assert too_long.status_code == 422 and too_long.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in too_long.json()["errors"]] == ["header.X-Access-Code"]

    for headers in ({"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer nope"}, {"X-Api-Key": "gck_x"}):
        refused = await intake.get("/v1/me/complaints", headers=headers)
        assert refused.status_code == 401 and refused.json()["code"] == "unauthorized", headers
        assert refused.headers["www-authenticate"] == "Bearer"
    assert (await intake.get("/v1/me/complaints")).status_code == 401
    assert (await intake.get("/v1/company/complaints")).status_code == 401
    # A wrong access code is a 404 as before, never a 401 or 403 that would tell the number exists.
    wrong = await intake.get(f"/v1/complaints/{number}", headers={"X-Access-Code": "WRONG-CODE"})
    assert wrong.status_code == 404


def untyped(schema: dict[str, Any], components: dict[str, Any], seen: frozenset[str] = frozenset()) -> str | None:
    """Why ``schema`` tells a client nothing of the answer's shape (None when it is typed): an empty schema, or an
    object with no properties whose values are any JSON; followed through references, unions and arrays."""
    if ref := schema.get("$ref"):
        name = ref.rsplit("/", 1)[-1]
        return None if name in seen else untyped(components[name], components, seen | {name})
    for union in ("anyOf", "oneOf", "allOf"):
        if union in schema:
            return next((why for part in schema[union] if (why := untyped(part, components, seen))), None)
    kind = schema.get("type")
    if kind == "array":
        return untyped(schema.get("items", {}), components, seen)
    if kind in ("string", "integer", "number", "boolean", "null"):
        return None
    if kind == "object" or not kind:
        if schema.get("properties"):
            return None
        values = schema.get("additionalProperties")
        if isinstance(values, dict) and values and untyped(values, components, seen) is None:
            return None
        return f"an untyped object: {schema}" if kind else f"no schema: {schema}"
    return None


async def test_every_operation_of_every_service_answers_a_schema_and_declares_its_security(platform):
    """Every success answer of every operation has a schema a client can generate types from, and every operation
    that is not open to anyone declares the credential it takes."""
    failures = []
    for service in SERVICES:
        spec = await document(platform, service)
        components = spec.get("components", {}).get("schemas", {})
        public = PUBLIC[service] | EVERYWHERE_PUBLIC
        for (method, path), op in operations(spec).items():
            open_to_anyone = (path.startswith("/v1/public/") and service == "intake") or (method, path) in public
            if not open_to_anyone and not schemes_of(op):
                failures.append(f"{service} {method} {path}: no security requirement")
            successes = {status: answer for status, answer in op["responses"].items() if status.startswith("2")}
            if not successes:
                failures.append(f"{service} {method} {path}: no success answer")
            for status, answer in successes.items():
                for media_type, content in answer.get("content", {}).items():
                    if why := untyped(content.get("schema", {}), components):
                        failures.append(f"{service} {method} {path} {status} {media_type}: {why}")
    assert failures == []


def test_the_walk_finds_what_it_looks_for():
    """The check above can fail: an empty schema, an open object and one behind a reference are each found."""
    components = {"Open": {"type": "object", "additionalProperties": True}, "Shut": {"properties": {"a": {}}}}
    assert untyped({}, components)
    assert untyped({"type": "object", "additionalProperties": True}, components)
    assert untyped({"$ref": "#/components/schemas/Open"}, components)
    assert untyped({"anyOf": [{"$ref": "#/components/schemas/Shut"}, {"type": "object"}]}, components)
    assert untyped({"type": "array", "items": {}}, components)
    assert untyped({"$ref": "#/components/schemas/Shut"}, components) is None
    assert untyped({"type": "object", "additionalProperties": {"type": "string"}}, components) is None
