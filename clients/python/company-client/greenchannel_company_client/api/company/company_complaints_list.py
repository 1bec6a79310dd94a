import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.complaint_page import ComplaintPage
from ...models.problem import Problem
from ...models.status import Status
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    status: None | Status | Unset = UNSET,
    submitted_from: datetime.date | None | Unset = UNSET,
    submitted_to: datetime.date | None | Unset = UNSET,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_status: None | str | Unset
    if isinstance(status, Unset):
        json_status = UNSET
    elif isinstance(status, Status):
        json_status = status.value
    else:
        json_status = status
    params["status"] = json_status

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

    params["limit"] = limit

    json_cursor: None | str | Unset
    if isinstance(cursor, Unset):
        json_cursor = UNSET
    else:
        json_cursor = cursor
    params["cursor"] = json_cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/company/complaints",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ComplaintPage | Problem | None:
    if response.status_code == 200:
        response_200 = ComplaintPage.from_dict(response.json())

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
) -> Response[ComplaintPage | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    status: None | Status | Unset = UNSET,
    submitted_from: datetime.date | None | Unset = UNSET,
    submitted_to: datetime.date | None | Unset = UNSET,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
) -> Response[ComplaintPage | Problem]:
    """Complaints forwarded to this company, newest first

    Args:
        status (None | Status | Unset):
        submitted_from (datetime.date | None | Unset):
        submitted_to (datetime.date | None | Unset):
        limit (int | Unset):  Default: 20.
        cursor (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ComplaintPage | Problem]
    """

    kwargs = _get_kwargs(
        status=status,
        submitted_from=submitted_from,
        submitted_to=submitted_to,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    status: None | Status | Unset = UNSET,
    submitted_from: datetime.date | None | Unset = UNSET,
    submitted_to: datetime.date | None | Unset = UNSET,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
) -> ComplaintPage | Problem | None:
    """Complaints forwarded to this company, newest first

    Args:
        status (None | Status | Unset):
        submitted_from (datetime.date | None | Unset):
        submitted_to (datetime.date | None | Unset):
        limit (int | Unset):  Default: 20.
        cursor (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ComplaintPage | Problem
    """

    return sync_detailed(
        client=client,
        status=status,
        submitted_from=submitted_from,
        submitted_to=submitted_to,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    status: None | Status | Unset = UNSET,
    submitted_from: datetime.date | None | Unset = UNSET,
    submitted_to: datetime.date | None | Unset = UNSET,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
) -> Response[ComplaintPage | Problem]:
    """Complaints forwarded to this company, newest first

    Args:
        status (None | Status | Unset):
        submitted_from (datetime.date | None | Unset):
        submitted_to (datetime.date | None | Unset):
        limit (int | Unset):  Default: 20.
        cursor (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ComplaintPage | Problem]
    """

    kwargs = _get_kwargs(
        status=status,
        submitted_from=submitted_from,
        submitted_to=submitted_to,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    status: None | Status | Unset = UNSET,
    submitted_from: datetime.date | None | Unset = UNSET,
    submitted_to: datetime.date | None | Unset = UNSET,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
) -> ComplaintPage | Problem | None:
    """Complaints forwarded to this company, newest first

    Args:
        status (None | Status | Unset):
        submitted_from (datetime.date | None | Unset):
        submitted_to (datetime.date | None | Unset):
        limit (int | Unset):  Default: 20.
        cursor (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ComplaintPage | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            status=status,
            submitted_from=submitted_from,
            submitted_to=submitted_to,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
