"""FastAPI dependencies: the bearer tokens (operator's, internal) and the collaborators ``main.create_app`` keeps on
``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from greenchannel.bearer import require_any_bearer, require_bearer, settings_token
from routing.adapters.clocks import ClockRepository
from routing.adapters.companies import CompanyRepository
from routing.adapters.decisions import DecisionRepository
from routing.adapters.similarity import SimilarityRepository
from routing.config import Settings
from routing.core.directory import DirectoryEditing
from routing.domain.calendar import WorkingDayCalendar
from routing.domain.categories import Category
from routing.jobs.watchdog import Watchdog

# Operator-only endpoints (directory changes, clusters, the watchdog) take ``Authorization: Bearer <OPERATOR_TOKEN>``.
require_operator = require_bearer(settings_token("operator_token"), "operator's")
# A complaint's decision and clocks are read by the other services (``Bearer <INTERNAL_TOKEN>``) and by operators'
# tooling (``Bearer <OPERATOR_TOKEN>``): read-only case state, so either token opens them. The directory reads
# (companies, categories) stay open: public data, which intake serves on its public API anyway.
require_case_reader = require_any_bearer(
    (settings_token("internal_token"), settings_token("operator_token")), "internal or the operator's"
)


def _companies(request: Request) -> CompanyRepository:
    return request.app.state.companies


def _decisions(request: Request) -> DecisionRepository:
    return request.app.state.decisions


def _categories(request: Request) -> list[Category]:
    return request.app.state.categories


def _clocks(request: Request) -> ClockRepository:
    return request.app.state.clocks


def _similar(request: Request) -> SimilarityRepository:
    return request.app.state.similar


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _watchdog(request: Request) -> Watchdog:
    return request.app.state.watchdog


def _calendar(request: Request) -> WorkingDayCalendar:
    return request.app.state.calendar


def _directory_editing(request: Request) -> DirectoryEditing:
    return request.app.state.directory_editing


Companies = Annotated[CompanyRepository, Depends(_companies)]
Decisions = Annotated[DecisionRepository, Depends(_decisions)]
Categories = Annotated[list[Category], Depends(_categories)]
Clocks = Annotated[ClockRepository, Depends(_clocks)]
Similar = Annotated[SimilarityRepository, Depends(_similar)]
SettingsDependency = Annotated[Settings, Depends(_settings)]
WatchdogDependency = Annotated[Watchdog, Depends(_watchdog)]
DirectoryEditingDependency = Annotated[DirectoryEditing, Depends(_directory_editing)]
WorkingCalendar = Annotated[WorkingDayCalendar, Depends(_calendar)]
Operator = Annotated[None, Depends(require_operator)]
CaseReader = Annotated[None, Depends(require_case_reader)]
