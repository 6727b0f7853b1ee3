"""The retrofit data model: hierarchy, stairwells, amenities, surveys, issues, users, edit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SRID = 4326

GARDEN_KINDS = ("neighbourhood_garden", "pocket_park", "street_garden")
PARKING_KINDS = ("surface_lot", "stacked_garage", "bicycle_shed", "ev_charging")
MAINTENANCE_MODELS = ("property_contractor", "elevator_company", "custody_butler")
SURVEY_STATUSES = ("not_visited", "visited", "follow_up")
ISSUE_STATUSES = ("open", "assigned", "resolved")
BATCH_STATUSES = ("planned", "applied", "approved", "under_construction", "completed", "cancelled")
SITE_USES = ("garden", "parking", "both")
ROLES = ("admin", "planner", "analyst", "grid_worker")
EDIT_ACTIONS = ("insert", "update", "delete")


def one_of(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    """A CHECK constraint that keeps a text column inside a fixed list."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({quoted})", name=name)


def geometry_checks(table: str) -> tuple[sa.CheckConstraint, ...]:
    """CHECK constraints every stored geometry obeys: valid, non-empty, inside lon/lat range."""
    return (
        sa.CheckConstraint("ST_IsValid(geom)", name=f"ck_{table}_geom_valid"),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name=f"ck_{table}_geom_not_empty"),
        sa.CheckConstraint(
            "ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 "
            "AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90",
            name=f"ck_{table}_geom_lonlat",
        ),
    )


def gist(table: str) -> sa.Index:
    """The GiST index on a table's geometry."""
    return sa.Index(f"ix_{table}_geom", "geom", postgresql_using="gist")


def geom(kind: str) -> Any:
    """A geometry column of one type in EPSG:4326 (index declared explicitly with gist())."""
    return mapped_column(Geometry(kind, srid=SRID, spatial_index=False), nullable=False)


def source_key() -> Any:
    """Where an imported row came from ("osm:way/123", "COLUMN=value"); unique when set."""
    return mapped_column(sa.String(200), nullable=True)


def source_key_index(table: str) -> sa.Index:
    """The partial unique index keeping a table's source keys unique."""
    return sa.Index(
        f"ux_{table}_source_key", "source_key", unique=True,
        postgresql_where=sa.text("source_key IS NOT NULL"),
    )


class Base(DeclarativeBase):
    """Declarative base of all tables."""


class Versioned:
    """Rows that are edited through the API carry a version (the ETag) and a timestamp."""

    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, server_default="1")
    updated_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


class District(Base):
    """区: the top of the hierarchy."""

    __tablename__ = "district"
    __table_args__ = (*geometry_checks("district"), gist("district"))
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str | None] = mapped_column(sa.String(200))
    geom: Mapped[Any] = geom("MULTIPOLYGON")


class Subdistrict(Base):
    """街道: a street office's area."""

    __tablename__ = "subdistrict"
    __table_args__ = (*geometry_checks("subdistrict"), gist("subdistrict"))
    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("district.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str | None] = mapped_column(sa.String(200))
    geom: Mapped[Any] = geom("MULTIPOLYGON")


class Community(Base):
    """社区: a residents' community."""

    __tablename__ = "community"
    __table_args__ = (
        source_key_index("community"),
        *geometry_checks("community"),
        gist("community"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    subdistrict_id: Mapped[int] = mapped_column(sa.ForeignKey("subdistrict.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str | None] = mapped_column(sa.String(200))
    source_key: Mapped[str | None] = source_key()
    geom: Mapped[Any] = geom("MULTIPOLYGON")


class Grid(Versioned, Base):
    """网格: the area one grid worker looks after door to door."""

    __tablename__ = "grid"
    __table_args__ = (source_key_index("grid"), *geometry_checks("grid"), gist("grid"))
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    source_key: Mapped[str | None] = source_key()
    geom: Mapped[Any] = geom("MULTIPOLYGON")


class Compound(Versioned, Base):
    """小区/大院: a residential compound."""

    __tablename__ = "compound"
    __table_args__ = (
        source_key_index("compound"),
        *geometry_checks("compound"),
        gist("compound"),
        sa.CheckConstraint("year_built BETWEEN 1800 AND 2100", name="ck_compound_year"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    name_en: Mapped[str | None] = mapped_column(sa.String(200))
    address: Mapped[str | None] = mapped_column(sa.String(300))
    year_built: Mapped[int | None] = mapped_column(sa.Integer)
    source_key: Mapped[str | None] = source_key()
    geom: Mapped[Any] = geom("MULTIPOLYGON")


class Building(Versioned, Base):
    """楼栋: a building footprint."""

    __tablename__ = "building"
    __table_args__ = (
        source_key_index("building"),
        *geometry_checks("building"),
        gist("building"),
        sa.CheckConstraint("floors BETWEEN 1 AND 200", name="ck_building_floors"),
        sa.CheckConstraint("year_built BETWEEN 1800 AND 2100", name="ck_building_year"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int | None] = mapped_column(sa.ForeignKey("compound.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(sa.ForeignKey("grid.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    floors: Mapped[int] = mapped_column(sa.Integer)
    year_built: Mapped[int | None] = mapped_column(sa.Integer)
    has_original_elevator: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    source_key: Mapped[str | None] = source_key()
    geom: Mapped[Any] = geom("MULTIPOLYGON")


class ElevatorStatus(Base):
    """The retrofit pipeline as data, so a city can extend it."""

    __tablename__ = "elevator_status"
    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    rank: Mapped[int] = mapped_column(sa.Integer, unique=True)
    label_zh: Mapped[str] = mapped_column(sa.String(100))
    label_en: Mapped[str] = mapped_column(sa.String(100))
    is_final: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    needs_consent: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())


class RetrofitBatch(Versioned, Base):
    """连片加装: one unified application covering many stairwells."""

    __tablename__ = "retrofit_batch"
    __table_args__ = (one_of("status", BATCH_STATUSES, "ck_retrofit_batch_status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int | None] = mapped_column(sa.ForeignKey("compound.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(40), server_default="planned")
    applied_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    approved_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    approval_ref: Mapped[str | None] = mapped_column(sa.String(100))
    notes: Mapped[str | None] = mapped_column(sa.Text)


class Stairwell(Versioned, Base):
    """梯口/单元: the entrance of one unit, the unit of an elevator retrofit."""

    __tablename__ = "stairwell"
    __table_args__ = (
        source_key_index("stairwell"),
        *geometry_checks("stairwell"),
        gist("stairwell"),
        sa.CheckConstraint("floors BETWEEN 1 AND 200", name="ck_stairwell_floors"),
        sa.CheckConstraint("households >= 0", name="ck_stairwell_households"),
        sa.CheckConstraint(
            "elderly_households >= 0 AND elderly_households <= households",
            name="ck_stairwell_elderly",
        ),
        sa.CheckConstraint(
            "consent_agree >= 0 AND consent_object >= 0 "
            "AND consent_agree + consent_object <= households",
            name="ck_stairwell_consent",
        ),
        one_of("survey_status", SURVEY_STATUSES, "ck_stairwell_survey_status"),
        sa.CheckConstraint(
            f"maintenance_model IS NULL OR maintenance_model IN "
            f"({', '.join(repr(m) for m in MAINTENANCE_MODELS)})",
            name="ck_stairwell_maintenance",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(sa.ForeignKey("building.id"), index=True)
    compound_id: Mapped[int | None] = mapped_column(sa.ForeignKey("compound.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(sa.ForeignKey("grid.id"), index=True)
    label: Mapped[str] = mapped_column(sa.String(50))
    floors: Mapped[int] = mapped_column(sa.Integer)
    households: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    elderly_households: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    elevator_status: Mapped[str] = mapped_column(
        sa.ForeignKey("elevator_status.code"), server_default="none", index=True
    )
    status_changed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    consent_agree: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    consent_object: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    has_register: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    """Whether it has registered households (kept by the register's triggers, never written)."""
    maintenance_model: Mapped[str | None] = mapped_column(sa.String(40))
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("retrofit_batch.id"), index=True)
    survey_status: Mapped[str] = mapped_column(sa.String(20), server_default="not_visited")
    last_surveyed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    source_key: Mapped[str | None] = source_key()
    geom: Mapped[Any] = geom("POINT")


class StairwellStatusHistory(Base):
    """Every change of a stairwell's elevator status (written by a trigger, never overwritten)."""

    __tablename__ = "stairwell_status_history"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    stairwell_id: Mapped[int] = mapped_column(
        sa.ForeignKey("stairwell.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(sa.String(40))
    to_status: Mapped[str] = mapped_column(sa.String(40))
    changed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    changed_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    changed_by: Mapped[str | None] = mapped_column(sa.String(100))
    consent_rule: Mapped[str | None] = mapped_column(sa.String(60))
    consent_verdict: Mapped[str | None] = mapped_column(sa.String(40))


class Garden(Versioned, Base):
    """邻里花园 / 口袋公园 / 街边小游园."""

    __tablename__ = "garden"
    __table_args__ = (
        source_key_index("garden"),
        *geometry_checks("garden"),
        gist("garden"),
        one_of("kind", GARDEN_KINDS, "ck_garden_kind"),
        sa.CheckConstraint("area_m2 > 0", name="ck_garden_area"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int | None] = mapped_column(sa.ForeignKey("compound.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(40))
    area_m2: Mapped[float] = mapped_column(sa.Float)
    source_key: Mapped[str | None] = source_key()
    geom: Mapped[Any] = geom("MULTIPOLYGON")


class Parking(Versioned, Base):
    """便民停车场 / 立体车库 / 车棚 / 充电桩: a point at the entrance (and the lot's outline)."""

    __tablename__ = "parking"
    __table_args__ = (
        source_key_index("parking"),
        *geometry_checks("parking"),
        gist("parking"),
        one_of("kind", PARKING_KINDS, "ck_parking_kind"),
        sa.CheckConstraint("capacity >= 0", name="ck_parking_capacity"),
        sa.CheckConstraint(
            "outline IS NULL OR (ST_IsValid(outline) AND NOT ST_IsEmpty(outline))",
            name="ck_parking_outline_valid",
        ),
        sa.Index("ix_parking_outline", "outline", postgresql_using="gist"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int | None] = mapped_column(sa.ForeignKey("compound.id"), index=True)
    garden_id: Mapped[int | None] = mapped_column(sa.ForeignKey("garden.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(40))
    capacity: Mapped[int] = mapped_column(sa.Integer)
    source_key: Mapped[str | None] = source_key()
    outline: Mapped[Any | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=True
    )
    geom: Mapped[Any] = geom("POINT")


class FacilityKind(Base):
    """Kinds of community facility, as data."""

    __tablename__ = "facility_kind"
    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    label_zh: Mapped[str] = mapped_column(sa.String(100))
    label_en: Mapped[str] = mapped_column(sa.String(100))


class Facility(Versioned, Base):
    """A community facility: micro fire station, elderly service centre, police room ..."""

    __tablename__ = "facility"
    __table_args__ = (
        source_key_index("facility"),
        *geometry_checks("facility"),
        gist("facility"),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name="ck_facility_capacity"),
        sa.CheckConstraint("floor_area_m2 IS NULL OR floor_area_m2 > 0", name="ck_facility_area"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.ForeignKey("facility_kind.code"), index=True)
    capacity: Mapped[int | None] = mapped_column(sa.Integer)
    floor_area_m2: Mapped[float | None] = mapped_column(sa.Float)
    source_key: Mapped[str | None] = source_key()
    geom: Mapped[Any] = geom("POINT")


class Street(Versioned, Base):
    """A walkable line of the street network."""

    __tablename__ = "street"
    __table_args__ = (
        source_key_index("street"),
        *geometry_checks("street"),
        gist("street"),
        sa.CheckConstraint("layer BETWEEN -10 AND 10", name="ck_street_layer"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(sa.String(200))
    highway: Mapped[str] = mapped_column(sa.String(40), server_default="footway")
    # OSM tags deciding where ways meet and who may walk them (gis_service/analysis/walkable.py)
    layer: Mapped[int | None] = mapped_column(sa.SmallInteger)
    bridge: Mapped[str | None] = mapped_column(sa.String(40))
    tunnel: Mapped[str | None] = mapped_column(sa.String(40))
    level: Mapped[str | None] = mapped_column(sa.String(40))
    access: Mapped[str | None] = mapped_column(sa.String(80))
    foot: Mapped[str | None] = mapped_column(sa.String(40))
    source_key: Mapped[str | None] = source_key()
    geom: Mapped[Any] = geom("LINESTRING")


class CandidateSite(Versioned, Base):
    """Land that could host a garden or parking (e.g. where illegal sheds were demolished)."""

    __tablename__ = "candidate_site"
    __table_args__ = (
        source_key_index("candidate_site"),
        *geometry_checks("candidate_site"),
        gist("candidate_site"),
        one_of("suitable_for", SITE_USES, "ck_candidate_site_use"),
        sa.CheckConstraint("area_m2 > 0", name="ck_candidate_site_area"),
        sa.CheckConstraint("cost_yuan IS NULL OR cost_yuan >= 0", name="ck_candidate_site_cost"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int | None] = mapped_column(sa.ForeignKey("compound.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    origin: Mapped[str | None] = mapped_column(sa.String(100))
    suitable_for: Mapped[str] = mapped_column(sa.String(20), server_default="both")
    area_m2: Mapped[float] = mapped_column(sa.Float)
    cost_yuan: Mapped[float | None] = mapped_column(sa.Float)
    source_key: Mapped[str | None] = source_key()
    geom: Mapped[Any] = geom("MULTIPOLYGON")


class AppUser(Base):
    """A person using the service, with one role."""

    __tablename__ = "app_user"
    __table_args__ = (one_of("role", ROLES, "ck_app_user_role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(100), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20))
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    disabled_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class ApiToken(Base):
    """A bearer token for the API, stored only as its SHA-256 hash (sessions: app_session)."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    label: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    revoked_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class UserGrid(Base):
    """Which grids a grid worker is assigned."""

    __tablename__ = "user_grid"
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    grid_id: Mapped[int] = mapped_column(
        sa.ForeignKey("grid.id", ondelete="CASCADE"), primary_key=True
    )


class Survey(Base):
    """A grid worker's visit to a stairwell."""

    __tablename__ = "survey"
    __table_args__ = (
        sa.CheckConstraint("households IS NULL OR households >= 0", name="ck_survey_households"),
        sa.CheckConstraint(
            "elderly_households IS NULL OR (elderly_households >= 0 "
            "AND (households IS NULL OR elderly_households <= households))",
            name="ck_survey_elderly",
        ),
        sa.CheckConstraint(
            "consent_agree >= 0 AND consent_object >= 0 AND "
            "(households IS NULL OR consent_agree + consent_object <= households)",
            name="ck_survey_consent",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    stairwell_id: Mapped[int] = mapped_column(sa.ForeignKey("stairwell.id"), index=True)
    surveyor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"), index=True)
    surveyed_on: Mapped[dt.date] = mapped_column(sa.Date)
    households: Mapped[int | None] = mapped_column(sa.Integer)
    elderly_households: Mapped[int | None] = mapped_column(sa.Integer)
    consent_agree: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    consent_object: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    notes: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )


class IssueCategory(Base):
    """Problem categories of the issue ledger, as data."""

    __tablename__ = "issue_category"
    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    label_zh: Mapped[str] = mapped_column(sa.String(100))
    label_en: Mapped[str] = mapped_column(sa.String(100))


class Issue(Versioned, Base):
    """A problem found in the field (ledger entry)."""

    __tablename__ = "issue"
    __table_args__ = (
        *geometry_checks("issue"),
        gist("issue"),
        one_of("status", ISSUE_STATUSES, "ck_issue_status"),
        sa.CheckConstraint(
            "(status = 'resolved') = (resolved_at IS NOT NULL)", name="ck_issue_resolved_at"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int | None] = mapped_column(sa.ForeignKey("grid.id"), index=True)
    stairwell_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stairwell.id"), index=True)
    category: Mapped[str] = mapped_column(sa.ForeignKey("issue_category.code"))
    status: Mapped[str] = mapped_column(sa.String(20), server_default="open")
    note: Mapped[str | None] = mapped_column(sa.Text)
    reporter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    reported_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    resolved_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    resolution_note: Mapped[str | None] = mapped_column(sa.Text)
    photo_path: Mapped[str | None] = mapped_column(sa.String(300))
    geom: Mapped[Any] = geom("POINT")


class EditLog(Base):
    """Append-only log of every accepted write: who, when, what, before and after."""

    __tablename__ = "edit_log"
    __table_args__ = (
        one_of("action", EDIT_ACTIONS, "ck_edit_log_action"),
        sa.Index("ix_edit_log_feature", "table_name", "feature_id"),
    )
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    username: Mapped[str | None] = mapped_column(sa.String(100))
    table_name: Mapped[str] = mapped_column(sa.String(63))
    feature_id: Mapped[str] = mapped_column(sa.String(100))
    action: Mapped[str] = mapped_column(sa.String(10))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class IdempotencyKey(Base):
    """The first answer to a write sent with an Idempotency-Key, replayed for repeats."""

    __tablename__ = "idempotency_key"
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    method: Mapped[str] = mapped_column(sa.String(10))
    path: Mapped[str] = mapped_column(sa.String(500))
    body_hash: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[int] = mapped_column(sa.Integer)
    headers: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    body: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )


class DataVersionBase(Base):
    """A table's data version as last folded (the view data_version adds its bumps since)."""

    __tablename__ = "data_version_base"
    table_name: Mapped[str] = mapped_column(sa.String(63), primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, server_default="1")
    changed_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )


class DataVersionBump(Base):
    """One write statement on a table, appended by a trigger (writers share no row to update):
    the view data_version counts them on top of the table's base."""

    __tablename__ = "data_version_bump"
    __table_args__ = (sa.Index("data_version_bump_table", "table_name"),)
    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    table_name: Mapped[str] = mapped_column(sa.String(63))
    changed_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )


class RowChange(Base):
    """A stairwell or building row written, by which transaction (the row_change feed)."""

    __tablename__ = "row_change"
    __table_args__ = (sa.Index("row_change_xid", "xid"),)
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    xid: Mapped[int] = mapped_column(
        sa.BigInteger, server_default=sa.text("pg_current_xact_id()::text::bigint")
    )
    changed_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    table_name: Mapped[str] = mapped_column(sa.String(63))
    row_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    grid_id: Mapped[int | None] = mapped_column(sa.Integer)
    compound_id: Mapped[int | None] = mapped_column(sa.Integer)


class ScenarioRecord(Versioned, Base):
    """A stored planning scenario: interventions, parameters and its last evaluation."""

    __tablename__ = "scenario"
    __table_args__ = (
        sa.CheckConstraint(
            "jsonb_typeof(interventions) = 'object'", name="ck_scenario_interventions"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    interventions: Mapped[dict[str, Any]] = mapped_column(JSONB)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    results: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    results_versions: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )


# Sessions, the sign-in throttle and the audit trail, the household register, consent rules,
# retrofit proposals and votes live in their own modules; importing them here registers their
# tables wherever Base.metadata is read (migrations, schema drift checks).
from gis_service.db import models_access, models_household, models_proposal  # noqa: E402, F401
