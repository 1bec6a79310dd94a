"""Webhook deliveries and alerts, for operators through the gateway: intake checks the operator's
account and role, and passes the request on to notification's operator API, which owns them."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request, Response
from greenchannel.problems import Problem

from intake.api.deps import Intake, IntakeDep, OperatorDep

router = APIRouter(prefix="/v1/ops", tags=["operators"])

# What operators may reach of notification's API: deliveries (list, read, redeliver), company
# endpoints (read, disable, enable, rotate the secret) and alerts (list, acknowledge).
ALLOWED = {
    "GET": ("deliveries", "companies", "alerts"),
    "POST": ("deliveries", "companies", "alerts"),
}


SEGMENT = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*")  # no dot segments, nothing to escape


async def _pass_on(request: Request, intake: Intake) -> Response:
    path = request.url.path.removeprefix("/v1/ops")
    segments = path.strip("/").split("/")
    if segments[0] not in ALLOWED.get(request.method, ()) or not all(SEGMENT.fullmatch(part) for part in segments):
        raise Problem(404, "not_found", "No such operator resource.")
    body = await request.body() if request.method == "POST" else None
    answer = await intake.notification.operator_call(request.method, f"/v1{path}",
                                                     list(request.query_params.multi_items()), body or None)
    return Response(answer.content, status_code=answer.status_code,
                    media_type=answer.headers.get("content-type", "application/json"))


@router.get("/deliveries", summary="Webhook deliveries with their attempts")
async def list_deliveries(request: Request, intake: IntakeDep, _: OperatorDep) -> Response:
    return await _pass_on(request, intake)


@router.get("/deliveries/{webhook_id}", summary="One delivery with its attempts")
async def read_delivery(webhook_id: str, request: Request, intake: IntakeDep, _: OperatorDep) -> Response:
    return await _pass_on(request, intake)


@router.post("/deliveries/{webhook_id}/redeliver", summary="Deliver again, with the same webhook-id")
async def redeliver(webhook_id: str, request: Request, intake: IntakeDep, _: OperatorDep) -> Response:
    return await _pass_on(request, intake)


@router.get("/companies/{company_id}/webhook-endpoint", summary="A company's webhook endpoint")
async def read_endpoint(company_id: str, request: Request, intake: IntakeDep, _: OperatorDep) -> Response:
    return await _pass_on(request, intake)


@router.post("/companies/{company_id}/webhook-endpoint/{action}",
             summary="Disable, enable, or rotate the secret of a company's webhook endpoint")
async def change_endpoint(company_id: str, action: str, request: Request, intake: IntakeDep, _: OperatorDep) -> Response:
    return await _pass_on(request, intake)


@router.get("/alerts", summary="Operator alerts")
async def list_alerts(request: Request, intake: IntakeDep, _: OperatorDep) -> Response:
    return await _pass_on(request, intake)


@router.post("/alerts/{alert_id}/ack", summary="Acknowledge an alert")
async def acknowledge_alert(alert_id: str, request: Request, intake: IntakeDep, _: OperatorDep) -> Response:
    return await _pass_on(request, intake)
