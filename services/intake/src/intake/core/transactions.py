"""The one transaction behaviour of intake's use cases: the work, the answer remembered for its
``Idempotency-Key`` and the events it staged in the outbox commit together, or none of them does.

The outbox wakes its relay once the transaction commits (``Outbox.add``), so nothing here has to.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.mongo_client import AsyncMongoClient

from greenchannel.idempotency import IdempotencyStore, fingerprint
from greenchannel.mongo import in_transaction, is_unavailable
from intake.adapters.pii import PiiCipher

T = TypeVar("T")
Work = Callable[[AsyncClientSession], Awaitable[T]]
# Stored answers that hold a secret (a new complaint's access code) are kept encrypted under this name.
SEALED_ANSWER = "idempotent-response"


class Transactions:
    def __init__(
        self, client: AsyncMongoClient[Any], idempotency: IdempotencyStore, cipher: PiiCipher, *, answer_ttl_s: int
    ) -> None:
        self.client = client
        self.idempotency = idempotency
        self.cipher = cipher
        self.answer_ttl = timedelta(seconds=answer_ttl_s)

    async def run(self, work: Work[T]) -> T:
        """``work(session)`` in one transaction, retried on transient errors (write conflicts)."""
        return await in_transaction(self.client, work)

    async def replayed(self, scope: str, key: str | None, body: Any, *, sealed: bool = False) -> dict[str, Any] | None:
        """The answer already given for ``key`` and this body; None without a key or for a new one, 422 for a key
        used with another body."""
        if key is None:
            return None
        stored = await self.idempotency.replay(scope, key, fingerprint(body))
        if stored is None:
            return None
        return self.cipher.decrypt_json(SEALED_ANSWER, stored) if sealed else stored

    async def idempotent(
        self, scope: str, key: str | None, body: Any, work: Work[dict[str, Any]], *, sealed: bool = False
    ) -> dict[str, Any]:
        """Run ``work(session)`` in one transaction with the remembered answer for ``key`` (none without a key).

        The same key and body answer the first answer again; another body is refused (422). ``sealed`` keeps the
        stored answer encrypted (it holds a secret, such as an access code).
        """
        if (answer := await self.replayed(scope, key, body, sealed=sealed)) is not None:
            return answer
        body_fingerprint = fingerprint(body)

        async def remembered(session: AsyncClientSession) -> dict[str, Any]:
            result = await work(session)
            if key is not None:
                stored = self.cipher.encrypt_json(SEALED_ANSWER, result) if sealed else result
                await self.idempotency.remember(
                    scope, key, body_fingerprint, stored, datetime.now(UTC) + self.answer_ttl, session
                )
            return result

        try:
            return await self.run(remembered)
        except Exception as error:
            if is_unavailable(error):
                raise  # the store is away: nothing to look up either
            # A twin with the same key and body committed first, and its effect is what failed this one: the
            # remembered answer's duplicate key, or (when the driver retried after the write conflict) a
            # transition the case no longer allows. Either way the request was done once: answer what it answered.
            if (answer := await self.replayed(scope, key, body, sealed=sealed)) is not None:
                return answer
            raise
