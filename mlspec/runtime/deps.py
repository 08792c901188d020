"""What each stage kind depends on: the spec sections it reads, the files it reads, the library versions.

These functions are the contract between the runner's fingerprints and the stage implementations: a stage
that starts reading another spec key must list it here, or editing that key will not rerun the stage.
Outputs of the stages a stage *needs* are covered by the runner itself (their digests), not listed here.
"""

from __future__ import annotations

import re
import sys
from functools import cache
from importlib import metadata
from typing import TYPE_CHECKING, Any

from mlspec import __version__, sources
from mlspec.graph import Stage
from mlspec.spec import Source, Spec

if TYPE_CHECKING:
    from mlspec.load import Loaded

RUNNABLE_KINDS = ("data", "validate", "train", "evaluate", "gate", "monitor")
"""Kinds `mlspec run` can execute; deployment is a command of its own (`mlspec deploy`)."""

BASELINE_INPUT = "<baseline>"
"""The gate's input that stands for its baseline (not a file; see :func:`external_inputs`)."""
MODEL_INPUT = "<monitored model>"
"""The monitor stage's input that stands for the model it watches (see :mod:`mlspec.monitor.deployed`)."""

# Distributions whose behaviour shapes each kind's outputs. pyarrow is listed for every stage that reads data
# because pandas 3 stores strings in pyarrow arrays when it is installed (and evaluate writes parquet).
_LIBRARIES: dict[str, tuple[str, ...]] = {
    "data": ("pandas", "pyarrow"),
    "validate": ("great-expectations", "pandas", "pyarrow"),
    "train": ("numpy", "pandas", "pyarrow", "scikit-learn", "scipy", "skops"),
    "evaluate": ("matplotlib", "numpy", "pandas", "pyarrow", "scikit-learn", "scipy", "skops"),
    "gate": (),
    "monitor": ("matplotlib", "numpy", "pandas", "pyarrow", "scikit-learn", "scipy", "skops"),
}
# The significance test recomputes metrics on resampled rows; only then do these shape the gate's result.
_SIGNIFICANCE_LIBRARIES = ("numpy", "pandas", "pyarrow", "scikit-learn", "scipy")


def spec_sections(spec: Spec, stage: Stage) -> dict[str, Any]:
    """Dotted spec path → the JSON value of that section, for every section ``stage`` reads."""
    name = stage.name or ""
    if stage.kind == "data":
        return {f"data.sources.{name}": _source(spec.data.sources[name])}
    if stage.kind == "monitor":
        return _monitor_sections(spec)
    if stage.kind == "validate":
        suite = spec.validation[name]
        return {
            f"validation.{name}": suite.model_dump(mode="json"),
            f"data.sources.{suite.data}": _source(spec.data.sources[suite.data]),
        }
    # Training and evaluation both turn a table into features and a target in the same way.
    common = {
        "task": spec.task,
        "data.target": spec.data.target,
        "data.features": spec.data.features.model_dump(mode="json") if spec.data.features else None,
        "data.exclude": list(spec.data.exclude),
        "training.seed": spec.training.seed,
    }
    if stage.kind == "train":
        model = spec.training.models[name]
        return {
            **common,
            f"training.models.{name}": model.model_dump(mode="json"),
            f"data.sources.{model.data}": _source(spec.data.sources[model.data]),
        }
    if stage.kind == "evaluate":
        return {
            **common,
            # The gates are the gate stage's business: editing a threshold must not rescore every model.
            "evaluation": spec.evaluation.model_dump(mode="json", exclude={"gates"}),
            # The model names in declared order: a tie for champion goes to the model declared first.
            "training.models": list(spec.training.models),
            f"data.sources.{spec.evaluation.data}": _source(spec.data.sources[spec.evaluation.data]),
        }
    if stage.kind == "gate":
        # The champion and its metrics come from evaluate's outputs; `task` matters to the significance test.
        return {
            "task": spec.task,
            "evaluation.gates": {m: g.model_dump(mode="json") for m, g in spec.evaluation.gates.items()},
            "evaluation.champion": spec.evaluation.champion.model_dump(mode="json") if spec.evaluation.champion
            else None,
        }
    raise ValueError(f"stage kind {stage.kind!r} cannot run yet")


def _monitor_sections(spec: Spec) -> dict[str, Any]:
    from mlspec.monitor.deployed import monitored_alias

    mon = spec.monitoring
    assert mon is not None
    sources = [mon.current] + ([mon.reference] if mon.reference else [])
    return {
        # The schedule decides when monitoring runs, not what it finds.
        "monitoring": mon.model_dump(mode="json", exclude={"schedule"}),
        "project": spec.project,
        "task": spec.task,
        "data.target": spec.data.target,
        "evaluation.metrics": list(spec.evaluation.metrics),
        "registry": spec.registry.model_dump(mode="json"),
        # Which alias is watched follows from the deploy targets; only that conclusion matters here.
        "deploy.<monitored alias>": monitored_alias(spec),
        **{f"data.sources.{s}": _source(spec.data.sources[s]) for s in sources},
    }


def wants_significance(spec: Spec) -> bool:
    return any(g.significance is not None for g in spec.evaluation.gates.values())


def external_inputs(loaded: Loaded, stage: Stage) -> dict[str, str]:
    """Inputs that are neither spec sections nor files of the project, by name → digest.

    The gate's baseline (see :mod:`mlspec.baseline`) is one: another branch's mlspec.lock, chosen by the
    environment (``MLSPEC_BASELINE``, the pull request's target branch). Its identity is part of the gate's
    fingerprint, so a new baseline reruns the gate and an unchanged one does not. The monitored model is
    another: the registry version an alias names, or the workspace's champion bundle, by digest.
    """
    if stage.kind == "monitor":
        from mlspec.monitor.deployed import find
        from mlspec.runtime.context import StageError

        try:
            return {MODEL_INPUT: find(loaded).identity}
        except StageError:  # no model: the stage itself reports it, at its spec key
            return {MODEL_INPUT: "none"}
    if stage.kind != "gate":
        return {}
    from mlspec import baseline

    found = baseline.resolve(loaded, baseline.requested(), predictions=wants_significance(loaded.spec))
    return {BASELINE_INPUT: found.identity}


def input_files(spec: Spec, stage: Stage) -> list[str]:
    """Files ``stage`` reads, relative to the spec's directory.

    A data source's files are read by its ``data:<source>`` stage only: the stages after it read the snapshot
    in that stage's outputs, whose digest their fingerprint already covers.
    """
    name = stage.name or ""
    if stage.kind == "data":
        source = spec.data.sources[name]
        return sources.adapter(source).files(source)
    if stage.kind == "validate":
        suite = spec.validation[name]
        return [suite.suite_file] if suite.suite_file else []
    if stage.kind in ("train", "evaluate", "gate", "monitor"):
        return []
    raise ValueError(f"stage kind {stage.kind!r} cannot run yet")


def versions(spec: Spec, stage: Stage) -> dict[str, str]:
    """mlspec, Python (major.minor) and the libraries ``stage`` uses → their installed versions."""
    found = {
        "mlspec": __version__,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        **{dist: _version(dist) or "not installed" for dist in _LIBRARIES[stage.kind]},
    }
    if stage.kind == "gate" and wants_significance(spec):
        found.update({dist: _version(dist) or "not installed" for dist in _SIGNIFICANCE_LIBRARIES})
    if stage.kind in ("train", "evaluate"):
        # An estimator from outside scikit-learn (xgboost, lightgbm, ...) shapes the model as much; a module
        # that is not an installed distribution of the same name (a local package) is left out.
        models = spec.training.models
        chosen = [models[stage.name]] if stage.kind == "train" and stage.name else list(models.values())
        for top in sorted({m.estimator.split(".", 1)[0] for m in chosen} - {"sklearn"}):
            version = _version(top)
            if version is not None:
                found[top] = version
    return found


def spec_key(stage: Stage) -> tuple[str, ...]:
    """The spec key that defines ``stage``: where its errors point when they name no key of their own."""
    name = stage.name or ""
    if stage.kind == "data":
        return ("data", "sources", name)
    if stage.kind == "validate":
        return ("validation", name)
    if stage.kind == "train":
        return ("training", "models", name)
    if stage.kind == "evaluate":
        return ("evaluation",)
    if stage.kind == "gate":
        return ("evaluation", "gates")
    if stage.kind == "monitor":
        return ("monitoring",)
    return (stage.kind,)


@cache
def _version(distribution: str) -> str | None:
    """The installed version, read from the distribution's metadata (importing scikit-learn to ask it would
    cost a second). Only the header's ``Version:`` line is read: ``metadata.version()`` runs the email parser
    over the whole file, which for eight distributions is 5% of a no-op run."""
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return None
    header = (dist.read_text("METADATA") or "").split("\n\n", 1)[0]
    found = re.search(r"^Version:[ \t]*(\S+)", header, re.MULTILINE)
    return found.group(1) if found else dist.version


def _source(source: Source) -> dict[str, Any]:
    return sources.adapter(source).section(source)
