"""Internal API of the complainant's inbox, for intake (the gateway), which checks who may read which complaint.

``GET /v1/messages?number=..&number=..`` lists the messages of the complainant's complaints, newest
first, a page at a time (``next_cursor``), with how many of them are unread; ``POST /v1/messages/{id}/read?number=..``
marks one read, only when it belongs to one of the numbers given (the caller's own complaints): nobody marks another
person's message. Both take ``Authorization: Bearer <INTERNAL_TOKEN>``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field, StringConstraints

from greenchannel.problems import Problem
from notification.api.dependencies import MessageReadingDep, Messages, require_internal
from notification.domain.pagination import InvalidCursor, decode_cursor, encode_cursor

router = APIRouter(
    prefix="/v1/messages", tags=["complainant messages (internal)"], dependencies=[Depends(require_internal)]
)

ComplaintNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
MAX_NUMBERS = 100


class MessageView(BaseModel):
    id: str
    number: str
    kind: str = Field(description="The event that made the message, e.g. complaint.responded.")
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    created_at: datetime
    read_at: datetime | None = Field(description="When it was first marked read; null while unread.")


class MessagePage(BaseModel):
    items: list[MessageView]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null on the last page.")
    unread: int = Field(description="How many messages of these complaints (on every page) are still unread.")


def _view(message: dict[str, Any]) -> MessageView:
    return MessageView(
        id=message["_id"],
        number=message["number"],
        kind=message["kind"],
        title_zh=message["title_zh"],
        title_en=message["title_en"],
        body_zh=message["body_zh"],
        body_en=message["body_en"],
        created_at=message["created_at"],
        read_at=message.get("read_at"),
    )


@router.get("", response_model=MessagePage)
async def list_messages(
    messages: Messages,
    number: Annotated[
        list[ComplaintNumber],
        Query(min_length=1, max_length=MAX_NUMBERS, description="The complaints whose messages to list (repeatable)."),
    ],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> MessagePage:
    try:
        after = decode_cursor(cursor) if cursor else None
    except InvalidCursor as error:
        raise Problem(422, "invalid_cursor", str(error)) from None
    # One more than asked tells whether another page follows.
    found = await messages.page(list(dict.fromkeys(number)), limit + 1, after)
    items = found[:limit]
    next_cursor = encode_cursor(items[-1]["created_at"], items[-1]["_id"]) if len(found) > limit else None
    unread = await messages.unread(list(dict.fromkeys(number)))
    return MessagePage(items=[_view(message) for message in items], next_cursor=next_cursor, unread=unread)


@router.post("/{message_id}/read", response_model=MessageView)
async def mark_read(
    reading: MessageReadingDep,
    message_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")],
    number: Annotated[
        list[ComplaintNumber],
        Query(
            min_length=1,
            max_length=MAX_NUMBERS,
            description="The caller's complaints (repeatable): a message of another complaint answers 404.",
        ),
    ],
) -> MessageView:
    return _view(await reading.mark_read(message_id, number))
