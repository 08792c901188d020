"""`mlspec deploy TARGET`: carry out one of the spec's deploy targets, and only after a passed gate.

Deployment is a command, not a stage of `mlspec run`: it acts on the outside world (a registry, a directory)
rather than producing workspace outputs, and it must work in a CI job that holds nothing but the earlier jobs'
artifacts. It recomputes nothing; it checks. :func:`mlspec.runtime.verdict.require_passed` refuses unless the
gate passed for exactly the bundle on disk and the gate settings in the spec, so a hand-edited CI file that
skips the gate job, a stale verdict or a swapped bundle never gets deployed.

Targets:

* ``kind: registry``: register the bundle as a new immutable version (or find the version that already holds
  the same bundle: registering is idempotent), then move ``alias`` to it. A retried job changes nothing.
* ``kind: export``: write the bundle (``model.skops``, ``metadata.json``) with its provenance, verdict,
  metrics and model card into ``path``, replacing the previous export whole.

Each deploy leaves a receipt in the workspace, ``stages/deploy/<target>/deploy.json``, which the CI job keeps
as an artifact: which version went where, and who did it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlspec.errors import MlspecError
from mlspec.fsutil import atomic_write_text
from mlspec.load import Loaded
from mlspec.registry import card, ephemeral_warning, file_location, open_registry, provenance
from mlspec.registry.base import Actor, Candidate
from mlspec.registry.filestore import now
from mlspec.runtime.verdict import FILE as VERDICT_FILE
from mlspec.runtime.verdict import GATE_STAGE, require_passed
from mlspec.runtime.workspace import Workspace, display_path
from mlspec.spec import ExportTarget, RegistryTarget
from mlspec.suggest import did_you_mean

EXPORT_MARKER = "export.json"
RECEIPT = "deploy.json"


@dataclass
class Deployed:
    target: str
    lines: list[str] = field(default_factory=list)
    """What was done, for the job log."""
    warnings: list[str] = field(default_factory=list)
    receipt: dict[str, Any] = field(default_factory=dict)


def deploy(loaded: Loaded, name: str, environ: Mapping[str, str] = os.environ) -> Deployed:
    """Deploy target ``name`` of ``loaded``'s spec; :class:`MlspecError` if it must not or cannot be."""
    spec = loaded.spec
    if name not in spec.deploy:
        known = ", ".join(spec.deploy) or "none"
        raise MlspecError(f"{loaded.path}: no deploy target {name!r} (targets: {known})"
                          + did_you_mean(name, list(spec.deploy)))
    target = spec.deploy[name]
    workspace = Workspace.for_spec(loaded.path, environ)
    model = target.model or champion(workspace)
    verdict = require_passed(workspace, loaded, model)
    by = provenance.actor(loaded.root, environ)
    candidate = _candidate(loaded, workspace, model, by)
    result = Deployed(name)
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


def champion(workspace: Workspace) -> str:
    """The champion the evaluate stage chose (what a target without ``model`` deploys)."""
    path = workspace.stage_dir("evaluate") / "metrics.json"
    try:
        return str(json.loads(path.read_text("utf-8"))["champion"])
    except FileNotFoundError:
        raise MlspecError(f"no evaluation in {display_path(path.parent)}: run `mlspec run` and `mlspec gate` "
                          "before deploying (in CI: the deploy job needs the artifacts of the jobs before it)"
                          ) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise MlspecError(f"{display_path(path)}: unreadable ({type(exc).__name__}: {exc}); run `mlspec run "
                          "evaluate --force`") from None


def _candidate(loaded: Loaded, workspace: Workspace, model: str, by: Actor) -> Candidate:
    bundle_dir = workspace.stage_dir(f"train:{model}")
    verdict = _read_json(workspace.stage_dir(GATE_STAGE.id) / VERDICT_FILE)
    evaluation = _read_json(workspace.stage_dir("evaluate") / "metrics.json")
    metadata = _read_json(bundle_dir / "metadata.json")
    record = provenance.record(loaded, model, bundle_dir, metadata, evaluation, verdict, by)
    return Candidate(bundle_dir, str(verdict["model_digest"]), model, verdict, record["metrics"], record)


def _to_registry(loaded: Loaded, project: str, name: str, target: RegistryTarget, candidate: Candidate, by: Actor,
                 environ: Mapping[str, str], result: Deployed) -> dict[str, Any]:
    registry = open_registry(loaded, environ)
    if loaded.spec.registry.backend == "file":
        warning = ephemeral_warning(loaded, file_location(loaded, environ), "file registry", environ)
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
                  environ: Mapping[str, str], result: Deployed) -> dict[str, Any]:
    dest = Path(target.path)
    dest = dest if dest.is_absolute() else loaded.root / dest
    warning = ephemeral_warning(loaded, dest, "export directory", environ)
    if warning:
        result.warnings.append(warning)
    export(dest, candidate, by)
    result.lines.append(f"exported {candidate.trained_model!r} ({candidate.digest}) to {display_path(dest)}")
    return {"path": str(dest)}


def export(dest: Path, candidate: Candidate, by: Actor) -> None:
    """Write the bundle and its records into ``dest``, replacing an earlier export whole.

    The new export is assembled beside ``dest`` and renamed into place; the old one is renamed aside first
    (POSIX cannot rename a directory over a non-empty one), so a reader sees the old export or the new one. A
    directory that is not an mlspec export is never replaced.
    """
    if dest.exists() and not (dest / EXPORT_MARKER).is_file() and (not dest.is_dir() or any(dest.iterdir())):
        raise MlspecError(f"refusing to replace {display_path(dest)}: it exists and is not an mlspec export (no "
                          f"{EXPORT_MARKER}); choose an empty or new directory as the export path")
    dest.parent.mkdir(parents=True, exist_ok=True)
    for stale in dest.parent.glob(f".{dest.name}.*.tmp"):  # left by a crashed export
        shutil.rmtree(stale, ignore_errors=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    staged.chmod(0o755)  # mkdtemp's 0700 would hide the export from the service account that reads it
    try:
        for item in sorted(candidate.bundle_dir.iterdir()):
            if item.is_file():
                shutil.copyfile(item, staged / item.name)
        texts = {"provenance.json": candidate.provenance, "verdict.json": candidate.verdict,
                 "metrics.json": candidate.metrics,
                 EXPORT_MARKER: {"format": 1, "model": candidate.provenance.get("model"),
                                 "trained_model": candidate.trained_model, "digest": candidate.digest,
                                 "exported_at": now(), "by": by.as_json()}}
        for file, value in texts.items():
            (staged / file).write_text(json.dumps(value, indent=2) + "\n", "utf-8")
        (staged / card.FILE).write_text(card.render(candidate.provenance), "utf-8")
        aside = None
        if dest.exists():
            aside = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)) / "old"
            os.replace(dest, aside)
        os.replace(staged, dest)
        if aside is not None:
            shutil.rmtree(aside.parent, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise MlspecError(f"{display_path(path)}: unreadable ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict):
        raise MlspecError(f"{display_path(path)}: expected a JSON object")
    return data
