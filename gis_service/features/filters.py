"""SQL WHERE fragments from query parameters and CQL2-text, with every value a bound parameter.

The fragments name columns unqualified and double-quoted (the geometry is "geom"), so they fit
`SELECT ... FROM <layer table> WHERE <sql>`; they are shared by the features and tiles APIs.
Errors are BadRequest (an InvalidInput answered with 400).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import shapely
import shapely.wkt

from gis_service.catalog import Layer, LayerField
from gis_service.features import cql2
from gis_service.features import cql2_ast as ast
from gis_service.features.errors import BadRequest
from gis_service.features.values import (
    from_query,
    parse_date,
    parse_datetime,
    queryable_fields,
    quoted,
)

GEOMETRY_NAMES = ("geometry", "geom")
SPATIAL_SQL = {
    "S_INTERSECTS": "ST_Intersects",
    "S_DISJOINT": "ST_Disjoint",
    "S_WITHIN": "ST_Within",
    "S_CONTAINS": "ST_Contains",
    "S_CROSSES": "ST_Crosses",
    "S_OVERLAPS": "ST_Overlaps",
    "S_TOUCHES": "ST_Touches",
    "S_EQUALS": "ST_Equals",
}
NUMERIC = ("integer", "number")


@dataclass
class SqlFilter:
    """A boolean SQL fragment and its bound parameters."""

    sql: str
    params: dict[str, object] = field(default_factory=dict)


def equality_filters(layer: Layer, params: Mapping[str, str], prefix: str = "eq") -> SqlFilter:
    """`field = value` for each parameter naming a queryable field (others are left alone)."""
    queryables = queryable_fields(layer)
    clauses: list[str] = []
    bound: dict[str, object] = {}
    for name, raw in params.items():
        if name not in queryables:
            if any(f.name == name for f in layer.fields):
                raise BadRequest(
                    f"{name} is not queryable",
                    [{"field": name, "message": "this field cannot be filtered on"}],
                )
            continue
        try:
            value = from_query(queryables[name], raw)
        except ValueError as exc:
            raise BadRequest(f"{name}: {exc}", [{"field": name, "message": str(exc)}]) from exc
        key = f"{prefix}_{name}"
        bound[key] = value
        clauses.append(f"{quoted(name)} = :{key}")
    return SqlFilter(" AND ".join(clauses) if clauses else "TRUE", bound)


def cql2_to_sql(text: str, layer: Layer, prefix: str = "cql") -> SqlFilter:
    """Translate a CQL2-text filter over the layer's queryables into SQL with bound values."""
    compiler = _Compiler(layer, prefix)
    sql = compiler.node(cql2.parse(text))
    return SqlFilter(sql, compiler.params)


class _Compiler:
    """Walks the AST, checking names against the catalog and binding every value."""

    def __init__(self, layer: Layer, prefix: str) -> None:
        self.layer = layer
        self.prefix = prefix
        self.queryables = queryable_fields(layer)
        self.params: dict[str, object] = {}

    def bind(self, value: object) -> str:
        name = f"{self.prefix}_{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def prop(self, node: ast.Prop) -> LayerField:
        found = self.queryables.get(node.name)
        if found is None:
            known = ", ".join(sorted(self.queryables))
            raise BadRequest(
                f"filter: unknown property {node.name!r} at position {node.pos}; "
                f"queryables: {known}",
                [{"field": node.name, "message": "not a queryable of this collection"}],
            )
        return found

    def node(self, node: ast.Node) -> str:
        if isinstance(node, ast.BoolOp):
            return "(" + f" {node.op} ".join(self.node(item) for item in node.items) + ")"
        if isinstance(node, ast.Not):
            return f"(NOT {self.node(node.item)})"
        if isinstance(node, ast.BoolConst):
            return "TRUE" if node.value else "FALSE"
        if isinstance(node, ast.Compare):
            kind = self.kind_of(node.left) or self.kind_of(node.right)
            left, right = self.scalar(node.left, kind), self.scalar(node.right, kind)
            self.check_comparable(node.left, node.right)
            return f"({left} {node.op} {right})"
        if isinstance(node, ast.Like):
            for part in (node.expr, node.pattern):
                if self.kind_of(part) not in ("string", None):
                    raise BadRequest(f"filter: LIKE needs strings (position {self.pos(part)})")
            expr, pattern = self.scalar(node.expr, "string"), self.scalar(node.pattern, "string")
            return f"({expr} {'NOT ' if node.negate else ''}LIKE {pattern})"
        if isinstance(node, ast.Between):
            kind = self.kind_of(node.expr)
            if kind in ("string", "boolean"):
                raise BadRequest(
                    f"filter: BETWEEN needs numbers or dates (position {self.pos(node.expr)})"
                )
            parts = [self.scalar(p, kind) for p in (node.expr, node.low, node.high)]
            negate = "NOT " if node.negate else ""
            return f"({parts[0]} {negate}BETWEEN {parts[1]} AND {parts[2]})"
        if isinstance(node, ast.In):
            kind = self.kind_of(node.expr)
            items = ", ".join(self.scalar(item, kind) for item in node.items)
            return f"({self.scalar(node.expr, kind)} {'NOT ' if node.negate else ''}IN ({items}))"
        if isinstance(node, ast.IsNull):
            return f"({self.scalar(node.expr, None)} IS {'NOT ' if node.negate else ''}NULL)"
        return self.spatial(node)

    def pos(self, node: ast.Scalar) -> int:
        return node.pos

    def kind_of(self, node: ast.Scalar) -> str | None:
        if isinstance(node, ast.Prop):
            return self.prop(node).type
        if isinstance(node, ast.Casei):
            return "string"
        return None

    def check_comparable(self, left: ast.Scalar, right: ast.Scalar) -> None:
        kinds = [self.kind_of(left), self.kind_of(right)]
        if None in kinds or kinds[0] == kinds[1]:
            return
        if kinds[0] in NUMERIC and kinds[1] in NUMERIC:
            return
        if {kinds[0], kinds[1]} == {"date", "datetime"}:
            return
        raise BadRequest(
            f"filter: cannot compare {kinds[0]} with {kinds[1]} (position {self.pos(left)})"
        )

    def scalar(self, node: ast.Scalar, kind: str | None) -> str:
        if isinstance(node, ast.Prop):
            self.prop(node)
            return quoted(node.name)
        if isinstance(node, ast.Casei):
            if self.kind_of(node.arg) not in ("string", None):
                raise BadRequest(f"filter: CASEI needs a string (position {node.pos})")
            return f"lower({self.scalar(node.arg, 'string')})"
        return self.bind(self.literal(node, kind))

    def literal(self, node: ast.Lit, kind: str | None) -> object:
        value = node.value
        wrong = BadRequest(
            f"filter: the {node.kind} literal at position {node.pos} does not fit a property "
            f"of type {kind}"
        )
        try:
            if node.kind == "date":
                if kind not in (None, "date", "datetime"):
                    raise wrong
                return parse_date(str(value))
            if node.kind == "timestamp":
                if kind not in (None, "date", "datetime"):
                    raise wrong
                return parse_datetime(str(value))
        except ValueError as exc:
            raise BadRequest(f"filter: bad {node.kind} {value!r} at position {node.pos}") from exc
        if kind is None:
            if isinstance(value, str) and "\x00" in value:
                raise BadRequest("filter: strings must not contain NUL characters")
            return self.finite(value, node)
        if kind in NUMERIC:
            if node.kind != "number":
                raise wrong
            return self.finite(value, node)
        if kind == "boolean":
            if node.kind != "boolean":
                raise wrong
            return value
        if node.kind != "string":
            raise wrong
        text = str(value)
        if "\x00" in text:
            raise BadRequest("filter: strings must not contain NUL characters")
        try:
            if kind == "date":
                return parse_date(text)
            if kind == "datetime":
                return parse_datetime(text)
        except ValueError as exc:
            raise BadRequest(f"filter: bad {kind} {text!r} at position {node.pos}") from exc
        return text

    def finite(self, value: object, node: ast.Lit) -> object:
        if isinstance(value, float) and not math.isfinite(value):
            raise BadRequest(f"filter: number out of range at position {node.pos}")
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**18:
            raise BadRequest(f"filter: number out of range at position {node.pos}")
        return value

    def spatial(self, node: ast.Spatial) -> str:
        function = SPATIAL_SQL[node.op]
        return f"{function}({self.geometry(node.left)}, {self.geometry(node.right)})"

    def geometry(self, node: ast.Prop | ast.GeomLit) -> str:
        if isinstance(node, ast.Prop):
            if node.name not in GEOMETRY_NAMES:
                raise BadRequest(
                    f"filter: {node.name!r} is not the geometry; use 'geometry' "
                    f"(position {node.pos})"
                )
            return '"geom"'
        if node.bbox is not None:
            box = node.bbox if len(node.bbox) == 4 else (*node.bbox[:2], *node.bbox[3:5])
            if not all(math.isfinite(v) for v in box) or box[1] > box[3]:
                raise BadRequest(f"filter: bad BBOX at position {node.pos}")
            values = ", ".join(self.bind(float(v)) for v in box)
            return f"ST_MakeEnvelope({values}, 4326)"
        try:
            shape = shapely.force_2d(shapely.wkt.loads(node.wkt or ""))
        except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
            raise BadRequest(f"filter: bad WKT at position {node.pos}: {exc}") from exc
        if not shape.is_valid:
            reason = shapely.is_valid_reason(shape)
            raise BadRequest(f"filter: invalid geometry at position {node.pos}: {reason}")
        bounds = shapely.bounds(shape)
        if not shape.is_empty and not all(math.isfinite(v) for v in bounds):
            raise BadRequest(f"filter: non-finite coordinates at position {node.pos}")
        return f"ST_GeomFromText({self.bind(shapely.to_wkt(shape))}, 4326)"
