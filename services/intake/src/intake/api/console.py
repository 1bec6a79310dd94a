"""What the operator console (``/ops/``) reads that no other operator route gives: the dashboard's figures."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from intake.api.dependencies import OperatorDep
from intake.core.dashboard import Dashboard

router = APIRouter(prefix="/v1/ops", tags=["operators"])


class DashboardFigures(BaseModel):
    queues: dict[str, int] = Field(description="Each work queue's count, by its `kind` of GET /v1/ops/queue.")
    dead_letters: dict[str, int] = Field(description="Pending dead letters of each service's queue.")
    open_alerts: int | None = Field(description="Alerts not acknowledged; null while notification does not answer.")
    failing_endpoints: list[str] | None = Field(
        description="Companies whose webhook endpoint has an open `endpoint_failing` or `endpoint_gone` alert."
    )


def _dashboard(request: Request) -> Dashboard:
    return request.app.state.dashboard


DashboardDep = Annotated[Dashboard, Depends(_dashboard)]


@router.get("/dashboard", response_model=DashboardFigures, summary="The console's dashboard: what waits for operators")
async def dashboard(_: OperatorDep, figures: DashboardDep) -> dict[str, Any]:
    return await figures.figures()
