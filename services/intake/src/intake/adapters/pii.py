"""Personal data at rest: AES-256-GCM encryption under a key ring (``greenchannel.sealing``), keyed
hashes for lookups.

Lookups never touch plaintext: a blind index is an HMAC-SHA256 of the normalised value under a
separate key. Access codes are stored the same way (keyed hash, constant-time comparison).
"""

from __future__ import annotations

import hashlib
import hmac

from greenchannel.sealing import KeyRingCipher


class PiiCipher(KeyRingCipher):
    """The key ring of complainants' identity data (``PII_KEYS``, ``PII_ACTIVE_KEY_ID``)."""


class KeyedHash:
    """HMAC-SHA256 under a secret key: blind indexes and access-code hashes."""

    def __init__(self, key: bytes, purpose: str) -> None:
        self._key = hashlib.sha256(key + b"|" + purpose.encode()).digest()

    def digest(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()

    def matches(self, value: str, expected_digest: str) -> bool:
        return hmac.compare_digest(self.digest(value), expected_digest)
