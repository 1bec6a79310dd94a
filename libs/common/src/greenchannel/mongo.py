"""MongoDB client factory and the transaction helper every write path uses.

Uses PyMongo's async API (``AsyncMongoClient``), the successor of Motor. Multi-document
transactions need a replica set (MongoDB) or SecantusDB's single-node replica-set advertisement.
"""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import BulkWriteError, ConnectionFailure, DuplicateKeyError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

T = TypeVar("T")
DUPLICATE_KEY = 11000


def make_client(url: str, app_name: str) -> AsyncMongoClient:
    return AsyncMongoClient(url, appname=app_name, tz_aware=True, serverSelectionTimeoutMS=5000)


async def in_transaction(
    client: AsyncMongoClient, work: Callable[[AsyncClientSession], Awaitable[T]]
) -> T:
    """Run ``work`` in one transaction, retried by the driver on transient errors (write conflicts)."""
    async with client.start_session() as session:
        return await session.with_transaction(
            work,
            read_concern=ReadConcern("snapshot"),
            write_concern=WriteConcern("majority"),
        )


def is_duplicate_key(error: BaseException) -> bool:
    """A unique index refused the write: a single insert's DuplicateKeyError or a bulk insert's write error."""
    if isinstance(error, DuplicateKeyError):
        return True
    return isinstance(error, BulkWriteError) and any(
        item.get("code") == DUPLICATE_KEY for item in error.details.get("writeErrors", []))


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
