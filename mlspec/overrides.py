"""``--set KEY=VALUE``: edits of the spec made on the command line, for trying a change without editing the file.

They are applied to the parsed document before validation, so an overridden value is checked exactly as the
same edit of the file would be (its errors are located at the ``--set`` argument instead of a line), and the
stages' fingerprints see it like an edit. Nothing is written to the file.

* KEY is a dotted path: ``training.models.forest.params.max_depth``. A number addresses an item of a list
  (``data.features.numeric.0``). A key that itself contains a dot cannot be addressed: edit the file.
* VALUE is read as YAML, with the spec's own safe reader: ``12``, ``0.5``, ``true``, ``null`` (or nothing),
  ``[a, b]``, ``{impute: median}``; quote a string that would read as something else (``'012'``).
* KEY must exist: written in the file, or a field of the schema at that place (``training.seed`` when the
  file leaves it at its default). A key that is not there is a typo until said otherwise: ``+KEY=VALUE``
  adds it (Hydra's convention), for the free mappings such as a model's ``params``.
"""

from __future__ import annotations

import copy
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel

from mlspec.errors import Problem, SpecError
from mlspec.schematypes import chosen_member, describe, fields, has_callable_discriminator, unwrap
from mlspec.suggest import did_you_mean
from mlspec.yamlio import Document, PathT, YamlError
from mlspec.yamlio import parse as parse_yaml


@dataclass(frozen=True)
class Override:
    text: str
    """The argument as given (``+training.models.forest.params.max_depth=12``)."""
    keys: tuple[str, ...]
    value: Any
    add: bool = False

    @property
    def where(self) -> str:
        """How a message locates this override: ``--set KEY=VALUE``."""
        return f"--set {self.text}"

    @property
    def key(self) -> str:
        return ".".join(self.keys)


def problem(where: str, message: str, path: str = "") -> Problem:
    """A problem located at a command-line argument rather than a line of the file (line 0: no position)."""
    return Problem(where, 0, 0, path, message)


def parse(text: str) -> Override:
    """One ``[+]KEY=VALUE`` argument; :class:`SpecError` when it is not one."""
    where = f"--set {text}"
    add = text.startswith("+")
    key, eq, raw = text.removeprefix("+").partition("=")
    if not eq:
        raise SpecError([problem(where, "expected KEY=VALUE, e.g. --set training.models.forest.params."
                                 "max_depth=12")])
    if not key.strip():
        raise SpecError([problem(where, "the key before '=' is empty; write the dotted path of the value to "
                                 "change, e.g. training.seed=1")])
    keys = tuple(key.split("."))
    if any(not k for k in keys):
        raise SpecError([problem(where, f"{key!r} has an empty part between dots; a key that itself contains a "
                                 "dot cannot be set from the command line: edit mlspec.yaml instead")])
    return Override(text, keys, _value(raw, where), add)


def _value(raw: str, where: str) -> Any:
    if not raw.strip():
        return None
    try:
        doc = parse_yaml(raw)
    except YamlError as exc:
        raise SpecError([problem(where, f"the value is not valid YAML: {exc.message.removeprefix('invalid YAML: ')}"
                                 "; quote a string ('...')")]) from None
    if isinstance(doc.data, dict | list) and raw.lstrip()[:1] not in ("{", "["):
        raise SpecError([problem(where, "the value reads as a block-style YAML collection; write a list as "
                                 "[a, b] and a mapping as {key: value}, or quote a string ('...')")])
    return doc.data


def apply(doc: Document, overrides: Sequence[Override], schema: type[BaseModel]) -> tuple[Document, dict[PathT, str]]:
    """``doc`` with every override applied (a copy; ``doc`` is left as it was), and where each went: the
    document path of each overridden value → its ``--set`` argument, to locate the problems found in it.

    A later override of the same key wins, as with Hydra and `dvc exp run -S`. Raises :class:`SpecError` with a
    problem per override whose key does not exist (or, with ``+``, already exists)."""
    data = copy.deepcopy(doc.data)
    placed: dict[PathT, str] = {}
    problems: list[Problem] = []
    for override in overrides:
        try:
            path = _set(data, override, schema)
        except _Refused as exc:
            problems.append(problem(override.where, str(exc), exc.at))
            continue
        placed = {p: w for p, w in placed.items() if p[: len(path)] != path}  # replaced by this one
        placed[path] = override.where
    if problems:
        raise SpecError(problems)
    return replace(doc, data=data), placed


class _Refused(Exception):
    def __init__(self, message: str, at: str) -> None:
        super().__init__(message)
        self.at = at


def _set(data: Any, override: Override, schema: type[BaseModel]) -> PathT:
    """Put the override's value into ``data``; the document path of what it put there (the value, or the first
    mapping it had to create on the way: a problem found in it is the override's too)."""
    node: Any = data
    tp: Any = schema
    path: list[str | int] = []
    created: PathT | None = None
    *parents, _ = override.keys
    for i, key in enumerate(override.keys):
        at = ".".join(override.keys[:i])
        model = _model(tp, node)
        if isinstance(node, list):
            index = _index(node, key, at)
            path.append(index)
            tp = _item_type(tp)
            if i == len(parents):
                node[index] = override.value
            else:
                node = node[index]
            continue
        if not isinstance(node, dict):
            raise _Refused(f"is {describe(node)}, not a mapping: it has no key {key!r}", at)
        schema_keys = fields(model) if model is not None else {}
        present = key in node
        if i == len(parents):
            if override.add and present:
                raise _Refused(f"{key!r} is already there; write --set {override.key}=... without the '+' to "
                               "change it", at)
            if not (present or override.add or key in schema_keys):
                raise _Refused(_unknown(key, [*node, *schema_keys], override), at)
            node[key] = override.value
            path.append(key)
            break
        if not present or node[key] is None:
            if not (override.add or key in schema_keys):
                raise _Refused(_unknown(key, [*node, *schema_keys], override), at)
            node[key] = {}
            created = created or (*path, key)
        path.append(key)
        tp = schema_keys[key].annotation if key in schema_keys else _value_type(tp)
        node = node[key]
    return created if created is not None else tuple(path)


def _unknown(key: str, known: list[str], override: Override) -> str:
    return (f"unknown key {key!r}" + did_you_mean(key, known) + f"; to add a key that is not there, write "
            f"--set +{override.text.removeprefix('+')}")


def _index(items: list[Any], key: str, at: str) -> int:
    if not key.isdigit() or int(key) >= len(items):
        last = f" 0 to {len(items) - 1}" if items else " (it is empty)"
        raise _Refused(f"is a list of {len(items)} items; address an item by its index{last}, got {key!r}", at)
    return int(key)


# --- the schema at a place of the document ------------------------------------------------------------------


def _model(tp: Any, data: Any) -> type[BaseModel] | None:
    """The pydantic model validating ``data`` where the annotation is ``tp`` (a union chosen as pydantic would
    choose it, by its discriminator), else None (a free mapping, a scalar)."""
    tp = unwrap(tp, keep_tagged=True)
    if has_callable_discriminator(tp):
        member = chosen_member(tp, data)
        return _model(member, data) if member is not None else None
    tp = unwrap(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        kind = data.get("kind") if isinstance(data, dict) else None
        for member in typing.get_args(tp):
            model = _model(member, data)
            if model is not None and "kind" in model.model_fields \
                    and kind in typing.get_args(model.model_fields["kind"].annotation):
                return model
        return None
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _value_type(tp: Any) -> Any:
    tp = unwrap(tp, keep_tagged=True)
    return typing.get_args(tp)[1] if typing.get_origin(tp) is dict else Any


def _item_type(tp: Any) -> Any:
    tp = unwrap(tp, keep_tagged=True)
    return typing.get_args(tp)[0] if typing.get_origin(tp) is list else Any
