"""Request dependencies: the operator's and the internal bearer tokens, and the collaborators the app built at start-up."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request
from greenchannel.problems import Problem

from notification.adapters.alerts import AlertRepository
from notification.adapters.deliveries import DeliveryRepository
from notification.adapters.endpoints import EndpointRepository
from notification.adapters.messages import MessageRepository
from notification.adapters.resolver import TargetGuard
from notification.worker import DeliveryWorker


def _bearer_matches(authorization: str | None, expected: str) -> bool:
    scheme, _, token = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected.encode())


def require_operator(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """Operator-only endpoints take ``Authorization: Bearer <OPERATOR_TOKEN>`` (operator accounts come later)."""
    if not _bearer_matches(authorization, request.app.state.settings.operator_token):
        raise Problem(401, "unauthorized", "This endpoint needs the operator's bearer token.",
                      headers={"WWW-Authenticate": "Bearer"})


def require_internal(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """Endpoints for other services (intake, the gateway) take ``Authorization: Bearer <INTERNAL_TOKEN>``."""
    if not _bearer_matches(authorization, request.app.state.settings.internal_token):
        raise Problem(401, "unauthorized", "This endpoint needs the internal bearer token.",
                      headers={"WWW-Authenticate": "Bearer"})


def _endpoints(request: Request) -> EndpointRepository:
    return request.app.state.endpoints


def _deliveries(request: Request) -> DeliveryRepository:
    return request.app.state.deliveries


def _messages(request: Request) -> MessageRepository:
    return request.app.state.messages


def _alerts(request: Request) -> AlertRepository:
    return request.app.state.alerts


def _guard(request: Request) -> TargetGuard:
    return request.app.state.target_guard


def _worker(request: Request) -> DeliveryWorker:
    return request.app.state.delivery_worker


Endpoints = Annotated[EndpointRepository, Depends(_endpoints)]
Deliveries = Annotated[DeliveryRepository, Depends(_deliveries)]
Messages = Annotated[MessageRepository, Depends(_messages)]
Alerts = Annotated[AlertRepository, Depends(_alerts)]
Guard = Annotated[TargetGuard, Depends(_guard)]
Worker = Annotated[DeliveryWorker, Depends(_worker)]
