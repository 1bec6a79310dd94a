import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.company_inbox_page import CompanyInboxPage
from ...models.problem import Problem
from ...models.status import Status
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
    status: None | Status | Unset = UNSET,
    category: None | str | Unset = UNSET,
    overdue: bool | None | Unset = UNSET,
    appealed: bool | None | Unset = UNSET,
    collective: bool | None | Unset = UNSET,
    due_within: int | None | Unset = UNSET,
    number: None | str | Unset = UNSET,
    submitted_from: datetime.date | None | Unset = UNSET,
    submitted_to: datetime.date | None | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    json_cursor: None | str | Unset
    if isinstance(cursor, Unset):
        json_cursor = UNSET
    else:
        json_cursor = cursor
    params["cursor"] = json_cursor

    json_status: None | str | Unset
    if isinstance(status, Unset):
        json_status = UNSET
    elif isinstance(status, Status):
        json_status = status.value
    else:
        json_status = status
    params["status"] = json_status

    json_category: None | str | Unset
    if isinstance(category, Unset):
        json_category = UNSET
    else:
        json_category = category
    params["category"] = json_category

    json_overdue: bool | None | Unset
    if isinstance(overdue, Unset):
        json_overdue = UNSET
    else:
        json_overdue = overdue
    params["overdue"] = json_overdue

    json_appealed: bool | None | Unset
    if isinstance(appealed, Unset):
        json_appealed = UNSET
    else:
        json_appealed = appealed
    params["appealed"] = json_appealed

    json_collective: bool | None | Unset
    if isinstance(collective, Unset):
        json_collective = UNSET
    else:
        json_collective = collective
    params["collective"] = json_collective

    json_due_within: int | None | Unset
    if isinstance(due_within, Unset):
        json_due_within = UNSET
    else:
        json_due_within = due_within
    params["due_within"] = json_due_within

    json_number: None | str | Unset
    if isinstance(number, Unset):
        json_number = UNSET
    else:
        json_number = number
    params["number"] = json_number

    json_submitted_from: None | str | Unset
    if isinstance(submitted_from, Unset):
        json_submitted_from = UNSET
    elif isinstance(submitted_from, datetime.date):
        json_submitted_from = submitted_from.isoformat()
    else:
        json_submitted_from = submitted_from
    params["submitted_from"] = json_submitted_from

    json_submitted_to: None | str | Unset
    if isinstance(submitted_to, Unset):
        json_submitted_to = UNSET
    elif isinstance(submitted_to, datetime.date):
        json_submitted_to = submitted_to.isoformat()
    else:
        json_submitted_to = submitted_to
    params["submitted_to"] = json_submitted_to

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/company/complaints",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> CompanyInboxPage | Problem | None:
    if response.status_code == 200:
        response_200 = CompanyInboxPage.from_dict(response.json())

        return response_200

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if 400 <= response.status_code <= 499:
        response_4xx = Problem.from_dict(response.json())

        return response_4xx

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[CompanyInboxPage | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
    status: None | Status | Unset = UNSET,
    category: None | str | Unset = UNSET,
    overdue: bool | None | Unset = UNSET,
    appealed: bool | None | Unset = UNSET,
    collective: bool | None | Unset = UNSET,
    due_within: int | None | Unset = UNSET,
    number: None | str | Unset = UNSET,
    submitted_from: datetime.date | None | Unset = UNSET,
    submitted_to: datetime.date | None | Unset = UNSET,
) -> Response[CompanyInboxPage | Problem]:
    """Complaints forwarded to this company, newest first, filtered

    Args:
        limit (int | Unset):  Default: 20.
        cursor (None | str | Unset):
        status (None | Status | Unset):
        category (None | str | Unset):
        overdue (bool | None | Unset):
        appealed (bool | None | Unset):
        collective (bool | None | Unset): Part of a collective complaint (集体投诉).
        due_within (int | None | Unset): Awaiting the answer and due within this many working
            days, today being the first.
        number (None | str | Unset): A complaint number, or its start.
        submitted_from (datetime.date | None | Unset):
        submitted_to (datetime.date | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CompanyInboxPage | Problem]
    """

    kwargs = _get_kwargs(
        limit=limit,
        cursor=cursor,
        status=status,
        category=category,
        overdue=overdue,
        appealed=appealed,
        collective=collective,
        due_within=due_within,
        number=number,
        submitted_from=submitted_from,
        submitted_to=submitted_to,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
    status: None | Status | Unset = UNSET,
    category: None | str | Unset = UNSET,
    overdue: bool | None | Unset = UNSET,
    appealed: bool | None | Unset = UNSET,
    collective: bool | None | Unset = UNSET,
    due_within: int | None | Unset = UNSET,
    number: None | str | Unset = UNSET,
    submitted_from: datetime.date | None | Unset = UNSET,
    submitted_to: datetime.date | None | Unset = UNSET,
) -> CompanyInboxPage | Problem | None:
    """Complaints forwarded to this company, newest first, filtered

    Args:
        limit (int | Unset):  Default: 20.
        cursor (None | str | Unset):
        status (None | Status | Unset):
        category (None | str | Unset):
        overdue (bool | None | Unset):
        appealed (bool | None | Unset):
        collective (bool | None | Unset): Part of a collective complaint (集体投诉).
        due_within (int | None | Unset): Awaiting the answer and due within this many working
            days, today being the first.
        number (None | str | Unset): A complaint number, or its start.
        submitted_from (datetime.date | None | Unset):
        submitted_to (datetime.date | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CompanyInboxPage | Problem
    """

    return sync_detailed(
        client=client,
        limit=limit,
        cursor=cursor,
        status=status,
        category=category,
        overdue=overdue,
        appealed=appealed,
        collective=collective,
        due_within=due_within,
        number=number,
        submitted_from=submitted_from,
        submitted_to=submitted_to,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
    status: None | Status | Unset = UNSET,
    category: None | str | Unset = UNSET,
    overdue: bool | None | Unset = UNSET,
    appealed: bool | None | Unset = UNSET,
    collective: bool | None | Unset = UNSET,
    due_within: int | None | Unset = UNSET,
    number: None | str | Unset = UNSET,
    submitted_from: datetime.date | None | Unset = UNSET,
    submitted_to: datetime.date | None | Unset = UNSET,
) -> Response[CompanyInboxPage | Problem]:
    """Complaints forwarded to this company, newest first, filtered

    Args:
        limit (int | Unset):  Default: 20.
        cursor (None | str | Unset):
        status (None | Status | Unset):
        category (None | str | Unset):
        overdue (bool | None | Unset):
        appealed (bool | None | Unset):
        collective (bool | None | Unset): Part of a collective complaint (集体投诉).
        due_within (int | None | Unset): Awaiting the answer and due within this many working
            days, today being the first.
        number (None | str | Unset): A complaint number, or its start.
        submitted_from (datetime.date | None | Unset):
        submitted_to (datetime.date | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CompanyInboxPage | Problem]
    """

    kwargs = _get_kwargs(
        limit=limit,
        cursor=cursor,
        status=status,
        category=category,
        overdue=overdue,
        appealed=appealed,
        collective=collective,
        due_within=due_within,
        number=number,
        submitted_from=submitted_from,
        submitted_to=submitted_to,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
    status: None | Status | Unset = UNSET,
    category: None | str | Unset = UNSET,
    overdue: bool | None | Unset = UNSET,
    appealed: bool | None | Unset = UNSET,
    collective: bool | None | Unset = UNSET,
    due_within: int | None | Unset = UNSET,
    number: None | str | Unset = UNSET,
    submitted_from: datetime.date | None | Unset = UNSET,
    submitted_to: datetime.date | None | Unset = UNSET,
) -> CompanyInboxPage | Problem | None:
    """Complaints forwarded to this company, newest first, filtered

    Args:
        limit (int | Unset):  Default: 20.
        cursor (None | str | Unset):
        status (None | Status | Unset):
        category (None | str | Unset):
        overdue (bool | None | Unset):
        appealed (bool | None | Unset):
        collective (bool | None | Unset): Part of a collective complaint (集体投诉).
        due_within (int | None | Unset): Awaiting the answer and due within this many working
            days, today being the first.
        number (None | str | Unset): A complaint number, or its start.
        submitted_from (datetime.date | None | Unset):
        submitted_to (datetime.date | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CompanyInboxPage | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            cursor=cursor,
            status=status,
            category=category,
            overdue=overdue,
            appealed=appealed,
            collective=collective,
            due_within=due_within,
            number=number,
            submitted_from=submitted_from,
            submitted_to=submitted_to,
        )
    ).parsed
