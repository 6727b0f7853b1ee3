"""The stairwell list: rows name the compound; filter and search; the map keeps what the list keeps
(and follows every saved edit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.field.conftest import FieldServer
from tests.field.pages import (
    SMALL_PHONE,
    fill_survey,
    phone,
    rows,
    sign_in,
    wait_pending,
)

GRID = """SELECT s.id, s.survey_status, s.consent_object, s.version, s.label, c.name AS compound,
                 b.name AS building, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat
          FROM stairwell s JOIN compound c ON c.id = s.compound_id
          LEFT JOIN building b ON b.id = s.building_id WHERE s.grid_id = 2 ORDER BY s.id"""


def listed(page: Any) -> list[int]:
    """The ids of the rows the list shows."""
    return list(page.eval_on_selector_all(".stairwell-row", "rs => rs.map(r => +r.dataset.id)"))


def on_map(page: Any) -> list[int]:
    """The ids of the stairwells on the map, from the markers Leaflet holds on it."""
    return sorted(page.evaluate("""Object.keys(FieldMap.markers).filter(id =>
        FieldMap.map.hasLayer(FieldMap.markers[id])).map(Number)"""))


def choose(page: Any, key: str) -> None:
    """Tap a filter chip."""
    page.tap(f"#list-filters .filter[data-filter={key}]")


def test_list_names_compounds_filters_searches_and_the_map_follows(
    field_server: FieldServer, contexts: Any, tmp_path: Path
) -> None:
    engine = field_server.engine
    with engine.begin() as conn:  # two earlier visits asked to come back
        conn.execute(sa.text(
            "UPDATE stairwell SET survey_status = 'follow_up', last_surveyed_on = current_date - 7 "
            "WHERE id IN (SELECT id FROM stairwell WHERE grid_id = 2 ORDER BY id DESC LIMIT 2)"))
    grid = rows(engine, GRID)
    start = grid[0]
    page = phone(contexts, start["lon"], start["lat"], SMALL_PHONE, "zh-CN").new_page()
    sign_in(page, field_server, "grid02")
    page.wait_for_selector("html[data-field-compounds]", state="attached")
    page.tap("#list-btn")
    assert sorted(listed(page)) == [s["id"] for s in grid] == on_map(page)
    # every row names its compound, then the building and the unit
    for s in grid[:5]:
        shown = page.inner_text(f".stairwell-row[data-id='{s['id']}'] .compound")
        assert shown == s["compound"]
        unit = page.inner_text(f".stairwell-row[data-id='{s['id']}'] .name")
        assert unit == f"{s['building']} · {s['label']}"
    assert page.inner_text("#list-count") == f"显示 {len(grid)} / {len(grid)} 个梯口"
    labels = page.eval_on_selector_all("#list-filters .filter", "bs => bs.map(b => b.textContent)")
    assert labels == ["全部", "未走访", "需回访", "有反对户"]
    page.screenshot(path=str(tmp_path / "list-360.png"))

    expected = {
        "not_visited": [s["id"] for s in grid if s["survey_status"] == "not_visited"],
        "follow_up": [s["id"] for s in grid if s["survey_status"] == "follow_up"],
        "objecting": [s["id"] for s in grid if (s["consent_object"] or 0) > 0],
    }
    assert all(expected.values())  # the demo grid has some of each
    for key, ids in expected.items():
        choose(page, key)
        assert sorted(listed(page)) == ids == on_map(page), key
    page.screenshot(path=str(tmp_path / "list-objecting-360.png"))

    # search narrows within the filter, by compound, building or unit
    choose(page, "all")
    page.fill("#list-search", start["label"])
    assert sorted(listed(page)) == [s["id"] for s in grid if start["label"] in s["label"]
                                   or start["label"] in (s["building"] or "")
                                   or start["label"] in s["compound"]] == on_map(page)
    last = grid[-1]
    unit = f"{last['building']} · {last['label']}"
    page.fill("#list-search", unit)
    assert sorted(listed(page)) == [s["id"] for s in grid if unit in
                                   f"{s['compound']} · {s['building']} · {s['label']}"]
    assert last["id"] in listed(page) and sorted(listed(page)) == on_map(page)
    page.fill("#list-search", "无此小区")
    assert listed(page) == [] == on_map(page)
    page.fill("#list-search", "")

    # surveying a stairwell from the "not visited" list takes it off the list and the map
    choose(page, "not_visited")
    target = expected["not_visited"][0]
    page.tap(f".stairwell-row[data-id='{target}']")
    fill_survey(page, {"households": 10, "elderly_households": 2, "consent_agree": 6,
                       "consent_object": 0, "survey_status": "visited"})
    page.tap("#survey-save")
    version = next(s["version"] for s in grid if s["id"] == target)
    page.wait_for_function(f"FieldMap.features[{target}].server.version === {version + 1}")
    wait_pending(page, 0)
    assert target not in on_map(page)
    page.tap("#list-btn")
    assert sorted(listed(page)) == [i for i in expected["not_visited"] if i != target]
    assert page.get_attribute("#list-filters .filter[data-filter=not_visited]",
                              "aria-checked") == "true"  # the list keeps its filter
    choose(page, "all")
    assert target in listed(page) and target in on_map(page)
