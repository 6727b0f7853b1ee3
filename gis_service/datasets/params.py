"""Validated analysis parameters: levels, layers, kinds, modes and radii (from the catalog)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from gis_service.analysis.access import AccessRule
from gis_service.analysis.service import walking_radius
from gis_service.analysis.snapping import SnapRule
from gis_service.analysis.walkable import ClosedRule
from gis_service.catalog import MAX_RADIUS_M, Catalog, Layer, default_catalog
from gis_service.datasets.load import LayerSource, source_of
from gis_service.errors import InvalidInput
from gis_service.rows.columns import quoted

LEVELS = ("grid", "compound", "community", "subdistrict", "district")
MODES = ("network", "crow")
DEFAULT_LAYER = "gardens"
SITES_LAYER = "candidate_sites"


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


def default_layer(catalog: Catalog) -> str:
    """The layer a service question asks about when none is named."""
    layers = catalog.service_layers()
    return DEFAULT_LAYER if DEFAULT_LAYER in layers else layers[0]


def service_layer(catalog: Catalog, layer: str) -> Layer:
    """An analysable layer of the catalog (InvalidInput listing them otherwise)."""
    return catalog.layer(one_of("layer", layer, catalog.service_layers()))


def layer_kinds(conn: sa.Connection, layer: Layer) -> list[str]:
    """The kinds a layer knows: its kind field's enum, or the codes of its lookup table."""
    assert layer.service is not None
    spec = layer.field(layer.service.kind_field)
    if spec.enum:
        return list(spec.enum)
    sql = f"SELECT code FROM {quoted(str(spec.enum_from))} ORDER BY 1"
    return [str(code) for (code,) in conn.execute(sa.text(sql))]


def default_radius(layer: Layer, kind: str | None) -> float:
    """The layer's service radius for a kind, else its default (layers/*.yaml)."""
    assert layer.service is not None
    radii = layer.service.radii_m
    return float(radii[kind] if kind is not None and kind in radii else radii["default"])


@dataclass(frozen=True)
class WalkRules:
    """The catalog's rules of a walk: how facilities are entered, points snap, ways close."""

    access: AccessRule = field(default_factory=AccessRule)
    snap: SnapRule = field(default_factory=SnapRule)
    closed: ClosedRule = field(default_factory=ClosedRule)

    @classmethod
    def of(cls, catalog: Catalog, layer: Layer | None) -> WalkRules:
        """The rules for a layer's facilities (None: the defaults of every rule)."""
        walking = catalog.walking()
        spec = layer.service.access if layer is not None and layer.service else None
        access = AccessRule(spec.rule, spec.touch_m) if spec else AccessRule()
        if walking is None:
            return cls(access)
        snap = SnapRule(walking.snapping.max_leg_m, walking.snapping.min_component_m)
        closed = ClosedRule(tuple(walking.closed.keys), frozenset(walking.closed.values))
        return cls(access, snap, closed)

    def as_dict(self) -> dict[str, Any]:
        """The rules, for reports."""
        return {
            "access": {"rule": self.access.rule, "touch_m": self.access.touch_m},
            "snapping": {"max_leg_m": self.snap.max_leg_m,
                         "min_component_m": self.snap.min_component_m},
        }  # fmt: skip


@dataclass(frozen=True)
class Sources:
    """Where a service question reads its facilities, the street network and candidate sites."""

    facilities: LayerSource
    streets: LayerSource | None
    sites: LayerSource | None
    sited_on: tuple[str, ...] | None
    rules: WalkRules = field(default_factory=WalkRules)

    @classmethod
    def of(cls, catalog: Catalog, layer: Layer) -> Sources:
        """The sources of an analysable layer in a catalog."""
        assert layer.service is not None
        network = catalog.network()
        sites = catalog.layers.get(SITES_LAYER)
        uses = layer.service.sited_on
        return cls(
            source_of(layer),
            source_of(network) if network else None,
            source_of(sites) if sites else None,
            tuple(uses) if uses is not None else None,
            WalkRules.of(catalog, layer),
        )


@dataclass(frozen=True)
class ServiceParams:
    """A service question: which layer/kind, how far (metres), along streets or crow-flies."""

    layer: str
    kind: str | None
    radius_m: float
    mode: str = "network"
    speed: str = "normal"
    minutes: float | None = None
    life_circle: str | None = None
    m_per_min: float = 60.0
    sources: Sources = field(compare=False, repr=False, kw_only=True)

    def as_dict(self) -> dict[str, Any]:
        """The question, for reports and cache keys (not where it is read from)."""
        return {
            "layer": self.layer, "kind": self.kind, "radius_m": self.radius_m, "mode": self.mode,
            "speed": self.speed, "m_per_min": self.m_per_min, "minutes": self.minutes,
            "life_circle": self.life_circle,
        }  # fmt: skip

    @property
    def rules(self) -> WalkRules:
        """How the walk enters the layer's facilities, snaps points, and which ways are closed."""
        return self.sources.rules


def service_radius(
    layer: Layer, kind: str | None, radius_m: float | None, minutes: float | None, speed: float
) -> float:
    """The radius: radius_m, minutes at the walking speed (m/min), or the catalog default."""
    if radius_m is not None and minutes is not None:
        raise bad("radius_m", "give radius_m or minutes, not both")
    if minutes is not None:
        if not 0 < minutes <= MAX_RADIUS_M / speed:
            raise bad("minutes", f"minutes must be > 0 and at most {MAX_RADIUS_M:g} m of walking")
        return walking_radius(minutes, speed)
    radius = float(radius_m) if radius_m is not None else default_radius(layer, kind)
    if not 0 < radius <= MAX_RADIUS_M:
        raise bad("radius_m", f"the radius must be > 0 and at most {MAX_RADIUS_M:g} m")
    return radius


def service_params(
    conn: sa.Connection,
    layer: str,
    kind: str | None = None,
    radius_m: float | None = None,
    minutes: float | None = None,
    speed: str = "normal",
    mode: str = "network",
    catalog: Catalog | None = None,
    life_circle: str | None = None,
) -> ServiceParams:
    """Validate a service question against the catalog (default: the shipped one).

    How far: radius_m, or minutes of walking at the speed, or a life circle of the catalog
    (its minutes at the speed: "within 10 minutes for an elderly person"), else the layer's
    radius for the kind.
    """
    catalog = catalog or default_catalog()
    found = service_layer(catalog, layer)
    one_of("mode", mode, MODES)
    speeds = catalog.walking_speeds()
    one_of("speed", speed, list(speeds))
    if kind is not None:
        one_of("kind", kind, layer_kinds(conn, found))
    if life_circle is not None:
        circles = catalog.life_circles()
        one_of("life_circle", life_circle, list(circles))
        if minutes is not None or radius_m is not None:
            raise bad("life_circle", "give life_circle, minutes or radius_m, not several")
        minutes = circles[life_circle].minutes
    pace = speeds[speed].m_per_min
    radius = service_radius(found, kind, radius_m, minutes, pace)
    sources = Sources.of(catalog, found)
    if mode == "network" and sources.streets is None:
        raise bad("mode", "the catalog has no walkable network: use mode=crow")
    return ServiceParams(
        layer, kind, radius, mode, speed, minutes, life_circle, pace, sources=sources
    )
