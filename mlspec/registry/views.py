"""What `mlspec registry list|show|history` print: plain aligned text, or JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from mlspec.numbers import fmt
from mlspec.registry.base import Event, Registry, Version


def list_lines(registry: Registry, model: str) -> list[str]:
    versions = registry.versions(model)
    if not versions:
        return [f"no versions of {model!r} in the registry {registry.location}"]
    named = _names_by_version(registry.aliases(model))
    rows = [[str(v.number), v.verdict, v.trained_model, _when(v.created_at), v.created_by.user,
             _short(v.created_by.commit), ", ".join(named.get(v.number, []))] for v in versions]
    return [f"{model} in {registry.location}",
            *_aligned(["VERSION", "GATE", "MODEL", "REGISTERED (UTC)", "BY", "COMMIT", "ALIASES"], rows)]


def show_lines(registry: Registry, version: Version) -> list[str]:
    names = _names_by_version(registry.aliases(version.model)).get(version.number, [])
    by = version.created_by
    lines = [
        f"{version.model} version {version.number}",
        f"  aliases       {', '.join(names) or '-'}",
        f"  gate verdict  {version.verdict}",
        f"  trained model {version.trained_model}",
        f"  digest        {version.digest}",
        f"  registered    {version.created_at} by {by.user} ({by.system})",
        f"  commit        {by.commit or '-'}" + (f" on {by.ref}" if by.ref else ""),
    ]
    if by.run_url:
        lines.append(f"  CI run        {by.run_url}")
    lines.append(f"  location      {version.location}")
    lines += [f"  metric        {k} = {fmt(v, 6, missing='None')}" for k, v in version.metrics.items()]
    return lines


def history_lines(events: Sequence[Event], alias: str | None = None) -> list[str]:
    shown = [e for e in events if alias is None or e.alias == alias]
    if not shown:
        return ["no history yet" if alias is None else f"alias {alias!r} has never been moved"]
    rows = []
    for e in shown:
        what = (f"version {e.version}" if e.kind == "register"
                else f"{e.alias}: {e.previous if e.previous is not None else '-'} -> {e.version}")
        rows.append([str(e.seq), _when(e.at), e.kind + (" (recovered)" if e.recovered else ""), what,
                     f"{e.actor.user} ({e.actor.system})", _short(e.actor.commit), e.actor.ref or "-",
                     e.note or ""])
    return _aligned(["#", "WHEN (UTC)", "EVENT", "WHAT", "BY", "COMMIT", "REF", "NOTE"], rows)


def version_json(registry: Registry, version: Version) -> dict[str, Any]:
    return {"model": version.model, "version": version.number, "digest": version.digest,
            "verdict": version.verdict, "trained_model": version.trained_model, "created_at": version.created_at,
            "created_by": version.created_by.as_json(), "metrics": dict(version.metrics),
            "location": version.location,
            "aliases": _names_by_version(registry.aliases(version.model)).get(version.number, [])}


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def _names_by_version(aliases: dict[str, int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for alias, number in aliases.items():
        out.setdefault(number, []).append(alias)
    return out


def _when(iso: str) -> str:
    """``2026-11-27T01:07:35.079014+00:00`` as ``2026-11-27T01:07:35Z`` (the registry writes UTC)."""
    return iso[:19] + "Z" if iso else "-"


def _short(commit: str | None) -> str:
    return commit[:12] if commit else "-"


def _aligned(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows]]
