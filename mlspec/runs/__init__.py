"""The run history: every `mlspec run` recorded (see :mod:`mlspec.runs.record`), kept, mirrored and sent on.

:func:`keep` is what the runner calls at the end of every run (so the Python API records too): the part goes
first into the workspace's history (:mod:`mlspec.runs.history`), then, with a store, to ``history/`` in the
store (:mod:`mlspec.runs.mirror`), then to the spec's tracking backend (:func:`mlspec.tracking.send`). Each
step runs only after the one before has the record, so a store or a tracking server that does not answer
never loses it: a failed mirror is a warning and the part stays pending (the next run with the store, or
`mlspec runs sync`, sends it); a backend that refuses it is an error the run reports (exit 1), with
everything else it did intact.

Reading: :func:`open_history` (importing the store's parts first) and the queries of
:mod:`mlspec.runs.query`; :mod:`mlspec.runs.compare` lines runs up side by side.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlspec.load import Loaded
from mlspec.runs.history import History
from mlspec.runs.mirror import Imported, import_parts, send_pending
from mlspec.runs.record import RunRecord
from mlspec.runtime.cilog import Log
from mlspec.runtime.workspace import Workspace
from mlspec.store import Store, StoreError

__all__ = ["History", "Kept", "keep", "open_history", "sync"]


@dataclass(frozen=True)
class Kept:
    errors: tuple[str, ...] = ()
    """What the run must report as failed (a tracking backend that did not take the record)."""


def keep(loaded: Loaded, record: RunRecord, store: Store | None, log: Log) -> Kept:
    """Keep ``record`` locally, mirror it (and any part left pending) to ``store``, send it to tracking."""
    from mlspec import tracking

    history = History.of(Workspace.for_spec(loaded.path))
    history.add(record)
    if store is not None:
        mirrored = send_pending(history, store)
        if mirrored.problem:
            log.line(f"warning: the run history was not mirrored to the store: {mirrored.problem} (the run is "
                     "kept locally; the next run with the store, or `mlspec runs sync`, sends it)")
    try:
        tracking.send(loaded, record, log)
    except tracking.TrackingError as exc:
        return Kept((str(exc),))
    return Kept()


def open_history(loaded: Loaded, store: Store | None) -> tuple[History, Imported | None]:
    """The workspace's history, with the store's parts it lacked imported first (``store`` None: local only)."""
    workspace = Workspace.for_spec(loaded.path)
    history = History.of(workspace)
    if store is None:
        return history, None
    workspace.claim()  # importing writes the history: only into a workspace that is mlspec's
    return history, import_parts(history, store)


@dataclass(frozen=True)
class Synced:
    imported: int
    mirrored: int
    tracked: int


def sync(loaded: Loaded, store: Store | None, log: Log) -> Synced:
    """`mlspec runs sync`: import the store's parts, mirror the pending local ones, send tracking's outbox."""
    from mlspec import tracking

    history, imported = open_history(loaded, store)
    mirrored = 0
    if store is not None:
        sent = send_pending(history, store)
        if sent.problem:
            raise StoreError(sent.problem)
        mirrored = sent.sent
    tracked = tracking.sync(loaded, log)
    return Synced(imported.added if imported else 0, mirrored, tracked)
