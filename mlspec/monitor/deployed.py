"""Which model monitoring watches: the deployed one, else the workspace's champion (with a notice).

The deployed model is the version that the registry alias :func:`monitored_alias` names: ``production`` when
a registry deploy target moves that alias, else the alias of the spec's last registry target (a project that
only deploys to ``staging`` monitors that). The registry is the spec's (``MLSPEC_REGISTRY`` overrides a file
registry's directory, see :mod:`mlspec.registry`), so a scheduled CI job, whose checkout holds no trained
model, finds the model the deploy jobs registered.

When the registry has no such alias (nothing deployed yet, no registry target, a registry that cannot be
read), monitoring falls back to the champion that the workspace's last evaluation chose, and says so: a
notice in the log and in every report, because that model may not be the one serving.

:func:`find` is cheap (no model is loaded, nothing is downloaded): the runner calls it to fingerprint the
monitor stage, whose identity of the model is the bundle's digest, so a newly deployed model reruns
monitoring and an unchanged one does not.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlspec.errors import MlspecError
from mlspec.registry import open_registry
from mlspec.registry.filestore import BUNDLE
from mlspec.runtime.context import StageError
from mlspec.runtime.hashing import file_digest, manifest, outputs_fingerprint
from mlspec.runtime.stages.evaluate import find_metrics
from mlspec.runtime.workspace import Workspace, display_path
from mlspec.spec import RegistryTarget, Spec

if TYPE_CHECKING:
    from mlspec.load import Loaded
    from mlspec.registry.base import Registry

PRODUCTION = "production"


@dataclass(frozen=True)
class MonitoredModel:
    """The model the monitor stage watches: the one deployed, or the workspace champion."""

    trained_model: str
    """The spec's name of the trained model (``training.models.<name>``)."""
    where: str
    """Where it came from, for people: ``registry alias 'production': version 3 of 'wine' (...)``."""
    identity: str
    """What the monitor stage's fingerprint records of it: the source and the bundle's digest."""
    metrics: dict[str, Any] = field(default_factory=dict)
    """Its evaluation metrics, as recorded when it was evaluated."""
    notice: str | None = None
    bundle_dir: Path | None = None
    registry: Registry | None = None
    registered: str = ""
    """The registered model's name (the spec's project) and the version number, for a registry model."""
    version: int | None = None

    def bundle(self, scratch: Path) -> Path:
        """The bundle directory (``model.skops``, ``metadata.json``, ``reference.json``); a remote registry
        downloads the version into ``scratch``."""
        if self.bundle_dir is not None:
            return self.bundle_dir
        assert self.registry is not None and self.version is not None
        return self.registry.files(self.registered, self.version, scratch) / BUNDLE


def monitored_alias(spec: Spec) -> str | None:
    aliases = [t.alias for t in spec.deploy.values() if isinstance(t, RegistryTarget)]
    if not aliases:
        return None
    return PRODUCTION if PRODUCTION in aliases else aliases[-1]


def find(loaded: Loaded, environ: Mapping[str, str] = os.environ) -> MonitoredModel:
    """The model to monitor; :class:`StageError` when there is none."""
    spec = loaded.spec
    alias = monitored_alias(spec)
    if alias is None:
        reason = "the spec deploys to no registry"
    else:
        found, reason = _from_registry(loaded, alias, environ)
        if found is not None:
            return found
    return _from_workspace(loaded, reason, environ)


def _from_registry(loaded: Loaded, alias: str, environ: Mapping[str, str]) -> tuple[MonitoredModel | None, str]:
    project = loaded.spec.project
    try:
        registry = open_registry(loaded, environ)
        aliases = registry.aliases(project)
        if alias not in aliases:
            return None, f"the registry {registry.location} has no alias {alias!r} for {project!r}"
        version = registry.get(project, aliases[alias])
    except (MlspecError, ImportError, OSError) as exc:
        return None, f"the registry cannot be read ({exc})"
    where = f"registry alias {alias!r}: version {version.number} of {project!r} ({registry.location})"
    identity = f"registry:{registry.location}:{alias}:{version.number}:{version.digest}"
    return MonitoredModel(version.trained_model, where, identity, dict(version.metrics), registry=registry,
                    registered=project, version=version.number), ""


def _from_workspace(loaded: Loaded, reason: str, environ: Mapping[str, str]) -> MonitoredModel:
    workspace = Workspace.for_spec(loaded.path, environ)
    evaluation = find_metrics(workspace.stage_dir("evaluate"))
    if evaluation is None:
        raise StageError(
            f"no model to monitor: {reason}, and the workspace has no evaluation to take the champion from; "
            "deploy a model or run `mlspec run` first (in CI: point MLSPEC_REGISTRY at the registry the deploy "
            "jobs write to)", ("monitoring",))
    champion = evaluation.champion
    bundle_dir = workspace.stage_dir(f"train:{champion}")
    outputs = manifest(bundle_dir, file_digest)
    if not outputs:
        raise StageError(f"no model to monitor: {reason}, and the champion {champion!r} has no bundle in "
                         f"{display_path(bundle_dir)}; run `mlspec run`", ("monitoring",))
    notice = f"monitoring the workspace's champion {champion!r}, which may not be the model in production: {reason}"
    metrics = dict(evaluation.models.get(champion) or {})
    return MonitoredModel(champion, f"workspace champion {champion!r} ({display_path(bundle_dir)})",
                    f"workspace:{champion}:{outputs_fingerprint(outputs)}", metrics, notice, bundle_dir)
