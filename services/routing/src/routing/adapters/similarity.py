"""The ``signatures`` and ``clusters`` collections: what duplicates and collective complaints are found with.

``signatures`` holds one document per accepted complaint (``_id`` = number): its company, the
complainant's keyed hash, the filing time, the MinHash signature (bytes) and its LSH band keys (an
array of 64-bit integers), and the cluster it belongs to. Two indexes serve the two questions:
(complainant, company, time) finds a complainant's own earlier complaints against a company, and
(company, band key, time) finds the complaints of every complainant that share a band key with a
new one, so no query ever reads the signatures of a whole company. Band keys are only kept for
the clustering window (``drop_old_bands``, a periodic job), which bounds that index to about a
window's complaints. ``clusters`` holds one document
per cluster with its size, counted as members join.

Screening of one company's complaints is serialised by a ``screening_turns`` document per company
that every screening transaction of that company updates first: two transactions that would each
miss the other's uncommitted complaint (two replicas, two similar complaints at once) conflict on
it instead, and the one retried sees what the other wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from routing.domain.similarity import ClusterChoice, Earlier, Signature

# Bounds on what one screening reads: a complainant's own complaints against one company in the window,
# and the candidates sharing a band key (the newest first).
MAX_EARLIER_OF_COMPLAINANT = 200
MAX_CLUSTER_CANDIDATES = 200

_COMPARED = {"submitted_at": 1, "signature": 1, "cluster_id": 1, "withdrawn": 1}


@dataclass(frozen=True)
class SignatureRecord:
    number: str
    company_id: str
    complainant_key: str
    submitted_at: datetime
    screened_at: datetime
    signature: Signature


class ClusterMember(BaseModel):
    number: str
    joined_at: datetime | None = Field(description="When the complaint joined the cluster.")
    submitted_at: datetime


class Cluster(BaseModel):
    cluster_id: str
    company_id: str
    first_number: str = Field(description="The complaint the cluster is named after.")
    size: int = Field(description="Members so far.")
    formed_at: datetime
    last_joined_at: datetime


class SimilarityRepository:
    def __init__(self, db: AsyncDatabase) -> None:
        self.signatures = db["signatures"]
        self.clusters = db["clusters"]
        self.turns = db["screening_turns"]

    async def take_turn(self, company_id: str, session: AsyncClientSession) -> None:
        """Serialise this transaction with every other screening of the company's complaints (module docstring)."""
        await self.turns.update_one({"_id": company_id}, {"$inc": {"turns": 1}}, upsert=True, session=session)

    async def earlier_of_complainant(
        self, complainant_key: str, company_id: str, since: datetime, session: AsyncClientSession
    ) -> list[Earlier]:
        """The complainant's accepted, not withdrawn complaints against the company filed since ``since``."""
        cursor = (
            self.signatures.find(
                {"complainant_key": complainant_key, "company_id": company_id, "submitted_at": {"$gte": since}},
                projection=_COMPARED,
                session=session,
            )
            .sort("submitted_at", ASCENDING)
            .limit(MAX_EARLIER_OF_COMPLAINANT)
        )
        return [_earlier(document, {}) async for document in cursor if not document.get("withdrawn")]

    async def cluster_candidates(
        self, company_id: str, band_keys: list[int], since: datetime, other_than: str, session: AsyncClientSession
    ) -> list[Earlier]:
        """Other complainants' accepted, not withdrawn complaints against the company since ``since`` sharing a band key.

        The query names only the company and the band keys, the prefix of the index, and the rest is
        checked here: every engine then reads the index for it (SecantusDB scans the whole collection
        for anything more), and what shares a band key is few documents. The newest come first; band
        keys of complaints older than the window are removed (``drop_old_bands``), so the reads stay
        within about the window.
        """
        cursor = (
            self.signatures.find(
                {"company_id": company_id, "bands": {"$in": band_keys}},
                projection={**_COMPARED, "complainant_key": 1},
                session=session,
            )
            .sort("submitted_at", DESCENDING)
            .limit(MAX_CLUSTER_CANDIDATES)
        )
        documents = [
            document
            async for document in cursor
            if document["submitted_at"] >= since
            and document["complainant_key"] != other_than
            and not document.get("withdrawn")
        ]
        cluster_ids = sorted({document["cluster_id"] for document in documents if document.get("cluster_id")})
        formed: dict[str, datetime] = {}
        if cluster_ids:
            async for cluster in self.clusters.find(
                {"_id": {"$in": cluster_ids}}, projection={"formed_at": 1}, session=session
            ):
                formed[cluster["_id"]] = cluster["formed_at"]
        return [_earlier(document, formed) for document in documents]

    async def drop_old_bands(self, before: datetime) -> int:
        """Remove the band keys of complaints filed before ``before``: no newcomer can cluster with them any more."""
        result = await self.signatures.update_many(
            {"submitted_at": {"$lt": before}, "bands.0": {"$exists": True}}, {"$set": {"bands": []}}
        )
        return result.modified_count

    async def record(self, record: SignatureRecord, cluster_id: str | None, session: AsyncClientSession) -> None:
        """Store an accepted complaint's signature (keeping a withdrawal that came before it)."""
        await self.signatures.update_one(
            {"_id": record.number},
            {
                "$set": {
                    "company_id": record.company_id,
                    "complainant_key": record.complainant_key,
                    "submitted_at": record.submitted_at,
                    "screened_at": record.screened_at,
                    "signature": record.signature.to_bytes(),
                    "bands": record.signature.band_keys(),
                    "cluster_id": cluster_id,
                    "joined_at": record.screened_at if cluster_id else None,
                }
            },
            upsert=True,
            session=session,
        )

    async def join(
        self, choice: ClusterChoice, company_id: str, now: datetime, session: AsyncClientSession
    ) -> tuple[list[str], int]:
        """Put the chosen stored complaints that are in no cluster yet into the cluster, and count the newcomer too.

        Answers the numbers that joined and the cluster's size after the join; the newcomer itself
        is stored afterwards with ``record``.
        """
        joined = []
        for number in choice.also_joining:
            result = await self.signatures.update_one(
                {"_id": number, "cluster_id": None},
                {"$set": {"cluster_id": choice.cluster_id, "joined_at": now}},
                session=session,
            )
            if result.modified_count:
                joined.append(number)
        update: dict = {"$inc": {"size": len(joined) + 1}, "$set": {"last_joined_at": now}}
        if choice.forms:
            update["$setOnInsert"] = {"company_id": company_id, "first_number": choice.first_number, "formed_at": now}
        cluster = await self.clusters.find_one_and_update(
            {"_id": choice.cluster_id},
            update,
            upsert=choice.forms,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        if cluster is None:
            raise LookupError(f"cluster {choice.cluster_id} is named by its members but not stored")
        return joined, cluster["size"]

    async def withdrawn(self, number: str, at: datetime, session: AsyncClientSession) -> None:
        """A withdrawn complaint is no longer an original nor a candidate (it stays counted in its cluster)."""
        await self.signatures.update_one(
            {"_id": number}, {"$set": {"withdrawn": True, "withdrawn_at": at}}, upsert=True, session=session
        )

    async def erase(self, number: str, session: AsyncClientSession) -> None:
        """An erased complaint's signature (its complainant's keyed hash, a fingerprint of its words) goes; its
        cluster keeps counting it, as the public record does."""
        await self.signatures.delete_one({"_id": number}, session=session)

    async def redirected(self, number: str, company_id: str, session: AsyncClientSession) -> None:
        """A redirected complaint is compared under the company it goes to now (its cluster stays as it was)."""
        await self.signatures.update_one(
            {"_id": number, "complainant_key": {"$exists": True}}, {"$set": {"company_id": company_id}}, session=session
        )

    async def list_clusters(self, company_id: str, min_size: int, limit: int) -> list[Cluster]:
        cursor = (
            self.clusters.find({"company_id": company_id, "size": {"$gte": min_size}})
            .sort([("formed_at", DESCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return [_cluster(document) async for document in cursor]

    async def get_cluster(self, cluster_id: str) -> Cluster | None:
        document = await self.clusters.find_one({"_id": cluster_id})
        return None if document is None else _cluster(document)

    async def members(self, cluster_id: str, limit: int) -> list[ClusterMember]:
        cursor = (
            self.signatures.find(
                {"cluster_id": cluster_id},
                projection={"joined_at": 1, "submitted_at": 1},
            )
            .sort([("submitted_at", ASCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return [
            ClusterMember(
                number=document["_id"], joined_at=document.get("joined_at"), submitted_at=document["submitted_at"]
            )
            async for document in cursor
        ]


def _earlier(document: dict, formed: dict[str, datetime]) -> Earlier:
    cluster_id = document.get("cluster_id")
    return Earlier(
        number=document["_id"],
        submitted_at=document["submitted_at"],
        signature=Signature.from_bytes(document["signature"]),
        cluster_id=cluster_id,
        cluster_formed_at=formed.get(cluster_id) if cluster_id else None,
    )


def _cluster(document: dict) -> Cluster:
    return Cluster(cluster_id=document["_id"], **{key: value for key, value in document.items() if key != "_id"})
