"""Static files of the web maps: our scripts and the pinned npm packages (no CDN)."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from gis_service.errors import NotFound
from gis_service.webmap import assets

router = APIRouter(include_in_schema=False)
CACHE = "public, max-age=3600, must-revalidate"


def served_file(url: str) -> Path:
    """The file behind a static URL, refusing anything outside the served folders."""
    try:
        path = assets.file_for(url).resolve()
    except (KeyError, ValueError, OSError) as exc:  # unknown, or not a file name at all
        raise NotFound(f"no static file {url}") from exc
    roots = [assets.OWN_STATIC.resolve()] + [
        (assets.NODE_MODULES / package / folder).resolve()
        for package, folder in assets.VENDOR_DIRS.items()
    ]
    if not any(path.is_relative_to(root) for root in roots) or not path.is_file():
        raise NotFound(f"no static file {url}")
    return path


@router.get("/static/{area}/{path:path}")
def static_file(area: str, path: str) -> FileResponse:
    """One static file (ETag and Last-Modified let browsers revalidate cheaply)."""
    found = served_file(f"/static/{area}/{path}")
    kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind == "application/javascript":
        kind += "; charset=utf-8"
    return FileResponse(found, media_type=kind, headers={"Cache-Control": CACHE})
