"""MongoDB client factory and the transaction helper every write path uses.

Uses PyMongo's async API (``AsyncMongoClient``), the successor of Motor. Multi-document
transactions need a replica set (MongoDB) or SecantusDB's single-node replica-set advertisement.
"""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

T = TypeVar("T")


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


async def ping(client: AsyncMongoClient) -> bool:
    try:
        await client.admin.command("ping")
        return True
    except Exception:  # noqa: BLE001 - readiness answers a yes/no, the cause is logged by the driver
        return False
