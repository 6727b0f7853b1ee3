"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'planner', 'analyst', 'grid_worker')", name="ck_app_user_role"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "district",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name="ck_district_geom_not_empty"),
        sa.CheckConstraint("ST_IsValid(geom)", name="ck_district_geom_valid"),
        sa.CheckConstraint(
            "ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90",
            name="ck_district_geom_lonlat",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index("ix_district_geom", "district", ["geom"], unique=False, postgresql_using="gist")
    op.create_table(
        "elevator_status",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("label_zh", sa.String(length=100), nullable=False),
        sa.Column("label_en", sa.String(length=100), nullable=False),
        sa.Column("is_final", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("code"),
        sa.UniqueConstraint("rank"),
    )
    op.create_table(
        "facility_kind",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label_zh", sa.String(length=100), nullable=False),
        sa.Column("label_en", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "issue_category",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label_zh", sa.String(length=100), nullable=False),
        sa.Column("label_en", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "street",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("highway", sa.String(length=40), server_default="footway", nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="LINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name="ck_street_geom_not_empty"),
        sa.CheckConstraint("ST_IsValid(geom)", name="ck_street_geom_valid"),
        sa.CheckConstraint(
            "ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90",
            name="ck_street_geom_lonlat",
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_street_geom", "street", ["geom"], unique=False, postgresql_using="gist")
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_api_token_user_id"), "api_token", ["user_id"], unique=False)
    op.create_table(
        "edit_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=100), nullable=True),
        sa.Column("table_name", sa.String(length=63), nullable=False),
        sa.Column("feature_id", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint("action IN ('insert', 'update', 'delete')", name="ck_edit_log_action"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_edit_log_feature", "edit_log", ["table_name", "feature_id"], unique=False)
    op.create_table(
        "facility",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("floor_area_m2", sa.Float(), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name="ck_facility_geom_not_empty"),
        sa.CheckConstraint("ST_IsValid(geom)", name="ck_facility_geom_valid"),
        sa.CheckConstraint(
            "ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90",
            name="ck_facility_geom_lonlat",
        ),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name="ck_facility_capacity"),
        sa.CheckConstraint("floor_area_m2 IS NULL OR floor_area_m2 > 0", name="ck_facility_area"),
        sa.ForeignKeyConstraint(
            ["kind"],
            ["facility_kind.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_facility_geom", "facility", ["geom"], unique=False, postgresql_using="gist")
    op.create_index(op.f("ix_facility_kind"), "facility", ["kind"], unique=False)
    op.create_table(
        "subdistrict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name="ck_subdistrict_geom_not_empty"),
        sa.CheckConstraint("ST_IsValid(geom)", name="ck_subdistrict_geom_valid"),
        sa.CheckConstraint(
            "ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90",
            name="ck_subdistrict_geom_lonlat",
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["district.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_subdistrict_district_id"), "subdistrict", ["district_id"], unique=False
    )
    op.create_index(
        "ix_subdistrict_geom", "subdistrict", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_table(
        "community",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subdistrict_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name="ck_community_geom_not_empty"),
        sa.CheckConstraint("ST_IsValid(geom)", name="ck_community_geom_valid"),
        sa.CheckConstraint(
            "ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90",
            name="ck_community_geom_lonlat",
        ),
        sa.ForeignKeyConstraint(
            ["subdistrict_id"],
            ["subdistrict.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_community_geom", "community", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_index(
        op.f("ix_community_subdistrict_id"), "community", ["subdistrict_id"], unique=False
    )
    op.create_table(
        "compound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("year_built", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name="ck_compound_geom_not_empty"),
        sa.CheckConstraint("ST_IsValid(geom)", name="ck_compound_geom_valid"),
        sa.CheckConstraint(
            "ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90",
            name="ck_compound_geom_lonlat",
        ),
        sa.CheckConstraint("year_built BETWEEN 1800 AND 2100", name="ck_compound_year"),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_compound_community_id"), "compound", ["community_id"], unique=False)
    op.create_index("ix_compound_geom", "compound", ["geom"], unique=False, postgresql_using="gist")
    op.create_index(op.f("ix_compound_name"), "compound", ["name"], unique=False)
    op.create_table(
        "grid",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name="ck_grid_geom_not_empty"),
        sa.CheckConstraint("ST_IsValid(geom)", name="ck_grid_geom_valid"),
        sa.CheckConstraint(
            "ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90",
            name="ck_grid_geom_lonlat",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index(op.f("ix_grid_community_id"), "grid", ["community_id"], unique=False)
    op.create_index("ix_grid_geom", "grid", ["geom"], unique=False, postgresql_using="gist")
    op.create_table(
        "building",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=True),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("floors", sa.Integer(), nullable=False),
        sa.Column("year_built", sa.Integer(), nullable=True),
        sa.Column(
            "has_original_elevator", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name="ck_building_geom_not_empty"),
        sa.CheckConstraint("ST_IsValid(geom)", name="ck_building_geom_valid"),
        sa.CheckConstraint(
            "ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90",
            name="ck_building_geom_lonlat",
        ),
        sa.CheckConstraint("floors BETWEEN 1 AND 200", name="ck_building_floors"),
        sa.CheckConstraint("year_built BETWEEN 1800 AND 2100", name="ck_building_year"),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compound.id"],
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"],
            ["grid.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_building_compound_id"), "building", ["compound_id"], unique=False)
    op.create_index("ix_building_geom", "building", ["geom"], unique=False, postgresql_using="gist")
    op.create_index(op.f("ix_building_grid_id"), "building", ["grid_id"], unique=False)
    op.create_index(op.f("ix_building_name"), "building", ["name"], unique=False)
    op.create_table(
        "candidate_site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("origin", sa.String(length=100), nullable=True),
        sa.Column("suitable_for", sa.String(length=20), server_default="both", nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("cost_yuan", sa.Float(), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "suitable_for IN ('garden', 'parking', 'both')", name="ck_candidate_site_use"
        ),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name="ck_candidate_site_geom_not_empty"),
        sa.CheckConstraint("ST_IsValid(geom)", name="ck_candidate_site_geom_valid"),
        sa.CheckConstraint(
            "ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90",
            name="ck_candidate_site_geom_lonlat",
        ),
        sa.CheckConstraint("area_m2 > 0", name="ck_candidate_site_area"),
        sa.CheckConstraint("cost_yuan IS NULL OR cost_yuan >= 0", name="ck_candidate_site_cost"),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compound.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_candidate_site_compound_id"), "candidate_site", ["compound_id"], unique=False
    )
    op.create_index(
        "ix_candidate_site_geom", "candidate_site", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_table(
        "garden",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('neighbourhood_garden', 'pocket_park', 'street_garden')",
            name="ck_garden_kind",
        ),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name="ck_garden_geom_not_empty"),
        sa.CheckConstraint("ST_IsValid(geom)", name="ck_garden_geom_valid"),
        sa.CheckConstraint(
            "ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90",
            name="ck_garden_geom_lonlat",
        ),
        sa.CheckConstraint("area_m2 > 0", name="ck_garden_area"),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compound.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_garden_compound_id"), "garden", ["compound_id"], unique=False)
    op.create_index("ix_garden_geom", "garden", ["geom"], unique=False, postgresql_using="gist")
    op.create_table(
        "retrofit_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=40), server_default="planned", nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=True),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column("approval_ref", sa.String(length=100), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'applied', 'approved', 'under_construction', 'completed', 'cancelled')",
            name="ck_retrofit_batch_status",
        ),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compound.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_retrofit_batch_compound_id"), "retrofit_batch", ["compound_id"], unique=False
    )
    op.create_table(
        "user_grid",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["grid_id"], ["grid.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "grid_id"),
    )
    op.create_table(
        "parking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=True),
        sa.Column("garden_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('surface_lot', 'stacked_garage', 'bicycle_shed', 'ev_charging')",
            name="ck_parking_kind",
        ),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name="ck_parking_geom_not_empty"),
        sa.CheckConstraint("ST_IsValid(geom)", name="ck_parking_geom_valid"),
        sa.CheckConstraint(
            "ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90",
            name="ck_parking_geom_lonlat",
        ),
        sa.CheckConstraint("capacity >= 0", name="ck_parking_capacity"),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compound.id"],
        ),
        sa.ForeignKeyConstraint(
            ["garden_id"],
            ["garden.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_parking_compound_id"), "parking", ["compound_id"], unique=False)
    op.create_index(op.f("ix_parking_garden_id"), "parking", ["garden_id"], unique=False)
    op.create_index("ix_parking_geom", "parking", ["geom"], unique=False, postgresql_using="gist")
    op.create_table(
        "stairwell",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=True),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=50), nullable=False),
        sa.Column("floors", sa.Integer(), nullable=False),
        sa.Column("households", sa.Integer(), server_default="0", nullable=False),
        sa.Column("elderly_households", sa.Integer(), server_default="0", nullable=False),
        sa.Column("elevator_status", sa.String(length=40), server_default="none", nullable=False),
        sa.Column("status_changed_on", sa.Date(), nullable=True),
        sa.Column("consent_agree", sa.Integer(), server_default="0", nullable=False),
        sa.Column("consent_object", sa.Integer(), server_default="0", nullable=False),
        sa.Column("maintenance_model", sa.String(length=40), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column(
            "survey_status", sa.String(length=20), server_default="not_visited", nullable=False
        ),
        sa.Column("last_surveyed_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "maintenance_model IS NULL OR maintenance_model IN ('property_contractor', 'elevator_company', 'custody_butler')",
            name="ck_stairwell_maintenance",
        ),
        sa.CheckConstraint(
            "survey_status IN ('not_visited', 'visited', 'follow_up')",
            name="ck_stairwell_survey_status",
        ),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name="ck_stairwell_geom_not_empty"),
        sa.CheckConstraint("ST_IsValid(geom)", name="ck_stairwell_geom_valid"),
        sa.CheckConstraint(
            "ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90",
            name="ck_stairwell_geom_lonlat",
        ),
        sa.CheckConstraint(
            "consent_agree >= 0 AND consent_object >= 0 AND consent_agree + consent_object <= households",
            name="ck_stairwell_consent",
        ),
        sa.CheckConstraint(
            "elderly_households >= 0 AND elderly_households <= households",
            name="ck_stairwell_elderly",
        ),
        sa.CheckConstraint("floors BETWEEN 1 AND 200", name="ck_stairwell_floors"),
        sa.CheckConstraint("households >= 0", name="ck_stairwell_households"),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["retrofit_batch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["building.id"],
        ),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compound.id"],
        ),
        sa.ForeignKeyConstraint(
            ["elevator_status"],
            ["elevator_status.code"],
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"],
            ["grid.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_stairwell_batch_id"), "stairwell", ["batch_id"], unique=False)
    op.create_index(op.f("ix_stairwell_building_id"), "stairwell", ["building_id"], unique=False)
    op.create_index(op.f("ix_stairwell_compound_id"), "stairwell", ["compound_id"], unique=False)
    op.create_index(
        op.f("ix_stairwell_elevator_status"), "stairwell", ["elevator_status"], unique=False
    )
    op.create_index(
        "ix_stairwell_geom", "stairwell", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_index(op.f("ix_stairwell_grid_id"), "stairwell", ["grid_id"], unique=False)
    op.create_table(
        "issue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("stairwell_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="open", nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column(
            "reported_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("photo_path", sa.String(length=300), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(status = 'resolved') = (resolved_at IS NOT NULL)", name="ck_issue_resolved_at"
        ),
        sa.CheckConstraint("status IN ('open', 'assigned', 'resolved')", name="ck_issue_status"),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name="ck_issue_geom_not_empty"),
        sa.CheckConstraint("ST_IsValid(geom)", name="ck_issue_geom_valid"),
        sa.CheckConstraint(
            "ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90",
            name="ck_issue_geom_lonlat",
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["category"],
            ["issue_category.code"],
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"],
            ["grid.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["stairwell_id"],
            ["stairwell.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_issue_geom", "issue", ["geom"], unique=False, postgresql_using="gist")
    op.create_index(op.f("ix_issue_grid_id"), "issue", ["grid_id"], unique=False)
    op.create_index(op.f("ix_issue_stairwell_id"), "issue", ["stairwell_id"], unique=False)
    op.create_table(
        "stairwell_status_history",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("stairwell_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=40), nullable=True),
        sa.Column("to_status", sa.String(length=40), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=True),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("changed_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["stairwell_id"], ["stairwell.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_stairwell_status_history_stairwell_id"),
        "stairwell_status_history",
        ["stairwell_id"],
        unique=False,
    )
    op.create_table(
        "survey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stairwell_id", sa.Integer(), nullable=False),
        sa.Column("surveyor_id", sa.Integer(), nullable=True),
        sa.Column("surveyed_on", sa.Date(), nullable=False),
        sa.Column("households", sa.Integer(), nullable=True),
        sa.Column("elderly_households", sa.Integer(), nullable=True),
        sa.Column("consent_agree", sa.Integer(), server_default="0", nullable=False),
        sa.Column("consent_object", sa.Integer(), server_default="0", nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "consent_agree >= 0 AND consent_object >= 0 AND (households IS NULL OR consent_agree + consent_object <= households)",
            name="ck_survey_consent",
        ),
        sa.CheckConstraint(
            "elderly_households IS NULL OR (elderly_households >= 0 AND (households IS NULL OR elderly_households <= households))",
            name="ck_survey_elderly",
        ),
        sa.CheckConstraint("households IS NULL OR households >= 0", name="ck_survey_households"),
        sa.ForeignKeyConstraint(
            ["stairwell_id"],
            ["stairwell.id"],
        ),
        sa.ForeignKeyConstraint(
            ["surveyor_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_survey_stairwell_id"), "survey", ["stairwell_id"], unique=False)
    op.create_index(op.f("ix_survey_surveyor_id"), "survey", ["surveyor_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_survey_surveyor_id"), table_name="survey")
    op.drop_index(op.f("ix_survey_stairwell_id"), table_name="survey")
    op.drop_table("survey")
    op.drop_index(
        op.f("ix_stairwell_status_history_stairwell_id"), table_name="stairwell_status_history"
    )
    op.drop_table("stairwell_status_history")
    op.drop_index(op.f("ix_issue_stairwell_id"), table_name="issue")
    op.drop_index(op.f("ix_issue_grid_id"), table_name="issue")
    op.drop_index("ix_issue_geom", table_name="issue", postgresql_using="gist")
    op.drop_table("issue")
    op.drop_index(op.f("ix_stairwell_grid_id"), table_name="stairwell")
    op.drop_index("ix_stairwell_geom", table_name="stairwell", postgresql_using="gist")
    op.drop_index(op.f("ix_stairwell_elevator_status"), table_name="stairwell")
    op.drop_index(op.f("ix_stairwell_compound_id"), table_name="stairwell")
    op.drop_index(op.f("ix_stairwell_building_id"), table_name="stairwell")
    op.drop_index(op.f("ix_stairwell_batch_id"), table_name="stairwell")
    op.drop_table("stairwell")
    op.drop_index("ix_parking_geom", table_name="parking", postgresql_using="gist")
    op.drop_index(op.f("ix_parking_garden_id"), table_name="parking")
    op.drop_index(op.f("ix_parking_compound_id"), table_name="parking")
    op.drop_table("parking")
    op.drop_table("user_grid")
    op.drop_index(op.f("ix_retrofit_batch_compound_id"), table_name="retrofit_batch")
    op.drop_table("retrofit_batch")
    op.drop_index("ix_garden_geom", table_name="garden", postgresql_using="gist")
    op.drop_index(op.f("ix_garden_compound_id"), table_name="garden")
    op.drop_table("garden")
    op.drop_index("ix_candidate_site_geom", table_name="candidate_site", postgresql_using="gist")
    op.drop_index(op.f("ix_candidate_site_compound_id"), table_name="candidate_site")
    op.drop_table("candidate_site")
    op.drop_index(op.f("ix_building_name"), table_name="building")
    op.drop_index(op.f("ix_building_grid_id"), table_name="building")
    op.drop_index("ix_building_geom", table_name="building", postgresql_using="gist")
    op.drop_index(op.f("ix_building_compound_id"), table_name="building")
    op.drop_table("building")
    op.drop_index("ix_grid_geom", table_name="grid", postgresql_using="gist")
    op.drop_index(op.f("ix_grid_community_id"), table_name="grid")
    op.drop_table("grid")
    op.drop_index(op.f("ix_compound_name"), table_name="compound")
    op.drop_index("ix_compound_geom", table_name="compound", postgresql_using="gist")
    op.drop_index(op.f("ix_compound_community_id"), table_name="compound")
    op.drop_table("compound")
    op.drop_index(op.f("ix_community_subdistrict_id"), table_name="community")
    op.drop_index("ix_community_geom", table_name="community", postgresql_using="gist")
    op.drop_table("community")
    op.drop_index("ix_subdistrict_geom", table_name="subdistrict", postgresql_using="gist")
    op.drop_index(op.f("ix_subdistrict_district_id"), table_name="subdistrict")
    op.drop_table("subdistrict")
    op.drop_index(op.f("ix_facility_kind"), table_name="facility")
    op.drop_index("ix_facility_geom", table_name="facility", postgresql_using="gist")
    op.drop_table("facility")
    op.drop_index("ix_edit_log_feature", table_name="edit_log")
    op.drop_table("edit_log")
    op.drop_index(op.f("ix_api_token_user_id"), table_name="api_token")
    op.drop_table("api_token")
    op.drop_index("ix_street_geom", table_name="street", postgresql_using="gist")
    op.drop_table("street")
    op.drop_table("issue_category")
    op.drop_table("facility_kind")
    op.drop_table("elevator_status")
    op.drop_index("ix_district_geom", table_name="district", postgresql_using="gist")
    op.drop_table("district")
    op.drop_table("app_user")
