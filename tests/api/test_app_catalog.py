"""Catalog and settings belong to an app: two apps in one process answer each for its own."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from gis_service.catalog import LAYERS_DIR, load_catalog
from gis_service.settings import get_settings
from tests.conftest import DemoTemplate, LiveServer

PROBLEM = "application/problem+json"


def test_two_apps_answer_for_their_own_catalog_and_settings(
    shared_demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path,
    serve: Callable[[FastAPI], LiveServer],
) -> None:  # fmt: skip
    layers = tmp_path / "layers"
    shutil.copytree(LAYERS_DIR, layers)
    (layers / "candidate_sites.yaml").unlink()
    small = get_settings().model_copy(update={"items_max_limit": 5, "max_upload_bytes": 1000})
    shipped = serve(create_app(shared_demo_db))
    narrow = serve(create_app(shared_demo_db, catalog=load_catalog(layers), settings=small))
    token = demo_template.tokens["planner"]
    with shipped.client(token) as a, narrow.client(token) as b:
        listed = [[c["id"] for c in web.get("/collections").json()["collections"]]
                  for web in (a, b)]  # fmt: skip
        assert "candidate_sites" in listed[0] and "candidate_sites" not in listed[1]
        assert set(listed[0]) - set(listed[1]) == {"candidate_sites"}
        assert a.get("/collections/candidate_sites").status_code == 200
        for path in ("/collections/candidate_sites", "/collections/candidate_sites/items",
                     "/collections/candidate_sites/export", "/tiles/candidate_sites/tilejson.json"):
            gone = b.get(path)
            assert (gone.status_code, gone.headers["content-type"]) == (404, PROBLEM), path

        pages = [web.get("/collections/stairwells/items", params={"limit": 20}).json()
                 for web in (a, b)]  # fmt: skip
        assert [len(page["features"]) for page in pages] == [20, 5]
        assert pages[0]["numberMatched"] == pages[1]["numberMatched"] > 20

        documents = [web.get("/openapi.json").json() for web in (a, b)]
        assert "/collections/candidate_sites/items" in documents[0]["paths"]
        assert "/collections/candidate_sites/items" not in documents[1]["paths"]
        imports = [doc["paths"]["/collections/{layer_id}/import"]["post"]["responses"]["413"]
                   for doc in documents]  # fmt: skip
        limit = get_settings().max_upload_bytes
        assert f"larger than {limit} bytes" in imports[0]["description"]
        assert "larger than 1000 bytes" in imports[1]["description"]
        refused = b.post("/collections/gardens/import", files={"file": ("g.csv", b"x" * 2000)})
        assert (refused.status_code, refused.headers["content-type"]) == (413, PROBLEM)
        assert "1000 bytes" in refused.json()["detail"]
