"""Building the :class:`~mlspec.runs.record.RunRecord` of one `mlspec run` from what the run left behind.

The sources of truth are the ones every other command reads, so the history never says something the
workspace does not: the runner's outcomes (status and wall time of each stage), and the outputs in the
workspace of the stages this run brought up to date. ``current`` names those stages (ran, up to date, fetched
from the store, or failed with outputs of their own, as a failed gate keeps its verdict); the outputs of a
stage that failed with an error are an older run's and are not read.

* params: each train stage's bundle ``metadata.json`` (``estimator``, ``params``; a searched model's
  ``search`` summary), i.e. what was trained, overrides included;
* metrics and champion: the evaluate stage's ``metrics.json``;
* data: each data stage's ``profile.json`` digest;
* verdict: the gate stage's ``verdict.json`` ("pass" is recorded as "passed", "warn" as "warned", "fail" as
  "failed");
* who, commit, branch, dirty: the CI platform's facts in CI (:func:`mlspec.registry.provenance.actor`),
  else git (:func:`mlspec.gitio.worktree`, :func:`mlspec.gitio.user`).

Only JSON files are read: no data or ML library is imported, so a no-op run stays light.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlspec import __version__, gitio, jsonio, platforms
from mlspec.load import Loaded
from mlspec.registry.provenance import actor, local_user
from mlspec.runs.record import RunRecord, StageRun
from mlspec.runtime.hashing import fingerprint
from mlspec.runtime.workspace import Workspace

LOCAL_PART = "local"
VERDICTS = {"pass": "passed", "warn": "warned", "fail": "failed"}
SEARCH_KEYS = ("method", "trials", "best_trial", "metric", "cv_score")


def stamp(seconds: float) -> str:
    """ISO 8601 in UTC, to the second: how records spell ``started`` and ``finished``."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")


def local_run_id(started: float, token: str | None = None) -> str:
    """``<UTC yyyymmddTHHMMSSZ>-<6 hex>``: sorts by time, and two runs started in one second still differ."""
    when = dt.datetime.fromtimestamp(started, dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{when}-{token or secrets.token_hex(3)}"


@dataclass(frozen=True)
class Identity:
    run_id: str
    part: str
    ci: dict[str, str]
    """platform, pipeline, job, url: empty for a local run."""
    branch: str | None = None
    """The branch the CI platform says it builds (git cannot tell: CI checks out a detached HEAD)."""


def identity(started: float, environ: Mapping[str, str]) -> Identity:
    """Who this invocation is in the history: a CI job files its part under its pipeline's run."""
    env = {k: v for k, v in environ.items() if v}  # a variable set to "" is as good as unset
    platform = platforms.detect(env)
    pipeline = platform.pipeline(env) if platform is not None else None
    if platform is None or pipeline is None:
        return Identity(local_run_id(started), LOCAL_PART, {})
    ci = {"platform": platform.name, "pipeline": pipeline.id, "job": pipeline.job}
    url = platforms.run_url(env)
    if url:
        ci["url"] = url
    return Identity(f"{platform.name}-{pipeline.id}", pipeline.job, ci, pipeline.branch)


def build(
    loaded: Loaded, workspace: Workspace, stages: Sequence[StageRun], current: Collection[str], *,
    names: Sequence[str] = (), force: bool = False, started: float, finished: float,
    environ: Mapping[str, str] = os.environ,
) -> RunRecord:
    """The record of a run whose stages ended as ``stages`` (see the module docstring for ``current``)."""
    who = identity(started, environ)
    user, commit, branch, dirty = _ci_facts(loaded, environ, who) if who.ci else _local_facts(loaded.root, environ)
    evaluation = _read(workspace, "evaluate", "metrics.json") if "evaluate" in current else None
    return RunRecord(
        run_id=who.run_id, part=who.part, project=loaded.spec.project, started=stamp(started),
        finished=stamp(finished), seconds=round(finished - started, 3), who=user, commit=commit, branch=branch,
        dirty=dirty, ci=who.ci, command=tuple(names), force=force,
        overrides=tuple(loaded.overrides), params=_params(workspace, current), metrics=_metrics(evaluation),
        champion=_champion(evaluation), data=_data(workspace, current), stages=tuple(stages),
        verdict=_verdict(workspace, current), spec_fingerprint=fingerprint(loaded.spec.model_dump(mode="json")),
        mlspec_version=__version__,
    )


def _ci_facts(loaded: Loaded, environ: Mapping[str, str],
              who: Identity) -> tuple[str, str | None, str | None, bool | None]:
    """The CI job's user and the commit pushed (not the merge commit a platform builds a pull request on);
    whether the checkout is dirty is not asked (the job made it)."""
    by = actor(loaded.root, environ)
    return by.user, platforms.commit({k: v for k, v in environ.items() if v}) or by.commit, who.branch, None


def _local_facts(root: Path, environ: Mapping[str, str]) -> tuple[str, str | None, str | None, bool | None]:
    # Two git calls (status, config), not one per fact: recording must stay cheap (benchmarks/bench_runs.py).
    tree = gitio.worktree(root)
    commit, branch, dirty = tree if tree is not None else (None, None, None)
    return local_user(root, environ), commit, branch, dirty if commit else None


def _read(workspace: Workspace, stage_id: str, name: str) -> dict[str, Any] | None:
    """A JSON object among a stage's outputs; None when it is missing or unreadable (the history records
    what it can: a broken output is the stage's problem, reported by the stage)."""
    path: Path = workspace.stage_dir(stage_id) / name
    try:
        return jsonio.read_object(path)
    except (OSError, jsonio.JsonError, ValueError):
        return None


def _params(workspace: Workspace, current: Collection[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for stage_id in sorted(current):
        kind, _, model = stage_id.partition(":")
        meta = _read(workspace, stage_id, "metadata.json") if kind == "train" else None
        if meta is None:
            continue
        entry: dict[str, Any] = {"estimator": meta.get("estimator"), "params": dict(meta.get("params") or {})}
        search = meta.get("search")
        if isinstance(search, dict):
            entry["search"] = {k: search.get(k) for k in SEARCH_KEYS}
        found[model] = entry
    return found


def _metrics(evaluation: Mapping[str, Any] | None) -> dict[str, dict[str, float]]:
    models = (evaluation or {}).get("models") or {}
    return {
        model: {m: float(v) for m, v in values.items() if isinstance(v, int | float) and not isinstance(v, bool)}
        for model, values in models.items() if isinstance(values, dict)
    }


def _champion(evaluation: Mapping[str, Any] | None) -> str | None:
    champion = (evaluation or {}).get("champion")
    return champion if isinstance(champion, str) else None


def _data(workspace: Workspace, current: Collection[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for stage_id in sorted(current):
        kind, _, source = stage_id.partition(":")
        profile = _read(workspace, stage_id, "profile.json") if kind == "data" else None
        if profile is not None and isinstance(profile.get("digest"), str):
            found[source] = profile["digest"]
    return found


def _verdict(workspace: Workspace, current: Collection[str]) -> str | None:
    verdict = _read(workspace, "gate", "verdict.json") if "gate" in current else None
    value = (verdict or {}).get("verdict")
    return VERDICTS.get(value, value) if isinstance(value, str) else None
