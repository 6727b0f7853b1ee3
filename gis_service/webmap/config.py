"""The small JSON configuration a page hands to its script (labels, styles, URLs; no data)."""

from __future__ import annotations

from typing import Any

from gis_service.analysis.coverage import Eligibility
from gis_service.analysis.scenario import MEASURE_INDICATORS as SCENARIO_MEASURE_INDICATORS
from gis_service.catalog import Catalog, Layer
from gis_service.maps_catalog import GeoJsonSource, Indicator, MapLayer, MapView, TilesSource
from gis_service.maps_consent import consent_entry
from gis_service.rows.lookups import Code as Status
from gis_service.webmap.i18n import INDICATORS, MEASURE_INDICATORS, STRINGS

Lookups = dict[str, list[Status]]  # lookup table -> its codes with labels
TILE_URL = "/tiles/{layers}/{{z}}/{{x}}/{{y}}.pbf"


def tile_url(layer_ids: list[str]) -> str:
    """Our XYZ vector tile template for one or several catalog layers."""
    return TILE_URL.format(layers=",".join(layer_ids))


def enum_labels(layer: Layer, lang: str, lookups: Lookups) -> dict[str, dict[str, str]]:
    """The label of each code of each coded field (its enum_labels, or its lookup table's)."""
    out: dict[str, dict[str, str]] = {}
    for f in layer.fields:
        if f.enum_labels:
            out[f.name] = {code: text.pick(lang) for code, text in f.enum_labels.items()}
        elif f.enum_from and f.enum_from in lookups:
            out[f.name] = {c.code: c.label(lang) for c in lookups[f.enum_from]}
    return out


def catalog_entry(layer: Layer, lang: str, lookups: Lookups | None = None) -> dict[str, Any]:
    """Title, geometry, style, popup fields (with labels) and search fields of a catalog layer."""
    style = layer.style
    return {
        "title": layer.title.pick(lang),
        "geometry": layer.geometry,
        "public": layer.public,
        "amenity": layer.service is not None,  # drawn in the amenities pane
        "enums": enum_labels(layer, lang, lookups or {}),
        "codes": {code: text.pick(lang) for code, text in layer.labels.items()},
        "style": {
            "color": style.color,
            "color_by": style.color_by,
            "colors": style.colors,
            "fill_opacity": style.fill_opacity,
            "weight": style.weight,
            "radius": style.radius,
        },
        "popup": [[name, label_of(layer, name, lang)] for name in layer.popup],
        "search": layer.search,
        "labels": {f.name: f.label.pick(lang) for f in layer.fields},
        "aggregate_below": layer.tiles.aggregate_below,
        "minzoom": layer.tiles.minzoom,
    }


def label_of(layer: Layer, name: str, lang: str) -> str:
    """A field's label in a language (the name itself for 'id')."""
    try:
        return layer.field(name).label.pick(lang)
    except KeyError:
        return name


def layer_title(layer: MapLayer, catalog: Catalog, lang: str) -> str:
    """The overlay's title: its own, else its catalog layer's."""
    if layer.title is not None:
        return layer.title.pick(lang)
    ids = layer.catalog_ids()
    return " / ".join(catalog.layer(i).title.pick(lang) for i in ids) if ids else layer.id


def layer_entry(layer: MapLayer, catalog: Catalog, lang: str) -> dict[str, Any]:
    """What the script needs to draw and click one overlay."""
    source = layer.source
    entry: dict[str, Any] = {
        "id": layer.id,
        "title": layer_title(layer, catalog, lang),
        "kind": source.kind,
        "catalog": layer.catalog_ids(),
        "style": layer.style.model_dump(exclude_none=True),
        "click": layer.click,
        "min_zoom": layer.min_zoom,
    }
    if isinstance(source, TilesSource):
        entry["url"] = tile_url(source.layers)
    elif isinstance(source, GeoJsonSource):
        entry["url"] = source.url
        entry["bbox"] = source.bbox
    return entry


def measure_labels(catalog: Catalog, lang: str) -> dict[str, str]:
    """Labels of the scenario indicators of every supply measure (from the catalog's labels)."""
    out: dict[str, str] = {}
    for layer_id in catalog.service_layers():
        for name, m in catalog.supply_measures(layer_id).items():
            values = {"label": m.label.pick(lang), "unit": m.unit.pick(lang)}
            for suffix in SCENARIO_MEASURE_INDICATORS:
                key = f"{suffix}_{m.per}" if suffix == "ratio" else suffix
                text = MEASURE_INDICATORS[lang].get(key, MEASURE_INDICATORS[lang][suffix])
                out[f"{name}_{suffix}"] = text.format(**values)
    return out


def target_text(catalog: Catalog, indicator: Indicator, lang: str) -> dict[str, Any]:
    """The target of a supply figure, in words, and its source (none without a target)."""
    ref = indicator.supply
    if ref is None:
        return {"target": None}
    m = catalog.supply_measures(ref.layer)[ref.measure]
    if m.target is None:
        return {"target": None}
    per = STRINGS[lang][f"per_{m.per}"]
    words = STRINGS[lang]["target_is"].format(value=f"{m.target.value:g}", unit=m.unit.pick(lang),
                                              per=per)  # fmt: skip
    return {"target": m.target.value, "target_text": words,
            "target_source": m.target.source.pick(lang)}  # fmt: skip


def indicator_entry(catalog: Catalog, indicator: Indicator, lang: str) -> dict[str, Any]:
    """One choropleth figure: title, format, classes, join, target and definitions in words."""
    demand = catalog.demand()
    rule = Eligibility()
    stated = demand.stated(lang, rule.cutoff_year, rule.min_floors) if demand else {}
    return {
        "property": indicator.property,
        "title": indicator.title.pick(lang),
        "format": indicator.format,
        "breaks": indicator.breaks,
        "colors": indicator.colors,
        "join": indicator.join.model_dump() if indicator.join else None,
        "definitions": [stated[name] for name in indicator.definitions],
        **target_text(catalog, indicator, lang),
    }


def client_config(
    view: MapView, catalog: Catalog, lang: str, statuses: list[Status],
    lookups: Lookups | None = None,
) -> dict[str, Any]:
    """The page's configuration: language, strings, layers, choropleth, controls, statuses."""
    used = sorted({i for lay in view.layers for i in lay.catalog_ids()}
                  | set(view.search.layers if view.search else []) | {"compounds"})
    stair_colors = catalog.layer("stairwells").style.colors
    config: dict[str, Any] = {
        "view": view.id,
        "lang": lang,
        "strings": STRINGS[lang],
        "indicators": {**INDICATORS[lang], **measure_labels(catalog, lang)},
        "controls": list(view.controls),
        "initial_view": view.initial_view.model_dump(),
        "catalog": {i: catalog_entry(catalog.layer(i), lang, lookups) for i in used},
        "layers": {lay.id: layer_entry(lay, catalog, lang) for lay in view.layers},
        "statuses": [
            {"code": s.code, "label": s.label(lang), "color": stair_colors.get(s.code, "#607d8b")}
            for s in statuses
        ],
        "search": view.search.layers if view.search else [],
        "urls": {
            "items": "/collections/{layer}/items",
            "item": "/collections/{layer}/items/{id}",
            "history": "/collections/{layer}/items/{id}/history",
            "compound": "/compounds/{id}",
            "report": "/reports/compounds/{id}.pdf",
            "search": "/search",
            "scenarios": "/scenarios",
            "scenario": "/scenarios/{id}",
        },
        "choropleth": None,
        "consent": consent_entry(view.consent, lang),
    }
    if view.choropleth is not None:
        ch = view.choropleth
        config["choropleth"] = {
            "title": ch.title.pick(lang),
            "url": ch.url,
            "show": ch.show,
            "name_property": ch.name_property,
            "levels": [{"id": lv.id, "title": lv.title.pick(lang)} for lv in ch.levels],
            "indicators": [indicator_entry(catalog, ind, lang) for ind in ch.indicators],
        }
    return config
