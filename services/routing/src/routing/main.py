"""Wiring of the routing service: settings, runtime, repositories, the screening handler, routers.

Run with ``uvicorn routing.main:create_app --factory --port 8002``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from greenchannel.app import make_app
from greenchannel.contracts import ComplaintSubmitted, utc_now
from greenchannel.messaging import Subscriptions
from greenchannel.runtime import ServiceRuntime
from greenchannel.telemetry import setup_logging, setup_tracing

from routing.adapters.companies import CompanyRepository
from routing.adapters.decisions import DecisionRepository
from routing.adapters.reference_data import load_categories, load_companies
from routing.api import decisions as decisions_api
from routing.api import directory as directory_api
from routing.config import Settings
from routing.domain.calendar import WorkingDayCalendar
from routing.handlers.screening import ScreeningHandler


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    setup_logging(settings.service_name, settings.log_level, settings.log_json)
    setup_tracing(settings.service_name)

    runtime = ServiceRuntime(settings)
    companies = CompanyRepository(runtime.db)
    decisions = DecisionRepository(runtime.db)
    categories = load_categories()
    calendar = WorkingDayCalendar(settings.calendar_extra_holidays, settings.calendar_extra_workdays)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await companies.ensure_indexes()
        await companies.upsert_seed(load_companies())
        await runtime.start(subscriptions)
        try:
            yield
        finally:
            await runtime.stop()

    app = make_app(
        title="Routing",
        description="The company directory, screening of submitted complaints and their response deadlines.",
        lifespan=lifespan,
        readiness=lambda app: app.state.runtime.readiness_checks(),
    )
    # The time source of every decision; tests pin it by replacing ``app.state.clock``.
    app.state.clock = utc_now
    screening = ScreeningHandler(
        runtime=runtime,
        companies=companies,
        decisions=decisions,
        categories=categories,
        calendar=calendar,
        clock=lambda: app.state.clock(),
        response_working_days=settings.response_working_days,
    )
    subscriptions = Subscriptions().on(ComplaintSubmitted.EVENT_TYPE, screening.handle)

    app.state.settings = settings
    app.state.runtime = runtime
    app.state.companies = companies
    app.state.decisions = decisions
    app.state.categories = categories
    app.state.calendar = calendar
    app.state.screening = screening
    app.include_router(directory_api.router)
    app.include_router(decisions_api.router)
    return app
