"""Machine-readable error bodies (RFC 9457 problem details) for every 4xx the services answer.

Every error a client can cause answers ``application/problem+json`` with a stable ``code`` it can
branch on, a human ``detail``, and for validation errors the list of fields to fix. Unexpected
failures answer 500 with no internals.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pymongo.errors import PyMongoError
from starlette.exceptions import HTTPException as StarletteHTTPException

from greenchannel.mongo import is_unavailable

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """Raise from any layer to answer a problem document with ``status`` and ``code``."""

    def __init__(
        self, status: int, code: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
        self.extra = extra


def problem_response(
    status: int, code: str, detail: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {
        "type": f"urn:greenchannel:problem:{code}",
        "title": code.replace("_", " "),
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def http_error_response(error: StarletteHTTPException) -> JSONResponse:
    """The problem document of an HTTP error the framework raised (an unknown path, a method not allowed)."""
    code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(error.status_code, "http_error")
    return problem_response(error.status_code, code, str(error.detail), headers=error.headers)


def _field_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    fields = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ()) if part != "body"]
        fields.append({"field": ".".join(location), "message": str(item.get("msg", "")), "type": item.get("type")})
    return fields


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(_: Request, error: Problem) -> JSONResponse:
        return problem_response(error.status, error.code, error.detail, headers=error.headers, **error.extra)

    @app.exception_handler(RequestValidationError)
    async def on_validation(_: Request, error: RequestValidationError) -> JSONResponse:
        return problem_response(422, "validation_failed", "The request has fields to fix.", errors=_field_errors(error))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return http_error_response(error)

    @app.exception_handler(PyMongoError)
    async def on_store_error(_: Request, error: PyMongoError) -> JSONResponse:
        # The store away (or failing over) is not the client's fault and not a bug: 503, try again.
        if is_unavailable(error):
            return problem_response(
                503,
                "store_unavailable",
                "The service's store does not answer; try again shortly.",
                headers={"Retry-After": "5"},
            )
        log.error("store error", exc_info=error)
        return problem_response(500, "internal_error", "The server could not complete the request.")

    @app.exception_handler(Exception)
    async def on_unexpected(_: Request, error: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=error)
        return problem_response(500, "internal_error", "The server could not complete the request.")


PROBLEM_SCHEMA = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status", "code", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string", "description": "Stable and machine-readable: branch on this."},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}, "type": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}


def document_problems(app: FastAPI) -> None:
    """Publish what the services really answer on errors: problem documents, not FastAPI's default shape."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas["Problem"] = PROBLEM_SCHEMA
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
            problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
            for item in schema.get("paths", {}).values():
                for operation in item.values():
                    responses = operation.setdefault("responses", {})
                    for status, response in responses.items():
                        if status[0] in "45":
                            response["content"] = problem
                    responses.setdefault(
                        "4XX", {"description": "A problem document; `code` says which.", "content": problem}
                    )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend its schema
