"""Wiring of the routing service: settings, runtime, repositories, the word segmenter, the screening and clock handlers,
the watchdog, routers.

Run with ``granian --interface asgi --factory routing.main:create_app --port 8002`` (the Dockerfile's command).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import FastAPI

from greenchannel.app import make_app
from greenchannel.contracts import utc_now
from greenchannel.runtime import Overrides, ServiceRuntime, expose, observe
from routing import migrations
from routing.adapters.clocks import ClockRepository
from routing.adapters.companies import CompanyRepository
from routing.adapters.decisions import DecisionRepository
from routing.adapters.reference_data import load_categories, load_companies
from routing.adapters.segmenter import Segmenter
from routing.adapters.similarity import SimilarityRepository
from routing.api import calendar as calendar_api
from routing.api import clocks as clocks_api
from routing.api import clusters as clusters_api
from routing.api import decisions as decisions_api
from routing.api import directory as directory_api
from routing.config import Settings
from routing.core.directory import DirectoryEditing
from routing.domain.calendar import WorkingDayCalendar
from routing.domain.categories import Category
from routing.domain.clock import ClockRules
from routing.domain.similarity import SimilarityRules
from routing.handlers.clock import ClockEventHandler
from routing.handlers.erasure import ErasureHandler
from routing.handlers.screening import ScreeningHandler
from routing.handlers.subscriptions import subscriptions
from routing.jobs.housekeeping import BandPruning
from routing.jobs.watchdog import Watchdog


@dataclass(frozen=True)
class Container:
    settings: Settings
    runtime: ServiceRuntime
    companies: CompanyRepository
    decisions: DecisionRepository
    clocks: ClockRepository
    similar: SimilarityRepository
    segmenter: Segmenter
    categories: list[Category]
    calendar: WorkingDayCalendar
    screening: ScreeningHandler
    clock_events: ClockEventHandler
    erasure: ErasureHandler
    watchdog: Watchdog
    band_pruning: BandPruning
    directory_editing: DirectoryEditing


def build(settings: Settings, now: Callable[[], datetime], overrides: Overrides | None = None) -> Container:
    """``now`` is the time source of every decision."""
    part = overrides or Overrides()
    runtime = part("runtime", lambda: ServiceRuntime(settings))
    companies = CompanyRepository(runtime.db)
    clocks = ClockRepository(runtime.db)
    similar = SimilarityRepository(runtime.db)
    segmenter = part("segmenter", lambda: Segmenter(settings.segmenter_cache_dir))
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
    decisions = DecisionRepository(runtime.db)
    container = Container(
        settings=settings,
        runtime=runtime,
        companies=companies,
        decisions=decisions,
        clocks=clocks,
        similar=similar,
        segmenter=segmenter,
        categories=categories,
        calendar=calendar,
        screening=ScreeningHandler(
            runtime=runtime,
            companies=companies,
            decisions=decisions,
            categories=categories,
            calendar=calendar,
            clock=now,
            response_working_days=settings.response_working_days,
            similar=similar,
            similarity_rules=similarity_rules,
            segment=segmenter,
            review_unresolved=settings.review_unresolved_companies,
        ),
        clock_events=ClockEventHandler(runtime=runtime, clocks=clocks, rules=rules, clock=now, similar=similar),
        erasure=ErasureHandler(runtime, similar),
        watchdog=Watchdog(
            runtime=runtime,
            clocks=clocks,
            rules=rules,
            clock=now,
            interval_s=settings.watchdog_interval_s,
            lease_s=settings.watchdog_lease_s,
        ),
        band_pruning=BandPruning(
            similar=similar,
            clock=now,
            window=similarity_rules.cluster_window,
            interval_s=settings.band_pruning_interval_s,
        ),
        directory_editing=DirectoryEditing(companies),
    )
    part.check_all_used()
    return container


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    parts: Container = app.state.container
    await parts.runtime.migrate(migrations.__name__)
    await parts.companies.upsert_seed(load_companies())
    # jieba's dictionary takes seconds to load: once, before the first complaint is screened.
    await parts.segmenter.load()
    await parts.runtime.start(
        subscriptions(parts.screening, parts.clock_events, parts.erasure),
        jobs={"sla-watchdog": parts.watchdog.run, "band-pruning": parts.band_pruning.run},
    )
    try:
        yield
    finally:
        await parts.runtime.stop()


def create_app(settings: Settings | None = None, **overrides: object) -> FastAPI:
    """``clock`` (an override like the others) is kept in ``app.state.clock`` and read there at every decision, so a
    test moves the time of a running app by replacing it."""
    settings = settings or Settings()
    observe(settings)
    app = make_app(
        settings=settings,
        title="Routing",
        description=(
            "The company directory, screening of submitted complaints (with duplicates and collective "
            "complaints), and the SLA clocks with their watchdog."
        ),
        lifespan=lifespan,
        readiness=lambda app: app.state.runtime.readiness_checks(),
    )
    app.state.clock = overrides.pop("clock", utc_now)
    expose(app, build(settings, lambda: app.state.clock(), Overrides(overrides)))
    app.include_router(directory_api.router)
    app.include_router(decisions_api.router)
    app.include_router(clocks_api.router)
    app.include_router(clusters_api.router)
    app.include_router(calendar_api.router)
    return app
