"""Logical backups of a service's stores, and their restore into empty ones (development, tests, drills).

``python -m <service>.backup <dir>`` writes a backup of the service's stores into ``<dir>``;
``python -m <service>.restore <dir>`` restores it into stores that hold nothing yet. A backup is made of
parts: every service has its MongoDB database (:class:`DatabasePart`); evidence adds its bucket
(``evidence.backup``). Each part writes its files and a section of ``manifest.json``, which names every file
with its size and SHA-256, so a restore checks the whole backup before it writes anything.

The database part is generic: every collection of the database as it is found (the outbox, inbox,
idempotency keys and leases as much as the cases), each with its options and with its indexes as the source
reports them, so a collection or an index added later is backed up without a change here. Documents are
copied as raw BSON (one ``<collection>.bson`` file of concatenated documents, the ``mongodump`` layout), so
every type and field order comes back as it was.

Point in time: every collection is read inside ONE transaction with read concern ``snapshot``, so the copy
is the database as one commit left it: no outbox entry without the change it announces, no case without
its idempotency key's answer. SecantusDB honours that (a transaction's reads see the data as of its first
read, across collections); it ignores snapshot sessions (``atClusterTime``), hence the transaction.
listCollections and listIndexes cannot run inside a transaction: the collections and their indexes are read
just before it; a collection created in between (only a service starting up creates one) is not copied.
MongoDB bounds a transaction's life (``transactionLifetimeLimitSeconds``, 60 s by default), which bounds the
size this command copies: it is for development and test data, not production's, which has Percona Backup
for MongoDB (deploy/k8s/README.md).

Each service's copy is its own point in time, and the broker's queues are in none: after the documents, a
restore publishes again the outbox entries marked sent in the ``REPUBLISH_WINDOW`` before the copy and frees
the leases of relays that no longer exist (greenchannel.outbox.reopen_after_restore); consumers skip what they
had applied.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from bson import decode_file_iter, json_util
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import AsyncMongoClient, IndexModel
from pymongo.read_concern import ReadConcern

from greenchannel.mongo import make_client
from greenchannel.outbox import reopen_after_restore

MANIFEST = "manifest.json"
FORMAT = 1
#: Documents inserted per command on restore.
RESTORE_BATCH = 1000
#: Bytes read at a time when a file's SHA-256 is checked.
HASH_CHUNK_BYTES = 1024 * 1024
#: What a source index reports that is the server's own, not part of its definition.
SERVER_INDEX_FIELDS = frozenset({"v", "ns", "key", "name"})
RAW = CodecOptions(document_class=RawBSONDocument)
OUTBOX_COLLECTION = "outbox"
#: How far before a database's copy the outbox entries marked sent are published again after its restore
#: (greenchannel.outbox.reopen_after_restore): longer than the time between the services' backups plus an
#: event's time in flight. Consumers skip what they had, so a longer window costs repeats, never effects.
REPUBLISH_WINDOW = timedelta(minutes=15)


class BackupError(Exception):
    """The backup cannot be taken or restored as asked (the message says why); nothing was restored."""


class Part(Protocol):
    """One store of a service in a backup."""

    name: str

    async def dump(self, directory: Path) -> dict[str, Any]:
        """Write the store's files under ``directory``; answer its manifest section: its files (each an entry of
        :func:`file_entry`) and ``counts``, what it copied."""
        ...

    async def ensure_empty(self) -> None:
        """Raise :class:`BackupError` unless the store holds nothing a restore would overwrite or mix with."""
        ...

    async def restore(self, directory: Path, section: dict[str, Any]) -> dict[str, int]:
        """Write what the section lists back into the store; answer counts."""
        ...


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def file_entry(directory: Path, path: Path) -> dict[str, Any]:
    """A file of the backup as the manifest names it: its path inside the backup, size and SHA-256."""
    return {"file": path.relative_to(directory).as_posix(), "bytes": path.stat().st_size, "sha256": sha256_of(path)}


def check_file(directory: Path, entry: dict[str, Any]) -> Path:
    """The file ``entry`` names, after checking it is there with the size and SHA-256 the manifest recorded."""
    path = directory / entry["file"]
    if not path.is_file():
        raise BackupError(f"{entry['file']} is missing from the backup")
    if path.stat().st_size != entry["bytes"] or sha256_of(path) != entry["sha256"]:
        raise BackupError(f"{entry['file']} is not the file the backup wrote (size or SHA-256 differs)")
    return path


class DatabasePart:
    """Every collection of one MongoDB database, with its options and indexes, read at one point in time."""

    name = "database"

    def __init__(
        self, client: AsyncMongoClient, database: str, *, republish_window: timedelta = REPUBLISH_WINDOW
    ) -> None:
        self.client = client
        self.database = client[database]
        self.republish_window = republish_window

    async def _collections(self) -> list[dict[str, Any]]:
        listed = await (await self.database.list_collections()).to_list()
        # Views are definitions over collections and system collections the server's own: neither holds data.
        return sorted(
            (dict(spec) for spec in listed if spec.get("type", "collection") == "collection"),
            key=lambda spec: spec["name"],
        )

    async def dump(self, directory: Path) -> dict[str, Any]:
        folder = directory / "database"
        folder.mkdir(parents=True, exist_ok=True)
        specs = [spec for spec in await self._collections() if not spec["name"].startswith("system.")]
        indexes = {spec["name"]: await (await self.database[spec["name"]].list_indexes()).to_list() for spec in specs}
        collections: dict[str, Any] = {}
        # Before the snapshot: an outbox entry the copy shows sent was marked before this time.
        read_at = datetime.now(UTC)
        async with (
            self.client.start_session() as session,
            await session.start_transaction(read_concern=ReadConcern("snapshot")),
        ):
            for spec in specs:
                name = spec["name"]
                path = folder / f"{name}.bson"
                count = 0
                collection = self.database.get_collection(name, codec_options=RAW)
                with path.open("wb") as file:
                    async for document in collection.find({}, session=session, sort=[("_id", 1)]):
                        file.write(document.raw)
                        count += 1
                collections[name] = {
                    **file_entry(directory, path),
                    "documents": count,
                    "options": json.loads(json_util.dumps(spec.get("options", {}))),
                    "indexes": [
                        json.loads(json_util.dumps(index)) for index in indexes[name] if index["name"] != "_id_"
                    ],
                }
        # Read-only: committing ends it (an abort would too); reads at snapshot see one commit's data.
        return {
            "database": self.database.name,
            "consistency": "snapshot transaction",
            "read_at": read_at.isoformat(),
            "collections": collections,
            "counts": {name: entry["documents"] for name, entry in collections.items()},
        }

    async def ensure_empty(self) -> None:
        present = [spec["name"] for spec in await self._collections() if not spec["name"].startswith("system.")]
        if present:
            raise BackupError(
                f"database {self.database.name} is not empty (collections {', '.join(present[:10])}): "
                "a backup is restored only into an empty database, before the service first starts on it"
            )

    async def restore(self, directory: Path, section: dict[str, Any]) -> dict[str, int]:
        restored: dict[str, int] = {}
        for name, entry in section["collections"].items():
            path = directory / entry["file"]
            options = json_util.loads(json.dumps(entry["options"]))
            collection = await self.database.create_collection(name, **options)
            collection = collection.with_options(codec_options=RAW)
            count = 0
            batch: list[RawBSONDocument] = []
            with path.open("rb") as file:
                for document in decode_file_iter(file, codec_options=RAW):
                    batch.append(document)
                    if len(batch) >= RESTORE_BATCH:
                        await collection.insert_many(batch)
                        count += len(batch)
                        batch = []
            if batch:
                await collection.insert_many(batch)
                count += len(batch)
            if count != entry["documents"]:
                raise BackupError(f"{name}: restored {count} documents, the manifest says {entry['documents']}")
            # Indexes after the documents: one build each rather than an update per insert. A unique index
            # holds, since the documents come from a collection where it held.
            models = [_index_model(json_util.loads(json.dumps(index))) for index in entry["indexes"]]
            if models:
                await collection.create_indexes(models)
            restored[name] = count
        if OUTBOX_COLLECTION in section["collections"]:
            since = datetime.fromisoformat(section["read_at"]) - self.republish_window
            outbox = await reopen_after_restore(self.database, since, OUTBOX_COLLECTION)
            restored.update({f"outbox_{key}": value for key, value in outbox.items()})
        return restored


def _index_model(index: dict[str, Any]) -> IndexModel:
    options = {key: value for key, value in index.items() if key not in SERVER_INDEX_FIELDS}
    return IndexModel(list(index["key"].items()), name=index["name"], **options)


@dataclass
class BackupReport:
    directory: Path
    manifest: dict[str, Any]
    seconds: float


async def take_backup(directory: Path, service: str, parts: Sequence[Part]) -> BackupReport:
    """Write a backup of ``parts`` into ``directory`` (new, or empty) and its manifest, last."""
    await asyncio.to_thread(_new_folder, directory)
    began = time.monotonic()
    taken_at = datetime.now(UTC)
    sections = {}
    # In the order given: the database first, then what it refers to (the bucket), so every object a record
    # of the copy names was stored before the copy was taken.
    for part in parts:
        sections[part.name] = await part.dump(directory)
    manifest = {"format": FORMAT, "service": service, "taken_at": taken_at.isoformat(), "parts": sections}
    # The manifest goes last: a folder without one is a backup that did not finish.
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    return BackupReport(directory, manifest, time.monotonic() - began)


def _new_folder(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: a backup is written into a new folder")


def read_manifest(directory: Path, service: str) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        raise BackupError(f"{directory} holds no {MANIFEST}: not a backup, or one that did not finish")
    manifest: dict[str, Any] = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')!r}, this command reads {FORMAT}")
    if manifest.get("service") != service:
        raise BackupError(f"the backup is {manifest.get('service')!r}'s, not {service!r}'s")
    return manifest


def _listed_files(section: Any) -> list[dict[str, Any]]:
    """Every file entry (a dict with ``file`` and ``sha256``) anywhere in a manifest section."""
    if isinstance(section, dict):
        if "file" in section and "sha256" in section:
            return [section]
        return [entry for value in section.values() for entry in _listed_files(value)]
    if isinstance(section, list):
        return [entry for value in section for entry in _listed_files(value)]
    return []


async def restore_backup(directory: Path, service: str, parts: Sequence[Part]) -> BackupReport:
    """Check every file of the backup and that every store is empty, then restore each part."""
    began = time.monotonic()
    manifest = read_manifest(directory, service)
    missing = [part.name for part in parts if part.name not in manifest["parts"]]
    if missing:
        raise BackupError(f"the backup has no {', '.join(missing)}")
    for part in parts:
        for entry in _listed_files(manifest["parts"][part.name]):
            await asyncio.to_thread(check_file, directory, entry)
        await part.ensure_empty()
    counts = {part.name: await part.restore(directory, manifest["parts"][part.name]) for part in parts}
    return BackupReport(directory, {**manifest, "restored": counts}, time.monotonic() - began)


PartsFactory = Callable[[], Awaitable[tuple[Sequence[Part], Callable[[], Awaitable[None]]]]]


def run_command(argv: Sequence[str] | None, *, service: str, action: str, parts: PartsFactory) -> int:
    """``python -m <service>.backup <dir>`` or ``.restore <dir>``: prints what it did as JSON; a refusal is
    one line on stderr and exit status 2.

    ``.restore --outbox-since <time>`` (no folder) restores nothing: after the database was restored another way
    (production's point-in-time recovery), it publishes again what the outbox marked sent since ``<time>`` and
    frees the leases of relays that no longer exist (greenchannel.outbox.reopen_after_restore)."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {service}.{action}",
        description=f"{'Back up' if action == 'backup' else 'Restore'} {service}'s stores "
        f"({'into' if action == 'backup' else 'from'} a folder); settings from the environment, as the service's.",
    )
    if action == "restore":
        parser.add_argument("directory", type=Path, nargs="?")
        parser.add_argument(
            "--outbox-since",
            type=datetime.fromisoformat,
            help="restore nothing; publish again the outbox entries marked sent since this ISO 8601 time "
            "(with its offset) after a restore made another way",
        )
    else:
        parser.add_argument("directory", type=Path)
    arguments = parser.parse_args(argv)
    outbox_since: datetime | None = getattr(arguments, "outbox_since", None)
    if (arguments.directory is None) == (outbox_since is None):
        parser.error("name a backup folder, or --outbox-since alone")
    if outbox_since is not None and outbox_since.tzinfo is None:
        parser.error("--outbox-since needs its offset (e.g. 2026-12-07T02:00:00+08:00)")

    async def run() -> dict[str, Any]:
        chosen, close = await parts()
        try:
            if outbox_since is not None:
                (database,) = [part for part in chosen if isinstance(part, DatabasePart)]
                began = time.monotonic()
                counts = await reopen_after_restore(database.database, outbox_since, OUTBOX_COLLECTION)
                return {"seconds": time.monotonic() - began, "counts": {"outbox": counts}}
            if action == "backup":
                report = await take_backup(arguments.directory, service, chosen)
                counts = {name: section["counts"] for name, section in report.manifest["parts"].items()}
            else:
                report = await restore_backup(arguments.directory, service, chosen)
                counts = report.manifest["restored"]
            return {"directory": str(report.directory), "seconds": report.seconds, "counts": counts}
        finally:
            await close()

    try:
        done = asyncio.run(run())
    except BackupError as error:
        sys.stderr.write(f"{service} {action}: {error}\n")
        return 2
    summary = {"service": service, "action": action, **done, "seconds": round(done["seconds"], 3)}
    json.dump(summary, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def database_parts(settings: Any, app_name: str) -> PartsFactory:
    """The parts of a service whose one store is its database (``settings``: its Settings)."""

    async def parts() -> tuple[Sequence[Part], Callable[[], Awaitable[None]]]:
        client = make_client(settings.mongo_url, app_name)
        return [DatabasePart(client, settings.database_name)], client.close

    return parts
