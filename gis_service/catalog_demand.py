"""What the catalog says about demand and supply: persons per household, distance decay,
supply measures (kinds counted together, their size field, unit and target), definitions."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gis_service.text import Text

DEFINITIONS = (
    "eligible", "coverage", "reach", "ratio", "shortage", "unmet",
    "decay_none", "decay_gaussian", "decay_stepped",
)  # fmt: skip
"""The analysis definitions every catalog states (zh/en), shown wherever the figures are."""


class Sourced(BaseModel):
    """A figure and where it comes from."""

    model_config = ConfigDict(extra="forbid")
    value: float = Field(gt=0)
    source: Text


class SupplyMeasure(BaseModel):
    """Kinds of one layer counted together in one unit (car spaces: lots + stacked garages)."""

    model_config = ConfigDict(extra="forbid")
    label: Text
    kinds: list[str] | None = Field(default=None, description="kinds counted; all when omitted")
    size_field: str = Field(description="the numeric field holding each facility's size")
    unit: Text = Field(description="the unit of the size (spaces, m²)")
    per: Literal["household", "resident"] = "household"
    target: Sourced | None = Field(default=None, description="target supply per demand unit")


class Decay(BaseModel):
    """Distance decay of the two-step catchment, relative to each kind's radius."""

    model_config = ConfigDict(extra="forbid")
    gaussian_sigma: float = Field(gt=0, le=10, description="sigma as a share of the radius")
    steps: list[tuple[float, float]] = Field(
        min_length=1, description="(share of the radius, weight) ascending, the last at 1"
    )
    source: Text

    @model_validator(mode="after")
    def _steps_ascend(self) -> Decay:
        shares = [share for share, _ in self.steps]
        if shares != sorted(set(shares)) or shares[-1] != 1 or shares[0] <= 0:
            raise ValueError("decay.steps: shares of the radius ascend in (0, 1], the last is 1")
        if any(not 0 <= weight <= 1 for _, weight in self.steps):
            raise ValueError("decay.steps: weights lie in [0, 1]")
        return self


class Demand(BaseModel):
    """The demand side (on the stairwells layer): persons per household, decay, definitions."""

    model_config = ConfigDict(extra="forbid")
    persons_per_household: Sourced
    decay: Decay
    definitions: dict[str, Text]

    @model_validator(mode="after")
    def _all_definitions(self) -> Demand:
        missing = sorted(set(DEFINITIONS) - set(self.definitions))
        if missing:
            raise ValueError(f"demand.definitions: give {', '.join(missing)}")
        return self

    def stated(self, lang: str, cutoff_year: int, min_floors: int) -> dict[str, str]:
        """Every definition in a language, with the rule's and the decay's figures filled in."""
        steps = ", ".join(
            f"≤{share:.0%}: {weight:g}" for share, weight in self.decay.steps
        )
        values = {
            "cutoff_year": cutoff_year, "min_floors": min_floors,
            "sigma": f"{self.decay.gaussian_sigma:g}", "steps": f"({steps})",
        }  # fmt: skip
        return {name: text.fill(lang, values) for name, text in self.definitions.items()}
