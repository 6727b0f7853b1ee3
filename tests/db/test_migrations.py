"""Migrations: upgrade from empty, downgrade, upgrade again; the models match the schema."""

from __future__ import annotations

import sqlalchemy as sa

from gis_service.db import migrate
from gis_service.db.cluster import ManagedCluster
from gis_service.db.engine import create_db_engine
from gis_service.ingest.demo_load import load_demo


def tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"spatial_ref_sys"}


def test_upgrade_downgrade_upgrade(pg_cluster: ManagedCluster, fresh_database: str) -> None:
    engine = create_db_engine(pg_cluster.url(fresh_database))
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert {"stairwell", "building", "edit_log", "retrofit_batch", "candidate_site"} <= tables(
        engine
    )
    assert migrate.schema_drift(engine) == []
    with engine.connect() as conn:
        statuses = (
            conn.execute(sa.text("SELECT code FROM elevator_status ORDER BY rank")).scalars().all()
        )
        indexes = conn.execute(
            sa.text("SELECT count(*) FROM pg_indexes WHERE indexdef LIKE '%USING gist (%'")
        ).scalar_one()
        spatial = conn.execute(
            sa.text(
                "SELECT count(*) FROM geometry_columns "
                "WHERE srid = 4326 AND f_table_schema = 'public'"
            )
        ).scalar_one()
    assert statuses == [
        "none",
        "proposed",
        "consenting",
        "applied",
        "approved",
        "under_construction",
        "in_service",
        "infeasible",
    ]
    assert indexes == spatial == 17  # every geometry is EPSG:4326 with its GiST index

    load_demo(engine)  # downgrade must work with data present too
    migrate.downgrade(engine, "0018")  # a register loaded before stairwells said they have one
    versions = "SELECT id, version FROM stairwell ORDER BY id"
    with engine.begin() as conn:  # the demo registers every stairwell's households but one's
        conn.execute(sa.text("DELETE FROM household WHERE stairwell_id = "
                             "(SELECT min(stairwell_id) FROM household)"))  # fmt: skip
        before = conn.execute(sa.text(versions)).all()
    migrate.upgrade(engine)
    with engine.connect() as conn:
        said = conn.execute(sa.text(
            "SELECT has_register, count(*) FROM stairwell s GROUP BY 1 HAVING bool_and("
            "has_register = EXISTS (SELECT 1 FROM household h WHERE h.stairwell_id = s.id))"
        )).all()  # fmt: skip
        assert dict(said).keys() == {True, False}  # each told, and rightly: both kinds exist
        assert conn.execute(sa.text(versions)).all() == before  # no edit: no offline conflict
    migrate.downgrade(engine, "base")
    assert tables(engine) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert migrate.schema_drift(engine) == []
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM stairwell")).scalar_one() == 0
    engine.dispose()
