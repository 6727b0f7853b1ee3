"""The parts of an items query besides filters: bbox (any served CRS), datetime, sortby,
properties and ids, each checked against the catalog and turned into SQL with bound values."""

from __future__ import annotations

import datetime as dt
import math
import re

from gis_service.catalog import Layer
from gis_service.features.crs import Crs, lonlat_bounds
from gis_service.features.errors import BadRequest
from gis_service.features.filters import SqlFilter
from gis_service.features.values import parse_date, parse_datetime, queryable_fields, quoted

MAX_IDS = 1_000
OPEN = ("", "..")


def bbox_filter(raw: str, crs: Crs) -> SqlFilter:
    """`&&` against the box in CRS84 (two across the antimeridian), then an exact intersection.

    The box is read in the CRS's axis order; in a projected CRS the exact test is made there.
    """
    try:
        numbers = [float(part) for part in raw.split(",")]
    except ValueError as exc:
        raise BadRequest("bbox must be 4 (or 6) comma-separated numbers") from exc
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise BadRequest("bbox must be 4 (or 6) comma-separated numbers")
    if crs.north_first:
        numbers = [numbers[1], numbers[0], numbers[3], numbers[2]]
    west, south, east, north = numbers
    if not crs.geographic:
        if west > east or south > north:
            raise BadRequest(f"bbox: the minima must not exceed the maxima in {crs.uri}")
        lon0, lat0, lon1, lat1 = lonlat_bounds(crs, (west, south, east, north))
        params: dict[str, object] = {
            "bbox_w0": lon0, "bbox_s": lat0, "bbox_e0": lon1, "bbox_n": lat1,
            "bbox_x0": west, "bbox_y0": south, "bbox_x1": east, "bbox_y1": north,
        }
        envelope = "ST_MakeEnvelope(:bbox_w0, :bbox_s, :bbox_e0, :bbox_n, 4326)"
        exact = f"ST_MakeEnvelope(:bbox_x0, :bbox_y0, :bbox_x1, :bbox_y1, {int(crs.srid)})"
        sql = f'("geom" && {envelope} AND ST_Intersects(ST_Transform("geom", {crs.srid}), {exact}))'
        return SqlFilter(sql, params)
    if not (-90 <= south <= north <= 90) or not all(-180 <= x <= 180 for x in (west, east)):
        order = "south,west,north,east" if crs.north_first else "west,south,east,north"
        raise BadRequest(f"bbox must be {order} in {crs.uri} (south <= north)")
    boxes = [(west, east)] if west <= east else [(west, 180.0), (-180.0, east)]
    clauses = []
    params = {"bbox_s": south, "bbox_n": north}
    for i, (w, e) in enumerate(boxes):
        params[f"bbox_w{i}"], params[f"bbox_e{i}"] = w, e
        envelope = f"ST_MakeEnvelope(:bbox_w{i}, :bbox_s, :bbox_e{i}, :bbox_n, 4326)"
        clauses.append(f'("geom" && {envelope} AND ST_Intersects("geom", {envelope}))')
    return SqlFilter("(" + " OR ".join(clauses) + ")", params)


def _instant(text: str, end: bool) -> dt.datetime | None:
    """One end of a datetime interval as UTC (a date's end is the last moment of that day)."""
    if text in OPEN:
        return None
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            day = parse_date(text)
            moment = dt.datetime.combine(day, dt.time(), dt.UTC)
            return moment + dt.timedelta(days=1, microseconds=-1) if end else moment
        return parse_datetime(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequest(
            f"datetime: {text[:40]!r} is not an RFC 3339 date or date-time",
            [{"field": "datetime", "message": "not a date or date-time"}],
        ) from exc


def datetime_filter(layer: Layer, raw: str) -> SqlFilter:
    """Features whose temporal property (instant or start/end) meets the instant or interval.

    A collection without a temporal property has no time to filter on: every feature matches
    (Part 1 leaves it to the server; the collection's extent names no temporal extent then).
    """
    parts = raw.split("/")
    if len(parts) > 2 or len(raw) > 100 or (len(parts) == 2 and all(p in OPEN for p in parts)):
        raise BadRequest("datetime must be an instant or an interval start/end ('..' open)")
    start = _instant(parts[0], end=False)
    end = _instant(parts[-1], end=True)
    if start is not None and end is not None and start > end:
        raise BadRequest("datetime: the interval ends before it starts")
    if not layer.temporal:
        return SqlFilter("TRUE")
    kinds = {f.name: f.type for f in layer.fields}
    first, last = layer.temporal[0], layer.temporal[-1]
    params: dict[str, object] = {}
    clauses = []
    if end is not None:
        params["dt_end"] = end.date() if kinds[first] == "date" else end
        clauses.append(f"{quoted(first)} <= :dt_end")
    if start is not None:
        params["dt_start"] = start.date() if kinds[last] == "date" else start
        open_end = f"{quoted(last)} IS NULL OR " if len(layer.temporal) == 2 else ""
        clauses.append(f"({open_end}{quoted(last)} >= :dt_start)")
    clauses.append(f"{quoted(first)} IS NOT NULL")
    return SqlFilter("(" + " AND ".join(clauses) + ")", params)


def property_names(layer: Layer, raw: str) -> tuple[str, ...]:
    """The fields named by `properties` (empty: none); 400 naming an unknown one."""
    names = tuple(name.strip() for name in raw.split(",") if name.strip())
    known = {f.name for f in layer.fields}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise BadRequest(
            f"properties: {unknown[0][:60]!r} is not a property of {layer.id}; "
            f"properties: {', '.join(f.name for f in layer.fields)}",
            [{"field": "properties", "message": f"unknown property {unknown[0][:60]!r}"}],
        )
    return names


def sort_sql(layer: Layer, raw: str) -> str:
    """ORDER BY terms for `sortby` (`name`, `+name`, `-name`, comma-separated), then the id."""
    sortable = {"id", *queryable_fields(layer)}
    terms = []
    for item in raw.split(","):
        text = item.strip()
        descending = text.startswith("-")
        name = text.lstrip("+-").strip()
        if name not in sortable:
            raise BadRequest(
                f"sortby: {name[:60]!r} is not sortable; sortable: {', '.join(sorted(sortable))}",
                [{"field": "sortby", "message": f"cannot sort by {name[:60]!r}"}],
            )
        terms.append(f"{quoted(name)} {'DESC NULLS LAST' if descending else 'ASC NULLS LAST'}")
    if len(terms) > 10:
        raise BadRequest("sortby: at most 10 properties")
    return ", ".join([*terms, '"id"'])


def ids_filter(raw: str) -> SqlFilter:
    """Features with one of the listed ids (at most MAX_IDS)."""
    texts = [part.strip() for part in raw.split(",") if part.strip()]
    if not texts or len(texts) > MAX_IDS or not all(re.fullmatch(r"[0-9]{1,18}", t) for t in texts):
        raise BadRequest(
            f"ids must be 1 to {MAX_IDS} comma-separated feature ids (whole numbers)",
            [{"field": "ids", "message": "not a list of feature ids"}],
        )
    return SqlFilter('"id" = ANY(:ids)', {"ids": sorted({int(t) for t in texts})})
