"""Prometheus metrics of webhook deliveries, on prometheus_client's default registry, served at ``GET /metrics`` on
the internal listener by the shared app shell (:mod:`greenchannel.metrics`) with the generic HTTP, event and outbox
metrics.

* ``greenchannel_webhook_deliveries_total{outcome}``: attempts by outcome, each attempt counted once:
  ``delivered`` (2xx), ``gone`` (410, the endpoint was disabled), ``forbidden`` (the SSRF guard
  refused the target, no request made), ``retry`` (another failure, a later attempt is scheduled),
  ``failed`` (another failure that exhausted the schedule);
* ``greenchannel_webhook_delivery_seconds``: how long the HTTP attempts took (refused targets made none);
* ``greenchannel_webhook_deliveries_pending``: deliveries waiting for an attempt, counted in the store by the
  runtime's periodic gauge refresh (:func:`refresh_delivery_metrics`), never by a scrape; every replica reports
  the same number: aggregate with ``max``.

Defined once per process: several apps in one process (tests) share them.
"""

from __future__ import annotations

from enum import StrEnum

from prometheus_client import Counter, Gauge, Histogram

from notification.adapters.deliveries import DeliveryRepository


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"
    GONE = "gone"
    FORBIDDEN = "forbidden"
    NOT_HTTPS = "not_https"


DELIVERIES = Counter("greenchannel_webhook_deliveries_total", "Webhook delivery attempts by outcome.", ["outcome"])
DELIVERY_SECONDS = Histogram(
    "greenchannel_webhook_delivery_seconds",
    "Duration of one webhook delivery attempt (the HTTP request).",
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
PENDING_DELIVERIES = Gauge(
    "greenchannel_webhook_deliveries_pending", "Webhook deliveries waiting for their next attempt."
)

for _outcome in Outcome:
    DELIVERIES.labels(outcome=_outcome)  # every outcome shows from the start, at 0


async def refresh_delivery_metrics(deliveries: DeliveryRepository) -> None:
    """Read the figures kept in the store (the runtime's gauge refresh runs it)."""
    PENDING_DELIVERIES.set(await deliveries.count_pending())
