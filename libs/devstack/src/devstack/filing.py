"""Complaints filed the way a careful client files them, for the tests that load the whole platform.

* :func:`complaint_form` and :func:`png`: a valid filing and a small evidence image. Each filing's
  title carries its label and index, so the stores can be searched for a filing made twice.
* :class:`Filer`: posts filings and uploads with one ``Idempotency-Key`` for all tries of a filing.
  A lost or refused connection, and an answer in ``retry_statuses`` (503 while a store or a service
  is away; its ``Retry-After`` honoured up to ``max_wait_s``), are tried again, up to ``max_tries``
  or for ``patience_s``; any other answer goes back to the caller to judge. Tries are counted by cause.
* :class:`FilingStream`: a steady stream of filings at a pace, some with evidence, some to companies
  the directory does not know, each recording the phase (named by a fault test) it was answered in.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import httpx
from PIL import Image


def complaint_form(label: str, index: int, company: str, evidence_ids: Collection[str] = ()) -> dict[str, Any]:
    return {
        "complainant": {"name": "赵六", "id_number": "11010519491231002X", "phone": "13700001111"},
        "company": {"name": company},
        "category": "billing",
        "title": f"重复扣费 {label} 第{index}号",
        "description": "同一笔会员费被扣了两次，客服不予处理。",
        "occurred_on": "2026-10-20",
        "desired_outcome": "退还多扣的费用",
        "evidence_ids": list(evidence_ids),
    }


def png(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (seed % 256, 80, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


class GaveUp(AssertionError):
    """The platform did not take a filing or upload within the client's patience."""


@dataclass
class Filer:
    http: httpx.AsyncClient
    retry_statuses: frozenset[int] = frozenset()
    max_tries: int | None = None
    patience_s: float = 120.0
    max_wait_s: float = 2.0
    # Why a try was repeated: "transport" (connection lost or refused) or "<status> <problem code>".
    retries: Counter = field(default_factory=Counter)

    async def upload(self, intake_url: str, index: int) -> str:
        """Upload an evidence image before filing; its evidence id."""
        answer = await self._send(
            lambda: self.http.post(
                f"{intake_url}/v1/evidence", files={"file": (f"截图{index}.png", png(index), "image/png")}
            )
        )
        if answer.status_code != 201:
            raise AssertionError(answer.text)
        return answer.json()["evidence_id"]

    async def file(self, intake_url: str, body: dict[str, Any], key: str) -> httpx.Response:
        """POST a filing with ``key``; the first answer that is not retried."""
        return await self._send(
            lambda: self.http.post(f"{intake_url}/v1/complaints", json=body, headers={"Idempotency-Key": key})
        )

    async def _send(self, request: Callable) -> httpx.Response:
        deadline = time.monotonic() + self.patience_s
        tries = 0
        while True:
            tries += 1
            last_try = (self.max_tries is not None and tries >= self.max_tries) or time.monotonic() > deadline
            try:
                answer = await request()
            except httpx.TransportError as error:
                if last_try:
                    raise GaveUp(f"no answer after {tries} tries: {error!r}") from error
                self.retries["transport"] += 1
                await asyncio.sleep(min(0.2 * tries, self.max_wait_s))
                continue
            if answer.status_code not in self.retry_statuses or last_try:
                return answer
            code = answer.json().get("code", "") if answer.headers.get("content-type", "").endswith("json") else ""
            self.retries[f"{answer.status_code} {code}".strip()] += 1
            await asyncio.sleep(min(float(answer.headers.get("Retry-After", 1)), self.max_wait_s))


@dataclass
class Filing:
    index: int
    key: str
    company_id: str | None  # None: a company the directory does not know, to be rejected
    evidence_id: str | None = None
    number: str | None = None
    phase: str = ""  # the stream's phase when the filing was answered 201


class FilingStream:
    """Files complaints one after another at ``pace_s`` (at most ``concurrency`` in flight) until told to
    stop. Every ``unknown_every``-th names a company the directory does not know; every
    ``evidence_every``-th uploads an image first. Filings must end in 201, however many tries it takes."""

    def __init__(
        self,
        filer: Filer,
        intake_url: Callable[[int], str],
        companies: list[dict[str, Any]],
        *,
        label: str,
        pace_s: float = 0.25,
        concurrency: int = 4,
        unknown_every: int = 5,
        evidence_every: int = 4,
    ) -> None:
        self.filer = filer
        self.intake_url = intake_url
        self.companies = companies
        self.label = label
        self.pace_s = pace_s
        self.concurrency = concurrency
        self.unknown_every = unknown_every
        self.evidence_every = evidence_every
        self.phase = "before"
        self.filings: list[Filing] = []
        self.finished = False
        self._answered = asyncio.Condition()

    @property
    def answered(self) -> list[Filing]:
        return [filing for filing in self.filings if filing.number]

    def numbers(self, *, known: bool | None = None) -> set[str]:
        """The numbers filed: all, those to known companies (``known=True``) or to unknown ones."""
        return {
            filing.number
            for filing in self.answered
            if filing.number is not None and (known is None or (filing.company_id is not None) == known)
        }

    def during(self, phase: str) -> list[Filing]:
        return [filing for filing in self.answered if filing.phase == phase]

    async def wait_answered(self, count: int, timeout: float = 120.0) -> None:
        """Wait until ``count`` filings were answered 201; fails if the stream ended with fewer."""
        async with self._answered:
            await asyncio.wait_for(
                self._answered.wait_for(lambda: len(self.answered) >= count or self.finished), timeout
            )
        if len(self.answered) < count:
            raise AssertionError(f"the stream ended after {len(self.answered)} filings, {count} were awaited")

    async def run(self, stop: asyncio.Event, *, at_least: int, at_most: int) -> None:
        """File until ``stop`` is set and ``at_least`` were started (never more than ``at_most``), then
        wait for every filing in flight."""
        semaphore = asyncio.Semaphore(self.concurrency)
        tasks: list[asyncio.Task] = []
        try:
            for index in range(at_most):
                if stop.is_set() and index >= at_least:
                    break
                await semaphore.acquire()
                tasks.append(asyncio.create_task(self._file_one(index, semaphore)))
                await asyncio.sleep(self.pace_s)
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:  # a failed or cancelled stream leaves no filing behind it
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            self.finished = True
            async with self._answered:
                self._answered.notify_all()

    async def _file_one(self, index: int, semaphore: asyncio.Semaphore) -> None:
        try:
            known = index % self.unknown_every != self.unknown_every - 1
            company = self.companies[index % len(self.companies)]
            name = (
                (company.get("aliases") or [company["name"]])[0] if known else f"并不存在的{self.label}第{index}号公司"
            )
            filing = Filing(index, f"{self.label}-{index}", company["id"] if known else None)
            self.filings.append(filing)
            url = self.intake_url(index)
            if index % self.evidence_every == 1:
                filing.evidence_id = await self.filer.upload(url, index)
            evidence_ids = [filing.evidence_id] if filing.evidence_id else []
            answer = await self.filer.file(url, complaint_form(self.label, index, name, evidence_ids), filing.key)
            if answer.status_code != 201:
                raise AssertionError((filing.key, answer.status_code, answer.text))
            filing.number, filing.phase = answer.json()["number"], self.phase
            async with self._answered:
                self._answered.notify_all()
        finally:
            semaphore.release()
