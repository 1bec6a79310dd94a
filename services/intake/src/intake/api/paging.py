"""Opaque cursors for stable, newest-first pagination over (a time, an id): (submitted_at, number) by default."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from greenchannel.problems import Problem


def encode_cursor(last: dict[str, Any], time_field: str = "submitted_at") -> str:
    raw = json.dumps([last[time_field].isoformat(), last["_id"]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        at, number = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(number, str):
            raise TypeError("a cursor names a complaint number")
        return datetime.fromisoformat(at), number
    except (ValueError, TypeError):
        raise Problem(400, "invalid_cursor", "The cursor is not one this API gave out.") from None
