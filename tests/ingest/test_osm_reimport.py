"""Re-importing OSM: the same extract changes nothing; a modified one updates what changed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.errors import InvalidInput
from gis_service.ingest.osm import OsmData, read_osm
from gis_service.ingest.osm_load import OWNED, load_osm
from tests.ingest.osm_edits import pick_edits, write_edited
from tests.realdata import HELSINKI, helsinki

FRAMES = {"building": "buildings", "stairwell": "stairwells", "garden": "gardens",
          "parking": "parking", "street": "streets"}  # fmt: skip


def snapshot(engine: Engine) -> dict[str, pd.DataFrame]:
    """Every imported table's rows: id, source_key, version."""
    with engine.connect() as conn:
        return {t: pd.read_sql(sa.text(f"SELECT id, source_key, version FROM {t}"), conn)
                for t in FRAMES}  # fmt: skip


def data_versions(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT table_name, version FROM data_version"))
        return {str(t): int(v) for t, v in rows}


def frame_of(data: OsmData, table: str) -> pd.DataFrame:
    frame = getattr(data, FRAMES[table]).copy()
    if table == "stairwell":  # the building a stairwell belongs to, by its key
        frame["building_id"] = data.buildings["source_key"].to_numpy()[frame["building"]]
    return frame.set_index("source_key")


def differences(old: OsmData, new: OsmData, table: str) -> tuple[set, set, set]:
    """Keys changed (owned columns or geometry), added and gone between two reads."""
    a, b = frame_of(old, table), frame_of(new, table)
    common = a.index.intersection(b.index)
    changed = set()
    for key in common:
        x, y = a.loc[key], b.loc[key]
        same = shapely.equals_exact(x.geometry, y.geometry, tolerance=1e-9)
        for column in OWNED[table]:
            u, v = x[column], y[column]
            if isinstance(u, shapely.Geometry) or isinstance(v, shapely.Geometry):
                same &= u is not None and v is not None and shapely.equals_exact(u, v, 1e-9)
            else:
                same &= (pd.isna(u) and pd.isna(v)) or u == v
        if not same:
            changed.add(key)
    return changed, set(b.index) - set(a.index), set(a.index) - set(b.index)


def test_importing_the_same_extract_again_changes_nothing(empty_db: Engine) -> None:
    with empty_db.begin() as conn:
        first = load_osm(conn, helsinki())
    before, versions = snapshot(empty_db), data_versions(empty_db)
    with empty_db.begin() as conn:
        again = load_osm(conn, helsinki())
    assert {t: r.added for t, r in first.items()} == {t: len(f) for t, f in before.items()}
    for table, report in again.items():
        assert (report.added, report.updated, report.vanished) == (0, 0, 0), table
        assert report.unchanged == len(before[table])
    assert data_versions(empty_db) == versions  # not one write
    after = snapshot(empty_db)
    for table in FRAMES:
        assert after[table].sort_values("id").equals(before[table].sort_values("id"))
        assert after[table]["source_key"].str.startswith("osm:").all()


def test_a_modified_extract_updates_exactly_the_changed_rows(
    empty_db: Engine, tmp_path: Path
) -> None:
    old = helsinki()
    edits = pick_edits(HELSINKI, old)
    edited = tmp_path / "helsinki-next.osm.pbf"
    write_edited(HELSINKI, edited, edits)
    new = read_osm(edited)
    with empty_db.begin() as conn:
        load_osm(conn, old)
        surveyed = conn.execute(sa.text(
            "UPDATE stairwell SET households = 31, notes = 'surveyed' WHERE building_id = "
            "(SELECT id FROM building WHERE source_key = :k) RETURNING id"),
            {"k": f"osm:way/{edits.building}"}).scalars().all()  # fmt: skip
    assert surveyed
    before = snapshot(empty_db)
    with empty_db.begin() as conn:
        reports = load_osm(conn, new)
    after = snapshot(empty_db)
    for table in FRAMES:
        changed, added, gone = differences(old, new, table)
        report = reports[table]
        assert (report.updated, report.added, report.vanished) == (
            len(changed), len(added), len(gone)), table
        rows = after[table].set_index("source_key")
        bumped = set(rows.index[rows["version"] > 1])
        if table == "stairwell":  # the survey bumped these once already
            bumped = set(rows.index[rows["version"] > before[table].set_index(
                "source_key")["version"].reindex(rows.index).fillna(1)])  # fmt: skip
        assert bumped == changed, table
        assert set(rows.index) - set(before[table]["source_key"]) == added
        assert set(report.vanished_keys) == gone
    assert f"osm:way/{edits.building}" in differences(old, new, "building")[0]
    assert f"osm:way/{edits.street}" in differences(old, new, "street")[0]
    assert differences(old, new, "street")[1] == {f"osm:way/{edits.new_way}"}
    assert differences(old, new, "garden")[2] == {f"osm:way/{edits.park}"}
    with empty_db.connect() as conn:
        kept = conn.execute(sa.text(
            "SELECT floors, households, notes FROM stairwell WHERE id = ANY(:ids)"),
            {"ids": surveyed}).all()  # fmt: skip
        parks = conn.execute(sa.text("SELECT count(*) FROM garden")).scalar_one()
    assert {tuple(r) for r in kept} == {(17, 31, "surveyed")}  # OSM's floors, the survey's rest
    assert parks == 17  # the vanished park is reported, not deleted


def test_an_extract_outside_the_service_area_is_refused(demo_db: Engine) -> None:
    with demo_db.connect() as conn:
        buildings = conn.execute(sa.text("SELECT count(*) FROM building")).scalar_one()
    with pytest.raises(InvalidInput, match="service area"), demo_db.begin() as conn:
        load_osm(conn, helsinki())  # Helsinki, into the Guangzhou demo district
    with demo_db.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM building")).scalar_one() == buildings
