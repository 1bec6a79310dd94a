"""The company directory and the complaint categories, read-only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from greenchannel.problems import Problem
from pydantic import BaseModel

from routing.api.dependencies import Categories, Companies
from routing.domain.categories import Category
from routing.domain.directory import Company

router = APIRouter(prefix="/v1", tags=["directory"])


class CompanyList(BaseModel):
    items: list[Company]


class CategoryList(BaseModel):
    items: list[Category]


@router.get("/companies", response_model=CompanyList, summary="Search the company directory")
async def search_companies(
    companies: Companies,
    q: Annotated[
        str,
        Query(max_length=200, description="Text found in a name, alias, app name or domain; case and width do not matter."),
    ] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> CompanyList:
    return CompanyList(items=await companies.search(q, limit))


@router.get("/companies/{company_id}", response_model=Company, summary="One company of the directory")
async def get_company(companies: Companies, company_id: Annotated[str, Path(max_length=100)]) -> Company:
    company = await companies.get(company_id)
    if company is None:
        raise Problem(404, "company_not_found", f"No company with id {company_id!r} is in the directory.")
    return company


@router.get("/categories", response_model=CategoryList, summary="The complaint categories")
async def list_categories(categories: Categories) -> CategoryList:
    return CategoryList(items=categories)

