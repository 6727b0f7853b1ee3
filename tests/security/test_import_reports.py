"""What an import leaves behind: each row's history, and a report of bounded size.

Before, imported rows had an empty edit history, and a CSV of 500k bad rows answered a 192 MB
422 body (every rejected row, twice). Now each written row has its insert entry, and a report
lists the first GIS_IMPORT_REPORT_ROWS problems with counts by reason.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from gis_service.settings import get_settings
from tests.conftest import DemoTemplate, LiveServer, scalar
from tests.ingest.files import garden_frame, write

Serve = Callable[[FastAPI], LiveServer]
SHOWN = 20


@pytest.fixture
def live(demo_db: Engine, serve: Serve) -> LiveServer:
    shown = get_settings().model_copy(update={"import_report_rows": SHOWN})
    return serve(create_app(demo_db, settings=shown))


def test_imported_rows_have_their_history(
    live: LiveServer, demo_template: DemoTemplate, tmp_path: Path
) -> None:
    frame = garden_frame(3)
    path = write(frame, tmp_path / "gardens.geojson")
    with live.client(demo_template.tokens["planner"]) as client:
        answer = client.post("/collections/gardens/import",
                             files={"file": (path.name, path.read_bytes())})
        assert answer.status_code == 201, answer.text
        for fid, name in zip(answer.json()["ids"], frame["name"], strict=True):
            entries = client.get(f"/collections/gardens/items/{fid}/history").json()["entries"]
            assert [e["action"] for e in entries] == ["insert"]
            assert entries[0]["username"] == "planner" and entries[0]["before"] is None
            assert entries[0]["after"]["properties"]["name"] == name
            assert entries[0]["after"]["geometry"]["type"] == "MultiPolygon"


def test_a_dry_run_and_a_refused_import_log_nothing(
    live: LiveServer, demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path
) -> None:
    logged = scalar(demo_db, "SELECT count(*) FROM edit_log")
    good = write(garden_frame(2), tmp_path / "good.geojson")
    bad = write(garden_frame(2).assign(kind=["pocket_park", "volcano"]), tmp_path / "bad.geojson")
    with live.client(demo_template.tokens["planner"]) as client:
        dry = client.post("/collections/gardens/import", params={"dry_run": "true"},
                          files={"file": (good.name, good.read_bytes())})
        refused = client.post("/collections/gardens/import",
                              files={"file": (bad.name, bad.read_bytes())})
    assert (dry.status_code, refused.status_code) == (200, 422)
    assert scalar(demo_db, "SELECT count(*) FROM edit_log") == logged


def test_a_flood_of_bad_rows_gets_a_bounded_report(
    live: LiveServer, demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path
) -> None:
    rows = 20_000
    path = tmp_path / "bad.csv"
    path.write_text("lon,lat,name,kind,capacity\n" + "".join(
        f"{113.29 + i * 1e-7},23.145,p{i},=HYPERLINK(\"x\"),{i % 50}\n" for i in range(rows)
    ))
    count = scalar(demo_db, "SELECT count(*) FROM parking")
    with live.client(demo_template.tokens["planner"]) as client:
        answer = client.post("/collections/parking/import",
                             files={"file": (path.name, path.read_bytes())})
    assert answer.status_code == 422
    assert len(answer.content) < 30_000  # was every row, twice: megabytes
    body = answer.json()
    assert len(body["errors"]) == SHOWN and body["errors"][0]["row"] == 1
    report = body["report"]
    assert len(report["rejected"]) == SHOWN
    assert report["rows_rejected"] == rows and report["problems"] == rows
    [reason] = report["problems_by_reason"]
    assert reason["field"] == "kind" and reason["rows"] == rows
    assert report["summary"] == f"{rows} of {rows} rows rejected; nothing was written"
    assert scalar(demo_db, "SELECT count(*) FROM parking") == count
