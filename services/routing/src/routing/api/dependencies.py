"""FastAPI dependencies: the collaborators ``main.create_app`` keeps on ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from routing.adapters.companies import CompanyRepository
from routing.adapters.decisions import DecisionRepository
from routing.domain.categories import Category


def _companies(request: Request) -> CompanyRepository:
    return request.app.state.companies


def _decisions(request: Request) -> DecisionRepository:
    return request.app.state.decisions


def _categories(request: Request) -> list[Category]:
    return request.app.state.categories


Companies = Annotated[CompanyRepository, Depends(_companies)]
Decisions = Annotated[DecisionRepository, Depends(_decisions)]
Categories = Annotated[list[Category], Depends(_categories)]
