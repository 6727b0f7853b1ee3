"""The catalog's walking rules: how a layer serves on foot (`service:`), the network's `walking:`.

Validated with the rest of the catalog (catalog.py) at start-up; the analysis reads them through
datasets/params.py. Every figure here is data a city may change in its own layers/*.yaml.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gis_service.catalog_demand import SupplyMeasure
from gis_service.db.models import SITE_USES, Base
from gis_service.text import Text

if TYPE_CHECKING:
    from gis_service.catalog import Layer

MAX_RADIUS_M = 5000.0
"""The largest service radius an analysis takes (metres)."""


class Access(BaseModel):
    """Where people enter a facility of the layer (how the walk reaches it).

    - edges: an area anywhere its outline meets the walkable network (ways inside it or within
      touch_m of the outline); with none, the network point nearest the outline, by a straight
      leg. A point is reached at the point.
    - entrances: an area where walkable ways enter it (mapped paths and gates crossing the
      outline); an area no way enters falls back to edges.
    - point: one representative point (a point on the area's surface).
    """

    model_config = ConfigDict(extra="forbid")
    rule: Literal["edges", "entrances", "point"] = "edges"
    touch_m: float = Field(default=10.0, ge=0, le=50, description="edges: how near counts")
    outline: str | None = Field(
        default=None, description="a column holding the area of a point facility (parking lots)"
    )


class Service(BaseModel):
    """How a layer serves stairwells on foot: what analysis/service-areas, gaps and siting read."""

    model_config = ConfigDict(extra="forbid")
    radii_m: dict[str, float] = Field(description="service radius per kind, and 'default'")
    kind_field: str = Field(default="kind", description="the field holding the kind")
    sited_on: list[str] | None = Field(
        default=None, description="candidate sites (suitable_for) where a new one may go; all"
    )
    access: Access = Field(default_factory=Access, description="where the walk reaches it")
    supply: dict[str, SupplyMeasure] = Field(
        default={}, description="kinds counted together in one unit, with a target per household"
    )

    def check(self, layer: Layer) -> None:
        """ValueError when the kinds, radii, site uses or access rule do not fit the layer."""
        if self.kind_field not in {f.name for f in layer.fields}:
            raise ValueError(f"service.kind_field {self.kind_field!r} is not a field")
        kind = layer.field(self.kind_field)
        if not (kind.enum or kind.enum_from):
            raise ValueError(f"service.kind_field {self.kind_field!r} has no enum or enum_from")
        if "default" not in self.radii_m:
            raise ValueError("service.radii_m needs a 'default' radius")
        unknown = set(self.radii_m) - {"default"} - set(kind.enum or self.radii_m)
        if unknown:
            raise ValueError(f"service.radii_m names unknown kinds {sorted(unknown)}")
        if any(not 0 < radius <= MAX_RADIUS_M for radius in self.radii_m.values()):
            raise ValueError(f"service.radii_m must lie in (0, {MAX_RADIUS_M:g}] metres")
        unknown = set(self.sited_on or ()) - set(SITE_USES)
        if unknown:
            raise ValueError(f"service.sited_on: unknown site uses {sorted(unknown)}")
        outline = self.access.outline
        if outline is not None:
            column = Base.metadata.tables[layer.table].c.get(outline)
            if column is None or getattr(column.type, "geometry_type", None) != "MULTIPOLYGON":
                raise ValueError(f"service.access.outline {outline!r} is no polygon column")
        for name, measure in self.supply.items():
            self._check_measure(layer, name, measure)

    def _check_measure(self, layer: Layer, name: str, measure: SupplyMeasure) -> None:
        """A supply measure names kinds of the layer and a numeric size field."""
        where = f"service.supply.{name}"
        kinds = layer.field(self.kind_field).enum
        unknown = set(measure.kinds or ()) - set(kinds or measure.kinds or ())
        if unknown:
            raise ValueError(f"{where}.kinds: unknown kinds {sorted(unknown)}")
        size = next((f for f in layer.fields if f.name == measure.size_field), None)
        if size is None or size.type not in ("integer", "number"):
            raise ValueError(f"{where}.size_field {measure.size_field!r} is no numeric field")


class Pace(BaseModel):
    """One walking speed, with its label."""

    model_config = ConfigDict(extra="forbid")
    m_per_min: float = Field(gt=0, le=500)
    label: Text


class LifeCircle(BaseModel):
    """A life circle (GB 50180-2018): minutes of walking, with its label."""

    model_config = ConfigDict(extra="forbid")
    minutes: float = Field(gt=0, le=60)
    label: Text


class Snapping(BaseModel):
    """How a point (a stairwell, a facility) joins the walkable network.

    A point walks a straight leg of at most max_leg_m to the nearest way at ground level (no
    tunnel, no bridge, layer 0) of a connected piece with at least min_component_m metres of
    ways (the largest piece always qualifies); a point with none is reported, with the reason.
    """

    model_config = ConfigDict(extra="forbid")
    max_leg_m: float = Field(default=150.0, gt=0, le=1000)
    min_component_m: float = Field(default=300.0, ge=0)


class Closed(BaseModel):
    """Which ways people may not walk: the most specific of `keys` a way carries decides."""

    model_config = ConfigDict(extra="forbid")
    keys: list[str] = Field(default=["foot", "access"], min_length=1)
    values: list[str] = Field(default=["no", "private"])


class Walking(BaseModel):
    """The walkable network's rules: speeds, life circles, snapping, ways closed to walkers."""

    model_config = ConfigDict(extra="forbid")
    speeds: dict[str, Pace]
    life_circles: dict[str, LifeCircle] = {}
    snapping: Snapping = Field(default_factory=Snapping)
    closed: Closed = Field(default_factory=Closed)

    @model_validator(mode="after")
    def _has_normal(self) -> Walking:
        if "normal" not in self.speeds:
            raise ValueError("walking.speeds needs a 'normal' speed")
        return self
