"""Webhook deliveries and alerts, for operators through the gateway: intake checks the operator's
account and role, and passes the request on to notification's operator API, which owns them."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from greenchannel.problems import Problem

from intake.api.deps import IntakeDep, OperatorDep

router = APIRouter(prefix="/v1/ops", tags=["operators"])

# What operators may reach of notification's API: deliveries (list, read, redeliver), company
# endpoints (read, disable, enable, rotate the secret) and alerts (list, acknowledge).
ALLOWED = {
    "GET": ("deliveries", "companies", "alerts"),
    "POST": ("deliveries", "companies", "alerts"),
}


@router.api_route("/deliveries", methods=["GET"], summary="Webhook deliveries with their attempts")
@router.api_route("/deliveries/{path:path}", methods=["GET", "POST"], summary="One delivery; redeliver it")
@router.api_route("/companies/{company_id}/webhook-endpoint", methods=["GET"], summary="A company's webhook endpoint")
@router.api_route("/companies/{company_id}/webhook-endpoint/{action}", methods=["POST"],
                  summary="Disable, enable, or rotate the secret of a company's webhook endpoint")
@router.api_route("/alerts", methods=["GET"], summary="Operator alerts")
@router.api_route("/alerts/{path:path}", methods=["POST"], summary="Acknowledge an alert")
async def pass_on(request: Request, intake: IntakeDep, _: OperatorDep) -> Response:
    path = request.url.path.removeprefix("/v1/ops")
    if not path.lstrip("/").startswith(ALLOWED.get(request.method, ())):
        raise Problem(404, "not_found", "No such operator resource.")
    body = await request.body() if request.method == "POST" else None
    answer = await intake.notification.operator_call(request.method, f"/v1{path}",
                                                     list(request.query_params.multi_items()), body or None)
    return Response(answer.content, status_code=answer.status_code,
                    media_type=answer.headers.get("content-type", "application/json"))
