"""Request parameters of tiles: the layer list and the filters shared with the items endpoint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gis_service.catalog import Catalog, Layer
from gis_service.errors import NotFound
from gis_service.features.crs import parse_crs
from gis_service.features.errors import BadRequest
from gis_service.features.filters import SqlFilter, cql2_to_sql, equality_filters
from gis_service.features.query import single_values
from gis_service.features.values import queryable_fields

FILTER_PARAMS = ("filter", "filter-lang", "filter-crs")
MAX_LAYERS = 16


def resolve_layers(catalog: Catalog, text: str) -> tuple[Layer, ...]:
    """Layers named by 'a' or 'a,b,c' (404 for an unknown id, 400 for a malformed list)."""
    ids = text.split(",")
    unknown = [layer_id for layer_id in ids if layer_id and layer_id not in catalog.layers]
    if unknown:
        known = ", ".join(catalog.layers)
        raise NotFound(f"layer {unknown[0]!r} does not exist; layers: {known}")
    if any(not item for item in ids) or len(set(ids)) != len(ids) or len(ids) > MAX_LAYERS:
        raise BadRequest(
            f"layers must be distinct ids separated by commas (at most {MAX_LAYERS}): {text!r}",
            [{"field": "layers", "message": "malformed layer list"}],
        )
    return tuple(catalog.layers[layer_id] for layer_id in ids)


@dataclass(frozen=True)
class TileFilter:
    """The filter parameters of a tile request, in a canonical (hashable) form."""

    items: tuple[tuple[str, str], ...] = ()

    @property
    def empty(self) -> bool:
        """True without any filter."""
        return not self.items

    def query_string(self) -> dict[str, str]:
        """The parameters to repeat on tile URLs (TileJSON, OGC links)."""
        return dict(self.items)

    def for_layer(self, layer: Layer, prefix: str) -> SqlFilter:
        """The SQL condition of this filter on one layer (bound names start with prefix)."""
        if not self.items:
            return SqlFilter("", {})
        params = dict(self.items)
        equal = {k: v for k, v in params.items() if k not in FILTER_PARAMS}
        parts = [equality_filters(layer, equal, prefix=f"{prefix}eq")]
        if "filter" in params:
            parts.append(
                cql2_to_sql(
                    params["filter"],
                    layer,
                    prefix=f"{prefix}cql",
                    lang=params.get("filter-lang", "cql2-text"),
                    crs=parse_crs(params.get("filter-crs"), "filter-crs"),
                )
            )
        sql = " AND ".join(p.sql for p in parts if p.sql != "TRUE")
        return SqlFilter(sql, {k: v for p in parts for k, v in p.params.items()})


def parse_filter(layers: Sequence[Layer], items: Sequence[tuple[str, str]]) -> TileFilter:
    """Check the query parameters: field=value for queryables of the layers, and CQL2 text."""
    if not items:
        return TileFilter()
    params = single_values(items)
    queryable: set[str] = set()
    for layer in layers:
        queryable |= set(queryable_fields(layer))
    unknown = sorted(set(params) - queryable - set(FILTER_PARAMS))
    if unknown:
        raise BadRequest(
            f"unknown query parameter {unknown[0]!r}; allowed: "
            f"{', '.join(sorted(queryable | set(FILTER_PARAMS)))}",
            [{"field": name, "message": "unknown query parameter"} for name in unknown],
        )
    if "filter" not in params and ("filter-lang" in params or "filter-crs" in params):
        raise BadRequest("filter-lang and filter-crs need filter")
    found = TileFilter(tuple(sorted(params.items())))
    for index, layer in enumerate(layers):
        found.for_layer(layer, f"l{index}_")  # 400 now for a filter a layer cannot take
    return found
