"""HTTP caching at the edge of a service: one middleware decides what every response says about caching.

A route the service lists as public (:class:`CachePolicy`) answers 200 with ``Cache-Control: public,
max-age=N``, a strong ``ETag`` (a digest of the body), ``Last-Modified`` and a ``Surrogate-Key`` header a CDN
purges by; a conditional GET (``If-None-Match``, else ``If-Modified-Since``) whose validator still holds is
answered 304. Everything else, every other method and every error, answers ``private, no-store``
(``no-store`` for errors of public routes): a response is shareable only because a policy says so.

Each process remembers the validators it last computed per URL (and per value of the headers the response
varies on) for at most the policy's max-age: a revalidation that matches a remembered validator is
answered 304 without running the route, so without reading the store. A write in this process purges the
entries of its surrogate keys at once (:meth:`ValidatorCache.purge`); another replica may still answer 304
for what it computed before the write, but never for longer than the max-age every client and CDN was
already allowed to keep that answer. Answers from memory carry ``Age`` (seconds since the store was read),
so a copy revalidated here is not kept beyond max-age after that read either.

A policy may also keep whole answers for a few seconds (``memo_s``): an expensive read asked for again and
again (the results list, figures summed over months) is then computed once per shape and interval rather
than once per request. Purges drop kept answers too; the staleness it adds is ``memo_s``, inside max-age.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from starlette.datastructures import Headers, MutableHeaders, QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PRIVATE = "private, no-store"
# An error of a public route (a number not published yet, a bad filter) is kept by nobody: it may change any time.
UNCACHED_ERROR = "no-store"
SURROGATE_KEY = "Surrogate-Key"

# What a surrogate key may hold: it is built from the request's path and query and sent back as a header.
SAFE_KEY = re.compile(r"[A-Za-z0-9_.:/-]{1,120}")

SurrogateKeys = Callable[[re.Match[str], QueryParams], Iterable[str]]


@dataclass(frozen=True)
class CachePolicy:
    """How a public GET may be kept: ``path`` is a regular expression matched against the whole path;
    ``surrogate_keys`` name what the answer shows (a CDN purges by them, and so does :meth:`ValidatorCache.purge`);
    ``vary`` are the request headers the answer depends on. ``validators=False`` leaves the body alone (a
    streamed export, or files the route validates itself) and sets only Cache-Control and Surrogate-Key."""

    path: str
    max_age_s: int
    surrogate_keys: SurrogateKeys | tuple[str, ...] = ()
    vary: tuple[str, ...] = ()
    validators: bool = True
    memo_s: float = 0.0

    @property
    def cache_control(self) -> str:
        return f"public, max-age={self.max_age_s}"

    def keys(self, match: re.Match[str], query: QueryParams) -> list[str]:
        keys = self.surrogate_keys(match, query) if callable(self.surrogate_keys) else self.surrogate_keys
        return sorted({key for key in keys if SAFE_KEY.fullmatch(key)})


@dataclass(frozen=True)
class Answer:
    """A whole 200 as sent (headers with validators), kept until ``until``."""

    headers: list[tuple[bytes, bytes]]
    body: bytes
    until: float


@dataclass
class Validators:
    etag: str
    last_modified: datetime
    computed_at: float
    fresh_until: float
    keys: frozenset[str]
    answer: Answer | None = None


class ValidatorCache:
    """The validators this process last computed, by cache key, oldest used first out."""

    def __init__(
        self,
        max_entries: int = 10_000,
        max_answer_bytes: int = 16 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.max_answer_bytes = max_answer_bytes
        self.clock = clock
        self.entries: OrderedDict[str, Validators] = OrderedDict()
        # Which entries hold an answer, oldest first, and their bodies' size: anyone can ask for any query.
        self.answers: OrderedDict[str, int] = OrderedDict()
        self.answer_bytes = 0
        # Counts purges: an answer computed while one happened may show what was purged, so it is not remembered.
        self.generation = 0

    def fresh(self, key: str) -> Validators | None:
        entry = self.entries.get(key)
        if entry is None or entry.fresh_until <= self.clock():
            return None
        self.entries.move_to_end(key)
        return entry

    def kept_answer(self, key: str) -> tuple[Validators, Answer] | None:
        entry = self.fresh(key)
        if entry is None or entry.answer is None or entry.answer.until <= self.clock():
            return None
        return entry, entry.answer

    def age(self, entry: Validators) -> str:
        """The ``Age`` of an answer from memory: caches count its max-age from when the store was read, so a
        copy is never kept longer than max-age after that read, however often it is revalidated here."""
        return str(int(self.clock() - entry.computed_at))

    def remember(self, key: str, etag: str, max_age_s: int, keys: Iterable[str], since: int) -> Validators:
        """Validators for a body just computed, whose computation began at generation ``since``: Last-Modified
        stays when the body is the one seen before."""
        previous = self.entries.get(key)
        if previous is not None and previous.etag == etag:
            last_modified = previous.last_modified
        else:
            last_modified = datetime.now(UTC).replace(microsecond=0)
        now = self.clock()
        entry = Validators(etag, last_modified, now, now + max_age_s, frozenset(keys))
        if since != self.generation:
            return entry  # a purge ran meanwhile: these validators answer this request only
        self.forget(key)
        self.entries[key] = entry
        while len(self.entries) > self.max_entries:
            self.forget(next(iter(self.entries)))
        return entry

    def keep(self, key: str, entry: Validators, headers: list[tuple[bytes, bytes]], body: bytes, memo_s: float) -> None:
        """Keep ``entry``'s whole answer for ``memo_s`` (never beyond its validators' freshness)."""
        if self.entries.get(key) is not entry or len(body) > self.max_answer_bytes // 16:
            return
        entry.answer = Answer(headers, body, min(self.clock() + memo_s, entry.fresh_until))
        self.answers[key] = len(body)
        self.answer_bytes += len(body)
        while self.answer_bytes > self.max_answer_bytes:
            oldest, size = self.answers.popitem(last=False)
            self.answer_bytes -= size
            if oldest in self.entries:
                self.entries[oldest].answer = None

    def forget(self, key: str) -> Validators | None:
        entry = self.entries.pop(key, None)
        size = self.answers.pop(key, None)
        if size is not None:
            self.answer_bytes -= size
        return entry

    def purge(self, keys: Iterable[str]) -> int:
        """Forget every entry showing one of ``keys`` (this process changed what they show); answers how many."""
        keys = set(keys)
        self.generation += 1
        stale = [key for key, entry in self.entries.items() if entry.keys & keys]
        for key in stale:
            self.forget(key)
        return len(stale)


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def not_modified(request: Headers, entry: Validators) -> bool:
    """RFC 9110 section 13.2.2 for GET: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = request.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or entry.etag in tags
    if_modified_since = request.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False  # an invalid date is ignored (RFC 9110)
        if since.tzinfo is None or since > datetime.now(UTC):
            return False  # a date from the future is no copy this server gave out
        return entry.last_modified <= since
    return False


class HttpCache:
    """The middleware; ``policies`` are tried in order, the first whose path matches a GET applies."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        policies: Sequence[CachePolicy],
        cache: ValidatorCache,
        admit: Callable[[Scope], Awaitable[ASGIApp | None]] | None = None,
    ) -> None:
        self.app = app
        self.policies = [(re.compile(policy.path), policy) for policy in policies]
        self.cache = cache
        # Asked before a public read is answered, from memory or not: None lets it in, an ASGI app answers
        # instead (a rate limit's 429). An answer from memory runs no route, so a limit on the routes alone
        # would not count it.
        self.admit = admit
        self.computing: dict[str, asyncio.Future[None]] = {}

    def policy_of(self, scope: Scope) -> tuple[CachePolicy, re.Match[str]] | None:
        if scope["method"] != "GET":
            return None
        for pattern, policy in self.policies:
            match = pattern.fullmatch(scope["path"])
            if match:
                return policy, match
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        found = self.policy_of(scope)
        if found is None:
            await self.app(scope, receive, with_cache_control(send, lambda status: PRIVATE))
            return
        policy, match = found
        if self.admit is not None and (refusal := await self.admit(scope)) is not None:
            await refusal(scope, receive, with_cache_control(send, lambda status: UNCACHED_ERROR))
            return
        keys = policy.keys(match, QueryParams(scope.get("query_string", b"")))
        if not policy.validators:
            await self.app(
                scope,
                receive,
                with_cache_control(
                    send, lambda status: policy.cache_control if status in (200, 304) else UNCACHED_ERROR, keys
                ),
            )
            return
        request = Headers(scope=scope)
        cache_key = "\n".join(
            [
                scope["path"],
                scope.get("query_string", b"").decode("latin-1"),
                *(request.get(name, "") for name in policy.vary),
            ]
        )
        if await self.from_memory(send, policy, keys, cache_key, request):
            return
        if not policy.memo_s:
            await self.buffered(scope, receive, send, policy, keys, cache_key, request)
            return
        # One computation per kept answer: requests arriving while it runs wait for it rather than all asking
        # the store the same question (the moment a kept answer expires or is purged, under load).
        computing = self.computing.get(cache_key)
        if computing is not None:
            await asyncio.shield(computing)
            if await self.from_memory(send, policy, keys, cache_key, request):
                return
            await self.buffered(scope, receive, send, policy, keys, cache_key, request)
            return
        self.computing[cache_key] = computing = asyncio.get_running_loop().create_future()
        try:
            await self.buffered(scope, receive, send, policy, keys, cache_key, request)
        finally:
            del self.computing[cache_key]
            computing.set_result(None)

    async def from_memory(
        self, send: Send, policy: CachePolicy, keys: list[str], cache_key: str, request: Headers
    ) -> bool:
        """Answer from what this process remembers, if it can: 304 for a current copy, or a kept answer."""
        entry = self.cache.fresh(cache_key)
        if entry is not None and not_modified(request, entry):
            await send_not_modified(send, policy, entry, keys, age=self.cache.age(entry))
            return True
        kept = self.cache.kept_answer(cache_key) if policy.memo_s else None
        if kept is None:
            return False
        entry, answer = kept
        headers = [*answer.headers, (b"age", self.cache.age(entry).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})
        return True

    async def buffered(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        policy: CachePolicy,
        keys: list[str],
        cache_key: str,
        request: Headers,
    ) -> None:
        """Run the route, keep its answer, and send it with validators (or 304 when the client has it)."""
        start: Message | None = None
        chunks: list[bytes] = []
        generation = self.cache.generation

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, keep)
        if start is None:
            return
        body = b"".join(chunks)
        headers = MutableHeaders(raw=list(start.get("headers", [])))
        if start["status"] != 200 or "set-cookie" in headers:
            # A cookie is someone's: an answer that sets one is theirs alone.
            headers["Cache-Control"] = PRIVATE if "set-cookie" in headers else UNCACHED_ERROR
            await send({**start, "headers": headers.raw})
            await send({"type": "http.response.body", "body": body})
            return
        entry = self.cache.remember(cache_key, strong_etag(body), policy.max_age_s, keys, since=generation)
        if not_modified(request, entry):
            await send_not_modified(send, policy, entry, keys)
            return
        add_validators(headers, policy, entry, keys)
        headers["Content-Length"] = str(len(body))
        if policy.memo_s:
            self.cache.keep(cache_key, entry, headers.raw, body, policy.memo_s)
        await send({**start, "headers": headers.raw})
        await send({"type": "http.response.body", "body": body})


def add_validators(headers: MutableHeaders, policy: CachePolicy, entry: Validators, keys: list[str]) -> None:
    headers["Cache-Control"] = policy.cache_control
    headers["ETag"] = entry.etag
    headers["Last-Modified"] = format_datetime(entry.last_modified, usegmt=True)
    if keys:
        headers[SURROGATE_KEY] = " ".join(keys)
    for name in policy.vary:
        headers.add_vary_header(name)


async def send_not_modified(
    send: Send, policy: CachePolicy, entry: Validators, keys: list[str], age: str | None = None
) -> None:
    headers = MutableHeaders()
    add_validators(headers, policy, entry, keys)
    if age is not None:
        headers["Age"] = age
    await send({"type": "http.response.start", "status": 304, "headers": headers.raw})
    await send({"type": "http.response.body", "body": b""})


def with_cache_control(send: Send, cache_control: Callable[[int], str], keys: Sequence[str] = ()) -> Send:
    """``send`` with the response's Cache-Control (and Surrogate-Key) set by this middleware alone."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers["Cache-Control"] = cache_control(message["status"])
            if keys and message["status"] in (200, 304):
                headers[SURROGATE_KEY] = " ".join(keys)
        await send(message)

    return sending
