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
from gis_service.features import cql2, cql2_json
from gis_service.features import cql2_ast as ast
from gis_service.features.crs import STORAGE, Crs, east_north, lonlat_bounds
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
LANGUAGES = ("cql2-text", "cql2-json")


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


def cql2_to_sql(
    text: str, layer: Layer, prefix: str = "cql", lang: str = "cql2-text", crs: Crs = STORAGE
) -> SqlFilter:
    """Translate a CQL2 filter (text or JSON) over the layer's queryables into SQL with bound
    values; geometry literals are read in `crs` (the filter-crs)."""
    if lang not in LANGUAGES:
        raise BadRequest(f"filter-lang must be one of {', '.join(LANGUAGES)}")
    tree = cql2.parse(text) if lang == "cql2-text" else cql2_json.parse(text)
    compiler = _Compiler(layer, prefix, crs)
    sql = compiler.node(tree)
    return SqlFilter(sql, compiler.params)


class _Compiler:
    """Walks the AST, checking names against the catalog and binding every value."""

    def __init__(self, layer: Layer, prefix: str, crs: Crs) -> None:
        self.layer = layer
        self.prefix = prefix
        self.crs = crs
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
            kind = self.common_kind((node.left, node.right))
            left, right = self.scalar(node.left, kind), self.scalar(node.right, kind)
            return f"({left} {node.op} {right})"
        if isinstance(node, ast.Like):
            for part in (node.expr, node.pattern):
                if self.kind_of(part) not in ("string", None):
                    raise BadRequest(f"filter: LIKE needs strings (position {part.pos})")
            self.common_kind((node.expr, node.pattern))
            expr, pattern = self.scalar(node.expr, "string"), self.scalar(node.pattern, "string")
            return f"({expr} {'NOT ' if node.negate else ''}LIKE {pattern})"
        if isinstance(node, ast.Between):
            kind = self.common_kind((node.expr, node.low, node.high))
            if kind in ("string", "boolean"):
                raise BadRequest(
                    f"filter: BETWEEN needs numbers or dates (position {node.expr.pos})"
                )
            parts = [self.scalar(p, kind) for p in (node.expr, node.low, node.high)]
            negate = "NOT " if node.negate else ""
            return f"({parts[0]} {negate}BETWEEN {parts[1]} AND {parts[2]})"
        if isinstance(node, ast.In):
            kind = self.common_kind((node.expr, *node.items))
            items = ", ".join(self.scalar(item, kind) for item in node.items)
            return f"({self.scalar(node.expr, kind)} {'NOT ' if node.negate else ''}IN ({items}))"
        if isinstance(node, ast.IsNull):
            kind = self.common_kind((node.expr,))
            return f"({self.scalar(node.expr, kind)} IS {'NOT ' if node.negate else ''}NULL)"
        return self.spatial(node)

    def kind_of(self, node: ast.Scalar) -> str | None:
        """The type of a property (or CASEI), None for a literal (it takes the other side's)."""
        if isinstance(node, ast.Prop):
            return self.prop(node).type
        if isinstance(node, ast.Casei):
            self.kind_of(node.arg)
            return "string"
        return None

    def common_kind(self, parts: tuple[ast.Scalar, ...]) -> str:
        """The one type the operands of a predicate share; 400 without a property or on a clash.

        Every predicate names a property, so each literal gets its type from one and nothing
        untyped or ill-typed ever reaches PostgreSQL.
        """
        if all(self.is_literal(part) for part in parts):
            raise BadRequest(
                f"filter: the predicate at position {parts[0].pos} compares values only; "
                "name a property (queryables: " + ", ".join(sorted(self.queryables)) + ")"
            )
        kinds = [kind for kind in map(self.kind_of, parts) if kind is not None]
        for other in kinds[1:]:
            self.check_comparable(kinds[0], other, parts[0].pos)
        return kinds[0]

    @staticmethod
    def is_literal(node: ast.Scalar) -> bool:
        """A literal, or CASEI over a literal."""
        return isinstance(node, ast.Lit) or (
            isinstance(node, ast.Casei) and isinstance(node.arg, ast.Lit)
        )

    def check_comparable(self, first: str, second: str, pos: int) -> None:
        """400 unless values of two property types can be compared."""
        if first == second:
            return
        if first in NUMERIC and second in NUMERIC:
            return
        if {first, second} == {"date", "datetime"}:
            return
        raise BadRequest(f"filter: cannot compare {first} with {second} (position {pos})")

    def scalar(self, node: ast.Scalar, kind: str) -> str:
        if isinstance(node, ast.Prop):
            self.prop(node)
            return quoted(node.name)
        if isinstance(node, ast.Casei):
            if self.kind_of(node.arg) not in ("string", None):
                raise BadRequest(f"filter: CASEI needs a string (position {node.pos})")
            return f"lower({self.scalar(node.arg, 'string')})"
        return self.bind(self.literal(node, kind))

    def literal(self, node: ast.Lit, kind: str) -> object:
        value = node.value
        wrong = BadRequest(
            f"filter: the {node.kind} literal at position {node.pos} does not fit a property "
            f"of type {kind}"
        )
        try:
            if node.kind == "date":
                if kind not in ("date", "datetime"):
                    raise wrong
                return parse_date(str(value))
            if node.kind == "timestamp":
                if kind not in ("date", "datetime"):
                    raise wrong
                return parse_datetime(str(value))
        except ValueError as exc:
            raise BadRequest(f"filter: bad {node.kind} {value!r} at position {node.pos}") from exc
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
            if self.crs.north_first:
                box = (box[1], box[0], box[3], box[2])
            if not all(math.isfinite(v) for v in box) or box[1] > box[3]:
                raise BadRequest(f"filter: bad BBOX at position {node.pos}")
            values = ", ".join(self.bind(float(v)) for v in box)
            return self.stored(f"ST_MakeEnvelope({values}, {int(self.crs.srid)})")
        try:
            shape = shapely.force_2d(shapely.wkt.loads(node.wkt or ""))
        except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
            raise BadRequest(f"filter: bad WKT at position {node.pos}: {exc}") from exc
        shape = east_north(self.crs, shape)
        if not shape.is_valid:
            reason = shapely.is_valid_reason(shape)
            raise BadRequest(f"filter: invalid geometry at position {node.pos}: {reason}")
        bounds = shapely.bounds(shape)
        if not shape.is_empty and not all(math.isfinite(v) for v in bounds):
            raise BadRequest(f"filter: non-finite coordinates at position {node.pos}")
        if not shape.is_empty and not self.crs.is_storage:
            lonlat_bounds(self.crs, tuple(float(v) for v in bounds))  # type: ignore[arg-type]
        return self.stored(f"ST_GeomFromText({self.bind(shapely.to_wkt(shape))}, {self.crs.srid})")

    def stored(self, sql: str) -> str:
        """A geometry in the filter-crs, transformed to the stored CRS when it is another."""
        return sql if self.crs.srid == 4326 else f"ST_Transform({sql}, 4326)"
