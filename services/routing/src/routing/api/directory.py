"""The company directory and the complaint categories; operators add and correct companies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from greenchannel.problems import Problem
from routing.api.dependencies import Categories, Companies, DirectoryEditingDependency, Operator
from routing.domain.categories import Category
from routing.domain.directory import COMPANY_ID_PATTERN, Company

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
        Query(
            max_length=200,
            pattern=r"^[^\x00-\x1f\x7f]*$",
            description="Text found in a name, alias, app name or domain; case and width do not matter.",
        ),
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


class CompanyFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    aliases: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list, max_length=50)
    apps: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list, max_length=50)
    domains: list[Annotated[str, Field(min_length=3, max_length=253)]] = Field(default_factory=list, max_length=50)
    user_base_millions: float | None = Field(default=None, ge=0)


@router.put("/companies/{company_id}", response_model=Company, summary="Add or correct a company (operators)")
async def save_company(
    directory: DirectoryEditingDependency,
    _: Operator,
    body: CompanyFields,
    response: Response,
    company_id: Annotated[str, Path(pattern=COMPANY_ID_PATTERN)],
) -> Company:
    company = Company(id=company_id, **body.model_dump())
    if await directory.save(company):
        response.status_code = 201
    return company


@router.get("/categories", response_model=CategoryList, summary="The complaint categories")
async def list_categories(categories: Categories) -> CategoryList:
    return CategoryList(items=categories)
