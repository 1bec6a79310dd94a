"""The complainant's messages: marking one read (intake calls this for a signed-in complainant)."""

from __future__ import annotations

from typing import Any

from greenchannel.problems import Problem
from notification.adapters.messages import MessageRepository


class MessageReading:
    def __init__(self, messages: MessageRepository) -> None:
        self.messages = messages

    async def mark_read(self, message_id: str, numbers: list[str]) -> dict[str, Any]:
        """``numbers``: the caller's complaints; a message of another complaint is not found."""
        message = await self.messages.mark_read(message_id, numbers)
        if message is None:
            raise Problem(404, "message_not_found", f"No message {message_id}.")
        return message
