"""`mlspec deploy TARGET`: carry out one of the spec's deploy targets, and only after a passed gate.

Deployment is a command, not a stage of `mlspec run`: it acts on the outside world (a registry, a directory)
rather than producing workspace outputs, and it must work in a CI job that holds nothing but the earlier jobs'
artifacts. It trains nothing; it checks. :func:`mlspec.runtime.verdict.require_passed` judges the gates again
from the recorded evaluation and refuses unless they pass for exactly the bundle on disk and the gate settings
in the spec, and verdict.json says just that: a hand-edited CI file that skips the gate job, a stale or edited
verdict or a swapped bundle never gets deployed.

Targets:

* ``kind: registry``: register the bundle as a new immutable version (or find the version that already holds
  the same bundle: registering is idempotent), then move ``alias`` to it. A retried job changes nothing.
* ``kind: export``: write the bundle (``model.skops``, ``metadata.json``) with its provenance, verdict,
  metrics and model card into ``path``, replacing the previous export whole.

With a store (``store.url``, ``MLSPEC_STORE``), what the checks read (the gate's verdict, the evaluation, the
champion's bundle) is pulled from it first, and only that (:func:`mlspec.store.transfer.pull_for`).

Each deploy leaves a receipt in the workspace, ``stages/deploy/<target>/deploy.json``, which the CI job keeps
as an artifact: which version went where, and who did it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlspec import exportdir, jsonio
from mlspec.errors import MlspecError
from mlspec.fsutil import atomic_write_text, write_durable
from mlspec.load import Loaded
from mlspec.registry import card, ephemeral_warning, open_registry, provenance, registry_warning
from mlspec.registry.base import Actor, Candidate
from mlspec.registry.filestore import now
from mlspec.runtime.stages.evaluate import find_metrics, read_metrics
from mlspec.runtime.verdict import Verdict, require_passed
from mlspec.runtime.workspace import Workspace, display_path
from mlspec.spec import ExportTarget, RegistryTarget
from mlspec.suggest import did_you_mean

EXPORT_MARKER = "export.json"
RECEIPT = "deploy.json"


@dataclass
class DeployResult:
    """What one `mlspec deploy <target>` did."""

    target: str
    lines: list[str] = field(default_factory=list)
    """What was done, for the job log."""
    warnings: list[str] = field(default_factory=list)
    receipt: dict[str, Any] = field(default_factory=dict)


def deploy(loaded: Loaded, name: str, environ: Mapping[str, str] = os.environ) -> DeployResult:
    """Deploy target ``name`` of ``loaded``'s spec; :class:`MlspecError` if it must not or cannot be."""
    spec = loaded.spec
    if name not in spec.deploy:
        known = ", ".join(spec.deploy) or "none"
        raise MlspecError(f"{loaded.path}: no deploy target {name!r} (targets: {known})"
                          + did_you_mean(name, list(spec.deploy)))
    target = spec.deploy[name]
    workspace = Workspace.for_spec(loaded.path, environ)
    pulled, missing = _pull(loaded, ["gate", "evaluate"], environ)
    model = target.model or champion(workspace)
    more, missing_more = _pull(loaded, [f"train:{model}"], environ)
    verdict = require_passed(workspace, loaded, model)
    workspace.claim()  # the receipt goes into it
    by = provenance.actor(loaded.root, environ)
    candidate = _candidate(loaded, workspace, model, by, verdict)
    result = DeployResult(name, [*pulled, *more], [*missing, *missing_more])
    receipt: dict[str, Any] = {"target": name, "kind": target.kind, "model": spec.project, "trained_model": model,
                               "digest": candidate.digest, "verdict": verdict.verdict}
    if isinstance(target, RegistryTarget):
        receipt |= _to_registry(loaded, spec.project, name, target, candidate, by, environ, result)
    else:
        assert isinstance(target, ExportTarget)
        receipt |= _to_directory(loaded, target, candidate, by, environ, result)
    result.receipt = {**receipt, "at": now(), "by": by.as_json()}
    atomic_write_text(workspace.stage_dir(f"deploy:{name}") / RECEIPT, json.dumps(result.receipt, indent=2) + "\n")
    return result


def _pull(loaded: Loaded, ids: list[str], environ: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """With a store, what deploy reads comes from it first (a CI job in a fresh directory has only the store)."""
    from mlspec.store.transfer import pull_for

    return pull_for(loaded, ids=ids, environ=environ)


def champion(workspace: Workspace) -> str:
    """The champion the evaluate stage chose (what a target without ``model`` deploys)."""
    folder = workspace.stage_dir("evaluate")
    found = find_metrics(folder)
    if found is None:
        raise MlspecError(f"no evaluation in {display_path(folder)}: run `mlspec run` and `mlspec gate` before "
                          "deploying (in CI: the deploy job needs the artifacts of the jobs before it)")
    return found.champion


def _candidate(loaded: Loaded, workspace: Workspace, model: str, by: Actor, judged: Verdict) -> Candidate:
    """What to deploy, with the verdict :func:`require_passed` reached again (never the file's own claims)."""
    bundle_dir = workspace.stage_dir(f"train:{model}")
    verdict = judged.as_json()
    # require_passed has read this evaluation and proved it the recorded one.
    evaluation = read_metrics(workspace.stage_dir("evaluate"))
    metadata = _read_json(bundle_dir / "metadata.json")
    record = provenance.record(loaded, model, bundle_dir, metadata, evaluation.document, verdict, by)
    return Candidate(bundle_dir, str(verdict["model_digest"]), model, verdict, record["metrics"], record)


def _to_registry(loaded: Loaded, project: str, name: str, target: RegistryTarget, candidate: Candidate, by: Actor,
                 environ: Mapping[str, str], result: DeployResult) -> dict[str, Any]:
    registry = open_registry(loaded, environ)
    warning = registry_warning(loaded, environ)  # a store or MLflow registry is never in the checkout
    if warning:
        result.warnings.append(warning)
    version, new = registry.register(project, candidate, by)
    where = f"registry {registry.location}"
    result.lines.append(f"registered {candidate.trained_model!r} as version {version.number} of {project!r} in {where}"
                        if new else f"version {version.number} of {project!r} already holds this bundle ({where})")
    event = registry.promote(project, target.alias, version.number, by, note=f"deploy target {name}")
    if event is None:
        result.lines.append(f"alias {target.alias!r} already names version {version.number}; nothing to move")
    else:
        was = f"version {event.previous}" if event.previous is not None else "nothing"
        result.lines.append(f"moved alias {target.alias!r} of {project!r} from {was} to version {version.number}")
    moved = {"moved": True, "previous": event.previous} if event else {"moved": False}
    return {"registry": registry.location, "version": version.number, "alias": target.alias, "registered": new,
            **moved}


def _to_directory(loaded: Loaded, target: ExportTarget, candidate: Candidate, by: Actor,
                  environ: Mapping[str, str], result: DeployResult) -> dict[str, Any]:
    dest = Path(target.path)
    dest = dest if dest.is_absolute() else loaded.root / dest
    warning = ephemeral_warning(loaded, dest, "export directory", environ)
    if warning:
        result.warnings.append(warning)
    result.lines += export(dest, candidate, by)
    result.lines.append(f"exported {candidate.trained_model!r} ({candidate.digest}) to {display_path(dest)}")
    return {"path": str(dest)}


def export(dest: Path, candidate: Candidate, by: Actor) -> list[str]:
    """Write the bundle and its records into ``dest``, replacing an earlier export whole.

    :func:`mlspec.exportdir.replace` does it under a lock per destination, assembled beside it and renamed into
    place, so concurrent deploys of one target queue up and a reader sees the old export or the new one. A
    directory that is not an mlspec export is never replaced. Returns notes (a repaired crashed deploy).
    """
    def check(target: Path) -> None:
        if target.exists() and not (target / EXPORT_MARKER).is_file() and (
                not target.is_dir() or any(target.iterdir())):
            raise MlspecError(f"refusing to replace {display_path(target)}: it exists and is not an mlspec export "
                              f"(no {EXPORT_MARKER}); choose an empty or new directory as the export path")

    def fill(staged: Path) -> None:
        for item in sorted(candidate.bundle_dir.iterdir()):
            if item.is_file():
                write_durable(staged / item.name, item.read_bytes())
        texts = {"provenance.json": candidate.provenance, "verdict.json": candidate.verdict,
                 "metrics.json": candidate.metrics,
                 EXPORT_MARKER: {"format": 1, "model": candidate.provenance.get("model"),
                                 "trained_model": candidate.trained_model, "digest": candidate.digest,
                                 "exported_at": now(), "by": by.as_json()}}
        for file, value in texts.items():
            write_durable(staged / file, (json.dumps(value, indent=2) + "\n").encode("utf-8"))
        write_durable(staged / card.FILE, card.render(candidate.provenance).encode("utf-8"))

    return exportdir.replace(dest, fill, check)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return jsonio.read_object(path, what=display_path(path))
    except FileNotFoundError:
        raise MlspecError(f"{display_path(path)}: missing; run `mlspec run` and `mlspec gate` again") from None
