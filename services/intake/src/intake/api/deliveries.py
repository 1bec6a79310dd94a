"""Webhook deliveries and alerts, for staff through the gateway: intake checks the caller's account and
role, and passes the request on to notification's operator API, which owns them.

Operators keep deliveries flowing: deliveries (list, read, redeliver), alerts (list, acknowledge), a
company's endpoint (read, its secret masked; disable, enable). Where webhooks go and what signs them
(setting an endpoint, rotating its secret, whose answer shows the secret in full) is for admins, passed
on with notification's admin token: an operator who could rotate a secret could forge that company's
webhooks.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from greenchannel.problems import Problem
from intake.api.dependencies import AdminDep, Intake, IntakeDep, OperationsDep, OperatorDep
from intake.api.schemas import Alert, AlertPage, DeliveryDetail, DeliveryPage, WebhookEndpoint
from intake.core.operations import Operations
from intake.domain.principals import Principal

router = APIRouter(prefix="/v1/ops", tags=["operators"])

# What staff may reach of notification's API (the routes below say who).
ALLOWED = {
    "GET": ("deliveries", "companies", "alerts"),
    "POST": ("deliveries", "companies", "alerts"),
    "PUT": ("companies",),
}


SEGMENT = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*")  # no dot segments, nothing to escape


def passed_on(model: type[BaseModel], *statuses: int) -> dict[int | str, dict[str, Any]]:
    """The answer's schema for the OpenAPI document only: the bytes notification answers are passed on untouched
    (its refusals too), so the model describes them and validates nothing here."""
    return {
        status: {"model": model, "description": "notification's answer, passed on as it came."}
        for status in (200, *statuses)
    }


async def _pass_on(
    request: Request,
    intake: Intake,
    *,
    as_admin: bool = False,
    audited: tuple[Operations, Principal, str, str] | None = None,
) -> Response:
    """``audited`` (operations, the operator, the action and what it concerns): an action, recorded in the audit
    log once notification carried it out."""
    path = request.url.path.removeprefix("/v1/ops")
    segments = path.strip("/").split("/")
    if segments[0] not in ALLOWED.get(request.method, ()) or not all(SEGMENT.fullmatch(part) for part in segments):
        raise Problem(404, "not_found", "No such operator resource.")
    body = await request.body() if request.method in ("POST", "PUT") else None
    params = list(request.query_params.multi_items())
    if audited is not None:
        operations, operator, action, target = audited
        answer = await operations.notification_action(
            operator, action, target, request.method, f"/v1{path}", params, body or None, as_admin=as_admin
        )
    else:
        answer = await intake.notification.operator_call(
            request.method, f"/v1{path}", params, body or None, as_admin=as_admin
        )
    return Response(
        answer.content,
        status_code=answer.status_code,
        media_type=answer.headers.get("content-type", "application/json"),
    )


@router.get("/deliveries", responses=passed_on(DeliveryPage), summary="Webhook deliveries with their attempts")
async def list_deliveries(request: Request, intake: IntakeDep, _: OperatorDep) -> Response:
    return await _pass_on(request, intake)


@router.get("/deliveries/{webhook_id}", responses=passed_on(DeliveryDetail), summary="One delivery with its attempts")
async def read_delivery(webhook_id: str, request: Request, intake: IntakeDep, _: OperatorDep) -> Response:
    return await _pass_on(request, intake)


@router.post(
    "/deliveries/{webhook_id}/redeliver",
    responses=passed_on(DeliveryDetail),
    summary="Deliver again, with the same webhook-id",
)
async def redeliver(
    webhook_id: str, request: Request, intake: IntakeDep, operator: OperatorDep, operations: OperationsDep
) -> Response:
    return await _pass_on(request, intake, audited=(operations, operator, "webhook_redeliver", webhook_id))


@router.get(
    "/companies/{company_id}/webhook-endpoint",
    responses=passed_on(WebhookEndpoint),
    summary="A company's webhook endpoint",
)
async def read_endpoint(company_id: str, request: Request, intake: IntakeDep, _: OperatorDep) -> Response:
    return await _pass_on(request, intake)


@router.put(
    "/companies/{company_id}/webhook-endpoint",
    summary="Set a company's webhook endpoint (admin)",
    responses=passed_on(WebhookEndpoint, 201),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["url"],
                        "properties": {"url": {"type": "string"}, "secret": {"type": "string"}},
                    }
                }
            },
        }
    },
)
async def set_endpoint(
    company_id: str, request: Request, intake: IntakeDep, admin: AdminDep, operations: OperationsDep
) -> Response:
    return await _pass_on(
        request, intake, as_admin=True, audited=(operations, admin, "webhook_endpoint_set", company_id)
    )


@router.post(
    "/companies/{company_id}/webhook-endpoint/rotate-secret",
    summary="Rotate the signing secret of a company's webhook endpoint; shown in full once (admin)",
    responses=passed_on(WebhookEndpoint),
)
async def rotate_secret(
    company_id: str, request: Request, intake: IntakeDep, admin: AdminDep, operations: OperationsDep
) -> Response:
    return await _pass_on(
        request, intake, as_admin=True, audited=(operations, admin, "webhook_secret_rotate", company_id)
    )


@router.post(
    "/companies/{company_id}/webhook-endpoint/{action}",
    responses=passed_on(WebhookEndpoint),
    summary="Disable or enable a company's webhook endpoint",
)
async def change_endpoint(
    company_id: str, action: str, request: Request, intake: IntakeDep, operator: OperatorDep, operations: OperationsDep
) -> Response:
    # rotate-secret is the admin's route above (matched first); any other action is notification's 404.
    audited = (operations, operator, f"webhook_endpoint_{action}"[:40], company_id)
    return await _pass_on(request, intake, audited=audited)


@router.get("/alerts", responses=passed_on(AlertPage), summary="Operator alerts")
async def list_alerts(request: Request, intake: IntakeDep, _: OperatorDep) -> Response:
    return await _pass_on(request, intake)


@router.post("/alerts/{alert_id}/ack", responses=passed_on(Alert), summary="Acknowledge an alert")
async def acknowledge_alert(
    alert_id: str, request: Request, intake: IntakeDep, operator: OperatorDep, operations: OperationsDep
) -> Response:
    return await _pass_on(request, intake, audited=(operations, operator, "alert_ack", alert_id))
