"""Public results (公示), statistics, scorecards and rankings: anonymous reads of the public record and the
statistics rollups (the public API contract, docs/public-api.md).

Nothing here is personal: the public record carries no name, ID number, contact or province; the province
appears only summed, in statistics by region. Filters take plain, pattern-checked strings only, so no
operator can reach a query.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from greenchannel.problems import Problem
from intake.adapters.public_records import PublicRecords
from intake.adapters.service_clients import RoutingClient
from intake.adapters.statistics import Statistics
from intake.api.dependencies import PublicRead
from intake.api.schemas import (
    PublicCluster,
    PublicResultDetail,
    PublicResultPage,
    PublicScorecard,
    Rankings,
    StatisticsTable,
    SummaryFigures,
)
from intake.domain import disclosure, statistics
from intake.domain.publication import PUBLIC_STATUSES
from intake.domain.statistics import CHINA, PROVINCES

# Every read here is open to anyone: limited per client address (``PUBLIC_READS_PER_IP_PER_MINUTE``).
router = APIRouter(prefix="/v1/public", tags=["public results"], dependencies=[PublicRead])

COMPANY_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
CATEGORY = r"^[a-z][a-z_]{1,39}$"
CLUSTER_ID = r"^CL-[A-Z0-9-]{1,40}$"
NUMBER = r"^[A-Z]{2}-\d{8}-\d{6,9}$"
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
PERIOD = r"^\d{4}(-(0[1-9]|1[0-2]))?$"
ORDER_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}\|[A-Z]{2}-\d{8}-\d{6,9}$")
DIRECTORY_TTL_S = 300.0
# While the directory is away, ask again only this often: a public page must not wait for it each time.
DIRECTORY_RETRY_S = 30.0
DIRECTORY_CACHE_SIZE = 10_000
# Tables of companies kept per replica: a few periods (this month, the last 12, a year or two) of two snapshots.
COMPANY_TABLES_KEPT = 32

Month = Annotated[str | None, Query(pattern=MONTH, description="A month, YYYY-MM.")]
Period = Annotated[
    str | None, Query(pattern=PERIOD, description="A year (YYYY) or a month (YYYY-MM); default the last 12 months.")
]
CompanyId = Annotated[str, Path(pattern=COMPANY_ID, description="The company's directory id.")]
By = Annotated[Literal["month", "category", "company", "region"], Query(description="How rows are grouped.")]
OrderBy = Literal["per_million_users", "volume", "timely_rate", "relief_rate", "average_rating", "appeal_rate"]


@dataclass
class DirectoryLabels:
    """Company and category names from routing's directory, kept a few minutes: every public page names
    them, and a directory that is away must not take the public results down (labels fall back to codes)."""

    routing: RoutingClient
    _categories: tuple[float, dict[str, dict[str, Any]]] | None = None
    _companies: dict[str, tuple[float, dict[str, Any] | None]] = field(default_factory=dict)

    async def categories(self) -> dict[str, dict[str, Any]]:
        if self._categories is None or self._categories[0] < time.monotonic():
            try:
                items = await self.routing.categories()
            except Problem:
                self._categories = (
                    time.monotonic() + DIRECTORY_RETRY_S,
                    self._categories[1] if self._categories else {},
                )
            else:
                self._categories = (time.monotonic() + DIRECTORY_TTL_S, {item["code"]: item for item in items})
        return self._categories[1]

    async def company(self, company_id: str) -> dict[str, Any] | None:
        cached = self._companies.get(company_id)
        if cached is None or cached[0] < time.monotonic():
            try:
                cached = (time.monotonic() + DIRECTORY_TTL_S, await self.routing.company(company_id))
            except Problem:
                cached = (time.monotonic() + DIRECTORY_RETRY_S, cached[1] if cached else None)
            if len(self._companies) >= DIRECTORY_CACHE_SIZE:
                self._companies.clear()  # anyone can ask for any id: the cache must stay bounded
            self._companies[company_id] = cached
        return cached[1]


@dataclass
class PublicData:
    """The public side's collaborators, built once in ``main.build``."""

    records: PublicRecords
    statistics: Statistics
    labels: DirectoryLabels
    #: What the public statistics, scorecards and rankings read: a snapshot refreshed once per period (the live
    #: rollups when the refresh is 0). Regulators read ``statistics``.
    public_statistics: Any = None
    #: Public statistics cells counting fewer complaints are suppressed (intake.domain.disclosure).
    min_count: int = 1
    #: The published table of companies of each (snapshot, period) read lately: a snapshot never changes, so the
    #: scorecards of every company and the rankings of a period share one table, computed once per replica.
    company_tables: dict[tuple[str, str, str, str], Any] = field(default_factory=dict)

    def figures_source(self, public_only: bool) -> Any:
        return self.public_statistics or self.statistics if public_only else self.statistics


def get_public_data(request: Request) -> PublicData:
    return request.app.state.public_data


PublicDep = Annotated[PublicData, Depends(get_public_data)]


# --- results ----------------------------------------------------------------------------------------------


def encode_cursor(order_key: str) -> str:
    return base64.urlsafe_b64encode(order_key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError):
        key = ""
    try:
        if not ORDER_KEY.match(key):
            raise ValueError(key)
        date.fromisoformat(key[:10])
    except ValueError:
        raise Problem(400, "invalid_cursor", "The cursor is not one this API gave out.") from None
    return key


async def english_names(data: PublicData, company_ids: set[str]) -> dict[str, str]:
    """The directory's English names of these companies (those it has one for)."""
    ids = sorted(company_ids)
    found = await asyncio.gather(*(data.labels.company(company_id) for company_id in ids))
    return {
        company_id: company["name_en"]
        for company_id, company in zip(ids, found, strict=True)
        if company and company.get("name_en")
    }


async def summaries(data: PublicData, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    categories = await data.labels.categories()
    sizes = await data.records.cluster_sizes({record["cluster_id"] for record in records if record.get("cluster_id")})
    names_en = await english_names(data, {record["company_id"] for record in records if record.get("company_id")})
    return [summary(record, categories, sizes, names_en) for record in records]


def summary(
    record: dict[str, Any],
    categories: dict[str, dict[str, Any]],
    sizes: dict[str, dict[str, Any]],
    names_en: dict[str, str],
) -> dict[str, Any]:
    category = categories.get(record["category"], {})
    cluster_id = record.get("cluster_id")
    return {
        "number": record["number"],
        "company_id": record["company_id"],
        "company_name": record["company_name"],
        # The directory's English name; null when it has none (the page shows the Chinese name then).
        "company_name_en": names_en.get(record["company_id"]),
        # The scrubbed title, public only with the complainant's consent (as the narrative it heads).
        "headline": record.get("headline"),
        "category": record["category"],
        "category_name_zh": category.get("zh", record["category"]),
        "category_name_en": category.get("en", record["category"]),
        "filed_on": record["filed_on"],
        "forwarded_on": record["forwarded_on"],
        "responded_on": record["responded_on"],
        "published_on": record["published_on"],
        "status": record["status"],
        "response_type": record["response_type"],
        "timely": record["timely"],
        "rating": record["rating"],
        "appeal_outcome": record["appeal_outcome"],
        "narrative_public": record["narrative_public"],
        # ``collective``: the cluster reached routing's size for a collective complaint (集体投诉).
        "cluster": (
            {"id": cluster_id, **sizes.get(cluster_id, {"size": 1, "collective": False})} if cluster_id else None
        ),
    }


@router.get(
    "/complaints",
    response_model=PublicResultPage,
    summary="Published complaints and their handling results (公示), newest first",
)
async def list_public(
    data: PublicDep,
    company_id: Annotated[str | None, Query(pattern=COMPANY_ID)] = None,
    category: Annotated[str | None, Query(pattern=CATEGORY)] = None,
    status: Annotated[Literal[PUBLIC_STATUSES] | None, Query()] = None,  # type: ignore[valid-type]
    from_: Annotated[date | None, Query(alias="from", description="Published on or after (YYYY-MM-DD).")] = None,
    to: Annotated[date | None, Query(description="Published on or before (YYYY-MM-DD).")] = None,
    cluster_id: Annotated[str | None, Query(pattern=CLUSTER_ID)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    filters: dict[str, Any] = {
        name: value
        for name, value in (
            ("company_id", company_id),
            ("category", category),
            ("status", status),
            ("cluster_id", cluster_id),
        )
        if value is not None
    }
    # The period is the publication's, the list's own order: a range of the key a page reads anyway
    # (docs/architecture.md, "The public list's period is its publication date").
    rows = await data.records.page(
        filters, limit=limit + 1, after=decode_cursor(cursor), published_from=from_, published_to=to
    )
    items = await summaries(data, rows[:limit])
    return {"items": items, "next_cursor": encode_cursor(rows[limit - 1]["order_key"]) if len(rows) > limit else None}


@router.get(
    "/complaints/{number}",
    response_model=PublicResultDetail,
    summary="One published complaint, with its narrative and answer if the complainant consented",
)
async def read_public(number: Annotated[str, Path(max_length=40)], data: PublicDep) -> dict[str, Any]:
    record = await data.records.get(number) if re.match(NUMBER, number) else None
    if record is None:
        raise Problem(404, "complaint_not_found", "No published complaint has this number.")
    [item] = await summaries(data, [record])
    return {**item, "narrative": record["narrative"], "answer": record["answer"]}


@router.get(
    "/clusters/{cluster_id}",
    response_model=PublicCluster,
    summary="A cluster of similar complaints: its size, first member, and whether it is a collective complaint (集体投诉)",
)
async def read_cluster(cluster_id: Annotated[str, Path(max_length=60)], data: PublicDep) -> dict[str, Any]:
    cluster = await data.records.cluster(cluster_id) if re.match(CLUSTER_ID, cluster_id) else None
    # A cluster none of whose members is public yet is not shown either.
    if cluster is None or not await data.records.page({"cluster_id": cluster_id}, limit=1, after=None):
        raise Problem(404, "cluster_not_found", "No published collective complaint has this id.")
    return cluster


# --- statistics -------------------------------------------------------------------------------------------


def today() -> date:
    return datetime.now(CHINA).date()


def month_range(from_: str | None, to: str | None) -> tuple[str, str]:
    default_from, default_to = statistics.last_twelve_months(today())
    first, last = from_ or default_from, to or default_to
    if first > last:
        raise Problem(400, "invalid_range", "'from' is after 'to'.")
    if len(statistics.months_between(first, last)) > 120:
        raise Problem(400, "invalid_range", "At most ten years at a time.")
    return first, last


def grouped(documents: list[dict[str, Any]], dimension: str, keys: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Rollup documents summed by ``dimension`` (every one of ``keys`` a row, even with nothing), and over all."""
    rows: dict[str, dict[str, Any]] = {key: {} for key in keys}
    totals: dict[str, Any] = {}
    for document in documents:
        statistics.add(rows.setdefault(document[dimension], {}), document)
        statistics.add(totals, document)
    return rows, totals


def published(rows: dict[str, Any], totals: dict[str, Any], k: int) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The figures of a table as the public reads them, by row key: disclosure control over the whole table."""
    table, published_totals = disclosure.suppress(
        [{"key": key, **statistics.figures(total), **statistics.bases(total)} for key, total in sorted(rows.items())],
        {**statistics.figures(totals), **statistics.bases(totals)},
        k,
    )
    return {row["key"]: row for row in table}, published_totals


async def statistics_body(
    data: PublicData, from_: str | None, to: str | None, by: str, *, public_only: bool
) -> dict[str, Any]:
    first, last = month_range(from_, to)
    months = statistics.months_between(first, last)
    rollup = {"month": "category", "category": "category", "company": "company", "region": "region"}[by]
    dimension = {"month": "month", "category": "category", "company": "company_id", "region": "province"}[by]
    documents = await data.figures_source(public_only).between(rollup, first, last, public_only=public_only)
    totals_by_key, totals = grouped(documents, dimension, months if by == "month" else [])
    names = {document[dimension]: document["company_name"] for document in documents if document.get("company_name")}
    labels = await row_labels(data, by, totals_by_key, names)
    if not public_only:
        rows = [
            {"key": key, **labels[key], **statistics.figures(total)} for key, total in sorted(totals_by_key.items())
        ]
        return {"from": first, "to": last, "by": by, "rows": rows, "totals": statistics.figures(totals)}
    # The public figures: small cells and the cells that would give them away are suppressed.
    figures, published_totals = published(totals_by_key, totals, data.min_count)
    rows = [{"key": key, **labels[key], **row} for key, row in figures.items()]
    return {"from": first, "to": last, "by": by, "rows": rows, "totals": published_totals, "min_count": data.min_count}


async def row_labels(
    data: PublicData, by: str, grouped: dict[str, Any], names: dict[str, str]
) -> dict[str, dict[str, str]]:
    if by == "month":
        return {key: {"label_zh": f"{key[:4]}年{int(key[5:])}月", "label_en": key} for key in grouped}
    if by == "region":
        return {
            key: dict(zip(("label_zh", "label_en"), PROVINCES.get(key, (key, key)), strict=True)) for key in grouped
        }
    if by == "category":
        categories = await data.labels.categories()
        return {
            key: {
                "label_zh": categories.get(key, {}).get("zh", key),
                "label_en": categories.get(key, {}).get("en", key),
            }
            for key in grouped
        }
    companies = await asyncio.gather(*(data.labels.company(key) for key in grouped))
    return {
        key: {
            "label_zh": (found or {}).get("name") or names.get(key, key),
            "label_en": (found or {}).get("name_en") or names.get(key, key),
        }
        for key, found in zip(grouped, companies, strict=True)
    }


@router.get(
    "/statistics",
    response_model=StatisticsTable,
    summary="Figures over published complaints, by month, category, company or region",
)
async def public_statistics(
    data: PublicDep,
    from_: Annotated[str | None, Query(alias="from", pattern=MONTH)] = None,
    to: Month = None,
    by: By = "month",
) -> dict[str, Any]:
    return await statistics_body(data, from_, to, by, public_only=True)


@router.get("/statistics/summary", response_model=SummaryFigures, summary="The home page's headline figures")
async def summary_statistics(data: PublicDep) -> dict[str, Any]:
    source = data.figures_source(True)
    total, companies = await source.totals(public_only=True)
    numbers = statistics.figures(total)
    last_day = today()
    recent = await source.between(
        "publication_day", (last_day - timedelta(days=29)).isoformat(), last_day.isoformat(), public_only=True
    )
    return disclosure.suppress_summary(
        {
            "published": numbers["received"],
            "answered_rate": statistics.rate(numbers["answered"], numbers["received"]),
            "timely_rate": numbers["timely_rate"],
            "satisfaction": numbers["satisfaction"],
            "companies": companies,
            "last_30_days_published": sum(int(document.get("received", 0)) for document in recent),
        },
        rated=statistics.bases(total)["rated"],
        k=data.min_count,
    )


async def companies_published(
    data: PublicData, rollup: str, first: str, last: str
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], dict[str, str]]:
    """Every company's summed counters over a scorecard period, its row as the public statistics by company of the
    same months publish it (:mod:`intake.domain.disclosure`: a scorecard hides what that table hides), and the
    names the rollups know."""
    # Read live (figures refreshed as they change, or before the first snapshot), nothing is kept.
    snapshot = await data.public_statistics.latest() if data.public_statistics else ""
    key = (snapshot, rollup, first, last)
    if snapshot and key in data.company_tables:
        return data.company_tables[key]
    documents = await data.figures_source(True).between(rollup, first, last, public_only=True)
    totals_by_company, totals = grouped(documents, "company_id", [])
    rows, _ = published(totals_by_company, totals, data.min_count)
    names = {document["company_id"]: document["company_name"] for document in documents if document.get("company_name")}
    if snapshot:
        if len(data.company_tables) >= COMPANY_TABLES_KEPT:
            data.company_tables.clear()
        data.company_tables[key] = (totals_by_company, rows, names)
    return totals_by_company, rows, names


async def scorecard_body(data: PublicData, company_id: str, period: str | None, *, public_only: bool) -> dict[str, Any]:
    label, rollup, first, last = statistics.period_range(period, today())
    row: dict[str, Any] | None = None
    if public_only:
        totals_by_company, rows, names = await companies_published(data, rollup, first, last)
        found, total, row = company_id in totals_by_company, totals_by_company.get(company_id, {}), rows.get(company_id)
        known_name = names.get(company_id)
    else:
        periods = statistics.months_between(first, last) if rollup == "company" else [first]
        documents = await data.statistics.of_company(rollup, company_id, periods, public_only=False)
        total = {}
        for document in documents:
            statistics.add(total, document)
        found = bool(documents)
        known_name = next((d["company_name"] for d in documents if d.get("company_name")), None)
    company = await data.labels.company(company_id)
    if company is None and not found:
        raise Problem(404, "company_not_found", "No company has this id.")
    card = {
        "company_id": company_id,
        "company_name": (company or {}).get("name") or known_name or company_id,
        "company_name_en": (company or {}).get("name_en"),
        "period": label,
        **statistics.scorecard(total, (company or {}).get("user_base_millions")),
    }
    if not public_only:
        return card
    return {**disclosure.suppress_scorecard(card, row), "min_count": data.min_count}


@router.get(
    "/companies/{company_id}/scorecard",
    response_model=PublicScorecard,
    summary="A company's scorecard over published complaints",
)
async def public_scorecard(company_id: CompanyId, data: PublicDep, period: Period = None) -> dict[str, Any]:
    return await scorecard_body(data, company_id, period, public_only=True)


@router.get("/rankings", response_model=Rankings, summary="Companies ranked by a scorecard figure")
async def rankings(
    data: PublicDep,
    period: Period = None,
    order_by: Annotated[OrderBy, Query()] = "per_million_users",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    label, rollup, first, last = statistics.period_range(period, today())
    totals_by_company, rows, names = await companies_published(data, rollup, first, last)
    ids = [company_id for company_id in totals_by_company if company_id != statistics.UNKNOWN]
    companies = await asyncio.gather(*(data.labels.company(company_id) for company_id in ids))
    cards = [
        disclosure.suppress_scorecard(
            {
                "company_id": company_id,
                "company_name": (found or {}).get("name") or names.get(company_id) or company_id,
                "company_name_en": (found or {}).get("name_en"),
                "period": label,
                **statistics.scorecard(totals_by_company[company_id], (found or {}).get("user_base_millions")),
            },
            rows[company_id],
        )
        for company_id, found in zip(ids, companies, strict=True)
    ]
    # A hidden figure ranks as one the company does not have: last, so its place says nothing of its value.
    return {
        "period": label,
        "order_by": order_by,
        "items": statistics.ranked(cards, order_by)[:limit],
        "min_count": data.min_count,
    }
