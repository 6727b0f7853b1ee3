"""Idempotency-Key on writes: the first answer is stored with the write and replayed for repeats."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import orjson
import sqlalchemy as sa

from gis_service.auth import Principal
from gis_service.features.errors import BadRequest, Conflict

MAX_KEY = 200
KEY_PATTERN = f"^[!-~]{{1,{MAX_KEY}}}$"
KEY = re.compile(KEY_PATTERN)


@dataclass
class Answer:
    """A stored first answer: status, headers and body."""

    status: int
    headers: dict[str, str]
    body: bytes | None


@dataclass
class Request:
    """What identifies a write: the caller's key, the method, the path and the body's hash."""

    key: str
    method: str
    path: str
    body_hash: str


def describe(key: str | None, method: str, path: str, body: bytes) -> Request | None:
    """The idempotent request, or None without a key (400 for a malformed key)."""
    if key is None:
        return None
    if not KEY.match(key):
        raise BadRequest(f"Idempotency-Key must be 1 to {MAX_KEY} visible ASCII characters")
    digest = hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()
    return Request(key, method, path, digest)


def find(conn: sa.Connection, principal: Principal, request: Request) -> Answer | None:
    """Wait for any write with the same key, then return its stored answer (409 if it differs)."""
    conn.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:lock, 34))"),
        {"lock": f"idempotency:{principal.user_id}:{request.key}"},
    )
    row = conn.execute(
        sa.text(
            "SELECT method, path, body_hash, status, headers, body FROM idempotency_key "
            "WHERE user_id = :uid AND key = :key"
        ),
        {"uid": principal.user_id, "key": request.key},
    ).first()
    if row is None:
        return None
    if (row.method, row.path, row.body_hash) != (request.method, request.path, request.body_hash):
        raise Conflict(
            "this Idempotency-Key was used for another request; use a new key for a new write"
        )
    body = bytes(row.body) if row.body is not None else None
    return Answer(int(row.status), {str(k): str(v) for k, v in row.headers.items()}, body)


def store(conn: sa.Connection, principal: Principal, request: Request, answer: Answer) -> None:
    """Keep the first answer, in the same transaction as the write."""
    conn.execute(
        sa.text(
            "INSERT INTO idempotency_key (user_id, key, method, path, body_hash, status, headers, "
            "body) VALUES (:uid, :key, :method, :path, :hash, :status, CAST(:headers AS jsonb), "
            ":body)"
        ),
        {
            "uid": principal.user_id,
            "key": request.key,
            "method": request.method,
            "path": request.path,
            "hash": request.body_hash,
            "status": answer.status,
            "headers": orjson.dumps(answer.headers).decode(),
            "body": answer.body,
        },
    )
