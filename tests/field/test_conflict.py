"""Someone changes a stairwell after the worker's page loaded it: both values are shown, the
worker chooses per field, and exactly the chosen values are saved (never a silent overwrite)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from gis_service.catalog import default_catalog
from tests.field.conftest import FieldServer
from tests.field.pages import (
    SMALL_PHONE,
    fill_survey,
    office_edit,
    open_stairwell,
    phone,
    rows,
    sign_in,
    stairwells_of,
    wait_pending,
)


def test_conflict_shows_both_values_and_saves_the_choice(
    field_server: FieldServer, contexts: Any, tmp_path: Path
) -> None:
    engine = field_server.engine
    target = stairwells_of(engine, 2)[5]
    assert target["households"] not in (30, 40)  # both sides change the count and the notes
    assert target["notes"] not in ("planner count", "worker count")
    context = phone(contexts, target["lon"], target["lat"], size=SMALL_PHONE,
                    locale="zh-CN")
    page = context.new_page()
    sign_in(page, field_server, "grid02")

    # a planner changes the stairwell after the page has loaded it
    office_edit(field_server, "stairwells", target["id"],
                {"households": 40, "notes": "planner count", "survey_status": "follow_up"})

    mine = {"households": 30, "elderly_households": 9, "consent_agree": 20, "consent_object": 4,
            "survey_status": "visited", "notes": "worker count"}
    open_stairwell(page, target["id"])
    fill_survey(page, mine)
    page.click("#survey-save")
    page.wait_for_selector(f"form#conflict[data-id='{target['id']}']", timeout=30_000)

    def side(field: str, who: str) -> str:
        return str(page.inner_text(f".conflict-row[data-field={field}] .pick.{who} .value"))

    assert (side("households", "mine"), side("households", "theirs")) == ("30", "40")
    assert (side("notes", "mine"), side("notes", "theirs")) == ("worker count", "planner count")
    # values and field names as a person reads them, in Chinese: labels, never codes
    stairwells = default_catalog().layer("stairwells")
    survey = stairwells.field("survey_status").enum_labels
    assert (side("survey_status", "mine"), side("survey_status", "theirs")) == (
        survey["visited"].zh, survey["follow_up"].zh)
    legends = page.eval_on_selector_all(".conflict-row legend", "ls => ls.map(l => l.textContent)")
    assert legends == [stairwells.field(row["field"]).label.zh for row in page.eval_on_selector_all(
        ".conflict-row", "rs => rs.map(r => ({field: r.dataset.field}))")]
    dialog = page.inner_text("form#conflict")
    for code in ("households", "notes", "survey_status", "follow_up", "visited", "planner"):
        assert code not in dialog.replace("planner count", ""), code
    # who changed the record, and when (the planner's edit-log entry, in the phone's time zone)
    logged = rows(engine, "SELECT e.at, u.display_name FROM edit_log e JOIN app_user u ON "
                  "u.id = e.user_id WHERE e.table_name = 'stairwell' AND e.feature_id = :fid",
                  fid=str(target["id"]))
    assert len(logged) == 1
    zone = ZoneInfo(page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone"))
    at: dt.datetime = logged[0]["at"].astimezone(zone)
    said = page.inner_text("form#conflict .changed-by")
    assert said == f"{logged[0]['display_name']} 于 {at.year}年{at.month}月{at.day}日 " \
        f"{at:%H:%M} 修改了此梯口", said
    page.screenshot(path=str(tmp_path / "conflict-zh-360.png"))
    # fields the planner left alone and the worker changed are preset to the worker's value
    assert page.is_checked(".conflict-row[data-field=consent_agree] input[value=mine]")
    # nothing is saved until the worker has chosen every contested field
    page.click("#conflict-save")
    assert page.inner_text("form#conflict .field-error") != ""
    assert stairwells_of(engine, 2)[5]["households"] == 40

    page.check(".conflict-row[data-field=households] input[value=mine]")
    page.check(".conflict-row[data-field=notes] input[value=theirs]")
    page.check(".conflict-row[data-field=survey_status] input[value=mine]")
    page.click("#conflict-save")
    wait_pending(page, 0)

    saved = stairwells_of(engine, 2)[5]
    assert saved["households"] == 30 and saved["notes"] == "planner count"
    assert saved["survey_status"] == "visited"
    assert saved["consent_agree"] == 20 and saved["elderly_households"] == 9
    assert saved["version"] == target["version"] + 2  # the planner's edit, then the chosen one
    history = rows(engine, "SELECT username, after -> 'properties' ->> 'households' AS households "
                   "FROM edit_log WHERE table_name = 'stairwell' AND feature_id = :fid ORDER BY id",
                   fid=str(target["id"]))
    assert [(h["username"], h["households"]) for h in history] == [("planner", "40"),
                                                                  ("grid02", "30")]


def free_stairwell(engine: Any, offset: int) -> Any:
    """A grid-2 stairwell with no register (its counts are the worker's to write), by offset
    from the last: each test its own."""
    free = rows(engine, "SELECT id FROM stairwell s WHERE grid_id = 2 AND NOT has_register AND "
                "NOT EXISTS (SELECT 1 FROM household h WHERE h.stairwell_id = s.id) "
                "ORDER BY id DESC OFFSET :o LIMIT 1", o=offset)[0]["id"]  # fmt: skip
    return next(s for s in stairwells_of(engine, 2) if s["id"] == free)


def test_changes_of_different_fields_merge_without_asking(
    field_server: FieldServer, contexts: Any
) -> None:
    """A planner changed the notes after the page loaded the stairwell; the worker's survey
    left them alone (counts and status): both are saved, with no question to the worker (a
    three-way merge: each field takes the change of the side that made it)."""
    engine = field_server.engine
    target = free_stairwell(engine, 0)
    free = target["id"]
    context = phone(contexts, target["lon"], target["lat"], size=SMALL_PHONE, locale="zh-CN")
    page = context.new_page()
    sign_in(page, field_server, "grid02")
    office_edit(field_server, "stairwells", target["id"], {"notes": "planner note"})

    open_stairwell(page, target["id"])
    fill_survey(page, {"households": 31, "elderly_households": 7, "consent_agree": 21,
                       "consent_object": 3})
    page.click("#survey-save")
    deadline = time.monotonic() + 30
    while (saved := next(s for s in stairwells_of(engine, 2) if s["id"] == free))["version"] \
            < target["version"] + 2 and time.monotonic() < deadline:
        time.sleep(0.1)  # the planner's edit, then the worker's merged one
    wait_pending(page, 0)
    assert page.query_selector("form#conflict") is None
    assert (saved["households"], saved["elderly_households"], saved["consent_agree"],
            saved["consent_object"]) == (31, 7, 21, 3)
    assert saved["notes"] == "planner note" and saved["survey_status"] == "visited"
    assert saved["version"] == target["version"] + 2


def survey_meets_office_note(
    field_server: FieldServer, contexts: Any, offset: int, households: int,
    route: Callable[[Any, Any], None],
) -> Any:  # fmt: skip
    """The worker surveys a free stairwell (households given) after the office changed its
    notes, with `route(route, stairwell as loaded)` between the page and the stairwell's URL;
    the row once both edits are in (or 30 s passed), the outbox empty."""
    engine = field_server.engine
    target = free_stairwell(engine, offset)
    context = phone(contexts, target["lon"], target["lat"], size=SMALL_PHONE)
    page = context.new_page()
    sign_in(page, field_server, "grid02")
    url = f"/collections/stairwells/items/{target['id']}"
    with field_server.client("grid02") as worker:
        loaded = worker.get(url)
    context.route(f"**{url}", lambda through: route(through, loaded))
    open_stairwell(page, target["id"])
    office_edit(field_server, "stairwells", target["id"], {"notes": "office note"})
    fill_survey(page, {"households": households, "elderly_households": 6, "consent_agree": 22,
                       "consent_object": 1})
    page.click("#survey-save")
    deadline = time.monotonic() + 30
    while (saved := next(s for s in stairwells_of(engine, 2) if s["id"] == target["id"])) \
            ["version"] < target["version"] + 2 and time.monotonic() < deadline:
        page.wait_for_timeout(100)  # the route answers only while the page is served
    wait_pending(page, 0)
    assert page.query_selector("form#conflict") is None
    assert saved["version"] == target["version"] + 2
    return saved


def test_the_merge_takes_the_version_the_412_carries_not_a_stale_read(
    field_server: FieldServer, contexts: Any
) -> None:
    """After the office's change, every GET of the stairwell still answers the version the page
    loaded (a read replica behind, a cache on the way): the merge takes the version the 412
    itself carries, so the worker's counts and the office's notes are both saved, unasked."""

    def behind(route: Any, loaded: Any) -> None:
        if route.request.method != "GET":
            route.fallback()
            return
        route.fulfill(status=200, body=loaded.content, headers={
            "Content-Type": "application/geo+json", "ETag": loaded.headers["etag"]})

    saved = survey_meets_office_note(field_server, contexts, 2, 34, behind)
    assert saved["notes"] == "office note" and saved["households"] == 34


def test_a_412_without_the_version_is_read_again_not_left_dead(
    field_server: FieldServer, contexts: Any
) -> None:
    """A proxy (or a server of before) answers the stale edit 412 with no version in it: the
    page reads the stairwell again and merges, rather than leaving an edit that no retry can
    save (it would send the same stale If-Match for ever)."""

    def bare_412(route: Any, _: Any) -> None:
        if route.request.method != "PATCH":
            route.fallback()
            return
        answer = route.fetch()
        if answer.status != 412:
            route.fulfill(response=answer)
            return
        route.fulfill(status=412, content_type="application/problem+json",
                      body='{"title": "Precondition failed", "status": 412}')

    saved = survey_meets_office_note(field_server, contexts, 3, 35, bare_412)
    assert saved["notes"] == "office note" and saved["households"] == 35


def test_an_edit_waiting_behind_a_merged_one_keeps_the_office_change(
    field_server: FieldServer, contexts: Any
) -> None:
    """Two edits of one stairwell wait in the outbox (the second queued behind the first, as a
    correction of an edit already on its way is); the office changes the notes meanwhile. The
    first is merged on its 412 and the second, built on what the first saved, leaves the
    office's notes alone: neither worker edit undoes them."""
    engine = field_server.engine
    target = free_stairwell(engine, 1)
    free = target["id"]
    context = phone(contexts, target["lon"], target["lat"], size=SMALL_PHONE)
    page = context.new_page()
    sign_in(page, field_server, "grid02")
    context.set_offline(True)
    open_stairwell(page, free)
    fill_survey(page, {"households": 33, "elderly_households": 5, "consent_agree": 20,
                       "consent_object": 2})
    page.click("#survey-save")
    wait_pending(page, 1)
    page.evaluate("""async () => {
      const a = (await FieldOutbox.all())[0];
      const patch = Object.assign({}, a.patch, {survey_status: 'follow_up'});
      await FieldOutbox.addSurvey(a.stairwell_id, a.label, null,
                                  Object.assign({}, a.base_values, a.patch), a.values, patch);
    }""")
    wait_pending(page, 2)
    office_edit(field_server, "stairwells", free, {"notes": "office note"})
    context.set_offline(False)
    page.evaluate("FieldOutbox.flush()")
    deadline = time.monotonic() + 30
    while (saved := next(s for s in stairwells_of(engine, 2) if s["id"] == free))["version"] \
            < target["version"] + 3 and time.monotonic() < deadline:
        time.sleep(0.1)  # the office's edit, then the worker's two
    wait_pending(page, 0)
    assert page.query_selector("form#conflict") is None
    assert saved["notes"] == "office note" and saved["households"] == 33
    assert saved["survey_status"] == "follow_up"


def test_who_changed_is_told_only_for_stairwells_in_reach(field_server: FieldServer) -> None:
    engine = field_server.engine
    mine = stairwells_of(engine, 2)[0]
    other = stairwells_of(engine, 3)[0]
    with field_server.client("planner") as planner:
        url = f"/collections/stairwells/items/{mine['id']}"
        etag = planner.get(url).headers["ETag"]
        assert planner.patch(url, json={"type": "Feature", "properties": {"notes": "x"}},
                             headers={"If-Match": etag, "Content-Type":
                                      "application/merge-patch+json"}).status_code == 200
    changes = f"/field/stairwells/{mine['id']}/changes"
    with field_server.client("grid02") as worker:
        told = worker.get(changes, params={"since": mine["version"]})
        assert told.status_code == 200, told.text
        assert [c["by"] for c in told.json()["changes"]] == ["黄花岗街道规划员"]
        later = worker.get(changes, params={"since": mine["version"] + 1})
        assert later.json()["changes"] == []  # nothing after the planner's version
        assert worker.get(f"/field/stairwells/{other['id']}/changes",
                          params={"since": 0}).status_code == 403  # another grid
        assert worker.get(changes, params={"since": -1}).status_code == 422
    with field_server.client("analyst") as analyst:
        assert analyst.get(changes, params={"since": 0}).status_code == 403
    with field_server.client() as anonymous:
        assert anonymous.get(changes, params={"since": 0}).status_code == 401
