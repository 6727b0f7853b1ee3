"""Who is calling: bearer tokens to principals, and the per-transaction database scope."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from gis_service.errors import Unauthorized

DB_ROLES = {
    "anonymous": "gis_anonymous",
    "analyst": "gis_analyst",
    "planner": "gis_planner",
    "grid_worker": "gis_grid_worker",
    "admin": "gis_admin",
}


@dataclass(frozen=True)
class Principal:
    """The caller: a user with a role (and grids for grid workers), or anonymous."""

    role: str
    user_id: int | None = None
    username: str = "anonymous"
    grid_ids: tuple[int, ...] = ()

    @property
    def is_anonymous(self) -> bool:
        """True when no token was given."""
        return self.user_id is None


ANONYMOUS = Principal(role="anonymous")


def authenticate(conn: sa.Connection, token: str | None) -> Principal:
    """Resolve a bearer token (looked up by its SHA-256 hash) to a principal."""
    from gis_service.ingest.demo_load import hash_token

    if not token:
        return ANONYMOUS
    row = conn.execute(
        sa.text("""
            SELECT u.id, u.username, u.role,
                   coalesce(array_agg(g.grid_id ORDER BY g.grid_id)
                            FILTER (WHERE g.grid_id IS NOT NULL), '{}') AS grids
            FROM api_token t JOIN app_user u ON u.id = t.user_id
            LEFT JOIN user_grid g ON g.user_id = u.id
            WHERE t.token_hash = :hash AND t.revoked_at IS NULL
            GROUP BY u.id, u.username, u.role
        """),
        {"hash": hash_token(token)},
    ).first()
    if row is None:
        raise Unauthorized("the bearer token is unknown or revoked")
    return Principal(
        role=row.role, user_id=row.id, username=row.username, grid_ids=tuple(row.grids)
    )


def apply_scope(conn: sa.Connection, principal: Principal) -> None:
    """Switch the open transaction to the principal's database role and grids."""
    conn.execute(
        sa.text(
            "SELECT set_config('gis.user_id', :uid, true), "
            "set_config('gis.username', :name, true), "
            "set_config('gis.grid_ids', :grids, true)"
        ),
        {
            "uid": "" if principal.user_id is None else str(principal.user_id),
            "name": principal.username,
            "grids": "{" + ",".join(str(g) for g in principal.grid_ids) + "}",
        },
    )
    conn.execute(sa.text(f"SET LOCAL ROLE {DB_ROLES[principal.role]}"))
