"""Releasing a held file: evidence stores a file whose metadata it could not remove (an encrypted PDF, an image it
cannot decode) as received and keeps it from the company (``evidence_held``) until an operator has looked at it
and lets it go, with a note. The release is recorded on the evidence record (who, when, the note) and on the
case's timeline, as the operators' other decisions are."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from greenchannel.problems import Problem
from intake.adapters.case_store import CaseNotFound, CaseStore
from intake.adapters.evidence_client import EvidenceClient
from intake.core.audit import Audit
from intake.core.transactions import Transactions
from intake.domain.principals import Principal, actor

#: The timeline action of a release.
RELEASE_EVIDENCE = "release_evidence"


class EvidenceRelease:
    def __init__(self, evidence: EvidenceClient, cases: CaseStore, transactions: Transactions, audit: Audit) -> None:
        self.evidence = evidence
        self.cases = cases
        self.transactions = transactions
        self.audit = audit

    async def release(self, number: str, evidence_id: str, operator: Principal, note: str) -> dict[str, Any]:
        """Release a file of the complaint; releasing it again answers the first release and records nothing.

        Evidence releases with one conditional update, so of two operators releasing at once exactly one is
        told it released the file, and only that one writes the timeline entry."""
        case = await self.cases.get(number)
        if case is None:
            raise CaseNotFound(number)
        ref = next((ref for ref in case["evidence"] if ref["evidence_id"] == evidence_id), None)
        if ref is None:
            raise Problem(404, "evidence_not_found", "No such evidence on this complaint.")
        by = actor(operator)
        answer = await self.evidence.release(evidence_id, by, note)
        if answer["released_now"]:

            async def recorded(session: AsyncClientSession) -> None:
                detail = f"{ref['filename']}: {note}"[:200]
                await self.cases.note(number, by, RELEASE_EVIDENCE, session=session, detail=detail)
                await self.audit.action(
                    operator, "evidence_release", complaint=number, target=evidence_id, reason=note, session=session
                )

            await self.transactions.run(recorded)
        receipt = answer["receipt"]
        return {
            "number": number,
            "evidence_id": evidence_id,
            "held": receipt["held"],
            "released": receipt["released"],
            "released_now": answer["released_now"],
        }

    async def held(self, limit: int, cursor: str | None) -> dict[str, Any]:
        """The held files attached to complaints, oldest first, a page at a time."""
        page = await self.evidence.held(limit, cursor)
        return {"items": page["items"], "next_cursor": page["next_after"]}
