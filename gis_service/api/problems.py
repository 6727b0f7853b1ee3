"""RFC 9457 problem details: the one place domain errors become HTTP answers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis_service.errors import DatabaseUnavailable, GisServiceError, InvalidInput

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    """Map domain, validation, HTTP and database errors to problem+json answers."""

    @app.exception_handler(GisServiceError)
    async def domain_error(_request: Request, exc: GisServiceError) -> JSONResponse:
        extra: dict[str, Any] = {}
        if isinstance(exc, InvalidInput) and exc.errors:
            extra["errors"] = exc.errors
        return problem(exc.status_code, exc.title, str(exc), **extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "message": str(err.get("msg", "")),
            }
            for err in exc.errors()
        ]
        return problem(422, "Invalid input", "the request does not follow the rules", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), str(exc.detail))

    @app.exception_handler(OperationalError)
    async def database_down(_request: Request, exc: OperationalError) -> JSONResponse:
        error = DatabaseUnavailable("the database is not reachable; try again shortly")
        return problem(error.status_code, error.title, str(error))

    @app.exception_handler(DBAPIError)
    async def database_error(_request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return problem(503, "Database unavailable", "the database connection was lost")
        return problem(500, "Internal error", "the database refused the operation")
