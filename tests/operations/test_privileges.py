"""A database user without the privileges the migrations need: one line saying what to run."""

from __future__ import annotations

import uuid

from gis_service.db import migrate
from gis_service.db.cluster import ManagedCluster, ensure_postgis
from tests.cli.test_cli import assert_one_clear_line, run
from tests.conftest import admin


def own_database(cluster: ManagedCluster, owner_of_db: bool) -> tuple[str, str]:
    """A login user and its URL to a new database with PostGIS (owned by the user or not)."""
    user, password = f"u_{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin(cluster, f"CREATE ROLE {user} LOGIN PASSWORD '{password}'")
    admin(cluster, f'CREATE DATABASE "{name}"' + (f" OWNER {user}" if owner_of_db else ""))
    admin(cluster, f'GRANT CONNECT, CREATE ON DATABASE "{name}" TO {user}')
    ensure_postgis(cluster.conninfo(name))  # a superuser created PostGIS beforehand
    return user, f"postgresql://{user}:{password}@127.0.0.1:{cluster.port}/{name}"


def test_an_owner_without_createrole_gets_one_line(pg_cluster: ManagedCluster) -> None:
    user, url = own_database(pg_cluster, owner_of_db=True)
    result = run("db", "migrate", env={"GIS_DATABASE_URL": url})
    assert_one_clear_line(result, f"the database user {user} lacks CREATEROLE")
    assert f'ALTER ROLE "{user}" CREATEROLE;' in result.stderr
    assert "schema public" not in result.stderr  # the database owner owns it (PostgreSQL 15)
    assert url.split(":")[2].split("@")[0] not in result.stderr + result.stdout  # no password
    admin(pg_cluster, f"ALTER ROLE {user} CREATEROLE")  # what the line says, then it works
    done = run("db", "migrate", env={"GIS_DATABASE_URL": url})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"database at revision {migrate.head_revision()}"


def test_a_user_not_owning_the_schema_gets_one_line(pg_cluster: ManagedCluster) -> None:
    user, url = own_database(pg_cluster, owner_of_db=False)
    admin(pg_cluster, f"ALTER ROLE {user} CREATEROLE")
    result = run("demo", env={"GIS_DATABASE_URL": url})
    assert_one_clear_line(result, "lacks ownership of schema public")
    assert f'ALTER SCHEMA public OWNER TO "{user}";' in result.stderr
    assert "CREATEROLE" not in result.stderr
