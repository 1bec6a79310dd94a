"""How secret guessing is slowed without letting strangers lock an owner out (pure: no I/O).

A secret (a complaint's access code, an account's password) is attacked from *sources* (client
addresses) against *targets* (a complaint number, a login). Failures are counted per (target, source)
pair and per source, each with a growing delay: after ``free`` failures every further failure makes the
next attempt wait ``base_s * 2^n``, up to ``max_s``. A pair with no failures is never throttled, so the
owner, from an address of their own, is always heard. Failures per target across all sources never refuse
an attempt; above a ceiling they only take the free failures but one away from every pair on that target.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum

# An IPv6 client gets a whole /64 from its provider: counting each of its addresses apart would hand
# an attacker 2^64 sources.
IPV6_SOURCE_PREFIX = 64
# Failures on one target across sources are counted per hour (the ceiling and the alert).
TARGET_WINDOW_S = 3600
# The free failures an address keeps on a target past its ceiling: the owner's one typo still costs nothing.
FREE_FAILURES_UNDER_ATTACK = 1


class SecretKind(StrEnum):
    ACCESS_CODE = "access_code"
    PASSWORD = "password"  # noqa: S105 - the name of a kind of secret, not a secret


@dataclass(frozen=True)
class Backoff:
    """The wait before the next attempt after ``failures`` failures: none for the first ``free``, then doubling."""

    free: int
    base_s: float
    max_s: float

    def delay_after(self, failures: int) -> float:
        if failures <= self.free:
            return 0.0
        # Capped in the exponent too: a counter in the thousands must not overflow a float.
        return min(self.max_s, self.base_s * 2.0 ** min(failures - self.free - 1, 64))

    def under_attack(self) -> Backoff:
        return Backoff(min(self.free, FREE_FAILURES_UNDER_ATTACK), self.base_s, self.max_s)


@dataclass(frozen=True)
class GuessPolicy:
    per_pair: Backoff
    per_source: Backoff
    target_ceiling: int  # failures on one target per window (all sources) before its pairs lose most free failures
    alert_sources: int  # distinct sources failing on one target per window that alert operators
    window_s: int

    def pair_backoff(self, target_failures: int) -> Backoff:
        return self.per_pair.under_attack() if target_failures >= self.target_ceiling else self.per_pair


def source_key(address: str) -> str:
    """The source an address counts for: itself for IPv4, its /64 for IPv6, the text itself if it is no address."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_SOURCE_PREFIX}", strict=False))
    return str(parsed)
