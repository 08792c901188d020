"""Derive :mod:`mlspec.gx_catalogue` from the installed Great Expectations (slow import; a developer tool).

Each expectation class is a pydantic (v1) model; its field annotations say what GX accepts. They are turned
into mlspec's small type vocabulary (see :func:`mlspec.expectations.check_value`) by :func:`kinds`, which
raises on an annotation it does not know, so a new GX type is reviewed rather than silently accepted. One
rule needs saying: a ``dict`` alternative in a union is GX's suite-parameter reference
(``{"$PARAMETER": ...}``), which mlspec never supplies, so it is dropped; a field that is only a dict (``meta``,
``json_schema``) is a mapping.
"""

from __future__ import annotations

import datetime as dt
import enum
import inspect
import typing
from collections import abc
from pathlib import Path
from typing import Any

Types = dict[str, tuple[str, ...]]
Catalogue = tuple[dict[str, tuple[tuple[str, ...], tuple[str, ...]]], dict[str, Types], Types]

# GX's own internals (ids, batch ids, rendered content, windows) are left out: a spec has no business setting them.
INTERNAL = frozenset({"id", "batch_id", "rendered_content", "windows", "library_metadata"})


def catalogue_from_gx() -> Catalogue:
    """(names -> (required, optional)), (names -> their own argument types), (common argument types)."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.expectation import Expectation

    base = {k: f for k, f in Expectation.__fields__.items() if k not in INTERNAL}
    common = {k: kinds(f.annotation) for k, f in base.items()}
    args: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    types: dict[str, Types] = {}
    for _, cls in sorted(vars(gxe).items()):
        if not (inspect.isclass(cls) and issubclass(cls, Expectation)) or cls is Expectation:
            continue
        name = getattr(cls, "expectation_type", None)
        if not name or not name.startswith("expect_"):
            continue  # e.g. UnexpectedRowsExpectation, which needs SQL
        fields = {k: f for k, f in cls.__fields__.items() if k not in INTERNAL}
        for k in base:
            if kinds(fields[k].annotation) != common[k]:
                raise TypeError(f"{name}.{k} differs from the common argument; mlspec assumes they agree")
        own = {k: f for k, f in fields.items() if k not in base}
        args[name] = (tuple(k for k, f in own.items() if f.required),
                      tuple(k for k, f in own.items() if not f.required))
        types[name] = {k: kinds(f.annotation) for k, f in own.items()}
    return args, types, common


def kinds(tp: Any) -> tuple[str, ...]:
    """mlspec's alternatives for the annotation ``tp``, in a stable order."""
    out: list[str] = []
    for member in _members(tp):
        for kind in _kind(member):
            if kind not in out:
                out.append(kind)
    return tuple(sorted(out, key=lambda k: (k == "null", k.startswith("="), _RANK.get(k.partition("[")[0], 9), k)))


_RANK = {"str": 0, "int": 1, "number": 2, "bool": 3, "date": 4, "list": 5, "mapping": 6}
"""The order alternatives are named in messages: "expected a number, a date (YYYY-MM-DD) or null"."""


def _members(tp: Any) -> list[Any]:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _members(typing.get_args(tp)[0])
    if origin is typing.Union:
        members = [m for a in typing.get_args(tp) for m in _members(a)]
        if len([m for m in members if m is not type(None)]) > 1:
            members = [m for m in members if m is not dict]  # a suite-parameter reference
        return members
    return [tp]


def _kind(tp: Any) -> list[str]:
    from great_expectations.compatibility.pydantic import BaseModel

    origin = typing.get_origin(tp)
    if tp is type(None):
        return ["null"]
    if origin is typing.Literal:
        return [f"={v}" for v in typing.get_args(tp)]
    if origin in (list, set, tuple, abc.Sequence) or tp in (list, set):
        item = (typing.get_args(tp) or (Any,))[0]
        if item is Any:
            return ["list[scalar]"]
        if typing.get_origin(item) is tuple and len(typing.get_args(item)) == 2:
            return ["list[pair]"]
        if _kind(item) == ["str"]:
            return ["list[str]"]
        raise TypeError(f"no mlspec type for a list of {item!r}; extend mlspec.gx_types")
    if inspect.isclass(tp):
        if issubclass(tp, enum.Enum):
            return [f"={m.value}" for m in tp]
        if issubclass(tp, bool):
            return ["bool"]
        if issubclass(tp, str):
            return ["str"]
        if issubclass(tp, int):
            return ["int"]
        if issubclass(tp, float):
            lo, hi = getattr(tp, "ge", None), getattr(tp, "le", None)
            if getattr(tp, "gt", None) is not None or getattr(tp, "lt", None) is not None:
                raise TypeError(f"no mlspec type for {tp!r} (strict bounds); extend mlspec.gx_types")
            if lo is None and hi is None:
                return ["number"]
            return [f"number[{'' if lo is None else float(lo)},{'' if hi is None else float(hi)}]"]
        if issubclass(tp, dt.date):  # datetime is a date
            return ["date"]
        if issubclass(tp, dict | BaseModel):
            return ["mapping"]
    raise TypeError(f"no mlspec type for {tp!r}; extend mlspec.gx_types")


def render_catalogue(catalogue: Catalogue, version: str) -> str:
    args, types, common = catalogue
    lines = [
        f'"""Generated by `python -m mlspec.expectations` from great-expectations {version}; do not edit."""',
        "",
        "CATALOGUE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {",
        *(f"    {name!r}: ({args[name][0]!r}, {args[name][1]!r})," for name in sorted(args)),
        "}",
        "",
        "TYPES: dict[str, dict[str, tuple[str, ...]]] = {",
    ]
    for name in sorted(types):
        lines.append(f"    {name!r}: {{")
        lines += [f"        {arg!r}: {kind!r}," for arg, kind in types[name].items()]
        lines.append("    },")
    lines += ["}", "", "COMMON_TYPES: dict[str, tuple[str, ...]] = {"]
    lines += [f"    {arg!r}: {kind!r}," for arg, kind in common.items()]
    lines.append("}")
    return "\n".join(lines) + "\n"


def regenerate() -> Path:
    import great_expectations

    from mlspec.fsutil import atomic_write_text

    target = Path(__file__).with_name("gx_catalogue.py")
    atomic_write_text(target, render_catalogue(catalogue_from_gx(), great_expectations.__version__))
    return target
