"""What the public may keep, and for how long: the cache policy of every public GET, API and pages alike.

One table, applied by one middleware (``greenchannel.http_cache``): a path not listed here answers
``private, no-store``, so the status lookup with an access code, accounts, ``/v1/me/*``, the company,
operator and regulator APIs are never shareable, whatever their routes do. Each max-age is how stale the
answer may be (every replica's memory of its validators lives no longer); the surrogate keys say what a
write purges (docs/scaling.md, "A CDN in front").
"""

from __future__ import annotations

import re

from starlette.datastructures import QueryParams

from greenchannel.http_cache import CachePolicy

# A published record changes when the company answers again, the complainant rates or appeals.
RECORD_MAX_AGE_S = 60
# The list's first page gains every new publication.
LIST_MAX_AGE_S = 30
# Figures are folded from staged counts on a schedule and read over months: minutes late is still true.
FIGURES_MAX_AGE_S = 300
# The directory, the information pages, the page shells and the export schema change with a release or an
# operator's edit of the directory.
REFERENCE_MAX_AGE_S = 300
# The open-data export is a full read of the public records: a CDN should answer most harvesters.
OPEN_DATA_MAX_AGE_S = 300
# How long this process keeps whole answers of its dearest reads (the list sorts a range of records,
# figures sum months of rollups): computed once per interval and query instead of once per request; a write
# in this process (a rewritten record, a fold) drops them at once, another replica's within this time.
LIST_MEMO_S = 2.0
FIGURES_MEMO_S = 5.0
# Static files carry their content's hash in the URL (``intake.web.pages.static_url``).
STATIC_MAX_AGE_S = 86_400

# The record the projection rewrote, and every list (any list may show it).
COMPLAINTS = "complaints"
STATISTICS = "statistics"
# The web pages choose their language from ``?lang=`` or the language cookie.
BY_LANGUAGE = ("Cookie",)


def complaint_key(number: str) -> str:
    return f"complaint/{number}"


def company_key(company_id: str) -> str:
    return f"company/{company_id}"


def cluster_key(cluster_id: str) -> str:
    return f"cluster/{cluster_id}"


def rewritten(number: str) -> list[str]:
    """What a rewrite of one public record purges: the record and every list."""
    return [complaint_key(number), COMPLAINTS]


def _record(match: re.Match[str], _: QueryParams) -> list[str]:
    return [complaint_key(match["number"])]


def _list(_: re.Match[str], query: QueryParams) -> list[str]:
    keys = [COMPLAINTS]
    if query.get("company_id"):
        keys.append(company_key(query["company_id"]))
    if query.get("cluster_id"):
        keys.append(cluster_key(query["cluster_id"]))
    return keys


def _cluster(match: re.Match[str], _: QueryParams) -> list[str]:
    return [cluster_key(match["cluster_id"]), COMPLAINTS]


def _scorecard(match: re.Match[str], _: QueryParams) -> list[str]:
    return [STATISTICS, company_key(match["company_id"])]


SEGMENT = r"[^/]+"
WEB_PAGES = r"/|/file|/public|/public/(results|companies|statistics|rankings|feedback)(/[^/]+)?|/public/pages/[^/]+"

POLICIES: tuple[CachePolicy, ...] = (
    CachePolicy(rf"/v1/public/complaints/(?P<number>{SEGMENT})", RECORD_MAX_AGE_S, _record),
    CachePolicy(r"/v1/public/complaints", LIST_MAX_AGE_S, _list, memo_s=LIST_MEMO_S),
    CachePolicy(rf"/v1/public/clusters/(?P<cluster_id>{SEGMENT})", RECORD_MAX_AGE_S, _cluster),
    CachePolicy(
        r"/v1/public/statistics(/summary)?|/v1/public/rankings", FIGURES_MAX_AGE_S, (STATISTICS,), memo_s=FIGURES_MEMO_S
    ),
    CachePolicy(
        rf"/v1/public/companies/(?P<company_id>{SEGMENT})/scorecard",
        FIGURES_MAX_AGE_S,
        _scorecard,
        memo_s=FIGURES_MEMO_S,
    ),
    CachePolicy(r"/v1/public/companies|/v1/public/categories", REFERENCE_MAX_AGE_S, ("directory",)),
    CachePolicy(r"/v1/public/pages(/[^/]+)?", REFERENCE_MAX_AGE_S, ("pages",)),
    CachePolicy(r"/v1/evidence/limits", REFERENCE_MAX_AGE_S, ("evidence-limits",)),
    CachePolicy(r"/v1/public/open-data/schema", REFERENCE_MAX_AGE_S, ("open-data",)),
    # Streamed: no validators (the body is not held to hash it); the CDN keeps it, purged with the records.
    CachePolicy(
        r"/v1/public/open-data/complaints\.(csv|jsonl)",
        OPEN_DATA_MAX_AGE_S,
        ("open-data", COMPLAINTS),
        validators=False,
    ),
    CachePolicy(WEB_PAGES, REFERENCE_MAX_AGE_S, ("web",), vary=BY_LANGUAGE),
    # StaticFiles answers its own ETag, Last-Modified and 304s.
    CachePolicy(r"/static/.+", STATIC_MAX_AGE_S, ("static",), validators=False),
)
