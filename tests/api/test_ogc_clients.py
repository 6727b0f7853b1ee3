"""Standard clients read every collection: geopandas/pyogrio with its bundled GDAL (3.12),
Debian's ogr2ogr (GDAL 3.6), GDAL's OGCAPI driver for vector tiles, and owslib."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyogrio
import pytest
import sqlalchemy as sa
from owslib.ogcapi.features import Features
from sqlalchemy.engine import Engine

from gis_service.catalog import default_catalog
from tests.conftest import DemoTemplate, LiveServer
from tests.features.live import running

READ_ALL = """
import json, sys, geopandas
found = {}
for layer in sys.argv[2:]:
    frame = geopandas.read_file(f"OAPIF:{sys.argv[1]}/", layer=layer, fid_as_index=True)
    found[layer] = {"ids": [int(i) for i in frame.index], "crs": frame.crs.to_string(),
                    "types": {k: str(v) for k, v in frame.dtypes.items()}}
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def live(shared_demo_db: Engine) -> Iterator[LiveServer]:
    """One live server on the shared (read-only) demo."""
    with running(shared_demo_db) as server:
        yield server


def ids_in(engine: Engine, table: str) -> list[int]:
    """Every feature id of a table, as the database owner sees them."""
    with engine.connect() as conn:
        return sorted(conn.execute(sa.text(f'SELECT id FROM "{table}"')).scalars())


def read_with_geopandas(url: str, layers: list[str], token: str | None) -> dict[str, dict]:
    """geopandas.read_file over OAPIF in a fresh interpreter, as a user's script runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GDAL_HTTP")}
    if token:
        env |= {"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": token}
    done = subprocess.run(
        [sys.executable, "-c", READ_ALL, url, *layers],
        capture_output=True, text=True, timeout=300, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found: dict[str, dict] = json.loads(done.stdout.splitlines()[-1])
    return found


def test_geopandas_reads_every_collection_anonymously_and_with_a_token(
    live: LiveServer, shared_demo_db: Engine, demo_template: DemoTemplate
) -> None:
    assert pyogrio.__gdal_version__ >= (3, 9, 0)  # the GDAL that asks for crs=CRS84
    catalog = default_catalog().layers
    public = [layer.id for layer in catalog.values() if layer.public]
    anonymous = read_with_geopandas(live.url, public, None)
    signed_in = read_with_geopandas(live.url, list(catalog), demo_template.tokens["analyst"])
    for name, layer in catalog.items():
        expected = ids_in(shared_demo_db, layer.table)  # may be empty (households)
        for seen in ([anonymous] if layer.public else []) + [signed_in]:
            assert sorted(seen[name]["ids"]) == expected, name  # none missing, none twice
            assert "CRS84" in seen[name]["crs"] or "4326" in seen[name]["crs"]
    types = signed_in["stairwells"]["types"]
    assert types["households"] == "int32" and types["last_surveyed_on"].startswith("datetime64")
    assert types["batch_id"] in ("int32", "float64")  # integer from the schema (nulls: float)


def test_geopandas_without_a_token_gets_no_private_collection(live: LiveServer) -> None:
    done = subprocess.run(
        [sys.executable, "-c", READ_ALL, live.url, "stairwells"],
        capture_output=True, text=True, timeout=120, check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("GDAL_HTTP")},
    )
    assert done.returncode != 0


def test_debian_ogr2ogr_copies_with_schema_types(
    live: LiveServer, shared_demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path
) -> None:
    out = tmp_path / "copy.gpkg"
    token = demo_template.tokens["analyst"]
    for layer in ("stairwells", "gardens"):
        done = subprocess.run(
            ["ogr2ogr", "--config", "GDAL_HTTP_HEADERS", f"Authorization: Bearer {token}",
             "-oo", "PAGE_SIZE=1000", "-f", "GPKG", "-append", str(out), f"OAPIF:{live.url}/",
             layer],
            capture_output=True, text=True, timeout=300, check=False,
        )
        assert done.returncode == 0, done.stderr
    for layer, table in (("stairwells", "stairwell"), ("gardens", "garden")):
        frame = pyogrio.read_dataframe(out, layer=layer, fid_as_index=True)
        assert sorted(frame.index) == ids_in(shared_demo_db, table)  # feature ids kept as FIDs
    info = pyogrio.read_info(out, layer="stairwells")
    types = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert types["batch_id"] == "int32"  # from the schema, not guessed from the first page
    assert types["last_surveyed_on"] == "datetime64[D]"


TILES_READ = """
import json, sys, pyogrio
frame = pyogrio.read_dataframe(sys.argv[1], layer=sys.argv[2], API="TILES")
west, south, east, north = (float(v) for v in frame.total_bounds)
print(json.dumps({"ids": sorted(int(i) for i in frame["id"].unique()), "crs": frame.crs.name,
                  "bounds": [west, south, east, north]}))
"""


def read_tiles(url: str, layer: str, token: str | None = None) -> dict:
    """GDAL's OGCAPI driver (API=TILES, no extent options) in a fresh interpreter: GDAL must not
    hold this one's GIL while the server answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GDAL_HTTP")}
    if token:
        env |= {"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": token}
    done = subprocess.run(
        [sys.executable, "-c", TILES_READ, url, layer],
        capture_output=True, text=True, timeout=180, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found: dict = json.loads(done.stdout.splitlines()[-1])
    return found


def test_ogcapi_driver_finds_the_vector_tiles_without_extent_options(
    live: LiveServer, shared_demo_db: Engine, demo_template: DemoTemplate
) -> None:
    # GDAL takes the collection's CRS84 extent as coordinates of the tile matrix set it picks;
    # it picks WorldCRS84Quad when offered, where that reading is right.
    gardens = read_tiles(f"OGCAPI:{live.url}/collections/gardens", "Zoom level 16")
    assert gardens["ids"] == ids_in(shared_demo_db, "garden")
    assert gardens["crs"] == "WGS 84 (CRS84)"
    with shared_demo_db.connect() as conn:
        box = conn.execute(sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
            "FROM (SELECT ST_Extent(geom) AS e FROM garden) s")).one()
    assert gardens["bounds"] == pytest.approx(list(box), abs=1e-5)  # lon/lat, not tile units
    token = demo_template.tokens["analyst"]
    stairwells = read_tiles(f"OGCAPI:{live.url}/collections/stairwells", "Zoom level 14", token)
    assert stairwells["ids"] == ids_in(shared_demo_db, "stairwell")  # every one, none twice


def test_owslib_collections_queryables_paging_and_cql2(
    live: LiveServer, shared_demo_db: Engine, demo_template: DemoTemplate
) -> None:
    anonymous = Features(f"{live.url}/")  # first: owslib keeps the documents it has read
    assert "stairwells" not in anonymous.feature_collections()
    assert "gardens" in anonymous.feature_collections()
    token = demo_template.tokens["analyst"]
    client = Features(f"{live.url}/", headers={"Authorization": f"Bearer {token}"})
    assert set(client.feature_collections()) == set(default_catalog().layers)
    assert "elevator_status" in client.collection_queryables("stairwells")["properties"]
    assert client.collection_schema("stairwells")["properties"]["batch_id"]["type"] == "integer"
    seen: list[int] = []
    offset = 0
    while True:
        page = client.collection_items("stairwells", limit=300, offset=offset)
        seen += [f["id"] for f in page["features"]]
        if not any(link["rel"] == "next" for link in page["links"]):
            break
        offset += 300
    assert sorted(seen) == ids_in(shared_demo_db, "stairwell")
    applied = client.collection_items(
        "stairwells", limit=2000, filter="elevator_status = 'applied' AND compound_id = 5"
    )
    with shared_demo_db.connect() as conn:
        expected = conn.execute(
            sa.text("SELECT count(*) FROM stairwell WHERE elevator_status = 'applied' "
                    "AND compound_id = 5")
        ).scalar_one()
    assert applied["numberMatched"] == len(applied["features"]) == expected == 42
