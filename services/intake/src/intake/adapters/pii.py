"""Personal data at rest: AES-256-GCM encryption under a key ring, keyed hashes for lookups.

Each ciphertext is stored with the id of the key that sealed it (``{"kid", "nonce", "ct"}``), so
keys can be rotated: new writes use the active key, old values stay readable while their key is in
the ring, and a re-encryption pass moves them to the active key. The field name is bound to the
ciphertext as associated data, so a value cannot be swapped into another field unnoticed.
Lookups never touch plaintext: a blind index is an HMAC-SHA256 of the normalised value under a
separate key. Access codes are stored the same way (keyed hash, constant-time comparison).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class PiiCipher:
    def __init__(self, keys: dict[str, bytes], active_key_id: str) -> None:
        if active_key_id not in keys:
            raise ValueError(f"active PII key {active_key_id!r} is not in the key ring")
        for key_id, key in keys.items():
            if len(key) != 32:
                raise ValueError(f"PII key {key_id!r} must be 32 bytes (AES-256)")
        self._keys = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.active_key_id = active_key_id

    @classmethod
    def from_settings(cls, keys_json: str, active_key_id: str) -> "PiiCipher":
        raw = json.loads(keys_json)
        return cls({key_id: base64.b64decode(value) for key_id, value in raw.items()}, active_key_id)

    def encrypt(self, field: str, plaintext: str) -> dict[str, str]:
        nonce = os.urandom(12)
        sealed = self._keys[self.active_key_id].encrypt(nonce, plaintext.encode(), field.encode())
        return {"kid": self.active_key_id, "nonce": _b64(nonce), "ct": _b64(sealed)}

    def decrypt(self, field: str, sealed: dict[str, str]) -> str:
        key = self._keys[sealed["kid"]]
        return key.decrypt(base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ct"]), field.encode()).decode()

    def encrypt_json(self, field: str, value: Any) -> dict[str, str]:
        return self.encrypt(field, json.dumps(value, ensure_ascii=False))

    def decrypt_json(self, field: str, sealed: dict[str, str]) -> Any:
        return json.loads(self.decrypt(field, sealed))


class KeyedHash:
    """HMAC-SHA256 under a secret key: blind indexes and access-code hashes."""

    def __init__(self, key: bytes, purpose: str) -> None:
        self._key = hashlib.sha256(key + b"|" + purpose.encode()).digest()

    def digest(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()

    def matches(self, value: str, expected_digest: str) -> bool:
        return hmac.compare_digest(self.digest(value), expected_digest)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
