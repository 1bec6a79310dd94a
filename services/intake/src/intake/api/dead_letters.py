"""Operator tooling for dead letters: list per queue with the reason and the original event, inspect
one, replay one or all after a fix, discard with a note."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict

from greenchannel.problems import Problem
from intake.adapters.dead_letters import SERVICES, DeadLetters
from intake.api.dependencies import OperationsDep, OperatorDep
from intake.api.schemas import DeadLetter, DeadLetterList, DeadLettersReplayed
from intake.domain.filing import free_text

router = APIRouter(prefix="/v1/ops/dead-letters", tags=["operators"])
Service = Literal[SERVICES]  # type: ignore[valid-type]


def _letters(request: Request) -> DeadLetters:
    return request.app.state.dead_letters


def _view(letter: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": letter["_id"],
        **{
            key: value.isoformat() if hasattr(value, "isoformat") else value
            for key, value in letter.items()
            if key not in ("_id", "body")
        },
    }


class Discard(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: free_text(min_length=2, max_length=1000)  # type: ignore[valid-type]


@router.get(
    "",
    response_model=DeadLetterList,
    summary="Dead letters of a service's queue (collects what waits in the broker first)",
)
async def list_dead_letters(
    request: Request,
    _: OperatorDep,
    service: Service,
    status: Literal["pending", "replayed", "discarded"] | None = "pending",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    letters = _letters(request)
    collected = await letters.collect(service)
    return {
        "service": service,
        "collected": collected,
        "items": [_view(letter) for letter in await letters.list(service, status, limit)],
    }


@router.get("/{letter_id}", response_model=DeadLetter, summary="One dead letter with its original event")
async def get_dead_letter(letter_id: str, request: Request, _: OperatorDep) -> dict[str, Any]:
    letter = await _letters(request).get(letter_id)
    if letter is None:
        raise Problem(404, "dead_letter_not_found", "No dead letter with this id.")
    return _view(letter)


@router.post(
    "/{letter_id}/replay",
    response_model=DeadLetter,
    summary="Put it back into the queue of the consumer that failed on it",
)
async def replay(letter_id: str, operations: OperationsDep, operator: OperatorDep) -> dict[str, Any]:
    letter = await operations.replay(letter_id, operator)
    if letter is None:
        raise Problem(409, "dead_letter_not_pending", "Only a pending dead letter can be replayed.")
    return _view(letter)


@router.post("/replay-all", response_model=DeadLettersReplayed, summary="Replay every pending dead letter of a service")
async def replay_all(operations: OperationsDep, operator: OperatorDep, service: Service) -> dict[str, Any]:
    return {"service": service, "replayed": await operations.replay_all(service, operator)}


@router.post("/{letter_id}/discard", response_model=DeadLetter, summary="Discard a dead letter, with a note saying why")
async def discard(letter_id: str, body: Discard, operations: OperationsDep, operator: OperatorDep) -> dict[str, Any]:
    letter = await operations.discard(letter_id, operator, body.note)
    if letter is None:
        raise Problem(409, "dead_letter_not_pending", "Only a pending dead letter can be discarded.")
    return _view(letter)
