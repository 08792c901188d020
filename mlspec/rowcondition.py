"""Row conditions: a small grammar of column comparisons that mlspec parses itself.

Great Expectations 1.x hands a string ``row_condition`` (with ``condition_parser: pandas``, or with none at all)
to ``DataFrame.query``, which evaluates Python: ``@`` reaches the caller's locals and attribute chains reach
``os.system``. Its own ``great_expectations`` parser is no better on pandas: the column name of
``col("...")`` is pasted between backticks into a query string, so a name holding a backtick breaks out.

So no user text ever reaches GX here. :func:`parse` reads a subset of pandas' query syntax::

    condition  := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | "(" condition ")" | comparison
    comparison := column op literal | literal op column
                | column ["not"] "in" "[" literal ("," literal)* "]"
                | column "." ("isnull" | "notnull" | "isna" | "notna") "(" ")"
    column     := identifier | `name without backticks`
    literal    := number | 'string' | "string" | True | False

and anything else is a located :class:`ConditionError`. :func:`to_gx` then builds GX ``Condition`` objects
from the tree; GX renders those into a query made only of column references (plain identifiers or backtick
names without backticks), comparison operators, ``repr`` of str/int/float/bool literals, ``and``/``or`` and
``.isnull()``, which cannot evaluate anything else. This module does not import GX until :func:`to_gx`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sized
from dataclasses import dataclass
from typing import Any, TypeVar

MAX_LENGTH = 2000
MAX_DEPTH = 20
MAX_COMPARISONS = 100
"""GX refuses a condition of more than 100 comparisons (``row_conditions.MAX_CONDITIONS``)."""

EXAMPLE = "age > 18 and sex == 'F'"
Scalar = str | int | float | bool


class ConditionError(ValueError):
    """``message`` about character ``pos`` (1-based) of a row condition."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(f"{message} (at character {pos})")
        self.message = message
        self.pos = pos


@dataclass(frozen=True)
class Compare:
    column: str
    op: str  # one of == != < <= > >=
    value: Scalar


@dataclass(frozen=True)
class InSet:
    column: str
    values: tuple[Scalar, ...]
    negated: bool = False


@dataclass(frozen=True)
class IsNull:
    column: str
    negated: bool = False


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    part: Node


Atom = Compare | InSet | IsNull
_Sized = TypeVar("_Sized", bound=Sized)
Node = Atom | And | Or | Not

# --- tokens -------------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<string>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
      | (?P<quoted>`[^`]*`)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,|\.|-)""",
    re.VERBOSE,
)
_HINTS = {
    "@": "'@' refers to Python variables, which a row condition cannot use",
    "&": "write `and` instead of '&'",
    "|": "write `or` instead of '|'",
    "~": "write `not` instead of '~'",
    "=": "write `==` to compare",
    "`": "a backtick-quoted column name needs a closing backtick",
    "'": "unterminated string",
    '"': "unterminated string",
}
_KEYWORDS = frozenset({"and", "or", "not", "in", "True", "False", "None", "is"})
_NULL_CHECKS = {"isnull": False, "isna": False, "notnull": True, "notna": True}
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}
_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_COMPARE = frozenset(_FLIP)


@dataclass(frozen=True)
class _Tok:
    kind: str  # number, string, quoted, name, op, end
    text: str
    pos: int  # 1-based


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    i = 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if m is None:
            char = text[i]
            raise ConditionError(_HINTS.get(char, f"{char!r} is not allowed; " + _SHAPE), i + 1)
        kind = m.lastgroup or ""
        if kind != "space":
            out.append(_Tok(kind, m.group(), i + 1))
        i = m.end()
    out.append(_Tok("end", "", len(text) + 1))
    return out


_SHAPE = f"a row condition compares columns with literals, such as {EXAMPLE}"

# --- parser -------------------------------------------------------------------------------------------------


def parse(text: str) -> Node:
    """The tree of ``text``, or a :class:`ConditionError` saying where and what is wrong."""
    if not text.strip():
        raise ConditionError("the row condition is empty; " + _SHAPE, 1)
    if len(text) > MAX_LENGTH:
        raise ConditionError(f"the row condition is longer than {MAX_LENGTH} characters", MAX_LENGTH + 1)
    parser = _Parser(_tokens(text))
    node = parser.condition(0)
    end = parser.peek()
    if end.kind != "end":
        raise ConditionError(f"unexpected {_show(end)}; combine comparisons with `and` / `or`", end.pos)
    if sum(len(conj) for conj in dnf(node)) > MAX_COMPARISONS:
        _bounded(range(MAX_COMPARISONS + 1))
    return node


def _show(tok: _Tok) -> str:
    return "end of the condition" if tok.kind == "end" else repr(tok.text)


class _Parser:
    def __init__(self, tokens: list[_Tok]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self, ahead: int = 0) -> _Tok:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self) -> _Tok:
        tok = self.peek()
        self.i += 1
        return tok

    def expect(self, text: str, what: str) -> _Tok:
        tok = self.take()
        if tok.text != text or tok.kind not in ("op", "name"):
            raise ConditionError(f"expected {what}, found {_show(tok)}", tok.pos)
        return tok

    def word(self, word: str) -> bool:
        tok = self.peek()
        if tok.kind == "name" and tok.text == word:
            self.i += 1
            return True
        return False

    def condition(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise ConditionError(f"nested deeper than {MAX_DEPTH} levels", self.peek().pos)
        parts = [self.conjunction(depth)]
        while self.word("or"):
            parts.append(self.conjunction(depth))
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conjunction(self, depth: int) -> Node:
        parts = [self.negation(depth)]
        while self.word("and"):
            parts.append(self.negation(depth))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def negation(self, depth: int) -> Node:
        if self.word("not"):
            if depth + 1 > MAX_DEPTH:
                raise ConditionError(f"nested deeper than {MAX_DEPTH} levels", self.peek().pos)
            return Not(self.negation(depth + 1))
        if self.peek().text == "(" and self.peek().kind == "op":
            self.take()
            node = self.condition(depth + 1)
            self.expect(")", "')' to close the '('")
            return node
        return self.comparison()

    def comparison(self) -> Atom:
        start = self.peek()
        left = self.operand()
        tok = self.peek()
        if tok.kind == "op" and tok.text == ".":
            return self.null_check(left, start)
        if tok.kind == "name" and tok.text in ("in", "not"):
            return self.membership(left, start)
        if tok.kind == "name" and tok.text == "is":
            raise ConditionError(f"`is` is not supported; write {_col(left)}.isnull() or "
                                 f"{_col(left)}.notnull()", tok.pos)
        if not (tok.kind == "op" and tok.text in _COMPARE):
            raise ConditionError(f"expected a comparison (==, !=, <, <=, >, >=, in) after {_show(start)}, "
                                 f"found {_show(tok)}", tok.pos)
        self.take()
        right_tok = self.peek()
        right = self.operand()
        after = self.peek()
        if after.kind == "op" and after.text in _COMPARE:
            raise ConditionError("chained comparisons are not supported; write `a < x and x < b`", after.pos)
        return _compare(left, tok.text, right, start, right_tok)

    def null_check(self, left: _Operand, start: _Tok) -> IsNull:
        dot = self.take()
        method = self.take()
        if not isinstance(left, _Column) or method.kind != "name" or method.text not in _NULL_CHECKS:
            raise ConditionError("attribute access is not allowed; the only methods are .isnull(), .notnull(), "
                                 ".isna() and .notna() on a column", dot.pos)
        self.expect("(", "'()' after ." + method.text)
        self.expect(")", "'()' after ." + method.text + " (it takes no arguments)")
        return IsNull(left.name, negated=_NULL_CHECKS[method.text])

    def membership(self, left: _Operand, start: _Tok) -> InSet:
        negated = self.word("not")
        tok = self.peek()
        if not self.word("in"):
            raise ConditionError(f"expected `in` after `not`, found {_show(tok)}", tok.pos)
        if not isinstance(left, _Column):
            raise ConditionError("the left side of `in` must be a column", start.pos)
        open_ = self.expect("[", "'[' to start the list of values")
        values: list[Scalar] = []
        while True:
            tok = self.peek()
            value = self.operand()
            if not isinstance(value, _Literal):
                raise ConditionError("a list after `in` holds literals, not columns", tok.pos)
            values.append(value.value)
            if self.peek().text != ",":
                break
            self.take()
        self.expect("]", "',' or ']' in the list of values")
        kinds = {"string" if isinstance(v, str) else "number" if _is_number(v) else "boolean" for v in values}
        if "boolean" in kinds or len(kinds) > 1:
            raise ConditionError("the values after `in` must be all numbers or all strings", open_.pos)
        return InSet(left.name, tuple(values), negated)

    def operand(self) -> _Operand:
        tok = self.take()
        if tok.kind == "op" and tok.text == "-" and self.peek().kind == "number":
            number = self.take()
            return _Literal(-_number(number), tok)
        if tok.kind == "number":
            return _Literal(_number(tok), tok)
        if tok.kind == "string":
            return _Literal(_unquote(tok), tok)
        if tok.kind == "quoted":
            name = tok.text[1:-1]
            if not name or any(not c.isprintable() for c in name):
                raise ConditionError("a column name between backticks must be non-empty printable text", tok.pos)
            return self.not_a_call(_Column(name, tok))
        if tok.kind == "name":
            if tok.text in ("True", "False"):
                return _Literal(tok.text == "True", tok)
            if tok.text == "None":
                raise ConditionError("None compares false with everything; write column.isnull() or "
                                     "column.notnull()", tok.pos)
            if tok.text in _KEYWORDS:
                raise ConditionError(f"unexpected {tok.text!r}; expected a column or a literal", tok.pos)
            return self.not_a_call(_Column(tok.text, tok))
        raise ConditionError(f"expected a column or a literal, found {_show(tok)}", tok.pos)

    def not_a_call(self, column: _Column) -> _Column:
        tok = self.peek()
        if tok.kind == "op" and tok.text in ("(", "["):
            what = "function calls are" if tok.text == "(" else "indexing is"
            raise ConditionError(f"{what} not allowed; " + _SHAPE, tok.pos)
        return column


@dataclass(frozen=True)
class _Column:
    name: str
    tok: _Tok


@dataclass(frozen=True)
class _Literal:
    value: Scalar
    tok: _Tok


_Operand = _Column | _Literal


def _col(operand: _Operand) -> str:
    return operand.name if isinstance(operand, _Column) else "column"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(tok: _Tok) -> int | float:
    text = tok.text
    if re.fullmatch(r"\d+", text):
        if len(text) > 18:
            raise ConditionError("the number has too many digits", tok.pos)
        return int(text)
    value = float(text)
    if not math.isfinite(value):
        raise ConditionError("the number is too large", tok.pos)
    return value


def _unquote(tok: _Tok) -> str:
    body, out, i = tok.text[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            escaped = body[i + 1]
            if escaped not in _ESCAPES:
                raise ConditionError(f"unknown escape \\{escaped}; use \\\\, \\', \\\", \\n or \\t", tok.pos + i + 1)
            out.append(_ESCAPES[escaped])
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _compare(left: _Operand, op: str, right: _Operand, start: _Tok, right_tok: _Tok) -> Compare:
    if isinstance(left, _Column) and isinstance(right, _Literal):
        return Compare(left.name, op, right.value)
    if isinstance(left, _Literal) and isinstance(right, _Column):
        return Compare(right.name, _FLIP[op], left.value)
    if isinstance(left, _Column):
        raise ConditionError("comparing two columns is not supported; compare a column with a literal",
                             right_tok.pos)
    raise ConditionError("compares two literals; one side must be a column", start.pos)


# --- normal form and GX conditions --------------------------------------------------------------------------

_NEGATED = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}


def dnf(node: Node, negate: bool = False) -> list[list[Atom]]:
    """``node`` as an OR of ANDs of comparisons, the only shape GX's conditions take (no NOT, no OR in AND).

    Negation keeps pandas' semantics exactly: ``not (a < 5)`` holds for a missing ``a`` (a comparison with
    NaN is false), so it becomes ``a >= 5 or a.isnull()``; ``==``/``!=``, ``in``/``not in`` and the null
    checks are each other's exact complements.
    """
    if isinstance(node, Not):
        return dnf(node.part, not negate)
    if isinstance(node, And | Or):
        parts = [dnf(p, negate) for p in node.parts]
        if isinstance(node, Or) != negate:
            return _bounded([conj for part in parts for conj in part])
        out: list[list[Atom]] = [[]]
        for part in parts:
            _bounded(range(len(out) * len(part)))  # before building it: products grow exponentially
            out = [a + b for a in out for b in part]
        return _bounded(out)
    if not negate:
        return [[node]]
    if isinstance(node, Compare):
        flipped = Compare(node.column, _NEGATED[node.op], node.value)
        if node.op in ("==", "!="):
            return [[flipped]]
        return [[flipped], [IsNull(node.column)]]
    if isinstance(node, InSet):
        return [[InSet(node.column, node.values, not node.negated)]]
    return [[IsNull(node.column, not node.negated)]]


def _bounded(conjunctions: _Sized) -> _Sized:
    if len(conjunctions) > MAX_COMPARISONS:
        raise ConditionError(f"the row condition expands to more than {MAX_COMPARISONS} comparisons, the most "
                             "Great Expectations takes; simplify it", 1)
    return conjunctions


def to_gx(node: Node) -> Any:
    """A GX 1.x ``Condition`` equal to ``node``, built from the tree (never from the user's text)."""
    from great_expectations.expectations.row_conditions import (
        AndCondition,
        Column,
        ComparisonCondition,
        NullityCondition,
        Operator,
        OrCondition,
    )

    def atom(a: Atom) -> Any:
        if "`" in a.column:  # the grammar cannot produce this; GX would paste it into a query between backticks
            raise ValueError(f"column name {a.column!r} holds a backtick")
        if isinstance(a, IsNull):
            return NullityCondition(column=Column(a.column), is_null=not a.negated)
        if isinstance(a, InSet):
            op = Operator.NOT_IN if a.negated else Operator.IN
            return ComparisonCondition(column=Column(a.column), operator=op, parameter=list(a.values))
        return ComparisonCondition(column=Column(a.column), operator=Operator(a.op), parameter=a.value)

    conjunctions = [[atom(a) for a in conj] for conj in dnf(node)]
    terms = [c[0] if len(c) == 1 else AndCondition(conditions=c) for c in conjunctions]
    return terms[0] if len(terms) == 1 else OrCondition(conditions=terms)
