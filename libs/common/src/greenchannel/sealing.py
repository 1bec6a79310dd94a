"""Secrets and personal data at rest: AES-256-GCM under a key ring.

Each ciphertext is stored with the id of the key that sealed it (``{"kid", "nonce", "ct"}``), so
keys can be rotated: new writes use the active key, old values stay readable while their key is in
the ring, and a re-encryption pass moves them to the active key. The field name is bound to the
ciphertext as associated data, so a value cannot be swapped into another field unnoticed.
intake seals complainants' identity data with it, notification the companies' webhook secrets.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any, Self

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class KeyRingCipher:
    def __init__(self, keys: dict[str, bytes], active_key_id: str) -> None:
        if active_key_id not in keys:
            raise ValueError(f"active key {active_key_id!r} is not in the key ring")
        for key_id, key in keys.items():
            if len(key) != 32:
                raise ValueError(f"key {key_id!r} must be 32 bytes (AES-256)")
        self._keys = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.active_key_id = active_key_id

    @classmethod
    def from_settings(cls, keys_json: str, active_key_id: str) -> Self:
        """From a JSON object of key id -> base64 key, as the settings carry it."""
        return cls(parse_key_ring(keys_json), active_key_id)

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


def parse_key_ring(keys_json: str) -> dict[str, bytes]:
    """A key ring as the settings carry it (a JSON object of key id -> base64 key), decoded; ``ValueError`` when
    it is not one."""
    raw = json.loads(keys_json)
    if not isinstance(raw, dict) or not all(isinstance(value, str) for value in raw.values()):
        raise ValueError("a key ring is a JSON object of key id -> base64 key")
    return {key_id: base64.b64decode(value, validate=True) for key_id, value in raw.items()}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
