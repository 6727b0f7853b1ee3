"""Retrofit proposals put to a stairwell's or building's owners, and each household's vote."""

from __future__ import annotations

import datetime as dt
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
from gis_service.db.models_household import VOTES

PROPOSAL_KINDS = ("elevator", "ramp", "pipes", "facade", "other")
PROPOSAL_STATUSES = ("open", "closed", "withdrawn")


class RetrofitProposal(Versioned, Base):
    """改造议题: what the owners of one stairwell (or one building) are asked to agree to."""

    __tablename__ = "retrofit_proposal"
    __table_args__ = (
        source_key_index("retrofit_proposal"),
        *geometry_checks("retrofit_proposal"),
        gist("retrofit_proposal"),
        sa.CheckConstraint(
            "(stairwell_id IS NULL) <> (building_id IS NULL)", name="ck_proposal_one_unit"
        ),
        one_of("kind", PROPOSAL_KINDS, "ck_proposal_kind"),
        one_of("status", PROPOSAL_STATUSES, "ck_proposal_status"),
        sa.CheckConstraint(
            "closed_on IS NULL OR closed_on >= opened_on", name="ck_proposal_period"
        ),
        sa.CheckConstraint("status = 'open' OR closed_on IS NOT NULL", name="ck_proposal_closed"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    stairwell_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stairwell.id", ondelete="CASCADE"), index=True
    )
    building_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("building.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(20), server_default="elevator")
    title: Mapped[str] = mapped_column(sa.String(200))
    opened_on: Mapped[dt.date] = mapped_column(sa.Date, server_default=sa.text("CURRENT_DATE"))
    closed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(20), server_default="open")
    source_key: Mapped[str | None] = source_key()
    geom: Mapped[Any] = geom("POINT")


class HouseholdVote(Versioned, Base):
    """One household's vote on one proposal, its date, recorder and proof."""

    __tablename__ = "household_vote"
    __table_args__ = (
        source_key_index("household_vote"),
        *geometry_checks("household_vote"),
        gist("household_vote"),
        sa.UniqueConstraint("proposal_id", "household_id", name="ux_household_vote_once"),
        one_of("vote", VOTES, "ck_household_vote_vote"),
        sa.CheckConstraint(
            "vote <> 'not_voted' OR voted_on IS NULL", name="ck_household_vote_voted_on"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("retrofit_proposal.id", ondelete="CASCADE")
    )
    household_id: Mapped[int] = mapped_column(
        sa.ForeignKey("household.id", ondelete="CASCADE"), index=True
    )
    vote: Mapped[str] = mapped_column(sa.String(20), server_default="not_voted")
    voted_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    recorded_by: Mapped[str | None] = mapped_column(sa.String(100))
    proof_photo_path: Mapped[str | None] = mapped_column(sa.String(300))
    source_key: Mapped[str | None] = source_key()
    geom: Mapped[Any] = geom("POINT")
