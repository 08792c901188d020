"""Data sources: one adapter per kind of source (:mod:`mlspec.sources.base` is the interface), and the registry.

A new kind is a spec model in :mod:`mlspec.spec` (a member of the ``Source`` union), an adapter module here,
and one entry in :data:`ADAPTERS`. Adapters import pandas only when they read, so ``mlspec validate`` and
``mlspec compile`` can ask them about files and locations cheaply.
"""

from __future__ import annotations

from typing import Any

from mlspec.sources.base import Adapter, Concern, Origin, Reading, Snapshot, SourceError
from mlspec.sources.file import FileAdapter
from mlspec.sources.remote import UrlAdapter
from mlspec.spec import Source

__all__ = ["ADAPTERS", "Adapter", "Concern", "Origin", "Reading", "Snapshot", "SourceError", "adapter"]

ADAPTERS: dict[str, Adapter[Any]] = {a.kind: a for a in (FileAdapter(), UrlAdapter())}
"""Source kind → its adapter: one for each member of :data:`mlspec.spec.Source`."""


def adapter(source: Source) -> Adapter[Any]:
    """The adapter of ``source``'s kind."""
    return ADAPTERS[source.kind]
