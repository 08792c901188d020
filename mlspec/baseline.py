"""The baseline that relative gates (``max_drop``) compare the champion against.

There are two kinds. A **registry version**: the version a registry alias names (``production``), scored on
this run's evaluation rows by the gate itself (:mod:`mlspec.runtime.rescore`), which gives its metrics and its
per-row predictions, so relative gates and the significance test work in every run, pushes to the default
branch included, and depend on no committed file. A **lock**: the evaluate entry of another branch's
committed ``mlspec.lock`` (or a file), as recorded there.

The spec chooses with ``evaluation.baseline``::

    evaluation:
      baseline:
        from: registry      # or lock; default: registry when `alias` is given, or the spec has a registry
                            # deploy target and a registry that outlives a CI job (store, MLflow); else lock
        alias: production   # default: the alias monitoring watches (mlspec.monitor.deployed.monitored_alias):
                            # production when a registry target moves it, else the last registry target's

The registry is the spec's (:func:`mlspec.registry.open_registry`, any backend). When it has no such alias for
the project (nothing deployed yet, no registry at all) the result is :class:`NoBaseline` saying so; a registry
that cannot be read (a server down, a damaged history) is an error naming it, and a version whose files fail
verification stops the gate (:mod:`mlspec.runtime.rescore`). The identity of a registry baseline (alias, model,
version number, bundle digest, and the versions of the libraries that score it) is an input of the gate, so
moving the alias reruns the gate and an unchanged alias does not; where the registry is (a path, a URL) is not
part of it, so a laptop and a CI runner agree. :meth:`RegistryVersion.source` says where it came from, as the
verdict, the report and the pull request comment show it: ``registry production = forest v3``.

Where a lock baseline comes from, first match wins (with ``from: registry`` only step 1 applies):

1. An explicit request: ``mlspec gate --baseline X``, or the environment variable ``MLSPEC_BASELINE=X`` (how
   ``mlspec run`` in CI gets one), which reach the gate as the run's options
   (:class:`mlspec.runtime.context.RunOptions`). If X is an existing path it is read as an ``mlspec.lock``
   (its ``evaluate`` entry), an evaluate stage's ``metrics.json``, or a directory holding one of them.
   Otherwise X is a git revision and its committed ``<spec dir>/mlspec.lock`` is read
   (:func:`mlspec.runtime.lockfile.at_revision`). An X that is neither is an error: a typo must not quietly
   skip the relative gates. ``registry:ALIAS`` asks for the registry version ``ALIAS`` names instead, whatever
   the spec chooses; an explicit request always wins over the spec.
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
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mlspec import gitio, jsonio, platforms
from mlspec.errors import MlspecError
from mlspec.gates import as_number, finite
from mlspec.load import Loaded
from mlspec.monitor.deployed import monitored_alias
from mlspec.registry.base import Registry, Version
from mlspec.runtime import lockfile
from mlspec.runtime.hashing import file_digest, fingerprint
from mlspec.runtime.stages import evaluate
from mlspec.runtime.stages.kind import version_of
from mlspec.runtime.workspace import Workspace, display_path
from mlspec.spec import NAME_PATTERN, Spec

if TYPE_CHECKING:
    from mlspec.runtime.context import StageContext

METRICS_FILE = evaluate.METRICS_FILE
PREDICTIONS_FILE = evaluate.PREDICTIONS_FILE
OUTPUTS_DIR = ("baseline", "evaluate")
"""Under the workspace: where CI restores the base branch's evaluate outputs for the significance test."""
REGISTRY_REQUEST = "registry:"
"""``--baseline registry:ALIAS``: the registry version that alias names."""
SCORED_PREDICTIONS = "baseline/predictions.parquet"
"""Under the gate's outputs: a registry baseline's predictions on this run's evaluation rows."""
SCORING_LIBRARIES = evaluate.KIND.libraries
"""What shapes a registry version's scores besides the version itself: the evaluate stage's libraries."""


@dataclass(frozen=True)
class Baseline:
    source: str
    """Where the numbers come from: ``origin/main:mlspec.lock``, a path, ``registry production = forest v3``."""
    model: str | None
    """The baseline's champion."""
    metrics: Mapping[str, float | None]
    predictions: Path | None = None
    """The baseline's ``predictions.parquet``, when it is available (see the module docstring)."""
    no_predictions: str = "not looked for"
    """Why :attr:`predictions` is None."""
    registry: Mapping[str, Any] | None = None
    """Of a registry baseline: alias, model, version and bundle digest (:meth:`RegistryVersion.describe`)."""

    @property
    def identity(self) -> str:
        """Changes exactly when the gate's result can change because of the baseline."""
        found = file_digest(self.predictions) if self.predictions is not None else None
        return fingerprint({**self.describe(), "predictions": found})

    def describe(self) -> dict[str, Any]:
        described = {"source": self.source, "model": self.model,
                     "metrics": {k: finite(v) for k, v in self.metrics.items()},
                     "predictions": self.predictions is not None}
        return described if self.registry is None else {**described, "registry": dict(self.registry)}


@dataclass(frozen=True)
class NoBaseline:
    reason: str
    """Why, as the verdict and the report say it; the same on every machine (it is part of the gate's outputs)."""
    detail: str = field(default="", compare=False)
    """What is true only here (the registry's location), for the log."""

    @property
    def identity(self) -> str:
        return fingerprint({"no baseline": self.reason})


@dataclass(frozen=True)
class RegistryVersion:
    """The version a registry alias names, as found (cheaply: no file is read); :func:`score` makes it a
    :class:`Baseline` in the gate."""

    alias: str
    version: Version
    registry: Registry = field(compare=False, repr=False)

    @property
    def source(self) -> str:
        return f"registry {self.alias} = {self.version.trained_model} v{self.version.number}"

    def describe(self) -> dict[str, Any]:
        return {"alias": self.alias, "model": self.version.model, "version": self.version.number,
                "digest": self.version.digest}

    @property
    def identity(self) -> str:
        """The version and what scores it; not where the registry is (a laptop and a runner agree)."""
        return fingerprint({"registry": self.describe(),
                            "scored with": {dist: version_of(dist) for dist in SCORING_LIBRARIES}})


Found = Baseline | NoBaseline | RegistryVersion
"""What :func:`resolve` finds: a registry version is scored by the gate (:func:`score`) before it is used."""


def origin(spec: Spec) -> Literal["registry", "lock"]:
    """Where ``spec``'s baseline comes from when the run asks for none (``evaluation.baseline.from``)."""
    chosen = spec.evaluation.baseline
    if chosen.from_ is not None:
        return chosen.from_
    if chosen.alias is not None:
        return "registry"
    # A registry target alone is not enough: a file registry without a store lives in the CI job's throwaway
    # checkout, where every run would find "nothing deployed", while the base branch's lock is in git.
    shared = spec.store is not None or spec.registry.backend != "file"
    return "registry" if shared and monitored_alias(spec) is not None else "lock"


def from_the_registry(spec: Spec, request: str | None) -> bool:
    """Whether the baseline a run with ``request`` (``--baseline``) gets is a registry version; no registry is
    read to tell."""
    return request.startswith(REGISTRY_REQUEST) if request else origin(spec) == "registry"


def registry_alias(spec: Spec) -> str | None:
    """The alias whose version is ``spec``'s registry baseline; None when it names none and deploys to no
    registry (which validation reports for ``from: registry``)."""
    return spec.evaluation.baseline.alias or monitored_alias(spec)


def resolve(
    loaded: Loaded, request: str | None = None, environ: Mapping[str, str] = os.environ, predictions: bool = False
) -> Found:
    """The baseline for ``loaded``'s spec; ``predictions`` also looks for a lock baseline's predictions."""
    if request and request.startswith(REGISTRY_REQUEST):
        named = request.removeprefix(REGISTRY_REQUEST)
        if not re.match(NAME_PATTERN, named):
            raise MlspecError(f"baseline {request!r}: name a registry alias after {REGISTRY_REQUEST!r}, e.g. "
                              f"{REGISTRY_REQUEST}production")
        return from_registry(loaded, named, environ)
    looker = _Looker(loaded, Workspace.for_spec(loaded.path, environ), predictions)
    if request:
        return looker.explicit(request)
    if origin(loaded.spec) == "registry":
        alias = registry_alias(loaded.spec)
        if alias is None:  # validation refuses this spec; a spec built in code may still say it
            return NoBaseline("evaluation.baseline is from the registry, but it names no alias and the spec "
                              "deploys to no registry")
        return from_registry(loaded, alias, environ)
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
        if gitio.commit_of(self.loaded.path.parent, "HEAD") is None:  # a new repository: nothing to fetch
            return NoBaseline(f"the repository has no commits yet; once {branch} has a committed "
                              f"{self.lock_name}, the gate compares with it")
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
        # The champion's metrics; "models" holds every model's, which `mlspec diff` reads.
        metrics = {k: as_number(v) for k, v in entry.metrics.items() if k not in ("champion", "models")}
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



# --- the registry -------------------------------------------------------------------------------------------


def from_registry(loaded: Loaded, alias: str, environ: Mapping[str, str] = os.environ) -> RegistryVersion | NoBaseline:
    """The version ``alias`` names for the spec's project; :class:`NoBaseline` when it names none yet, an
    error naming the registry when the registry cannot be read."""
    from mlspec.registry import open_registry

    project = loaded.spec.project
    registry = open_registry(loaded, environ)
    try:
        aliases = registry.aliases(project)
        if alias not in aliases:
            return NoBaseline(f"the registry has no version of {project!r} with the alias {alias!r} (nothing "
                              "deployed there yet)", f"the registry is {registry.location}")
        version = registry.get(project, aliases[alias])
    except (MlspecError, OSError) as exc:
        raise MlspecError(f"the baseline: cannot read alias {alias!r} of {project!r} in the registry "
                          f"{registry.location}: {exc}") from None
    return RegistryVersion(alias, version, registry)


def score(ctx: StageContext, found: RegistryVersion) -> Baseline | NoBaseline:
    """``found`` scored on the gate's evaluation rows (:mod:`mlspec.runtime.rescore`), its predictions in the
    gate's outputs; :class:`NoBaseline` when it cannot score them, an error when its files fail verification."""
    from mlspec.runtime import rescore

    predictions = ctx.out_dir / SCORED_PREDICTIONS
    try:
        metrics = rescore.score(ctx, found.registry, found.version, found.source, predictions)
    except rescore.CannotScore as exc:
        return NoBaseline(f"{found.source} cannot be scored on this run's evaluation rows: {exc}")
    return Baseline(found.source, found.version.trained_model, metrics, predictions, registry=found.describe())
