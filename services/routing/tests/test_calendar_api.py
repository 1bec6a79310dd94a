"""The working-day calendar as routing serves it to the other services: the working days of a range (the official
schedule with its make-up days and the configured overrides), and ranges it refuses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def routing(routing_settings, run_routing, broker_namespace, run_id):
    settings = routing_settings(
        f"t{run_id}_routing_calendar",
        broker_namespace.settings_for("routing-calendar"),
        service_name="routing-calendar",
        calendar_extra_holidays=["2026-12-08"],
    )
    async with run_routing(settings, lambda: datetime.now(UTC), []) as (_, http, _tap):
        yield http


async def test_the_working_days_of_a_range_follow_the_calendar_and_its_overrides(routing):
    answer = await routing.get("/v1/calendar/working-days", params={"start": "2026-12-05", "end": "2026-12-11"})
    assert answer.status_code == 200, answer.text
    # A weekend, then Monday to Friday without the configured holiday on Tuesday.
    assert answer.json()["working_days"] == ["2026-12-07", "2026-12-09", "2026-12-10", "2026-12-11"]


@pytest.mark.parametrize(
    "params", [{"start": "2026-12-11", "end": "2026-12-05"}, {"start": "2026-01-01", "end": "2027-06-01"}]
)
async def test_a_backward_or_too_long_range_is_refused(routing, params):
    refused = await routing.get("/v1/calendar/working-days", params=params)
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_range"
