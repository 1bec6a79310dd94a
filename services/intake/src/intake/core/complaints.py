"""The complainant's use cases: filing, adding evidence, answering a request for information, rating,
appealing, withdrawing, withdrawing the consent to publication, and claiming a guest complaint into an account.

Each owns its transaction (through :class:`~intake.core.transactions.Transactions`, with its
``Idempotency-Key`` where it takes one) and the events it stages; the HTTP edge has checked who is asking
and that they may act on the case before calling one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import BulkWriteError, DuplicateKeyError

from greenchannel.contracts import EventData
from greenchannel.mongo import is_duplicate_key
from intake.adapters.case_store import AlreadySet, CaseStore, EvidenceRefused, timeline_entry
from intake.adapters.evidence_client import EvidenceClient
from intake.adapters.pii import KeyedHash, PiiCipher
from intake.core import events
from intake.core.errors import AlreadyRated, EvidenceAlreadyAttached, EvidenceUnknown
from intake.core.transactions import Transactions
from intake.domain.filing import MAX_EVIDENCE_PER_COMPLAINT, ComplaintForm, complaint_number, new_access_code
from intake.domain.identity import mask_identity, region_code
from intake.domain.lifecycle import EVIDENCE_ACCEPTED_IN, Action, Status, check_window, rating_action
from intake.domain.principals import Principal, actor
from intake.domain.statistics import CHINA

FILING = "file-complaint"


def evidence_ref(receipt: dict[str, Any]) -> dict[str, Any]:
    """What the case file keeps of a stored file's receipt."""
    return {key: receipt[key] for key in ("evidence_id", "filename", "media_type", "size", "sha256")}


def check_open_for_evidence(case: dict[str, Any]) -> None:
    """Whether the case takes one more file now (before its upload): :class:`EvidenceRefused` if not. The case
    store checks the same again when it links the file, inside its transaction."""
    status, count = Status(case["status"]), len(case["evidence"])
    if status not in EVIDENCE_ACCEPTED_IN or count >= MAX_EVIDENCE_PER_COMPLAINT:
        raise EvidenceRefused(status, full=count >= MAX_EVIDENCE_PER_COMPLAINT)


@dataclass(frozen=True)
class Windows:
    """How long after the company's answer a complaint may be rated and appealed, in days."""

    rating_days: int
    appeal_days: int


class Complaints:
    def __init__(
        self,
        cases: CaseStore,
        transactions: Transactions,
        evidence: EvidenceClient,
        cipher: PiiCipher,
        blind_index: KeyedHash,
        access_codes: KeyedHash,
        windows: Windows,
    ) -> None:
        self.cases = cases
        self.transactions = transactions
        self.evidence = evidence
        self.cipher = cipher
        self.blind_index = blind_index
        self.access_codes = access_codes
        self.windows = windows

    # --- filing ------------------------------------------------------------------------------------

    async def file(self, form: ComplaintForm, account_id: str | None, idempotency_key: str | None) -> dict[str, Any]:
        """A new case with its evidence and ``complaint.submitted``; answers its number and access code (once:
        only the hash is kept, and the remembered answer is sealed)."""
        body = form.fingerprint_source()
        try:
            evidence = [await self.unattached(evidence_id) for evidence_id in form.evidence_ids]
        except EvidenceAlreadyAttached:
            # Attached already, perhaps by this very filing (a retry, or its twin on another replica).
            if (answer := await self.transactions.replayed(FILING, idempotency_key, body, sealed=True)) is None:
                raise
            return answer
        now = datetime.now(UTC)
        today = now.astimezone(CHINA)

        async def file(session: AsyncClientSession) -> dict[str, Any]:
            # Taken inside the retried transaction body but on its own (no session): the counter never
            # becomes a write-conflict hot spot; a failed filing leaves a gap, nothing more.
            number = complaint_number(today, await self.cases.next_sequence(f"{today:%Y%m%d}"))
            access_code = new_access_code()
            case = self._case(form, number, access_code, account_id, evidence, now)
            await self.cases.insert(
                case, events.submitted(case, company_id=form.company.id, company_name=form.company.name), session
            )
            return {
                "number": number,
                "access_code": access_code,
                "status": Status.SUBMITTED.value,
                "links": {"self": f"/v1/complaints/{number}"},
            }

        try:
            return await self.transactions.idempotent(FILING, idempotency_key, body, file, sealed=True)
        except (DuplicateKeyError, BulkWriteError) as error:
            if not is_duplicate_key(error):
                raise
            raise EvidenceAlreadyAttached() from None

    def _case(
        self,
        form: ComplaintForm,
        number: str,
        access_code: str,
        account_id: str | None,
        evidence: list[dict[str, Any]],
        now: datetime,
    ) -> dict[str, Any]:
        person = form.complainant
        return {
            "_id": number,
            "number": number,
            "status": Status.SUBMITTED.value,
            "access_code_hash": self.access_codes.digest(access_code),
            "account_id": account_id,
            "complainant": {
                "name": self.cipher.encrypt("name", person.name),
                "id_number": self.cipher.encrypt("id_number", person.id_number),
                "phone": self.cipher.encrypt("phone", person.phone),
                "email": self.cipher.encrypt("email", person.email) if person.email else None,
            },
            "complainant_masked": mask_identity(person.model_dump()),
            "complainant_key": self.blind_index.digest(person.id_number),
            "phone_key": self.blind_index.digest(person.phone),
            "region_code": region_code(person.id_number),
            "company_requested": form.company.model_dump(),
            "company_id": None,
            "company_name": None,
            "category": form.category,
            "title": form.title,
            "description": form.description,
            "occurred_on": form.occurred_on.isoformat(),
            "desired_outcome": form.desired_outcome,
            "publication_consent": form.publication_consent,
            "evidence": evidence,
            "submitted_at": now,
            "response_due": None,
            "forwarded_at": None,
            "round": 0,
            "overdue": False,
            "timeline": [timeline_entry("complainant", "submit", Status.SUBMITTED)],
        }

    async def unattached(self, evidence_id: str) -> dict[str, Any]:
        """The reference of a stored file that belongs to no complaint yet."""
        receipt = await self.evidence.receipt(evidence_id)
        if receipt is None:
            raise EvidenceUnknown(evidence_id)
        if receipt.get("number") or await self.cases.is_linked(evidence_id):
            raise EvidenceAlreadyAttached(evidence_id)
        return evidence_ref(receipt)

    # --- evidence ----------------------------------------------------------------------------------

    async def link_evidence(self, number: str, principal: Principal, receipt: dict[str, Any]) -> None:
        """Add a file evidence stored for this complaint to its case file, with a timeline entry (once per file).
        :class:`EvidenceRefused` when the case stopped taking evidence while the file was uploaded: the link is
        rolled back with it, and the stored file stays unattached and is removed with the other orphans."""
        ref = evidence_ref(receipt)
        await self.transactions.run(
            lambda session: self.cases.add_evidence(
                number, ref, actor(principal), limit=MAX_EVIDENCE_PER_COMPLAINT, session=session
            )
        )

    # --- the complainant's actions -----------------------------------------------------------------

    async def supplement(
        self, number: str, principal: Principal, text: str, evidence_ids: list[str], idempotency_key: str | None
    ) -> dict[str, Any]:
        """Answer the company's request: the text and its files are appended by the transition's own update, so a
        file added at the same moment stays listed."""
        evidence = [await self.unattached(evidence_id) for evidence_id in evidence_ids]
        now = datetime.now(UTC)

        async def apply(session: AsyncClientSession) -> dict[str, Any]:
            await self.cases.link(number, evidence, now, session)
            updated = await self.cases.transition(
                number,
                Action.SUPPLEMENT,
                actor=actor(principal),
                session=session,
                detail=text[:200],
                append={"evidence": evidence, "supplements": [{"text": text, "evidence": evidence, "at": now}]},
                events=lambda case: [
                    events.supplemented(
                        case,
                        text=text,
                        evidence=evidence,
                        supplemented_at=now,
                        own_phone=events.complainant_phone(case, self.cipher),
                    )
                ],
            )
            return {"number": number, "status": updated["status"]}

        return await self.transactions.idempotent(
            f"supplement:{number}", idempotency_key, {"text": text, "evidence_ids": evidence_ids}, apply
        )

    async def rate(
        self, case: dict[str, Any], principal: Principal, score: int, comment: str, idempotency_key: str | None
    ) -> dict[str, Any]:
        """1-5, once: a satisfied rating closes the case, an unsatisfied one keeps the appeal open."""
        number = case["number"]
        now = datetime.now(UTC)
        check_window(Action.RATE, (case.get("response") or {}).get("at"), now, self.windows.rating_days)
        action = rating_action(score)
        rating = {"rating": score, "comment": comment, "at": now}
        closure = {"closure": {"outcome": "rated", "at": now}} if action is Action.RATE else {}

        def staged(updated: dict[str, Any]) -> list[EventData]:
            if action is not Action.RATE:
                return [events.rated(updated, rating)]
            return [events.rated(updated, rating), events.closed(updated, outcome="rated", closed_at=now)]

        async def apply(session: AsyncClientSession) -> dict[str, Any]:
            try:
                updated = await self.cases.transition(
                    number,
                    action,
                    actor=actor(principal),
                    session=session,
                    detail=f"{score}/5",
                    fields={"rating": rating, **closure},
                    events=staged,
                    unless_set="rating",
                )
            except AlreadySet:
                raise AlreadyRated() from None
            return {"number": number, "status": updated["status"]}

        return await self.transactions.idempotent(
            f"rate:{number}", idempotency_key, {"rating": score, "comment": comment}, apply
        )

    async def appeal(
        self, case: dict[str, Any], principal: Principal, reason: str, idempotency_key: str | None
    ) -> dict[str, Any]:
        """Appeal (申诉) the company's answer to the platform, within the window after it."""
        number = case["number"]
        now = datetime.now(UTC)
        check_window(Action.APPEAL, (case.get("response") or {}).get("at"), now, self.windows.appeal_days)

        async def apply(session: AsyncClientSession) -> dict[str, Any]:
            updated = await self.cases.transition(
                number,
                Action.APPEAL,
                actor=actor(principal),
                session=session,
                detail=reason[:200],
                fields={"appeal": {"reason": reason, "at": now}},
                events=lambda updated: [
                    events.appealed(
                        updated,
                        reason=reason,
                        appealed_at=now,
                        own_phone=events.complainant_phone(updated, self.cipher),
                    )
                ],
            )
            return {"number": number, "status": updated["status"]}

        return await self.transactions.idempotent(f"appeal:{number}", idempotency_key, {"reason": reason}, apply)

    async def withdraw(
        self, number: str, principal: Principal, reason: str, idempotency_key: str | None
    ) -> dict[str, Any]:
        now = datetime.now(UTC)

        async def apply(session: AsyncClientSession) -> dict[str, Any]:
            updated = await self.cases.transition(
                number,
                Action.WITHDRAW,
                actor=actor(principal),
                session=session,
                detail=reason,
                fields={"closure": {"outcome": "withdrawn", "at": now, "note": reason}},
                events=lambda updated: [
                    events.withdrawn(
                        updated,
                        reason=reason,
                        withdrawn_at=now,
                        own_phone=events.complainant_phone(updated, self.cipher),
                    )
                ],
            )
            return {"number": number, "status": updated["status"]}

        return await self.transactions.idempotent(f"withdraw:{number}", idempotency_key, {"reason": reason}, apply)

    async def withdraw_publication_consent(
        self, number: str, principal: Principal, idempotency_key: str | None
    ) -> dict[str, Any]:
        """Withdraw the consent to publishing the complaint's text, in any state and for good: the narrative and the
        company's answer leave the public record in the same transaction (the projection follows the change), and
        the cached public reads are purged once it commits. Asking again answers the same; so does asking where
        consent was never given (``withdrawn_at`` null: nothing was withdrawn)."""

        async def apply(session: AsyncClientSession) -> dict[str, Any]:
            case = await self.cases.withdraw_publication_consent(number, actor(principal), session=session)
            withdrawn_at = case.get("publication_consent_withdrawn_at")
            return {
                "number": number,
                "publication_consent": False,
                "withdrawn_at": withdrawn_at.isoformat() if withdrawn_at is not None else None,
            }

        return await self.transactions.idempotent(f"publication-consent:{number}", idempotency_key, {}, apply)

    async def claim(self, number: str, account_id: str) -> dict[str, Any]:
        """Give a guest complaint to an account: one conditional update, so of two accounts claiming at once one
        wins and the other gets :class:`~intake.adapters.case_store.AlreadyClaimed`; claiming one's own again is
        fine."""
        await self.cases.claim(number, account_id)
        return {"number": number, "claimed": True}
