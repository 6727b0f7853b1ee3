"""Map tiles the phone has never loaded, asked for while it is offline: the page raises no error
for them, and draws them once the connection is back."""

from __future__ import annotations

import re
import time
from email.utils import formatdate
from typing import Any

import pytest

from tests.field.conftest import FieldServer
from tests.field.pages import SMALL_PHONE, phone, sign_in, stairwells_of

DRAWN = """() => [...document.querySelectorAll('.leaflet-tile-container svg path')]
  .filter(p => { const r = p.getBoundingClientRect();
                 return r.right > 0 && r.left < innerWidth && r.bottom > 0
                        && r.top < innerHeight; })
  .length"""
"""Shapes of the vector tiles on screen (buildings, streets)."""
ZOOM_AWAY = """zoom => {
  const tiles = Object.values(FieldMap.layers).find(l => l instanceof L.VectorGrid);
  window.tilesDone = false;
  tiles.once('load', () => { window.tilesDone = true; });  // every tile asked is done
  FieldMap.map.setZoom(zoom, {animate: false});  // tiles never loaded
}"""
"""Zoom to tiles never loaded, noting when every tile asked for is done (drawn or not)."""


def at_a_stairwell(field_server: FieldServer, contexts: Any) -> tuple[Any, Any, list[str]]:
    """A phone signed in as grid02, its map drawn at z17 on the grid's first stairwell: the
    context, the page and the page errors it will raise."""
    first = stairwells_of(field_server.engine, 2)[0]
    context = phone(contexts, first["lon"], first["lat"], size=SMALL_PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, field_server, "grid02")
    page.evaluate(f"FieldMap.map.setView([{first['lat']}, {first['lon']}], 17, {{animate: false}})")
    page.wait_for_function(f"({DRAWN})() > 0", timeout=20_000)
    return context, page, errors


def test_tiles_missed_offline_raise_nothing_and_are_drawn_when_back_online(
    field_server: FieldServer, contexts: Any
) -> None:
    context, page, errors = at_a_stairwell(field_server, contexts)
    context.set_offline(True)
    page.evaluate(ZOOM_AWAY, 15)
    page.wait_for_function("window.tilesDone === true", timeout=20_000)
    assert errors == []
    assert page.evaluate(DRAWN) == 0  # nothing to draw them from
    context.set_offline(False)
    page.wait_for_function(f"({DRAWN})() > 0", timeout=20_000)
    assert errors == []


@pytest.mark.parametrize("refusal", ["unreachable", "503"])
def test_tiles_missed_while_online_are_asked_for_again(
    field_server: FieldServer, contexts: Any, refusal: str
) -> None:
    """The server cannot be reached, or answers 503 (busy, restarting), though the phone says it
    is online: the tiles are asked for again after a wait, and drawn once it answers (a 503
    was drawn empty for good)."""
    context, page, errors = at_a_stairwell(field_server, contexts)

    def refuse(route: Any) -> None:
        if refusal == "unreachable":
            route.abort("connectionrefused")
        else:
            route.fulfill(status=503, body="busy")

    context.route("**/tiles/**", refuse)
    page.evaluate(ZOOM_AWAY, 15)
    page.wait_for_function("window.tilesDone === true", timeout=20_000)
    assert errors == [] and page.evaluate(DRAWN) == 0
    context.unroute("**/tiles/**")
    page.wait_for_function(f"({DRAWN})() > 0", timeout=20_000)
    assert errors == []


def test_only_the_tiles_missed_are_asked_for_again(
    field_server: FieldServer, contexts: Any
) -> None:
    """Half the tiles (even columns) refused with a 503: once the server gives them, they are
    asked for again and drawn, and no tile already drawn is asked for a second time (the
    layer was redrawn whole)."""
    context, page, errors = at_a_stairwell(field_server, contexts)
    asked: list[tuple[int, int, int]] = []

    def tile_of(url: str) -> tuple[int, int, int] | None:
        found = re.search(r"/tiles/.*?/(\d+)/(\d+)/(\d+)", url)
        return (int(found[1]), int(found[2]), int(found[3])) if found else None

    def refuse_even(route: Any) -> None:
        tile = tile_of(route.request.url)
        if tile and tile[1] % 2 == 0:
            route.fulfill(status=503, body="busy")
        else:
            route.continue_()

    context.route("**/tiles/**", refuse_even)
    context.on("request", lambda request: asked.append(tile_of(request.url)))
    page.evaluate(ZOOM_AWAY, 15)
    page.wait_for_function("window.tilesDone === true", timeout=20_000)
    first = [t for t in asked if t and t[0] == 15]
    assert {t[1] % 2 for t in first} == {0, 1} and errors == []
    drawn_before = page.evaluate(DRAWN)
    asked.clear()
    context.unroute("**/tiles/**")
    page.wait_for_function(f"({DRAWN})() > {drawn_before}", timeout=20_000)
    again = {t for t in asked if t and t[0] == 15}
    assert again and all(t[1] % 2 == 0 for t in again), again  # only the refused ones
    assert errors == []


@pytest.mark.parametrize("said", ["seconds", "date"])
def test_tiles_refused_for_now_wait_for_the_retry_after_the_server_names(
    field_server: FieldServer, contexts: Any, said: str
) -> None:
    """A 503 with Retry-After (6 seconds, or the date 6 seconds on): the tiles are not asked
    for again before then (without it, the first wait is 2 s), and are drawn after."""
    context, page, errors = at_a_stairwell(field_server, contexts)
    asked: list[float] = []

    def refuse(route: Any) -> None:
        wait = "6" if said == "seconds" else formatdate(time.time() + 6, usegmt=True)
        route.fulfill(status=503, body="busy", headers={"Retry-After": wait})

    context.route("**/tiles/**", refuse)
    page.evaluate(ZOOM_AWAY, 15)
    page.wait_for_function("window.tilesDone === true", timeout=20_000)
    refused_at = time.monotonic()
    context.unroute("**/tiles/**")
    context.on("request", lambda request: "/tiles/" in request.url and asked.append(
        time.monotonic() - refused_at))  # fmt: skip
    page.wait_for_timeout(4_000)  # the page's own wait (2 s) would have asked by now
    assert asked == [] and errors == []
    page.wait_for_function(f"({DRAWN})() > 0", timeout=20_000)
    assert min(asked) > 4.5 and errors == []
