"""Open data: every public record as CSV or JSON Lines, a bounded page per request, under a versioned schema
(``complaints/1``, documented in docs/open-data.md). The export holds exactly what the public record shows, read
from the public records themselves: a record rewritten (a consent to publication withdrawn) is exported as it is
now by the next read.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from greenchannel.csv_cells import SafeWriter
from intake.api.dependencies import PublicRead
from intake.api.public import PublicData, PublicDep, decode_cursor, encode_cursor
from intake.api.schemas import OpenDataSchema

router = APIRouter(prefix="/v1/public/open-data", tags=["open data"], dependencies=[PublicRead])

SCHEMA_ID = "complaints/1"
# (name, JSON type, nullable, meaning); the order is the CSV's column order. Adding a column at the end is
# a compatible change within a version; removing, renaming, retyping or reordering one starts a new version.
FIELDS: tuple[tuple[str, str, bool, str], ...] = (
    ("number", "string", False, "Complaint number, GC-YYYYMMDD-NNNNNN."),
    ("company_id", "string", False, "The company's directory id."),
    ("company_name", "string", False, "The company's name at publication."),
    ("category", "string", False, "Category code (see GET /v1/public/categories)."),
    ("filed_on", "date", False, "Day the complaint was filed (China time)."),
    ("forwarded_on", "date", True, "Day it was first forwarded to the company."),
    ("responded_on", "date", True, "Day of the company's first answer."),
    ("published_on", "date", False, "Day it became public."),
    ("status", "string", False, "accepted, forwarded, info_requested, responded, appealed, closed or withdrawn."),
    ("response_type", "string", True, "explained, monetary_relief, non_monetary_relief, declined or in_progress."),
    ("timely", "boolean", True, "The first answer came by the due date; null before an answer."),
    ("rating", "integer", True, "The complainant's rating, 1 to 5."),
    ("appeal_outcome", "string", True, "What came of an appeal: the closing outcome, reforwarded or pending."),
    (
        "narrative_public",
        "boolean",
        False,
        "The complainant consented to publishing the narrative and answer, and has not withdrawn that consent.",
    ),
    (
        "cluster_id",
        "string",
        True,
        "The group of similar complaints it belongs to (collective, 集体投诉, from five members).",
    ),
    ("narrative", "string", True, "Title and description, personal data masked; only with consent (not withdrawn)."),
    ("answer", "string", True, "The company's latest answer, personal data masked; only with consent (not withdrawn)."),
)
COLUMNS = [name for name, *_ in FIELDS]
HEADERS = {"X-Open-Data-Schema": SCHEMA_ID}
# Records per response at most: a harvester follows the Link header to the next page.
PAGE_ROWS = 5000


def schema() -> dict[str, Any]:
    return {
        "id": SCHEMA_ID,
        "version": 1,
        "formats": ["text/csv", "application/x-ndjson"],
        "fields": [
            {"name": name, "type": kind, "nullable": nullable, "description": meaning}
            for name, kind, nullable, meaning in FIELDS
        ],
    }


def _csv(records: list[dict[str, Any]]) -> Iterator[str]:
    out = io.StringIO()
    writer = SafeWriter(out, lineterminator="\n")  # no text cell starts a formula
    writer.writerow(COLUMNS)
    for record in records:
        writer.writerow(
            [
                ""
                if record.get(name) is None
                else str(record[name]).lower()
                if isinstance(record[name], bool)
                else record[name]
                for name in COLUMNS
            ]
        )
        if out.tell() > 64 * 1024:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _jsonl(records: list[dict[str, Any]]) -> Iterator[str]:
    for record in records:
        yield json.dumps({name: record.get(name) for name in COLUMNS}, ensure_ascii=False) + "\n"


FromDate = Annotated[date | None, Query(alias="from", description="Published on or after (YYYY-MM-DD).")]
ToDate = Annotated[date | None, Query(description="Published on or before (YYYY-MM-DD).")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="Where the page starts: from the previous page's Link.")
]
Limit = Annotated[int, Query(ge=1, le=PAGE_ROWS, description="Records in this page.")]


def streamed(media_type: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI description of a streamed export (one document type, a text body)."""
    return {
        200: {
            "content": {media_type: {"schema": {"type": "string"}}},
            "headers": {
                "X-Open-Data-Schema": {"schema": {"type": "string"}, "description": "The schema id."},
                "Link": {
                    "schema": {"type": "string"},
                    "description": 'The next page, rel="next", while more records follow.',
                },
            },
        }
    }


async def export(
    request: Request,
    data: PublicData,
    from_: date | None,
    to: date | None,
    cursor: str | None,
    limit: int,
    render: Callable[[list[dict[str, Any]]], Iterator[str]],
    media_type: str,
) -> StreamingResponse:
    """One page of the export: a bounded read whatever the size of the record, and the next page's link."""
    rows = await data.records.export_page(from_, to, after=decode_cursor(cursor), limit=limit + 1)
    headers = dict(HEADERS)
    if len(rows) > limit:
        params = {**request.query_params, "cursor": encode_cursor(rows[limit - 1]["order_key"])}
        headers["Link"] = f'<{request.url.path}?{urlencode(params)}>; rel="next"'
    return StreamingResponse(render(rows[:limit]), media_type=media_type, headers=headers)


@router.get(
    "/complaints.csv",
    summary="Published complaints as CSV (schema complaints/1), a page at a time",
    response_class=StreamingResponse,
    responses=streamed("text/csv"),
)
async def complaints_csv(
    request: Request,
    data: PublicDep,
    from_: FromDate = None,
    to: ToDate = None,
    cursor: Cursor = None,
    limit: Limit = PAGE_ROWS,
) -> StreamingResponse:
    return await export(request, data, from_, to, cursor, limit, _csv, "text/csv; charset=utf-8")


@router.get(
    "/complaints.jsonl",
    summary="Published complaints as JSON Lines (schema complaints/1), a page at a time",
    response_class=StreamingResponse,
    responses=streamed("application/x-ndjson"),
)
async def complaints_jsonl(
    request: Request,
    data: PublicDep,
    from_: FromDate = None,
    to: ToDate = None,
    cursor: Cursor = None,
    limit: Limit = PAGE_ROWS,
) -> StreamingResponse:
    return await export(request, data, from_, to, cursor, limit, _jsonl, "application/x-ndjson")


@router.get("/schema", response_model=OpenDataSchema, summary="The versioned schema of the open-data export")
async def open_data_schema() -> dict[str, Any]:
    return schema()
