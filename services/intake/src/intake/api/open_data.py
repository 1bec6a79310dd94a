"""Open data: every public record as CSV or JSON Lines, streamed, under a versioned schema
(``complaints/1``, documented in docs/open-data.md). The export holds exactly what the public record shows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from intake.api.public import PublicDep

router = APIRouter(prefix="/v1/public/open-data", tags=["open data"])

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
    ("narrative_public", "boolean", False, "The complainant consented to publishing the narrative and answer."),
    ("cluster_id", "string", True, "The collective complaint (集体投诉) it belongs to."),
    ("narrative", "string", True, "Title and description, personal data masked; only with consent."),
    ("answer", "string", True, "The company's latest answer, personal data masked; only with consent."),
)
COLUMNS = [name for name, *_ in FIELDS]
HEADERS = {"X-Open-Data-Schema": SCHEMA_ID}


def schema() -> dict[str, Any]:
    return {
        "id": SCHEMA_ID,
        "version": 1,
        "formats": ["text/csv", "application/x-ndjson"],
        "fields": [{"name": name, "type": kind, "nullable": nullable, "description": meaning}
                   for name, kind, nullable, meaning in FIELDS],
    }


async def _csv(records: AsyncIterator[dict[str, Any]]) -> AsyncIterator[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    async for record in records:
        writer.writerow(["" if record.get(name) is None else str(record[name]).lower() if isinstance(record[name], bool)
                         else record[name] for name in COLUMNS])
        if out.tell() > 64 * 1024:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


async def _jsonl(records: AsyncIterator[dict[str, Any]]) -> AsyncIterator[str]:
    async for record in records:
        yield json.dumps({name: record.get(name) for name in COLUMNS}, ensure_ascii=False) + "\n"


FromDate = Annotated[date | None, Query(alias="from", description="Published on or after (YYYY-MM-DD).")]
ToDate = Annotated[date | None, Query(description="Published on or before (YYYY-MM-DD).")]


def streamed(media_type: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI description of a streamed export (one document type, a text body)."""
    return {200: {"content": {media_type: {"schema": {"type": "string"}}},
                  "headers": {"X-Open-Data-Schema": {"schema": {"type": "string"}, "description": "The schema id."}}}}


@router.get("/complaints.csv", summary="Every published complaint as CSV (schema complaints/1)",
            response_class=StreamingResponse, responses=streamed("text/csv"))
async def complaints_csv(data: PublicDep, from_: FromDate = None, to: ToDate = None) -> StreamingResponse:
    return StreamingResponse(_csv(data.records.stream(from_, to)), media_type="text/csv; charset=utf-8",
                             headers=HEADERS)


@router.get("/complaints.jsonl", summary="Every published complaint as JSON Lines (schema complaints/1)",
            response_class=StreamingResponse, responses=streamed("application/x-ndjson"))
async def complaints_jsonl(data: PublicDep, from_: FromDate = None, to: ToDate = None) -> StreamingResponse:
    return StreamingResponse(_jsonl(data.records.stream(from_, to)), media_type="application/x-ndjson",
                             headers=HEADERS)


@router.get("/schema", summary="The versioned schema of the open-data export")
async def open_data_schema() -> dict[str, Any]:
    return schema()
