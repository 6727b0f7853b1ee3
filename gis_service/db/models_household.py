"""The household register under each stairwell, and the consent rules its votes are judged by."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from gis_service.db.models import (
    Base,
    Versioned,
    geom,
    geometry_checks,
    gist,
    one_of,
    source_key,
    source_key_index,
)

VOTES = ("agree", "object", "abstain", "not_voted")
VOTERS = ("stairwell", "building")
FRACTION = r"^[0-9]{1,3}/[1-9][0-9]{0,2}$"


class Household(Versioned, Base):
    """户: one flat under a stairwell, its exclusive area, residents and vote on the elevator."""

    __tablename__ = "household"
    __table_args__ = (
        source_key_index("household"),
        *geometry_checks("household"),
        gist("household"),
        sa.UniqueConstraint("stairwell_id", "door", name="ux_household_door"),
        sa.CheckConstraint("floor BETWEEN -5 AND 200", name="ck_household_floor"),
        sa.CheckConstraint("area_m2 > 0 AND area_m2 <= 2000", name="ck_household_area"),
        sa.CheckConstraint("elderly >= 0 AND elderly <= 20", name="ck_household_elderly"),
        sa.CheckConstraint(
            "limited_mobility >= 0 AND limited_mobility <= 20", name="ck_household_mobility"
        ),
        one_of("vote", VOTES, "ck_household_vote"),
        sa.CheckConstraint("vote <> 'not_voted' OR voted_on IS NULL", name="ck_household_voted_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    stairwell_id: Mapped[int] = mapped_column(
        sa.ForeignKey("stairwell.id", ondelete="CASCADE"), index=True
    )
    floor: Mapped[int] = mapped_column(sa.SmallInteger)
    door: Mapped[str] = mapped_column(sa.String(20))
    area_m2: Mapped[Decimal] = mapped_column(sa.Numeric(7, 2))
    owner_group: Mapped[str | None] = mapped_column(sa.String(50))
    owner_names: Mapped[str | None] = mapped_column(sa.String(200))
    elderly: Mapped[int] = mapped_column(sa.SmallInteger, server_default="0")
    limited_mobility: Mapped[int] = mapped_column(sa.SmallInteger, server_default="0")
    visited_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    vote: Mapped[str] = mapped_column(sa.String(20), server_default="not_voted")
    voted_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    recorded_by: Mapped[str | None] = mapped_column(sa.String(100))
    proof_photo_path: Mapped[str | None] = mapped_column(sa.String(300))
    source_key: Mapped[str | None] = source_key()
    geom: Mapped[Any] = geom("POINT")


class ConsentRule(Base):
    """A consent rule of one city (or the whole country) in force over a period, as data."""

    __tablename__ = "consent_rule"
    __table_args__ = (
        one_of("voters", VOTERS, "ck_consent_rule_voters"),
        *(
            sa.CheckConstraint(
                f"{name} IS NULL OR {name} ~ '{FRACTION}'", name=f"ck_consent_{name}"
            )
            for name in ("quorum_area", "quorum_owners", "approval_area", "approval_owners")
        ),
        sa.CheckConstraint(
            "approval_base IN ('participating', 'all')", name="ck_consent_rule_base"
        ),
        sa.CheckConstraint(
            "valid_until IS NULL OR valid_until > valid_from", name="ck_consent_rule_period"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(60), unique=True)
    city: Mapped[str | None] = mapped_column(sa.String(100))
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_until: Mapped[dt.date | None] = mapped_column(sa.Date)
    voters: Mapped[str] = mapped_column(sa.String(20), server_default="stairwell")
    quorum_area: Mapped[str | None] = mapped_column(sa.String(8))
    quorum_owners: Mapped[str | None] = mapped_column(sa.String(8))
    approval_area: Mapped[str | None] = mapped_column(sa.String(8))
    approval_owners: Mapped[str | None] = mapped_column(sa.String(8))
    approval_base: Mapped[str] = mapped_column(sa.String(20), server_default="participating")
    title_zh: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str] = mapped_column(sa.String(200))
    source: Mapped[str] = mapped_column(sa.Text)
