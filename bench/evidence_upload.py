"""Upload evidence through the gateway and compare with a direct S3 PUT of the same files, in the same run.

Starts SecantusDB and nanio, then the evidence and intake services as their own processes, with the
production server command (so each one's memory and CPU time can be read from ``/proc/<pid>``; with
their production polling intervals, since what they spend idle counts in every way's CPU:
``idle_cpu_percent`` says how much), and uploads the same set of files these ways, interleaved file
by file (a slower moment of the shared machine touches every way alike):

* ``direct_s3``: the baseline, one S3 PutObject of each file straight to nanio (a presigned PUT,
  streamed from the file): what storage takes from one client;
* ``intake``: the gateway as the web uploader uses it: the raw body (the file's Content-Type and a
  ``Content-Disposition`` naming it) to intake's ``POST /v1/evidence``, which streams it on to evidence
  (the whole way a client's upload goes);
* ``intake_multipart``: the same through a multipart form (field ``file``), as an HTML form posts it;
* ``evidence``: the raw body streamed to evidence's ``POST /v1/evidence`` (the service alone);
* ``presigned``: the presigned flow through intake, timed from ``POST /v1/uploads`` through the client's
  PUT into quarantine to ``complete`` (evidence copies the object out of quarantine and reads it back
  to check it); ``presigned_transfer`` is the same upload until storage has answered the PUT (the declaration
  and the transfer: what the web client's progress bar shows for a large file), its CPU counted in ``presigned``;
* ``presigned_parts``: the presigned multipart upload the web client sends a large file as (declared with
  ``multipart``, each part PUT to its own URL, ``UPLOAD_PARTS_AT_ONCE`` at a time as the web client sends them
  (``intake.web.pages``), completed: storage joins the parts first);
  ``presigned_parts_transfer`` the same until storage has answered the last part; the milliseconds of each one's
  declaration (``presigned_declaration``, ``presigned_parts_declaration``: until the ticket is answered) are
  reported per file with the others;
* ``bare_hops``: the control: the same bytes through two bare pass-through hops (:mod:`bench.passthrough`,
  served and passing bytes on as the services do, the second hashing them) to the presigned PUT, with
  nothing else done: the floor of a two-hop gateway on this machine. ``intake_to_bare_hops`` says how
  close the gateway comes to it.

Every client is httpx, reading the file in the same 256 KiB pieces, so the ways differ only by where
the bytes go. The set (by default three small JPEG photos, three 8 MiB and three 50 MiB videos) is
uploaded ``--rounds`` times; each round reports its throughputs, ratios and the machine's load average
(other processes share the cores), and the totals cover every round, overall and per size class.

Prints one JSON document: throughput (MiB/s) of each way, the ratios against the direct PUT (overall
and per size class), the CPU seconds per GiB each process spent on each way, the load average next
to each figure, and for one large file (200 MiB by default, a video: an ``ftyp`` box and filler, sent
``--large-repeats`` times directly, through the gateway and presigned, alternating) the resident memory
of intake and evidence before and at the peak during its upload, and of the client during the direct
PUT as the baseline (VmRSS sampled every 10 ms, and the kernel's VmHWM high-water mark).

The stand-ins keep their data on tmpfs (``/dev/shm``) when there is one, so that the figures measure
the upload path rather than the disk (``--on-disk`` to keep them in the temp folder).

    python -m bench.evidence_upload [--photos 3] [--sizes-mib 8 50] [--files-per-size 3] [--rounds 3] [--large-mib 200]
                                    [--large-repeats 3] [--on-disk]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import struct
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Self
from urllib.parse import quote

import httpx

from bench.common import run_and_print
from devstack.waiting import until
from intake.web.pages import UPLOAD_PARTS_AT_ONCE

MIB = 1024 * 1024


def mp4_header() -> bytes:
    """A minimal ISO base media file start: an ``ftyp`` box (brand isom), then an ``mdat`` box header."""
    brands = b"isom" + b"\x00\x00\x02\x00" + b"isomiso2mp41"
    return (
        struct.pack(">I", 8 + len(brands)) + b"ftyp" + brands + struct.pack(">I", 0) + b"mdat"
    )  # size 0: the box runs to the end of the file


def write_photo(path: Path, seed: int) -> tuple[int, str]:
    """A 640x480 JPEG of noise (about 200 KiB, a phone screenshot's order); its size and SHA-256."""
    from PIL import Image

    Image.frombytes("RGB", (640, 480), random.Random(seed).randbytes(640 * 480 * 3)).save(path, "JPEG", quality=80)
    content = path.read_bytes()
    return len(content), hashlib.sha256(content).hexdigest()


def write_video(path: Path, size: int) -> str:
    """A ``size``-byte video file of random filler; its SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        header = mp4_header()
        out.write(header)
        digest.update(header)
        left = size - len(header)
        block = os.urandom(4 * MIB)
        while left > 0:
            piece = block[: min(left, len(block))]
            out.write(piece)
            digest.update(piece)
            left -= len(piece)
    return digest.hexdigest()


@dataclass
class MemorySampler:
    """Samples a process's resident memory every ``interval_s`` in a thread, from /proc/<pid>/status."""

    pid: int
    interval_s: float = 0.01
    peak_kib: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def read(self) -> dict[str, int]:
        values = {}
        with Path(f"/proc/{self.pid}/status").open() as status:
            for line in status:
                name, _, rest = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    values[name] = int(rest.split()[0])
        return values

    def __enter__(self) -> Self:
        self.before_kib = self.read()["VmRSS"]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, self.read()["VmRSS"])
            self.samples += 1
            self._stop.wait(self.interval_s)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self.after = self.read()

    def report(self) -> dict[str, float]:
        return {
            "rss_before_mib": round(self.before_kib / 1024, 1),
            "rss_peak_mib": round(self.peak_kib / 1024, 1),
            "rss_growth_mib": round((self.peak_kib - self.before_kib) / 1024, 1),
            "vm_hwm_mib": round(self.after["VmHWM"] / 1024, 1),
            "samples": self.samples,
        }


READ_BYTES = 256 * 1024
BOUNDARY = "bench-evidence-upload-boundary"


async def file_chunks(path: Path, prefix: bytes = b"", suffix: bytes = b"") -> AsyncIterator[bytes]:
    """The file's bytes in ``READ_BYTES`` pieces, read in a worker thread, between ``prefix`` and ``suffix``."""
    if prefix:
        yield prefix
    source = await asyncio.to_thread(open, path, "rb")
    try:
        while chunk := await asyncio.to_thread(source.read, READ_BYTES):
            yield chunk
    finally:
        source.close()
    if suffix:
        yield suffix


async def range_chunks(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    """``length`` bytes of the file from ``start`` (a part of it) in ``READ_BYTES`` pieces, read in a worker thread."""
    source = await asyncio.to_thread(open, path, "rb")
    try:
        source.seek(start)
        while length > 0 and (chunk := await asyncio.to_thread(source.read, min(READ_BYTES, length))):
            length -= len(chunk)
            yield chunk
    finally:
        source.close()


async def direct_put(client: httpx.AsyncClient, storage, bucket: str, path: Path, size: int) -> float:
    url = storage.presigned_put_object(bucket, f"direct/{uuid.uuid4().hex}", timedelta(minutes=30))
    started = time.monotonic()
    response = await client.put(url, content=file_chunks(path), headers={"Content-Length": str(size)})
    elapsed = time.monotonic() - started
    if response.status_code != 200:
        raise RuntimeError(f"direct PUT answered {response.status_code}: {response.text[:500]}")
    return elapsed


async def through_evidence(client: httpx.AsyncClient, path: Path, size: int, sha256: str, media_type: str) -> float:
    started = time.monotonic()
    response = await client.post(
        "/v1/evidence",
        content=file_chunks(path),
        headers={"Content-Type": media_type, "Content-Length": str(size), "X-Filename": path.name},
    )
    elapsed = time.monotonic() - started
    _check(response, sha256)
    return elapsed


async def through_intake(client: httpx.AsyncClient, path: Path, size: int, sha256: str, media_type: str) -> float:
    """The raw body, as the web uploader sends a file (``xhr.send(file)``)."""
    started = time.monotonic()
    response = await client.post(
        "/v1/evidence",
        content=file_chunks(path),
        headers={
            "Content-Type": media_type,
            "Content-Length": str(size),
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(path.name, safe='')}",
        },
    )
    elapsed = time.monotonic() - started
    _check(response, sha256)
    return elapsed


async def through_intake_multipart(
    client: httpx.AsyncClient, path: Path, size: int, sha256: str, media_type: str
) -> float:
    """A multipart form as browsers send it, streamed."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        f"Content-Type: {media_type}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    started = time.monotonic()
    response = await client.post(
        "/v1/evidence",
        content=file_chunks(path, head, tail),
        headers={
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(len(head) + size + len(tail)),
        },
    )
    elapsed = time.monotonic() - started
    _check(response, sha256)
    return elapsed


async def through_bare_hops(
    client: httpx.AsyncClient, storage, bucket: str, hops: list[str], path: Path, size: int, sha256: str
) -> float:
    url = storage.presigned_put_object(bucket, f"floor/{uuid.uuid4().hex}", timedelta(minutes=30))
    started = time.monotonic()
    response = await client.put(
        hops[0],
        content=file_chunks(path),
        headers={"Content-Length": str(size), "X-Forward-To": hops[1], "X-Then-Forward-To": url},
    )
    elapsed = time.monotonic() - started
    if response.status_code != 200 or response.json()["sha256"] != sha256:
        raise RuntimeError(f"the bare hops answered {response.status_code}: {response.text[:500]}")
    return elapsed


async def presigned(
    client: httpx.AsyncClient, path: Path, size: int, sha256: str, media_type: str
) -> tuple[float, dict[str, float]]:
    """The whole presigned upload's seconds, and those of its transfer (declaration and PUT: what the web client's
    progress bar shows, after which the bytes are in storage and only the check is left)."""
    started = time.monotonic()
    ticket = await client.post(
        "/v1/uploads", json={"filename": path.name, "media_type": media_type, "size": size, "sha256": sha256}
    )
    if ticket.status_code != 201:
        raise RuntimeError(f"presign answered {ticket.status_code}: {ticket.text[:500]}")
    declared = time.monotonic() - started
    put = await client.put(ticket.json()["url"], content=file_chunks(path), headers={"Content-Length": str(size)})
    if put.status_code != 200:
        raise RuntimeError(f"PUT answered {put.status_code}: {put.text[:500]}")
    transferred = time.monotonic() - started
    response = await client.post(ticket.json()["links"]["complete"])
    elapsed = time.monotonic() - started
    _check(response, sha256)
    return elapsed, {"transfer": transferred, "declaration": declared}


async def presigned_parts(
    client: httpx.AsyncClient, path: Path, size: int, sha256: str, media_type: str
) -> tuple[float, dict[str, float]]:
    """The whole presigned multipart upload's seconds, and those of its transfer (declaration and every part).

    The parts go as the web client sends them: the part size is the ticket's (evidence decides it), and
    ``UPLOAD_PARTS_AT_ONCE`` of them are on their way at a time, each streamed from the file."""
    started = time.monotonic()
    ticket = await client.post(
        "/v1/uploads",
        json={"filename": path.name, "media_type": media_type, "size": size, "sha256": sha256, "multipart": True},
    )
    if ticket.status_code != 201:
        raise RuntimeError(f"presign answered {ticket.status_code}: {ticket.text[:500]}")
    declared = time.monotonic() - started
    waiting = list(ticket.json()["parts"])
    offsets = dict(zip((part["number"] for part in waiting), part_offsets(waiting), strict=True))

    async def sender() -> None:
        while waiting:
            part = waiting.pop(0)
            put = await client.put(
                part["url"],
                content=range_chunks(path, offsets[part["number"]], part["size"]),
                headers={"Content-Length": str(part["size"])},
            )
            if put.status_code != 200:
                raise RuntimeError(f"PUT of part {part['number']} answered {put.status_code}: {put.text[:500]}")

    await asyncio.gather(*(sender() for _ in range(min(UPLOAD_PARTS_AT_ONCE, len(waiting)))))
    transferred = time.monotonic() - started
    response = await client.post(ticket.json()["links"]["complete"])
    elapsed = time.monotonic() - started
    _check(response, sha256)
    return elapsed, {"transfer": transferred, "declaration": declared}


def part_offsets(parts: list[dict]) -> list[int]:
    """Where each part (in order) starts in the file."""
    offsets, start = [], 0
    for part in parts:
        offsets.append(start)
        start += part["size"]
    return offsets


async def answering(url: str, timeout_s: float = 90.0) -> None:
    """Wait until a bench hop answers its readiness probe: it has one listener, where a service's ``wait_ready``
    also waits for the internal one."""

    async def ready() -> bool:
        try:
            return (await client.get(f"{url}/readyz")).status_code == 200
        except httpx.HTTPError:
            return False

    async with httpx.AsyncClient(timeout=3) as client:
        await until(ready, timeout=timeout_s, what=f"{url} to answer")


def _check(response: httpx.Response, sha256: str) -> None:
    if response.status_code != 201:
        raise RuntimeError(f"upload answered {response.status_code}: {response.text[:500]}")
    if response.json()["original_sha256"] != sha256:
        raise RuntimeError("the receipt's SHA-256 is not the file's")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat)."""
    with Path(f"/proc/{pid}/stat").open() as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(total_bytes: int, seconds: float) -> float:
    return round(total_bytes / MIB / seconds, 1) if seconds else 0.0


WAYS = (
    "direct_s3",
    "intake",
    "intake_multipart",
    "evidence",
    "presigned",
    "presigned_transfer",
    "presigned_parts",
    "presigned_parts_transfer",
    "bare_hops",
)
# The ways the large file is uploaded ``--large-repeats`` times, alternating; the others once.
LARGE_REPEATED = (
    "direct_s3",
    "intake",
    "presigned",
    "presigned_transfer",
    "presigned_parts",
    "presigned_parts_transfer",
)
# Stages timed for their milliseconds alone (no throughput, no ratio): the presigned declarations, the fixed cost
# each presigned upload pays before its first byte (a multipart one also starts the upload in storage).
DECLARATIONS = ("presigned_declaration", "presigned_parts_declaration")
IDLE_SAMPLE_S = 5.0


@dataclass
class Tally:
    """Seconds and CPU seconds per process spent on each way, and the load average seen before each upload."""

    processes: dict[str, int]
    elapsed: dict[str, float] = field(default_factory=lambda: dict.fromkeys(WAYS + DECLARATIONS, 0.0))
    cpu: dict[str, dict[str, float]] = field(default_factory=dict)
    loads: list[float] = field(default_factory=list)

    async def measure(self, way: str, upload: Awaitable[object]) -> None:
        """Time one upload: its seconds, or its seconds and those of its stages (each its own way)."""
        self.loads.append(os.getloadavg()[0])
        before = {name: cpu_seconds(pid) for name, pid in self.processes.items()}
        answer = await upload
        seconds, stages = answer if isinstance(answer, tuple) else (answer, {})
        assert isinstance(seconds, float) and isinstance(stages, dict)
        self.elapsed[way] += seconds
        for stage, stage_seconds in stages.items():
            self.elapsed[f"{way}_{stage}"] += stage_seconds
        spent = self.cpu.setdefault(way, dict.fromkeys(self.processes, 0.0))
        for name, pid in self.processes.items():
            spent[name] += cpu_seconds(pid) - before[name]

    def rates(self, total_bytes: int) -> dict[str, float]:
        return {way: throughput(total_bytes, self.elapsed[way]) for way in WAYS}

    def cpu_per_gib(self, total_bytes: int) -> dict[str, dict[str, float]]:
        gib = total_bytes / (1024 * MIB)
        return {
            way: {name: round(seconds / gib, 2) for name, seconds in spent.items() if seconds >= 0.005}
            for way, spent in self.cpu.items()
        }

    def load(self) -> dict[str, float]:
        return {"mean": round(sum(self.loads) / len(self.loads), 2), "max": round(max(self.loads), 2)}


def ratios(rates: dict[str, float]) -> dict[str, float]:
    """Each way against the direct PUT (``intake_to_direct_s3`` is the gateway's figure, target 0.8;
    ``presigned_transfer_to_direct_s3`` the presigned upload's until its bytes are in storage, target 0.9)."""
    base = rates["direct_s3"]
    against_direct = {f"{way}_to_direct_s3": round(rates[way] / base, 3) for way in WAYS if way != "direct_s3"}
    return {**against_direct, "intake_to_bare_hops": round(rates["intake"] / rates["bare_hops"], 3)}


@dataclass(frozen=True)
class Sample:
    path: Path
    size: int
    sha256: str
    media_type: str
    size_class: str


def size_class(size_mib: float) -> str:
    return "medium" if size_mib < 32 else "large"


def add_into(total: Tally, part: Tally) -> None:
    for way in WAYS + DECLARATIONS:
        total.elapsed[way] += part.elapsed[way]
        totals = total.cpu.setdefault(way, dict.fromkeys(total.processes, 0.0))
        for name, seconds in part.cpu.get(way, {}).items():
            totals[name] += seconds
    total.loads += part.loads


async def run(
    photos: int,
    sizes_mib: list[float],
    files_per_size: int,
    rounds: int,
    large_mib: int,
    large_repeats: int,
    workdir: Path,
) -> dict:
    from minio import Minio

    from bench.submit_to_webhook import cleanup_broker
    from devstack import standins
    from devstack.processes import INTERNAL_TOKEN, server_command, service_env, start_service

    run_id = uuid.uuid4().hex[:8]
    amqp_url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    if not standins.ensure_rabbitmq(amqp_url).reachable:
        raise SystemExit("RabbitMQ is required at AMQP_URL")
    load_at_start = os.getloadavg()[0]
    mongo = standins.start_secantus(workdir / "secantus", log_dir=workdir)
    s3 = standins.start_nanio(workdir / "nanio", log_dir=workdir)
    s3_endpoint = f"127.0.0.1:{s3.port}"
    bucket = f"bench-{run_id}"
    broker = {"amqp_url": amqp_url, "event_exchange": f"bench-{run_id}.events", "queue_prefix": f"bench-{run_id}"}
    mongo_url = standins.mongo_url(mongo.port)
    processes = []
    try:
        evidence = start_service(
            "evidence",
            service_env(
                "evidence",
                mongo_url=mongo_url,
                mongo_db=f"bench{run_id}_evidence",
                broker=broker,
                s3_endpoint=s3_endpoint,
                s3_bucket=bucket,
                fast=False,
                log_level="WARNING",
            ),
            log_dir=workdir,
        )
        processes.append(evidence)
        await evidence.wait_ready()
        intake = start_service(
            "intake",
            service_env(
                "intake",
                mongo_url=mongo_url,
                mongo_db=f"bench{run_id}_intake",
                broker=broker,
                urls={"evidence": evidence.url},
                fast=False,
                log_level="WARNING",
            ),
            log_dir=workdir,
        )
        processes.append(intake)
        await intake.wait_ready()
        hops = [
            start_service(
                "passthrough",
                {**os.environ, "PYTHONUNBUFFERED": "1"},
                log_dir=workdir,
                name=f"hop-{index}",
                factory="bench.passthrough:create_app",
            )
            for index in (1, 2)
        ]
        processes.extend(hops)
        for hop in hops:
            await answering(hop.url)
        storage = Minio(s3_endpoint, standins.S3_ACCESS_KEY, standins.S3_SECRET_KEY, secure=False)

        files: list[Sample] = []
        for index in range(photos):
            path = workdir / f"photo-{index}.jpg"
            files.append(Sample(path, *write_photo(path, index), "image/jpeg", "small"))
        for size_mib in sizes_mib:
            for index in range(files_per_size):
                path = workdir / f"video-{size_mib}-{index}.mp4"
                size = int(size_mib * MIB)
                files.append(Sample(path, size, write_video(path, size), "video/mp4", size_class(size_mib)))
        large_path = workdir / "large.mp4"
        large_size = large_mib * MIB
        large = Sample(large_path, large_size, write_video(large_path, large_size), "video/mp4", "200 MiB")
        total = sum(sample.size for sample in files)
        classes = sorted({sample.size_class for sample in files}, key=["small", "medium", "large"].index)
        class_bytes = {name: sum(sample.size for sample in files if sample.size_class == name) for name in classes}

        timeout = httpx.Timeout(600, connect=10)
        async with (
            httpx.AsyncClient(timeout=timeout) as to_storage,
            httpx.AsyncClient(
                base_url=evidence.url, timeout=timeout, headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"}
            ) as to_evidence,
            httpx.AsyncClient(base_url=intake.url, timeout=timeout) as to_intake,
        ):
            ways = {
                "direct_s3": lambda sample: direct_put(to_storage, storage, bucket, sample.path, sample.size),
                "intake": lambda sample: through_intake(
                    to_intake, sample.path, sample.size, sample.sha256, sample.media_type
                ),
                "intake_multipart": lambda sample: through_intake_multipart(
                    to_intake, sample.path, sample.size, sample.sha256, sample.media_type
                ),
                "evidence": lambda sample: through_evidence(
                    to_evidence, sample.path, sample.size, sample.sha256, sample.media_type
                ),
                "presigned": lambda sample: presigned(
                    to_intake, sample.path, sample.size, sample.sha256, sample.media_type
                ),
                "presigned_parts": lambda sample: presigned_parts(
                    to_intake, sample.path, sample.size, sample.sha256, sample.media_type
                ),
                "bare_hops": lambda sample: through_bare_hops(
                    to_storage, storage, bucket, [hop.url for hop in hops], sample.path, sample.size, sample.sha256
                ),
            }
            # One warm-up upload each way and size, so connection set-up and first imports are not measured.
            for upload in ways.values():
                for name in classes:
                    await upload(next(sample for sample in files if sample.size_class == name))

            pids = {
                "bench_client": os.getpid(),
                "intake": intake.worker_pid,
                "evidence": evidence.worker_pid,
                "nanio": s3.process.pid,
                "hop_1": hops[0].worker_pid,
                "hop_2": hops[1].worker_pid,
            }
            # What the services spend doing nothing (outbox relays, consumers, clean-up polling): it is
            # counted in every way's CPU below, the longer the way takes the more.
            idle_before = {name: cpu_seconds(pid) for name, pid in pids.items() if name != "bench_client"}
            await asyncio.sleep(IDLE_SAMPLE_S)
            idle_cpu = {
                name: round(100 * (cpu_seconds(pids[name]) - seconds) / IDLE_SAMPLE_S, 1)
                for name, seconds in idle_before.items()
            }
            everything = Tally(pids)
            by_class = {name: Tally(pids) for name in classes}
            per_round = []
            for _ in range(rounds):
                this_round = Tally(pids)
                for sample in files:
                    this_file = Tally(pids)
                    for way, upload in ways.items():
                        await this_file.measure(way, upload(sample))
                    add_into(this_round, this_file)
                    add_into(by_class[sample.size_class], this_file)
                rates = this_round.rates(total)
                per_round.append(
                    {"throughput_mib_s": rates, "ratios": ratios(rates), "load_average_1m": this_round.load()}
                )
                add_into(everything, this_round)

            # The large file: the direct PUT and the gateway alternate ``large_repeats`` times (one sample
            # each would say more about the machine's moment than about the ways), the others once.
            large_tally = Tally(pids)
            memory: dict[str, list[MemorySampler]] = {}

            def sampled(name: str, pid: int) -> MemorySampler:
                sampler = MemorySampler(pid)
                memory.setdefault(name, []).append(sampler)
                return sampler

            for _ in range(large_repeats):
                with sampled("client_direct_put", os.getpid()), sampled("nanio_direct_put", s3.process.pid):
                    await large_tally.measure("direct_s3", ways["direct_s3"](large))
                with (
                    sampled("client_through_intake", os.getpid()),
                    sampled("intake", intake.worker_pid),
                    sampled("evidence_behind_intake", evidence.worker_pid),
                ):
                    await large_tally.measure("intake", ways["intake"](large))
                with (
                    sampled("intake_presigned", intake.worker_pid),
                    sampled("evidence_completing_presigned", evidence.worker_pid),
                ):
                    await large_tally.measure("presigned", ways["presigned"](large))
                with (
                    sampled("intake_presigned_parts", intake.worker_pid),
                    sampled("evidence_completing_presigned_parts", evidence.worker_pid),
                ):
                    await large_tally.measure("presigned_parts", ways["presigned_parts"](large))
            with (
                sampled("intake_multipart", intake.worker_pid),
                sampled("evidence_behind_intake_multipart", evidence.worker_pid),
            ):
                await large_tally.measure("intake_multipart", ways["intake_multipart"](large))
            with sampled("evidence_direct", evidence.worker_pid):
                await large_tally.measure("evidence", ways["evidence"](large))
            await large_tally.measure("bare_hops", ways["bare_hops"](large))
    finally:
        for process in processes:
            await process.aterminate()
        await cleanup_broker(amqp_url, broker)
        mongo.stop()
        s3.stop()

    rates = everything.rates(total * rounds)
    # Each way's throughput over what it uploaded of the large file.
    large_rates = {
        way: throughput(large_size * (large_repeats if way in LARGE_REPEATED else 1), large_tally.elapsed[way])
        for way in WAYS
    }
    return {
        "benchmark": "evidence_upload",
        "server": server_command("evidence", port=0)[2],  # the production server (devstack.processes)
        "files": {
            "count": len(files),
            "photos": photos,
            "sizes_mib": sizes_mib,
            "total_mib": round(total / MIB, 1),
            "rounds": rounds,
            "types": sorted({sample.media_type for sample in files}),
            "sequential": True,
        },
        "throughput_mib_s": rates,
        "ratios": ratios(rates),
        "by_size": {
            name: {
                "files": sum(1 for sample in files if sample.size_class == name),
                "mean_size_mib": round(class_bytes[name] / MIB / sum(1 for s in files if s.size_class == name), 2),
                "throughput_mib_s": (class_rates := tally.rates(class_bytes[name] * rounds)),
                "ratios": ratios(class_rates),
                "ms_per_file": {
                    way: round(1000 * seconds / rounds / sum(1 for s in files if s.size_class == name), 1)
                    for way, seconds in tally.elapsed.items()
                },
            }
            for name, tally in by_class.items()
        },
        "load_average_1m": everything.load(),
        "rounds": per_round,
        "cpu_seconds_per_gib": everything.cpu_per_gib(total * rounds),
        "idle_cpu_percent": idle_cpu,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1m_at_start": round(load_at_start, 2),
            "storage_data": "tmpfs" if str(workdir).startswith("/dev/shm") else "disk",
        },
        "large_upload": {
            "size_mib": large_mib,
            "repeats": {**dict.fromkeys(LARGE_REPEATED, large_repeats), "others": 1},
            "throughput_mib_s": large_rates,
            "ratios": ratios(large_rates),
            "declaration_ms": {
                name: round(1000 * large_tally.elapsed[name] / large_repeats, 1) for name in DECLARATIONS
            },
            "cpu_seconds_per_gib": {
                way: {
                    name: round(
                        seconds / (large_size / (1024 * MIB)) / (large_repeats if way in LARGE_REPEATED else 1),
                        2,
                    )
                    for name, seconds in spent.items()
                    if seconds >= 0.005
                }
                for way, spent in large_tally.cpu.items()
            },
            "load_average_1m": large_tally.load(),
            # The highest peak over the repeats (VmRSS sampled every 10 ms) against the RSS before it.
            "memory": {
                name: max((sampler.report() for sampler in samplers), key=lambda report: report["rss_growth_mib"])
                for name, samplers in memory.items()
            },
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Evidence upload benchmark: gateway vs direct S3 PUT")
    parser.add_argument("--photos", type=int, default=3, help="small JPEG photos in the set (about 200 KiB each)")
    parser.add_argument("--sizes-mib", type=float, nargs="+", default=[8, 50], help="video sizes in the set")
    parser.add_argument("--files-per-size", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3, help="times the set is uploaded (each round reported)")
    parser.add_argument("--large-mib", type=int, default=200)
    parser.add_argument(
        "--large-repeats", type=int, default=3, help="direct PUTs, gateway and presigned uploads of the large file"
    )
    parser.add_argument("--on-disk", action="store_true", help="keep the stand-ins' data in the temp folder, not tmpfs")
    args = parser.parse_args()
    tmpfs = Path("/dev/shm")
    root = None if args.on_disk or not tmpfs.is_dir() else str(tmpfs)
    return run_and_print(
        lambda workdir: run(
            args.photos, args.sizes_mib, args.files_per_size, args.rounds, args.large_mib, args.large_repeats, workdir
        ),
        "bench-evidence-",
        root,
    )


if __name__ == "__main__":
    sys.exit(main())
