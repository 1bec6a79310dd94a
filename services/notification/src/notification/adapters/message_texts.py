"""The complainant's message texts shipped with the service (``notification/domain/message_texts.toml``), read once."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

from notification.domain.messages import MessageTexts


@cache
def packaged_texts() -> MessageTexts:
    """The packaged texts, checked (:class:`MessageTexts` refuses a text no message could render)."""
    raw = resources.files("notification.domain").joinpath("message_texts.toml").read_text(encoding="utf-8")
    return MessageTexts(tomllib.loads(raw))
