"""Records a tracking backend has not acknowledged yet: one JSON file each, under ``<workspace>/tracking/outbox/``.

A record is put here before it is sent and removed only once the backend took it, so a server that is down,
a network that drops, or a job killed mid-send never loses a run: the next `mlspec run` or `mlspec runs sync`
sends what is here. File names start with a nanosecond clock so that sorting them sends the oldest first.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from mlspec import jsonio
from mlspec.fsutil import atomic_write_text, is_own_temp
from mlspec.runs.record import RunRecord
from mlspec.runtime.workspace import Workspace

DIRECTORY = ("tracking", "outbox")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def folder(workspace: Workspace) -> Path:
    return workspace.root.joinpath(*DIRECTORY)


def put(into: Path, record: RunRecord) -> Path:
    """Keep ``record`` in the outbox (atomically); its file."""
    name = f"{time.time_ns():020d}-{_safe(record.run_id)}-{_safe(record.part)}.json"
    path = into / name
    atomic_write_text(path, json.dumps(record.to_json(), sort_keys=True, indent=1) + "\n")
    return path


def pending(into: Path) -> list[Path]:
    """The outbox's records, oldest first (a half-written temporary file is not one)."""
    try:
        entries = list(into.iterdir())
    except FileNotFoundError:
        return []
    return sorted(p for p in entries if p.suffix == ".json" and not is_own_temp(p.name) and p.is_file())


def read(path: Path) -> RunRecord:
    return RunRecord.from_json(jsonio.read_object(path, what=f"the tracking outbox's {path.name}"))


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text)[:80] or "_"
