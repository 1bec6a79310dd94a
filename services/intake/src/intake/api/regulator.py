"""The regulator's view: the public statistics and scorecards over every case, published or not,
for operators with the ``regulator`` role (admins and operators too); statistics also as CSV.
"""

from __future__ import annotations

import io
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from greenchannel.csv_cells import SafeWriter
from greenchannel.problems import Problem
from intake.api.dependencies import CallerDep
from intake.api.public import MONTH, By, CompanyId, Month, Period, PublicDep, scorecard_body, statistics_body
from intake.api.schemas import Scorecard, StatisticsTable
from intake.domain.principals import Kind, Principal, Role

router = APIRouter(prefix="/v1/regulator", tags=["regulator"])
VIEWERS = (Role.REGULATOR, Role.OPERATOR, Role.ADMIN)
FIGURE_COLUMNS = (
    "received",
    "accepted",
    "rejected",
    "answered",
    "timely_rate",
    "relief_rate",
    "satisfaction",
    "appeal_rate",
    "median_handling_days",
)


def regulator(principal: CallerDep) -> Principal:
    if principal is None:
        raise Problem(401, "unauthorized", "Sign in first.", headers={"WWW-Authenticate": "Bearer"})
    if principal.kind is not Kind.OPERATOR or not any(principal.has_role(role) for role in VIEWERS):
        raise Problem(403, "forbidden", "This view is open to regulators only.")
    return principal


RegulatorDep = Annotated[Principal, Depends(regulator)]


def as_csv(body: dict[str, Any]) -> str:
    """One line per row and one for the totals; reasons for rejection as one JSON object per line."""
    out = io.StringIO()
    writer = SafeWriter(out, lineterminator="\n")  # no text cell starts a formula
    writer.writerow(["key", "label_zh", "label_en", *FIGURE_COLUMNS, "rejected_by_reason"])
    for row in [*body["rows"], {"key": "total", "label_zh": "合计", "label_en": "Total", **body["totals"]}]:
        writer.writerow(
            [
                row["key"],
                row["label_zh"],
                row["label_en"],
                *("" if row[column] is None else row[column] for column in FIGURE_COLUMNS),
                json.dumps(row["rejected_by_reason"], ensure_ascii=False, sort_keys=True),
            ]
        )
    return out.getvalue()


@router.get(
    "/statistics",
    response_model=StatisticsTable,
    summary="Figures over all complaints, by month, category, company or region",
    # The CSV is answered as a Response of its own, which the response model leaves as it is.
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def regulator_statistics(
    _: RegulatorDep,
    data: PublicDep,
    from_: Annotated[str | None, Query(alias="from", pattern=MONTH)] = None,
    to: Month = None,
    by: By = "month",
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    body = await statistics_body(data, from_, to, by, public_only=False)
    if format == "csv":
        return Response(
            as_csv(body),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="statistics-{by}-{body["from"]}-{body["to"]}.csv"'},
        )
    return body


@router.get(
    "/companies/{company_id}/scorecard",
    response_model=Scorecard,
    summary="A company's scorecard over all its complaints",
)
async def regulator_scorecard(
    _: RegulatorDep, company_id: CompanyId, data: PublicDep, period: Period = None
) -> dict[str, Any]:
    return await scorecard_body(data, company_id, period, public_only=False)
