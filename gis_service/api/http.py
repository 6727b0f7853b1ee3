"""HTTP pieces the routes share: the base URL, ETag matching, bounded bodies, feature answers,
idempotent replays."""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from fastapi import Request, Response

from gis_service.auth import Principal
from gis_service.catalog import Layer
from gis_service.features import access
from gis_service.features import idempotency as idem
from gis_service.features.crs import STORAGE, Crs, reproject
from gis_service.features.errors import (
    PreconditionFailed,
    PreconditionRequired,
    UnsupportedMediaType,
)
from gis_service.features.geojson import GEOJSON, feature_document, link, quote_etag

JSON_TYPES = ("application/json", "application/geo+json", "application/merge-patch+json")


async def limited_body(request: Request) -> bytes:
    """The request body (api/guard.py has refused it with 413 above settings.max_body_bytes)."""
    body = await request.body()
    size = len(body)
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if size and media not in JSON_TYPES:
        raise UnsupportedMediaType(f"send GeoJSON ({', '.join(JSON_TYPES)}), not {media}")
    return body


def base_url(request: Request) -> str:
    """The service root URL as the client reached it, without a trailing slash."""
    return str(request.base_url).rstrip("/")


def etag_matches(header: str | None, etag: str, weak: bool) -> bool:
    """Whether an If-Match (strong) or If-None-Match (weak) header names an entity tag.

    `etag` is the tag as sent (`"v"` or `W/"v"`); `*` matches any current tag (RFC 9110).
    A strong comparison matches no weak tag on either side.
    """
    if not header:
        return False
    if not weak and etag.startswith("W/"):
        return header.strip() == "*"
    for part in header.split(","):
        tag = part.strip()
        if tag == "*":
            return True
        if tag.startswith("W/") and not weak:
            continue
        if tag.removeprefix("W/") == etag.removeprefix("W/"):
            return True
    return False


def item_links(request: Request, layer: Layer, fid: int) -> list[dict[str, str]]:
    """self and collection links of one feature."""
    root = f"{base_url(request)}/collections/{layer.id}"
    return [
        link(f"{root}/items/{fid}", "self", GEOJSON, "this feature"),
        link(root, "collection", "application/json", layer.title.en),
    ]


def answer(
    request: Request,
    layer: Layer,
    fid: int,
    current: access.Current,
    status: int,
    crs: Crs = STORAGE,
) -> Response:
    """A feature answer with its ETag and Content-Crs (and Location when created)."""
    headers = {"ETag": quote_etag(current.etag), "Content-Crs": f"<{crs.uri}>"}
    if status == 201:
        headers["Location"] = f"{base_url(request)}/collections/{layer.id}/items/{fid}"
    content = feature_body(request, layer, fid, current, crs)
    return Response(content, status_code=status, headers=headers, media_type=GEOJSON)


def feature_body(
    request: Request, layer: Layer, fid: int, current: access.Current, crs: Crs
) -> bytes:
    """A stored feature as its answers give it: in the CRS asked, with its links."""
    feature = reproject(current.feature, current.geometry_wkb, crs)
    return feature_document(feature, item_links(request, layer, fid))


def stale(
    request: Request, layer: Layer, fid: int, current: access.Current, crs: Crs = STORAGE
) -> PreconditionFailed:
    """The 412 of a write whose If-Match is no longer current: it carries the version now (its
    ETag, and the feature as a GET by the caller gives it, in the CRS the write was sent in),
    so a client merges or asks at once, never from a second read that a replica or a cache
    may answer older."""
    etag = quote_etag(current.etag)
    feature = orjson.loads(feature_body(request, layer, fid, current, crs))
    return PreconditionFailed(f"{layer.id} {fid} is at version {etag} now", etag, feature, crs.uri)


def replay(stored: idem.Answer) -> Response:
    """The stored first answer of an idempotent write."""
    headers = {**stored.headers, "Idempotent-Replayed": "true"}
    media = headers.pop("content-type", None)
    return Response(stored.body, status_code=stored.status, headers=headers, media_type=media)


def keep(
    conn: sa.Connection, principal: Principal, key: idem.Request | None, sent: Response
) -> Response:
    """Store the answer under the Idempotency-Key (same transaction as the write)."""
    if key is not None:
        headers = {
            k: v for k, v in sent.headers.items() if k in ("etag", "location", "content-type")
        }
        body = bytes(sent.body) if sent.body else None
        idem.store(conn, principal, key, idem.Answer(sent.status_code, headers, body))
    return sent


def precondition(request: Request) -> str:
    """The If-Match header (428 without one)."""
    header = request.headers.get("if-match")
    if header is None:
        raise PreconditionRequired("send If-Match with the feature's ETag (GET it first)")
    return header
