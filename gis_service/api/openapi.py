"""The app's OpenAPI document, generated in one place from the routes (and the catalog's schemas).

Routers declare what only they know: their successes (media types, schemas, headers) and the
errors their handlers raise (`errors(403, 404)`). What a route's machinery answers on its own is
derived here from its dependencies, so no route can forget it: 401 where the caller is
authenticated, 403 and 503 where SQL runs in the caller's role, 422 where FastAPI validates
parameters, 400 for a body that is not JSON, 413/415 for bounded bodies. Every error answer is
RFC 9457 problem+json with the one `Problem` schema. `/api` serves the OpenAPI 3.0 form.
"""

from __future__ import annotations

import copy
import http
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi

from gis_service.api import deps
from gis_service.api.http import limited_body
from gis_service.api.problems import PROBLEM_JSON
from gis_service.api.routes import api_routes
from gis_service.features.openapi import BEYOND_SCHEMA, SECURITY, STALE
from gis_service.features.openapi import beyond_schema as beyond_schema
from gis_service.settings import Settings, get_settings

PROBLEM_REF = "#/components/schemas/Problem"
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem details (RFC 9457)",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "a URI naming the problem type"},
        "title": {"type": "string", "description": "short, the same for every such problem"},
        "status": {"type": "integer", "minimum": 100, "maximum": 599},
        "detail": {"type": "string", "description": "what went wrong with this request"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "one entry per rejected field (or imported row)",
            "items": {
                "type": "object",
                "required": ["message"],
                "properties": {
                    "field": {"type": ["string", "null"]},
                    "message": {"type": "string"},
                    "row": {"type": ["integer", "null"]},
                    "constraint": {"type": ["string", "null"]},
                },
            },
        },
        "report": {"type": "object", "description": "an import's report (rows read, rejected)"},
        "current": {"type": "object", "description": "a stale write's feature as it is now (412)"},
    },
}
STATUS_TEXT = {
    400: "Bad request: a malformed body, query or filter",
    401: "A bearer token or session is needed, or the one given is unknown or expired",
    403: "The caller's role or grids do not allow this",
    404: "No such resource",
    409: "Conflicts with the stored state (a duplicate, references, a reused Idempotency-Key)",
    412: STALE,
    413: "The body is larger than the configured limit",
    415: "The body has a media type this operation does not take",
    422: "The input breaks a rule (the problem's `errors` name each field)",
    428: "If-Match is required",
    429: "Too many attempts; wait before trying again",
    503: "The database is unavailable or the query took too long",
}
BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "a token of a demo or real user; without one the caller is anonymous",
}
# What a dependency answers on its own, for every route that uses it (directly or not).
IMPLIED_BY_DEPENDENCY: dict[Callable[..., Any], tuple[int, ...]] = {
    deps.get_principal: (401, 503),
    deps.get_connection: (401, 403, 503),
    deps.get_engine: (503,),
    deps.engine_for: (503,),
    limited_body: (413, 415),
}
LIMIT_MARK = "body limit: "
"""Starts a 413 description naming a setting (the document says the figure in force)."""


def body_limit(setting: str) -> str:
    """A 413's description naming a body limit setting (the app's figure is put in its document)."""
    return f"{LIMIT_MARK}{setting}"


def limit_text(description: str, settings: Settings) -> str:
    """A description with the app's figure for a body limit named by body_limit()."""
    if not description.startswith(LIMIT_MARK):
        return description
    setting = description.removeprefix(LIMIT_MARK)
    limit = getattr(settings, setting)
    return f"The body is larger than {limit} bytes (GIS_{setting.upper()})"


def errors(*codes: int, **texts: str) -> dict[int | str, dict[str, Any]]:
    """Error answers of a route (problem+json is added by the document); `e404="..."` rewords."""
    return {
        code: {"description": texts.get(f"e{code}") or STATUS_TEXT.get(code) or phrase(code)}
        for code in codes
    }


def phrase(code: int) -> str:
    """The HTTP reason phrase of a status code."""
    return http.HTTPStatus(code).phrase


def media(
    *types: str, schema: dict[str, Any] | None = None, description: str = "", **extra: Any
) -> dict[str, Any]:
    """One success answer in the given media types (one schema for all of them)."""
    content = {kind: ({"schema": schema} if schema is not None else {}) for kind in types}
    return {"description": description or "the answer", "content": content, **extra}


def header(description: str, required: bool = True) -> dict[str, Any]:
    """A documented response header (a string)."""
    return {"description": description, "required": required, "schema": {"type": "string"}}


HTML = "text/html"
CSV = "text/csv"
REDIRECT_TO_LOGIN = {
    "description": "Not signed in: to the sign-in page, coming back here afterwards",
    "headers": {"Location": header("/login?next=...")},
}


def sub_dependants(dependant: Dependant) -> Iterator[Dependant]:
    """Every dependency of a route, however deep."""
    for sub in dependant.dependencies:
        yield sub
        yield from sub_dependants(sub)


def dependency_calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    """Every callable a route depends on, however deep."""
    for sub in sub_dependants(dependant):
        if sub.call is not None:
            yield sub.call


def implied_answers(route: Any) -> dict[int, str]:
    """The error statuses a route answers through its dependencies and FastAPI's validation."""
    found: set[int] = set()
    calls = set(dependency_calls(route.dependant))
    for call in calls:
        found.update(IMPLIED_BY_DEPENDENCY.get(call, ()))
    for part in (route.dependant, *sub_dependants(route.dependant)):
        if part.path_params or part.query_params or part.header_params or part.cookie_params:
            found.add(422)
    if route.body_field is not None:
        found.update((400, 422))
    texts = {code: STATUS_TEXT.get(code) or phrase(code) for code in found}
    if limited_body in calls:
        texts[413] = body_limit("max_body_bytes")
    return texts


def authenticates(route: Any) -> bool:
    """Whether the route knows its caller (so a bearer token changes what it answers)."""
    return any(
        call in (deps.get_principal, deps.get_connection)
        for call in dependency_calls(route.dependant)
    )


def problem_content(response: dict[str, Any]) -> dict[str, Any]:
    """An error answer's content: problem+json (other non-JSON pages kept, e.g. HTML forms)."""
    kept = {
        kind: value
        for kind, value in response.get("content", {}).items()
        if kind not in ("application/json", PROBLEM_JSON)
    }
    return {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}, **kept}


def declare_answer(
    app: FastAPI, status: int, description: str, with_body_only: bool = False
) -> None:
    """Declare an answer a middleware gives before any route runs (e.g. 413 for every body).

    It is added to every operation of the app's document, or to every one taking a body.
    """
    found = [*getattr(app.state, "openapi_answers", []), (status, description, with_body_only)]
    app.state.openapi_answers = found


def complete_operation(
    operation: dict[str, Any], route: Any, method: str, middleware: list[tuple[int, str, bool]],
    settings: Settings,
) -> None:  # fmt: skip
    """Add a route's implied answers and security, and problem+json to every error answer."""
    responses = operation.setdefault("responses", {})
    for status, text, with_body_only in middleware:
        if "requestBody" in operation or not with_body_only:
            responses.setdefault(str(status), {"description": text})
    for code, declared in (route.responses or {}).items():
        if str(code)[0] in "23" and "content" in declared:  # the route's own, not FastAPI's guess
            responses[str(code)]["content"] = copy.deepcopy(declared["content"])
    if authenticates(route) and method.upper() not in deps.SAFE_METHODS:
        responses.setdefault("403", {"description": "The session's X-CSRF-Token is missing, "
                                     "or the caller's role or grids do not allow this"})
    for status, rules in operation.get(BEYOND_SCHEMA, {}).items():
        responses.setdefault(status, {"description": STATUS_TEXT.get(int(status), "")})
        listed = "\n".join(f"- {rule}" for rule in rules)
        text = f"Checked beyond the schema ({status} when broken):\n{listed}"
        operation["description"] = f"{operation.get('description', '')}\n\n{text}".strip()
    for code, text in sorted(implied_answers(route).items()):
        responses.setdefault(str(code), {"description": text})
    for code, response in responses.items():
        if code == "413":
            response["description"] = limit_text(response.get("description", ""), settings)
        if code[0] in "45":
            response["content"] = problem_content(response)
            if response.get("description") in (None, "", "Validation Error", phrase(int(code))):
                response["description"] = STATUS_TEXT.get(int(code)) or phrase(int(code))
    if authenticates(route):
        operation.setdefault("security", SECURITY)
    operation["responses"] = dict(sorted(responses.items()))


def build_document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI 3.1 document: routes, their implied answers, the Problem schema."""
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    routes = {
        (route.path_format, method.lower()): route
        for route in api_routes(app)
        if route.include_in_schema
        for method in route.methods
    }
    middleware = getattr(app.state, "openapi_answers", [])
    settings = getattr(app.state, "settings", None) or get_settings()  # an app not from create_app
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if (path, method) in routes:
                complete_operation(
                    operation, routes[(path, method)], method, middleware, settings
                )
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    components.setdefault("securitySchemes", {})["bearerAuth"] = BEARER
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the generated document at /openapi.json (and, as OpenAPI 3.0, at /api)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def to_openapi_30(document: dict[str, Any]) -> dict[str, Any]:
    """The app's OpenAPI 3.1 document rewritten as OpenAPI 3.0.3 (nullable, example, enum)."""
    converted: dict[str, Any] = _convert(copy.deepcopy(document))
    converted["openapi"] = "3.0.3"
    unique_operation_ids(converted)
    return converted


def unique_operation_ids(document: dict[str, Any]) -> None:
    """Make operationIds unique (a route answering two methods shares one in FastAPI)."""
    seen: set[str] = set()
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            name = operation["operationId"]
            if name in seen:
                name = f"{name}_{method}"
                operation["operationId"] = name
            seen.add(name)


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _convert(value) for key, value in node.items()}
    kind = node.get("type")
    if isinstance(kind, list):
        rest = [k for k in kind if k != "null"]
        if "null" in kind:
            node["nullable"] = True
        if len(rest) == 1:
            node["type"] = rest[0]
        else:
            node.pop("type")
            node["anyOf"] = [{"type": k} for k in rest]
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            node.pop(key)
            node["nullable"] = True
            if len(rest) == 1 and "$ref" in rest[0]:
                node["allOf"] = rest
            elif len(rest) == 1:
                node.update(rest[0])
            else:
                node[key] = rest
    if "const" in node and not isinstance(node["const"], dict):
        node["enum"] = [node.pop("const")]
    if isinstance(node.get("examples"), list):
        examples = node.pop("examples")
        if examples:
            node["example"] = examples[0]
    for bound, name in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(bound), int | float) and not isinstance(node[bound], bool):
            node[name] = node[bound]
            node[bound] = True
    node.pop("contentMediaType", None)
    node.pop("$schema", None)
    return node
