"""Sending run records (:mod:`mlspec.runs.record`) to a tracking backend beyond the local history.

``tracking.backend: local`` (the default) keeps runs only in mlspec's own history (:mod:`mlspec.runs`).
Other backends receive every record after it is safely kept locally, so a backend that is down never loses
a run: it is sent later (:func:`sync`) or reported.
"""

from __future__ import annotations

from mlspec.errors import MlspecError
from mlspec.load import Loaded
from mlspec.runs.record import RunRecord
from mlspec.runtime.cilog import Log


class TrackingError(MlspecError):
    """The backend did not take a record. Raised only after the record is kept for :func:`sync`; the runner
    prints it and the run exits 1 with everything else it did intact."""


def send(loaded: Loaded, record: RunRecord, log: Log) -> None:
    """Send one record (already kept locally) to the spec's tracking backend; the local backend has nothing
    to do."""
    del loaded, record, log


def sync(loaded: Loaded, log: Log) -> int:
    """Send the records a backend has not acknowledged yet; how many were sent."""
    del loaded, log
    return 0
