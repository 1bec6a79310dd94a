"""Operator API for alerts: ``GET /v1/alerts`` (newest first) and ``POST /v1/alerts/{id}/ack``.

Kinds: ``endpoint_gone`` (an endpoint answered 410 and was disabled), ``endpoint_failing`` (a
company's attempts failed ``alert_failure_threshold`` times in a row), ``delivery_failed`` (a
delivery exhausted its retry schedule), ``case_overdue`` (a company missed its response deadline).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AwareDatetime, BaseModel, Field

from notification.api.dependencies import AlertAcknowledgementDep, Alerts, require_operator
from notification.domain.alerts import AlertKind

router = APIRouter(prefix="/v1/alerts", tags=["operator alerts"], dependencies=[Depends(require_operator)])


class AlertView(BaseModel):
    id: str
    kind: AlertKind
    company_id: str | None
    number: str | None = Field(description="The complaint concerned, when there is one.")
    webhook_id: str | None = Field(description="The delivery concerned, when there is one.")
    detail: str
    created_at: datetime
    acked_at: datetime | None = Field(description="When an operator acknowledged it; null while open.")


class AlertPage(BaseModel):
    items: list[AlertView]


def _view(alert: dict[str, Any]) -> AlertView:
    return AlertView(
        id=alert["_id"],
        kind=alert["kind"],
        company_id=alert.get("company_id"),
        number=alert.get("number"),
        webhook_id=alert.get("webhook_id"),
        detail=alert["detail"],
        created_at=alert["created_at"],
        acked_at=alert.get("acked_at"),
    )


@router.get("", response_model=AlertPage)
async def list_alerts(
    alerts: Alerts,
    since: Annotated[
        AwareDatetime | None, Query(description="Only alerts raised at or after this time (ISO 8601 with offset).")
    ] = None,
    kind: AlertKind | None = None,
    company_id: Annotated[str | None, Query(max_length=100)] = None,
    acknowledged: Annotated[bool | None, Query(description="true: acknowledged only; false: open only.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AlertPage:
    found = await alerts.search(since=since, kind=kind, company_id=company_id, acknowledged=acknowledged, limit=limit)
    return AlertPage(items=[_view(alert) for alert in found])


@router.post("/{alert_id}/ack", response_model=AlertView)
async def acknowledge_alert(
    acknowledgement: AlertAcknowledgementDep, alert_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
) -> AlertView:
    return _view(await acknowledgement.acknowledge(alert_id))
