"""Source keys for re-imports, street levels and access tags, parking outlines

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-24

- source_key on every imported layer: where a row came from ("osm:way/123" for OpenStreetMap,
  "COLUMN=value" for a file imported with --key COLUMN), unique per table, so a re-import
  updates the rows it owns instead of adding them again.
- street: the OSM tags that decide where ways meet and who may walk them (layer, bridge,
  tunnel, level, access, foot).
- parking.outline: the area of a lot when it is mapped as one (the point stays its entrance);
  the analysis reaches the lot at its edges.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYED = ("community", "grid", "compound", "building", "stairwell", "garden", "parking",
         "facility", "street", "candidate_site")
STREET_TAGS = (("bridge", 40), ("tunnel", 40), ("level", 40), ("access", 80), ("foot", 40))


def upgrade() -> None:
    for table in KEYED:
        op.add_column(table, sa.Column("source_key", sa.String(200), nullable=True))
        op.create_index(f"ux_{table}_source_key", table, ["source_key"], unique=True,
                        postgresql_where=sa.text("source_key IS NOT NULL"))
    op.add_column("street", sa.Column("layer", sa.SmallInteger(), nullable=True))
    for name, length in STREET_TAGS:
        op.add_column("street", sa.Column(name, sa.String(length), nullable=True))
    op.create_check_constraint("ck_street_layer", "street", "layer BETWEEN -10 AND 10")
    op.add_column(
        "parking",
        sa.Column("outline", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False),
                  nullable=True),
    )
    op.create_check_constraint(
        "ck_parking_outline_valid", "parking",
        "outline IS NULL OR (ST_IsValid(outline) AND NOT ST_IsEmpty(outline))",
    )
    op.create_index("ix_parking_outline", "parking", ["outline"], postgresql_using="gist")


def downgrade() -> None:
    op.drop_index("ix_parking_outline", "parking")
    op.drop_constraint("ck_parking_outline_valid", "parking")
    op.drop_column("parking", "outline")
    op.drop_constraint("ck_street_layer", "street")
    for name, _ in STREET_TAGS:
        op.drop_column("street", name)
    op.drop_column("street", "layer")
    for table in KEYED:
        op.drop_index(f"ux_{table}_source_key", table)
        op.drop_column(table, "source_key")
