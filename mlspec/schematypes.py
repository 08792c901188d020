"""Walking the spec's pydantic annotations: what `mlspec.load` (to locate and explain a validation error) and
`mlspec.overrides` (to check a ``--set`` key against the schema) both need to see through.

The spec's types come wrapped: ``Annotated`` constraints, ``X | None``, and unions of models chosen by a
``kind`` field or by a callable ``Discriminator`` whose members carry a ``Tag``.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Discriminator, Tag


def unwrap(tp: Any, keep_tagged: bool = False) -> Any:
    """``tp`` without ``Annotated`` constraints and without ``None`` in a union of one other member.

    ``keep_tagged`` stops at a union chosen by a callable discriminator (see :func:`tagged_members`), which
    a caller that knows the data can resolve.
    """
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            if keep_tagged and _discriminator(tp) is not None:
                return tp
            tp = typing.get_args(tp)[0]
            continue
        if typing.get_origin(tp) in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _discriminator(tp: Any) -> Discriminator | None:
    if typing.get_origin(tp) is not typing.Annotated:
        return None
    return next((m for m in typing.get_args(tp)[1:] if isinstance(m, Discriminator)), None)


def tagged_members(tp: Any) -> dict[str, Any] | None:
    """Tag → member of a union chosen by a callable ``Discriminator`` (members marked with ``Tag``), else None.

    Python flattens nested ``Annotated``, so a one-member union arrives as ``Annotated[Member, Tag, Discriminator]``.
    """
    if _discriminator(tp) is None:
        return None
    inner = typing.get_args(tp)[0]
    members = typing.get_args(inner) if typing.get_origin(inner) in (typing.Union, types.UnionType) else (tp,)
    out: dict[str, Any] = {}
    for member in members:
        marks = typing.get_args(member)[1:] if typing.get_origin(member) is typing.Annotated else ()
        for mark in marks:
            if isinstance(mark, Tag):
                out[mark.tag] = _strip_tag(member)
    return out


def chosen_member(tp: Any, data: Any) -> Any:
    """The member of ``tp`` (a union with a callable discriminator) that pydantic would validate ``data`` with;
    None when the discriminator names no member."""
    chooser = _discriminator(tp)
    assert chooser is not None and callable(chooser.discriminator)
    return (tagged_members(tp) or {}).get(str(chooser.discriminator(data)))


def has_callable_discriminator(tp: Any) -> bool:
    chooser = _discriminator(tp)
    return chooser is not None and callable(chooser.discriminator)


def _strip_tag(tp: Any) -> Any:
    """``tp`` without its ``Tag`` and ``Discriminator`` marks, so walking on does not meet the union again."""
    if typing.get_origin(tp) is not typing.Annotated:
        return tp
    inner, *meta = typing.get_args(tp)
    kept = [m for m in meta if not isinstance(m, Tag | Discriminator)]
    return typing.Annotated[(inner, *kept)] if kept else inner


def kind_tag(tp: Any) -> str | None:
    """The ``kind`` literal of a model in a union chosen by ``kind`` (``file``, ``registry``), else None."""
    tp = unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel) and "kind" in tp.model_fields:
        args = typing.get_args(tp.model_fields["kind"].annotation)
        return str(args[0]) if args else None
    return None


def fields(model: type[BaseModel]) -> Mapping[str, Any]:
    """A model's fields by the key the spec writes (the alias where there is one: ``from``)."""
    return {fld.alias or name: fld for name, fld in model.model_fields.items()}


def describe(value: Any) -> str:
    """A YAML value in words, for "expected X, got Y" messages."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
