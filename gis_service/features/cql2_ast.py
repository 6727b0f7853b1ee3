"""The CQL2 abstract syntax tree: scalars, geometries, predicates and boolean operators."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Prop:
    """A property (queryable) name."""

    name: str
    pos: int


@dataclass(frozen=True)
class Lit:
    """A literal: kind is string, number, boolean, date or timestamp."""

    kind: str
    value: object
    pos: int


@dataclass(frozen=True)
class Casei:
    """CASEI(expression): case-insensitive comparison."""

    arg: Prop | Lit
    pos: int


@dataclass(frozen=True)
class GeomLit:
    """A geometry literal: WKT text, or a BBOX as numbers."""

    wkt: str | None
    bbox: tuple[float, ...] | None
    pos: int


Scalar = Prop | Lit | Casei


@dataclass(frozen=True)
class Compare:
    """left op right with op one of = <> < > <= >=."""

    op: str
    left: Scalar
    right: Scalar


@dataclass(frozen=True)
class Like:
    """expr [NOT] LIKE pattern."""

    expr: Scalar
    pattern: Scalar
    negate: bool


@dataclass(frozen=True)
class Between:
    """expr [NOT] BETWEEN low AND high."""

    expr: Scalar
    low: Scalar
    high: Scalar
    negate: bool


@dataclass(frozen=True)
class In:
    """expr [NOT] IN (items)."""

    expr: Scalar
    items: tuple[Scalar, ...]
    negate: bool


@dataclass(frozen=True)
class IsNull:
    """expr IS [NOT] NULL."""

    expr: Scalar
    negate: bool


@dataclass(frozen=True)
class Spatial:
    """A spatial predicate such as S_INTERSECTS(a, b)."""

    op: str
    left: Prop | GeomLit
    right: Prop | GeomLit


@dataclass(frozen=True)
class BoolOp:
    """AND / OR over two or more operands."""

    op: str
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """NOT operand."""

    item: Node


@dataclass(frozen=True)
class BoolConst:
    """TRUE or FALSE as a whole condition."""

    value: bool


Node = Compare | Like | Between | In | IsNull | Spatial | BoolOp | Not | BoolConst
