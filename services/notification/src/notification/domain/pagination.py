"""Opaque cursors for newest-first pages: the sort key (``created_at``, ``_id``) of the last item shown."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime


class InvalidCursor(ValueError):
    """A cursor this service did not hand out."""


def encode_cursor(created_at: datetime, item_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), item_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, item_id = json.loads(raw)
        moment = datetime.fromisoformat(created_at)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidCursor("The cursor is not one this service handed out.") from None
    if moment.tzinfo is None or not isinstance(item_id, str):
        raise InvalidCursor("The cursor is not one this service handed out.")
    return moment, item_id
