"""The arithmetic of ``data.derived`` expressions: parsed by a whitelist, never evaluated as Python.

An expression is Python's expression syntax restricted to numbers, column names, ``+ - * / **``, unary minus
(and plus), parentheses and the functions in :data:`FUNCTIONS`. :func:`parse` reads it with :mod:`ast` and
turns the tree into mlspec's own small nodes, refusing every other node type (attributes, subscripts,
comprehensions, lambdas, strings, keyword arguments, ...), so no Python object named by the spec is ever
looked up or called. The nodes are plain tuples, which the model file keeps (as the expression's text) and
:mod:`mlspec.transform.derive` computes with NumPy. This module imports nothing heavy: ``mlspec validate``
parses every expression.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

FUNCTIONS: dict[str, int] = {"log": 1, "log1p": 1, "exp": 1, "sqrt": 1, "abs": 1, "clip": 3, "min": 2, "max": 2}
"""Function name -> how many arguments it takes."""
MAX_LENGTH = 1000
MAX_NODES = 200

# (op, args...): ("num", 1.5), ("col", "age"), ("neg", x), ("add"|"sub"|"mul"|"div"|"pow", a, b), ("call", f, *args)
Node = tuple[object, ...]
_BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
_SHOWN = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^",
          ast.LShift: "<<", ast.RShift: ">>"}


class ExprError(ValueError):
    """An expression mlspec does not compute; the message says what to write instead."""


@dataclass(frozen=True)
class Parsed:
    tree: Node
    columns: tuple[str, ...]
    """The column names the expression reads, in order of first use."""


def parse(text: str) -> Parsed:
    """The whitelisted tree of ``text``, or :class:`ExprError`."""
    if len(text) > MAX_LENGTH:
        raise ExprError(f"the expression is {len(text)} characters long; at most {MAX_LENGTH}")
    try:
        root = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        at = f" (at character {exc.offset})" if exc.offset else ""
        raise ExprError(f"not an expression: {exc.msg}{at}") from None
    if sum(1 for _ in ast.walk(root)) > MAX_NODES:
        raise ExprError(f"the expression has more than {MAX_NODES} parts; split it into several derived features")
    columns: list[str] = []
    tree = _node(root.body, columns)
    return Parsed(tree, tuple(dict.fromkeys(columns)))


def _node(node: ast.expr, columns: list[str]) -> Node:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ExprError(f"{node.value!r} is not a number; expressions compute with numbers and columns only")
        return ("num", float(node.value))
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExprError(f"{node.id!r} is a function; call it: {node.id}(...)")
        columns.append(node.id)
        return ("col", node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _node(node.operand, columns)
        return ("neg", inner) if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        op = _BINARY.get(type(node.op))
        if op is None:
            shown = _SHOWN.get(type(node.op), type(node.op).__name__)
            raise ExprError(f"operator {shown!r} is not supported; use + - * / ** and the functions "
                            + ", ".join(FUNCTIONS))
        return (op, _node(node.left, columns), _node(node.right, columns))
    if isinstance(node, ast.Call):
        return _call(node, columns)
    raise ExprError(f"{_describe(node)} is not supported; an expression is arithmetic (+ - * / **) of columns "
                    "and numbers, with the functions " + ", ".join(FUNCTIONS))


def _call(node: ast.Call, columns: list[str]) -> Node:
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
        raise ExprError(f"unknown function {name!r}; the functions are " + ", ".join(FUNCTIONS))
    name, arity = node.func.id, FUNCTIONS[node.func.id]
    if node.keywords:
        raise ExprError(f"{name}() takes positional arguments only")
    if len(node.args) != arity:
        raise ExprError(f"{name}() takes {arity} argument{'s' if arity > 1 else ''}, got {len(node.args)}")
    return ("call", name, *(_node(arg, columns) for arg in node.args))


def _describe(node: ast.expr) -> str:
    kinds = {ast.Attribute: "attribute access", ast.Subscript: "indexing", ast.Compare: "a comparison",
             ast.BoolOp: "and/or", ast.IfExp: "if/else", ast.Lambda: "lambda", ast.Starred: "*args"}
    for kind, text in kinds.items():
        if isinstance(node, kind):
            return text
    return type(node).__name__
