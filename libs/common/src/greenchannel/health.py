"""Liveness and readiness endpoints for probes: /healthz (the process lives), /readyz (its dependencies answer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

ReadinessCheck = Callable[[], Awaitable[bool]]


class Liveness(BaseModel):
    status: str = Field(description="Always `ok`: the process answers.")


class Readiness(BaseModel):
    status: str = Field(description="`ready`, `degraded` (ready, a degradable dependency away) or `not_ready` (503).")
    checks: dict[str, str] = Field(description="Each dependency: `ok` or `unavailable`.")
    degraded: list[str] | None = Field(
        default=None, description="The degradable dependencies that are away; only present when there are some."
    )


def health_router(
    checks: Callable[[], dict[str, ReadinessCheck]], degradable: frozenset[str] = frozenset()
) -> APIRouter:
    """``checks`` is called per request, so it can read the dependencies the app built at start-up.

    A failing check named in ``degradable`` is reported but keeps the service ready: intake goes on
    accepting complaints into its outbox while the broker is away, so it must stay in rotation.
    """
    router = APIRouter(tags=["health"])

    @router.get("/healthz", response_model=Liveness)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # The answer is built by hand (its status code follows the checks): the model documents it.
    @router.get("/readyz", responses={200: {"model": Readiness}, 503: {"model": Readiness}})
    async def readyz() -> JSONResponse:
        named = checks()
        results = await asyncio.gather(*(_bounded(check) for check in named.values()))
        status = dict(zip(named, ("ok" if ok else "unavailable" for ok in results), strict=True))
        degraded = sorted(name for name, ok in zip(named, results, strict=True) if not ok and name in degradable)
        ready = all(ok or name in degradable for name, ok in zip(named, results, strict=True))
        body: dict[str, Any] = {
            "status": ("degraded" if degraded else "ready") if ready else "not_ready",
            "checks": status,
        }
        if degraded:
            body["degraded"] = degraded
        return JSONResponse(body, status_code=200 if ready else 503)

    return router


async def _bounded(check: ReadinessCheck) -> bool:
    try:
        return await asyncio.wait_for(check(), timeout=3)
    except Exception:  # noqa: BLE001 - a check that fails or hangs means "not ready"
        return False
