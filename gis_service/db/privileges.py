"""What the database user needs to run the migrations, checked before the first one runs.

A superuser needs nothing more. Otherwise the user must own the database's schema public (in
PostgreSQL 15 the database owner does) and be able to create and grant the service's gis_* roles
(CREATEROLE, or ADMIN OPTION on each role an administrator created beforehand); PostGIS must have
been created by a superuser (engine.check_database says so).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

USER_SQL = sa.text(
    "SELECT current_user AS name, r.rolsuper AS superuser, r.rolcreaterole AS createrole, "
    "pg_has_role(current_user, n.nspowner, 'USAGE') AS owns_public, current_database() AS db "
    "FROM pg_roles r, pg_namespace n WHERE r.rolname = current_user AND n.nspname = 'public'"
)
ROLES_SQL = sa.text(
    "SELECT r.name, p.oid IS NOT NULL AS exists, p.oid IS NOT NULL AND "
    "pg_has_role(current_user, p.oid, 'MEMBER WITH ADMIN OPTION') AS grantable "
    "FROM unnest(CAST(:roles AS text[])) AS r(name) LEFT JOIN pg_roles p ON p.rolname = r.name"
)


def missing_privileges(engine: Engine, roles: list[str]) -> str | None:
    """One line naming what the user lacks and the SQL an administrator runs (None: nothing)."""
    with engine.connect() as conn:
        user = conn.execute(USER_SQL).one()
        if user.superuser:
            return None
        states = conn.execute(ROLES_SQL, {"roles": roles}).all()
    lacks, sql = [], []
    if not user.createrole and not all(state.grantable for state in states):
        lacks.append("CREATEROLE (to create the gis_* roles and grant them to itself)")
        sql.append(f'ALTER ROLE "{user.name}" CREATEROLE;')
    if not user.owns_public:
        lacks.append("ownership of schema public")
        sql.append(f'ALTER SCHEMA public OWNER TO "{user.name}";')
    if not lacks:
        return None
    return (
        f"the database user {user.name} lacks {' and '.join(lacks)}, which the migrations need: "
        f"an administrator runs, in database {user.db}: {' '.join(sql)} (or use a superuser)"
    )
