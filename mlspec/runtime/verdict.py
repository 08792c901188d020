"""``verdict.json``: what the gate decided, about which model, and the check deployment makes before it acts.

The gate stage writes ``.mlspec/stages/gate/verdict.json``::

    format             1
    verdict            "pass" | "warn" | "fail"
    model              the champion the gates judged
    model_digest       digest of that model's bundle (the train:<model> outputs) as evaluated, or null
    evaluation_digest  digest of the evaluate outputs the gates read
    spec_fingerprint   fingerprint of the spec sections the gate reads (evaluation.gates, ...)
    baseline           {source, model, metrics, predictions} or {source: null, reason}
    notices            what was skipped or degraded, and why
    gates              per gate: metric, direction, current, baseline, delta, checks, verdict, reason

A failed gate keeps this file (the runner keeps a failed stage's outputs for reports), so deployment must read
the verdict, not merely find it. :func:`require_passed` is that check: deploy calls it before it acts, so a
model is never deployed after a failed gate, nor when the bundle or the gates changed since the verdict, even
if a CI file was edited by hand to skip the gate job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlspec import gates
from mlspec.errors import MlspecError
from mlspec.fsutil import atomic_write_text
from mlspec.graph import Stage
from mlspec.load import Loaded
from mlspec.runtime import deps
from mlspec.runtime.hashing import file_digest, fingerprint
from mlspec.runtime.staleness import manifest, outputs_fingerprint
from mlspec.runtime.workspace import Workspace, display_path
from mlspec.spec import Spec

if TYPE_CHECKING:
    from mlspec.runtime.runner import Report

FORMAT = 1
FILE = "verdict.json"
SUMMARY_FILE = "summary.txt"
GATE_STAGE = Stage("gate", "gate", None, ("evaluate",))


@dataclass(frozen=True)
class Verdict:
    result: gates.Result
    model: str
    model_digest: str | None
    evaluation_digest: str | None
    spec_fingerprint: str
    baseline: dict[str, Any]

    @property
    def verdict(self) -> gates.Overall:
        return self.result.verdict

    def as_json(self) -> dict[str, Any]:
        result = gates.as_json(self.result)
        return {
            "format": FORMAT, "verdict": result.pop("verdict"), "model": self.model,
            "model_digest": self.model_digest, "evaluation_digest": self.evaluation_digest,
            "spec_fingerprint": self.spec_fingerprint, "baseline": self.baseline, **result,
        }

    def headline(self) -> str:
        source = self.baseline.get("source") or "none"
        return f"gate: {self.verdict} for model {self.model!r} (baseline: {source})"


def failure_message(result: gates.Result) -> str:
    """What the gate stage reports when it fails: the failing gate and why, or the failing gates' names."""
    failed = result.failed
    if len(failed) == 1:
        return f"{failed[0].metric}: {failed[0].reason}"
    return f"{len(failed)} gates failed: " + ", ".join(g.metric for g in failed)


def shown_verdict(report: Report) -> list[str]:
    """The verdict table after a run that included the gate, if that run produced or confirmed the verdict
    on disk (not when the gate was blocked or stopped by an error, which leaves an older verdict behind)."""
    outcome = next((o for o in report.outcomes if o.stage_id == GATE_STAGE.id), None)
    path = report.workspace.stage_dir(GATE_STAGE.id) / FILE
    if outcome is None or outcome.status == "blocked" or not path.is_file():
        return []
    verdict = read(path)
    if outcome.status == "failed" and (verdict.verdict != "fail" or outcome.detail != failure_message(
            verdict.result)):
        return []
    return [verdict.headline(), *gates.render(verdict.result)]


def spec_fingerprint(spec: Spec) -> str:
    """One digest of what the gate reads from the spec: a verdict is only valid for these gate settings."""
    return fingerprint(deps.spec_sections(spec, GATE_STAGE))


def write(directory: Path, verdict: Verdict) -> None:
    text = json.dumps(verdict.as_json(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    atomic_write_text(directory / FILE, text)
    lines = [verdict.headline(), *gates.render(verdict.result)]
    atomic_write_text(directory / SUMMARY_FILE, "\n".join(lines) + "\n")


def read(path: Path) -> Verdict:
    """The verdict in ``path``; :class:`MlspecError` if it is missing or not one."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise MlspecError(f"no gate verdict at {display_path(path)}; run `mlspec gate` first") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise MlspecError(f"{display_path(path)}: unreadable gate verdict ({exc}); run `mlspec gate` again"
                          ) from None
    try:
        if data["format"] != FORMAT:
            raise ValueError(f"format {data['format']!r}, expected {FORMAT}")
        return Verdict(
            result=gates.from_json(data), model=str(data["model"]), model_digest=data["model_digest"],
            evaluation_digest=data["evaluation_digest"], spec_fingerprint=str(data["spec_fingerprint"]),
            baseline=dict(data["baseline"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MlspecError(f"{display_path(path)}: not a gate verdict ({type(exc).__name__}: {exc}); run "
                          "`mlspec gate` again") from None


def require_passed(workspace: Workspace, loaded: Loaded, model: str) -> Verdict:
    """The verdict, if it allows deploying ``model`` now; else a :class:`MlspecError` saying why not.

    Allowed means: the gate passed (or only warn-only gates failed), it judged this model, the model's bundle
    is byte for byte the one it judged, and the spec's gate settings are those it applied.
    """
    gate_dir = workspace.stage_dir(GATE_STAGE.id)
    if not (gate_dir / FILE).is_file():
        raise MlspecError(f"no gate verdict in {display_path(gate_dir)}: run `mlspec gate` before deploying")
    verdict = read(gate_dir / FILE)
    if verdict.verdict == "fail":
        why = "; ".join(f"{g.metric}: {g.reason}" for g in verdict.result.failed)
        raise MlspecError(f"the gate failed for model {verdict.model!r} ({why}); not deploying")
    if verdict.model != model:
        raise MlspecError(f"the gate judged model {verdict.model!r}, not {model!r}; to deploy {model!r}, make it "
                          f"the champion (evaluation.champion: {{model: {model}}}) and run `mlspec gate`")
    if verdict.spec_fingerprint != spec_fingerprint(loaded.spec):
        raise MlspecError(f"the gate verdict was reached with other gate settings than {loaded.path} has now; run "
                          "`mlspec gate` again")
    if verdict.model_digest is None:
        raise MlspecError("the gate verdict does not identify the model bundle it judged (the gate ran outside "
                          "`mlspec run`); run `mlspec gate` again")
    bundle_dir = workspace.stage_dir(f"train:{model}")
    outputs = manifest(bundle_dir, file_digest)
    if not outputs:
        raise MlspecError(f"the model bundle of {model!r} is missing from {display_path(bundle_dir)}")
    if outputs_fingerprint(outputs) != verdict.model_digest:
        raise MlspecError(f"the model bundle of {model!r} changed after the gate judged it; run `mlspec gate` "
                          "again")
    return verdict
