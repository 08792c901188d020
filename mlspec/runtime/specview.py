"""The spec as a stage sees it: only the sections its kind declares (:class:`mlspec.runtime.stages.kind.Read`).

A stage's fingerprint covers exactly the sections it declares, so a read of any other section would let an
edit of that section leave the stage wrongly up to date. The view turns such a read into
:class:`UndeclaredRead`, an internal error (a bug in the stage, not a mistake of the user), which fails the
stage's tests the first time the read happens.

Sections granted whole are handed out as they are (pydantic models, dicts), so feature code that takes a
spec or a part of one works on the view unchanged; only the way *to* them goes through views.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlspec.runtime.stages.kind import Read


class UndeclaredRead(RuntimeError):
    """A stage read a spec section its kind does not declare."""


@dataclass
class _Node:
    whole: bool = False
    exclude: frozenset[str] = frozenset()
    keys: bool = False
    children: dict[str, _Node] = field(default_factory=dict)


def grants(reads: Sequence[Read]) -> _Node:
    """The tree of what ``reads`` allow; a section read whole covers any read inside it."""
    root = _Node()
    for read in reads:
        if read.derived is not None:
            continue  # a label, not a section
        node = root
        for part in read.parts:
            node = node.children.setdefault(part, _Node())
        if read.keys:
            node.keys = True
        else:
            # Two reads of one section: what either reads is read.
            node.exclude = (node.exclude & read.exclude) if node.whole else read.exclude
            node.whole = True
    return root


def view(spec: Any, reads: Sequence[Read], who: str) -> Any:
    """``spec`` as the stage ``who`` (``train:forest``) may read it."""
    return _View(spec, grants(reads), (), who)


class _View:
    __slots__ = ("_node", "_obj", "_path", "_who")

    def __init__(self, obj: Any, node: _Node, path: tuple[str, ...], who: str) -> None:
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_node", node)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_who", who)

    def _refuse(self, name: str) -> UndeclaredRead:
        section = ".".join((*self._path, name)) if name else ".".join(self._path) or "the whole spec"
        kind = self._who.split(":", 1)[0]
        return UndeclaredRead(
            f"internal error: stage {self._who} read spec section {section!r}, which its kind does not declare; "
            f"add it to the reads of mlspec.runtime.stages.{kind}.KIND, so that editing it reruns the stage")

    def _child(self, name: str, value: Any) -> Any:
        node = self._node
        if node.whole:
            if name in node.exclude:
                raise self._refuse(name)
            return value
        child = node.children.get(name)
        if child is None:
            raise self._refuse(name)
        if child.whole and not child.exclude:
            return value
        return _View(value, child, (*self._path, name), self._who)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._child(name, getattr(self._obj, name))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"the spec is read-only (stage {self._who} set {name!r})")

    def __getitem__(self, key: str) -> Any:
        return self._child(key, self._obj[key])

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self._obj else default

    def _whole_mapping(self) -> None:
        # Listing a section's keys reads them all; only a section declared whole or by its keys allows it.
        if not self._node.whole and not self._node.keys:
            raise self._refuse("")

    def __iter__(self) -> Iterator[Any]:
        self._whole_mapping()
        return iter(self._obj)

    def __len__(self) -> int:
        self._whole_mapping()
        return len(self._obj)

    def __contains__(self, key: object) -> bool:
        self._whole_mapping()
        return key in self._obj

    def keys(self) -> Any:
        self._whole_mapping()
        return self._obj.keys()

    def items(self) -> Iterator[tuple[Any, Any]]:
        self._whole_mapping()
        return ((k, self[k]) for k in self._obj)

    def values(self) -> Iterator[Any]:
        self._whole_mapping()
        return (self[k] for k in self._obj)

    def __repr__(self) -> str:
        return f"<spec view of {'.'.join(self._path) or 'the spec'} for stage {self._who}>"
