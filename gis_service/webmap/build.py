"""Build a Folium map from a map view: basemaps, our tiles, GeoJSON by URL, controls."""

from __future__ import annotations

from typing import Any

import folium
from folium.map import Layer

from gis_service.catalog import Catalog
from gis_service.maps_catalog import Basemap, MapView, TilesSource
from gis_service.webmap import elements
from gis_service.webmap.config import Lookups, Status, client_config, layer_title, tile_url
from gis_service.webmap.page_data import add_slots, fill, inert_label


def china_basemap(base: Basemap, max_zoom: int, key: str) -> dict[str, Any]:
    """What GisMap.chinaBasemap draws: the tile URLs (the key filled in), grid and credit."""
    return {
        "kind": base.kind,
        "urls": [u.replace("{key}", key) for u in (base.url, base.annotation_url) if u],
        "subdomains": base.subdomains,
        "max_zoom": min(base.max_zoom, max_zoom),
        "attribution": inert_label(base.credit()),
    }


def build_map(
    view: MapView, catalog: Catalog, lang: str, config: dict[str, Any],
    tianditu_key: str | None = None,
) -> str:
    """The page skeleton of a view in a language: Folium fed the view's YAML only, no data.

    `config` (the page data, filled in afterwards) decides which overlays are drawn and how:
    the static export's has GeoJSON layers only, and only those it could fetch.
    """
    start = view.initial_view
    fmap = elements.LocalMap(
        location=list(start.center),
        zoom_start=start.zoom,
        min_zoom=start.min_zoom,
        max_zoom=start.max_zoom,
        tiles=None,
        control_scale="scale" in view.controls,
        prefer_canvas=False,
    )
    figure = fmap.get_root()
    add_slots(figure)
    figure.lang = "zh-CN" if lang == "zh" else "en"  # type: ignore[attr-defined]
    elements.AppScript().add_to(fmap)
    basemaps: dict[str, Layer] = {}
    blank = ""
    for base in view.basemaps:
        name = inert_label(base.title.pick(lang))
        show = base.id == view.default_basemap
        if base.kind == "tianditu" and not tianditu_key:
            continue  # no key, no Tianditu
        if base.kind == "blank" or base.url is None:
            layer: Layer = elements.ScriptLayer("GisMap.blankBasemap", base.id, name, False, show)
            blank = blank or base.id
        elif base.kind in ("tianditu", "gcj02"):
            layer = elements.ScriptLayer(
                "GisMap.chinaBasemap", china_basemap(base, start.max_zoom, tianditu_key or ""),
                name, False, show,
            )
        else:
            attribution = inert_label(base.credit())
            layer = elements.Basemap(
                base.url, name, attribution, min(base.max_zoom, start.max_zoom), show,
                base.subdomains,
            )
        layer.add_to(fmap)
        basemaps[base.id] = layer
    elements.BasemapRegistry(basemaps, blank).add_to(fmap)
    if view.choropleth is not None:
        elements.ScriptLayer(
            "GisMap.choroplethLayer",
            "choropleth",
            inert_label(view.choropleth.title.pick(lang)),
            show=view.choropleth.show,
        ).add_to(fmap)
    if view.consent is not None:
        title = inert_label(view.consent.checklist_title.pick(lang))
        elements.ScriptLayer("GisMap.checklistLayer", "checklist", title, show=False).add_to(fmap)
    for overlay in view.layers:
        if overlay.id not in config["layers"]:
            continue
        name = inert_label(layer_title(overlay, catalog, lang))
        if config["layers"][overlay.id]["kind"] == "tiles" and isinstance(
            overlay.source, TilesSource
        ):
            elements.VectorTiles(
                tile_url(overlay.source.layers), overlay.id, name, overlay.show
            ).add_to(fmap)
        else:
            elements.ScriptLayer("GisMap.geoJsonLayer", overlay.id, name, show=overlay.show).add_to(
                fmap
            )
    controls = config["controls"]
    if "fullscreen" in controls:
        elements.LocalFullscreen(position="topleft").add_to(fmap)
    if "measure" in controls:
        elements.LocalMeasure(
            position="topleft", primary_length_unit="meters", secondary_length_unit="kilometers",
            primary_area_unit="sqmeters", secondary_area_unit="hectares",
            localization="cn" if lang == "zh" else "en", units=elements.METRIC_UNITS,
        ).add_to(fmap)
    if "layers" in controls:
        folium.LayerControl(position="topright", collapsed=True).add_to(fmap)
    return str(figure.render())


def render_page(
    view: MapView, catalog: Catalog, lang: str, statuses: list[Status],
    lookups: Lookups | None = None, tianditu_key: str | None = None,
) -> str:
    """The page's HTML: the skeleton with the page data (statuses, lookup labels) filled in."""
    config = client_config(view, catalog, lang, statuses, lookups)
    page = build_map(view, catalog, lang, config, tianditu_key)
    return fill(page, config, view.title.pick(lang))
