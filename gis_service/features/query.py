"""The items query: limit, offset, bbox, datetime, equality and CQL2 filters, ids, sortby,
properties and crs, to SQL and back as pages."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

import sqlalchemy as sa

from gis_service.catalog import Layer
from gis_service.features.crs import STORAGE, Crs, parse_crs
from gis_service.features.errors import BadRequest
from gis_service.features.filters import SqlFilter, cql2_to_sql, equality_filters
from gis_service.features.geojson import feature_sql
from gis_service.features.query_parts import (
    bbox_filter,
    datetime_filter,
    ids_filter,
    property_names,
    sort_sql,
)
from gis_service.features.values import check_fits, queryable_fields, quoted

STANDARD = {
    "bbox", "bbox-crs", "limit", "offset", "filter", "filter-lang", "filter-crs", "f", "crs",
    "datetime", "properties", "sortby", "ids",
}
FORMATS = {"json", "geojson", "html"}


@dataclass
class ItemsQuery:
    """A parsed items request."""

    limit: int
    offset: int
    where: SqlFilter
    params: dict[str, str]
    crs: Crs = STORAGE
    order: str = '"id"'
    names: tuple[str, ...] | None = None


def single_values(items: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Query parameters as a dict, refusing repeated names and NUL characters."""
    found: dict[str, str] = {}
    for name, value in items:
        if name in found:
            raise BadRequest(f"parameter {name} is given more than once")
        if "\x00" in value or "\x00" in name:
            raise BadRequest(f"parameter {name!r} contains a NUL character")
        found[name] = value
    return found


def check_known(layer: Layer, params: dict[str, str], allowed: set[str]) -> None:
    """400 for a parameter that is neither standard nor a queryable of the layer."""
    known = allowed | set(queryable_fields(layer))
    unknown = sorted(set(params) - known)
    if unknown:
        raise BadRequest(
            f"unknown query parameter {unknown[0]!r}; allowed: {', '.join(sorted(known))}",
            [{"field": name, "message": "unknown query parameter"} for name in unknown],
        )
    if params.get("f", "json") not in FORMATS:
        raise BadRequest("f must be json, geojson or html (the encodings served)")


def whole_number(params: dict[str, str], name: str, default: int, minimum: int) -> int:
    """A non-negative integer parameter (400 when it is not one)."""
    raw = params.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not re.fullmatch(r"[0-9]{1,18}", text) or int(text) < minimum:
        raise BadRequest(
            f"{name} must be an integer of at least {minimum}",
            [{"field": name, "message": f"must be an integer >= {minimum}"}],
        )
    return int(text)


def check_values(layer: Layer, equal: dict[str, str], found: SqlFilter) -> None:
    """400 for equality values no feature can hold (outside the enum, range or length)."""
    fields = queryable_fields(layer)
    for name in equal:
        try:
            check_fits(layer, fields[name], found.params[f"eq_{name}"])
        except ValueError as exc:
            raise BadRequest(f"{name}: {exc}", [{"field": name, "message": str(exc)}]) from exc


def parse_items_query(
    layer: Layer, items: Sequence[tuple[str, str]], default_limit: int, max_limit: int
) -> ItemsQuery:
    """Read and check the items parameters; `limit` above the maximum is clamped."""
    params = single_values(items)
    check_known(layer, params, STANDARD)
    limit = min(whole_number(params, "limit", default_limit, 1), max_limit)
    offset = whole_number(params, "offset", 0, 0)
    equal = {k: v for k, v in params.items() if k not in STANDARD}
    parts = [equality_filters(layer, equal)]
    check_values(layer, equal, parts[0])
    if "bbox" in params:
        parts.append(bbox_filter(params["bbox"], parse_crs(params.get("bbox-crs"), "bbox-crs")))
    elif "bbox-crs" in params:
        raise BadRequest("bbox-crs needs bbox")
    if "datetime" in params:
        parts.append(datetime_filter(layer, params["datetime"]))
    if "ids" in params:
        parts.append(ids_filter(params["ids"]))
    if "filter" in params:
        lang = params.get("filter-lang", "cql2-text")
        crs = parse_crs(params.get("filter-crs"), "filter-crs")
        parts.append(cql2_to_sql(params["filter"], layer, lang=lang, crs=crs))
    elif "filter-lang" in params or "filter-crs" in params:
        raise BadRequest("filter-lang and filter-crs need filter")
    where = SqlFilter(
        " AND ".join(p.sql for p in parts), {k: v for p in parts for k, v in p.params.items()}
    )
    params["limit"] = str(limit)
    return ItemsQuery(
        limit=limit,
        offset=offset,
        where=where,
        params=params,
        crs=parse_crs(params.get("crs"), "crs"),
        order=sort_sql(layer, params["sortby"]) if "sortby" in params else '"id"',
        names=property_names(layer, params["properties"]) if "properties" in params else None,
    )


def fetch_page(conn: sa.Connection, layer: Layer, query: ItemsQuery) -> tuple[list[str], int]:
    """The page's features as GeoJSON text, and how many features match in all."""
    table = quoted(layer.table)
    # only the published columns: a role may lack the grant of others (household.owner_names)
    columns = ", ".join(['"id"', '"geom"', *(quoted(f.name) for f in layer.fields)])
    rows = conn.execute(
        sa.text(
            # The page is cut in a subquery so that only its rows are encoded: PostgreSQL
            # computes the select list of rows that OFFSET skips too.
            f"SELECT ({feature_sql(layer, query.crs, query.names)})::text FROM (SELECT "
            f"{columns} FROM {table} WHERE {query.where.sql} ORDER BY {query.order} "
            f"LIMIT :page_limit OFFSET :page_offset) AS page ORDER BY {query.order}"
        ),
        {**query.where.params, "page_limit": query.limit, "page_offset": query.offset},
    ).scalars()
    features = list(rows)
    if query.offset == 0 and len(features) < query.limit:
        return features, len(features)
    matched = conn.execute(
        sa.text(f"SELECT count(*) FROM {table} WHERE {query.where.sql}"), query.where.params
    ).scalar_one()
    return features, int(matched)


def page_links(base: str, query: ItemsQuery, returned: int, matched: int) -> list[dict[str, str]]:
    """self, next and prev links of a page (keeping the other parameters)."""
    from gis_service.features.geojson import GEOJSON, link

    def at(offset: int) -> str:
        params = {**query.params, "offset": str(offset)}
        return f"{base}?{urlencode(params)}"

    found = [link(at(query.offset), "self", GEOJSON, "this page")]
    if query.offset + returned < matched:
        found.append(link(at(query.offset + query.limit), "next", GEOJSON, "next page"))
    if query.offset > 0:
        found.append(link(at(max(0, query.offset - query.limit)), "prev", GEOJSON, "previous page"))
    return found
