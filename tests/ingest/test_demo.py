"""The demo district: deterministic, real figures, a connected network, a consistent hierarchy."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sqlalchemy.engine import Engine

from gis_service.auth import hash_token
from gis_service.errors import InvalidInput
from gis_service.ingest.demo import generate_city
from gis_service.ingest.demo_load import load_demo
from tests.conftest import DemoTemplate, scalar


def rows(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def test_same_seed_same_city_other_seed_other_city() -> None:
    first, again, other = generate_city(7).rows, generate_city(7).rows, generate_city(8).rows
    assert first == again
    assert first["stairwell"] != other["stairwell"]


def test_compound_34_has_57_stairwells_15_in_service_42_in_one_batch(
    shared_demo_db: Engine,
) -> None:
    found = rows(
        shared_demo_db,
        """
        SELECT count(*), count(*) FILTER (WHERE s.elevator_status = 'in_service'),
               count(DISTINCT s.batch_id) FILTER (WHERE s.elevator_status <> 'in_service'),
               count(*) FILTER (WHERE s.batch_id IS NOT NULL)
        FROM stairwell s JOIN compound c ON c.id = s.compound_id
        WHERE c.name = '水荫路34号大院'""",
    )
    assert found == [(57, 15, 1, 42)]
    assert rows(
        shared_demo_db,
        "SELECT name_en, status FROM retrofit_batch b JOIN compound c ON c.id = b.compound_id",
    ) == [("Shuiyin Road No. 34 Compound", "applied")]
    lon, lat = rows(
        shared_demo_db,
        "SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) "
        "FROM compound WHERE name = '水荫路34号大院'",
    )[0]
    assert 113.28 < float(lon) < 113.31 and 23.13 < float(lat) < 23.16  # Shuiyin Road, Yuexiu


def test_compound_34_is_the_same_whatever_the_seed() -> None:
    for seed in (1, 2):
        sw = generate_city(seed).rows["stairwell"]
        compound = generate_city(seed).rows["compound"]
        cid = compound["id"][compound["name"].index("水荫路34号大院")]
        statuses = [
            s for s, c in zip(sw["elevator_status"], sw["compound_id"], strict=True) if c == cid
        ]
        assert len(statuses) == 57 and statuses.count("in_service") == 15


def test_every_kind_and_the_real_hierarchy_are_present(shared_demo_db: Engine) -> None:
    assert rows(shared_demo_db, "SELECT name FROM district") == [("越秀区",)]
    assert rows(shared_demo_db, "SELECT name FROM subdistrict") == [("黄花岗街道",)]
    assert ("水荫南社区",) in rows(shared_demo_db, "SELECT name FROM community")
    kinds = {
        table: {r[0] for r in rows(shared_demo_db, f"SELECT DISTINCT kind FROM {table}")}
        for table in ("garden", "parking", "facility")
    }
    assert kinds["garden"] == {"neighbourhood_garden", "pocket_park", "street_garden"}
    assert kinds["parking"] == {"surface_lot", "stacked_garage", "bicycle_shed", "ev_charging"}
    assert kinds["facility"] == {
        r[0] for r in rows(shared_demo_db, "SELECT code FROM facility_kind")
    }
    shared = scalar(
        shared_demo_db,
        "SELECT count(*) FROM parking p JOIN garden g ON g.id = p.garden_id "
        "WHERE ST_Within(p.geom, g.geom)",
    )
    assert shared == 1
    assert scalar(shared_demo_db, "SELECT count(*) FROM candidate_site") > 0
    assert scalar(shared_demo_db, "SELECT count(*) FROM issue WHERE status = 'open'") >= 3
    assert scalar(shared_demo_db, "SELECT count(*) FROM survey") > 0
    workers = rows(
        shared_demo_db,
        "SELECT u.display_name, count(ug.grid_id) FROM app_user u "
        "JOIN user_grid ug ON ug.user_id = u.id GROUP BY 1",
    )
    assert len(workers) == scalar(shared_demo_db, "SELECT count(*) FROM grid")
    assert all(name.startswith("网格员") for name, _ in workers)  # type: ignore[union-attr]
    assert {r[0] for r in rows(shared_demo_db, "SELECT role FROM app_user")} == {
        "admin",
        "planner",
        "analyst",
        "grid_worker",
    }


def test_figures_are_plausible(shared_demo_db: Engine) -> None:
    floors_min, floors_max, per_floor_max = rows(
        shared_demo_db,
        "SELECT min(floors), max(floors), max(households::float / floors) FROM building "
        "JOIN stairwell USING (floors)",
    )[0]
    assert (floors_min, floors_max) == (5, 9)
    assert float(per_floor_max) <= 3  # type: ignore[arg-type]
    share_elderly = scalar(
        shared_demo_db, "SELECT sum(elderly_households)::float / sum(households) FROM stairwell"
    )
    assert 0.2 < float(share_elderly) < 0.45  # type: ignore[arg-type]


def test_hierarchy_nests_geometrically(shared_demo_db: Engine) -> None:
    checks = {
        "stairwell on its building": "SELECT count(*) FROM stairwell s JOIN building b "
        "ON b.id = s.building_id WHERE NOT ST_DWithin(s.geom, b.geom, 1e-6)",
        "building in its compound": "SELECT count(*) FROM building b JOIN compound c "
        "ON c.id = b.compound_id WHERE NOT ST_Within(b.geom, c.geom)",
        "building in its grid": "SELECT count(*) FROM building b JOIN grid g "
        "ON g.id = b.grid_id WHERE NOT ST_Within(b.geom, g.geom)",
        "compound in its community": "SELECT count(*) FROM compound c JOIN community m "
        "ON m.id = c.community_id WHERE NOT ST_Within(c.geom, m.geom)",
    }
    for what, sql in checks.items():
        assert scalar(shared_demo_db, sql) == 0, what


def test_street_network_reaches_every_stairwell(shared_demo_db: Engine) -> None:
    lines = rows(shared_demo_db, "SELECT ST_AsBinary(ST_Transform(geom, 32649)) FROM street")
    geoms = shapely.from_wkb([r[0] for r in lines])
    ends = np.round(
        np.concatenate([shapely.get_coordinates(shapely.get_point(geoms, i)) for i in (0, -1)]), 2
    )
    _, node = np.unique(ends, axis=0, return_inverse=True)
    n = len(geoms)
    graph = coo_matrix((np.ones(n), (node[:n], node[n:])), shape=(node.max() + 1,) * 2)
    components, _ = connected_components(graph, directed=False)
    assert components == 1  # one walkable network, noded at every junction
    far = scalar(
        shared_demo_db,
        "SELECT count(*) FROM stairwell s WHERE NOT EXISTS ("
        "SELECT 1 FROM street t WHERE ST_DWithin(s.geom::geography, "
        "t.geom::geography, 6))",
    )
    assert far == 0  # every entrance is a few metres from a lane


def test_tokens_are_stored_hashed(shared_demo_db: Engine, demo_template: DemoTemplate) -> None:
    token = demo_template.tokens["grid01"]
    assert (
        scalar(
            shared_demo_db,
            "SELECT u.username FROM api_token t JOIN app_user u ON u.id = t.user_id "
            "WHERE t.token_hash = :h",
            h=hash_token(token),
        )
        == "grid01"
    )
    assert (
        scalar(shared_demo_db, "SELECT count(*) FROM api_token WHERE token_hash LIKE 'gis_%'") == 0
    )


def test_demo_refuses_a_database_with_data(demo_db: Engine) -> None:
    before = scalar(demo_db, "SELECT count(*) FROM stairwell")
    with pytest.raises(InvalidInput, match="already holds"):
        load_demo(demo_db)
    assert scalar(demo_db, "SELECT count(*) FROM stairwell") == before


def test_scale_grows_the_city_keeping_the_base(empty_db: Engine) -> None:
    report = load_demo(empty_db, target_stairwells=5000)
    assert report.counts["stairwell"] >= 5000
    assert scalar(empty_db, "SELECT count(*) FROM subdistrict") >= 5
    assert (
        scalar(
            empty_db,
            "SELECT count(*) FROM stairwell s JOIN compound c ON c.id = s.compound_id "
            "WHERE c.name = '水荫路34号大院'",
        )
        == 57
    )
    assert scalar(empty_db, "SELECT count(*) FROM stairwell WHERE NOT ST_IsValid(geom)") == 0
    new_id = scalar(
        empty_db,
        "INSERT INTO facility (name, kind, geom) VALUES ('新站', 'police_room', "
        "ST_SetSRID(ST_MakePoint(113.3, 23.15), 4326)) RETURNING id",
    )
    assert new_id == report.counts["facility"] + 1  # sequences continue after the loaded ids
