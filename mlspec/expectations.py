"""Great Expectations 1.x expectation names, arguments and argument types, known without importing GX.

``mlspec validate`` checks every expectation (inline, and in a suite file) against this catalogue: unknown
names and arguments get a "did you mean", missing ones are named, and every value is checked against the
type GX declares for it, because importing GX takes seconds. ``row_condition`` is parsed by
:mod:`mlspec.rowcondition` (GX would hand it to ``DataFrame.query``); ``condition_parser`` may only say
``pandas``, the syntax that grammar is a subset of. The validate stage runs the same checks again before
anything reaches GX. The catalogue lives in :mod:`mlspec.gx_catalogue`, generated from the installed GX's
pydantic field annotations by ``python -m mlspec.expectations`` (see :mod:`mlspec.gx_types`); a test fails
when it no longer matches.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlspec import rowcondition
from mlspec.gx_catalogue import CATALOGUE, COMMON_TYPES, TYPES
from mlspec.gx_types import catalogue_from_gx
from mlspec.suggest import did_you_mean

__all__ = ["COMMON_ARGS", "ArgProblem", "ExpectationInfo", "catalogue_from_gx", "check", "lookup", "names"]

COMMON_ARGS: tuple[str, ...] = tuple(COMMON_TYPES)
"""Arguments every expectation accepts (GX's internal ids and rendered content are left out)."""

CONDITION_PARSERS = ("pandas",)
"""mlspec parses every row condition itself, in a subset of pandas' query syntax."""


@dataclass(frozen=True)
class ExpectationInfo:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def allowed(self) -> tuple[str, ...]:
        return (*self.required, *self.optional, *COMMON_ARGS)

    def kinds(self, arg: str) -> tuple[str, ...]:
        return TYPES[self.name].get(arg) or COMMON_TYPES[arg]


def lookup(name: str) -> ExpectationInfo | None:
    entry = CATALOGUE.get(name)
    if entry is None:
        return None
    return ExpectationInfo(name, entry[0], entry[1])


def names() -> list[str]:
    return sorted(CATALOGUE)


@dataclass(frozen=True)
class ArgProblem:
    """A problem with one expectation; ``path`` is relative to its arguments (``()``, ``("mostly",)``, ...)."""

    path: tuple[str | int, ...]
    message: str
    at_key: bool = False
    """The problem is about the key at ``path`` itself (its message names it)."""


def check(name: str, kwargs: Mapping[str, Any]) -> list[ArgProblem]:
    """Every problem of the expectation ``name`` with arguments ``kwargs``, in argument order."""
    info = lookup(name)
    if info is None:
        return [ArgProblem((), f"unknown Great Expectations expectation {name!r}" + did_you_mean(name, names()),
                           at_key=True)]
    out: list[ArgProblem] = []
    for arg, value in kwargs.items():
        if arg not in info.allowed:
            out.append(ArgProblem((arg,), f"unknown argument {arg!r} of {name}" + did_you_mean(arg, info.allowed),
                                  at_key=True))
        elif arg == "row_condition":
            out += _row_condition(value)
        elif arg == "condition_parser":
            out += _condition_parser(value)
        else:
            out += [ArgProblem((arg, *p.path), p.message) for p in check_value(value, info.kinds(arg))]
    missing = [a for a in info.required if a not in kwargs]
    if missing:
        args = ", ".join(f"{a}: ..." for a in missing)
        out.append(ArgProblem((), f"{name} needs {', '.join(repr(a) for a in missing)}; write "
                              f"`{name}: {{{args}}}`"))
    return out


def _row_condition(value: Any) -> list[ArgProblem]:
    if value is None:
        return []
    if not isinstance(value, str):
        return [ArgProblem(("row_condition",), f"expected a condition written as text, such as "
                           f"{rowcondition.EXAMPLE!r}, got {describe(value)}")]
    try:
        rowcondition.parse(value)
    except rowcondition.ConditionError as exc:
        return [ArgProblem(("row_condition",), str(exc))]
    return []


def _condition_parser(value: Any) -> list[ArgProblem]:
    if value is None or value in CONDITION_PARSERS:
        return []
    return [ArgProblem(("condition_parser",), f"{describe(value)} is not supported: mlspec parses row_condition "
                       f"itself, in pandas syntax ({rowcondition.EXAMPLE}); write `condition_parser: pandas` or "
                       "leave it out")]


# --- value types --------------------------------------------------------------------------------------------
# A type is a tuple of alternatives: "str", "int", "number", "number[lo,hi]" (either bound may be empty),
# "bool", "null", "date", "mapping", "list[str]", "list[scalar]", "list[pair]", or "=value" for a literal.

_NAMES = {
    "str": "a string", "int": "a whole number", "number": "a number", "bool": "true or false", "null": "null",
    "date": "a date (YYYY-MM-DD)", "mapping": "a mapping", "list[str]": "a list of strings",
    "list[scalar]": "a list of strings, numbers, booleans, dates or nulls", "list[pair]": "a list of [a, b] pairs",
}


def check_value(value: Any, kinds: Sequence[str]) -> list[ArgProblem]:
    """Problems of ``value`` against the alternatives ``kinds``; paths are relative to the value."""
    literals = [k[1:] for k in kinds if k.startswith("=")]
    others = [k for k in kinds if not k.startswith("=")]
    if isinstance(value, str) and value in literals:
        return []
    best: list[ArgProblem] | None = None
    for kind in others:
        problems = _check_kind(value, kind)
        if not problems:
            return []
        if problems[0].path and best is None:  # the value has the right shape; an item of it is wrong
            best = problems
    if best is not None:
        return best
    message = f"expected {_expected(kinds)}, got {describe(value)}"
    if literals and isinstance(value, str):
        same = [lit for lit in literals if lit.lower() == value.lower()]
        hint = did_you_mean(value, literals)
        message += f"; did you mean {same[0]!r}?" if same else hint if hint.startswith("; did") else ""
    return [ArgProblem((), message)]


def _check_kind(value: Any, kind: str) -> list[ArgProblem]:
    wrong = [ArgProblem((), "")]
    if kind.startswith("list["):
        if not isinstance(value, list):
            return wrong
        item = {"list[str]": "str", "list[scalar]": "scalar", "list[pair]": "pair"}[kind]
        return [ArgProblem((i, *p.path), p.message) for i, v in enumerate(value) for p in _item(v, item)]
    if kind.startswith("number"):
        if not _is_number(value):
            return wrong
        if not math.isfinite(value):
            return [ArgProblem((), f"expected a finite number, got {describe(value)}")]
        lo, _, hi = kind.removeprefix("number[").removesuffix("]").partition(",") if "[" in kind else ("", "", "")
        if (lo and value < float(lo)) or (hi and value > float(hi)):
            return [ArgProblem((), f"expected {_NAMES.get(kind) or _bounds(lo, hi)}, got {describe(value)}")]
        return []
    ok = {
        "str": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "null": value is None,
        "date": _is_date(value),
        "mapping": isinstance(value, dict),
    }
    return [] if ok[kind] else wrong


def _item(value: Any, item: str) -> list[ArgProblem]:
    if item == "str":
        ok = isinstance(value, str)
    elif item == "scalar":
        ok = value is None or isinstance(value, str | bool | dt.date) or (_is_number(value) and math.isfinite(value))
    else:
        ok = isinstance(value, list) and len(value) == 2 and not _item(value[0], "scalar") + _item(value[1], "scalar")
    if ok:
        return []
    noun = {"str": "a string", "scalar": "a string, number, boolean, date or null", "pair": "a [a, b] pair"}[item]
    return [ArgProblem((), f"expected {noun}, got {describe(value)}")]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_date(value: Any) -> bool:
    if isinstance(value, dt.date):
        return True
    if not isinstance(value, str):
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _bounds(lo: str, hi: str) -> str:
    if lo and hi:
        return f"a number from {_num(lo)} to {_num(hi)}"
    return f"a number >= {_num(lo)}" if lo else f"a number <= {_num(hi)}"


def _num(text: str) -> str:
    return str(int(float(text))) if float(text).is_integer() else text


def _expected(kinds: Sequence[str]) -> str:
    literals = [repr(k[1:]) for k in kinds if k.startswith("=")]
    parts = [_NAMES.get(k) or _bounds(*k.removeprefix("number[").removesuffix("]").split(","))
             for k in kinds if not k.startswith("=") and k != "null"]
    if literals:
        parts.insert(0, ("one of " + ", ".join(literals)) if len(literals) > 1 else literals[0])
    if "null" in kinds:
        parts.append("null")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def describe(value: Any) -> str:
    """How a value reads in a message: "the string 'x'", "the number 3", "a list"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) <= 60 else f"the string {value[:57]!r}..."
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    return type(value).__name__


if __name__ == "__main__":  # pragma: no cover - developer tool
    import sys

    from mlspec.gx_types import regenerate

    print(f"wrote {regenerate()}", file=sys.stderr)
