"""Property-based fuzzing of every service's published OpenAPI schema with schemathesis, over real HTTP.

Each operation gets a bounded number of generated requests, valid by the schema (positive) and
invalid (negative), once without credentials and once with a caller the operation accepts.
No answer may be a server error; every answer must match what the schema documents for its status,
and every 4xx must be a problem document with its ``code``. The servers run in this test's event loop, so the (blocking) schemathesis calls run in a thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance

from devstack.accounts import register
from devstack.platform import INTERNAL_TOKEN, OPERATOR_TOKEN

pytestmark = [
    pytest.mark.slow,
    pytest.mark.integration,
    # schemathesis' own strategies draw from `random`; Hypothesis warns about it, it is not ours to fix.
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

SERVICES = ("intake", "evidence", "routing", "notification")
# Enough to reach every parameter's edge cases (schemathesis starts with its boundary values) while the
# whole module stays within about a minute on two cores. Invalid requests are refused by validation before
# a caller's rights matter, so the signed-in pass sends valid ones only.
EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 5}
# Uploads stream files to object storage; their hostile input (sizes, types) is tested in evidence's own tests.
UPLOAD_MEDIA_TYPES = ("multipart/form-data", "*/*", "application/octet-stream")
ADMIN = {"login": "admin", "password": "development-only-admin-password"}


def error_is_a_problem_document(ctx: Any, response: Any, case: Any) -> None:
    """Every 4xx is an RFC 9457 problem document with the machine-readable ``code`` clients branch on."""
    if not 400 <= response.status_code < 500:
        return
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.startswith("application/problem+json"), (
        f"{response.status_code} answered {content_type!r}, not application/problem+json"
    )
    body = response.json()
    assert (
        isinstance(body, dict) and isinstance(body.get("code"), str) and body.get("status") == response.status_code
    ), f"{response.status_code} answered a body without its code and status: {body!r}"


CHECKS = [not_a_server_error, response_schema_conformance, error_is_a_problem_document]


def is_upload(operation: Any) -> bool:
    content = (operation.definition.raw.get("requestBody") or {}).get("content", {})
    return any(media_type in content for media_type in UPLOAD_MEDIA_TYPES)


def describe(error: BaseException) -> str:
    """The failure with schemathesis' reproduction (a curl command), which it keeps in the exception's notes."""
    parts = [str(error), *getattr(error, "__notes__", [])]
    parts.extend(describe(inner) for inner in getattr(error, "exceptions", ()))
    return "\n".join(part for part in parts if part)


def fuzz(schema_url: str, base_url: str, credentials: Callable[[str], dict[str, str]] | None) -> list[str]:
    """Run every operation of the schema at ``schema_url``; answer the failures as readable lines."""
    schema = schemathesis.openapi.from_url(schema_url, timeout=30)
    failures: list[str] = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            failures.append(f"schema: {result.err()}")
            continue
        operation = result.ok()
        if is_upload(operation):
            continue
        headers = credentials(operation.path) if credentials else {}
        for mode, examples in EXAMPLES.items():
            if credentials and mode is GenerationMode.NEGATIVE:
                continue
            try:
                fuzz_operation(operation, mode, examples, base_url, headers)
            except hypothesis.errors.Unsatisfiable:
                continue  # nothing in this operation can be made invalid (no parameters, no body)
            except (Exception, BaseExceptionGroup) as error:
                failures.append(
                    f"{operation.label} [{mode.value}{', signed in' if headers else ''}]: {describe(error)}"
                )
    return failures


def fuzz_operation(operation: Any, mode: GenerationMode, examples: int, base_url: str, headers: dict[str, str]) -> None:
    """Send ``examples`` generated requests to one operation; raise what the checks found."""

    @hypothesis.settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode, headers=headers or None))
    def run(case: Any) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS, timeout=30)

    run()


@pytest.fixture(scope="module")
async def credentials(platform) -> dict[str, Callable[[str], dict[str, str]]]:
    """For each service, the headers of a caller each operation (by path) accepts."""
    signed_in = await platform.intake.post("/v1/ops/auth/token", json=ADMIN)
    assert signed_in.status_code == 200, signed_in.text
    admin = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    company_id = (await platform.routing.get("/v1/companies", params={"limit": 1})).json()["items"][0]["id"]
    issued = await platform.intake.post(
        f"/v1/ops/companies/{company_id}/api-keys", json={"label": "fuzz"}, headers=admin
    )
    assert issued.status_code == 201, issued.text
    company = {"X-Api-Key": issued.json()["api_key"]}
    account = {"login": "fuzz@example.com", "password": "fuzzing-password-1"}
    await register(platform.intake, platform.mailbox, account["login"], account["password"])
    token = (await platform.intake.post("/v1/auth/token", json=account)).json()["access_token"]
    complainant = {"Authorization": f"Bearer {token}"}
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    internal = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}

    def intake(path: str) -> dict[str, str]:
        if path.startswith(("/v1/ops/", "/v1/regulator/")):
            return admin
        if path.startswith("/v1/company/"):
            return company
        return complainant

    return {
        "intake": intake,
        "evidence": lambda path: (
            operator if path.endswith(("/verify", "/release")) or path == "/v1/held-evidence" else internal
        ),
        "routing": lambda path: operator,
        "notification": lambda path: internal if path.startswith("/v1/messages") else operator,
    }


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
@pytest.mark.parametrize("service", SERVICES)
async def test_no_server_error_and_answers_match_the_schema(platform, credentials, service, signed_in):
    base_url = str(getattr(platform, service).base_url).rstrip("/")
    failures = await asyncio.to_thread(
        fuzz, f"{base_url}/openapi.json", base_url, credentials[service] if signed_in else None
    )
    assert not failures, "\n\n".join(failures)
