"""Public directory at the gateway: search companies by name, alias, app or domain, and the categories.

Routing owns the directory; the public reaches it only through intake, the one public edge
(docs/architecture.md). What routing answers is passed on unchanged.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from intake.api.dependencies import IntakeDep, PublicRead
from intake.api.schemas import CategoryList, DirectoryPage

router = APIRouter(prefix="/v1/public", tags=["public"], dependencies=[PublicRead])


@router.get(
    "/companies", response_model=DirectoryPage, summary="Search the company directory (name, alias, app or domain)"
)
async def search_companies(
    intake: IntakeDep,
    q: Annotated[
        str,
        Query(
            max_length=200,
            pattern=r"^[^\x00-\x1f\x7f]*$",
            description="Text found in a name, alias, app name or domain.",
        ),
    ] = "",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> dict[str, Any]:
    return {"items": await intake.routing.search_companies(q, limit)}


@router.get("/categories", response_model=CategoryList, summary="The complaint categories, in Chinese and English")
async def list_categories(intake: IntakeDep) -> dict[str, Any]:
    return {"items": await intake.routing.categories()}
