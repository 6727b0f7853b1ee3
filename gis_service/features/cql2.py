"""CQL2-text (OGC API Features Part 3): a tokenizer and a recursive-descent parser to an AST."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gis_service.features import cql2_ast as ast
from gis_service.features.errors import BadRequest

MAX_LENGTH = 20_000
MAX_DEPTH = 60
MAX_NUMBER_CHARS = 40
MAX_STRING_CHARS = 1_000
TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
    | (?P<string>'(?:[^']|'')*')
    | (?P<qident>"(?:[^"]|"")+")
    | (?P<ident>[A-Za-z_][A-Za-z0-9_.:]*)
    | (?P<op><>|<=|>=|=|<|>)
    | (?P<punct>[(),])
    )""",
    re.VERBOSE,
)
SIMPLE_GEOMETRIES = ("POINT", "LINESTRING", "POLYGON")
GEOMETRY_WORDS = {
    *SIMPLE_GEOMETRIES,
    *(f"MULTI{g}" for g in SIMPLE_GEOMETRIES),
    "GEOMETRYCOLLECTION",
}
RELATIONS = ("INTERSECTS", "DISJOINT", "WITHIN", "CONTAINS", "CROSSES", "OVERLAPS", "TOUCHES")
SPATIAL = {f"S_{name}" for name in (*RELATIONS, "EQUALS")}
RESERVED = {"AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "NULL", "TRUE", "FALSE"}


@dataclass(frozen=True)
class Token:
    """One lexical token: kind, text and position in the filter."""

    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """Split a CQL2-text filter into tokens (400 for characters that belong to none)."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            start = len(text) - len(text[pos:].lstrip())
            raise BadRequest(f"filter: unexpected character {text[start]!r} at position {start}")
        kind = match.lastgroup or ""
        token = Token(kind, match.group(kind), match.start(kind))
        check_size(token)
        tokens.append(token)
        pos = match.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens


def check_size(token: Token) -> None:
    """400 for a number or a string literal longer than the parser accepts."""
    if token.kind == "number" and len(token.text) > MAX_NUMBER_CHARS:
        raise BadRequest(
            f"filter: the number at position {token.pos} is longer than {MAX_NUMBER_CHARS} "
            "characters"
        )
    if token.kind == "string" and len(token.text) - 2 > MAX_STRING_CHARS:
        raise BadRequest(
            f"filter: the string at position {token.pos} is longer than {MAX_STRING_CHARS} "
            "characters"
        )


class Parser:
    """Recursive descent over the CQL2-text grammar (basic, advanced comparison, spatial)."""

    def __init__(self, text: str) -> None:
        if len(text) > MAX_LENGTH:
            raise BadRequest(f"filter: longer than {MAX_LENGTH} characters")
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self, ahead: int = 0) -> Token:
        """The token ahead of the cursor."""
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def next(self) -> Token:
        """Consume one token."""
        token = self.peek()
        self.i += 1
        return token

    def word(self, ahead: int = 0) -> str:
        """The upper-cased text of an identifier token ahead ('' otherwise)."""
        token = self.peek(ahead)
        return token.text.upper() if token.kind == "ident" else ""

    def fail(self, message: str, token: Token | None = None) -> BadRequest:
        """A 400 naming the position."""
        where = (token or self.peek()).pos
        return BadRequest(f"filter: {message} at position {where}")

    def expect(self, text: str) -> Token:
        """Consume a punctuation, operator or keyword token with this text."""
        token = self.next()
        if token.text.upper() != text:
            raise self.fail(f"expected {text!r}, found {token.text or 'end of filter'!r}", token)
        return token

    def parse(self) -> ast.Node:
        """The whole filter as one boolean expression."""
        if self.peek().kind == "eof":
            raise self.fail("the filter is empty")
        node = self.expression()
        if self.peek().kind != "eof":
            raise self.fail(f"unexpected {self.peek().text!r}")
        return node

    def enter(self) -> None:
        """One level deeper (parentheses, NOT, CASEI): 400 beyond MAX_DEPTH levels."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} levels")

    def expression(self) -> ast.Node:
        """booleanTerm {OR booleanTerm}."""
        self.enter()
        items = [self.term()]
        while self.word() == "OR":
            self.next()
            items.append(self.term())
        self.depth -= 1
        return items[0] if len(items) == 1 else ast.BoolOp("OR", tuple(items))

    def term(self) -> ast.Node:
        """booleanFactor {AND booleanFactor}."""
        items = [self.factor()]
        while self.word() == "AND":
            self.next()
            items.append(self.factor())
        return items[0] if len(items) == 1 else ast.BoolOp("AND", tuple(items))

    def factor(self) -> ast.Node:
        """[NOT] booleanPrimary."""
        if self.word() == "NOT":
            self.next()
            self.enter()
            node = ast.Not(self.factor())
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> ast.Node:
        """A parenthesised expression, a spatial predicate, TRUE/FALSE or a comparison."""
        token = self.peek()
        if token.text == "(":
            self.next()
            node = self.expression()
            self.expect(")")
            return node
        word = self.word()
        if word in SPATIAL and self.peek(1).text == "(":
            self.next()
            self.expect("(")
            left = self.geometry_operand()
            self.expect(",")
            right = self.geometry_operand()
            self.expect(")")
            return ast.Spatial(word, left, right)
        if word.startswith(("T_", "A_")) and self.peek(1).text == "(":
            raise self.fail(
                f"{word} is not supported (comparison, LIKE, IN, BETWEEN, IS NULL, "
                f"spatial S_* predicates are)"
            )
        after = self.peek(1)
        if word in ("TRUE", "FALSE") and (
            after.kind == "eof" or after.text == ")" or self.word(1) in ("AND", "OR")
        ):
            self.next()
            return ast.BoolConst(word == "TRUE")
        return self.predicate()

    def predicate(self) -> ast.Node:
        """scalar followed by a comparison, [NOT] LIKE/BETWEEN/IN or IS [NOT] NULL."""
        left = self.scalar()
        token = self.peek()
        if token.kind == "op":
            self.next()
            return ast.Compare(token.text, left, self.scalar())
        negate = False
        if self.word() == "NOT":
            self.next()
            negate = True
        word = self.word()
        if word == "LIKE":
            self.next()
            return ast.Like(left, self.scalar(), negate)
        if word == "BETWEEN":
            self.next()
            low = self.scalar()
            self.expect("AND")
            return ast.Between(left, low, self.scalar(), negate)
        if word == "IN":
            self.next()
            self.expect("(")
            items = [self.scalar()]
            while self.peek().text == ",":
                self.next()
                items.append(self.scalar())
            self.expect(")")
            return ast.In(left, tuple(items), negate)
        if word == "IS" and not negate:
            self.next()
            if self.word() == "NOT":
                self.next()
                negate = True
            self.expect("NULL")
            return ast.IsNull(left, negate)
        raise self.fail(f"expected a comparison after the operand, found {token.text!r}")

    def scalar(self) -> ast.Scalar:
        """A property, a literal, DATE('..'), TIMESTAMP('..') or CASEI(..)."""
        token = self.next()
        if token.kind == "number":
            number = float(token.text)
            value: object = int(token.text) if re.fullmatch(r"[+-]?[0-9]+", token.text) else number
            return ast.Lit("number", value, token.pos)
        if token.kind == "string":
            return ast.Lit("string", token.text[1:-1].replace("''", "'"), token.pos)
        if token.kind == "qident":
            return ast.Prop(token.text[1:-1].replace('""', '"'), token.pos)
        if token.kind == "ident":
            word = token.text.upper()
            if word in ("TRUE", "FALSE"):
                return ast.Lit("boolean", word == "TRUE", token.pos)
            if word in ("DATE", "TIMESTAMP") and self.peek().text == "(":
                self.next()
                inner = self.next()
                if inner.kind != "string":
                    raise self.fail(f"{word} takes a quoted string", inner)
                self.expect(")")
                return ast.Lit(word.lower(), inner.text[1:-1], token.pos)
            if word == "CASEI" and self.peek().text == "(":
                self.next()
                self.enter()
                arg = self.scalar()
                self.expect(")")
                self.depth -= 1
                if isinstance(arg, ast.Casei):
                    return arg
                return ast.Casei(arg, token.pos)
            if self.peek().text == "(":
                raise self.fail(f"function {token.text} is not supported", token)
            if word in RESERVED:
                raise self.fail(f"unexpected {token.text!r}", token)
            return ast.Prop(token.text, token.pos)
        raise self.fail(f"expected a property or a value, found {token.text or 'end'!r}", token)

    def geometry_operand(self) -> ast.Prop | ast.GeomLit:
        """A geometry property, a WKT literal or BBOX(...)."""
        token = self.peek()
        word = self.word()
        if word == "BBOX" and self.peek(1).text == "(":
            self.next()
            self.expect("(")
            numbers: list[float] = []
            while True:
                item = self.next()
                if item.kind != "number":
                    raise self.fail("BBOX takes 4 or 6 numbers", item)
                numbers.append(float(item.text))
                if self.peek().text != ",":
                    break
                self.next()
            self.expect(")")
            if len(numbers) not in (4, 6):
                raise self.fail("BBOX takes 4 or 6 numbers", token)
            return ast.GeomLit(None, tuple(numbers), token.pos)
        if word in GEOMETRY_WORDS:
            return ast.GeomLit(self.raw_geometry(), None, token.pos)
        if token.kind in ("ident", "qident") and word not in RESERVED:
            self.next()
            name = token.text[1:-1] if token.kind == "qident" else token.text
            return ast.Prop(name, token.pos)
        raise self.fail("expected a geometry (property, WKT or BBOX)", token)

    def raw_geometry(self) -> str:
        """The WKT text of a geometry literal, from its keyword to its closing parenthesis."""
        start = self.next()
        if self.word() in ("Z", "M", "ZM", "EMPTY"):
            self.next()
        if self.peek().text != "(":
            raise self.fail(f"{start.text} needs coordinates in parentheses")
        depth = 0
        while True:
            token = self.next()
            if token.kind == "eof":
                raise self.fail("unclosed geometry", token)
            if token.text == "(":
                depth += 1
            elif token.text == ")":
                depth -= 1
                if depth == 0:
                    return self.text[start.pos : token.pos + 1]
            elif token.kind not in ("number", "punct") and token.text.upper() not in (
                *GEOMETRY_WORDS,
                "Z",
                "M",
                "ZM",
                "EMPTY",
            ):
                raise self.fail(f"unexpected {token.text!r} in a geometry", token)


def parse(text: str) -> ast.Node:
    """Parse CQL2-text into an AST (BadRequest naming the position on errors)."""
    return Parser(text).parse()
