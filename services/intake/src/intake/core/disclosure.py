"""Revealing one field of a complainant's identity to an operator: staff see it masked by default, and
seeing it in full is a deliberate act with a stated reason, recorded before the value is answered.
"""

from __future__ import annotations

from typing import Any

from greenchannel.telemetry import current_trace_id
from intake.adapters.audit_log import AuditLog
from intake.adapters.pii import PiiCipher


class FieldNotRecorded(Exception):
    """The complaint holds no value for the field (the e-mail is optional)."""

    def __init__(self, field: str) -> None:
        super().__init__(f"The complaint has no {field} on record.")
        self.field = field


class Disclosure:
    def __init__(self, audit: AuditLog, cipher: PiiCipher) -> None:
        self.audit = audit
        self.cipher = cipher

    async def reveal(
        self, case: dict[str, Any], field: str, reason: str, *, operator_id: str, operator_login: str | None
    ) -> dict[str, Any]:
        """The field in full, once the audit entry is written: no entry, no value."""
        sealed = (case.get("complainant") or {}).get(field)
        if sealed is None:
            raise FieldNotRecorded(field)
        value = self.cipher.decrypt(field, sealed)
        entry = await self.audit.record(
            operator_id=operator_id,
            operator_login=operator_login,
            complaint=case["number"],
            field=field,
            reason=reason,
            trace_id=current_trace_id(),
        )
        return {
            "number": case["number"],
            "field": field,
            "value": value,
            "audit_id": entry["_id"],
            "revealed_at": entry["at"].isoformat(),
        }
