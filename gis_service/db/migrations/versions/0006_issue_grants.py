"""Grid workers may link their issues to a stairwell, as the catalog says

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Row-level security still keeps the issue (and its grid) inside the worker's grids.
    op.execute("GRANT UPDATE (stairwell_id) ON issue TO gis_grid_worker")


def downgrade() -> None:
    op.execute("REVOKE UPDATE (stairwell_id) ON issue FROM gis_grid_worker")
