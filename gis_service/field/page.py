"""The field page: a Folium map built from maps/field.yaml, driven by our field scripts."""

from __future__ import annotations

from typing import Any

import folium
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.template import Template

from gis_service.auth import Principal
from gis_service.catalog import Catalog
from gis_service.field.strings import STRINGS, SURVEY_COLORS
from gis_service.maps_catalog import FieldOptions, MapView, TilesSource
from gis_service.rows.lookups import Code
from gis_service.webmap import assets, elements
from gis_service.webmap.config import layer_title, tile_url
from gis_service.webmap.page_data import READ_DATA_JS, add_slots, fill, inert_label

FIELD_JS = [
    *assets.RETRY_AFTER_JS,
    ("field_outbox_js", assets.own("field/outbox.js")),
    ("field_rules_js", assets.own("field/rules.js")),
    ("field_js", assets.own("field/field.js")),
    ("field_forms_js", assets.own("field/forms.js")),
    ("field_list_js", assets.own("field/list.js")),
    ("field_markers_js", assets.own("field/markers.js")),
    ("field_households_js", assets.own("field/households.js")),
    ("field_download_js", assets.own("field/download.js")),
    ("field_clusters_js", assets.own("field/clusters.js")),
]
FIELD_CSS = [
    ("field_css", assets.own("field/field.css")),
    ("field_households_css", assets.own("field/households.css")),
]


class FieldScript(JSCSSMixin, MacroElement):
    """Loads the field scripts and hands them the page data block before the layers."""

    default_js = assets.VECTORGRID_JS + FIELD_JS
    default_css = FIELD_CSS
    _template = Template(
        """
        {% macro script(this, kwargs) %}
            FieldMap.init({{ this._parent.get_name() }}, """ + READ_DATA_JS + """);
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "FieldScript"


def layer_config(view: MapView, catalog: Catalog, grid: int, lang: str) -> dict[str, Any]:
    """Each overlay's URL (grid filled in), title, click and style (catalog style + overrides)."""
    found: dict[str, Any] = {}
    for overlay in view.layers:
        ids = overlay.catalog_ids()
        style: dict[str, Any] = {}
        if len(ids) == 1:
            style = catalog.layer(ids[0]).style.model_dump()
        style.update(overlay.style.model_dump(exclude_none=True))
        if isinstance(overlay.source, TilesSource):
            url, kind = tile_url(overlay.source.layers), "tiles"
        else:
            url, kind = overlay.source.url.replace("{grid}", str(grid)), "geojson"
        found[overlay.id] = {
            "kind": kind, "url": url, "title": layer_title(overlay, catalog, lang),
            "click": overlay.click, "style": style, "catalog": ids,
        }
    return found


def field_config(
    view: MapView, catalog: Catalog, principal: Principal, grid: dict[str, Any], lang: str,
    statuses: list[Code], categories: list[Code],
) -> dict[str, Any]:
    """Everything the field scripts need besides the data they fetch."""
    stairwells = catalog.layer("stairwells")
    stair_colors = stairwells.style.colors
    survey_labels = stairwells.field("survey_status").enum_labels
    strings = STRINGS[lang]
    (south, west), (north, east) = grid["bounds"]
    bbox = f"{west},{south},{east},{north}"
    return {
        "lang": lang,
        "strings": strings,
        "user": {"username": principal.username, "role": principal.role},
        "grid": grid,
        "layers": layer_config(view, catalog, int(grid["id"]), lang),
        "statuses": [
            {"code": s.code, "label": s.label(lang), "color": stair_colors.get(s.code, "#607d8b")}
            for s in statuses
        ],
        "survey": [{"code": c, "label": survey_labels[c].pick(lang), "color": SURVEY_COLORS[c]}
                   for c in SURVEY_COLORS],
        "legend": {name: stairwells.field(name).label.pick(lang)
                   for name in ("survey_status", "elevator_status")},
        "categories": [{"code": c.code, "label": c.label(lang)} for c in categories],
        "field_labels": {f.name: f.label.pick(lang) for f in stairwells.fields},
        "offline": offline_config(view, lang),
        "issue_max_accuracy_m": (view.field or FieldOptions()).issue_max_accuracy_m,
        "cluster_below_zoom": (view.field or FieldOptions()).cluster_below_zoom,
        "urls": {
            "rules": f"/field/rules?lang={lang}",
            "buildings": f"/collections/buildings/items?grid_id={grid['id']}&limit=5000",
            "compounds": f"/collections/compounds/items?bbox={bbox}&limit=1000",
            "surveys": "/field/surveys",
            "item": "/collections/{layer}/items/{id}",
            "items": "/collections/{layer}/items",
            "photo": "/issues/{id}/photo",
            "proof": "/households/{id}/proof",
            "changes": "/field/stairwells/{id}/changes",
            "logout": "/session/logout",
            "login": "/field/login",
            "worker": "/field/sw.js",
            "scope": "/field",
        },
        "csrf": {"cookie": "gis_csrf", "header": "X-CSRF-Token"},
    }


def offline_config(view: MapView, lang: str) -> dict[str, Any]:
    """What "download my grid" fetches: zooms, and the basemaps with whether their terms allow."""
    options = view.field or FieldOptions()
    return {
        "zooms": list(options.offline_zooms),
        "default_basemap": view.default_basemap,
        "basemaps": [
            {"id": b.id, "title": b.title.pick(lang), "kind": b.kind,
             "bulk_download": b.bulk_download}
            for b in view.basemaps
        ],
    }


def render_field_page(view: MapView, catalog: Catalog, config: dict[str, Any]) -> str:
    """The field page's HTML: the skeleton (map, basemaps, overlays, scripts) and its data."""
    lang = config["lang"]
    title = f"{view.title.pick(lang)} · {config['grid']['name']}"
    return fill(field_skeleton(view, catalog, lang), config, title)


def field_skeleton(view: MapView, catalog: Catalog, lang: str) -> str:
    """The field page without data: Folium fed the view's YAML only."""
    start = view.initial_view
    fmap = elements.LocalMap(
        location=list(start.center), zoom_start=start.zoom, min_zoom=start.min_zoom,
        max_zoom=start.max_zoom, tiles=None, control_scale="scale" in view.controls,
        zoom_control=False,
    )
    figure = fmap.get_root()
    add_slots(figure)
    figure.lang = "zh-CN" if lang == "zh" else "en"  # type: ignore[attr-defined]
    FieldScript().add_to(fmap)
    for base in view.basemaps:
        name = inert_label(base.title.pick(lang))
        show = base.id == view.default_basemap
        if base.kind == "blank" or base.url is None:
            elements.ScriptLayer("FieldMap.blankBasemap", base.id, name, False, show).add_to(fmap)
        else:
            elements.Basemap(
                base.url, name, inert_label(base.attribution), min(base.max_zoom, start.max_zoom),
                show,
            ).add_to(fmap)
    for overlay in view.layers:
        name = inert_label(layer_title(overlay, catalog, lang))
        elements.ScriptLayer("FieldMap.layer", overlay.id, name, show=overlay.show).add_to(fmap)
    if "fullscreen" in view.controls:
        elements.LocalFullscreen(position="topright").add_to(fmap)
    if "layers" in view.controls:
        folium.LayerControl(position="topright", collapsed=True).add_to(fmap)
    return str(figure.render())
