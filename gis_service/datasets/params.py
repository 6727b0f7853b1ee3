"""Validated analysis parameters: levels, layers, kinds, modes and radii (catalog defaults)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from gis_service.analysis.service import ELDERLY_WALK_SPEED, WALK_SPEED, walking_radius
from gis_service.catalog import default_catalog
from gis_service.db.models import GARDEN_KINDS, PARKING_KINDS
from gis_service.errors import InvalidInput

LEVELS = ("grid", "compound", "community", "subdistrict", "district")
LAYERS = ("gardens", "parking", "facilities")
MODES = ("network", "crow")
SPEEDS = {"normal": WALK_SPEED, "elderly": ELDERLY_WALK_SPEED}
MAX_RADIUS_M = 5000.0
SITE_USES = {"gardens": ("garden", "both"), "parking": ("parking", "both"), "facilities": None}


def bad(field: str, message: str) -> InvalidInput:
    """An InvalidInput naming one parameter."""
    return InvalidInput(f"{field}: {message}", [{"field": field, "message": message}])


def one_of(field: str, value: str, allowed: tuple[str, ...] | list[str]) -> str:
    """The value when it is allowed, else InvalidInput listing the allowed values."""
    if value not in allowed:
        raise bad(field, f"unknown {field} {value!r}; one of: {', '.join(allowed)}")
    return value


def level_column(level: str) -> str:
    """The stairwell column of a level name (grid -> grid_id)."""
    return one_of("level", level, LEVELS) + "_id"


def layer_kinds(conn: sa.Connection, layer: str) -> list[str]:
    """The kinds a layer knows (facility kinds come from the facility_kind lookup table)."""
    one_of("layer", layer, LAYERS)
    if layer == "gardens":
        return list(GARDEN_KINDS)
    if layer == "parking":
        return list(PARKING_KINDS)
    return [str(c) for (c,) in conn.execute(sa.text("SELECT code FROM facility_kind ORDER BY 1"))]


def default_radius(layer: str, kind: str | None) -> float:
    """The layer's service radius for a kind from the catalog (layers/*.yaml)."""
    radii = default_catalog().layer(layer).service_radii_m or {}
    if kind is not None and kind in radii:
        return float(radii[kind])
    if "default" in radii:
        return float(radii["default"])
    raise bad("radius_m", f"layer {layer} has no default service radius; give radius_m")


@dataclass(frozen=True)
class ServiceParams:
    """A service question: which layer/kind, how far (metres), along streets or crow-flies."""

    layer: str
    kind: str | None
    radius_m: float
    mode: str = "network"
    speed: str = "normal"
    minutes: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The parameters, for reports and cache keys."""
        return asdict(self)


def service_params(
    conn: sa.Connection,
    layer: str,
    kind: str | None = None,
    radius_m: float | None = None,
    minutes: float | None = None,
    speed: str = "normal",
    mode: str = "network",
) -> ServiceParams:
    """Validate a service question; the radius is radius_m, minutes x speed, or the default."""
    one_of("layer", layer, LAYERS)
    one_of("mode", mode, MODES)
    one_of("speed", speed, tuple(SPEEDS))
    if kind is not None:
        one_of("kind", kind, layer_kinds(conn, layer))
    if radius_m is not None and minutes is not None:
        raise bad("radius_m", "give radius_m or minutes, not both")
    if minutes is not None:
        if not 0 < minutes <= MAX_RADIUS_M / SPEEDS[speed]:
            raise bad("minutes", f"minutes must be > 0 and at most {MAX_RADIUS_M:g} m of walking")
        radius = walking_radius(minutes, SPEEDS[speed])
    elif radius_m is not None:
        radius = float(radius_m)
    else:
        radius = default_radius(layer, kind)
    if not 0 < radius <= MAX_RADIUS_M:
        raise bad("radius_m", f"the radius must be > 0 and at most {MAX_RADIUS_M:g} m")
    return ServiceParams(layer, kind, radius, mode, speed, minutes)
