"""Request dependencies: the operator's and the internal bearer tokens, and the collaborators the app built at start-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from greenchannel.bearer import require_any_bearer, require_bearer, settings_token
from notification.adapters.alerts import AlertRepository
from notification.adapters.deliveries import DeliveryRepository
from notification.adapters.messages import MessageRepository
from notification.core.alerts import AlertAcknowledgement
from notification.core.deliveries import Redelivery
from notification.core.endpoints import WebhookEndpoints
from notification.core.messages import MessageReading

# Operator endpoints take ``Bearer <OPERATOR_TOKEN>`` (or the admin's); those for the other services
# (intake, the gateway) ``Bearer <INTERNAL_TOKEN>``. Setting a company's webhook endpoint and rotating
# its signing secret take ``Bearer <ADMIN_TOKEN>`` only, which intake sends for its admins alone: whoever
# holds the operator's token keeps deliveries flowing, but can neither learn nor choose a secret to forge
# a company's webhooks with.
require_operator = require_any_bearer((settings_token("operator_token"), settings_token("admin_token")), "operator's")
require_internal = require_bearer(settings_token("internal_token"), "internal")
require_admin = require_bearer(settings_token("admin_token"), "admin's")


def _deliveries(request: Request) -> DeliveryRepository:
    return request.app.state.deliveries


def _messages(request: Request) -> MessageRepository:
    return request.app.state.messages


def _alerts(request: Request) -> AlertRepository:
    return request.app.state.alerts


def _webhook_endpoints(request: Request) -> WebhookEndpoints:
    return request.app.state.webhook_endpoints


def _redelivery(request: Request) -> Redelivery:
    return request.app.state.redelivery


def _message_reading(request: Request) -> MessageReading:
    return request.app.state.message_reading


def _alert_acknowledgement(request: Request) -> AlertAcknowledgement:
    return request.app.state.alert_acknowledgement


# Reads go to the repositories; every change goes through a use case (core/).
Deliveries = Annotated[DeliveryRepository, Depends(_deliveries)]
Messages = Annotated[MessageRepository, Depends(_messages)]
Alerts = Annotated[AlertRepository, Depends(_alerts)]
WebhookEndpointsDep = Annotated[WebhookEndpoints, Depends(_webhook_endpoints)]
RedeliveryDep = Annotated[Redelivery, Depends(_redelivery)]
MessageReadingDep = Annotated[MessageReading, Depends(_message_reading)]
AlertAcknowledgementDep = Annotated[AlertAcknowledgement, Depends(_alert_acknowledgement)]
