"""`mlspec registry ACTION`: what each action does and the text it prints, one function per action.

Each takes the registry and model that :func:`mlspec.registry.locate` found, and plain arguments: the command line
only parses them and picks the function.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from mlspec.registry import provenance, resolve, views
from mlspec.registry.base import Registry


def list_versions(registry: Registry, model: str, *, as_json: bool = False) -> str:
    """Every version, its gate verdict and the aliases naming it."""
    if as_json:
        return views.dumps([views.version_json(registry, v) for v in registry.versions(model)])
    return "\n".join(views.list_lines(registry, model)) + "\n"


def show(registry: Registry, model: str, ref: str, *, as_json: bool = False, card: bool = False) -> str:
    """One version (``ref`` is a number or an alias); with ``card`` its model card (Markdown)."""
    version = resolve(registry, model, ref)
    if card:
        with tempfile.TemporaryDirectory() as scratch:
            return (registry.files(model, version.number, Path(scratch)) / "MODEL_CARD.md").read_text("utf-8")
    if as_json:
        return views.dumps(views.version_json(registry, version))
    return "\n".join(views.show_lines(registry, version)) + "\n"


def history(registry: Registry, model: str, *, alias: str | None = None, as_json: bool = False) -> str:
    """Every registration and alias move (only those of ``alias`` if given)."""
    events = registry.history(model)
    if as_json:
        return views.dumps([e.as_json() for e in events if alias in (None, e.alias)])
    return "\n".join(views.history_lines(events, alias)) + "\n"


def promote(registry: Registry, model: str, ref: str, alias: str, *, root: Path, note: str | None = None) -> str:
    """Move ``alias`` to the version ``ref`` names; who moved it is read from git and CI facts in ``root``."""
    version = resolve(registry, model, ref)
    event = registry.promote(model, alias, version.number, provenance.actor(root), note=note)
    if event is None:
        return f"alias {alias!r} already names version {version.number}\n"
    was = f"version {event.previous}" if event.previous is not None else "nothing"
    return f"moved alias {alias!r} of {model!r} from {was} to version {event.version}\n"


def rollback(registry: Registry, model: str, alias: str, *, root: Path, to: int | None = None,
             note: str | None = None) -> str:
    """Move ``alias`` back to the version it named before (or to the earlier version ``to``)."""
    event = registry.rollback(model, alias, provenance.actor(root), to=to, note=note)
    return f"rolled alias {alias!r} of {model!r} back from version {event.previous} to {event.version}\n"
