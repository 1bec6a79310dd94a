"""Admins decide who may act: staff accounts (create one, disable or enable it, set its roles), companies' API keys
(issue, revoke) and the directory (add or correct a company, which routing owns). Each change is applied by its
owner (``intake.adapters.identities``, in its own transaction that keeps one enabled admin at least; routing's
directory) and then recorded in the audit log; a key's secret never is."""

from __future__ import annotations

from typing import Any

from intake.adapters.identities import Identities
from intake.adapters.service_clients import RoutingClient
from intake.core.audit import Audit
from intake.domain.principals import Principal, Role


class Staff:
    def __init__(self, identities: Identities, routing: RoutingClient, audit: Audit) -> None:
        self.identities = identities
        self.routing = routing
        self.audit = audit

    async def create(self, admin: Principal, login: str, password: str, roles: set[Role]) -> str:
        """The new account's id; ``LoginTaken`` for a login in use."""
        operator_id = await self.identities.create_operator(login, password, roles)
        await self.audit.action(admin, "operator_create", target=login, detail=_roles(roles))
        return operator_id

    async def set_disabled(self, admin: Principal, login: str, disabled: bool) -> dict[str, Any] | None:
        """The account as changed, None for an unknown login; ``LastAdmin`` when no enabled admin would be left."""
        changed = await self.identities.set_operator_disabled(login, disabled)
        if changed is not None:
            await self.audit.action(admin, "operator_disable" if disabled else "operator_enable", target=login)
        return changed

    async def set_roles(self, admin: Principal, login: str, roles: set[Role]) -> dict[str, Any] | None:
        changed = await self.identities.set_operator_roles(login, roles)
        if changed is not None:
            await self.audit.action(admin, "operator_roles", target=login, detail=_roles(roles))
        return changed

    async def issue_api_key(self, admin: Principal, company_id: str, label: str) -> dict[str, Any]:
        issued = await self.identities.issue_api_key(company_id, label, admin.id)
        await self.audit.action(admin, "api_key_issue", target=f"{company_id}:{issued['key_id']}", detail=label)
        return issued

    async def revoke_api_key(self, admin: Principal, key_id: str) -> bool:
        """False for a key unknown or revoked already (nothing recorded)."""
        revoked = await self.identities.revoke_api_key(key_id)
        if revoked:
            await self.audit.action(admin, "api_key_revoke", target=key_id)
        return revoked

    async def save_company(
        self, admin: Principal, company_id: str, fields: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """Routing's answer (status, body); recorded when routing took the change."""
        status, company = await self.routing.save_company(company_id, fields)
        if status < 300:
            await self.audit.action(admin, "directory_save", target=company_id)
        return status, company


def _roles(roles: set[Role]) -> str:
    return " ".join(sorted(role.value for role in roles))
