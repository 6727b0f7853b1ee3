"""Map views: maps/*.yaml (layers, basemaps, controls, initial view, zh/en labels) validated."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gis_service.catalog import Catalog, Text, default_catalog, load_yaml_models
from gis_service.errors import ConfigError
from gis_service.maps_consent import ConsentPanels
from gis_service.shipped import shipped_dir

MAPS_DIR = shipped_dir("maps")
ID = r"^[a-z][a-z0-9_]*$"
COLOR = r"^#[0-9a-fA-F]{6}$"
Control = Literal[
    "layers", "search", "fullscreen", "measure", "scale", "legend", "scenarios", "sign_in", "share"
]
Click = Literal["none", "popup", "stairwell", "compound"]


class Strict(BaseModel):
    """A model refusing unknown keys (typos in YAML fail loudly)."""

    model_config = ConfigDict(extra="forbid")


TILE_URL = r"^https?://[^\s\"'<>]*\{z\}[^\s\"'<>]*$"


class Basemap(Strict):
    """A background: an XYZ raster template from outside, or blank (works offline).

    kind tianditu: CGCS2000 tiles (≈ WGS84 at map scale: drawn as they come) with an annotation
    layer over them, both asking for the deployment's key as {key}; left out without a key.
    kind gcj02: a Chinese vendor's tiles in GCJ-02; the page places each tile where its GCJ-02
    corners lie in WGS84 (our data is never shifted; see gismap-china.js).
    """

    id: str = Field(pattern=ID)
    title: Text
    kind: Literal["xyz", "blank", "tianditu", "gcj02"] = "xyz"
    url: str | None = Field(default=None, pattern=TILE_URL)
    annotation_url: str | None = Field(default=None, pattern=TILE_URL)
    attribution: str = Field(default="", pattern=r"^[^<>]*$")
    approval: str | None = Field(
        default=None, pattern=r"^[^<>]*$",
        description="the map-approval number (审图号) the vendor publishes, shown with the map",
    )
    max_zoom: int = Field(default=19, ge=0, le=24)
    subdomains: str = "abc"
    bulk_download: bool = Field(
        default=False, description="its terms allow downloading its tiles ahead for offline use"
    )

    @model_validator(mode="after")
    def _url(self) -> Basemap:
        if (self.kind != "blank") != (self.url is not None):
            raise ValueError("a tiled basemap needs a url, a blank one has none")
        if (self.kind == "tianditu") != (self.annotation_url is not None):
            raise ValueError("a tianditu basemap (and only it) has an annotation_url")
        for url in (self.url, self.annotation_url):
            if url and re.search(r"\{[{%#]", url):  # Folium compiles it as a template
                raise ValueError("a basemap url may not hold '{{', '{%' or '{#'")
            if url and ("{key}" in url) != (self.kind == "tianditu"):
                raise ValueError("{key} (the Tianditu key) belongs in tianditu urls only")
        return self

    def credit(self) -> str:
        """The attribution with the map-approval number, when there is one."""
        return " · ".join(part for part in (self.attribution, self.approval) if part)


class TilesSource(Strict):
    """Our vector tiles: one request per tile carrying these catalog layers."""

    kind: Literal["tiles"]
    layers: list[str] = Field(min_length=1)


class GeoJsonSource(Strict):
    """Small GeoJSON fetched by URL from this service (path only), reloaded by view when bbox."""

    kind: Literal["geojson-url"]
    url: str = Field(pattern=r"^/[^\s\"'<>]*$")
    catalog: str | None = Field(default=None, description="catalog layer giving style and popup")
    bbox: bool = Field(default=False, description="append the view's bbox and reload on pan")


Source = Annotated[TilesSource | GeoJsonSource, Field(discriminator="kind")]


class LayerStyle(Strict):
    """Style overrides for a layer (the catalog's style otherwise)."""

    color: str | None = Field(default=None, pattern=COLOR)
    fill_color: str | None = Field(default=None, pattern=COLOR)
    fill_opacity: float | None = Field(default=None, ge=0, le=1)
    weight: float | None = Field(default=None, ge=0)
    radius: float | None = Field(default=None, ge=0)
    dash: str | None = Field(default=None, pattern=r"^[0-9 ,]+$")


class MapLayer(Strict):
    """One overlay of a view."""

    id: str = Field(pattern=ID)
    title: Text | None = None
    source: Source
    style: LayerStyle = LayerStyle()
    show: bool = True
    click: Click = "popup"
    min_zoom: int | None = Field(default=None, ge=0, le=24)

    def catalog_ids(self) -> list[str]:
        """The catalog layers this overlay draws (for style, labels and popups)."""
        if isinstance(self.source, TilesSource):
            return list(self.source.layers)
        return [self.source.catalog] if self.source.catalog else []


class Join(Strict):
    """Figures from another JSON answer ({"rows": [...]}), joined to the areas by their id."""

    url: str = Field(pattern=r"^/[^\s\"'<>]*\{level\}[^\s\"'<>]*$")
    property: str = Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")
    complement: bool = Field(default=False, description="show 1 - value (served from unserved)")


class SupplyRef(Strict):
    """The catalog's supply measure a figure counts (its target and unit shown in the legend)."""

    layer: str = Field(pattern=ID)
    measure: str = Field(pattern=ID)


class Indicator(Strict):
    """One figure a choropleth can show, with its class breaks and colours."""

    property: str = Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")
    title: Text
    join: Join | None = None
    format: Literal["percent", "number", "ratio", "count"] = "percent"
    supply: SupplyRef | None = None
    definitions: list[str] = Field(
        default=[], description="names of the catalog's definitions shown with the figure"
    )
    breaks: list[float] = Field(min_length=1)
    colors: list[str] = Field(min_length=2)

    @model_validator(mode="after")
    def _classes(self) -> Indicator:
        if self.breaks != sorted(self.breaks):
            raise ValueError("breaks must ascend")
        if len(self.colors) != len(self.breaks) + 1:
            raise ValueError("colors must hold one more entry than breaks")
        bad = [c for c in self.colors if not re.match(COLOR, c)]
        if bad:
            raise ValueError(f"colors must be #rrggbb, not {bad}")
        return self


class Level(Strict):
    """An administrative level a choropleth can be drawn by."""

    id: Literal["community", "grid", "compound"]
    title: Text


class Choropleth(Strict):
    """Coverage by area: a URL with {level}, the levels and the indicators."""

    title: Text
    url: str = Field(pattern=r"^/[^\s\"'<>]*\{level\}[^\s\"'<>]*$")
    levels: list[Level] = Field(min_length=1)
    indicators: list[Indicator] = Field(min_length=1)
    show: bool = True
    name_property: str = "name"


class InitialView(Strict):
    """Where the map opens."""

    center: tuple[float, float] = Field(description="latitude, longitude")
    zoom: int = Field(ge=0, le=22)
    min_zoom: int = Field(default=3, ge=0, le=22)
    max_zoom: int = Field(default=21, ge=0, le=24)

    @model_validator(mode="after")
    def _range(self) -> InitialView:
        lat, lon = self.center
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError("center is latitude, longitude (swapped?)")
        if not self.min_zoom <= self.zoom <= self.max_zoom:
            raise ValueError("zoom must lie between min_zoom and max_zoom")
        return self


class SearchSpec(Strict):
    """Layers searched by name (their catalog search fields, pinyin too) through /search."""

    layers: list[str] = Field(min_length=1)


class FieldOptions(Strict):
    """The field page's own rules: what "download my grid" fetches, when a fix is too coarse."""

    offline_zooms: tuple[int, int] = Field(
        default=(15, 19), description="first and last zoom whose tiles are downloaded"
    )
    issue_max_accuracy_m: float = Field(
        default=50, gt=0, le=10_000, description="coarser fixes cannot place an issue"
    )
    cluster_below_zoom: int = Field(
        default=18, ge=0, le=24, description="below it, overlapping stairwells show as one count"
    )

    @model_validator(mode="after")
    def _zooms(self) -> FieldOptions:
        low, high = self.offline_zooms
        if not 0 <= low <= high <= 22:
            raise ValueError("offline_zooms: first <= last, within 0..22")
        return self


class MapView(Strict):
    """One map page: layers, basemaps, controls, initial view, labels."""

    id: str = Field(pattern=ID)
    title: Text
    description: Text
    initial_view: InitialView
    basemaps: list[Basemap] = Field(min_length=1)
    default_basemap: str
    layers: list[MapLayer] = Field(min_length=1)
    choropleth: Choropleth | None = None
    consent: ConsentPanels | None = None
    controls: list[Control] = []
    search: SearchSpec | None = None
    field: FieldOptions | None = None

    @model_validator(mode="after")
    def _consistent(self) -> MapView:
        ids = [b.id for b in self.basemaps]
        if self.default_basemap not in ids:
            raise ValueError(f"default_basemap {self.default_basemap!r} is not a basemap")
        if not any(b.kind == "blank" for b in self.basemaps):
            raise ValueError("basemaps need a blank one (the page must work offline)")
        for name, listed in (("basemaps", ids), ("layers", [lay.id for lay in self.layers])):
            if len(set(listed)) != len(listed):
                raise ValueError(f"{name}: an id is listed twice")
        if "search" in self.controls and self.search is None:
            raise ValueError("the search control needs a search section")
        if "legend" in self.controls and self.choropleth is None:
            raise ValueError("the legend control needs a choropleth section")
        return self

    def placeholders(self) -> set[str]:
        """Names in {braces} of the layers' URLs that the page itself must fill (e.g. grid)."""
        urls = [lay.source.url for lay in self.layers if isinstance(lay.source, GeoJsonSource)]
        return {name for url in urls for name in re.findall(r"\{(\w+)\}", url)}

    def check_catalog(self, catalog: Catalog) -> None:
        """Raise ValueError when a layer names a catalog layer or field that does not exist."""
        for index, layer in enumerate(self.layers):
            for layer_id in layer.catalog_ids():
                if layer_id not in catalog.layers:
                    raise ValueError(f"layers.{index}.source: unknown catalog layer {layer_id!r}")
        for index, ind in enumerate(self.choropleth.indicators if self.choropleth else []):
            where = f"choropleth.indicators.{index}"
            ref = ind.supply
            if ref is not None and ref.measure not in (
                catalog.supply_measures(ref.layer) if ref.layer in catalog.layers else {}
            ):
                raise ValueError(f"{where}.supply: no measure {ref.measure!r} of {ref.layer!r}")
            demand = catalog.demand()
            unknown = sorted(set(ind.definitions) - set(demand.definitions if demand else {}))
            if unknown:
                raise ValueError(f"{where}.definitions: unknown {', '.join(unknown)}")
        for layer_id in self.search.layers if self.search else []:
            if layer_id not in catalog.layers:
                raise ValueError(f"search.layers: unknown catalog layer {layer_id!r}")
            if not catalog.layers[layer_id].search:
                raise ValueError(f"search.layers: {layer_id} has no search fields")


def load_maps(maps_dir: Path = MAPS_DIR, catalog: Catalog | None = None) -> dict[str, MapView]:
    """Load and validate every maps/*.yaml; a broken file raises ConfigError naming it."""
    catalog = catalog or default_catalog()
    views: dict[str, MapView] = {}
    for path, view in load_yaml_models(maps_dir, MapView, "map").values():
        try:
            view.check_catalog(catalog)
        except ValueError as exc:
            raise ConfigError(f"map file {path.name}: {exc}") from exc
        views[view.id] = view
    return views


@lru_cache(maxsize=1)
def default_maps() -> dict[str, MapView]:
    """The views shipped in maps/ (loaded once)."""
    return load_maps()
