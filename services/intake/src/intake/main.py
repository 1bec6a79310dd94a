"""Wiring of the intake gateway: settings, runtime (store, broker, outbox relay), adapters (stores and clients of
the other services), use cases (``intake.api.dependencies.Intake`` and the operator and company ones), the event
handlers, jobs, routers and the web pages.

Run with ``granian --interface asgi --factory intake.main:create_app`` (the Dockerfile's command).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException

from greenchannel.app import make_app
from greenchannel.http_cache import HttpCache, ValidatorCache
from greenchannel.idempotency import IdempotencyStore
from greenchannel.runtime import Overrides, ServiceRuntime, expose, observe
from greenchannel.sealing import KeyRingCipher
from intake import migrations
from intake.adapters.account_codes import AccountCodeStore
from intake.adapters.audit_log import AuditLog
from intake.adapters.case_metrics import refresh_case_metrics
from intake.adapters.case_store import CaseStore
from intake.adapters.company_handling import CompanyHandlingStore
from intake.adapters.company_profile import CompanyProfileStore
from intake.adapters.company_staff import CompanyStaffStore
from intake.adapters.dead_letters import DeadLetters
from intake.adapters.evidence_client import EvidenceClient
from intake.adapters.feedback import FeedbackStore
from intake.adapters.guesses import GuessGuard
from intake.adapters.identities import Identities
from intake.adapters.pages import Pages, load_pages
from intake.adapters.pii import KeyedHash, PiiCipher
from intake.adapters.public_records import PublicRecords
from intake.adapters.publication import Publication
from intake.adapters.rate_limits import RateLimiter
from intake.adapters.second_factors import SecondFactors
from intake.adapters.service_clients import NotificationClient, RoutingClient
from intake.adapters.statistics import Statistics
from intake.adapters.statistics_snapshot import StatisticsSnapshot
from intake.adapters.upload_budget import UploadBudget
from intake.api import (
    access_recovery,
    accounts,
    caching,
    company,
    company_handling,
    company_keys,
    company_profile,
    company_staff,
    company_webhooks,
    complaints,
    console,
    credentials,
    data_rights,
    dead_letters,
    deliveries,
    directory,
    disclosure,
    evidence_release,
    feedback,
    internal,
    open_data,
    operators,
    pages,
    problems,
    public,
    regulator,
    second_factor,
    sessions,
    staff,
    uploads,
)
from intake.api.dependencies import Intake, admit_public_read
from intake.config import Settings
from intake.core.account_codes import AccountCodes
from intake.core.audit import Audit
from intake.core.company_handling import CompanyHandling
from intake.core.company_inbox import CompanyInbox, WorkingDays
from intake.core.company_profile import CompanyProfile
from intake.core.company_staff import CompanyStaff, InvitationPolicy
from intake.core.dashboard import Dashboard
from intake.core.disclosure import Disclosure
from intake.core.feedback import Feedback
from intake.core.guessing_alerts import GuessingAlerts
from intake.core.operations import Operations
from intake.core.retention import Retention, RetentionPolicy
from intake.core.transactions import Transactions
from intake.core.work_queues import WorkQueues
from intake.domain import person_names
from intake.domain.account_codes import CodePolicy
from intake.domain.guessing import TARGET_WINDOW_S, Backoff, GuessPolicy
from intake.domain.principals import Role
from intake.handlers.publication import PublicationHandlers
from intake.handlers.subscriptions import subscriptions
from intake.jobs import retention, statistics_fold, statistics_snapshot
from intake.web import STATIC_PATH, on_http_error, static_files
from intake.web import router as web_pages
from intake.web.company_portal import router as company_portal_pages
from intake.web.console import router as console_pages

# Evidence uploads stream through with their own, larger limits (evidence's per-type limits).
UPLOAD_ROUTES = (r"POST /v1/evidence", r"POST /v1/complaints/[^/]+/evidence")

ServiceClient = EvidenceClient | RoutingClient | NotificationClient
Client = TypeVar("Client", EvidenceClient, RoutingClient, NotificationClient)


@dataclass(frozen=True)
class Container:
    """intake's parts, each on ``app.state`` under its own name: ``intake`` is what most routes depend on (the
    collaborators and the complainant's, company's and staff's use cases), the others serve one group of routes."""

    settings: Settings
    runtime: ServiceRuntime
    # What this process last answered to public GETs; the projection purges what it rewrites.
    validators: ValidatorCache
    intake: Intake
    # The clients of the other services build made (a test's own stay the test's to close).
    clients: tuple[ServiceClient, ...]
    lifecycle: PublicationHandlers
    statistics: Statistics
    snapshot: StatisticsSnapshot | None
    dead_letters: DeadLetters
    upload_budget: UploadBudget
    feedback: FeedbackStore
    disclosure: Disclosure
    retention: Retention
    public_data: public.PublicData
    operations: Operations
    work_queues: WorkQueues
    dashboard: Dashboard
    company_inbox: CompanyInbox
    company_profile: CompanyProfile
    company_handling: CompanyHandling
    company_staff: CompanyStaff
    pages: Pages


def guess_policy(settings: Settings) -> GuessPolicy:
    return GuessPolicy(
        per_pair=Backoff(
            settings.guess_free_failures_per_pair, settings.guess_backoff_base_s, settings.guess_backoff_max_s
        ),
        per_source=Backoff(
            settings.guess_free_failures_per_ip, settings.guess_backoff_base_s, settings.guess_backoff_max_s
        ),
        target_ceiling=settings.guess_target_ceiling_per_hour,
        alert_sources=settings.guess_alert_sources_per_hour,
        window_s=TARGET_WINDOW_S,
    )


def build(settings: Settings, overrides: Overrides | None = None) -> Container:
    """A test may hand its own ``runtime`` or client of another service (``evidence``, ``routing``,
    ``notification``), e.g. one pointed elsewhere."""
    part = overrides or Overrides()
    runtime = part("runtime", lambda: ServiceRuntime(settings))
    validators = ValidatorCache()
    cipher = PiiCipher.from_settings(settings.pii_keys.get_secret_value(), settings.pii_active_key_id)
    blind_index = KeyedHash(settings.blind_index_key.get_secret_value().encode(), "blind-index")
    cases = CaseStore(runtime)
    idempotency = IdempotencyStore(runtime.db)
    identities = Identities(
        runtime.db,
        cipher,
        blind_index,
        settings.jwt_secret.get_secret_value(),
        settings.token_ttl_s,
        settings.account_cache_ttl_s,
    )
    internal_token = settings.internal_token.get_secret_value()
    operator_token = settings.operator_token.get_secret_value()
    built: list[ServiceClient] = []

    def owned(client: Client) -> Client:
        built.append(client)
        return client

    evidence = part(
        "evidence",
        lambda: owned(
            EvidenceClient(settings.evidence_url, settings.evidence_upload_timeout_s, internal_token, operator_token)
        ),
    )
    routing = part("routing", lambda: owned(RoutingClient(settings.routing_url, internal_token, operator_token)))
    notification = part(
        "notification",
        lambda: owned(
            NotificationClient(
                settings.notification_url, internal_token, operator_token, settings.admin_token.get_secret_value()
            )
        ),
    )
    statistics = Statistics(runtime.db, folded=lambda: validators.purge([caching.STATISTICS]))
    publication = Publication(
        cipher,
        PublicRecords(runtime.db),
        statistics,
        rewritten=lambda number: validators.purge(caching.rewritten(number)),
    )
    cases.follow(publication)
    dead_letters = DeadLetters(runtime.db, runtime.broker, cipher, timedelta(days=settings.dead_letter_retention_days))
    limits = RateLimiter(runtime.db, settings.rate_limits_enabled)
    guesses = GuessGuard(runtime.db, guess_policy(settings), GuessingAlerts(runtime), settings.rate_limits_enabled)
    feedback_store = FeedbackStore(runtime.db, cipher)
    transactions = Transactions(runtime.mongo, idempotency, cipher, answer_ttl_s=settings.idempotency_ttl_s)
    audit_log = AuditLog(runtime.db)
    audit = Audit(audit_log, identities)  # what every operator use case records its actions with
    snapshot = (
        StatisticsSnapshot(
            runtime.db,
            publication.statistics,
            settings.public_statistics_refresh,
            taken=lambda: validators.purge([caching.STATISTICS]),
        )
        if settings.public_statistics_refresh
        else None
    )
    accounts_use_cases = AccountCodes(
        runtime,
        identities,
        AccountCodeStore(runtime.db),
        blind_index,
        KeyedHash(settings.access_code_key.get_secret_value().encode(), "account-code"),
        KeyRingCipher.from_settings(
            settings.code_transport_keys.get_secret_value(), settings.code_transport_active_key_id
        ),
        CodePolicy(timedelta(seconds=settings.account_code_ttl_s), settings.account_code_max_attempts),
    )
    intake = Intake(
        settings=settings,
        cases=cases,
        transactions=transactions,
        evidence=evidence,
        routing=routing,
        notification=notification,
        cipher=cipher,
        blind_index=blind_index,
        identities=identities,
        limits=limits,
        accounts=accounts_use_cases,
        guesses=guesses,
        feedback=Feedback(feedback_store, transactions, audit),
        audit=audit,
        second_factors=SecondFactors(runtime.db, cipher),
    )
    work_queues = WorkQueues(cases, publication.records)
    company_staff_store = CompanyStaffStore(runtime.db)
    container = Container(
        settings=settings,
        runtime=runtime,
        validators=validators,
        intake=intake,
        clients=tuple(built),
        lifecycle=PublicationHandlers(runtime, cases, publication, cipher),
        statistics=publication.statistics,
        snapshot=snapshot,
        dead_letters=dead_letters,
        # Off with the other per-address limits (RATE_LIMITS_ENABLED), e.g. for one test client standing for many.
        upload_budget=UploadBudget(
            runtime.db,
            budget_bytes=settings.anonymous_upload_bytes_per_ip_per_day,
            enabled=settings.rate_limits_enabled,
        ),
        feedback=feedback_store,
        disclosure=Disclosure(audit_log, cipher),
        retention=Retention(
            runtime,
            cases,
            transactions,
            audit_log,
            dead_letters,
            identities,
            cipher,
            limits,
            RetentionPolicy(
                period=timedelta(days=settings.retention_days),
                hold=timedelta(days=settings.erasure_hold_days),
                batch=settings.retention_batch,
            ),
        ),
        public_data=public.PublicData(
            publication.records,
            publication.statistics,
            public.DirectoryLabels(routing),
            snapshot,
            settings.public_statistics_min_count,
        ),
        operations=Operations(dead_letters, notification, audit),
        work_queues=work_queues,
        dashboard=Dashboard(work_queues, dead_letters, notification),
        company_inbox=CompanyInbox(
            cases.page, WorkingDays(routing.working_days), publication.records.collective_clusters
        ),
        company_profile=CompanyProfile(
            CompanyProfileStore(runtime.db), transactions, routing.company, routing.save_company
        ),
        company_handling=CompanyHandling(CompanyHandlingStore(runtime.db), company_staff_store, transactions, cipher),
        company_staff=CompanyStaff(
            runtime,
            transactions,
            company_staff_store,
            identities,
            cipher,
            blind_index,
            KeyedHash(settings.access_code_key.get_secret_value().encode(), "company-invitation"),
            accounts_use_cases.transport,
            InvitationPolicy(timedelta(seconds=settings.company_invitation_ttl_s), settings.public_base_url),
        ),
        pages=load_pages(),  # once, at start-up: a broken content file stops the start
    )
    part.check_all_used()
    return container


def jobs(parts: Container) -> dict[str, Callable[[], Coroutine[Any, Any, None]]]:
    settings = parts.settings
    scheduled = {
        statistics_fold.NAME: statistics_fold.statistics_fold(parts.statistics, settings.statistics_fold_interval_s),
        retention.NAME: retention.retention(parts.retention, settings.retention_interval_s),
    }
    if parts.snapshot is not None:
        scheduled[statistics_snapshot.NAME] = statistics_snapshot.statistics_snapshot(parts.snapshot)
    return scheduled


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    parts: Container = app.state.container
    await parts.runtime.migrate(migrations.__name__)
    await parts.intake.identities.ensure_operator(
        parts.settings.operator_bootstrap_login,
        parts.settings.operator_bootstrap_password.get_secret_value(),
        {Role.ADMIN, Role.OPERATOR, Role.REGULATOR},
    )
    # The scrubber's dictionaries take a second or two to load: in a worker thread, while the service starts,
    # rather than on the event loop at the first publication.
    asyncio.get_running_loop().run_in_executor(None, person_names.load)
    await parts.runtime.start(
        subscriptions(parts.lifecycle),
        jobs=jobs(parts),
        gauges=[lambda: refresh_case_metrics(parts.intake.cases)],
    )
    try:
        yield
    finally:
        await parts.runtime.stop()
        for client in parts.clients:
            await client.close()


def create_app(settings: Settings | None = None, **overrides: object) -> FastAPI:
    settings = settings or Settings()
    observe(settings)
    app = make_app(
        settings=settings,
        title="Complaint platform: intake gateway",
        description="File complaints, follow them, add evidence; company and operator APIs. 互联网信息服务投诉平台 受理网关。",
        lifespan=lifespan,
        readiness=lambda app: app.state.runtime.readiness_checks(),
        # Filing needs only the store: events wait in the outbox while the broker is away.
        degradable=frozenset({"broker"}),
        # notification's contact lookups: on the internal listener only.
        internal=[internal.router],
        # The public's requests start their own traces: no client picks its sampling or joins another trace.
        trust_inbound_trace_context=False,
        max_body_bytes=settings.max_request_body_bytes,
        streamed=UPLOAD_ROUTES,
    )
    parts = build(settings, Overrides(overrides))
    expose(app, parts)
    # Cache-Control, validators and 304s of every response (``intake.api.caching``); the outermost layer, so
    # a revalidation it answers runs nothing else.
    app.add_middleware(HttpCache, policies=caching.POLICIES, cache=parts.validators, admit=admit_public_read)
    for router in (
        complaints.router,
        accounts.router,
        company.router,
        operators.router,
        evidence_release.router,
        dead_letters.router,
        deliveries.router,
        directory.router,
        pages.router,
        feedback.router,
        uploads.router,
        public.router,
        open_data.router,
        regulator.router,
        credentials.router,
        staff.router,
        disclosure.router,
        data_rights.router,
        second_factor.router,
        console.router,
    ):
        app.include_router(router)
    app.include_router(access_recovery.router)
    app.include_router(sessions.router)
    app.include_router(company_staff.router)
    app.include_router(company_handling.router)
    app.include_router(company_keys.router)
    app.include_router(company_webhooks.router)
    app.include_router(company_profile.router)
    # The public web client: pages and their static files, same origin as the API they call.
    app.include_router(web_pages)
    # The operator console (/ops/): pages of the same kind, for staff, calling the operator API.
    app.include_router(console_pages)
    app.include_router(company_portal_pages)  # 企业端, under /company/
    app.mount(STATIC_PATH, static_files(), name="static")
    # A browser at a mistyped address gets the not-found page; API clients keep the problem document.
    # Starlette types a handler as taking any exception; this one is registered for HTTPException alone.
    app.add_exception_handler(StarletteHTTPException, on_http_error)  # type: ignore[arg-type]

    # Every refusal of a use case as its problem document.
    problems.register(app)

    return app
