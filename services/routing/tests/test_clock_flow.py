"""The SLA clocks end to end against the real stand-ins: lifecycle events in over RabbitMQ, clocks in SecantusDB,
the watchdog driven by a pinned clock, and sla.* events out through the outbox."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest

from devstack.eventtap import EventTap
from greenchannel.contracts import (
    CloudEvent,
    ComplaintAppealed,
    ComplaintForwarded,
    ComplaintInfoRequested,
    ComplaintResponded,
    ComplaintSupplemented,
    ComplaintWithdrawn,
    EventData,
)
from routing.domain.calendar import SHANGHAI

pytestmark = pytest.mark.integration

SLA_EVENTS = [
    "sla.deadline_set",
    "sla.reminder",
    "sla.overdue",
    "sla.quiet_period_elapsed",
    "sla.clock_stopped",
    "sla.publication_due",
]
COMPANY = "c-haina"
OPERATOR = {"Authorization": "Bearer test-operator"}


def sh(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def new_number() -> str:
    return f"GC-{uuid.uuid4().hex[:12].upper()}"


@dataclass
class PinnedClock:
    """The time every replica under test reads (``app.state.clock``); tests move it."""

    now: datetime = field(default_factory=lambda: sh(2026, 2, 12, 9))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Harness:
    apps: list
    http: httpx.AsyncClient
    tap: EventTap
    time: PinnedClock

    @property
    def db(self):
        return self.apps[0].state.runtime.db

    async def publish(self, data: EventData, *, event: CloudEvent | None = None) -> CloudEvent:
        event = event or CloudEvent.wrap(data, source="/services/intake", subject=data.number)  # type: ignore[attr-defined]
        return await self.tap.publish(event)

    async def applied(self, event: CloudEvent, timeout: float = 15.0) -> None:
        """Wait until routing has consumed ``event`` (its inbox entry commits with the clock change)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if await self.db.inbox.count_documents({"_id": event.id}) == 1:
                return
            await asyncio.sleep(0.03)
        raise AssertionError(f"{event.type} {event.id} was not consumed")

    async def wait(self, event_type: str, number: str, where: Callable[[CloudEvent], bool] | None = None) -> CloudEvent:
        return (await self.tap.wait_for(event_type, subject=number, where=where)).event

    def seen(self, event_type: str, number: str) -> list[CloudEvent]:
        return [tapped.event for tapped in self.tap.events(event_type, subject=number)]

    async def run_watchdog(self) -> list[dict]:
        answer = await self.http.post("/v1/watchdog/run", headers=OPERATOR)
        assert answer.status_code == 200, answer.text
        return answer.json()["published"]

    async def forward(self, number: str, at: datetime, **fields) -> CloudEvent:
        event = await self.publish(ComplaintForwarded(number=number, company_id=COMPANY, forwarded_at=at, **fields))
        await self.wait("sla.deadline_set", number, where=lambda e: e.data["reason"] in ("started", "reforwarded"))
        return event


@pytest.fixture(scope="module")
async def routing(routing_settings, run_routing, broker_namespace, run_id):
    # The periodic pass stays out of the way here (one pass at start); the tests run passes through the API.
    settings = routing_settings(
        f"t{run_id}_routing_clocks",
        broker_namespace.settings_for("routing-clocks"),
        service_name="routing-clocks",
        watchdog_interval_s=3600,
    )
    time = PinnedClock()
    async with run_routing(settings, time, SLA_EVENTS) as (apps, http, tap):
        yield Harness(apps=apps, http=http, tap=tap, time=time)


async def test_forwarding_starts_the_response_clock_and_publishes_its_deadline(routing):
    number = new_number()
    routing.time.now = sh(2026, 2, 12, 10, 5)
    forwarded = await routing.publish(
        ComplaintForwarded(number=number, company_id=COMPANY, forwarded_at=sh(2026, 2, 12), webhook_id="msg_1")
    )
    event = await routing.wait("sla.deadline_set", number)
    assert (event.source, event.subject) == ("/services/routing-clocks", number)
    assert event.data == {
        "number": number,
        "company_id": COMPANY,
        "kind": "response",
        "due": "2026-03-04",
        "reason": "started",
        "paused_working_days": 0,
        "set_at": event.data["set_at"],
    }
    assert datetime.fromisoformat(event.data["set_at"]) == sh(2026, 2, 12, 10, 5)
    await routing.applied(forwarded)

    answer = await routing.http.get(f"/v1/clocks/{number}")
    assert answer.status_code == 200
    [clock] = answer.json()["clocks"]
    assert (clock["kind"], clock["state"], clock["started_on"], clock["due"], clock["reminder_on"]) == (
        "response",
        "running",
        "2026-02-12",
        "2026-03-04",
        "2026-02-28",
    )
    stored = await routing.db.clocks.find_one({"_id": f"{number}/response"})
    assert stored["next_check_at"] == datetime(2026, 2, 27, 16, 0, tzinfo=UTC)


async def test_decisions_and_clocks_are_read_with_the_internal_or_the_operators_token_only(routing):
    async with httpx.AsyncClient(base_url=routing.http.base_url, timeout=10) as outsider:
        for path in ("/v1/clocks/GC-NEVER", "/v1/decisions/GC-NEVER"):
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic test-internal"}):
                refused = await outsider.get(path, headers=headers)
                assert (refused.status_code, refused.json()["code"]) == (401, "unauthorized")
                assert refused.headers["www-authenticate"] == "Bearer"
            for token in ("test-internal", "test-operator"):
                read = await outsider.get(path, headers={"Authorization": f"Bearer {token}"})
                assert read.status_code == 404 and read.json()["code"].endswith("_not_found")
        # The directory is public data.
        assert (await outsider.get("/v1/categories")).status_code == 200


async def test_unknown_clocks_and_the_watchdog_without_the_operator_token_answer_problems(routing):
    missing = await routing.http.get("/v1/clocks/GC-NEVER")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["code"] == "clocks_not_found"
    # The client carries the internal token, which is not the operator's.
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic test-operator"}):
        refused = await routing.http.post("/v1/watchdog/run", headers=headers)
        assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
        assert refused.headers["www-authenticate"] == "Bearer"


async def test_an_information_request_pauses_the_clock_and_the_supplement_sets_a_later_deadline(routing):
    number = new_number()
    await routing.forward(number, sh(2026, 9, 21))
    paused = await routing.publish(
        ComplaintInfoRequested(number=number, company_id=COMPANY, question="订单号？", requested_at=sh(2026, 9, 29))
    )
    await routing.applied(paused)
    clock = (await routing.http.get(f"/v1/clocks/{number}")).json()["clocks"][0]
    assert clock["state"] == "paused" and clock["pauses"] == [
        {"paused_on": "2026-09-29", "resumed_on": None, "working_days": 0}
    ]
    await routing.publish(
        ComplaintSupplemented(number=number, company_id=COMPANY, text="订单号 123", supplemented_at=sh(2026, 10, 9))
    )
    resumed = await routing.wait("sla.deadline_set", number, where=lambda e: e.data["reason"] == "resumed")
    # (29 Sep, 9 Oct] holds 30 Sep, 8 and 9 Oct: the due date moves from 12 to 15 Oct.
    assert (resumed.data["due"], resumed.data["paused_working_days"]) == ("2026-10-15", 3)
    clock = (await routing.http.get(f"/v1/clocks/{number}")).json()["clocks"][0]
    assert clock["state"] == "running" and clock["due"] == "2026-10-15"
    assert clock["pauses"] == [{"paused_on": "2026-09-29", "resumed_on": "2026-10-09", "working_days": 3}]


async def test_the_watchdog_reminds_once_on_working_day_seven_and_flags_overdue_once(routing):
    number = new_number()
    routing.time.now = sh(2026, 2, 12, 10)
    await routing.forward(number, sh(2026, 2, 12))

    def mine(published: list[dict]) -> list[str]:
        return [event["type"] for event in published if event["subject"] == number]

    routing.time.now = sh(2026, 2, 27, 23, 59)
    assert mine(await routing.run_watchdog()) == []
    routing.time.now = sh(2026, 2, 28, 8)
    [reminder] = [event for event in await routing.run_watchdog() if event["subject"] == number]
    assert reminder["type"] == "sla.reminder"
    assert reminder["data"]["working_days_left"] == 3 and reminder["data"]["due"] == "2026-03-04"
    assert mine(await routing.run_watchdog()) == []
    routing.time.now = sh(2026, 3, 4, 23, 59)
    assert mine(await routing.run_watchdog()) == []
    routing.time.now = sh(2026, 3, 5, 0, 1)
    assert mine(await routing.run_watchdog()) == ["sla.overdue"]
    routing.time.now = sh(2026, 3, 9)
    assert mine(await routing.run_watchdog()) == []

    overdue = await routing.wait("sla.overdue", number)
    assert overdue.data["kind"] == "response" and datetime.fromisoformat(overdue.data["overdue_at"]) == sh(
        2026, 3, 5, 0, 1
    )
    await asyncio.sleep(0.3)  # time for any second copy to come through
    assert len(routing.seen("sla.reminder", number)) == 1 and len(routing.seen("sla.overdue", number)) == 1
    clock = (await routing.http.get(f"/v1/clocks/{number}")).json()["clocks"][0]
    assert clock["state"] == "running" and clock["overdue_at"] is not None and clock["reminded_at"] is not None


async def test_an_answer_starts_the_quiet_period_that_elapses_after_fifteen_days(routing):
    number = new_number()
    routing.time.now = sh(2026, 2, 12, 10)
    await routing.forward(number, sh(2026, 2, 12))
    answered = await routing.publish(
        ComplaintResponded(
            number=number,
            company_id=COMPANY,
            response_type="explained",
            text="已处理",
            timely=True,
            responded_at=sh(2026, 3, 2),
        )
    )
    await routing.applied(answered)
    clock = (await routing.http.get(f"/v1/clocks/{number}")).json()["clocks"][0]
    assert (clock["state"], clock["stop_reason"], clock["answered_in_time"]) == ("stopped", "responded", True)
    routing.time.now = sh(2026, 3, 17, 9, 59)
    assert [event for event in await routing.run_watchdog() if event["subject"] == number] == []
    routing.time.now = sh(2026, 3, 17, 10)
    [elapsed] = [event for event in await routing.run_watchdog() if event["subject"] == number]
    assert elapsed["type"] == "sla.quiet_period_elapsed"
    tapped = await routing.wait("sla.quiet_period_elapsed", number)
    assert datetime.fromisoformat(tapped.data["responded_at"]) == sh(2026, 3, 2)
    assert routing.seen("sla.reminder", number) == [] and routing.seen("sla.overdue", number) == []


async def test_an_appeal_runs_the_appeal_clock_instead_of_the_quiet_period(routing):
    number = new_number()
    routing.time.now = sh(2026, 2, 12, 10)
    await routing.forward(number, sh(2026, 2, 12))
    await routing.publish(
        ComplaintResponded(
            number=number,
            company_id=COMPANY,
            response_type="declined",
            text="不予退款",
            timely=True,
            responded_at=sh(2026, 3, 2),
        )
    )
    await routing.publish(
        ComplaintAppealed(number=number, company_id=COMPANY, reason="未退款", appealed_at=sh(2026, 3, 5))
    )
    appeal = await routing.wait("sla.deadline_set", number, where=lambda e: e.data["kind"] == "appeal")
    assert (appeal.data["due"], appeal.data["reason"]) == ("2026-03-19", "started")
    clocks = {clock["kind"]: clock for clock in (await routing.http.get(f"/v1/clocks/{number}")).json()["clocks"]}
    assert clocks["response"]["quiet_period"]["state"] == "cancelled"
    assert (clocks["appeal"]["state"], clocks["appeal"]["due"]) == ("running", "2026-03-19")

    routing.time.now = sh(2026, 3, 20, 9)
    published = [event for event in await routing.run_watchdog() if event["subject"] == number]
    assert [(event["type"], event["data"]["kind"]) for event in published] == [("sla.overdue", "appeal")]
    assert routing.seen("sla.quiet_period_elapsed", number) == []

    await routing.publish(
        ComplaintForwarded(
            number=number,
            company_id=COMPANY,
            forwarded_at=sh(2026, 3, 23),
            round=2,
            note="请重新处理",
            deadline_working_days=5,
        )
    )
    again = await routing.wait("sla.deadline_set", number, where=lambda e: e.data["reason"] == "reforwarded")
    assert (again.data["kind"], again.data["due"]) == ("response", "2026-03-30")
    clocks = {clock["kind"]: clock for clock in (await routing.http.get(f"/v1/clocks/{number}")).json()["clocks"]}
    assert (clocks["appeal"]["state"], clocks["appeal"]["stop_reason"]) == ("stopped", "reforwarded")
    assert (clocks["response"]["round"], clocks["response"]["state"]) == (2, "running")


async def test_the_answer_tells_the_working_days_used_across_national_day_and_a_pause(routing):
    number = new_number()
    routing.time.now = sh(2026, 9, 21, 10)
    await routing.forward(number, sh(2026, 9, 21))
    await routing.publish(
        ComplaintInfoRequested(number=number, company_id=COMPANY, question="订单号？", requested_at=sh(2026, 9, 29))
    )
    await routing.publish(
        ComplaintSupplemented(number=number, company_id=COMPANY, text="订单号 123", supplemented_at=sh(2026, 10, 9))
    )
    await routing.wait("sla.deadline_set", number, where=lambda e: e.data["reason"] == "resumed")
    answered = await routing.publish(
        ComplaintResponded(
            number=number,
            company_id=COMPANY,
            response_type="explained",
            text="已处理",
            timely=True,
            responded_at=sh(2026, 10, 14, 16),
        )
    )
    stopped = await routing.wait("sla.clock_stopped", number)
    # (21 Sep, 14 Oct] holds 12 working days (1-7 Oct are the holiday, Sat 10 Oct is worked), the pause 3 of them.
    assert stopped.data == {
        "number": number,
        "company_id": COMPANY,
        "kind": "response",
        "round": 1,
        "reason": "responded",
        "due": "2026-10-15",
        "working_days_used": 9,
        "paused_working_days": 3,
        "stopped_at": stopped.data["stopped_at"],
    }
    assert datetime.fromisoformat(stopped.data["stopped_at"]) == sh(2026, 10, 14, 16)
    await routing.publish(
        ComplaintResponded(
            number=number,
            company_id=COMPANY,
            response_type="explained",
            text="已处理",
            timely=True,
            responded_at=sh(2026, 10, 14, 16),
        ),
        event=answered,
    )
    withdrawn = await routing.publish(
        ComplaintWithdrawn(number=number, company_id=COMPANY, withdrawn_at=sh(2026, 10, 15))
    )
    await routing.applied(withdrawn)
    await asyncio.sleep(0.3)  # time for any second copy to come through
    assert len(routing.seen("sla.clock_stopped", number)) == 1, "a stopped clock stops once"


async def test_publication_is_due_once_on_working_day_fifteen_and_never_for_an_answered_or_withdrawn_complaint(routing):
    waiting, answered, withdrawn = new_number(), new_number(), new_number()
    routing.time.now = sh(2026, 2, 12, 10)
    for number in (waiting, answered, withdrawn):
        await routing.forward(number, sh(2026, 2, 12))
    done = [
        await routing.publish(
            ComplaintResponded(
                number=answered,
                company_id=COMPANY,
                response_type="declined",
                text="不予退款",
                timely=True,
                responded_at=sh(2026, 3, 2),
            )
        ),
        await routing.publish(ComplaintWithdrawn(number=withdrawn, company_id=COMPANY, withdrawn_at=sh(2026, 3, 3))),
    ]
    for event in done:
        await routing.applied(event)
    ours = (waiting, answered, withdrawn)

    def due(published: list[dict]) -> list[str]:
        return [
            event["subject"]
            for event in published
            if event["type"] == "sla.publication_due" and event["subject"] in ours
        ]

    # Thu 12 Feb: the 15th working day is Wed 11 Mar.
    routing.time.now = sh(2026, 3, 10, 23, 59)
    assert due(await routing.run_watchdog()) == []
    routing.time.now = sh(2026, 3, 11, 0, 1)
    assert due(await routing.run_watchdog()) == [waiting]
    routing.time.now = sh(2026, 4, 30)
    assert due(await routing.run_watchdog()) == []
    raised = await routing.wait("sla.publication_due", waiting)
    assert raised.data == {
        "number": waiting,
        "company_id": COMPANY,
        "forwarded_at": raised.data["forwarded_at"],
        "due": "2026-03-11",
        "raised_at": raised.data["raised_at"],
    }
    assert datetime.fromisoformat(raised.data["forwarded_at"]) == sh(2026, 2, 12)
    assert datetime.fromisoformat(raised.data["raised_at"]) == sh(2026, 3, 11, 0, 1)
    await asyncio.sleep(0.3)  # time for any second copy to come through
    assert [len(routing.seen("sla.publication_due", number)) for number in ours] == [1, 0, 0]
    clock = (await routing.http.get(f"/v1/clocks/{waiting}")).json()["clocks"][0]
    assert (clock["publication_on"], clock["state"]) == ("2026-03-11", "running")
    assert clock["publication_due_at"] is not None


async def test_a_duplicate_event_changes_nothing(routing):
    number = new_number()
    routing.time.now = sh(2026, 2, 12, 10)
    first = await routing.publish(ComplaintForwarded(number=number, company_id=COMPANY, forwarded_at=sh(2026, 2, 12)))
    await routing.wait("sla.deadline_set", number)
    await routing.applied(first)
    before = await routing.db.clocks.find_one({"_id": f"{number}/response"})
    await routing.publish(
        ComplaintForwarded(number=number, company_id=COMPANY, forwarded_at=sh(2026, 2, 12)), event=first
    )  # the same event again
    copy = await routing.publish(ComplaintForwarded(number=number, company_id=COMPANY, forwarded_at=sh(2026, 2, 12)))
    await routing.applied(copy)  # the same forwarding under another id
    await asyncio.sleep(0.3)
    assert len(routing.seen("sla.deadline_set", number)) == 1
    assert await routing.db.clocks.find_one({"_id": f"{number}/response"}) == before
    assert await routing.db.outbox.count_documents({"event.subject": number}) == 1


async def test_racing_watchdog_passes_publish_each_event_once(routing):
    routing.time.now = sh(2026, 2, 12, 10)
    numbers = [new_number() for _ in range(6)]
    for number in numbers:
        await routing.publish(ComplaintForwarded(number=number, company_id=COMPANY, forwarded_at=sh(2026, 2, 12)))
    for number in numbers:
        await routing.wait("sla.deadline_set", number)
    routing.time.now = sh(2026, 2, 28, 9)
    watchdog = routing.apps[0].state.watchdog
    passes = await asyncio.gather(watchdog.run_once(), watchdog.run_once(), routing.run_watchdog())
    raised = [(event.subject, event.type) for outcome in passes[:2] for event in outcome.published]
    raised += [(event["subject"], event["type"]) for event in passes[2]]
    mine = sorted(pair for pair in raised if pair[0] in numbers)
    assert mine == sorted((number, "sla.reminder") for number in numbers)
    for number in numbers:
        await routing.wait("sla.reminder", number)
    await asyncio.sleep(0.3)
    assert all(len(routing.seen("sla.reminder", number)) == 1 for number in numbers)


async def test_replicas_with_a_periodic_watchdog_raise_each_event_once(
    routing_settings, run_routing, broker_namespace, run_id
):
    namespace = broker_namespace.isolated("routing-replicas")
    settings = routing_settings(
        f"t{run_id}_routing_replicas", namespace.settings_for("routing"), watchdog_interval_s=0.05
    )
    time = PinnedClock()
    async with run_routing(settings, time, SLA_EVENTS, replicas=2) as (replicas, http, tap):
        harness = Harness(apps=replicas, http=http, tap=tap, time=time)
        numbers = [new_number() for _ in range(4)]
        for number in numbers:
            await harness.forward(number, sh(2026, 2, 12))
        time.now = sh(2026, 2, 28, 9)
        for number in numbers:
            await harness.wait("sla.reminder", number)
        time.now = sh(2026, 3, 5, 9)
        for number in numbers:
            await harness.wait("sla.overdue", number)
        await asyncio.sleep(0.5)  # several more passes of both replicas
        for number in numbers:
            assert [
                len(harness.seen(kind, number)) for kind in ("sla.deadline_set", "sla.reminder", "sla.overdue")
            ] == [1, 1, 1]
