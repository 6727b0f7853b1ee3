"""Every answer a test server gives is checked against the app's own OpenAPI document.

The live servers of the suite run behind `Recorder`; after each test, `violations` checks what
they answered: a status the operation does not declare, a media type it does not declare for
that status, a required header missing, a JSON body that breaks the declared schema, a 405
without `Allow`. So a route whose declared responses differ from what it answers fails the
first test that makes it answer, whatever client the test uses (httpx, GDAL, Chromium).
"""

from __future__ import annotations

import gzip
import re
import threading
from dataclasses import dataclass
from typing import Any

import orjson
import zstandard
from fastapi import FastAPI
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.types import Message, Receive, Scope, Send

from gis_service.api.routes import api_routes, original

MAX_CHECKED_BODY = 16 * 1024 * 1024  # bigger JSON bodies are checked for status and type only
MAX_KEPT_BYTES = 256 * 1024 * 1024  # bodies kept until the test ends, beyond: status and type
DOCUMENT_URI = "urn:gis-service:openapi"


@dataclass
class Exchange:
    """One answer of the server: what was asked, and what came back."""

    method: str
    path: str
    route: str | None
    status: int
    headers: dict[str, str]
    body: bytes | None  # None: not kept (too large, or not JSON)
    had_body: bool


class Recorder:
    """ASGI middleware keeping each answer's status, headers and (JSON) body for checking."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.exchanges: list[Exchange] = []
        self.kept = 0
        self.lock = threading.Lock()
        self._checker: DocumentChecker | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request through, keeping a copy of the answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []
        size = [0]

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                size[0] += len(body)
                if size[0] <= MAX_CHECKED_BODY:
                    chunks.append(body)
            await send(message)

        await self.app(scope, receive, keep)
        if not start:
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in start["headers"]}
        route = scope.get("route")
        kept = b"".join(chunks) if size[0] <= MAX_CHECKED_BODY else None
        coding = headers.get("content-encoding")
        if kept is not None and coding == "gzip":
            kept = gzip.decompress(kept)  # what the client reads
        elif kept is not None and coding == "zstd":
            kept = zstandard.ZstdDecompressor().decompressobj().decompress(kept)
        exchange = Exchange(
            scope["method"],
            scope["path"],
            getattr(route, "path_format", None) or getattr(route, "path", None),
            int(start["status"]),
            headers,
            kept if kept is None or is_json(headers.get("content-type", "")) else None,
            size[0] > 0,
        )
        with self.lock:
            if exchange.body is not None and self.kept + len(exchange.body) > MAX_KEPT_BYTES:
                exchange.body = None
            self.kept += len(exchange.body or b"")
            self.exchanges.append(exchange)

    def drain(self) -> list[Exchange]:
        """The answers recorded since the last call."""
        with self.lock:
            found, self.exchanges, self.kept = self.exchanges, [], 0
        return found

    def violations(self) -> list[str]:
        """What the answers since the last call broke of the document (one line each)."""
        exchanges = self.drain()
        if not exchanges:
            return []
        if self._checker is None:
            self._checker = checker_for(self.app)
        return [line for exchange in exchanges for line in self._checker.check(exchange)]


RECORDERS: list[Recorder] = []
CHECKERS: dict[tuple[object, ...], DocumentChecker] = {}


def checker_for(app: FastAPI) -> DocumentChecker:
    """The checker of an app's document (apps made of the same routes share one)."""
    key = (app.title, app.version, *(id(original(route)) for route in api_routes(app)))
    if key not in CHECKERS:
        CHECKERS[key] = DocumentChecker(app.openapi())
    return CHECKERS[key]


def recorded(app: FastAPI) -> Recorder:
    """The app behind a recorder whose answers are checked after each test."""
    recorder = Recorder(app)
    RECORDERS.append(recorder)
    return recorder


def is_json(content_type: str) -> bool:
    """application/json and the +json types (geo+json, problem+json, ...)."""
    kind = content_type.split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


def escape(part: str) -> str:
    """One JSON pointer token."""
    return part.replace("~", "~0").replace("/", "~1")


class DocumentChecker:
    """Checks answers against one OpenAPI 3.1 document (the app's own)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.paths: dict[str, dict[str, Any]] = document.get("paths", {})
        self.templates = [
            (re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"), path)
            for path in self.paths
        ]
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)
        self.validators: dict[str, Draft202012Validator] = {}

    def documented_path(self, exchange: Exchange) -> str | None:
        """The document's path for this request: its route's template (None for a route the
        document leaves out, e.g. /static), else, when no route took it, a matching template."""
        if exchange.route in self.paths:
            return exchange.route
        if exchange.route is not None and exchange.status != 405:
            return None
        for pattern, path in self.templates:
            if pattern.match(exchange.path):
                return path
        return None

    def check(self, exchange: Exchange) -> list[str]:
        """Each way this answer breaks the document."""
        path = self.documented_path(exchange)
        if path is None:
            return []
        where = f"{exchange.method} {exchange.path} -> {exchange.status}"
        item = self.paths[path]
        if exchange.status == 405:
            return self.check_allow(where, exchange, item)
        operation = item.get(exchange.method.lower())
        if operation is None:
            return []  # a method the document does not list (HEAD of a tile, a fallback)
        responses = operation.get("responses", {})
        key = next(
            (k for k in (str(exchange.status), f"{exchange.status // 100}XX", "default")
             if k in responses),
            None,
        )
        if key is None:
            return [f"{where}: status not declared by {exchange.method} {path} "
                    f"(declared: {', '.join(responses)})"]
        response = responses[key]
        found = [
            f"{where}: header {name} missing"
            for name, spec in response.get("headers", {}).items()
            if spec.get("required") and name.lower() not in exchange.headers
        ]
        return found + self.check_content(where, exchange, path, key, response)

    def check_allow(self, where: str, exchange: Exchange, item: dict[str, Any]) -> list[str]:
        """A 405 names in Allow every method the document lists for the path."""
        allow = {m.strip().upper() for m in exchange.headers.get("allow", "").split(",")}
        listed = {m.upper() for m in item if m in ("get", "put", "post", "patch", "delete")}
        if not exchange.headers.get("allow"):
            return [f"{where}: 405 without Allow"]
        if not listed <= allow or not allow - {"HEAD", "OPTIONS"} <= listed:
            return [f"{where}: Allow {sorted(allow)} differs from documented {sorted(listed)}"]
        return []

    def check_content(
        self, where: str, exchange: Exchange, path: str, key: str, response: dict[str, Any]
    ) -> list[str]:
        """The media type is declared for the status and a JSON body fits its schema."""
        content: dict[str, Any] = response.get("content", {})
        media = exchange.headers.get("content-type", "").split(";")[0].strip().lower()
        if not exchange.had_body and not content:
            return []
        if not exchange.had_body and exchange.method == "HEAD":
            return []
        declared = next((m for m in content if media_matches(media, m)), None)
        if declared is None:
            return [f"{where}: media type {media or 'none'} not declared "
                    f"(declared: {', '.join(content) or 'no body'})"]
        schema = content[declared].get("schema")
        if schema is None or exchange.body is None:
            return []
        try:
            value = orjson.loads(exchange.body)
        except orjson.JSONDecodeError:
            return [f"{where}: body is not JSON although {media}"]
        pointer = "/".join(
            ["#", "paths", escape(path), exchange.method.lower(), "responses", key, "content",
             escape(declared), "schema"]
        )
        validator = self.validators.get(pointer)
        if validator is None:
            validator = Draft202012Validator(
                {"$ref": f"{DOCUMENT_URI}{pointer}"}, registry=self.registry
            )
            self.validators[pointer] = validator
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))[:3]
        return [
            f"{where}: body breaks the schema at /{'/'.join(map(str, e.path))}: {e.message[:200]}"
            for e in errors
        ]


def media_matches(media: str, declared: str) -> bool:
    """A received media type against a declared one (`image/*` and `*/*` allowed)."""
    declared = declared.split(";")[0].strip().lower()
    if declared in ("*/*", media):
        return True
    return declared.endswith("/*") and media.startswith(declared[:-1])
