"""The events routing consumes and the handler of each, registered here and nowhere else: filings are screened,
the lifecycle events the SLA clocks follow (``domain.clock.CLOCK_EVENTS``) move the clocks, an erased complaint's
signature goes."""

from __future__ import annotations

from greenchannel.contracts import ComplaintErased, ComplaintSubmitted
from greenchannel.messaging import Subscriptions
from routing.domain.clock import CLOCK_EVENTS
from routing.handlers.clock import ClockEventHandler
from routing.handlers.erasure import ErasureHandler
from routing.handlers.screening import ScreeningHandler


def subscriptions(
    screening: ScreeningHandler, clock_events: ClockEventHandler, erasure: ErasureHandler
) -> Subscriptions:
    registered = Subscriptions().on(ComplaintSubmitted, screening.handle).on(ComplaintErased, erasure.on_erased)
    for model in CLOCK_EVENTS:
        registered.on(model, clock_events.handle)
    return registered
