"""MongoDB client factory and the transaction helper every write path uses.

Uses PyMongo's async API (``AsyncMongoClient``), the successor of Motor. Multi-document
transactions need a replica set (MongoDB) or SecantusDB's single-node replica-set advertisement.

:func:`after_commit` lets code running inside a transaction act once it is committed (forgetting what a
process remembers of the data it changed: before the commit, a concurrent reader would remember the old
data again).
"""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, ConnectionFailure, DuplicateKeyError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from greenchannel.locks import SubjectLocks

T = TypeVar("T")
DUPLICATE_KEY = 11000
# Callbacks waiting for the commit of the transaction of each session in_transaction runs, by id(session).
_AFTER_COMMIT: dict[int, list[Callable[[], object]]] = {}


def make_client(url: str, app_name: str) -> AsyncMongoClient:
    return AsyncMongoClient(url, appname=app_name, tz_aware=True, serverSelectionTimeoutMS=5000)


async def in_transaction(client: AsyncMongoClient, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction, retried by the driver on transient errors (write conflicts); then
    what the attempt that committed asked to run :func:`after_commit` (an attempt that was aborted and
    retried may have staged what was never committed: its callbacks are dropped)."""
    async with client.start_session() as session:
        waiting: list[Callable[[], object]] = []
        _AFTER_COMMIT[id(session)] = waiting

        async def attempt(session: AsyncClientSession) -> T:
            waiting.clear()
            return await work(session)

        try:
            result = await session.with_transaction(
                attempt,
                read_concern=ReadConcern("snapshot"),
                write_concern=WriteConcern("majority"),
            )
        finally:
            del _AFTER_COMMIT[id(session)]
    for callback in waiting:
        callback()
    return result


def after_commit(session: AsyncClientSession | None, callback: Callable[[], object]) -> None:
    """Run ``callback`` once the transaction of ``session`` is committed; at once outside a transaction of
    :func:`in_transaction` (no session: the write is already done). Nothing runs if the transaction fails."""
    waiting = _AFTER_COMMIT.get(id(session)) if session is not None else None
    if waiting is None:
        callback()
    else:
        waiting.append(callback)


# Writers of one upserted document in this process, one after the other (see upserted).
_KEY_TURNS = SubjectLocks()


async def upserted(
    collection: AsyncCollection, query: Mapping[str, Any], update: Mapping[str, Any], *, rounds: int = 5
) -> dict[str, Any] | None:
    """``update`` applied to the document ``query`` finds, which is created when there is none; the document
    as updated. Concurrent first writers race to create it: on MongoDB the loser gets a duplicate key error,
    with nothing applied, and applies ``update`` to the document the winner made. Some servers (the
    development stand-in among them) apply a losing upsert yet answer no document: repeating it would apply
    ``update`` twice (a counter counting one hit as two), so writers of one document in this process take
    turns, which leaves only writers in other processes to race. None when every one of ``rounds`` lost."""
    async with _KEY_TURNS.hold(f"{collection.full_name}:{query.get('_id', query)!r}"):
        for _ in range(rounds):
            try:
                document = await collection.find_one_and_update(
                    query, update, upsert=True, return_document=ReturnDocument.AFTER
                )
            except DuplicateKeyError:
                continue
            if document is not None:
                return document
        return None


def is_duplicate_key(error: BaseException) -> bool:
    """A unique index refused the write: a single insert's DuplicateKeyError or a bulk insert's write error."""
    if isinstance(error, DuplicateKeyError):
        return True
    return isinstance(error, BulkWriteError) and any(
        item.get("code") == DUPLICATE_KEY for item in error.details.get("writeErrors", [])
    )


def is_unavailable(error: BaseException) -> bool:
    """The store did not answer: unreachable, no primary (a fail-over), the connection lost. Nothing is wrong
    with what was asked; it is worth asking again once the store is back. (``ServerSelectionTimeoutError``
    and ``NotPrimaryError`` are both ``ConnectionFailure``.)"""
    return isinstance(error, ConnectionFailure)


async def ping(client: AsyncMongoClient) -> bool:
    try:
        await client.admin.command("ping")
        return True
    except Exception:  # noqa: BLE001 - readiness answers a yes/no, the cause is logged by the driver
        return False
