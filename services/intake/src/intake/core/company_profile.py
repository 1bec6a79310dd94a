"""A company's directory profile: the company proposes aliases, apps, domains and its user base; an operator admin
approves (the change goes to routing's directory, which resolves complaints by those names) or rejects it with a note.
The registered names stay the platform's: a company cannot rename itself."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from intake.adapters.company_profile import APPLYING, APPROVED, PENDING, REJECTED, CompanyProfileStore
from intake.core.errors import CompanyUnknown
from intake.core.transactions import Transactions
from intake.domain.principals import Principal

PROFILE_FIELDS = ("aliases", "apps", "domains", "user_base_millions")

ReadCompany = Callable[[str], Awaitable[dict[str, Any] | None]]
SaveCompany = Callable[[str, dict[str, Any]], Awaitable[tuple[int, dict[str, Any]]]]


class ChangeNotWaiting(Exception):
    """No such change waiting for a decision (decided already, superseded, or unknown)."""


class DirectoryRefused(Exception):
    def __init__(self, status: int, answer: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.answer = answer


class CompanyProfile:
    def __init__(
        self, store: CompanyProfileStore, transactions: Transactions, read: ReadCompany, save: SaveCompany
    ) -> None:
        self.store = store
        self.transactions = transactions
        self.read_company = read
        self.save_company = save

    async def profile(self, company_id: str) -> dict[str, Any]:
        company = await self.read_company(company_id)
        if company is None:
            raise CompanyUnknown(company_id)
        return {"company": company, "changes": [_view(change) for change in await self.store.of_company(company_id)]}

    async def propose(self, company: Principal, fields: dict[str, Any], idempotency_key: str | None) -> dict[str, Any]:
        change = {
            "_id": uuid.uuid4().hex,
            "company_id": company.id,
            "proposed": {name: fields[name] for name in PROFILE_FIELDS},
            "status": PENDING,
            "requested_by": company.account_id,
            "requested_at": datetime.now(UTC),
        }

        async def work(session: AsyncClientSession) -> dict[str, Any]:
            await self.store.propose(change, session)
            return _view(change)

        return await self.transactions.idempotent(
            f"company-profile:{company.id}", idempotency_key, change["proposed"], work
        )

    async def waiting(self, limit: int) -> list[dict[str, Any]]:
        return [_view(change) for change in await self.store.waiting(limit)]

    async def approve(self, change_id: str, operator: Principal) -> dict[str, Any]:
        """Pass the change on to the directory; the registered names are kept as they are."""
        change = await self.store.move(change_id, PENDING, APPLYING)
        if change is None:
            raise ChangeNotWaiting(change_id)
        try:
            current = await self.read_company(change["company_id"])
            if current is None:
                raise CompanyUnknown(change["company_id"])
            fields = {"name": current["name"], "name_en": current["name_en"], **change["proposed"]}
            status, answer = await self.save_company(change["company_id"], fields)
        except BaseException:
            await self.store.move(change_id, APPLYING, PENDING)  # still waiting: someone may approve it again
            raise
        if status >= 400:
            await self.store.move(change_id, APPLYING, PENDING)
            raise DirectoryRefused(status, answer)
        done = await self.store.move(
            change_id, APPLYING, APPROVED, decided_by=operator.id, decided_at=datetime.now(UTC)
        )
        return _view(done or change)

    async def reject(self, change_id: str, operator: Principal, note: str) -> dict[str, Any]:
        done = await self.store.move(
            change_id, PENDING, REJECTED, decided_by=operator.id, decided_at=datetime.now(UTC), note=note
        )
        if done is None:
            raise ChangeNotWaiting(change_id)
        return _view(done)


def _view(change: dict[str, Any]) -> dict[str, Any]:
    decided = change.get("decided_at")
    return {
        "change_id": change["_id"],
        "company_id": change["company_id"],
        "proposed": change["proposed"],
        "status": change["status"],
        "requested_at": change["requested_at"].isoformat(),
        "decided_at": decided.isoformat() if decided else None,
        "note": change.get("note"),
    }
