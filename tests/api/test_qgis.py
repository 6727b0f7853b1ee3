"""QGIS 3.22 from Debian, headless: an OAPIF layer and a vector tile layer of the compounds load,
their features match the database, and compound 34 renders to a PNG that is not blank."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.engine import Engine

from tests.conftest import DemoTemplate, LiveServer
from tests.features.live import COMPOUND_34, running

PROBE = Path(__file__).with_name("qgis_probe.py")
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's python3-qgis is built for it


@pytest.fixture(scope="module")
def live(shared_demo_db: Engine) -> Iterator[LiveServer]:
    """One live server on the shared (read-only) demo."""
    with running(shared_demo_db) as server:
        yield server


def tile_of(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    """The XYZ tile (x, y) holding a point."""
    n = 1 << zoom
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def inked(png: Path) -> int:
    """Pixels of a rendered map that are not the white background."""
    with Image.open(png) as image:
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=400 * 400) or []
        return sum(count for count, colour in colours if colour != (255, 255, 255))


def test_qgis_reads_compounds_over_oapif_and_vector_tiles(
    live: LiveServer, shared_demo_db: Engine, tmp_path: Path
) -> None:
    assert shutil.which("qgis"), "QGIS is missing: make system installs qgis python3-qgis"
    with shared_demo_db.connect() as conn:
        names = sorted(conn.execute(sa.text("SELECT name FROM compound")).scalars())
        ids = sorted(conn.execute(sa.text("SELECT id FROM compound")).scalars())
        name, lon, lat = conn.execute(
            sa.text("SELECT name, ST_X(c), ST_Y(c) FROM (SELECT name, ST_Centroid(geom) AS c "
                    "FROM compound WHERE id = :id) AS x"),
            {"id": COMPOUND_34},
        ).one()
    assert name == "水荫路34号大院"
    zoom = 13  # the whole demo district lies in one tile
    x, y = tile_of(lon, lat, zoom)
    png = tmp_path / "compound34.png"
    # A clean environment: this interpreter points GDAL_DATA/PROJ_DATA at pyogrio's and
    # pyproj's newer data, which Debian's GDAL 3.6 under QGIS must not read.
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_RUNTIME_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [SYSTEM_PYTHON, "-X", "faulthandler", str(PROBE), live.url, "compounds", name,
         str(zoom), str(x), str(y), str(png)],
        capture_output=True, text=True, timeout=180, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["oapif_valid"] and seen["tiles_valid"] and seen["found"]
    assert seen["oapif_names"] == names  # every compound once
    assert seen["oapif_geometry"] == 2  # polygons
    assert {"name", "year_built"} <= set(seen["oapif_fields"])
    assert seen["tile_ids"] == ids
    for drawn in (png, tmp_path / "compound34-tiles.png"):
        assert inked(drawn) > 400 * 400 // 10, drawn  # the compound fills the map


TOKEN_PROBE = Path(__file__).with_name("qgis_token_probe.py")


def test_qgis_reads_a_grid_workers_issues_with_a_token(
    live: LiveServer, shared_demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path
) -> None:
    """QGIS 3.22 cannot send a bearer header: its Basic authentication with the API token as the
    password reads exactly the grid worker's issues; without it the private layer is refused."""
    with shared_demo_db.connect() as conn:
        mine = sorted([row.stairwell_id, row.category] for row in conn.execute(sa.text(
            "SELECT i.stairwell_id, i.category FROM issue i JOIN user_grid g ON g.grid_id = "
            "i.grid_id JOIN app_user u ON u.id = g.user_id WHERE u.username = 'grid02'"
        )))  # fmt: skip
    assert mine  # the private layer: anonymous callers see none of it
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path)}  # fmt: skip
    seen = {}
    for who, token in (("grid02", demo_template.tokens["grid02"]), ("anonymous", "-")):
        auth_dir = tmp_path / f"auth-{who}"
        auth_dir.mkdir()
        done = subprocess.run(
            [SYSTEM_PYTHON, "-X", "faulthandler", str(TOKEN_PROBE), live.url, "issues", token,
             str(auth_dir)],
            capture_output=True, text=True, timeout=180, env=env, check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        seen[who] = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["grid02"]["valid"] and seen["grid02"]["keys"] == mine  # none missing or twice
    assert seen["anonymous"]["keys"] == []


def test_basic_credentials_take_an_api_token_only(
    live: LiveServer, demo_template: DemoTemplate
) -> None:
    """HTTP Basic is a carrier for an API token: a sign-in password or garbage is 401."""
    token = demo_template.tokens["grid02"]
    password = demo_template.passwords["grid02"]
    with live.client(None) as client:
        url = "/collections/issues/items"
        assert client.get(url).status_code == 401
        assert client.get(url, auth=("anyone", token)).status_code == 200
        assert client.get(url, auth=("grid02", password)).status_code == 401
        broken = client.get(url, headers={"Authorization": "Basic not*base64"})
        assert broken.status_code == 401 and "base64" in broken.json()["detail"]
