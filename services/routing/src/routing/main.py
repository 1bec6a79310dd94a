"""Wiring of the routing service: settings, runtime, repositories, the word segmenter, the screening and clock handlers,
the watchdog, routers.

Run with ``granian --interface asgi --factory routing.main:create_app --port 8002`` (the Dockerfile's command).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from greenchannel.app import make_app
from greenchannel.contracts import (
    ComplaintAppealed,
    ComplaintClosed,
    ComplaintForwarded,
    ComplaintInfoRequested,
    ComplaintRedirected,
    ComplaintResponded,
    ComplaintSubmitted,
    ComplaintSupplemented,
    ComplaintWithdrawn,
    utc_now,
)
from greenchannel.messaging import Subscriptions
from greenchannel.runtime import ServiceRuntime
from greenchannel.telemetry import setup_logging, setup_tracing

from routing.adapters.clocks import ClockRepository
from routing.adapters.companies import CompanyRepository
from routing.adapters.decisions import DecisionRepository
from routing.adapters.reference_data import load_categories, load_companies
from routing.adapters.segmenter import Segmenter
from routing.adapters.similarity import SimilarityRepository
from routing.api import clocks as clocks_api
from routing.api import clusters as clusters_api
from routing.api import decisions as decisions_api
from routing.api import directory as directory_api
from routing.config import Settings
from routing.domain.calendar import WorkingDayCalendar
from routing.domain.clock import ClockRules
from routing.domain.similarity import SimilarityRules
from routing.handlers.clock import ClockEventHandler
from routing.handlers.screening import ScreeningHandler
from routing.jobs.housekeeping import BandPruning
from routing.jobs.watchdog import Watchdog


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    setup_logging(settings.service_name, settings.log_level, settings.log_json)
    setup_tracing(settings.service_name)

    runtime = ServiceRuntime(settings)
    companies = CompanyRepository(runtime.db)
    decisions = DecisionRepository(runtime.db)
    clocks = ClockRepository(runtime.db)
    similar = SimilarityRepository(runtime.db)
    segmenter = Segmenter(settings.segmenter_cache_dir)
    categories = load_categories()
    calendar = WorkingDayCalendar(settings.calendar_extra_holidays, settings.calendar_extra_workdays)
    rules = ClockRules(
        calendar=calendar,
        response_working_days=settings.response_working_days,
        appeal_working_days=settings.appeal_working_days,
        reminder_working_day=settings.reminder_working_day,
        quiet_period=timedelta(days=settings.quiet_period_days),
        publication_working_days=settings.publication_delay_working_days,
    )
    similarity_rules = SimilarityRules(
        duplicate_window=timedelta(days=settings.duplicate_window_days),
        duplicate_similarity=settings.duplicate_similarity,
        cluster_window=timedelta(days=settings.cluster_window_days),
        cluster_similarity=settings.cluster_similarity,
        cluster_min_size=settings.cluster_min_size,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await companies.ensure_indexes()
        await companies.upsert_seed(load_companies())
        await clocks.ensure_indexes()
        await similar.ensure_indexes()
        # jieba's dictionary takes seconds to load: once, before the first complaint is screened.
        await segmenter.load()
        await runtime.start(subscriptions, jobs={"sla-watchdog": watchdog.run, "band-pruning": band_pruning.run})
        try:
            yield
        finally:
            await runtime.stop()

    app = make_app(
        settings=settings,
        title="Routing",
        description=("The company directory, screening of submitted complaints (with duplicates and collective "
                     "complaints), and the SLA clocks with their watchdog."),
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
        similar=similar,
        similarity_rules=similarity_rules,
        segment=segmenter,
    )
    clock_events = ClockEventHandler(runtime=runtime, clocks=clocks, rules=rules, clock=lambda: app.state.clock(),
                                     similar=similar)
    watchdog = Watchdog(
        runtime=runtime, clocks=clocks, rules=rules, clock=lambda: app.state.clock(),
        interval_s=settings.watchdog_interval_s, lease_s=settings.watchdog_lease_s,
    )
    band_pruning = BandPruning(similar=similar, clock=lambda: app.state.clock(),
                               window=similarity_rules.cluster_window, interval_s=settings.band_pruning_interval_s)
    subscriptions = Subscriptions().on(ComplaintSubmitted.EVENT_TYPE, screening.handle)
    # The lifecycle events the SLA clocks follow (domain/clock.py).
    for event_type in (
        ComplaintForwarded, ComplaintInfoRequested, ComplaintSupplemented, ComplaintResponded, ComplaintAppealed,
        ComplaintClosed, ComplaintWithdrawn, ComplaintRedirected,
    ):
        subscriptions.on(event_type.EVENT_TYPE, clock_events.handle)

    app.state.settings = settings
    app.state.runtime = runtime
    app.state.companies = companies
    app.state.decisions = decisions
    app.state.categories = categories
    app.state.calendar = calendar
    app.state.screening = screening
    app.state.clocks = clocks
    app.state.similar = similar
    app.state.clock_events = clock_events
    app.state.watchdog = watchdog
    app.state.band_pruning = band_pruning
    app.include_router(directory_api.router)
    app.include_router(decisions_api.router)
    app.include_router(clocks_api.router)
    app.include_router(clusters_api.router)
    return app
