"""Folium elements of our pages, every asset pointing at the app's own /static URLs."""

from __future__ import annotations

from typing import Any

import folium
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.plugins import Fullscreen, MeasureControl, VectorGridProtobuf
from folium.template import Template

from gis_service.webmap import assets
from gis_service.webmap.page_data import READ_DATA_JS


class LocalMap(folium.Map):
    """folium.Map loading Leaflet from the app (no jQuery/Bootstrap/awesome-markers: unused)."""

    default_js = assets.LEAFLET_JS
    default_css = assets.LEAFLET_CSS


class LocalFullscreen(Fullscreen):
    """Fullscreen control with local assets."""

    default_js = assets.FULLSCREEN_JS
    default_css = assets.FULLSCREEN_CSS


# the measure tool's units, written as symbols in both languages (never acres or miles)
METRIC_UNITS = {
    "meters": {"factor": 1, "display": "m", "decimals": 0},
    "kilometers": {"factor": 0.001, "display": "km", "decimals": 2},
    "sqmeters": {"factor": 1, "display": "m²", "decimals": 0},
    "hectares": {"factor": 0.0001, "display": "ha", "decimals": 2},
}


class LocalMeasure(MeasureControl):
    """Measure control with local assets (and Folium's fix for Leaflet >= 1.8, issue 171)."""

    default_js = assets.MEASURE_JS
    default_css = assets.MEASURE_CSS
    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = new L.Control.Measure({{ this.options|tojavascript }});
            {{ this._parent.get_name() }}.addControl({{ this.get_name() }});
            L.Control.Measure.include({
                _setCaptureMarkerIcon: function () {
                    this._captureMarker.options.autoPanOnFocus = false;
                    this._captureMarker.setIcon(
                        L.divIcon({iconSize: this._map.getSize().multiplyBy(2)}));
                },
            });
        {% endmacro %}
        """
    )


class AppScript(JSCSSMixin, MacroElement):
    """Loads our script and hands it the page data block (before any layer is made)."""

    default_js = assets.APP_JS
    default_css = assets.APP_CSS
    _template = Template(
        """
        {% macro script(this, kwargs) %}
            GisMap.init({{ this._parent.get_name() }}, """ + READ_DATA_JS + """);
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "AppScript"


class VectorTiles(VectorGridProtobuf):
    """One of our vector tile URLs drawn by Leaflet.VectorGrid, styled and bound by GisMap."""

    default_js = assets.VECTORGRID_JS
    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.vectorGrid.protobuf(
                {{ this.url|tojson }}, GisMap.vectorOptions({{ this.layer_id|tojson }}));
            GisMap.bindVector({{ this.get_name() }}, {{ this.layer_id|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, url: str, layer_id: str, name: str, show: bool) -> None:
        super().__init__(url, name=name, show=show)
        self.layer_id = layer_id


class ScriptLayer(Layer):
    """A layer made by a GisMap factory call (GeoJSON by URL, choropleth, blank basemap)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = {{ this.factory }}({{ this.argument|tojson }});
        {% endmacro %}
        """
    )

    def __init__(
        self, factory: str, argument: str | dict[str, Any], name: str, overlay: bool = True,
        show: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=overlay, control=True, show=show)
        self._name = "ScriptLayer"
        self.factory = factory
        self.argument = argument


class Basemap(folium.TileLayer):
    """An outside XYZ basemap; GisMap switches to the blank one when its tiles fail."""

    def __init__(
        self, url: str, name: str, attribution: str, max_zoom: int, show: bool,
        subdomains: str = "abc",
    ) -> None:
        super().__init__(
            tiles=url, name=name, attr=attribution, max_zoom=max_zoom, max_native_zoom=max_zoom,
            overlay=False, control=True, show=show, subdomains=subdomains,
        )


class BasemapRegistry(MacroElement):
    """Tells GisMap which layers are basemaps and which one is blank (the offline fallback)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            GisMap.registerBasemaps({
                {%- for key, layer in this.layers.items() %}
                {{ key|tojson }}: {{ layer.get_name() }},
                {%- endfor %}
            }, {{ this.blank|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, layers: dict[str, Layer], blank: str) -> None:
        super().__init__()
        self._name = "BasemapRegistry"
        self.layers = layers
        self.blank = blank
