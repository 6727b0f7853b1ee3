"""GDAL's MVT driver reads our tiles over HTTP: a tile, and a zoom level through metadata.json."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

from tests.tiles.conftest import TileServer, compound34, rows, tile_pixel

OGRINFO = shutil.which("ogrinfo")


def ogrinfo(*args: str) -> str:
    """Run ogrinfo (installed by `make`; a missing one fails the test, never skips it)."""
    assert OGRINFO, "ogrinfo is missing: apt-get install gdal-bin (make does it)"
    done = subprocess.run(
        [OGRINFO, "-ro", "-al", *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def bearer(server: TileServer, user: str) -> list[str]:
    """ogrinfo options sending a demo user's bearer token."""
    return ["--config", "GDAL_HTTP_HEADERS", f"Authorization: Bearer {server.tokens[user]}"]


def ids_of(output: str) -> list[int]:
    """The 'id' attribute of every feature ogrinfo printed."""
    return [int(float(v)) for v in re.findall(r"^\s+id \(\w+\) = (\S+)$", output, re.M)]


def test_gdal_reads_one_tile_with_a_token(tiles: TileServer) -> None:
    first = compound34(tiles.engine)[0]
    x, y, _, _ = tile_pixel(first.lon, first.lat, 16)
    url = f"MVT:{tiles.live.url}/tiles/stairwells/16/{x}/{y}.pbf"
    output = ogrinfo(*bearer(tiles, "planner"), url)
    assert "Layer name: stairwells" in output
    assert first.id in ids_of(output)
    assert "elevator_status (String) = " in output
    inside = {  # GDAL clips away the points drawn in the tile's buffer
        r.id for r in rows(tiles.engine, "SELECT id, ST_X(geom) AS lon, ST_Y(geom) AS lat "
                                         "FROM stairwell")
        if tile_pixel(r.lon, r.lat, 16)[:2] == (x, y)
    }
    assert sorted(ids_of(output)) == sorted(inside) and len(inside) > 50


def test_gdal_reads_a_zoom_level_through_metadata_json(tiles: TileServer) -> None:
    url = f"MVT:{tiles.live.url}/tiles/stairwells/16"
    output = ogrinfo(*bearer(tiles, "planner"), url)
    assert "ZOOM_LEVEL=16" in output
    assert re.search(r"^households: Real", output, re.M)  # the schema came from metadata.json
    every = {r.id for r in rows(tiles.engine, "SELECT id FROM stairwell")}
    found = ids_of(output)
    assert set(found) == every and len(found) == len(every)  # each stairwell exactly once


def test_gdal_reads_a_public_layer_without_a_token(tiles: TileServer) -> None:
    output = ogrinfo(f"MVT:{tiles.live.url}/tiles/gardens/15", "-so")
    assert "Layer name: gardens" in output and "Geometry: Multi Polygon" in output
    count = int(re.search(r"Feature Count: (\d+)", output).group(1))  # type: ignore[union-attr]
    gardens = rows(tiles.engine, "SELECT count(*) AS n FROM garden")[0].n
    assert count >= gardens > 0


def test_both_gdals_read_a_layer_set_by_zoom_and_neither_has_a_zoomless_root(
    tiles: TileServer,
) -> None:
    # GDAL's MVT driver opens `…/{z}` through metadata.json; any other URL it fetches and parses
    # as one tile (ogrmvtdataset.cpp, Open): the root answers TileJSON, which it cannot read.
    zoom = f"MVT:{tiles.live.url}/tiles/gardens,parking/16"
    debian = ogrinfo(zoom, "-so")
    assert "Layer name: gardens" in debian and "Layer name: parking" in debian
    script = ("import json, sys, pyogrio\n"
              "print(json.dumps({n: sorted(int(i) for i in pyogrio.read_dataframe("
              "sys.argv[1], layer=n)['id'].unique()) for n in ('gardens', 'parking')}))")
    done = subprocess.run([sys.executable, "-c", script, zoom], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    bundled = json.loads(done.stdout)
    for layer, table in (("gardens", "garden"), ("parking", "parking")):
        assert bundled[layer] == sorted(r.id for r in rows(tiles.engine, f"SELECT id FROM {table}"))
    root = subprocess.run([OGRINFO, "-ro", "-so", f"MVT:{tiles.live.url}/tiles/gardens,parking"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert root.returncode != 0 and "404" not in root.stderr  # it got the TileJSON, not a 404
