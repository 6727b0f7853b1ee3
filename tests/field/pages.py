"""Browser helpers of the field tests: sign in, wait for the page, fill the survey form."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.field.conftest import PHONE, FieldServer


def rows(engine: Engine, sql: str, **params: object) -> list[Any]:
    """All rows of a query."""
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params).mappings())


def office_edit(server: FieldServer, layer: str, feature_id: int,
                properties: Mapping[str, object]) -> None:  # fmt: skip
    """The planner changes a feature at the office (If-Match its version now): it must succeed."""
    with server.client("planner") as planner:
        url = f"/collections/{layer}/items/{feature_id}"
        etag = planner.get(url).headers["ETag"]
        changed = planner.patch(url, json={"type": "Feature", "properties": dict(properties)},
                                headers={"If-Match": etag,
                                         "Content-Type": "application/merge-patch+json"})
        assert changed.status_code == 200, changed.text


def stairwells_of(engine: Engine, grid: int) -> list[Any]:
    """A grid's stairwells with their survey fields and position, by id."""
    return rows(engine, "SELECT id, households, elderly_households, consent_agree, consent_object, "
                "notes, survey_status, version, ST_X(geom) AS lon, ST_Y(geom) AS lat "
                "FROM stairwell WHERE grid_id = :g ORDER BY id", g=grid)


SMALL_PHONE = {"width": 360, "height": 740}


def phone(contexts: Callable[..., Any], lon: float, lat: float,
          size: Mapping[str, int] | None = None, locale: str = "en-US") -> Any:
    """A phone-sized browser context standing at a place (geolocation allowed)."""
    return contexts(
        **{**PHONE, "viewport": size or PHONE["viewport"]}, locale=locale,
        geolocation={"longitude": lon, "latitude": lat},
        permissions=["geolocation"], service_workers="allow")


def in_reach(page: Any, selector: str) -> bool:
    """Whether a tap at the element's centre lands on it (on screen, above the bottom bar)."""
    return bool(page.eval_on_selector(selector, """n => {
        const r = n.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        const bar = document.getElementById('bottombar').getBoundingClientRect();
        return r.top >= 0 && r.bottom <= bar.top && (hit === n || n.contains(hit));
    }"""))


def sign_in(page: Any, server: FieldServer, user: str) -> None:
    """Open /field, get sent to the sign-in form, sign in, and wait for the grid's data."""
    page.goto(server.url + "/field")
    assert "/login?" in page.url
    page.fill("#username", user)
    page.fill("#password", server.passwords[user])
    page.click("#login button[type=submit]")
    page.wait_for_url(server.url + "/field")
    wait_ready(page)


def open_progress(page: Any, server: FieldServer, user: str) -> None:
    """Open the supervisor page, sign in on the form it sends to, and wait for its data."""
    page.goto(server.url + "/maps/field-progress")
    page.fill("#username", user)
    page.fill("#password", server.passwords[user])
    page.click("#login button[type=submit]")
    page.wait_for_selector("html[data-progress-ready]", state="attached", timeout=20_000)


def wait_ready(page: Any) -> None:
    """Wait until the stairwells and the survey rules are loaded."""
    page.wait_for_selector("html[data-field-ready][data-field-rules=loaded]", state="attached",
                           timeout=20_000)


def open_stairwell(page: Any, stairwell_id: int) -> None:
    """Open a stairwell's survey form from the list view."""
    page.click("#list-btn")
    page.click(f".stairwell-row[data-id='{stairwell_id}']")
    page.wait_for_selector(f"#survey-form[data-id='{stairwell_id}']")


def fill_survey(page: Any, values: Mapping[str, object]) -> None:
    """Type values into the open survey form (selects chosen, inputs filled)."""
    for name, value in values.items():
        selector = f"#survey-form [name={name}]"
        if name == "survey_status":
            page.select_option(selector, str(value))
        else:
            page.fill(selector, str(value))


def pending(page: Any) -> int:
    """The "N pending" count shown on the page."""
    return int(page.get_attribute("#pending", "data-count") or 0)


def wait_pending(page: Any, count: int, timeout: int = 30_000) -> None:
    """Wait until the page shows this many edits waiting (failing with what still waits)."""
    try:
        page.wait_for_selector(f"#pending[data-count='{count}']", state="attached",
                               timeout=timeout)
    except Exception as exc:
        outbox = page.evaluate("FieldOutbox.all().then(ops => JSON.stringify(ops.map(o => "
                               "[o.kind, o.stairwell_id, o.stage, o.state, o.error])))")
        raise AssertionError(f"expected {count} pending, the outbox holds {outbox}") from exc


def lose_first_answer(context: Any, pattern: str, method: str) -> list[str]:
    """Route `pattern` so the first `method` request reaches the server (which writes) but its
    answer is lost on the way back (the phone sends it again); the list of URLs it lost."""
    lost: list[str] = []

    def handle(route: Any) -> None:
        if route.request.method == method and not lost:
            route.fetch()  # the server writes...
            lost.append(route.request.url)
            route.abort("internetdisconnected")  # ...but the phone never hears back
        else:
            route.continue_()

    context.route(pattern, handle)
    return lost
