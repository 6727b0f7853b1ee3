"""What the catalog says about a complete community (完整社区): the facility kinds every
compound and community should reach on foot, each within its own radius, and where those kinds
are recorded (layers and their kinds). Stated on the communities layer (layers/communities.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gis_service.text import Text

ALL_KINDS = "all"


class Requirement(BaseModel):
    """One required kind: its label, walking radius and the layers' kinds that provide it."""

    model_config = ConfigDict(extra="forbid")
    label: Text
    radius_m: float = Field(gt=0, le=5000, description="walking distance along the network")
    reached_by: dict[str, list[str] | Literal["all"]] = Field(
        description="analysable layer -> its kinds that count (all: every kind of the layer)"
    )
    to_check: Text | None = Field(
        default=None,
        description="what the radius and the kinds that count are to be checked against",
    )


class Checklist(BaseModel):
    """The required kinds, when a kind counts as present in a unit, and where the list is from."""

    model_config = ConfigDict(extra="forbid")
    source: Text
    present_share: float = Field(
        gt=0, le=1, description="share of a unit's households within reach for a kind to count"
    )
    requirements: dict[str, Requirement] = Field(min_length=1)

    def layers(self) -> list[str]:
        """Every layer a requirement reads, in order of first mention."""
        seen: dict[str, None] = {}
        for requirement in self.requirements.values():
            seen.update(dict.fromkeys(requirement.reached_by))
        return list(seen)
