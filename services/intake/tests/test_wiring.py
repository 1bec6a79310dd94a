"""intake's wiring: a part a test hands in by name is the one every use case gets, a misspelt name is refused, each
part is on ``app.state``, and every event handler intake has is subscribed."""

from __future__ import annotations

import inspect

import pytest
from fastapi import FastAPI

from intake.adapters.evidence_client import EvidenceClient
from intake.adapters.service_clients import NotificationClient, RoutingClient
from intake.config import Settings
from intake.handlers.publication import PublicationHandlers
from intake.handlers.subscriptions import subscriptions
from intake.main import create_app

pytestmark = pytest.mark.unit


async def close(app: FastAPI) -> None:
    """What the lifespan would close; these apps are never started."""
    for client in app.state.clients:
        await client.close()
    await app.state.runtime.mongo.close()


async def test_a_client_handed_in_is_the_one_every_use_case_gets_and_stays_the_tests_to_close():
    routing = RoutingClient("http://127.0.0.1:9", "internal", "operator")
    app = create_app(Settings(), routing=routing)
    try:
        assert app.state.intake.routing is routing
        assert app.state.intake.operator_actions.routing is routing
        assert app.state.public_data.labels.routing is routing
        # The lifespan closes the clients build made, not the test's.
        assert routing not in app.state.clients
        assert {type(client) for client in app.state.clients} == {EvidenceClient, NotificationClient}
    finally:
        await routing.close()
        await close(app)


async def test_a_misspelt_override_is_refused():
    with pytest.raises(TypeError, match="no part named routnig"):
        create_app(Settings(), routnig=RoutingClient("http://127.0.0.1:9", "internal", "operator"))


async def test_the_container_and_each_of_its_parts_are_on_the_app_state():
    app = create_app(Settings())
    try:
        parts = app.state.container
        for name in ("runtime", "intake", "validators", "public_data", "dead_letters", "company_staff", "pages"):
            assert getattr(app.state, name) is getattr(parts, name)
    finally:
        await close(app)


def test_every_event_handler_of_intake_is_subscribed():
    handlers = {name for name, _ in inspect.getmembers(PublicationHandlers, inspect.iscoroutinefunction)}
    handlers = {name for name in handlers if name.startswith("on_")}
    assert len(handlers) >= 9
    unbuilt = PublicationHandlers.__new__(PublicationHandlers)  # only the handlers' names are read: nothing is called
    subscribed = {subscription.handler.__name__ for subscription in subscriptions(unbuilt).by_type.values()}
    assert subscribed == handlers
