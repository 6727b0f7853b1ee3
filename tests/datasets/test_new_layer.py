"""A new analysable layer is one YAML file: the API, its OpenAPI document and the CLI take it.

The layer added here serves stairwells from the candidate sites (as if each were built): its
kinds are the sites' `suitable_for` values, and sites for both uses reach 100 m. No code names it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from gis_service.catalog import load_catalog
from tests.conftest import LiveServer, catalog_copy
from tests.datasets.conftest import COMPOUND_34, rows

UTM_GUANGZHOU = 32649
NEW_LAYER: dict[str, Any] = {
    "id": "site_reach",
    "table": "candidate_site",
    "title": {"zh": "候选用地服务范围", "en": "Reach of candidate sites"},
    "description": {"zh": "若每块候选用地都建成,谁在步行范围内",
                    "en": "Who would be within walking distance of the candidate sites"},
    "geometry": "multipolygon",
    "fields": [
        {"name": "name", "type": "string", "label": {"zh": "名称", "en": "Name"}},
        {"name": "suitable_for", "type": "string", "label": {"zh": "适宜用途", "en": "Use"},
         "enum": ["garden", "parking", "both"],
         "enum_labels": {"garden": {"zh": "花园", "en": "Garden"},
                         "parking": {"zh": "停车", "en": "Parking"},
                         "both": {"zh": "花园与停车", "en": "Both"}}},
    ],
    "tiles": {"minzoom": 12, "properties": ["id", "name", "suitable_for"]},
    "service": {"radii_m": {"default": 300, "both": 100}, "kind_field": "suitable_for"},
}  # fmt: skip
SERVED = ["facilities", "gardens", "parking", "site_reach"]


@pytest.fixture(scope="module")
def city_layers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped catalog plus one YAML file."""
    return catalog_copy(tmp_path_factory.mktemp("city") / "layers", {"site_reach": NEW_LAYER})


@pytest.fixture
def city(
    shared_demo_db: Engine, city_layers: Path, serve: Callable[[FastAPI], LiveServer]
) -> LiveServer:
    """The app built for that catalog, on the shared demo district."""
    return serve(create_app(shared_demo_db, catalog=load_catalog(city_layers)))


def test_the_openapi_document_lists_the_catalogs_layers(city: LiveServer) -> None:
    with city.client() as http:
        document = http.get("/openapi.json").json()
    for path in ("/analysis/service-areas", "/analysis/gaps"):
        parameters = {p["name"]: p["schema"] for p in document["paths"][path]["get"]["parameters"]}
        assert parameters["layer"]["enum"] == SERVED
        assert parameters["speed"]["enum"] == ["normal", "elderly"]
        assert "site_reach: garden, parking, both" in parameters["kind"]["description"]
    siting = document["components"]["schemas"]["SitingRequest"]["properties"]
    assert siting["layer"]["enum"] == SERVED


def nearest_sites(engine: Engine) -> dict[int, tuple[int, float]]:
    """Per stairwell of compound 34: the nearest site for both uses and the distance to its
    outline (as the crow flies, an area is reached at its edge), by PostGIS."""
    found = rows(engine, f"""
        SELECT DISTINCT ON (s.id) s.id, c.id AS site,
               ST_Distance(ST_Transform(s.geom, {UTM_GUANGZHOU}),
                           ST_Transform(c.geom, {UTM_GUANGZHOU})) AS d
        FROM stairwell s CROSS JOIN candidate_site c
        WHERE s.compound_id = :compound AND c.suitable_for = 'both'
        ORDER BY s.id, d""", compound=COMPOUND_34)  # fmt: skip
    return {r["id"]: (r["site"], r["d"]) for r in found}


def test_the_new_layer_is_analysed_with_its_own_kinds_and_radii(
    city: LiveServer, shared_demo_db: Engine, tokens: dict[str, str]
) -> None:
    truth = nearest_sites(shared_demo_db)
    params = {"layer": "site_reach", "mode": "crow", "f": "json", "compound_id": COMPOUND_34,
              "level": "stairwell"}
    with city.client(tokens["analyst"]) as http:
        both = http.get("/analysis/service-areas", params={**params, "kind": "both"})
        garden = http.get("/analysis/service-areas", params={**params, "kind": "garden"})
    assert both.status_code == 200, both.text
    body = both.json()
    assert body["parameters"]["radius_m"] == 100.0  # the new layer's radius for this kind
    assert {s["id"] for s in body["stairwells"]} == set(truth)
    for stairwell in body["stairwells"]:
        site, distance = truth[stairwell["id"]]
        assert stairwell["facility_id"] == site
        assert stairwell["distance_m"] == pytest.approx(distance, abs=0.5)
        assert stairwell["served"] == (distance <= 100.0)
    assert 0 < sum(s["served"] for s in body["stairwells"]) < len(truth)
    # the demo has no site for gardens only: that kind serves nobody, at the default radius
    assert garden.json()["parameters"]["radius_m"] == 300.0
    assert {s["facility_id"] for s in garden.json()["stairwells"]} == {None}


def test_unknown_layers_and_kinds_are_422_naming_the_allowed_values(
    city: LiveServer, shared_live: LiveServer, tokens: dict[str, str]
) -> None:
    with city.client(tokens["planner"]) as http:
        layer = http.get("/analysis/gaps", params={"layer": "shops"})
        kind = http.get("/analysis/gaps", params={"layer": "site_reach", "kind": "pocket_park"})
    assert layer.status_code == 422
    assert layer.json()["errors"] == [{
        "field": "layer",
        "message": "unknown layer 'shops'; one of: facilities, gardens, parking, site_reach"}]
    assert kind.status_code == 422
    assert kind.json()["errors"][0]["message"].endswith("one of: garden, parking, both")
    with shared_live.client(tokens["planner"]) as http:  # the shipped catalog has no such layer
        shipped = http.get("/analysis/gaps", params={"layer": "site_reach"})
    assert shipped.status_code == 422 and "site_reach" in shipped.text


def cli(engine: Engine, layers: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`gis-service analyze ...` with a city's catalog (GIS_LAYERS_DIR)."""
    env = {**os.environ, "GIS_DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "GIS_LAYERS_DIR": str(layers), "COLUMNS": "200"}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-c", "from gis_service.cli import main; main()", "analyze", *args],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def test_the_cli_takes_the_new_layer_from_gis_layers_dir(
    city: LiveServer, shared_demo_db: Engine, city_layers: Path, tokens: dict[str, str]
) -> None:
    usage = cli(shared_demo_db, city_layers, "gaps", "--help")
    assert "Analysable layer: facilities, gardens, parking, site_reach" in usage.stdout
    out = cli(shared_demo_db, city_layers, "gaps", "--layer", "site_reach", "--kind", "both",
              "--mode", "crow", "--level", "community", "-f", "json")  # fmt: skip
    assert out.returncode == 0, out.stderr
    params = {"layer": "site_reach", "kind": "both", "mode": "crow", "level": "community"}
    with city.client(tokens["planner"]) as http:
        api = http.get("/analysis/gaps", params=params).json()
    assert json.loads(out.stdout)["rows"] == api["rows"]
    assert sum(r["unserved_stairwells"] for r in api["rows"]) > 0
