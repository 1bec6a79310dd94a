from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.new_note import NewNote
from ...models.note_added import NoteAdded
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    number: str,
    *,
    body: NewNote,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/company/complaints/{number}/notes".format(
            number=quote(str(number), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> NoteAdded | Problem | None:
    if response.status_code == 201:
        response_201 = NoteAdded.from_dict(response.json())

        return response_201

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[NoteAdded | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    number: str,
    *,
    client: AuthenticatedClient,
    body: NewNote,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[NoteAdded | Problem]:
    """Add an internal note only the company sees

    Args:
        number (str):
        idempotency_key (None | str | Unset): Makes a retried POST safe.
        body (NewNote):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[NoteAdded | Problem]
    """

    kwargs = _get_kwargs(
        number=number,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    number: str,
    *,
    client: AuthenticatedClient,
    body: NewNote,
    idempotency_key: None | str | Unset = UNSET,
) -> NoteAdded | Problem | None:
    """Add an internal note only the company sees

    Args:
        number (str):
        idempotency_key (None | str | Unset): Makes a retried POST safe.
        body (NewNote):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        NoteAdded | Problem
    """

    return sync_detailed(
        number=number,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    number: str,
    *,
    client: AuthenticatedClient,
    body: NewNote,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[NoteAdded | Problem]:
    """Add an internal note only the company sees

    Args:
        number (str):
        idempotency_key (None | str | Unset): Makes a retried POST safe.
        body (NewNote):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[NoteAdded | Problem]
    """

    kwargs = _get_kwargs(
        number=number,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    number: str,
    *,
    client: AuthenticatedClient,
    body: NewNote,
    idempotency_key: None | str | Unset = UNSET,
) -> NoteAdded | Problem | None:
    """Add an internal note only the company sees

    Args:
        number (str):
        idempotency_key (None | str | Unset): Makes a retried POST safe.
        body (NewNote):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        NoteAdded | Problem
    """

    return (
        await asyncio_detailed(
            number=number,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
