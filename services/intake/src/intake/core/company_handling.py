"""A company's own handling of a complaint: assigning it to one of its staff and writing internal notes. The HTTP edge
has checked that the complaint was forwarded to the company asking."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from intake.adapters.company_handling import CompanyHandlingStore
from intake.adapters.company_staff import CompanyStaffStore
from intake.adapters.pii import PiiCipher
from intake.core.transactions import Transactions
from intake.domain.company_staff import CompanyRole, may_act
from intake.domain.principals import Principal

NOTE_FIELD = "company-note"


class AssigneeRefused(Exception):
    """Not a colleague of the company who may act on complaints (unknown, disabled or read-only)."""


class CompanyHandling:
    def __init__(
        self,
        store: CompanyHandlingStore,
        staff: CompanyStaffStore,
        transactions: Transactions,
        cipher: PiiCipher,
    ) -> None:
        self.store = store
        self.staff = staff
        self.transactions = transactions
        self.cipher = cipher

    async def read(self, company_id: str, number: str) -> dict[str, Any]:
        handling = await self.store.get(company_id, number) or {}
        names = {account["_id"]: account for account in await self.staff.accounts(company_id)}

        def person(staff_id: str | None) -> dict[str, Any] | None:
            if staff_id is None:
                return None
            account = names.get(staff_id)
            return {"staff_id": staff_id, "name": self.cipher.decrypt("name", account["name"]) if account else None}

        return {
            "assignee": person(handling.get("assignee")),
            "notes": [
                {
                    "note_id": note["note_id"],
                    "at": note["at"].isoformat(),
                    "by": person(note["by"]) if note["by"] else None,
                    "text": self.cipher.decrypt(NOTE_FIELD, note["text"]),
                }
                for note in handling.get("notes", [])
            ],
        }

    async def assign(self, company: Principal, number: str, staff_id: str | None) -> dict[str, Any]:
        if staff_id is not None:
            account = await self.staff.account(company.id, staff_id)
            if account is None or account["disabled"] or not may_act(CompanyRole(account["role"])):
                raise AssigneeRefused(staff_id)
        now = datetime.now(UTC)

        async def work(session: AsyncClientSession) -> None:
            await self.store.assign(company.id, number, staff_id, company.account_id, now, session)

        await self.transactions.run(work)
        return await self.read(company.id, number)

    async def add_note(self, company: Principal, number: str, text: str, idempotency_key: str | None) -> dict[str, Any]:
        """A note only the company sees; a retry with the same ``Idempotency-Key`` adds nothing twice."""
        note = {
            "note_id": uuid.uuid4().hex,
            "at": datetime.now(UTC),
            "by": company.account,  # None for an API key: the company's systems
            "text": self.cipher.encrypt(NOTE_FIELD, text),
        }

        async def work(session: AsyncClientSession) -> dict[str, Any]:
            await self.store.add_note(company.id, number, note, session)
            return {"note_id": note["note_id"]}

        return await self.transactions.idempotent(
            f"company-note:{company.id}:{number}", idempotency_key, {"text": text}, work
        )
