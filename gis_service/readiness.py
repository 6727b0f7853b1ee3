"""What a database needs before the service may answer: the migration head and the gis_* roles."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.auth import DB_ROLES
from gis_service.db import migrate

ROLE_STATE_SQL = sa.text(
    "SELECT r.name, p.oid IS NOT NULL AS exists, "
    "p.oid IS NOT NULL AND pg_has_role(current_user, p.oid, 'MEMBER') AS usable "
    "FROM unnest(CAST(:roles AS text[])) AS r(name) LEFT JOIN pg_roles p ON p.rolname = r.name "
    "ORDER BY r.name"
)


def database_problems(engine: Engine) -> list[str]:
    """Why the database cannot serve the code yet (empty when it can), each with its remedy."""
    problems = []
    current = migrate.current_revision(engine)
    head = migrate.head_revision()
    if current != head:
        problems.append(
            f"database at revision {current}, code expects {head}: run gis-service db migrate"
        )
    with engine.connect() as conn:
        rows = conn.execute(ROLE_STATE_SQL, {"roles": sorted(DB_ROLES.values())}).all()
    absent = [row.name for row in rows if not row.exists]
    unusable = [row.name for row in rows if row.exists and not row.usable]
    if absent:
        problems.append(
            f"the database roles {', '.join(absent)} do not exist: restore with "
            "`gis-service db restore` (it creates them) or run the migrations on an empty database"
        )
    if unusable:
        problems.append(
            f"the service's user may not switch to {', '.join(unusable)}: an administrator runs "
            f"GRANT {', '.join(unusable)} TO the service's database user"
        )
    return problems
