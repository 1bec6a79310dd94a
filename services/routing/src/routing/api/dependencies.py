"""FastAPI dependencies: the operator's bearer token and the collaborators ``main.create_app`` keeps on ``app.state``."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request
from greenchannel.problems import Problem

from routing.adapters.clocks import ClockRepository
from routing.adapters.companies import CompanyRepository
from routing.adapters.decisions import DecisionRepository
from routing.domain.categories import Category
from routing.watchdog import Watchdog


def require_operator(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """Operator-only endpoints take ``Authorization: Bearer <OPERATOR_TOKEN>`` (operator accounts come later)."""
    expected = request.app.state.settings.operator_token
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise Problem(401, "unauthorized", "This endpoint needs the operator's bearer token.",
                      headers={"WWW-Authenticate": "Bearer"})


def _companies(request: Request) -> CompanyRepository:
    return request.app.state.companies


def _decisions(request: Request) -> DecisionRepository:
    return request.app.state.decisions


def _categories(request: Request) -> list[Category]:
    return request.app.state.categories


def _clocks(request: Request) -> ClockRepository:
    return request.app.state.clocks


def _watchdog(request: Request) -> Watchdog:
    return request.app.state.watchdog


Companies = Annotated[CompanyRepository, Depends(_companies)]
Decisions = Annotated[DecisionRepository, Depends(_decisions)]
Categories = Annotated[list[Category], Depends(_categories)]
Clocks = Annotated[ClockRepository, Depends(_clocks)]
WatchdogDependency = Annotated[Watchdog, Depends(_watchdog)]
Operator = Annotated[None, Depends(require_operator)]
