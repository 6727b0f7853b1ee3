"""CQL2-JSON (OGC API Features Part 3): the same AST as CQL2-text, with the same limits.

Positions in messages count the JSON objects and values read so far (there is no text offset).
"""

from __future__ import annotations

from typing import Any

import orjson
import shapely
from shapely.geometry import shape

from gis_service.features import cql2_ast as ast
from gis_service.features.cql2 import MAX_DEPTH, MAX_LENGTH, MAX_STRING_CHARS
from gis_service.features.errors import BadRequest

COMPARISONS = {"=", "<>", "<", ">", "<=", ">="}
SPATIAL = {
    f"s_{name}"
    for name in ("intersects", "disjoint", "within", "contains", "crosses", "overlaps",
                 "touches", "equals")
}
GEOJSON_TYPES = {
    "Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon",
    "GeometryCollection",
}


class JsonParser:
    """Walks decoded CQL2-JSON into cql2_ast nodes, counting depth and nodes."""

    def __init__(self) -> None:
        self.count = 0
        self.depth = 0

    def fail(self, message: str) -> BadRequest:
        """A 400 naming the node."""
        return BadRequest(f"filter: {message} (node {self.count})")

    def tick(self) -> int:
        """Count one node; 400 beyond MAX_DEPTH levels of nesting."""
        self.count += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} levels")
        return self.count

    def args(self, item: dict[str, Any], low: int, high: int) -> list[Any]:
        """The operation's args list, checked for its length."""
        found = item.get("args")
        if not isinstance(found, list) or not low <= len(found) <= high:
            raise self.fail(f"{item.get('op')!r} takes {low}..{high} args in a list")
        return found

    def node(self, item: Any) -> ast.Node:
        """A boolean expression."""
        self.tick()
        if isinstance(item, bool):
            return ast.BoolConst(item)
        if not isinstance(item, dict) or not isinstance(item.get("op"), str):
            raise self.fail("expected an object with 'op' and 'args', or true/false")
        op = item["op"].lower() if item["op"].lower() != "isnull" else "isNull"
        self.depth += 1
        try:
            return self.operation(op, item)
        finally:
            self.depth -= 1

    def operation(self, op: str, item: dict[str, Any]) -> ast.Node:
        """One operation by its name."""
        if op in ("and", "or"):
            return ast.BoolOp(op.upper(), tuple(self.node(a) for a in self.args(item, 2, 10_000)))
        if op == "not":
            return ast.Not(self.node(self.args(item, 1, 1)[0]))
        if op in COMPARISONS:
            left, right = (self.scalar(a) for a in self.args(item, 2, 2))
            return ast.Compare(op, left, right)
        if op == "like":
            left, right = (self.scalar(a) for a in self.args(item, 2, 2))
            return ast.Like(left, right, False)
        if op == "between":
            expr, low, high = (self.scalar(a) for a in self.args(item, 3, 3))
            return ast.Between(expr, low, high, False)
        if op == "in":
            expr, items = self.args(item, 2, 2)
            if not isinstance(items, list) or not items:
                raise self.fail("'in' takes a value and a non-empty list")
            return ast.In(self.scalar(expr), tuple(self.scalar(i) for i in items), False)
        if op == "isNull":
            return ast.IsNull(self.scalar(self.args(item, 1, 1)[0]), False)
        if op in SPATIAL:
            first, second = (self.geometry(a) for a in self.args(item, 2, 2))
            return ast.Spatial(op.upper(), first, second)
        raise self.fail(
            f"operator {op[:40]!r} is not supported (and, or, not, comparisons, like, "
            "between, in, isNull, s_* spatial)"
        )

    def scalar(self, item: Any) -> ast.Scalar:
        """A property, a literal, a date/timestamp or casei(...)."""
        pos = self.tick()
        if isinstance(item, bool):
            return ast.Lit("boolean", item, pos)
        if isinstance(item, int | float):
            return ast.Lit("number", item, pos)
        if isinstance(item, str):
            if len(item) > MAX_STRING_CHARS:
                raise self.fail(f"a string is longer than {MAX_STRING_CHARS} characters")
            return ast.Lit("string", item, pos)
        if isinstance(item, dict):
            if set(item) == {"property"} and isinstance(item["property"], str):
                return ast.Prop(item["property"], pos)
            for kind in ("date", "timestamp"):
                if set(item) == {kind} and isinstance(item[kind], str):
                    return ast.Lit(kind, item[kind][:100], pos)
            if str(item.get("op", "")).lower() == "casei":
                self.depth += 1
                arg = self.scalar(self.args(item, 1, 1)[0])
                self.depth -= 1
                return arg if isinstance(arg, ast.Casei) else ast.Casei(arg, pos)
        raise self.fail("expected a property, a value, {'date': ..} or {'timestamp': ..}")

    def geometry(self, item: Any) -> ast.Prop | ast.GeomLit:
        """A geometry property, a GeoJSON geometry or {'bbox': [...]}."""
        pos = self.tick()
        if isinstance(item, dict) and set(item) == {"property"}:
            return ast.Prop(str(item["property"]), pos)
        if isinstance(item, dict) and set(item) == {"bbox"}:
            box = item["bbox"]
            if not isinstance(box, list) or len(box) not in (4, 6) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in box
            ):
                raise self.fail("bbox takes 4 or 6 numbers")
            return ast.GeomLit(None, tuple(float(v) for v in box), pos)
        if isinstance(item, dict) and item.get("type") in GEOJSON_TYPES:
            try:
                found = shape(item)
            except (AttributeError, KeyError, TypeError, ValueError, IndexError,
                    shapely.errors.GEOSException) as exc:
                raise self.fail(f"bad GeoJSON geometry: {str(exc)[:100]}") from exc
            return ast.GeomLit(shapely.to_wkt(found), None, pos)
        raise self.fail("expected a geometry ({'property': ..}, GeoJSON or {'bbox': [...]})")


def parse(text: str) -> ast.Node:
    """Parse CQL2-JSON into the AST (BadRequest on malformed or oversized input)."""
    if len(text) > MAX_LENGTH:
        raise BadRequest(f"filter: longer than {MAX_LENGTH} characters")
    try:
        decoded = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"filter: not JSON ({str(exc)[:100]})") from exc
    return JsonParser().node(decoded)
