"""Readiness answers: a required dependency down makes the service not ready; a degradable one only degrades it."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from greenchannel.health import health_router

pytestmark = pytest.mark.unit


async def ok() -> bool:
    return True


async def down() -> bool:
    return False


async def broken() -> bool:
    raise ConnectionError("refused")


def client_for(checks, degradable=frozenset()) -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(health_router(lambda: checks, degradable))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service")


async def test_all_dependencies_answer():
    async with client_for({"store": ok, "broker": ok}) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"store": "ok", "broker": "ok"}}


async def test_a_required_dependency_down_is_not_ready():
    async with client_for({"store": broken, "broker": ok}, frozenset({"broker"})) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"store": "unavailable", "broker": "ok"}


async def test_a_degradable_dependency_down_keeps_the_service_ready_and_says_so():
    async with client_for({"store": ok, "broker": down}, frozenset({"broker"})) as client:
        response = await client.get("/readyz")
        alive = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {"store": "ok", "broker": "unavailable"},
        "degraded": ["broker"],
    }
    assert alive.json() == {"status": "ok"}
