"""`mlspec registry ACTION`: what each action does and prints (the command line only parses arguments)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from mlspec.registry import locate, provenance, resolve, views


def run(args: argparse.Namespace) -> str:
    """The text to print for ``args.registry_command`` (list, show, history, promote, rollback)."""
    registry, model, root = locate(args.file, args.registry, args.model)
    action = args.registry_command
    if action == "list":
        if args.json:
            return views.dumps([views.version_json(registry, v) for v in registry.versions(model)])
        return "\n".join(views.list_lines(registry, model)) + "\n"
    if action == "show":
        version = resolve(registry, model, args.ref)
        if args.card:
            with tempfile.TemporaryDirectory() as scratch:
                return (registry.files(model, version.number, Path(scratch)) / "MODEL_CARD.md").read_text("utf-8")
        if args.json:
            return views.dumps(views.version_json(registry, version))
        return "\n".join(views.show_lines(registry, version)) + "\n"
    if action == "history":
        events = registry.history(model)
        if args.json:
            return views.dumps([e.as_json() for e in events if args.alias in (None, e.alias)])
        return "\n".join(views.history_lines(events, args.alias)) + "\n"
    if action == "promote":
        version = resolve(registry, model, args.ref)
        event = registry.promote(model, args.alias, version.number, provenance.actor(root), note=args.note)
        if event is None:
            return f"alias {args.alias!r} already names version {version.number}\n"
        was = f"version {event.previous}" if event.previous is not None else "nothing"
        return f"moved alias {args.alias!r} of {model!r} from {was} to version {event.version}\n"
    event = registry.rollback(model, args.alias, provenance.actor(root), to=args.to, note=args.note)
    return f"rolled alias {args.alias!r} of {model!r} back from version {event.previous} to {event.version}\n"
