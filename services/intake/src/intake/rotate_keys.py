"""Re-encrypt personal data under the active PII key, without downtime: ``python -m intake.rotate_keys``.

Rotation: add the new key to ``PII_KEYS`` and make it ``PII_ACTIVE_KEY_ID`` (new writes use it, old
values stay readable because the old key is still in the ring), run this command, then remove the
old key. Each value is rewritten with a conditional update on its old ciphertext, so a concurrent
change is never overwritten and the command can run again at any time.
"""

from __future__ import annotations

import sys

from pymongo.asynchronous.collection import AsyncCollection

from intake.adapters.dead_letters import BODY_FIELD as DEAD_LETTER_BODY
from intake.adapters.pii import PiiCipher
from intake.commands import run_command

# (collection, field path, the name the value is bound to as associated data)
SEALED_FIELDS = (
    ("complaints", "complainant.name", "name"),
    ("complaints", "complainant.id_number", "id_number"),
    ("complaints", "complainant.phone", "phone"),
    ("complaints", "complainant.email", "email"),
    ("accounts", "login", "login"),
    ("accounts", "name", "name"),
    ("feedback", "contact.email", "email"),
    ("feedback", "contact.phone", "phone"),
    ("dead_letters", "sealed_body", DEAD_LETTER_BODY),
)


async def rotate(db, cipher: PiiCipher, batch: int = 500) -> dict[str, int]:
    """Rewrite every sealed value whose key is not the active one; answers the count per field."""
    counts: dict[str, int] = {}
    for collection_name, path, bound_to in SEALED_FIELDS:
        collection: AsyncCollection = db[collection_name]
        stale = {f"{path}.kid": {"$exists": True, "$ne": cipher.active_key_id}}
        rewritten = 0
        while documents := await collection.find(stale, projection={path: 1}).limit(batch).to_list():
            for document in documents:
                sealed = _get(document, path)
                fresh = cipher.encrypt(bound_to, cipher.decrypt(bound_to, sealed))
                result = await collection.update_one({"_id": document["_id"], path: sealed}, {"$set": {path: fresh}})
                rewritten += result.modified_count
        counts[f"{collection_name}.{path}"] = rewritten
    return counts


def _get(document: dict, path: str):
    for part in path.split("."):
        document = document[part]
    return document


if __name__ == "__main__":
    sys.exit(run_command(__doc__, "rotate-keys", rotate))
