"""The baseline that relative gates (``max_drop``) compare the champion against.

Where it comes from, first match wins:

1. An explicit request: ``mlspec gate --baseline X``, or the environment variable ``MLSPEC_BASELINE=X`` (how
   ``mlspec run`` in CI gets one), which reach the gate as the run's options
   (:class:`mlspec.runtime.context.RunOptions`). If X is an existing path it is read as an ``mlspec.lock``
   (its ``evaluate`` entry), an evaluate stage's ``metrics.json``, or a directory holding one of them.
   Otherwise X is a git revision and its committed ``<spec dir>/mlspec.lock`` is read
   (:func:`mlspec.runtime.lockfile.at_revision`). An X that is neither is an error: a typo must not quietly
   skip the relative gates.
2. The target branch of the pull/merge request being built, as the CI platform names it
   (:func:`mlspec.platforms.merge_target`: ``GITHUB_BASE_REF``, ``CI_MERGE_REQUEST_TARGET_BRANCH_NAME``).
3. The spec's ``ci.default_branch``, unless HEAD is on it (on the default branch there is nothing to compare
   with; pass a revision such as ``HEAD~1`` to compare with the previous commit). CI checks out a detached
   HEAD, so there the branch comes from the platform (:func:`mlspec.platforms.pushed_branch`:
   ``CI_COMMIT_BRANCH``, ``GITHUB_REF_NAME``).

A branch is looked up as ``origin/<branch>`` first (what CI clones have), then ``<branch>``. When there is no
baseline for an ordinary reason (not a git repository, the branch is not fetched, no mlspec.lock there, no
evaluate entry in it) the result is :class:`NoBaseline` with that reason, which the verdict shows.

The significance test also needs the baseline model's *predictions* on the same rows. A committed lock
records the digest of the ``predictions.parquet`` its evaluate stage wrote; mlspec uses a file with exactly
that digest from ``<workspace>/baseline/evaluate/`` (where CI restores the base branch's evaluate outputs,
from its cache or artifact) or, for a lock given by path, from that checkout's own workspace. A
``metrics.json`` given by path brings the ``predictions.parquet`` beside it. Otherwise the gate says why and
applies the plain threshold.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlspec import gitio, jsonio, platforms
from mlspec.errors import MlspecError
from mlspec.gates import as_number, finite
from mlspec.load import Loaded
from mlspec.runtime import lockfile
from mlspec.runtime.hashing import file_digest, fingerprint
from mlspec.runtime.stages import evaluate
from mlspec.runtime.workspace import Workspace, display_path

METRICS_FILE = evaluate.METRICS_FILE
PREDICTIONS_FILE = evaluate.PREDICTIONS_FILE
OUTPUTS_DIR = ("baseline", "evaluate")
"""Under the workspace: where CI restores the base branch's evaluate outputs for the significance test."""


@dataclass(frozen=True)
class Baseline:
    source: str
    """Where the numbers come from: ``origin/main:mlspec.lock``, a path."""
    model: str | None
    """The baseline's champion."""
    metrics: Mapping[str, float | None]
    predictions: Path | None = None
    """The baseline's ``predictions.parquet``, when it is available (see the module docstring)."""
    no_predictions: str = "not looked for"
    """Why :attr:`predictions` is None."""

    @property
    def identity(self) -> str:
        """Changes exactly when the gate's result can change because of the baseline."""
        found = file_digest(self.predictions) if self.predictions is not None else None
        return fingerprint({**self.describe(), "predictions": found})

    def describe(self) -> dict[str, Any]:
        return {"source": self.source, "model": self.model,
                "metrics": {k: finite(v) for k, v in self.metrics.items()}, "predictions": self.predictions is not None}


@dataclass(frozen=True)
class NoBaseline:
    reason: str

    @property
    def identity(self) -> str:
        return fingerprint({"no baseline": self.reason})


def resolve(
    loaded: Loaded, request: str | None = None, environ: Mapping[str, str] = os.environ, predictions: bool = False
) -> Baseline | NoBaseline:
    """The baseline for ``loaded``'s spec; ``predictions`` also looks for the baseline's predictions."""
    looker = _Looker(loaded, Workspace.for_spec(loaded.path, environ), predictions)
    if request:
        return looker.explicit(request)
    target = platforms.merge_target(environ)
    if target:
        return looker.branch(target)
    default = loaded.spec.ci.default_branch
    try:
        on = gitio.current_branch(loaded.root) or platforms.pushed_branch(environ)
    except gitio.GitError as exc:
        return NoBaseline(str(exc))
    if on == default:
        return NoBaseline(f"HEAD is on the default branch {default!r}, so there is no base branch to compare with; "
                          "pass --baseline REV to compare with another revision")
    return looker.branch(default)


@dataclass(frozen=True)
class _Looker:
    loaded: Loaded
    workspace: Workspace
    predictions: bool

    @property
    def lock_name(self) -> str:
        return lockfile.path_for(self.loaded.path).name

    def explicit(self, request: str) -> Baseline | NoBaseline:
        path = Path(request)
        if path.exists():
            return self.from_path(path)
        try:
            committed = lockfile.at_revision(self.loaded.path, request)
        except gitio.GitError as exc:
            raise MlspecError(f"baseline {request!r} is not a file, and not a git revision ({exc})") from None
        except MlspecError as exc:
            return NoBaseline(str(exc))
        if committed is None:
            raise MlspecError(f"baseline {request!r} is neither a file nor a git revision; name an mlspec.lock, a "
                              "metrics.json, or a branch, tag or commit")
        return self.from_git(committed)

    def branch(self, branch: str) -> Baseline | NoBaseline:
        for ref in (f"origin/{branch}", branch):  # the first that names a commit
            try:
                committed = lockfile.at_revision(self.loaded.path, ref)
            except (gitio.GitError, MlspecError) as exc:  # no baseline, for the reason git or the lock gives
                return NoBaseline(str(exc))
            if committed is not None:
                return self.from_git(committed)
        return NoBaseline(f"neither origin/{branch} nor {branch} is in this clone; fetch the base branch "
                          f"(`git fetch origin {branch}`, or fetch-depth: 0 in actions/checkout)")

    def from_git(self, committed: lockfile.Committed) -> Baseline | NoBaseline:
        if committed.lock is None:
            return NoBaseline(f"{committed.rev} has no {committed.lock_path}; run the pipeline there and commit "
                              f"{self.lock_name}")
        return self.from_lock(committed.lock, committed.source, None)

    def from_path(self, path: Path) -> Baseline | NoBaseline:
        if path.is_dir():
            for in_dir in (path / self.lock_name, path / METRICS_FILE):
                if in_dir.is_file():
                    return self.from_path(in_dir)
            raise MlspecError(f"baseline {path}: the directory has no {self.lock_name} or {METRICS_FILE}")
        try:
            text = jsonio.read_bytes(path).decode("utf-8")
            data = jsonio.loads(text, str(path), max_int_digits=jsonio.INT64_DIGITS)
        except jsonio.JsonError as exc:
            raise MlspecError(f"baseline {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise MlspecError(f"baseline {path}: not a JSON file ({exc})") from None
        if isinstance(data, dict) and "stages" in data:
            try:
                lock = lockfile.loads(text, str(path))
            except MlspecError as exc:
                return NoBaseline(str(exc))
            return self.from_lock(lock, str(path), path.parent)
        if isinstance(data, dict) and isinstance(data.get("champion_metrics"), dict):
            return self.from_evaluation(evaluate.parse_metrics(data, path))
        raise MlspecError(f"baseline {path}: neither an {self.lock_name} nor an evaluate stage's {METRICS_FILE}")

    def from_lock(self, lock: lockfile.Lock, source: str, checkout: Path | None) -> Baseline | NoBaseline:
        entry = lock.stages.get("evaluate")
        if entry is None:
            return NoBaseline(f"{source} records no evaluate stage (its last run did not get that far)")
        champion = entry.metrics.get("champion")
        metrics = {k: as_number(v) for k, v in entry.metrics.items() if k != "champion"}
        model = champion if isinstance(champion, str) else None
        if not self.predictions:
            return Baseline(source, model, metrics)
        digest = entry.outputs.get(PREDICTIONS_FILE)
        if digest is None:
            return Baseline(source, model, metrics, None, f"{source} records no {PREDICTIONS_FILE}")
        places = [self.workspace.root.joinpath(*OUTPUTS_DIR)]
        if checkout is not None:  # a lock beside its own workspace: another checkout of the base branch
            places.append(Workspace.for_spec(checkout / self.lock_name, {}).stage_dir("evaluate"))
        for place in places:
            candidate = place / PREDICTIONS_FILE
            if candidate.is_file() and file_digest(candidate) == digest:
                return Baseline(source, model, metrics, candidate)
        where = " or ".join(display_path(p) for p in places)
        return Baseline(source, model, metrics, None,
                        f"the baseline's {PREDICTIONS_FILE} ({digest[:15]}...) is not in {where}; restore the base "
                        "branch's evaluate outputs there")

    def from_evaluation(self, evaluation: evaluate.Evaluation) -> Baseline:
        path, model = evaluation.path, evaluation.champion
        metrics = {k: as_number(v) for k, v in evaluation.champion_metrics.items()}
        if not self.predictions:
            return Baseline(str(path), model, metrics)
        beside = path.parent / PREDICTIONS_FILE
        if beside.is_file():
            return Baseline(str(path), model, metrics, beside)
        return Baseline(str(path), model, metrics, None, f"there is no {PREDICTIONS_FILE} beside {path}")

