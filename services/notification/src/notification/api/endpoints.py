"""Operator API for company webhook endpoints: register or change (PUT), read (GET), disable (DELETE).

The signing secret is shown in full once, in the answer that created the endpoint; every other
answer masks it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from greenchannel.problems import Problem
from pydantic import BaseModel, ConfigDict, Field

from notification.adapters.resolver import TargetForbidden, TargetUnresolvable
from notification.api.dependencies import Deliveries, Endpoints, Guard, Worker, require_operator
from notification.domain.secrets import InvalidSecret, generate_secret, mask_secret, validate_secret
from notification.domain.targets import MAX_URL_LENGTH, InvalidWebhookUrl, parse_target

router = APIRouter(prefix="/v1/companies", tags=["webhook endpoints"], dependencies=[Depends(require_operator)])

CompanyId = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,100}$", description="The company's id in the directory.")]


class EndpointRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=MAX_URL_LENGTH, description="http(s) URL the webhooks are POSTed to.")
    secret: str | None = Field(
        default=None, max_length=200,
        description="Standard Webhooks secret (whsec_ + base64 of 24-64 bytes). Generated when left out on creation; "
        "kept when left out on a change.",
    )


class EndpointView(BaseModel):
    company_id: str
    url: str
    status: str = Field(description="enabled, or disabled (by an operator or after 410 Gone).")
    disabled_reason: str | None = None
    secret: str = Field(description="In full only in the answer that created the endpoint; masked otherwise.")
    secret_masked: bool
    created_at: datetime
    updated_at: datetime


def _view(endpoint: dict[str, Any], *, reveal_secret: bool) -> EndpointView:
    return EndpointView(
        company_id=endpoint["_id"], url=endpoint["url"], status=endpoint["status"],
        disabled_reason=endpoint.get("disabled_reason"),
        secret=endpoint["secret"] if reveal_secret else mask_secret(endpoint["secret"]), secret_masked=not reveal_secret,
        created_at=endpoint["created_at"], updated_at=endpoint["updated_at"],
    )


@router.put(
    "/{company_id}/webhook-endpoint",
    response_model=EndpointView,
    responses={201: {"model": EndpointView, "description": "Created; the answer shows the secret in full, once."}},
)
async def put_endpoint(
    company_id: CompanyId, registration: EndpointRegistration, response: Response,
    endpoints: Endpoints, deliveries: Deliveries, guard: Guard, worker: Worker,
) -> EndpointView:
    try:
        target = parse_target(registration.url)
    except InvalidWebhookUrl as error:
        raise Problem(422, "invalid_webhook_url", str(error)) from None
    try:
        await guard.resolve(target)
    except TargetForbidden as error:
        raise Problem(422, "webhook_target_forbidden", f"{error}.", reason=error.reason) from None
    except TargetUnresolvable as error:
        raise Problem(422, "webhook_target_unresolvable", f"{error}.") from None
    secret = registration.secret
    if secret is not None:
        try:
            validate_secret(secret)
        except InvalidSecret as error:
            raise Problem(422, "invalid_webhook_secret", str(error)) from None
    elif await endpoints.get(company_id) is None:
        secret = generate_secret()
    endpoint, created = await endpoints.upsert(company_id, target.url, secret)
    # Deliveries that waited for an endpoint are due now (after the endpoint committed: see the handler).
    if await deliveries.release_parked(company_id):
        worker.wake()
    response.status_code = 201 if created else 200
    return _view(endpoint, reveal_secret=created)


@router.get("/{company_id}/webhook-endpoint", response_model=EndpointView)
async def get_endpoint(company_id: CompanyId, endpoints: Endpoints) -> EndpointView:
    endpoint = await endpoints.get(company_id)
    if endpoint is None:
        raise Problem(404, "endpoint_not_found", f"Company {company_id} has no webhook endpoint.")
    return _view(endpoint, reveal_secret=False)


@router.delete("/{company_id}/webhook-endpoint", status_code=204)
async def disable_endpoint(company_id: CompanyId, endpoints: Endpoints) -> Response:
    if not await endpoints.disable(company_id, "disabled_by_operator"):
        raise Problem(404, "endpoint_not_found", f"Company {company_id} has no webhook endpoint.")
    return Response(status_code=204)
