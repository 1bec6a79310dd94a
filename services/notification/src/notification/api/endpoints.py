"""Operator API for company webhook endpoints: register or change (PUT), read (GET), disable (DELETE, or
POST .../disable with a reason), enable again (POST .../enable) and rotate the signing secret
(POST .../rotate-secret), and send it a test webhook (POST .../test). Registering or changing an endpoint and rotating its secret take the admin's
token; the rest the operator's or the admin's.

A test webhook (``webhook.test``) is a delivery like any other, found in the delivery log with its attempts; it
concerns no complaint. An ``Idempotency-Key`` makes a retried request answer the delivery it made instead of sending
another.

A signing secret is shown in full once, in the answer that created it (the endpoint's creation or
a rotation); every other answer masks it. Enabling, like a PUT, releases the deliveries that
waited while the endpoint was disabled.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from notification.api.deliveries import DeliveryDetail, delivery_detail
from notification.api.dependencies import WebhookEndpointsDep, require_admin, require_operator
from notification.domain.secrets import mask_secret
from notification.domain.targets import MAX_URL_LENGTH

router = APIRouter(prefix="/v1/companies", tags=["webhook endpoints"], dependencies=[Depends(require_operator)])
ADMIN_ONLY = [Depends(require_admin)]  # what decides where webhooks go and what signs them

CompanyId = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,100}$", description="The company's id in the directory.")]


class EndpointRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        max_length=MAX_URL_LENGTH,
        description="https URL the webhooks are POSTed to (plain http in development mode only).",
    )
    secret: str | None = Field(
        default=None,
        max_length=200,
        description="Standard Webhooks secret (whsec_ + base64 of 24-64 bytes). Generated when left out on creation; "
        "kept when left out on a change.",
    )


DEFAULT_OVERLAP_S = 86400
MAX_OVERLAP_S = 30 * 86400


class Disabling(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=300, description="Why the endpoint is disabled (shown to operators).")


class SecretRotation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_s: float = Field(
        default=DEFAULT_OVERLAP_S,
        ge=0,
        le=MAX_OVERLAP_S,
        description="How long the previous secret stays valid; webhooks carry a signature with each secret meanwhile. "
        "0 ends the previous secret at once.",
    )


class EndpointView(BaseModel):
    company_id: str
    url: str
    status: str = Field(description="enabled, or disabled (by an operator or after 410 Gone).")
    disabled_reason: str | None = Field(default=None, description="gone (after 410), or the operator's reason.")
    disabled_at: datetime | None = None
    secret: str = Field(
        description="In full only in the answer that created it (the endpoint or a rotation); masked otherwise."
    )
    secret_masked: bool
    previous_secret: str | None = Field(
        default=None, description="After a rotation, the replaced secret (masked) while it is still valid."
    )
    previous_expires_at: datetime | None = Field(default=None, description="When the previous secret stops being used.")
    created_at: datetime
    updated_at: datetime


def _view(endpoint: dict[str, Any], *, reveal_secret: bool) -> EndpointView:
    previous = endpoint.get("previous_secret")
    previous_expires_at = endpoint.get("previous_expires_at")
    if previous_expires_at is None or previous_expires_at <= datetime.now(UTC):
        previous, previous_expires_at = None, None  # the window closed: the previous secret is no longer used
    return EndpointView(
        company_id=endpoint["_id"],
        url=endpoint["url"],
        status=endpoint["status"],
        disabled_reason=endpoint.get("disabled_reason"),
        disabled_at=endpoint.get("disabled_at"),
        secret=endpoint["secret"] if reveal_secret else mask_secret(endpoint["secret"]),
        secret_masked=not reveal_secret,
        previous_secret=mask_secret(previous) if previous else None,
        previous_expires_at=previous_expires_at,
        created_at=endpoint["created_at"],
        updated_at=endpoint["updated_at"],
    )


@router.put(
    "/{company_id}/webhook-endpoint",
    response_model=EndpointView,
    dependencies=ADMIN_ONLY,
    responses={201: {"model": EndpointView, "description": "Created; the answer shows the secret in full, once."}},
)
async def put_endpoint(
    company_id: CompanyId, registration: EndpointRegistration, response: Response, endpoints: WebhookEndpointsDep
) -> EndpointView:
    endpoint, created = await endpoints.register(company_id, registration.url, registration.secret)
    response.status_code = 201 if created else 200
    return _view(endpoint, reveal_secret=created)


@router.get("/{company_id}/webhook-endpoint", response_model=EndpointView)
async def get_endpoint(company_id: CompanyId, endpoints: WebhookEndpointsDep) -> EndpointView:
    return _view(await endpoints.get(company_id), reveal_secret=False)


@router.delete("/{company_id}/webhook-endpoint", status_code=204)
async def delete_endpoint(company_id: CompanyId, endpoints: WebhookEndpointsDep) -> Response:
    await endpoints.disable(company_id, "disabled_by_operator")
    return Response(status_code=204)


@router.post("/{company_id}/webhook-endpoint/disable", response_model=EndpointView)
async def disable_endpoint(company_id: CompanyId, disabling: Disabling, endpoints: WebhookEndpointsDep) -> EndpointView:
    """New deliveries, and those due next, wait (``no_endpoint``) until the endpoint is enabled again."""
    return _view(await endpoints.disable(company_id, disabling.reason), reveal_secret=False)


@router.post("/{company_id}/webhook-endpoint/enable", response_model=EndpointView)
async def enable_endpoint(company_id: CompanyId, endpoints: WebhookEndpointsDep) -> EndpointView:
    return _view(await endpoints.enable(company_id), reveal_secret=False)


@router.post("/{company_id}/webhook-endpoint/rotate-secret", response_model=EndpointView, dependencies=ADMIN_ONLY)
async def rotate_secret(
    company_id: CompanyId,
    endpoints: WebhookEndpointsDep,
    rotation: Annotated[SecretRotation | None, Body(description="Optional; overlap_s defaults to one day.")] = None,
) -> EndpointView:
    """A new secret, answered in full this once; the previous one signs too until ``previous_expires_at``."""
    rotation = rotation or SecretRotation()
    return _view(await endpoints.rotate_secret(company_id, rotation.overlap_s), reveal_secret=True)


@router.post("/{company_id}/webhook-endpoint/test", response_model=DeliveryDetail, status_code=201)
async def send_test(
    company_id: CompanyId,
    endpoints: WebhookEndpointsDep,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", description="The same key again answers the delivery made, sending nothing."),
    ] = None,
) -> DeliveryDetail:
    """A test webhook (``webhook.test``, no complaint) to the enabled endpoint, now; 409 while it is disabled."""
    return delivery_detail(await endpoints.send_test(company_id, idempotency_key))
