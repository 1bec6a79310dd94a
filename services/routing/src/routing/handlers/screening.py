"""Screens ``complaint.submitted``: resolves the company, decides, stores the decision and publishes ``complaint.screened``.

The decision and its event are written in one transaction. The complaint number is the decision's key:
the same complaint submitted again (the same event redelivered, or under another event id) gets the stored
decision back and publishes nothing new, and two copies at once race on that key, so no inbox record is
written (``Inbox.handle_keyed``).

For a complaint addressed to a known company the same transaction compares its text with earlier
ones (``domain/similarity.py``): a near repeat of the complainant's own earlier complaint is
rejected as a duplicate; otherwise its signature is stored and, when it resembles other
complainants' complaints, it joins their cluster, with one ``cluster.joined`` per member that
joins, through the outbox with the decision. The signature is computed before the transaction;
everything read from the store is read inside it, so a transaction retried after a write conflict
decides again on what the other one wrote. Within one process, the comparisons for one company also wait
for each other before their transactions start: concurrent ones would only conflict on the company's turn,
abort and retry, and under load such retries multiplied the store's writes many times over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from opentelemetry import trace
from pymongo.asynchronous.client_session import AsyncClientSession

from greenchannel.contracts import CloudEvent, ClusterJoined, ComplaintSubmitted
from greenchannel.locks import SubjectLocks
from greenchannel.runtime import ServiceRuntime
from routing.adapters.companies import CompanyRepository
from routing.adapters.decisions import DecisionRepository
from routing.adapters.similarity import SignatureRecord, SimilarityRepository
from routing.domain import directory, similarity
from routing.domain.calendar import WorkingDayCalendar
from routing.domain.categories import Category, effective_category
from routing.domain.directory import Resolution
from routing.domain.screening import Decision, decide, duplicate
from routing.domain.similarity import Segment, Signature, SimilarityRules

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

Clock = Callable[[], datetime]


class ScreeningHandler:
    def __init__(
        self,
        *,
        runtime: ServiceRuntime,
        companies: CompanyRepository,
        decisions: DecisionRepository,
        categories: list[Category],
        calendar: WorkingDayCalendar,
        clock: Clock,
        response_working_days: int,
        similar: SimilarityRepository,
        similarity_rules: SimilarityRules,
        segment: Segment,
        review_unresolved: bool = True,
    ) -> None:
        self.runtime = runtime
        self.companies = companies
        self.decisions = decisions
        self.categories = categories
        self.calendar = calendar
        self.clock = clock
        self.response_working_days = response_working_days
        self.similar = similar
        self.similarity_rules = similarity_rules
        self.segment = segment
        self.review_unresolved = review_unresolved
        self._company_turns = SubjectLocks()

    async def handle(self, event: CloudEvent, submitted: ComplaintSubmitted) -> None:
        await self.screen(event, submitted)

    async def screen(self, event: CloudEvent, submitted: ComplaintSubmitted) -> Decision:
        """The decision on the event's complaint: made now, or the one stored for its number before."""
        with tracer.start_as_current_span("screen complaint") as span:
            span.set_attribute("complaint.number", submitted.number)
            screened_at = self.clock()
            decision = decide(
                submitted.number,
                await self._resolve(submitted),
                effective_category(submitted.category, self.categories),
                screened_at=screened_at,
                calendar=self.calendar,
                response_working_days=self.response_working_days,
                # Only a name can fail to resolve for review: an id the directory does not know is a wrong reference.
                review_unresolved=self.review_unresolved and not submitted.company_id,
            )
            record = None
            if decision.decision == "accepted":
                signature = Signature.of_text(
                    similarity.complaint_text(submitted.title, submitted.description), self.segment
                )
                if signature is not None:
                    record = SignatureRecord(
                        number=submitted.number,
                        company_id=decision.company_id,  # type: ignore[arg-type]
                        complainant_key=submitted.complainant_key,
                        submitted_at=submitted.submitted_at,
                        screened_at=screened_at,
                        signature=signature,
                    )
            outcome: list[Decision] = []
            published: list[bool] = []

            async def work(session: AsyncClientSession) -> None:
                outcome.clear()
                published.clear()
                stored = await self.decisions.get(submitted.number, session=session)
                if stored is not None:
                    outcome.append(stored)
                    return
                final, joined = decision, list[ClusterJoined]()
                if record is not None:
                    final, joined = await self._compare(decision, record, session)
                staged = await self.runtime.outbox.add(final, subject=submitted.number, session=session)
                await self.decisions.insert(final, event_id=event.id, screened_event_id=staged.id, session=session)
                for data in joined:
                    await self.runtime.outbox.add(data, subject=data.number, session=session)
                outcome.append(final)
                published.append(True)

            # Only a comparison takes the company's turn in the store; waiting for it here costs nothing else.
            async with self._company_turns.hold(record.company_id if record is not None else None):
                # The decision is keyed by the complaint number: a repeat fails on it, no inbox record needed.
                applied = await self.runtime.inbox.handle_keyed(event, work, lambda: self._decided(submitted.number))
            if applied and published:
                decision = outcome[0]
                log.info("complaint %s screened: %s %s", submitted.number, decision.decision, decision.reason or "")
                span.set_attribute("routing.decision", decision.decision)
                return decision
            # Seen before (same event id) or screened before (same number): answer the stored decision.
            stored = outcome[0] if applied else await self.decisions.get(submitted.number)
            if stored is None:  # cannot happen: the inbox entry and the decision commit together
                raise RuntimeError(f"event {event.id} was handled but complaint {submitted.number} has no decision")
            log.info("complaint %s was screened before: keeping its decision (%s)", submitted.number, stored.decision)
            span.set_attribute("routing.decision", stored.decision)
            return stored

    async def _decided(self, number: str) -> bool:
        return await self.decisions.get(number) is not None

    async def _compare(
        self, accepted: Decision, record: SignatureRecord, session: AsyncClientSession
    ) -> tuple[Decision, list[ClusterJoined]]:
        """The decision after comparing with earlier complaints, and the ``cluster.joined`` events it implies."""
        rules = self.similarity_rules
        if not (rules.checks_duplicates or rules.clusters):
            await self.similar.record(record, None, session)
            return accepted, []
        await self.similar.take_turn(record.company_id, session)
        if rules.checks_duplicates:
            earlier = await self.similar.earlier_of_complainant(
                record.complainant_key, record.company_id, record.submitted_at - rules.duplicate_window, session
            )
            original = similarity.original_of(record.signature, earlier, rules.duplicate_similarity)
            if original is not None:
                return duplicate(accepted, original.number, rules.duplicate_window.days), []
        choice = None
        if rules.clusters:
            candidates = await self.similar.cluster_candidates(
                record.company_id,
                record.signature.band_keys(),
                record.submitted_at - rules.cluster_window,
                record.complainant_key,
                session,
            )
            choice = similarity.choose_cluster(record.signature, candidates, rules.cluster_similarity)
        if choice is None:
            await self.similar.record(record, None, session)
            return accepted, []
        joined, size = await self.similar.join(choice, record.company_id, record.screened_at, session)
        await self.similar.record(record, choice.cluster_id, session)
        events = [
            ClusterJoined(
                cluster_id=choice.cluster_id,
                number=number,
                company_id=record.company_id,
                size=size,
                collective=rules.is_collective(size),
                joined_at=record.screened_at,
            )
            for number in [*joined, record.number]
        ]
        return accepted, events

    async def _resolve(self, submitted: ComplaintSubmitted) -> Resolution:
        if submitted.company_id:
            return directory.resolve_by_id(submitted.company_id, await self.companies.get(submitted.company_id))
        keys = directory.lookup_keys(submitted.company_name or "")
        return directory.resolve_by_name(submitted.company_name, await self.companies.find_by_keys(keys))
