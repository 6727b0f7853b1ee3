"""A report or map picture of one unit, rendered at most RENDERS at a time per process."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa

from gis_service.auth import Principal
from gis_service.catalog import Catalog
from gis_service.errors import Busy
from gis_service.reports.draw import to_png
from gis_service.reports.facts import find_unit, report_facts
from gis_service.reports.pdf import MAP_SIZE, render_pdf
from gis_service.reports.scene import build_scene
from gis_service.reports.strings import say

RENDERS = threading.BoundedSemaphore(2)
WAIT_S = 60.0


def one_at_a_time() -> threading.BoundedSemaphore:
    """The rendering slot (Busy when none frees up within WAIT_S)."""
    if not RENDERS.acquire(timeout=WAIT_S):
        raise Busy("too many reports are being rendered: try again in a minute")
    return RENDERS


def report_pdf(
    conn: sa.Connection, catalog: Catalog, principal: Principal, level: str, unit_id: int,
    lang: str,
) -> bytes:  # fmt: skip
    """The PDF report of a compound, community or subdistrict as the caller may see it."""
    facts = report_facts(conn, catalog, principal, level, unit_id, lang)
    scene = build_scene(conn, catalog, facts.unit, lang, MAP_SIZE)
    slot = one_at_a_time()
    try:
        return render_pdf(facts, scene)
    finally:
        slot.release()


def map_png(
    conn: sa.Connection, catalog: Catalog, level: str, unit_id: int, lang: str,
    size: tuple[int, int], font: Path, subtitle: str = "", layers: set[str] | None = None,
) -> bytes:  # fmt: skip
    """A PNG map of a unit with its title, legend, north arrow and scale bar (some layers)."""
    unit = find_unit(conn, level, unit_id)
    scene = build_scene(conn, catalog, unit, lang, size, layers)
    title = f"{unit.title(lang)} · {say(lang, level)}"
    return to_png(scene, title, subtitle, font)
