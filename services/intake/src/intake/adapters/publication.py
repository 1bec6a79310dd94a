"""Keeps the public record and the statistics in step with the case file: called by the case store with
the case before and after every change, inside that change's transaction (the case store itself marks a
case published and stages ``complaint.published``).

Every change of a published case rewrites its public record; every change moves the statistics by the
difference of what the case counted before and after. A rewritten public record is reported once
committed (``rewritten``: the HTTP edge forgets the validators it remembers for it), so the next
revalidation reads it again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from greenchannel.mongo import after_commit
from intake.adapters.pii import PiiCipher
from intake.adapters.public_records import PublicRecords
from intake.adapters.statistics import Statistics
from intake.domain import statistics
from intake.domain.publication import public_record


class Publication:
    def __init__(
        self,
        cipher: PiiCipher,
        records: PublicRecords,
        stats: Statistics,
        rewritten: Callable[[str], object] = lambda number: None,
    ) -> None:
        self.rewritten = rewritten
        self.cipher = cipher
        self.records = records
        self.statistics = stats

    async def project(
        self, before: Mapping[str, Any] | None, after: Mapping[str, Any], session: AsyncClientSession | None
    ) -> None:
        if after.get("published_at"):
            name = complainant_name(after, self.cipher)
            record = public_record(after, name)
            # Most changes (deadlines, reminders) leave the public record as it was: no write then.
            if not (before and before.get("published_at")) or public_record(before, name) != record:
                await self.records.save(record, session)
                number = record["number"]
                after_commit(session, lambda: self.rewritten(number))
        changes = statistics.delta(before, after)
        if changes:
            await self.statistics.apply(changes, session, company_name=after.get("company_name"))


def complainant_name(case: Mapping[str, Any], cipher: PiiCipher) -> str | None:
    """The complainant's name, for the scrubber to mask (only needed where text is published)."""
    sealed = (case.get("complainant") or {}).get("name")
    if not case.get("publication_consent") or not sealed:
        return None
    return cipher.decrypt("name", sealed)
