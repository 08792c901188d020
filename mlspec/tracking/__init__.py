"""Sending run records (:mod:`mlspec.runs.record`) to a tracking backend beyond the local history.

``tracking.backend: local`` (the default) keeps runs only in mlspec's own history (:mod:`mlspec.runs`).
Other backends receive every record after it is safely kept locally, so a backend that is down never loses
a run: it is sent later (:func:`sync`) or reported.

``mlflow`` (:mod:`mlspec.tracking.mlflow`): the server is ``tracking.uri``, else ``MLFLOW_TRACKING_URI``.
Each record first goes into the workspace's outbox (:mod:`mlspec.tracking.outbox`), then everything the
outbox holds is sent, oldest first, each file removed once MLflow took it; so a record that could not be sent
goes with the next run, or with `mlspec runs sync`. The workspace's report (``report.md``, ``report.html``,
when `mlspec report` made them) is attached to the newest record sent.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from mlspec import report
from mlspec.errors import MlspecError
from mlspec.jsonio import JsonError
from mlspec.load import Loaded
from mlspec.runs.record import RunRecord
from mlspec.runtime.cilog import Log
from mlspec.runtime.workspace import Workspace, display_path
from mlspec.tracking import outbox

ENV_URI = "MLFLOW_TRACKING_URI"


class TrackingError(MlspecError):
    """The backend did not take a record. Raised only after the record is kept for :func:`sync`; the runner
    prints it and the run exits 1 with everything else it did intact."""


def send(loaded: Loaded, record: RunRecord, log: Log) -> None:
    """Send one record (already kept locally) to the spec's tracking backend; the local backend has nothing
    to do."""
    if loaded.spec.tracking.backend == "local":
        return
    outbox.put(outbox.folder(Workspace.for_spec(loaded.path)), record)
    _flush(loaded, log)


def sync(loaded: Loaded, log: Log) -> int:
    """Send the records a backend has not acknowledged yet; how many were sent."""
    box = outbox.folder(Workspace.for_spec(loaded.path))
    if loaded.spec.tracking.backend == "local":
        waiting = len(outbox.pending(box))
        if waiting:
            log.line(f"tracking: {waiting} record(s) wait in {display_path(box)}, but tracking.backend is local: "
                     "set tracking.backend: mlflow to send them")
        return 0
    return _flush(loaded, log)


def server(loaded: Loaded, environ: Mapping[str, str] = os.environ) -> tuple[str, str] | None:
    """The tracking server's URI and the setting that named it, or None."""
    if loaded.spec.tracking.uri:
        return loaded.spec.tracking.uri, f"tracking.uri in {loaded.path.name}"
    uri = environ.get(ENV_URI, "").strip()
    return (uri, ENV_URI) if uri else None


def _flush(loaded: Loaded, log: Log) -> int:
    workspace = Workspace.for_spec(loaded.path)
    box = outbox.folder(workspace)
    waiting = outbox.pending(box)
    if not waiting:
        return 0
    later = (f"{len(waiting)} record(s) kept in {display_path(box)}; send them with `mlspec runs sync` (or the "
             "next `mlspec run`)")
    named = server(loaded)
    if named is None:
        raise TrackingError(f"tracking.backend is mlflow, but neither tracking.uri nor {ENV_URI} names a tracking "
                            f"server; set one: {later}")
    uri, setting = named
    try:
        from mlspec.tracking.mlflow import MlflowTracker, SendFailed
    except ImportError as exc:
        if not (exc.name or "").startswith("mlflow"):
            raise
        raise TrackingError("tracking.backend is mlflow, but the MLflow client is not installed: pip install "
                            f"'mlspec-ci[mlflow]' (in CI: add mlflow-skinny to ci.requirements); {later}") from None
    tracker = MlflowTracker(uri, loaded.spec.tracking.experiment or loaded.spec.project)
    reports = workspace.root / report.DIRECTORY
    sent = 0
    for path in waiting:
        try:
            record = outbox.read(path)
        except (JsonError, TypeError, KeyError, ValueError) as exc:
            path.rename(path.with_suffix(".damaged"))  # kept for a person to look at, never retried
            log.line(f"tracking: skipped {display_path(path)}, which is not a run record ({exc}); renamed to "
                     f"{path.with_suffix('.damaged').name}")
            continue
        try:
            shown = tracker.send(record, reports if path == waiting[-1] else None)
        except SendFailed as exc:
            left = len(outbox.pending(box))
            raise TrackingError(
                f"tracking: the MLflow server {tracker.location} (from {setting}) did not take run "
                f"{record.run_id}: {exc}; {left} record(s) kept in {display_path(box)}: send them with "
                "`mlspec runs sync` once it answers (or the next `mlspec run`)") from None
        path.unlink(missing_ok=True)
        sent += 1
        log.line(f"tracking: run {record.run_id} ({record.part}) sent to MLflow, experiment "
                 f"{tracker.experiment!r}: {shown}")
    return sent
