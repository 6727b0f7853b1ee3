"""Browser assets served by the app (npm packages pinned in gis_service/web), never a CDN."""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
from functools import cache
from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
NODE_MODULES = WEB_DIR / "node_modules"
OWN_STATIC = WEB_DIR / "static"
VENDOR_PREFIX = "/static/vendor"
OWN_PREFIX = "/static/web"
# npm package -> the folder of it that is served (nothing else of node_modules is exposed)
VENDOR_DIRS = {
    "leaflet": "dist",
    "leaflet.vectorgrid": "dist",
    "leaflet.fullscreen": "",
    "leaflet-measure": "dist",
}


def file_for(url: str) -> Path:
    """The file behind one of our static URLs, versioned or not (KeyError for anything else)."""
    url = url.partition("?")[0]
    if url.startswith(OWN_PREFIX + "/"):
        return OWN_STATIC / url[len(OWN_PREFIX) + 1 :]
    if url.startswith(VENDOR_PREFIX + "/"):
        package, _, rest = url[len(VENDOR_PREFIX) + 1 :].partition("/")
        if package in VENDOR_DIRS:
            return NODE_MODULES / package / VENDOR_DIRS[package] / rest
    raise KeyError(url)


def vendor(package: str, file: str) -> str:
    """The URL the app serves one file of a vendored npm package under (versioned)."""
    if package not in VENDOR_DIRS:
        raise KeyError(f"{package} is not a vendored package")
    return versioned(f"{VENDOR_PREFIX}/{package}/{file}")


def own(file: str) -> str:
    """The URL of one of our own static files (gis_service/web/static; versioned)."""
    return versioned(f"{OWN_PREFIX}/{file}")


def versioned(url: str) -> str:
    """A static URL naming its file's content (`?v=` a digest of it; none for a file not
    installed): a cache keyed by URL, as the field page's service worker keeps scripts, takes a
    changed file for a new one, and keeps an unchanged one."""
    digest = _digest(file_for(url))
    return f"{url}?v={digest}" if digest else url


@cache
def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return None


LEAFLET_JS = [("leaflet", vendor("leaflet", "leaflet.js"))]
LEAFLET_CSS = [("leaflet_css", vendor("leaflet", "leaflet.css"))]
RETRY_AFTER_JS = [("retry_after_js", own("retry-after.js"))]  # before the scripts that retry
VECTORGRID_JS = [
    ("vectorGrid", vendor("leaflet.vectorgrid", "Leaflet.VectorGrid.bundled.min.js")),
    *RETRY_AFTER_JS,
    ("vectorgrid_compat_js", own("vectorgrid-compat.js")),  # right after it, on every page
]
FULLSCREEN_JS = [("Control.Fullscreen.js", vendor("leaflet.fullscreen", "Control.FullScreen.js"))]
FULLSCREEN_CSS = [
    ("Control.FullScreen.css", vendor("leaflet.fullscreen", "Control.FullScreen.css"))
]
MEASURE_JS = [("leaflet_measure_js", vendor("leaflet-measure", "leaflet-measure.min.js"))]
MEASURE_CSS = [("leaflet_measure_css", vendor("leaflet-measure", "leaflet-measure.css"))]
APP_JS = [
    ("gismap_js", own("gismap.js")),
    ("gismap_layers_js", own("gismap-layers.js")),
    ("gismap_legend_js", own("gismap-legend.js")),
    ("gismap_share_js", own("gismap-share.js")),
    ("gismap_china_js", own("gismap-china.js")),
    ("gismap_panels_js", own("gismap-panels.js")),
    ("gismap_scenarios_js", own("gismap-scenarios.js")),
    ("gismap_consent_js", own("gismap-consent.js")),
]
APP_CSS = [("gismap_css", own("gismap.css"))]
# the field view's files (its page lists the scripts it loads; /field/sw.js serves the worker)
FIELD_FILES = [
    own(f"field/{name}")
    for name in ("sw.js", "field.js", "field.css", "forms.js", "outbox.js", "rules.js",
                 "progress.js", "list.js", "markers.js")
]


def _data_uri(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"


def inline_css(url: str) -> str:
    """A stylesheet's text with its relative images turned into data URIs (for exports)."""
    path = file_for(url)
    text = path.read_text(encoding="utf-8")

    def embed(match: re.Match[str]) -> str:
        ref = match.group(1).strip("'\"")
        target = path.parent / ref
        if ref.startswith(("data:", "#", "http")) or not target.is_file():
            return match.group(0)
        return f"url({_data_uri(target)})"

    return re.sub(r"url\(([^)]*)\)", embed, text)


def missing_assets() -> list[str]:
    """Asset URLs whose file is not installed (empty when `npm ci` has run)."""
    urls = [
        url
        for group in (LEAFLET_JS, LEAFLET_CSS, VECTORGRID_JS, FULLSCREEN_JS, FULLSCREEN_CSS,
                      MEASURE_JS, MEASURE_CSS, APP_JS, APP_CSS)
        for _, url in group
    ] + FIELD_FILES
    return [url for url in urls if not file_for(url).is_file()]
