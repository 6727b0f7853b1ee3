"""Real clients of the features API: GDAL's OAPIF driver (schemathesis: test_openapi.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pyogrio
from sqlalchemy.engine import Engine

from tests.conftest import DemoTemplate
from tests.features.live import running


def gdal(*args: str, token: str) -> subprocess.CompletedProcess[str]:
    """Run a GDAL command line with the bearer token as an HTTP header."""
    assert shutil.which(args[0]), f"{args[0]} is missing: install gdal-bin (make system)"
    command = [
        args[0],
        "--config",
        "GDAL_HTTP_HEADERS",
        f"Authorization: Bearer {token}",
        *args[1:],
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    return done


def test_gdal_lists_collections_and_copies_compound_34(
    shared_demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path
) -> None:
    token = demo_template.tokens["analyst"]
    out = tmp_path / "compound_34.gpkg"
    with running(shared_demo_db) as live:
        info = gdal("ogrinfo", "-ro", f"OAPIF:{live.url}/", token=token)
        gdal(
            "ogr2ogr",
            "-f",
            "GPKG",
            str(out),
            f"OAPIF:{live.url}/",
            "stairwells",
            "-where",
            "compound_id = 5",
            token=token,
        )
    for name in (
        "stairwells",
        "buildings",
        "grids",
        "compounds",
        "gardens",
        "parking",
        "facilities",
        "streets",
        "candidate_sites",
        "issues",
        "communities",
    ):
        assert f": {name} " in info.stdout, info.stdout
    assert "(Point)" in info.stdout and "(Multi Polygon)" in info.stdout
    meta = pyogrio.read_info(out)
    assert meta["features"] == 57
    assert meta["geometry_type"] == "Point"
    assert {"elevator_status", "households", "compound_id"} <= set(meta["fields"])
    frame = pyogrio.read_dataframe(out)
    assert (frame["elevator_status"] == "in_service").sum() == 15
    assert (frame["elevator_status"] == "applied").sum() == 42
