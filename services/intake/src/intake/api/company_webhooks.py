"""A company administrator's webhook endpoint and delivery log, passed on to notification, which owns them (as
``intake.api.deliveries`` does for operators): the company is always the caller's own, never one named in the
request, so an administrator reaches only their company's endpoint and deliveries (another's delivery is 404).

A test event (``webhook.test``, about no complaint) is sent to the endpoint on request, signed like every webhook,
and found in the delivery log with its attempts; the same ``Idempotency-Key`` again answers the test it sent.

Registering the endpoint answers its signing secret in full once (generated when none is given); a rotation answers
the new one once and keeps the previous valid for the overlap asked, during which every webhook carries both
signatures. Setting the endpoint and rotating its secret go with notification's admin token, as an operator admin's
would: what decides where a company's webhooks go is the company's administrators' and the platform's admins' alone.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from greenchannel.problems import Problem
from intake.api.deliveries import passed_on
from intake.api.dependencies import CompanyAdminDep, IdempotencyKey, Intake, IntakeDep
from intake.api.schemas import DeliveryDetail, DeliveryPage, WebhookEndpoint

router = APIRouter(prefix="/v1/company", tags=["company staff"])

WebhookId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,100}$", description="The delivery's webhook-id.")]
DeliveryStatusFilter = Annotated[str | None, Query(pattern=r"^[a-z_]{1,30}$")]


class Endpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2000, description="https URL the webhooks are POSTed to.")
    secret: str | None = Field(default=None, max_length=200, description="Generated when left out (shown once).")


class Rotation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    overlap_s: float = Field(
        default=86400, ge=0, le=30 * 86400, description="How long the previous secret stays valid."
    )


class Disabling(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=300)


def _endpoint_path(company_id: str) -> str:
    return f"/v1/companies/{quote(company_id, safe='')}/webhook-endpoint"


async def _call(
    intake: Intake,
    method: str,
    path: str,
    *,
    params: list[tuple[str, str]] | None = None,
    body: BaseModel | None = None,
    as_admin: bool = False,
    idempotency_key: str | None = None,
) -> Response:
    answer = await intake.notification.operator_call(
        method,
        path,
        params or [],
        body.model_dump_json().encode() if body is not None else None,
        as_admin=as_admin,
        idempotency_key=idempotency_key,
    )
    return Response(
        answer.content,
        status_code=answer.status_code,
        media_type=answer.headers.get("content-type", "application/json"),
    )


@router.get(
    "/webhook-endpoint",
    responses=passed_on(WebhookEndpoint),
    operation_id="company.webhook.read",
    summary="Your webhook endpoint (secret masked)",
)
async def read_endpoint(intake: IntakeDep, administrator: CompanyAdminDep) -> Response:
    return await _call(intake, "GET", _endpoint_path(administrator.id))


@router.put(
    "/webhook-endpoint",
    responses=passed_on(WebhookEndpoint, 201),
    operation_id="company.webhook.set",
    summary="Register or change your webhook endpoint; a new secret is shown once",
)
async def set_endpoint(body: Endpoint, intake: IntakeDep, administrator: CompanyAdminDep) -> Response:
    return await _call(intake, "PUT", _endpoint_path(administrator.id), body=body, as_admin=True)


@router.post(
    "/webhook-endpoint/rotate-secret",
    responses=passed_on(WebhookEndpoint),
    operation_id="company.webhook.rotate",
    summary="Rotate the signing secret with an overlap; the new secret is shown once",
)
async def rotate_secret(body: Rotation, intake: IntakeDep, administrator: CompanyAdminDep) -> Response:
    return await _call(intake, "POST", _endpoint_path(administrator.id) + "/rotate-secret", body=body, as_admin=True)


@router.post(
    "/webhook-endpoint/disable",
    responses=passed_on(WebhookEndpoint),
    operation_id="company.webhook.disable",
    summary="Disable your endpoint",
)
async def disable_endpoint(body: Disabling, intake: IntakeDep, administrator: CompanyAdminDep) -> Response:
    return await _call(intake, "POST", _endpoint_path(administrator.id) + "/disable", body=body)


@router.post(
    "/webhook-endpoint/enable",
    responses=passed_on(WebhookEndpoint),
    operation_id="company.webhook.enable",
    summary="Enable your endpoint again; deliveries that waited are sent",
)
async def enable_endpoint(intake: IntakeDep, administrator: CompanyAdminDep) -> Response:
    return await _call(intake, "POST", _endpoint_path(administrator.id) + "/enable")


@router.post(
    "/webhook-endpoint/test",
    operation_id="company.webhook.test",
    summary="Send a test event (webhook.test) to your endpoint; it appears in your delivery log",
    status_code=201,
    responses=passed_on(DeliveryDetail, 201),
)
async def send_test(
    intake: IntakeDep, administrator: CompanyAdminDep, idempotency_key: IdempotencyKey = None
) -> Response:
    # An administrator's, like registering the endpoint: it calls the company's systems in the platform's name.
    return await _call(intake, "POST", _endpoint_path(administrator.id) + "/test", idempotency_key=idempotency_key)


@router.get(
    "/deliveries",
    responses=passed_on(DeliveryPage),
    operation_id="company.deliveries.list",
    summary="Your webhook deliveries with their attempts",
)
async def list_deliveries(
    intake: IntakeDep,
    administrator: CompanyAdminDep,
    status: DeliveryStatusFilter = None,
    number: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    params = [("company_id", administrator.id), ("limit", str(limit))]
    params += [(name, value) for name, value in (("status", status), ("number", number)) if value is not None]
    return await _call(intake, "GET", "/v1/deliveries", params=params)


async def _own_delivery(intake: Intake, company_id: str, webhook_id: str) -> Response:
    """The delivery with its payload, when it is the company's; 404 like a missing one otherwise."""
    answer = await _call(intake, "GET", f"/v1/deliveries/{webhook_id}")
    if answer.status_code == 200:
        delivery: dict[str, Any] = json.loads(bytes(answer.body))
        if delivery.get("company_id") == company_id:
            return answer
    elif answer.status_code != 404:
        return answer
    raise Problem(404, "delivery_not_found", "Your company has no delivery with this webhook-id.")


@router.get(
    "/deliveries/{webhook_id}",
    responses=passed_on(DeliveryDetail),
    operation_id="company.deliveries.get",
    summary="One delivery with its attempts",
)
async def read_delivery(webhook_id: WebhookId, intake: IntakeDep, administrator: CompanyAdminDep) -> Response:
    return await _own_delivery(intake, administrator.id, webhook_id)


@router.post(
    "/deliveries/{webhook_id}/redeliver",
    responses=passed_on(DeliveryDetail),
    operation_id="company.deliveries.redeliver",
    summary="Deliver again, with the same webhook-id",
)
async def redeliver(webhook_id: WebhookId, intake: IntakeDep, administrator: CompanyAdminDep) -> Response:
    await _own_delivery(intake, administrator.id, webhook_id)
    return await _call(intake, "POST", f"/v1/deliveries/{webhook_id}/redeliver")
