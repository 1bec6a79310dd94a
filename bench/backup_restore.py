"""What a backup and a restore of a service's database cost (greenchannel.backup), against the floor of the same run.

A SecantusDB this bench starts is seeded with ``--complaints`` realistic complaints of intake
(``bench.public_scale``'s generator: cases, public records, statistics rollups, with intake's indexes). Then, one
after the other, on the same data:

* baseline read: every document of every collection read with a plain ``find`` (raw BSON, no transaction);
* backup: ``take_backup`` (the same reads inside one snapshot transaction, written to files, hashed);
* baseline write: every document inserted with ``insert_many`` into an empty database (no indexes);
* restore: ``restore_backup`` into another empty database (files checked, documents inserted, indexes built).

Prints one JSON document: documents, bytes, seconds of each, and the ratios backup / baseline read and
restore / baseline write.

    python -m bench.backup_restore [--complaints 5000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

from bench.common import run_and_print
from bench.public_scale import generate
from devstack import standins
from greenchannel.backup import DatabasePart, restore_backup, take_backup
from greenchannel.mongo import make_client

RAW = CodecOptions(document_class=RawBSONDocument)
BATCH = 1000


async def measure(workdir: Path, complaints: int) -> dict[str, Any]:
    store = standins.start_secantus(workdir / "store", log_dir=workdir)
    client = make_client(standins.mongo_url(store.port), "bench-backup")
    try:
        source = client["bench_backup_source"]
        await generate(source, complaints)
        names = sorted(await source.list_collection_names())

        began = time.monotonic()
        documents: dict[str, list[RawBSONDocument]] = {}
        for name in names:
            documents[name] = await source.get_collection(name, codec_options=RAW).find({}).to_list()
        read_s = time.monotonic() - began
        count = sum(len(batch) for batch in documents.values())
        size = sum(len(document.raw) for batch in documents.values() for document in batch)

        report = await take_backup(workdir / "backup", "bench", [DatabasePart(client, source.name)])

        plain = client["bench_backup_plain"]
        began = time.monotonic()
        for name, batch in documents.items():
            collection = plain.get_collection(name, codec_options=RAW)
            for offset in range(0, len(batch), BATCH):
                await collection.insert_many(batch[offset : offset + BATCH])
        write_s = time.monotonic() - began

        restored = await restore_backup(workdir / "backup", "bench", [DatabasePart(client, "bench_backup_restored")])
        indexes = sum(len(entry["indexes"]) for entry in report.manifest["parts"]["database"]["collections"].values())
        return {
            "complaints": complaints,
            "collections": len(names),
            "documents": count,
            "bson_bytes": size,
            "indexes_besides_id": indexes,
            "baseline_read_s": round(read_s, 2),
            "backup_s": round(report.seconds, 2),
            "backup_per_baseline_read": round(report.seconds / read_s, 2),
            "baseline_write_s": round(write_s, 2),
            "restore_s": round(restored.seconds, 2),
            "restore_per_baseline_write": round(restored.seconds / write_s, 2),
            "backup_documents_per_s": round(count / report.seconds),
            "restore_documents_per_s": round(count / restored.seconds),
            "load_average": [round(value, 2) for value in os.getloadavg()],
        }
    finally:
        await client.close()
        store.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=5000)
    arguments = parser.parse_args()
    return run_and_print(lambda workdir: measure(workdir, arguments.complaints), "bench-backup-")


if __name__ == "__main__":
    sys.exit(main())
