"""What a stage kind declares next to its ``run()``: one :class:`Kind` per module of ``runtime/stages/``.

The runner, the fingerprint (:mod:`mlspec.runtime.staleness`), ``mlspec plan`` and the CI compilers
(:mod:`mlspec.targets.pipeline`) read these declarations instead of keeping tables of their own, so adding a
kind is one module plus one line in the registry (:mod:`mlspec.runtime.stages`) and its spec section.

The spec sections a stage declares (:class:`Read`) are at once what its fingerprint covers and all that it
may read: the stage sees the spec through a view (:mod:`mlspec.runtime.specview`) that refuses any other
section, so a stage that starts reading a new key fails its tests instead of caching wrongly.

This module and the kind modules are imported by ``mlspec validate`` and ``mlspec compile`` (to build the
stage graph): at module level they import only the spec layer and leaves; everything a stage needs to run
(pandas, scikit-learn, the features it calls) is imported inside ``run()`` or a hook.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from mlspec import __version__, sources
from mlspec.graph import Stage, stage_id
from mlspec.spec import Source, Spec, StageKind

if TYPE_CHECKING:
    from mlspec.load import Loaded
    from mlspec.runtime.context import RunOptions


@dataclass(frozen=True)
class Read:
    """One spec section a stage reads, by dotted path (``training.models.forest``)."""

    path: str
    exclude: frozenset[str] = frozenset()
    """Fields of the section the stage does not read: left out of its fingerprint, refused by its view."""
    keys: bool = False
    """The stage reads only the mapping's keys, in order (evaluate: the model names of ``training.models``)."""
    value: Callable[[Any], Any] | None = None
    """What of the section the fingerprint records when not all of it (a data source: its path and format)."""
    fingerprinted: bool = True
    """False: readable, but not recorded in the fingerprint. Each such read says why beside it: what the stage
    makes of the section is an external input already (``ci.default_branch`` chooses the gate's baseline,
    whose identity is the input), or the section decides only whether the stage may run. A read that shapes
    the outputs and is not fingerprinted is a caching bug made visible, not a licence."""
    derived: Callable[[Spec], Any] | None = None
    """A conclusion drawn from the spec, recorded under the label ``path`` (``deploy.<monitored alias>``); it
    grants no read, since the label names no section."""

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))


@dataclass(frozen=True)
class Ci:
    """How the CI compilers turn a kind's stages into jobs (:mod:`mlspec.targets.pipeline`)."""

    command: str = ""
    """The job's command with ``{spec}`` for the spec argument; empty: the kind has no training-pipeline job
    (its stages run inside the jobs that need them, or on a schedule)."""
    matrix_var: str | None = None
    """One job fanned out by this variable over the kind's stages (a suite or a model per runner)."""
    per_stage_var: str | None = None
    """One job per stage instead, each given its stage's name in this variable (deploy: its target), needing the
    jobs of the same kind its stage needs (a deploy target's `after`, a prepare step's upstream steps)."""
    deploys: bool = False
    """Whether each of its jobs deploys its stage's target (the job's environment and ref conditions)."""
    stage_cache: bool = False
    """Whether the job restores and saves its stage outputs (jobs after evaluate take them from artifacts)."""
    after_report: bool = False
    """Whether its jobs come after the report (deployment): the report reads every job before it."""
    full_history: bool = False
    """Whether its jobs check out the whole history, not one commit (the gate reads the base branch's lock)."""
    uploads_lock: bool = False
    """Whether its jobs pass mlspec.lock on with their outputs (the entries later jobs and the report read)."""
    interruptible: bool = True
    """Whether a newer pipeline may cancel its jobs (not a deployment: half done is worse than superseded)."""


@dataclass(frozen=True)
class Kind:
    """A stage kind: which stages a spec yields, and what each reads, needs and is shaped by."""

    name: StageKind
    stages: Callable[[Spec], list[Stage]]
    """The kind's stages of ``spec``, with what each needs (see :func:`mlspec.runtime.stages.build`)."""
    reads: Callable[[Spec, Stage], Sequence[Read]] = lambda spec, stage: _cannot_run(stage)
    """The spec sections the stage reads."""
    files: Callable[[Spec, Stage], list[str]] = lambda spec, stage: _cannot_run(stage)
    """The files the stage reads, relative to the spec's directory."""
    libraries: tuple[str, ...] = ()
    """Distributions whose behaviour shapes the stage's outputs."""
    outputs_version: int = 0
    """Raised when the kind's outputs change shape within one mlspec version (a data stage gained its
    snapshot): recorded among the versions, so outputs an older mlspec wrote are rerun, never adopted."""
    more_versions: Callable[[Spec, Stage], dict[str, str]] | None = None
    """Versions that shape the outputs only for some specs (an estimator's package, the significance test's)."""
    spec_key: Callable[[Stage], tuple[str, ...]] = lambda stage: (stage.kind,)
    """The spec key that defines the stage: where its errors point when they name no key of their own."""
    external: Callable[[Loaded, Stage, RunOptions], dict[str, str]] | None = None
    """Inputs that are neither spec sections nor project files (the gate's baseline), by name → identity; the
    run's options are those the stage gets in ``ctx.options``."""
    runnable: bool = True
    """Whether ``mlspec run`` runs it (deployment has a command of its own)."""
    run_with: str = ""
    """For a kind ``mlspec run`` does not run: how to run it instead, for messages."""
    scheduled: bool = False
    """Whether it runs on its schedule rather than as part of the training pipeline (monitoring)."""
    ci: Ci = Ci()
    restore: Callable[[Loaded, Stage, Path, Mapping[str, str], Callable[[Path], str | None]], list[str]] | None = None
    """For a kind whose outputs are also files of the project (a prepare step's): put its recorded outputs
    (``outputs``, kept in the stage directory) back where the project has them, returning the paths it
    rewrote. The runner calls it whenever the stage is up to date, before the stages that need it read them."""


def _cannot_run(stage: Stage) -> Any:
    raise ValueError(f"stage kind {stage.kind!r} cannot run yet")


# --- helpers for the declarations ----------------------------------------------------------------------------


def checked_data(spec: Spec, source: str) -> tuple[str, ...]:
    """What a stage that learns from data source ``source`` waits for: its data stage and every suite on it."""
    suites = [stage_id("validate", name) for name, suite in spec.validation.items() if suite.data == source]
    return (stage_id("data", source), *suites)


def source_read(name: str) -> Read:
    """The read of data source ``name``: its fingerprint is the path and format, not the description."""
    return Read(f"data.sources.{name}", value=_source)


def _source(source: Source) -> dict[str, Any]:
    # What of the source shapes the table, as its adapter says (a file: path and format; the description is
    # documentation, and editing it must not rerun anything).
    return sources.adapter(source).section(source)


def source_files(spec: Spec, name: str) -> list[str]:
    """The project files data source ``name`` reads, relative to the spec's directory. Only its data stage
    lists them: every later stage reads that stage's snapshot, whose digest their fingerprint covers."""
    source = spec.data.sources[name]
    return sources.adapter(source).files(source)


def version_of(distribution: str) -> str:
    return installed(distribution) or "not installed"


@cache
def installed(distribution: str) -> str | None:
    """The installed version, read from the distribution's metadata (importing scikit-learn to ask it would
    cost a second). Only the header's ``Version:`` line is read: ``metadata.version()`` runs the email parser
    over the whole file, which for eight distributions is 5% of a no-op run. importlib.metadata is imported
    here, not at the top: it costs `mlspec validate`, which builds the graph, a tenth of its time."""
    from importlib import metadata

    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return None
    header = (dist.read_text("METADATA") or "").split("\n\n", 1)[0]
    found = re.search(r"^Version:[ \t]*(\S+)", header, re.MULTILINE)
    return found.group(1) if found else dist.version


def estimator_versions(spec: Spec, names: Sequence[str]) -> dict[str, str]:
    """Versions of the packages the estimators of models ``names`` come from, besides scikit-learn.

    An estimator from outside scikit-learn (xgboost, lightgbm, ...) shapes the model as much; a module that is
    not an installed distribution of the same name (a local package) is left out.
    """
    found: dict[str, str] = {}
    models = spec.training.models
    for top in sorted({models[n].estimator.split(".", 1)[0] for n in names} - {"sklearn"}):
        version = package_version(top)
        if version is not None:
            found[top] = version
    return found


ALTERNATE_DISTRIBUTIONS = {"xgboost": ("xgboost-cpu",)}
"""Top-level packages that ship under more than one distribution name (xgboost-cpu leaves out the GPU libraries)."""


def package_version(top: str) -> str | None:
    """The installed version of the distribution that provides top-level package ``top``."""
    for distribution in (top, *ALTERNATE_DISTRIBUTIONS.get(top, ())):
        version = installed(distribution)
        if version is not None:
            return version
    return None


# --- what the fingerprint is computed from --------------------------------------------------------------------


def section_values(spec: Spec, reads: Sequence[Read]) -> dict[str, Any]:
    """Dotted spec path → the JSON value of that section, for every fingerprinted read."""
    out: dict[str, Any] = {}
    for read in reads:
        if read.derived is not None:
            out[read.path] = read.derived(spec)
        elif read.fingerprinted:
            out[read.path] = _value(lookup(spec, read.parts), read)
    return out


def lookup(spec: Any, parts: Sequence[str]) -> Any:
    obj = spec
    for part in parts:
        obj = obj[part] if isinstance(obj, Mapping) else getattr(obj, part)
    return obj


def _value(obj: Any, read: Read) -> Any:
    if read.keys:
        return list(obj)
    if read.value is not None:
        return read.value(obj)
    return _json(obj, read.exclude)


def _json(obj: Any, exclude: frozenset[str] = frozenset()) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json", exclude=set(exclude) or None)
    if isinstance(obj, Mapping):
        return {k: _json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json(v) for v in obj]
    return obj


OUTPUTS_VERSION = "outputs"
"""The versions key of :attr:`Kind.outputs_version` (no distribution has that name)."""


def versions(kind: Kind, spec: Spec, stage: Stage) -> dict[str, str]:
    """mlspec, Python (major.minor) and the libraries ``stage`` uses → their installed versions."""
    found = {
        "mlspec": __version__,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        **{dist: version_of(dist) for dist in kind.libraries},
    }
    if kind.outputs_version:
        found[OUTPUTS_VERSION] = str(kind.outputs_version)
    if kind.more_versions is not None:
        found.update(kind.more_versions(spec, stage))
    return found
