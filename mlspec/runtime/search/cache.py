"""Trial results by fingerprint, so an interrupted or extended search re-runs only the trials it lacks.

A trial's fingerprint covers what decides its score: the estimator, the fixed params and the trial's own,
the preprocessing and derived features, fit arguments and early stopping, the training data's digest, the
folds (``cv``, ``training.seed``), the metric and the positive class, and the versions of the libraries that
fit it. Its result lives in ``<workspace>/trials/<model>/<fingerprint hex>.json`` (written atomically) and,
with a store, at ``trials/<model>/<fingerprint hex>.json`` there, created once (:meth:`Store.create`): two
shards that ran the same trial agree, and a CI job on a fresh machine finds what another job ran. A failed
trial is never cached: it runs again next time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlspec import jsonio
from mlspec.fsutil import atomic_write_text
from mlspec.runtime.hashing import PREFIX, fingerprint

if TYPE_CHECKING:
    from mlspec.store import Store

FORMAT = 1
TRIALS_DIR = "trials"


def trial_fingerprint(base: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    """The fingerprint of the trial of ``params`` in the search described by ``base``."""
    return fingerprint({"format": FORMAT, "search": dict(base), "params": dict(params)})


@dataclass(frozen=True)
class TrialCache:
    """The cached results of one model's trials: in the workspace, and in the store when there is one."""

    directory: Path
    """``<workspace>/trials/<model>``."""
    model: str
    store: Store | None = None

    @classmethod
    def of(cls, workspace_root: Path, model: str, store: Store | None = None) -> TrialCache:
        return cls(workspace_root / TRIALS_DIR / model, model, store)

    def _name(self, fp: str) -> str:
        return fp.removeprefix(PREFIX) + ".json"

    def key(self, fp: str) -> str:
        """The store key of the trial ``fp``."""
        return f"{TRIALS_DIR}/{self.model}/{self._name(fp)}"

    def get(self, fp: str) -> dict[str, Any] | None:
        """The result recorded for ``fp`` (the workspace's, else the store's, then kept locally), or None."""
        path = self.directory / self._name(fp)
        found = _valid(path.read_bytes() if path.is_file() else None, fp)
        if found is None and self.store is not None:
            found = _valid(self.store.read(self.key(fp)), fp)
            if found is not None:
                self._write_local(fp, found)
        return found

    def put(self, fp: str, result: Mapping[str, Any]) -> None:
        """Record a successful trial's ``result`` locally and in the store (where the first writer wins)."""
        record = {"format": FORMAT, "fingerprint": fp, **result}
        self._write_local(fp, record)
        if self.store is not None:
            self.store.ensure_marker()
            self.store.create(self.key(fp), _dumps(record).encode())

    def _write_local(self, fp: str, record: Mapping[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.directory / self._name(fp), _dumps(record))


def _dumps(record: Mapping[str, Any]) -> str:
    return json.dumps(record, indent=2, sort_keys=True) + "\n"


def _valid(data: bytes | None, fp: str) -> dict[str, Any] | None:
    """A cached record that is well-formed and is about ``fp``; anything else is as good as absent."""
    if data is None:
        return None
    try:
        record = jsonio.loads(data, "a cached trial")
    except jsonio.JsonError:
        return None
    if not isinstance(record, dict) or record.get("fingerprint") != fp or record.get("format") != FORMAT:
        return None
    if not isinstance(record.get("scores"), list) or not isinstance(record.get("mean"), int | float):
        return None
    return record
