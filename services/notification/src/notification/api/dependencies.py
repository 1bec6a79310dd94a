"""Request dependencies: the operator's bearer token and the collaborators the app built at start-up."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request
from greenchannel.problems import Problem

from notification.adapters.deliveries import DeliveryRepository
from notification.adapters.endpoints import EndpointRepository
from notification.adapters.resolver import TargetGuard
from notification.worker import DeliveryWorker


def require_operator(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """Operator-only endpoints take ``Authorization: Bearer <OPERATOR_TOKEN>`` (operator accounts come later)."""
    expected = request.app.state.settings.operator_token
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise Problem(401, "unauthorized", "This endpoint needs the operator's bearer token.",
                      headers={"WWW-Authenticate": "Bearer"})


def _endpoints(request: Request) -> EndpointRepository:
    return request.app.state.endpoints


def _deliveries(request: Request) -> DeliveryRepository:
    return request.app.state.deliveries


def _guard(request: Request) -> TargetGuard:
    return request.app.state.target_guard


def _worker(request: Request) -> DeliveryWorker:
    return request.app.state.delivery_worker


Endpoints = Annotated[EndpointRepository, Depends(_endpoints)]
Deliveries = Annotated[DeliveryRepository, Depends(_deliveries)]
Guard = Annotated[TargetGuard, Depends(_guard)]
Worker = Annotated[DeliveryWorker, Depends(_worker)]
