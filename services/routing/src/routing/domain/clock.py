"""The SLA clocks of a complaint, as pure rules: what each lifecycle event does to them, and what the watchdog raises.

A complaint has at most two clocks, one per kind:

* ``response``: the company's answer. It starts when the complaint is forwarded (round 1): the
  answer is due on the 10th working day after the forwarding day (the Asia/Shanghai date of
  ``forwarded_at``; the forwarding day itself does not count), on the Chinese working-day
  calendar with its make-up days and the configured fallback years. A re-forwarding after an
  appeal (round 2 and later) restarts it with the operator's ``deadline_working_days``.
* ``appeal``: platform mediation. It starts when the complainant appeals: due ``appeal_working_days``
  working days after the appeal day. A re-forwarding stops it.

Counting. A clock's due date is the day on which its count of working days reaches its length,
where the count runs from the day after the start and skips the working days of every pause. A
pause is the interval (pause date, resume date]: the day the company asked for more information
still counts as the company's (it used that day), the days after it up to and including the day
the complainant answered do not. So a pause that begins before the due date moves the due date
later by exactly its working days (a pause from Tue 29 Sep 2026 to Fri 9 Oct 2026 holds Wed 30 Sep,
Thu 8 Oct and Fri 9 Oct: 3 working days); a pause that begins after the due date moves nothing (the
clock was overdue already). ``paused_working_days`` in ``sla.deadline_set`` is the total of the
current round.

The watchdog's checks, on a clock that is running (or, for a paused one, as of its pause date,
since a paused clock's count does not advance):

* reminder (response clocks only): once the count reaches ``reminder_working_day`` (default 7),
  i.e. from 00:00 Asia/Shanghai of that working day; never when the round is not longer than that;
* overdue (both kinds): from 00:00 Asia/Shanghai of the calendar day after the due date. Overdue is
  a flag raised once, never a state; a reminder that is only found when the clock is overdue
  already is dropped (``reminder_skipped``) rather than sent late;
* quiet period: ``quiet_period`` after the company's answer, unless the complaint was appealed,
  closed (a satisfied rating closes it), withdrawn or redirected meanwhile, ``sla.quiet_period_elapsed``
  (intake auto-closes the complaint). An unsatisfied rating closes nothing: the appeal stays open, so
  the quiet period runs on and closes the complaint if no appeal comes;
* publication (round-1 response clocks only): once the count reaches ``publication_working_days``
  (default 15; counted like the due date, so a pause moves it too: while the company waits for the
  complainant the case is not shown as unanswered), i.e. from 00:00 Asia/Shanghai of that working
  day, ``sla.publication_due`` once for a clock still running or paused, i.e. a complaint the
  company has not answered and that was not withdrawn, closed or redirected (a redirected
  complaint's publication counts from its forwarding to the new company). Intake publishes an
  answered case on the answer itself.

Stopping. Whenever a running or paused clock stops, ``sla.clock_stopped`` says why (``responded``,
``reforwarded``, ``redirected``, ``withdrawn``, ``closed``, ``rated``) and how many working days it
used: those in (start day, stop day], counted like the due date, less the working days of its
pauses up to the stop day (``paused_working_days``). A paused clock that stops ends its pause on
the stop day. A response clock stopped by an appeal that overtook the answer publishes nothing
then; the late answer is recorded when it comes (its own date, no quiet period, since the appeal
clock runs) and publishes the ``responded`` stop.

Events may arrive twice under different ids, or out of order (a consumer retry lets a later event
overtake an earlier one). Every transition is therefore idempotent and ignores what does not
apply: an event older than the last event a clock applied (``last_event_at``) is stale; a
supplement that arrives before the information request it answers is kept (``early_resume_at``)
and resumes the clock as soon as the request is applied; closed and withdrawn are final and
leave a stopped record even for a complaint whose clock never started, so a late forwarding cannot
start one; a round-1 forwarding to another company than the running clock's is a redirection
whose ``complaint.redirected`` has not arrived yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from greenchannel.contracts import (
    ComplaintAppealed,
    ComplaintClosed,
    ComplaintForwarded,
    ComplaintInfoRequested,
    ComplaintRedirected,
    ComplaintResponded,
    ComplaintSupplemented,
    ComplaintWithdrawn,
    EventData,
    SlaClockStopped,
    SlaDeadlineSet,
    SlaKind,
    SlaOverdue,
    SlaPublicationDue,
    SlaQuietPeriodElapsed,
    SlaReminder,
)
from routing.domain.calendar import SHANGHAI, WorkingDayCalendar, local_date

ClockState = Literal["running", "paused", "stopped"]
QuietState = Literal["waiting", "elapsed", "cancelled"]

RESPONSE: SlaKind = "response"
APPEAL: SlaKind = "appeal"

# The stop reasons sla.clock_stopped carries; a response clock stopped by an appeal waits for its answer instead.
PUBLISHED_STOPS = frozenset(get_args(SlaClockStopped.model_fields["reason"].annotation))

# Events after which nothing starts again. A rating is not one of them: a satisfied rating comes with
# complaint.closed, an unsatisfied one keeps the appeal (and so the quiet period) open.
FINAL_EVENTS = (ComplaintClosed, ComplaintWithdrawn)


class Pause(BaseModel):
    """One pause of a response clock: (paused_on, resumed_on], and the working days it held."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    paused_on: date
    resumed_on: date | None = None
    working_days: int = 0


class QuietPeriod(BaseModel):
    """The calendar days after the company's answer in which the complainant may rate or appeal."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    responded_at: datetime
    ends_at: datetime
    state: QuietState = "waiting"
    elapsed_at: datetime | None = None


class PastRun(BaseModel):
    """What a clock's earlier run (an earlier round, or the clock of the company before a redirection) came to."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    company_id: str | None
    round: int
    started_on: date | None
    due: date | None
    pauses: list[Pause] = Field(default_factory=list)
    stopped_at: datetime | None
    stop_reason: str | None
    answered_in_time: bool | None
    reminded_at: datetime | None
    overdue_at: datetime | None


class Clock(BaseModel):
    """One clock of one complaint; ``(number, kind)`` is its identity."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    number: str
    kind: SlaKind
    company_id: str | None = None
    round: int = 1
    state: ClockState
    working_days: int = 0
    started_at: datetime | None = None
    started_on: date | None = None
    due: date | None = None
    reminder_on: date | None = None
    pauses: list[Pause] = Field(default_factory=list)
    paused_working_days: int = 0
    reminded_at: datetime | None = None
    reminder_skipped: bool = False
    overdue_at: datetime | None = None
    stopped_at: datetime | None = None
    stop_reason: str | None = None
    answered_on: date | None = None
    answered_in_time: bool | None = None
    publication_on: date | None = Field(
        default=None,
        description="Response clocks of round 1: the day the case is published if the company has not answered.",
    )
    publication_due_at: datetime | None = None
    final: bool = False
    quiet_period: QuietPeriod | None = None
    early_resume_at: datetime | None = Field(default=None, description="A supplement that came before its request.")
    last_event_at: datetime | None = None
    history: list[PastRun] = Field(default_factory=list)
    version: int = Field(default=0, description="Optimistic concurrency: the stored version this was read at.")

    @property
    def paused_on(self) -> date | None:
        """The date of the pause in progress, if the clock is paused."""
        if self.state == "paused" and self.pauses and self.pauses[-1].resumed_on is None:
            return self.pauses[-1].paused_on
        return None

    @property
    def reminder_pending(self) -> bool:
        return self.reminder_on is not None and self.reminded_at is None and not self.reminder_skipped

    @property
    def overdue_pending(self) -> bool:
        return self.due is not None and self.overdue_at is None

    @property
    def publication_pending(self) -> bool:
        """Not raised yet, for a clock still counting (a paused one only up to its pause date)."""
        if self.publication_on is None or self.publication_due_at is not None:
            return False
        return self.state == "running" or (self.paused_on is not None and self.publication_on <= self.paused_on)

    def next_check_at(self) -> datetime | None:
        """The first instant at which the watchdog has something to decide for this clock; ``None`` if never."""
        instants: list[datetime] = []
        # A pending reminder, deadline or publication always has its day (scheduled together).
        reminder_on, due, publication_on = self.reminder_on, self.due, self.publication_on
        reminder = self.kind == RESPONSE and self.reminder_pending
        if self.state == "running":
            if reminder and reminder_on is not None:
                instants.append(start_of_day(reminder_on))
            if self.overdue_pending and due is not None:
                instants.append(start_of_day(due + timedelta(days=1)))
        elif self.state == "paused":
            paused_on = self.paused_on
            # A paused count does not advance: only what was reached by the pause date can still be due.
            if paused_on is not None:
                if reminder and reminder_on is not None and reminder_on <= paused_on:
                    instants.append(start_of_day(reminder_on))
                if self.overdue_pending and due is not None and due < paused_on:
                    instants.append(start_of_day(due + timedelta(days=1)))
        if self.publication_pending and publication_on is not None:
            instants.append(start_of_day(publication_on))
        if self.quiet_period is not None and self.quiet_period.state == "waiting":
            instants.append(self.quiet_period.ends_at)
        return min(instants) if instants else None


def start_of_day(day: date) -> datetime:
    """00:00 of ``day`` in Asia/Shanghai, as a UTC instant."""
    return datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC)


@dataclass
class Outcome:
    """What a transition or a check came to: the clocks to write and the events to publish with them."""

    changed: list[Clock] = field(default_factory=list)
    events: list[EventData] = field(default_factory=list)
    ignored: str | None = None

    @classmethod
    def ignore(cls, reason: str) -> Outcome:
        return cls(ignored=reason)


#: The working days a company has to answer a forwarded complaint (and a re-forwarding that names no period of its
#: own), and the platform to mediate an appeal: the defaults of RESPONSE_WORKING_DAYS and APPEAL_WORKING_DAYS. The
#: one place the platform's "10 working days" is set; the others learn the dates from routing's events.
RESPONSE_WORKING_DAYS = 10
APPEAL_WORKING_DAYS = 10


@dataclass(frozen=True)
class ClockRules:
    calendar: WorkingDayCalendar
    response_working_days: int = RESPONSE_WORKING_DAYS
    appeal_working_days: int = APPEAL_WORKING_DAYS
    reminder_working_day: int = 7
    quiet_period: timedelta = timedelta(days=15)
    publication_working_days: int = 15

    # --- counting ------------------------------------------------------------------------------

    def counted_date(self, start: date, n: int, pauses: list[Pause]) -> date:
        """The day on which the count from ``start`` reaches ``n`` working days, skipping closed pauses."""
        closed = [(pause.paused_on, pause.resumed_on) for pause in pauses if pause.resumed_on is not None]
        day, count = start, 0
        while count < n:
            day += timedelta(days=1)
            if self.calendar.is_working_day(day) and not any(begin < day <= end for begin, end in closed):
                count += 1
        return day

    def _scheduled(self, clock: Clock) -> Clock:
        """``clock`` with its due date, reminder and publication days worked out from its start, length and pauses."""
        if clock.started_on is None:
            return clock
        due = self.counted_date(clock.started_on, clock.working_days, clock.pauses)
        reminder_on = publication_on = None
        if clock.kind == RESPONSE and self.reminder_working_day < clock.working_days:
            reminder_on = self.counted_date(clock.started_on, self.reminder_working_day, clock.pauses)
        if clock.kind == RESPONSE and clock.round == 1:
            publication_on = self.counted_date(clock.started_on, self.publication_working_days, clock.pauses)
        paused = sum(pause.working_days for pause in clock.pauses)
        return clock.model_copy(
            update={
                "due": due,
                "reminder_on": reminder_on,
                "publication_on": publication_on,
                "paused_working_days": paused,
            }
        )

    # --- transitions ---------------------------------------------------------------------------

    def apply(self, event: EventData, response: Clock | None, appeal: Clock | None, *, now: datetime) -> Outcome:
        """What ``event`` does to the complaint's clocks, given as they are stored (``None``: none yet)."""
        if isinstance(event, FINAL_EVENTS):
            return self._finished(event, response, appeal)
        transition = TRANSITIONS.get(type(event))
        if transition is None:
            return Outcome.ignore(f"{event.EVENT_TYPE} does not concern the clocks")
        return transition(self, event, response, appeal, now)

    def _forwarded(
        self, event: ComplaintForwarded, response: Clock | None, appeal: Clock | None, now: datetime
    ) -> Outcome:
        at = event.forwarded_at
        if response is not None:
            if response.final:
                return Outcome.ignore("the complaint is finished")
            if _stale(response, at):
                return Outcome.ignore("older than the response clock's last change")
        if event.round <= 1:
            redirected = response is not None and (
                (response.state == "stopped" and response.stop_reason == "redirected")
                or (response.state != "stopped" and response.company_id != event.company_id)
            )
            if response is not None and not redirected:
                return Outcome.ignore("the response clock was started before")
            length, superseded = self.response_working_days, "redirected"
            reason: Literal["started", "reforwarded"] = "started"
        else:
            if response is not None and response.round >= event.round:
                return Outcome.ignore(f"round {event.round} was started before")
            length, reason = event.deadline_working_days or self.response_working_days, "reforwarded"
            superseded = "reforwarded"
        changed: list[Clock] = []
        stops: list[EventData] = []
        if appeal is not None and appeal.state != "stopped" and not _stale(appeal, at):
            stopped = self._stop(appeal, at, "reforwarded", answered_on=local_date(at))
            changed.append(stopped)
            stops += self._stopped(stopped)
        previous = response
        if previous is not None and previous.state != "stopped":
            previous = self._stop(previous, at, superseded)
            stops += self._stopped(previous)
        clock = self._scheduled(
            Clock(
                number=event.number,
                kind=RESPONSE,
                company_id=event.company_id,
                round=max(event.round, 1),
                state="running",
                working_days=length,
                started_at=at,
                started_on=local_date(at),
                last_event_at=at,
                history=_history_with(previous),
                version=previous.version if previous is not None else 0,
            )
        )
        changed.append(clock)
        return Outcome(changed, [*stops, self._deadline_set(clock, reason, now)])

    def _info_requested(
        self, event: ComplaintInfoRequested, response: Clock | None, _: Clock | None, now: datetime
    ) -> Outcome:
        at = event.requested_at
        if response is None or response.state != "running":
            return Outcome.ignore("no running response clock to pause")
        if response.company_id != event.company_id or _stale(response, at):
            return Outcome.ignore("about another company or older than the clock's last change")
        pause = Pause(paused_on=max(local_date(at), response.started_on))  # type: ignore[type-var]
        paused = response.model_copy(
            update={"state": "paused", "pauses": [*response.pauses, pause], "last_event_at": at}
        )
        early = response.early_resume_at
        if early is not None and early >= at:
            # The complainant's supplement came first: the pause ends as soon as it began.
            return self._resume(paused, early, now)
        return Outcome([paused])

    def _supplemented(
        self, event: ComplaintSupplemented, response: Clock | None, _: Clock | None, now: datetime
    ) -> Outcome:
        at = event.supplemented_at
        if response is None or response.final or response.company_id != event.company_id:
            return Outcome.ignore("no response clock of this company")
        if _stale(response, at):
            return Outcome.ignore("older than the response clock's last change")
        if response.state == "paused":
            return self._resume(response, at, now)
        later = response.last_event_at is None or at > response.last_event_at
        if (
            response.state == "running"
            and later
            and (response.early_resume_at is None or at > response.early_resume_at)
        ):
            # Its information request has not been applied yet: keep it for when it is. (One at the
            # time of the last change is a copy of the supplement that resumed the clock.)
            return Outcome([response.model_copy(update={"early_resume_at": at})])
        return Outcome.ignore("the response clock is not paused")

    def _resume(self, clock: Clock, at: datetime, now: datetime) -> Outcome:
        resumed = self._scheduled(
            clock.model_copy(
                update={
                    "state": "running",
                    "pauses": _close_pause(clock, local_date(at), self.calendar),
                    "early_resume_at": None,
                    "last_event_at": at,
                }
            )
        )
        return Outcome([resumed], [self._deadline_set(resumed, "resumed", now)])

    def _responded(self, event: ComplaintResponded, response: Clock | None, _: Clock | None, now: datetime) -> Outcome:
        at = event.responded_at
        if response is None or response.final or response.company_id != event.company_id:
            return Outcome.ignore("no response clock of this company")
        if response.state == "stopped":
            if response.stop_reason == "appealed" and response.stopped_at is not None and at <= response.stopped_at:
                return self._answer_overtaken_by_appeal(response, at)
            return Outcome.ignore("the response clock is stopped")
        if _stale(response, at):
            return Outcome.ignore("older than the response clock's last change")
        clock = self._stop(response, at, "responded", answered_on=local_date(at))
        clock = clock.model_copy(
            update={
                "quiet_period": QuietPeriod(responded_at=at, ends_at=at + self.quiet_period),
                "early_resume_at": None,
            }
        )
        return Outcome([clock], self._stopped(clock))

    def _answer_overtaken_by_appeal(self, response: Clock, at: datetime) -> Outcome:
        """The answer an appeal already implied: recorded on its own date, without a quiet period (the appeal runs)."""
        clock = self._stop(
            response.model_copy(update={"state": "running"}), at, "responded", answered_on=local_date(at)
        )
        return Outcome([clock], self._stopped(clock))

    def _appealed(
        self, event: ComplaintAppealed, response: Clock | None, appeal: Clock | None, now: datetime
    ) -> Outcome:
        at = event.appealed_at
        if response is not None and (response.final or _stale(response, at)):
            return Outcome.ignore(
                "the complaint is finished, or the appeal is older than the response clock's last change"
            )
        if appeal is not None and (appeal.final or appeal.state != "stopped" or _stale(appeal, at)):
            return Outcome.ignore("the appeal clock runs already, or the appeal is older than its last change")
        changed: list[Clock] = []
        if response is not None:
            if response.state != "stopped":
                # The answer's own event has not arrived yet; the appeal implies it.
                changed.append(self._stop(response, at, "appealed"))
            else:
                changed.append(_cancel_quiet(response).model_copy(update={"last_event_at": at}))
        clock = self._scheduled(
            Clock(
                number=event.number,
                kind=APPEAL,
                company_id=event.company_id,
                round=response.round if response is not None else 1,
                state="running",
                working_days=self.appeal_working_days,
                started_at=at,
                started_on=local_date(at),
                last_event_at=at,
                history=_history_with(appeal),
                version=appeal.version if appeal is not None else 0,
            )
        )
        changed.append(clock)
        return Outcome(changed, [self._deadline_set(clock, "started", now)])

    def _redirected(
        self, event: ComplaintRedirected, response: Clock | None, appeal: Clock | None, _: datetime
    ) -> Outcome:
        at = event.redirected_at
        changed = [
            self._stop(clock, at, "redirected")
            for clock in (response, appeal)
            if clock is not None and not clock.final and clock.state != "stopped" and not _stale(clock, at)
        ]
        if not changed:
            return Outcome.ignore("no running clock to stop")
        return Outcome(changed, [event for clock in changed for event in self._stopped(clock)])

    def _finished(
        self, event: ComplaintClosed | ComplaintWithdrawn, response: Clock | None, appeal: Clock | None
    ) -> Outcome:
        reason = event.EVENT_TYPE.removeprefix("complaint.")
        at: datetime = getattr(event, f"{reason}_at")
        if response is None:
            # Nothing ran yet; the record keeps a late forwarding from starting a clock.
            response = Clock(
                number=event.number,
                kind=RESPONSE,
                company_id=event.company_id,
                state="stopped",
                stopped_at=at,
                stop_reason=reason,
            )
        changed = []
        stops: list[EventData] = []
        for clock in (response, appeal):
            if clock is None or clock.final:
                continue
            if clock.state != "stopped":
                # Closing an appealed complaint is the mediation's outcome: the appeal clock got its answer.
                answered_on = local_date(at) if clock.kind == APPEAL and reason == "closed" else None
                clock = self._stop(clock, at, reason, answered_on=answered_on)
                stops += self._stopped(clock)
            changed.append(_cancel_quiet(clock).model_copy(update={"final": True}))
        return Outcome(changed, stops) if changed else Outcome.ignore("the complaint was finished before")

    def _stop(self, clock: Clock, at: datetime, reason: str, answered_on: date | None = None) -> Clock:
        if clock.paused_on is not None:
            # Stopped while waiting for the complainant: the pause ends with the stop (and the due date moves by it).
            clock = self._scheduled(
                clock.model_copy(update={"pauses": _close_pause(clock, local_date(at), self.calendar)})
            )
        in_time = None if answered_on is None or clock.due is None else answered_on <= clock.due
        return _cancel_quiet(clock).model_copy(
            update={
                "state": "stopped",
                "stopped_at": at,
                "stop_reason": reason,
                "answered_on": answered_on,
                "answered_in_time": in_time,
                "last_event_at": max(at, clock.last_event_at or at),
            }
        )

    def _stopped(self, clock: Clock) -> list[EventData]:
        """``sla.clock_stopped`` for a clock that has just stopped, with the working days it used; none for a
        clock that never ran, or one stopped by an appeal (its answer publishes the stop when it comes)."""
        if clock.started_on is None or clock.due is None or clock.stopped_at is None:
            return []
        if clock.stop_reason not in PUBLISHED_STOPS:
            return []
        stopped_on = max(local_date(clock.stopped_at), clock.started_on)
        paused = sum(
            max(self.calendar.working_days_between(pause.paused_on, min(pause.resumed_on or stopped_on, stopped_on)), 0)
            for pause in clock.pauses
        )
        used = self.calendar.working_days_between(clock.started_on, stopped_on) - paused
        return [
            SlaClockStopped(
                number=clock.number,
                company_id=clock.company_id,
                kind=clock.kind,
                round=clock.round,
                reason=clock.stop_reason,
                due=clock.due,
                working_days_used=max(used, 0),
                paused_working_days=paused,
                stopped_at=clock.stopped_at,
            )
        ]

    def _deadline_set(
        self, clock: Clock, reason: Literal["started", "resumed", "reforwarded"], now: datetime
    ) -> SlaDeadlineSet:
        if clock.due is None:
            raise ValueError(f"the {clock.kind} clock of {clock.number} has no deadline to announce")
        return SlaDeadlineSet(
            number=clock.number,
            company_id=clock.company_id,
            kind=clock.kind,
            due=clock.due,
            reason=reason,
            paused_working_days=clock.paused_working_days,
            set_at=now,
        )

    # --- the watchdog --------------------------------------------------------------------------

    def check(self, clock: Clock, now: datetime) -> Outcome:
        """What is due for ``clock`` at ``now``: the flags to set and the events to publish (once each)."""
        today = local_date(now)
        updates: dict[str, Any] = {}
        events: list[EventData] = []
        counted_until = today if clock.state == "running" else clock.paused_on
        if counted_until is not None and clock.due is not None:
            overdue = clock.overdue_pending and clock.due < counted_until
            reminder = clock.kind == RESPONSE and clock.reminder_pending and clock.reminder_on <= counted_until  # type: ignore[operator]
            if overdue:
                updates["overdue_at"] = now
                events.append(
                    SlaOverdue(
                        number=clock.number, company_id=clock.company_id, kind=clock.kind, due=clock.due, overdue_at=now
                    )
                )
                if reminder:
                    updates["reminder_skipped"] = True
            elif reminder:
                updates["reminded_at"] = now
                events.append(
                    SlaReminder(
                        number=clock.number,
                        company_id=clock.company_id,
                        kind=clock.kind,
                        due=clock.due,
                        working_days_left=max(self.calendar.working_days_between(counted_until, clock.due), 0),
                        reminded_at=now,
                    )
                )
        if clock.publication_pending and counted_until is not None and clock.publication_on <= counted_until:  # type: ignore[operator]
            updates["publication_due_at"] = now
            events.append(
                SlaPublicationDue(
                    number=clock.number,
                    company_id=clock.company_id,
                    forwarded_at=clock.started_at,
                    due=clock.publication_on,
                    raised_at=now,
                )
            )
        quiet = clock.quiet_period
        if quiet is not None and quiet.state == "waiting" and now >= quiet.ends_at:
            updates["quiet_period"] = quiet.model_copy(update={"state": "elapsed", "elapsed_at": now})
            events.append(SlaQuietPeriodElapsed(number=clock.number, responded_at=quiet.responded_at, elapsed_at=now))
        if not updates:
            return Outcome.ignore("nothing is due")
        return Outcome([clock.model_copy(update=updates)], events)


def _stale(clock: Clock, at: datetime) -> bool:
    return clock.last_event_at is not None and at < clock.last_event_at


def _cancel_quiet(clock: Clock) -> Clock:
    quiet = clock.quiet_period
    if quiet is None or quiet.state != "waiting":
        return clock
    return clock.model_copy(update={"quiet_period": quiet.model_copy(update={"state": "cancelled"})})


def _close_pause(clock: Clock, resumed_on: date, calendar: WorkingDayCalendar) -> list[Pause]:
    *earlier, current = clock.pauses
    resumed_on = max(resumed_on, current.paused_on)
    closed = current.model_copy(
        update={
            "resumed_on": resumed_on,
            "working_days": calendar.working_days_between(current.paused_on, resumed_on),
        }
    )
    return [*earlier, closed]


def _history_with(previous: Clock | None) -> list[PastRun]:
    """The runs before a (re)start: the stored history plus the run that ends now, if it ever started."""
    if previous is None:
        return []
    if previous.started_on is None:
        return list(previous.history)
    run = PastRun(
        company_id=previous.company_id,
        round=previous.round,
        started_on=previous.started_on,
        due=previous.due,
        pauses=previous.pauses,
        stopped_at=previous.stopped_at,
        stop_reason=previous.stop_reason,
        answered_in_time=previous.answered_in_time,
        reminded_at=previous.reminded_at,
        overdue_at=previous.overdue_at,
    )
    return [*previous.history, run]


# The transition each lifecycle event makes to the clocks, in the order of the lifecycle; the final events stop them.
TRANSITIONS: dict[type[EventData], Callable[..., Outcome]] = {
    ComplaintForwarded: ClockRules._forwarded,
    ComplaintInfoRequested: ClockRules._info_requested,
    ComplaintSupplemented: ClockRules._supplemented,
    ComplaintResponded: ClockRules._responded,
    ComplaintAppealed: ClockRules._appealed,
    ComplaintRedirected: ClockRules._redirected,
}

# The events the clocks follow (routing subscribes to these): derived from the transitions, never listed again.
CLOCK_EVENTS: tuple[type[EventData], ...] = (*TRANSITIONS, *FINAL_EVENTS)
