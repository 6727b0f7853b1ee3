"""RFC 9457 problem details: the one place domain errors become HTTP answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis_service.api.routes import flat_routes
from gis_service.errors import (
    Busy,
    ConfigError,
    DatabaseNotReady,
    DatabaseUnavailable,
    Forbidden,
    GisServiceError,
    InstallationIncomplete,
    InvalidInput,
    NotFound,
    PortInUse,
    PostgisMissing,
    StepRefused,
    TooManyAttempts,
    Unauthorized,
)
from gis_service.features.errors import (
    BadRequest,
    Conflict,
    MethodNotAllowed,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    UnsupportedMediaType,
)
from gis_service.ingest.report import ImportRejected

PROBLEM_JSON = "application/problem+json"
STATUSES: dict[type[GisServiceError], tuple[int, str]] = {
    GisServiceError: (500, "Internal error"),
    ConfigError: (500, "Configuration error"),
    PortInUse: (500, "Port in use"),
    DatabaseUnavailable: (503, "Database unavailable"),
    PostgisMissing: (503, "PostGIS missing"),
    DatabaseNotReady: (503, "Database not ready"),
    InstallationIncomplete: (503, "Installation incomplete"),
    BadRequest: (400, "Bad request"),
    Unauthorized: (401, "Unauthorized"),
    Forbidden: (403, "Forbidden"),
    NotFound: (404, "Not found"),
    MethodNotAllowed: (405, "Method not allowed"),
    Conflict: (409, "Conflict"),
    StepRefused: (409, "Step refused"),
    PreconditionFailed: (412, "Precondition failed"),
    PayloadTooLarge: (413, "Payload too large"),
    UnsupportedMediaType: (415, "Unsupported media type"),
    InvalidInput: (422, "Invalid input"),
    PreconditionRequired: (428, "Precondition required"),
    TooManyAttempts: (429, "Too many attempts"),
    Busy: (503, "Busy"),
}
"""The HTTP status and title of each domain error (the nearest class listed answers)."""
RETRY_AFTER_S: dict[type[GisServiceError], int] = {
    DatabaseUnavailable: 5,  # "try again shortly": the pool reconnects
    Busy: 60,  # "try again in a minute": a report's rendering slot
}
"""How long a refusal for now tells the client to wait (Retry-After, seconds): errors of these
very classes only (a database not ready, or PostGIS missing, waits for its operator)."""


def status_of(exc: GisServiceError) -> tuple[int, str]:
    """The status and title a domain error is answered with."""
    if isinstance(exc, ImportRejected):
        status = SQLSTATE_ANSWERS.get(exc.sqlstate or "", (422,))[0]
        return status, "Conflict" if status == 409 else "Import rejected"
    for kind in type(exc).__mro__:
        if kind in STATUSES:
            return STATUSES[kind]
    return STATUSES[GisServiceError]


def problem(
    status: int, title: str, detail: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """A problem+json response (401 answers carry the bearer challenge)."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    all_headers = dict(headers or {})
    if status == 401:
        all_headers.setdefault("WWW-Authenticate", 'Bearer realm="gis-service"')
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=all_headers)


def install_problem_handlers(app: FastAPI) -> None:
    """Map domain, validation, HTTP and database errors to problem+json answers."""

    @app.exception_handler(GisServiceError)
    async def domain_error(request: Request, exc: GisServiceError) -> JSONResponse:
        note_cause(request, exc.__cause__ or exc)
        status, title = status_of(exc)
        extra: dict[str, Any] = {}
        if isinstance(exc, InvalidInput) and exc.errors:
            extra["errors"] = exc.errors
        if isinstance(exc, ImportRejected):
            extra["errors"] = [
                {"row": e.row, "field": e.field, "message": e.message} for e in exc.report.rejected
            ]
            extra["report"] = exc.report.as_dict()
        if isinstance(exc, StepRefused):
            extra.update(exc.details)
        headers = dict(allow(request, status))
        if isinstance(exc, PreconditionFailed) and exc.etag is not None:
            headers["ETag"] = exc.etag  # the version now, with the feature: no second read
            headers["Content-Crs"] = f"<{exc.crs}>"  # of `current`
            extra["current"] = exc.current
        if isinstance(exc, TooManyAttempts):
            headers["Retry-After"] = str(exc.retry_after)
        headers.update(retry_after(type(exc)))
        return problem(status, title, str(exc), headers, **extra)

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
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = {**(exc.headers or {}), **allow(request, exc.status_code)}
        return problem(exc.status_code, str(exc.detail), str(exc.detail), headers=headers)

    @app.exception_handler(OperationalError)
    async def database_down(request: Request, exc: OperationalError) -> JSONResponse:
        note_cause(request, exc.orig or exc)
        if getattr(exc.orig, "sqlstate", None) in SQLSTATE_ANSWERS:
            return database_refusal(request, exc)  # the database is up: a timeout, writers met
        error = DatabaseUnavailable("the database is not reachable; try again shortly")
        return problem(*status_of(error), str(error), retry_after(DatabaseUnavailable))

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        note_cause(request, exc.orig or exc)
        if exc.connection_invalidated:
            return problem(503, "Database unavailable", "the database connection was lost",
                           retry_after(DatabaseUnavailable))  # fmt: skip
        return database_refusal(request, exc)


def retry_after(kind: type[GisServiceError]) -> dict[str, str]:
    """The Retry-After header of a refusal for now of this kind (none for others)."""
    seconds = RETRY_AFTER_S.get(kind)
    return {"Retry-After": str(seconds)} if seconds else {}


def note_cause(request: Request, exc: BaseException) -> None:
    """Keep the error's first line for the request log (logged only for answers of 500 and up)."""
    lines = str(exc).strip().splitlines()
    request.state.cause = f"{type(exc).__name__}: {lines[0] if lines else ''}"


def allow(request: Request, status: int) -> dict[str, str]:
    """The Allow header of a 405: every method some route answers at this path (RFC 9110)."""
    if status != 405:
        return {}
    return {"Allow": ", ".join(allowed_methods(request.app, request.url.path))}


def allowed_methods(app: Any, path: str) -> list[str]:
    """Methods of the resource at a path: the routes of the first documented template it matches.

    Catch-all fallbacks (undocumented) count only where no documented route matches.
    """
    matching = [
        route
        for route in flat_routes(app)
        if getattr(route, "methods", None)
        and getattr(route, "path_regex", None) is not None
        and route.path_regex.match(path)
    ]
    documented = [r for r in matching if getattr(r, "include_in_schema", True)] or matching
    if not documented:
        return []
    template = documented[0].path_format
    same = [r for r in matching if r.path_format == template]
    methods: set[str] = set().union(*(r.methods for r in same if r in documented))
    if "GET" in methods and any("HEAD" in r.methods for r in same):
        methods.add("HEAD")
    order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return sorted(methods, key=lambda m: (order.index(m) if m in order else len(order), m))


MET = (409, "Conflict", "another write to the same records was under way at the same moment "
       "and this one was rolled back; send it again")
"""The answer to a write the database rolled back because it met another one."""
SQLSTATE_ANSWERS = {  # psycopg raises 57014, 40P01 and 40001 as operational errors
    "42501": (403, "Forbidden", "your role may not do this here"),
    "23514": (422, "Invalid input", "the values break a rule of the data"),
    "23503": (422, "Invalid input", "a referenced record does not exist"),
    "23505": (409, "Conflict", "a record with these values exists already"),
    "23502": (422, "Invalid input", "a required value is missing"),
    "22P02": (422, "Invalid input", "a value has the wrong form"),
    "57014": (503, "Query timeout", "the query took too long and was stopped"),
    "25006": (503, "Database read-only", "the database takes no writes now (an action that "
              "must be audited waits for it); try again later"),
    "40P01": MET,  # deadlock
    "40001": MET,  # serialization failure
}
TYPE_ERRORS = ("42804", "42883", "42725", "42P18")
"""Datatype mismatch, no such operator, ambiguous function, untyped parameter."""


def filter_refusal(request: Request, state: str, exc: DBAPIError) -> JSONResponse | None:
    """400 for a data or type error of a request with a CQL2 filter (the filter is the input)."""
    if "filter" not in request.query_params:
        return None
    if not (state.startswith("22") or state in TYPE_ERRORS):
        return None
    diag = getattr(exc.orig, "diag", None)
    reason = getattr(diag, "message_primary", None) or "the database cannot evaluate it"
    return problem(400, "Bad request", f"filter: {reason}")


def database_refusal(request: Request, exc: DBAPIError) -> JSONResponse:
    """Turn what the database refused into a 4xx (or 503) problem, never a 500 for input."""
    state = getattr(exc.orig, "sqlstate", None) or ""
    diag = getattr(exc.orig, "diag", None)
    principal = getattr(request.state, "principal", None)
    if state == "42501" and principal is not None and principal.is_anonymous:
        return problem(401, "Unauthorized", "sign in: this needs a bearer token")
    refused_filter = filter_refusal(request, state, exc)
    if refused_filter is not None:
        return refused_filter
    if state not in SQLSTATE_ANSWERS and (state.startswith("22") or isinstance(exc, DataError)):
        state = "22P02"  # a data exception: the value itself is malformed or out of range
    if state in SQLSTATE_ANSWERS:
        status, title, detail = SQLSTATE_ANSWERS[state]
        extra: dict[str, Any] = {}
        constraint = getattr(diag, "constraint_name", None)
        column = getattr(diag, "column_name", None)
        if constraint or column:
            extra["errors"] = [
                {"field": column or constraint, "message": detail, "constraint": constraint}
            ]
        return problem(status, title, detail, **extra)
    return problem(500, "Internal error", "the database refused the operation")
