"""A grid worker's phone: sign in, survey, lose the connection, reload, reconnect; nothing lost,
nothing written twice, and the page's validation messages are the server's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.field.conftest import FieldServer
from tests.field.pages import (
    fill_survey,
    lose_first_answer,
    open_stairwell,
    pending,
    phone,
    rows,
    sign_in,
    stairwells_of,
    wait_pending,
    wait_ready,
)


def test_survey_offline_reload_and_replay(field_server: FieldServer, contexts: Any) -> None:
    engine = field_server.engine
    grid2 = stairwells_of(engine, 2)
    a, b, c = grid2[0], grid2[1], grid2[2]
    context = phone(contexts, a["lon"], a["lat"])
    page = context.new_page()
    sign_in(page, field_server, "grid02")
    page.wait_for_selector("html[data-field-offline-ready]", state="attached", timeout=20_000)

    # only their grid: the list holds exactly grid 2's stairwells; another grid's data is refused
    assert page.get_attribute("#grid-name", "data-grid") == "2"
    page.click("#locate")
    page.wait_for_selector("html[data-field-located]", state="attached")
    page.click("#list-btn")
    listed = page.eval_on_selector_all(
        ".stairwell-row",
        "rows => rows.map(r => [+r.dataset.id, r.dataset.grid, +r.dataset.distance])")
    assert sorted(r[0] for r in listed) == [s["id"] for s in grid2]
    assert {r[1] for r in listed} == {"2"}
    assert [r[2] for r in listed] == sorted(r[2] for r in listed)  # nearest first
    assert listed[0][0] == a["id"] and listed[0][2] == 0
    other = rows(engine, "SELECT id FROM stairwell WHERE grid_id = 3 LIMIT 1")[0]["id"]
    status = page.evaluate(f"fetch('/collections/stairwells/items/{other}').then(r => r.status)")
    assert status == 403

    # the page refuses what the server refuses, with the server's own words
    bad = {"households": 10, "elderly_households": 11, "consent_agree": 6, "consent_object": 6}
    open_stairwell(page, a["id"])
    fill_survey(page, bad)
    page.click("#survey-save")
    shown = page.inner_text(".field-error[data-field=elderly_households]")
    shown_agree = page.inner_text(".field-error[data-field=consent_agree]")
    shown_consent = page.inner_text(".field-error[data-field=consent_object]")
    body = {"stairwell_id": a["id"], "surveyed_on": dt.date.today().isoformat(),
            "survey_status": "visited", "notes": None, **bad}
    with field_server.client("grid02") as api:
        answer = api.post("/field/surveys?lang=en", json=body)
    assert answer.status_code == 422
    messages = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert messages == {"elderly_households": shown, "consent_agree": shown_agree,
                        "consent_object": shown_consent}
    assert shown == "Elderly households cannot exceed households"
    assert shown_agree == shown_consent  # the rule names both counts it adds up
    assert pending(page) == 0

    edits = {
        a["id"]: {"households": 10, "elderly_households": 4, "consent_agree": 7,
                  "consent_object": 1, "survey_status": "visited", "notes": "first door"},
        b["id"]: {"households": 14, "elderly_households": 5, "consent_agree": 9,
                  "consent_object": 2, "survey_status": "follow_up", "notes": "come back sat"},
        c["id"]: {"households": 8, "elderly_households": 8, "consent_agree": 2,
                  "consent_object": 3, "survey_status": "visited", "notes": "离线记录"},
    }
    fill_survey(page, edits[a["id"]])
    page.click("#survey-save")
    page.wait_for_function(f"FieldMap.features[{a['id']}].server.version === {a['version'] + 1}")
    wait_pending(page, 0)

    context.set_offline(True)
    for sid in (b["id"], c["id"]):
        open_stairwell(page, sid)
        fill_survey(page, edits[sid])
        page.click("#survey-save")
    wait_pending(page, 2)
    assert page.inner_text("#net") == "Offline"

    response = page.reload()  # offline: the service worker answers from its cache
    assert response is not None and response.from_service_worker
    wait_ready(page)
    wait_pending(page, 2)
    assert page.evaluate(f"FieldMap.features[{b['id']}].properties.survey_status") == "follow_up"

    # back online; the answer to the first write is lost on the way back, so it is sent again
    lost = lose_first_answer(context, "**/collections/stairwells/items/*", "PATCH")
    context.set_offline(False)
    wait_pending(page, 0, timeout=60_000)
    assert lost

    # exactly those three edits, once each
    ids = list(edits)
    logged = rows(engine, "SELECT feature_id, count(*) AS n FROM edit_log WHERE table_name = "
                  "'stairwell' AND username = 'grid02' GROUP BY feature_id")
    assert {int(r["feature_id"]): r["n"] for r in logged} == dict.fromkeys(ids, 1)
    surveys = rows(engine, "SELECT v.stairwell_id, v.households, v.elderly_households, "
                   "v.consent_agree, v.consent_object, v.notes, v.surveyed_on FROM survey v "
                   "JOIN app_user u ON u.id = v.surveyor_id WHERE u.username = 'grid02' "
                   "AND v.stairwell_id = ANY(:ids)", ids=ids)
    assert sorted(r["stairwell_id"] for r in surveys) == sorted(ids)
    for record in surveys:
        expected = edits[record["stairwell_id"]]
        assert record["notes"] == expected["notes"]
        assert record["households"] == expected["households"]
    stored = {s["id"]: s for s in stairwells_of(engine, 2)}
    for sid, expected in edits.items():
        for name, value in expected.items():
            assert stored[sid][name] == value, (sid, name)
        assert stored[sid]["version"] == next(s for s in grid2 if s["id"] == sid)["version"] + 1


def test_a_phone_takes_a_changed_script_and_forgets_the_old_one(
    field_server: FieldServer, contexts: Any
) -> None:
    """The service worker keeps scripts cache-first: each static URL names its file's content,
    so a deploy that changes a script gives it a new URL the phone fetches, and the versions the
    page no longer names leave the phone's cache."""
    a = stairwells_of(field_server.engine, 2)[0]
    context = phone(contexts, a["lon"], a["lat"])
    page = context.new_page()
    sign_in(page, field_server, "grid02")
    page.wait_for_selector("html[data-field-offline-ready]", state="attached", timeout=20_000)
    named = page.evaluate("""async () => {
        const urls = [...document.querySelectorAll('script[src], link[rel=stylesheet][href]')]
            .map(n => n.getAttribute('src') || n.getAttribute('href'))
            .filter(u => u.startsWith('/static/'));
        return Promise.all(urls.map(async u => {
            const bytes = await (await fetch(u)).arrayBuffer();
            const digest = [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))]
                .map(b => b.toString(16).padStart(2, '0')).join('');
            return [u, digest.slice(0, 12)];
        }));
    }""")
    assert len(named) > 10
    for url, digest in named:
        assert url.endswith("?v=" + digest), url  # the URL names what it serves
    forms = next(u for u, _ in named if "/field/forms.js" in u)
    old = forms.split("?")[0] + "?v=000000000000"  # what an earlier deploy named it
    kept = page.evaluate("""async ([old, forms]) => {
        const cache = await caches.open('gis-field-v1');
        await cache.put(old, new Response('/* the old forms.js */'));
        await cache.put(old.split('?')[0], new Response('/* from before versions */'));
        const reg = await navigator.serviceWorker.ready;
        await new Promise(resolve => {
            navigator.serviceWorker.addEventListener('message', e => {
                if (e.data && e.data.type === 'precached') { resolve(); }
            });
            reg.active.postMessage({type: 'precache', urls: FieldMap.offlineUrls()});
        });
        const keys = (await cache.keys()).map(r => new URL(r.url).pathname + new URL(r.url).search);
        return keys.filter(k => k.startsWith(old.split('?')[0]));
    }""", [old, forms])
    assert kept == [forms]
