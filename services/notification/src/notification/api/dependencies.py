"""Request dependencies: the operator's and the internal bearer tokens, and the collaborators the app built at start-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from greenchannel.bearer import require_any_bearer, require_bearer, settings_token

from notification.adapters.alerts import AlertRepository
from notification.adapters.deliveries import DeliveryRepository
from notification.adapters.endpoints import EndpointRepository
from notification.adapters.messages import MessageRepository
from notification.adapters.resolver import TargetGuard
from notification.jobs.worker import DeliveryWorker

# Operator endpoints take ``Bearer <OPERATOR_TOKEN>`` (or the admin's); those for the other services
# (intake, the gateway) ``Bearer <INTERNAL_TOKEN>``. Setting a company's webhook endpoint and rotating
# its signing secret take ``Bearer <ADMIN_TOKEN>`` only, which intake sends for its admins alone: whoever
# holds the operator's token keeps deliveries flowing, but can neither learn nor choose a secret to forge
# a company's webhooks with.
require_operator = require_any_bearer((settings_token("operator_token"), settings_token("admin_token")), "operator's")
require_internal = require_bearer(settings_token("internal_token"), "internal")
require_admin = require_bearer(settings_token("admin_token"), "admin's")


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
