from __future__ import annotations

import pytest

from mlspec.expr import ExprError, parse


def test_columns_numbers_operators_and_functions() -> None:
    parsed = parse("income / (household + 1) ** 2 - -log1p(age) + clip(x, 0, 1) * max(a, 2)")
    assert parsed.columns == ("income", "household", "age", "x", "a")
    assert parsed.tree[0] == "add"


@pytest.mark.parametrize(("text", "message"), [
    ("__import__('os').system('x')", "unknown function \"__import__('os').system\"; the functions are "
     "log, log1p, exp, sqrt, abs, clip, min, max"),
    ("a.b", "attribute access is not supported; an expression is arithmetic (+ - * / **) of columns and numbers, "
     "with the functions log, log1p, exp, sqrt, abs, clip, min, max"),
    ("a[0]", "indexing is not supported; an expression is arithmetic (+ - * / **) of columns and numbers, with the "
     "functions log, log1p, exp, sqrt, abs, clip, min, max"),
    ("a // 2", "operator '//' is not supported; use + - * / ** and the functions log, log1p, exp, sqrt, abs, clip, "
     "min, max"),
    ("'text'", "'text' is not a number; expressions compute with numbers and columns only"),
    ("True + a", "True is not a number; expressions compute with numbers and columns only"),
    ("log(a, 2)", "log() takes 1 argument, got 2"),
    ("clip(a, lo=1)", "clip() takes positional arguments only"),
    ("log", "'log' is a function; call it: log(...)"),
    ("a +", "not an expression: invalid syntax"),
    ("(lambda: 1)()", "unknown function 'lambda: 1'; the functions are log, log1p, exp, sqrt, abs, clip, min, max"),
])
def test_anything_else_is_refused_with_what_to_write(text: str, message: str) -> None:
    with pytest.raises(ExprError) as error:
        parse(text)
    assert str(error.value) == message


def test_size_is_bounded() -> None:
    with pytest.raises(ExprError, match="more than 200 parts"):
        parse(" + ".join(["a"] * 150))
