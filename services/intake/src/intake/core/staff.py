"""Admins manage staff accounts: create one, disable or enable it, set its roles. Each change is applied by
``intake.adapters.identities`` (in its own transaction, which keeps one enabled admin at least) and then
recorded in the audit log."""

from __future__ import annotations

from typing import Any

from intake.adapters.identities import Identities
from intake.core.audit import Audit
from intake.domain.principals import Principal, Role


class Staff:
    def __init__(self, identities: Identities, audit: Audit) -> None:
        self.identities = identities
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


def _roles(roles: set[Role]) -> str:
    return " ".join(sorted(role.value for role in roles))
