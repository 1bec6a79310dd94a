"""The SLA clock rules: deadlines on the working-day calendar, pauses, reminder, overdue, quiet period, appeal,
and events that come twice or out of order. Every date here was counted by hand on the calendar of
chinese-calendar (2026) and the configured fallback (2027)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from greenchannel.contracts import (
    ComplaintAppealed,
    ComplaintClosed,
    ComplaintForwarded,
    ComplaintInfoRequested,
    ComplaintRated,
    ComplaintRedirected,
    ComplaintResponded,
    ComplaintSupplemented,
    ComplaintWithdrawn,
    EventData,
    SlaClockStopped,
    SlaDeadlineSet,
    SlaOverdue,
    SlaPublicationDue,
    SlaQuietPeriodElapsed,
    SlaReminder,
)
from routing.domain.calendar import SHANGHAI, WorkingDayCalendar
from routing.domain.clock import Clock, ClockRules, Outcome, Pause, start_of_day

pytestmark = pytest.mark.unit

RULES = ClockRules(calendar=WorkingDayCalendar(extra_holidays=[date(2027, 1, 1)]))
COMPANY = "c-haina"


def sh(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in Shanghai local time."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


class Complaint:
    """The complaint's clocks as the store would keep them, with every event the rules raised."""

    def __init__(self, rules: ClockRules = RULES, number: str = "GC-20260212-000001") -> None:
        self.rules = rules
        self.number = number
        self.clocks: dict[str, Clock] = {}
        self.published: list[EventData] = []

    @property
    def response(self) -> Clock:
        return self.clocks["response"]

    @property
    def appeal(self) -> Clock:
        return self.clocks["appeal"]

    def apply(self, event: EventData, now: datetime | None = None) -> Outcome:
        outcome = self.rules.apply(
            event, self.clocks.get("response"), self.clocks.get("appeal"), now=now or datetime.now(UTC)
        )
        self._keep(outcome)
        return outcome

    def check(self, at: datetime) -> list[EventData]:
        raised: list[EventData] = []
        for clock in list(self.clocks.values()):
            outcome = self.rules.check(clock, at)
            self._keep(outcome)
            raised += outcome.events
        return raised

    def _keep(self, outcome: Outcome) -> None:
        for clock in outcome.changed:
            self.clocks[clock.kind] = clock.model_copy(update={"version": clock.version + 1})
        self.published += outcome.events

    # The events intake publishes, with the values a test does not care about filled in.
    def forwarded(self, at: datetime, **fields) -> Outcome:
        return self.apply(
            ComplaintForwarded(**{"number": self.number, "company_id": COMPANY, "forwarded_at": at, **fields})
        )

    def info_requested(self, at: datetime, company_id: str = COMPANY) -> Outcome:
        return self.apply(
            ComplaintInfoRequested(number=self.number, company_id=company_id, question="订单号？", requested_at=at)
        )

    def supplemented(self, at: datetime) -> Outcome:
        return self.apply(
            ComplaintSupplemented(number=self.number, company_id=COMPANY, text="订单号 123", supplemented_at=at)
        )

    def responded(self, at: datetime) -> Outcome:
        return self.apply(
            ComplaintResponded(
                number=self.number,
                company_id=COMPANY,
                response_type="explained",
                text="已退款",
                timely=True,
                responded_at=at,
            )
        )

    def appealed(self, at: datetime) -> Outcome:
        return self.apply(ComplaintAppealed(number=self.number, company_id=COMPANY, reason="未退款", appealed_at=at))


def deadline_events(published: list[EventData]) -> list[tuple[str, date, str, int]]:
    return [
        (event.kind, event.due, event.reason, event.paused_working_days)
        for event in published
        if isinstance(event, SlaDeadlineSet)
    ]


# --- deadlines on the calendar ------------------------------------------------------------------------


def test_a_deadline_across_the_2026_spring_festival():
    complaint = Complaint()
    now = sh(2026, 2, 12, 10, 5)
    outcome = complaint.forwarded(sh(2026, 2, 12, 10), webhook_id="msg_1")
    # Thu 12 Feb: 13, 14 (Sat, worked), 24, 25, 26, 27, 28 (Sat, worked), 2 Mar, 3 Mar, 4 Mar.
    clock = complaint.response
    assert (clock.state, clock.started_on, clock.due, clock.working_days) == (
        "running",
        date(2026, 2, 12),
        date(2026, 3, 4),
        10,
    )
    assert clock.reminder_on == date(2026, 2, 28)  # the 7th working day, a make-up Saturday
    assert clock.next_check_at() == datetime(2026, 2, 27, 16, 0, tzinfo=UTC)
    [event] = outcome.events
    assert event == SlaDeadlineSet(
        number=complaint.number,
        company_id=COMPANY,
        kind="response",
        due=date(2026, 3, 4),
        reason="started",
        paused_working_days=0,
        set_at=event.set_at,
    )
    assert (
        RULES.apply(
            ComplaintForwarded(number="x", company_id=COMPANY, forwarded_at=sh(2026, 2, 12)), None, None, now=now
        )
        .events[0]
        .set_at
        == now
    )


def test_the_forwarding_day_is_the_date_in_shanghai():
    late_evening = Complaint()
    late_evening.forwarded(datetime(2026, 2, 12, 15, 59, tzinfo=UTC))  # 23:59 in Shanghai, still the 12th
    assert late_evening.response.due == date(2026, 3, 4)
    after_midnight = Complaint()
    after_midnight.forwarded(datetime(2026, 2, 12, 16, 0, tzinfo=UTC))  # 00:00 on Fri 13 Feb
    # Fri 13 Feb: 14, 24, 25, 26, 27, 28, 2, 3, 4, 5 Mar.
    assert after_midnight.response.due == date(2026, 3, 5)


def test_a_pause_across_national_day_2026_moves_the_due_date_by_its_working_days():
    complaint = Complaint()
    # Mon 21 Sep: 22, 23, 24, (25-27 Mid-Autumn and weekend) 28, 29, 30, (1-7 Oct) 8, 9, 10 (Sat, worked), 12 Oct.
    complaint.forwarded(sh(2026, 9, 21))
    assert (complaint.response.due, complaint.response.reminder_on) == (date(2026, 10, 12), date(2026, 10, 8))
    assert complaint.info_requested(sh(2026, 9, 29, 15)).events == []
    assert complaint.response.state == "paused" and complaint.response.paused_on == date(2026, 9, 29)
    assert complaint.response.next_check_at() is None  # a paused count does not advance

    outcome = complaint.supplemented(sh(2026, 10, 9, 9))
    # Paused (29 Sep, 9 Oct]: Wed 30 Sep, Thu 8 Oct, Fri 9 Oct = 3 working days (1-7 Oct are the holiday).
    # Counting again: 22, 23, 24, 28, 29, then 10 (Sat, worked), 12, 13, 14, 15 Oct.
    clock = complaint.response
    assert clock.state == "running"
    assert clock.pauses == [Pause(paused_on=date(2026, 9, 29), resumed_on=date(2026, 10, 9), working_days=3)]
    assert (clock.due, clock.paused_working_days, clock.reminder_on) == (date(2026, 10, 15), 3, date(2026, 10, 12))
    assert deadline_events(outcome.events) == [("response", date(2026, 10, 15), "resumed", 3)]
    assert clock.due == RULES.calendar.add_working_days(date(2026, 10, 12), 3)


def test_a_pause_resumed_the_same_day_holds_no_working_day_and_pauses_add_up():
    complaint = Complaint()
    complaint.forwarded(sh(2026, 9, 21))
    complaint.info_requested(sh(2026, 9, 22, 9))
    complaint.supplemented(sh(2026, 9, 22, 18))
    assert complaint.response.pauses[-1].working_days == 0 and complaint.response.due == date(2026, 10, 12)
    complaint.info_requested(sh(2026, 9, 23, 9))
    complaint.supplemented(sh(2026, 9, 28, 9))  # (23 Sep, 28 Sep]: 24 and 28 Sep
    assert complaint.response.paused_working_days == 2
    assert complaint.response.due == date(2026, 10, 14)
    assert deadline_events(complaint.published)[-1] == ("response", date(2026, 10, 14), "resumed", 2)


def test_a_pause_that_begins_after_the_due_date_moves_nothing():
    complaint = Complaint()
    complaint.forwarded(sh(2026, 2, 12))
    complaint.info_requested(sh(2026, 3, 6))  # overdue since 5 Mar
    complaint.supplemented(sh(2026, 3, 10))
    assert complaint.response.due == date(2026, 3, 4)
    assert complaint.response.pauses == [
        Pause(paused_on=date(2026, 3, 6), resumed_on=date(2026, 3, 10), working_days=2)
    ]


def test_the_year_end_runs_into_the_configured_fallback_calendar():
    configured = Complaint()
    # Thu 24 Dec 2026: 25, 28, 29, 30, 31 Dec, (1 Jan 2027 configured holiday, weekend) 4, 5, 6, 7, 8 Jan.
    configured.forwarded(sh(2026, 12, 24))
    assert configured.response.due == date(2027, 1, 8)
    assert configured.response.reminder_on == date(2027, 1, 5)
    unconfigured = Complaint(ClockRules(calendar=WorkingDayCalendar()))
    unconfigured.forwarded(sh(2026, 12, 24))
    assert unconfigured.response.due == date(2027, 1, 7)  # plain Monday-Friday in 2027


# --- the watchdog's checks ----------------------------------------------------------------------------


def test_reminder_on_working_day_seven_and_overdue_the_day_after_the_due_date_once_each():
    complaint = Complaint()
    complaint.forwarded(sh(2026, 2, 12))
    assert complaint.check(sh(2026, 2, 27, 23, 59)) == []
    [reminder] = complaint.check(sh(2026, 2, 28, 0, 0))
    assert reminder == SlaReminder(
        number=complaint.number,
        company_id=COMPANY,
        kind="response",
        due=date(2026, 3, 4),
        working_days_left=3,
        reminded_at=sh(2026, 2, 28, 0, 0),
    )
    assert complaint.check(sh(2026, 2, 28, 0, 1)) == [] and complaint.check(sh(2026, 3, 3)) == []
    assert complaint.response.next_check_at() == start_of_day(date(2026, 3, 5))
    assert complaint.check(sh(2026, 3, 4, 23, 59)) == []
    [overdue] = complaint.check(sh(2026, 3, 5, 0, 0))
    assert overdue == SlaOverdue(
        number=complaint.number,
        company_id=COMPANY,
        kind="response",
        due=date(2026, 3, 4),
        overdue_at=sh(2026, 3, 5, 0, 0),
    )
    assert [type(event) for event in complaint.check(sh(2026, 3, 20))] == [SlaPublicationDue]  # still unanswered
    assert complaint.check(sh(2026, 3, 21)) == []
    assert complaint.response.next_check_at() is None
    assert complaint.response.state == "running", "overdue is a flag, not a state"
    assert complaint.response.overdue_at == sh(2026, 3, 5, 0, 0)


def test_the_reminder_counts_no_paused_day():
    complaint = Complaint()
    complaint.forwarded(sh(2026, 9, 21))
    complaint.info_requested(sh(2026, 9, 29))
    assert complaint.check(sh(2026, 10, 8, 12)) == [], "paused: day 7 is not reached"
    complaint.supplemented(sh(2026, 10, 9))
    assert complaint.check(sh(2026, 10, 10, 12)) == []  # 6 working days counted
    [reminder] = complaint.check(sh(2026, 10, 12, 8))
    assert isinstance(reminder, SlaReminder) and reminder.working_days_left == 3 and reminder.due == date(2026, 10, 15)


def test_a_late_watchdog_sends_the_overdue_flag_and_drops_the_reminder():
    complaint = Complaint()
    complaint.forwarded(sh(2026, 2, 12))
    [only] = complaint.check(sh(2026, 3, 9))
    assert isinstance(only, SlaOverdue)
    assert complaint.response.reminder_skipped and complaint.response.reminded_at is None
    assert complaint.check(sh(2026, 3, 10)) == []


def test_a_clock_paused_after_its_reminder_day_still_gets_the_reminder_it_had_reached():
    complaint = Complaint()
    complaint.forwarded(sh(2026, 2, 12))
    complaint.info_requested(sh(2026, 3, 2))  # the 8th working day; the watchdog had not run
    assert complaint.response.next_check_at() == start_of_day(date(2026, 2, 28))
    [reminder] = complaint.check(sh(2026, 3, 20))
    # As of the pause date (2 Mar) two working days were left: 3 and 4 Mar.
    assert isinstance(reminder, SlaReminder) and reminder.working_days_left == 2
    assert complaint.check(sh(2026, 4, 20)) == [] and complaint.response.next_check_at() is None


def test_no_reminder_when_the_round_is_not_longer_than_the_reminder_day():
    complaint = Complaint(ClockRules(calendar=RULES.calendar, response_working_days=7))
    complaint.forwarded(sh(2026, 2, 12))
    assert complaint.response.reminder_on is None
    assert [type(event) for event in complaint.check(sh(2026, 3, 30))] == [SlaOverdue, SlaPublicationDue]


# --- answer, quiet period, appeal ---------------------------------------------------------------------


def test_the_answer_stops_the_clock_and_the_quiet_period_elapses_after_fifteen_days():
    complaint = Complaint()
    complaint.forwarded(sh(2026, 2, 12))
    assert [type(event) for event in complaint.responded(sh(2026, 3, 2, 10)).events] == [SlaClockStopped]
    clock = complaint.response
    assert (clock.state, clock.stop_reason, clock.answered_on, clock.answered_in_time) == (
        "stopped",
        "responded",
        date(2026, 3, 2),
        True,
    )
    assert clock.quiet_period.ends_at == sh(2026, 3, 17, 10)
    assert clock.next_check_at() == sh(2026, 3, 17, 10), "no reminder or overdue for a stopped clock"
    assert complaint.check(sh(2026, 3, 17, 9, 59)) == []
    [elapsed] = complaint.check(sh(2026, 3, 17, 10))
    assert elapsed == SlaQuietPeriodElapsed(
        number=complaint.number, responded_at=sh(2026, 3, 2, 10), elapsed_at=sh(2026, 3, 17, 10)
    )
    assert complaint.check(sh(2026, 4, 1)) == [] and complaint.response.next_check_at() is None


def test_a_late_answer_is_recorded_as_not_in_time_and_an_answer_during_a_pause_ends_it():
    late = Complaint()
    late.forwarded(sh(2026, 2, 12))
    late.responded(sh(2026, 3, 5, 9))
    assert late.response.answered_in_time is False
    paused = Complaint()
    paused.forwarded(sh(2026, 9, 21))
    paused.info_requested(sh(2026, 9, 29))
    paused.responded(sh(2026, 10, 9))
    assert paused.response.pauses[-1] == Pause(
        paused_on=date(2026, 9, 29), resumed_on=date(2026, 10, 9), working_days=3
    )
    assert (paused.response.due, paused.response.answered_in_time) == (date(2026, 10, 15), True)


@pytest.mark.parametrize("event_type", [ComplaintClosed, ComplaintWithdrawn])
def test_closing_or_withdrawing_cancels_the_quiet_period(event_type):
    # A satisfied rating closes the complaint: intake publishes complaint.closed (outcome "rated") with it.
    complaint = Complaint()
    complaint.forwarded(sh(2026, 2, 12))
    complaint.responded(sh(2026, 3, 2))
    at_field = {ComplaintClosed: "closed_at", ComplaintWithdrawn: "withdrawn_at"}[event_type]
    extra = {ComplaintClosed: {"outcome": "rated"}, ComplaintWithdrawn: {}}[event_type]
    complaint.apply(event_type(number=complaint.number, company_id=COMPANY, **{at_field: sh(2026, 3, 3)}, **extra))
    assert complaint.response.quiet_period.state == "cancelled" and complaint.response.final
    assert complaint.check(sh(2026, 4, 1)) == []


def test_an_unsatisfied_rating_leaves_the_quiet_period_running_for_an_appeal():
    complaint = Complaint()
    complaint.forwarded(sh(2026, 2, 12))
    complaint.responded(sh(2026, 3, 2, 10))
    rated = complaint.apply(
        ComplaintRated(number=complaint.number, company_id=COMPANY, rating=2, rated_at=sh(2026, 3, 3))
    )
    assert rated.ignored and rated.events == []
    assert complaint.response.quiet_period.state == "waiting" and not complaint.response.final
    [elapsed] = complaint.check(sh(2026, 3, 17, 10))
    assert isinstance(elapsed, SlaQuietPeriodElapsed) and elapsed.responded_at == sh(2026, 3, 2, 10)


def test_an_appeal_ends_the_quiet_period_and_runs_its_own_clock_until_re_forwarding():
    complaint = Complaint()
    complaint.forwarded(sh(2026, 2, 12))
    complaint.responded(sh(2026, 3, 2))
    outcome = complaint.appealed(sh(2026, 3, 5))
    assert complaint.response.quiet_period.state == "cancelled"
    # Thu 5 Mar: 6, 9, 10, 11, 12, 13, 16, 17, 18, 19 Mar.
    assert (complaint.appeal.state, complaint.appeal.due, complaint.appeal.reminder_on) == (
        "running",
        date(2026, 3, 19),
        None,
    )
    assert deadline_events(outcome.events) == [("appeal", date(2026, 3, 19), "started", 0)]
    assert complaint.check(sh(2026, 3, 17, 12)) == [], "no reminder for the appeal clock, and no quiet period"
    [overdue] = complaint.check(sh(2026, 3, 20, 0))
    assert isinstance(overdue, SlaOverdue) and overdue.kind == "appeal"

    outcome = complaint.forwarded(sh(2026, 3, 23, 11), round=2, note="请重新处理", deadline_working_days=5)
    assert (complaint.appeal.state, complaint.appeal.stop_reason, complaint.appeal.answered_in_time) == (
        "stopped",
        "reforwarded",
        False,
    )
    # Mon 23 Mar: 24, 25, 26, 27, 30 Mar; five days are fewer than the reminder day, so no reminder.
    response = complaint.response
    assert (response.round, response.state, response.due, response.reminder_on) == (
        2,
        "running",
        date(2026, 3, 30),
        None,
    )
    assert deadline_events(outcome.events) == [("response", date(2026, 3, 30), "reforwarded", 0)]
    assert [(run.round, run.due, run.stop_reason, run.answered_in_time) for run in response.history] == [
        (1, date(2026, 3, 4), "responded", True)
    ]
    assert response.quiet_period is None and response.overdue_at is None


def test_a_re_forwarding_without_its_own_period_gets_the_default():
    complaint = Complaint()
    complaint.forwarded(sh(2026, 2, 12))
    complaint.responded(sh(2026, 3, 2))
    complaint.appealed(sh(2026, 3, 5))
    complaint.forwarded(sh(2026, 3, 23), round=2)
    # Mon 23 Mar: 24, 25, 26, 27, 30, 31 Mar, 1, 2, 3 Apr, (4-6 Apr Qingming) 7 Apr.
    assert complaint.response.working_days == 10 and complaint.response.due == date(2026, 4, 7)


# --- events twice, and out of order -------------------------------------------------------------------


def test_the_same_transition_twice_changes_nothing():
    complaint = Complaint()
    complaint.forwarded(sh(2026, 2, 12))
    before = complaint.response
    assert complaint.forwarded(sh(2026, 2, 12)).ignored and complaint.forwarded(sh(2026, 2, 13)).ignored
    complaint.info_requested(sh(2026, 2, 24))
    assert complaint.info_requested(sh(2026, 2, 24)).ignored
    complaint.supplemented(sh(2026, 2, 26))
    assert complaint.supplemented(sh(2026, 2, 26)).ignored
    assert complaint.response.early_resume_at is None
    complaint.responded(sh(2026, 3, 2))
    assert complaint.responded(sh(2026, 3, 2)).ignored
    complaint.appealed(sh(2026, 3, 3))
    assert complaint.appealed(sh(2026, 3, 3)).ignored
    complaint.forwarded(sh(2026, 3, 10), round=2)
    assert complaint.forwarded(sh(2026, 3, 10), round=2).ignored
    assert complaint.appealed(sh(2026, 3, 3)).ignored, "an appeal of the earlier round, delivered late"
    assert [event.reason for event in complaint.published if isinstance(event, SlaDeadlineSet)] == [
        "started",
        "resumed",
        "started",
        "reforwarded",
    ]
    assert [
        (event.kind, event.round, event.reason) for event in complaint.published if isinstance(event, SlaClockStopped)
    ] == [("response", 1, "responded"), ("appeal", 1, "reforwarded")]
    assert before.started_on == date(2026, 2, 12)


def test_a_supplement_before_its_information_request_resumes_the_clock_when_the_request_is_applied():
    complaint = Complaint()
    complaint.forwarded(sh(2026, 9, 21))
    early = complaint.supplemented(sh(2026, 10, 9))
    assert early.events == [] and complaint.response.state == "running"
    assert complaint.response.early_resume_at == sh(2026, 10, 9)
    outcome = complaint.info_requested(sh(2026, 9, 29))
    assert complaint.response.state == "running" and complaint.response.due == date(2026, 10, 15)
    assert deadline_events(outcome.events) == [("response", date(2026, 10, 15), "resumed", 3)]
    assert complaint.response.early_resume_at is None


def test_stale_and_unrelated_events_are_ignored():
    complaint = Complaint()
    complaint.forwarded(sh(2026, 2, 12))
    assert complaint.info_requested(sh(2026, 2, 24), company_id="c-other").ignored
    assert complaint.info_requested(sh(2026, 2, 10)).ignored, "older than the start"
    assert complaint.supplemented(sh(2026, 2, 10)).ignored
    assert complaint.response.state == "running" and complaint.response.early_resume_at is None
    # Nothing to apply to: no clock at all.
    fresh = Complaint(number="GC-NONE")
    for outcome in (
        fresh.info_requested(sh(2026, 2, 24)),
        fresh.supplemented(sh(2026, 2, 24)),
        fresh.responded(sh(2026, 2, 24)),
    ):
        assert outcome.ignored and outcome.changed == [] and outcome.events == []
    assert fresh.clocks == {}


def test_an_appeal_that_overtakes_the_answer_stops_the_response_clock_and_the_late_answer_is_recorded():
    complaint = Complaint()
    complaint.forwarded(sh(2026, 2, 12))
    assert [type(event) for event in complaint.appealed(sh(2026, 3, 3)).events] == [SlaDeadlineSet], (
        "no handling time yet: the answer's date is not known"
    )
    assert (complaint.response.state, complaint.response.stop_reason) == ("stopped", "appealed")
    late = complaint.responded(sh(2026, 3, 2))
    # Thu 12 Feb to Mon 2 Mar: 13, 14 (Sat, worked), 24, 25, 26, 27, 28 (Sat, worked), 2 Mar.
    assert late.events == [
        SlaClockStopped(
            number=complaint.number,
            company_id=COMPANY,
            kind="response",
            round=1,
            reason="responded",
            due=date(2026, 3, 4),
            working_days_used=8,
            paused_working_days=0,
            stopped_at=sh(2026, 3, 2),
        )
    ]
    assert (complaint.response.stop_reason, complaint.response.answered_on, complaint.response.answered_in_time) == (
        "responded",
        date(2026, 3, 2),
        True,
    )
    assert complaint.response.quiet_period is None and complaint.response.next_check_at() is None
    assert complaint.appeal.state == "running"
    assert complaint.responded(sh(2026, 3, 2)).ignored, "the same answer again"
    assert complaint.responded(sh(2026, 3, 4)).ignored, "an answer after the appeal is not the one it appeals"


def test_a_withdrawal_before_forwarding_keeps_a_late_forwarding_from_starting_a_clock():
    complaint = Complaint()
    complaint.apply(ComplaintWithdrawn(number=complaint.number, withdrawn_at=sh(2026, 2, 12, 9)))
    assert (complaint.response.state, complaint.response.final, complaint.response.due) == ("stopped", True, None)
    assert complaint.forwarded(sh(2026, 2, 12, 10)).ignored
    assert complaint.apply(ComplaintClosed(number=complaint.number, outcome="x", closed_at=sh(2026, 2, 13))).ignored
    assert complaint.published == [] and complaint.check(sh(2026, 4, 1)) == []


def test_finishing_stops_every_clock():
    complaint = Complaint()
    complaint.forwarded(sh(2026, 2, 12))
    complaint.responded(sh(2026, 3, 2))
    complaint.appealed(sh(2026, 3, 3))
    complaint.apply(
        ComplaintClosed(number=complaint.number, company_id=COMPANY, outcome="mediated", closed_at=sh(2026, 3, 6))
    )
    assert all(clock.state == "stopped" and clock.final for clock in complaint.clocks.values())
    assert (complaint.appeal.stop_reason, complaint.appeal.answered_in_time) == ("closed", True)
    assert (complaint.response.stop_reason, complaint.response.answered_in_time) == ("responded", True)
    assert complaint.check(sh(2026, 5, 1)) == []
    assert complaint.forwarded(sh(2026, 3, 9), round=2).ignored


def test_a_redirected_complaint_gets_a_new_clock_for_the_new_company_in_either_order():
    in_order = Complaint()
    in_order.forwarded(sh(2026, 2, 12))
    in_order.apply(
        ComplaintRedirected(
            number=in_order.number, from_company_id=COMPANY, to_company_id="c-lanjing", redirected_at=sh(2026, 2, 13)
        )
    )
    assert (in_order.response.state, in_order.response.stop_reason) == ("stopped", "redirected")
    assert in_order.check(sh(2026, 4, 1)) == []
    in_order.forwarded(sh(2026, 2, 24), company_id="c-lanjing")
    # Tue 24 Feb: 25, 26, 27, 28 (Sat, worked), 2, 3, 4, 5, 6, 9 Mar.
    assert (in_order.response.company_id, in_order.response.state, in_order.response.due) == (
        "c-lanjing",
        "running",
        date(2026, 3, 9),
    )
    assert [(run.company_id, run.stop_reason) for run in in_order.response.history] == [(COMPANY, "redirected")]

    swapped = Complaint()
    swapped.forwarded(sh(2026, 2, 12))
    swapped.forwarded(sh(2026, 2, 24), company_id="c-lanjing")  # its redirection is still on its way
    late = swapped.apply(
        ComplaintRedirected(number=swapped.number, to_company_id="c-lanjing", redirected_at=sh(2026, 2, 13))
    )
    assert late.ignored
    assert (swapped.response.company_id, swapped.response.state, swapped.response.due) == (
        "c-lanjing",
        "running",
        date(2026, 3, 9),
    )
    assert deadline_events(swapped.published) == [
        ("response", date(2026, 3, 4), "started", 0),
        ("response", date(2026, 3, 9), "started", 0),
    ]


def test_events_that_do_not_concern_the_clocks_are_ignored():
    from greenchannel.contracts import ComplaintRejected

    outcome = RULES.apply(
        ComplaintRejected(number="GC-1", reason="company_unknown", rejected_at=sh(2026, 2, 12)),
        None,
        None,
        now=sh(2026, 2, 12),
    )
    assert outcome.ignored and outcome.changed == []


def test_a_quiet_period_of_other_length_and_start_of_day_in_utc():
    rules = ClockRules(calendar=RULES.calendar, quiet_period=timedelta(days=3))
    complaint = Complaint(rules)
    complaint.forwarded(sh(2026, 2, 12))
    complaint.responded(sh(2026, 2, 13, 8))
    assert complaint.response.quiet_period.ends_at == sh(2026, 2, 16, 8)
    assert start_of_day(date(2026, 3, 5)) == datetime(2026, 3, 4, 16, 0, tzinfo=UTC)


# --- handling time (sla.clock_stopped) ----------------------------------------------------------------


def stops(published: list[EventData]) -> list[tuple[str, str, int, int, date]]:
    return [
        (event.kind, event.reason, event.working_days_used, event.paused_working_days, event.due)
        for event in published
        if isinstance(event, SlaClockStopped)
    ]


def test_the_answer_publishes_the_working_days_used_across_national_day_and_a_pause():
    complaint = Complaint()
    complaint.forwarded(sh(2026, 9, 21))
    complaint.info_requested(sh(2026, 9, 29))
    complaint.supplemented(sh(2026, 10, 9))
    outcome = complaint.responded(sh(2026, 10, 14, 16))
    # (21 Sep, 14 Oct]: 22, 23, 24, 28, 29, 30 Sep, 8, 9, 10 (Sat, worked), 12, 13, 14 Oct = 12 working days,
    # of which the pause (29 Sep, 9 Oct] held 30 Sep, 8 and 9 Oct: 9 used.
    assert outcome.events == [
        SlaClockStopped(
            number=complaint.number,
            company_id=COMPANY,
            kind="response",
            round=1,
            reason="responded",
            due=date(2026, 10, 15),
            working_days_used=9,
            paused_working_days=3,
            stopped_at=sh(2026, 10, 14, 16),
        )
    ]
    assert complaint.responded(sh(2026, 10, 14, 16)).ignored, "told once"


def test_an_answer_on_the_forwarding_day_used_no_working_day_and_one_during_a_pause_ends_it():
    same_day = Complaint()
    same_day.forwarded(sh(2026, 2, 12, 9))
    assert stops(same_day.responded(sh(2026, 2, 12, 17)).events) == [("response", "responded", 0, 0, date(2026, 3, 4))]
    paused = Complaint()
    paused.forwarded(sh(2026, 9, 21))
    paused.info_requested(sh(2026, 9, 29))
    # (21 Sep, 9 Oct] holds 8 working days; the pause, ended by the answer, 3 of them.
    assert stops(paused.responded(sh(2026, 10, 9)).events) == [("response", "responded", 5, 3, date(2026, 10, 15))]


def test_a_withdrawal_during_a_pause_ends_the_pause_and_tells_the_days_used():
    complaint = Complaint()
    complaint.forwarded(sh(2026, 9, 21))
    complaint.info_requested(sh(2026, 9, 29))
    outcome = complaint.apply(
        ComplaintWithdrawn(number=complaint.number, company_id=COMPANY, withdrawn_at=sh(2026, 10, 12))
    )
    # (21 Sep, 12 Oct]: 10 working days; paused (29 Sep, 12 Oct]: 30 Sep, 8, 9, 10, 12 Oct.
    # The due date moved by the pause: 22, 23, 24, 28, 29 Sep, then 13, 14, 15, 16, 19 Oct.
    assert stops(outcome.events) == [("response", "withdrawn", 5, 5, date(2026, 10, 19))]
    assert complaint.response.pauses[-1] == Pause(
        paused_on=date(2026, 9, 29), resumed_on=date(2026, 10, 12), working_days=5
    )
    assert complaint.response.final and complaint.response.next_check_at() is None


def test_every_other_stop_of_a_running_clock_is_told_with_its_reason():
    redirected = Complaint()
    redirected.forwarded(sh(2026, 2, 12))
    outcome = redirected.apply(
        ComplaintRedirected(
            number=redirected.number, from_company_id=COMPANY, to_company_id="c-lanjing", redirected_at=sh(2026, 2, 25)
        )
    )
    # (12 Feb, 25 Feb]: 13, 14, 24 and 25 Feb, for the company it was first forwarded to.
    assert stops(outcome.events) == [("response", "redirected", 4, 0, date(2026, 3, 4))]
    assert outcome.events[0].company_id == COMPANY

    mediated = Complaint()
    mediated.forwarded(sh(2026, 2, 12))
    mediated.responded(sh(2026, 3, 2))
    mediated.appealed(sh(2026, 3, 5))
    # The operator re-forwards on Tue 10 Mar: the appeal clock used 6, 9 and 10 Mar.
    assert stops(mediated.forwarded(sh(2026, 3, 10), round=2).events) == [
        ("appeal", "reforwarded", 3, 0, date(2026, 3, 19))
    ]
    closed = mediated.apply(
        ComplaintClosed(number=mediated.number, company_id=COMPANY, outcome="mediated", closed_at=sh(2026, 3, 12))
    )
    [event] = closed.events
    assert (event.kind, event.round, event.reason, event.working_days_used) == ("response", 2, "closed", 2)

    rated = Complaint()
    rated.forwarded(sh(2026, 2, 12))
    rated.responded(sh(2026, 3, 2))
    assert (
        rated.apply(ComplaintRated(number=rated.number, company_id=COMPANY, rating=4, rated_at=sh(2026, 3, 3))).events
        == []
    )


# --- publication (sla.publication_due) -----------------------------------------------------------------


def test_an_unanswered_complaint_is_due_for_publication_on_working_day_fifteen_once():
    complaint = Complaint()
    complaint.forwarded(sh(2026, 2, 12))
    # Thu 12 Feb: 13, 14, 24, 25, 26, 27, 28 Feb, 2, 3, 4, 5, 6, 9, 10, 11 Mar.
    assert complaint.response.publication_on == date(2026, 3, 11)
    assert [type(event) for event in complaint.check(sh(2026, 3, 5, 9))] == [SlaOverdue]
    assert complaint.response.next_check_at() == start_of_day(date(2026, 3, 11))
    assert complaint.check(sh(2026, 3, 10, 23, 59)) == []
    [due] = complaint.check(sh(2026, 3, 11, 0, 0))
    assert due == SlaPublicationDue(
        number=complaint.number,
        company_id=COMPANY,
        forwarded_at=sh(2026, 2, 12),
        due=date(2026, 3, 11),
        raised_at=sh(2026, 3, 11, 0, 0),
    )
    assert complaint.check(sh(2026, 3, 12)) == [] and complaint.response.next_check_at() is None
    # A late answer changes nothing that was published.
    complaint.responded(sh(2026, 3, 13))
    assert not [event for event in complaint.check(sh(2026, 4, 30)) if isinstance(event, SlaPublicationDue)]


@pytest.mark.parametrize("finish", ["responded", "withdrawn", "closed", "redirected"])
def test_no_publication_due_for_an_answered_withdrawn_closed_or_redirected_complaint(finish):
    complaint = Complaint()
    complaint.forwarded(sh(2026, 2, 12))
    at = sh(2026, 3, 10)
    event = {
        "responded": ComplaintResponded(
            number=complaint.number,
            company_id=COMPANY,
            response_type="declined",
            text="否",
            timely=False,
            responded_at=at,
        ),
        "withdrawn": ComplaintWithdrawn(number=complaint.number, company_id=COMPANY, withdrawn_at=at),
        "closed": ComplaintClosed(number=complaint.number, company_id=COMPANY, outcome="operator", closed_at=at),
        "redirected": ComplaintRedirected(number=complaint.number, to_company_id="c-lanjing", redirected_at=at),
    }[finish]
    complaint.apply(event)
    assert not [event for event in complaint.check(sh(2026, 3, 12)) if isinstance(event, SlaPublicationDue)]


def test_a_pause_moves_the_publication_day_and_a_paused_count_does_not_reach_it():
    complaint = Complaint()
    complaint.forwarded(sh(2026, 9, 21))
    # Without a pause: 22, 23, 24, 28, 29, 30 Sep, 8, 9, 10, 12, 13, 14, 15, 16, 19 Oct.
    assert complaint.response.publication_on == date(2026, 10, 19)
    complaint.info_requested(sh(2026, 9, 29))
    assert complaint.check(sh(2026, 10, 20)) == [] and complaint.response.next_check_at() is None
    complaint.supplemented(sh(2026, 10, 9))
    # The pause held 30 Sep, 8 and 9 Oct: three working days later.
    assert complaint.response.publication_on == date(2026, 10, 22)
    assert not [e for e in complaint.check(sh(2026, 10, 21, 23)) if isinstance(e, SlaPublicationDue)]
    assert [type(e) for e in complaint.check(sh(2026, 10, 22))] == [SlaPublicationDue]


def test_publication_counts_from_the_first_forwarding_to_the_company_now_in_charge_and_never_in_round_two():
    redirected = Complaint()
    redirected.forwarded(sh(2026, 2, 12))
    redirected.apply(
        ComplaintRedirected(number=redirected.number, to_company_id="c-lanjing", redirected_at=sh(2026, 2, 13))
    )
    redirected.forwarded(sh(2026, 2, 24), company_id="c-lanjing")
    # Tue 24 Feb: 25, 26, 27, 28 Feb, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 16 Mar.
    assert redirected.response.publication_on == date(2026, 3, 16)
    reforwarded = Complaint()
    reforwarded.forwarded(sh(2026, 2, 12))
    reforwarded.responded(sh(2026, 3, 2))
    reforwarded.appealed(sh(2026, 3, 3))
    reforwarded.forwarded(sh(2026, 3, 10), round=2)
    assert reforwarded.response.publication_on is None
    assert not [e for e in reforwarded.check(sh(2026, 5, 1)) if isinstance(e, SlaPublicationDue)]
