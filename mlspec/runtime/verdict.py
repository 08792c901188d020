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
the verdict, not merely find it, and must not take it on trust: the file is only a claim. :func:`require_passed`
is deploy's check before it acts. It judges the gates again from what they read: the evaluation metrics (the
evaluate outputs, whose digests must be the ones the evaluate stage recorded), the spec's ``evaluation.gates``
now, and the baseline the verdict recorded (its metrics and bootstrap intervals, which a deploy job cannot
look up again). Any field of the file that disagrees with that (verdict, a gate's result, model, digests) is
refused, naming the field; the re-judged verdict, not the file, is what deploy registers. Last, the file must be
the one the gate stage recorded (its record or mlspec.lock entry): a passed gate is recorded, a failed one not.
So a model is never deployed after a failed gate, nor when the bundle, the evaluation or the gates changed since
the verdict, even if a CI file was edited by hand to skip the gate job or the verdict was edited to say "pass".
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlspec import gates, jsonio
from mlspec.errors import MlspecError
from mlspec.fsutil import atomic_write_text
from mlspec.load import Loaded
from mlspec.runtime import lockfile
from mlspec.runtime.hashing import file_digest, fingerprint, manifest, outputs_fingerprint
from mlspec.runtime.stages import evaluate, gate
from mlspec.runtime.stages.kind import section_values
from mlspec.runtime.workspace import Workspace, display_path
from mlspec.spec import Spec

if TYPE_CHECKING:
    from mlspec.runtime.runner import Report

FORMAT = 1
FILE = "verdict.json"
SUMMARY_FILE = "summary.txt"
GATE_STAGE = gate.STAGE
EVALUATE = "evaluate"
"""The stage whose outputs the gate judges."""
AGAIN = "run `mlspec gate` again"


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
    return fingerprint(section_values(spec, gate.KIND.reads(spec, GATE_STAGE)))


def write(directory: Path, verdict: Verdict) -> None:
    text = json.dumps(verdict.as_json(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    atomic_write_text(directory / FILE, text)
    lines = [verdict.headline(), *gates.render(verdict.result)]
    atomic_write_text(directory / SUMMARY_FILE, "\n".join(lines) + "\n")


def read(path: Path) -> Verdict:
    """The verdict in ``path``; :class:`MlspecError` if it is missing or not one."""
    try:
        data = jsonio.read_object(path, what=display_path(path))
    except FileNotFoundError:
        raise MlspecError(f"no gate verdict at {display_path(path)}; run `mlspec gate` first") from None
    except jsonio.JsonError as exc:
        raise MlspecError(f"{exc}; {AGAIN}") from None
    try:
        if data["format"] != FORMAT:
            raise ValueError(f"format {data['format']!r}, expected {FORMAT}")
        result = gates.from_json(data)
        for key in ("model_digest", "evaluation_digest"):
            if not isinstance(data[key], str | None):
                raise TypeError(f"{key} is not a string")
        if not isinstance(data["baseline"], dict):
            raise TypeError("baseline is not an object")
        return Verdict(
            result=result, model=str(data["model"]), model_digest=data["model_digest"],
            evaluation_digest=data["evaluation_digest"], spec_fingerprint=str(data["spec_fingerprint"]),
            baseline=dict(data["baseline"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MlspecError(f"{display_path(path)}: not a gate verdict ({type(exc).__name__}: {exc}); {AGAIN}"
                          ) from None


def recorded(workspace: Workspace, loaded: Loaded, stage_id: str, outputs: dict[str, str]) -> lockfile.Entry | None:
    """The entry (the stage's record beside its outputs, else its mlspec.lock entry) that describes ``outputs``."""
    # No record (the job downloaded no artifact of it): the lock may still describe them.
    candidates = (lockfile.read_record(workspace, stage_id),
                  lockfile.read(lockfile.path_for(loaded.path)).stages.get(stage_id))
    return next((e for e in candidates if e is not None and dict(e.outputs) == outputs), None)


def out_of_date(verdict: Verdict, spec: Spec, evaluated: Mapping[str, str]) -> tuple[str, ...]:
    """The fields of ``verdict`` that no longer hold: ``spec_fingerprint`` when the spec's gate settings are
    not those it applied, ``evaluation_digest`` when the evaluate outputs ``evaluated`` (file → digest, see
    :func:`evaluated_outputs`) are not the ones it judged. Empty: the verdict is current.

    The one test of a verdict's currency: deploy refuses a verdict that is not current, the report leaves it out.
    """
    stale = []
    if verdict.spec_fingerprint != spec_fingerprint(spec):
        stale.append("spec_fingerprint")
    if verdict.evaluation_digest != outputs_fingerprint(evaluated):
        stale.append("evaluation_digest")
    return tuple(stale)


def evaluated_outputs(workspace: Workspace) -> dict[str, str]:
    """The evaluate outputs in ``workspace``, file → digest (empty when there are none)."""
    return manifest(workspace.stage_dir(EVALUATE), file_digest) or {}


def require_passed(workspace: Workspace, loaded: Loaded, model: str) -> Verdict:
    """The verdict, judged again, if it allows deploying ``model`` now; else a :class:`MlspecError` saying why not.

    Allowed means: judged again from the recorded evaluation, the gate passed (or only warn-only gates failed),
    it judged this model, the model's bundle is byte for byte the one it judged, the spec's gate settings are
    those it applied, and verdict.json says all that unchanged.
    """
    gate_dir = workspace.stage_dir(GATE_STAGE.id)
    path = gate_dir / FILE
    if not path.is_file():
        raise MlspecError(f"no gate verdict in {display_path(gate_dir)}: run `mlspec gate` before deploying")
    claimed = read(path)
    evaluated = evaluated_outputs(workspace)
    stale = out_of_date(claimed, loaded.spec, evaluated)
    if "spec_fingerprint" in stale:
        raise MlspecError(f"the gate verdict was reached with other gate settings than {loaded.path} has now; {AGAIN}")
    champion, current, upstream = _evaluation(workspace, loaded, path, claimed, evaluated, stale)
    if claimed.model_digest is None:
        raise MlspecError("the gate verdict does not identify the model bundle it judged (the gate ran outside "
                          f"`mlspec run`); {AGAIN}")
    _same(path, "model", claimed.model, champion, "the evaluation chose")
    _same(path, "model_digest", claimed.model_digest, upstream.get(f"train:{champion}"),
          "the evaluation was computed from the bundle")
    verdict = _judge_again(path, claimed, loaded.spec, current)
    if verdict.verdict == "fail":
        why = "; ".join(f"{g.metric}: {g.reason}" for g in verdict.result.failed)
        raise MlspecError(f"the gate failed for model {verdict.model!r} ({why}); not deploying")
    if verdict.model != model:
        raise MlspecError(f"the gate judged model {verdict.model!r}, not {model!r}; to deploy {model!r}, make it "
                          f"the champion (evaluation.champion: {{model: {model}}}) and run `mlspec gate`")
    bundle_dir = workspace.stage_dir(f"train:{model}")
    outputs = manifest(bundle_dir, file_digest)
    if not outputs:
        raise MlspecError(f"the model bundle of {model!r} is missing from {display_path(bundle_dir)}")
    if outputs_fingerprint(outputs) != verdict.model_digest:
        raise MlspecError(f"the model bundle of {model!r} changed after the gate judged it; {AGAIN}")
    if recorded(workspace, loaded, GATE_STAGE.id, manifest(gate_dir, file_digest) or {}) is None:
        raise MlspecError(f"{display_path(path)}: not the verdict the gate stage recorded (no record of the gate "
                          f"outputs in {display_path(workspace.record_file(GATE_STAGE.id))} or mlspec.lock has "
                          f"these digests): it was changed or copied after the gate ran; {AGAIN}")
    return verdict


def _evaluation(workspace: Workspace, loaded: Loaded, path: Path, claimed: Verdict, outputs: dict[str, str],
                stale: tuple[str, ...]) -> tuple[str, dict[str, Any], dict[str, str]]:
    """The champion and its metrics from the evaluate outputs, once they prove to be the recorded ones."""
    folder = workspace.stage_dir(EVALUATE)
    metrics_path = folder / evaluate.METRICS_FILE
    if evaluate.METRICS_FILE not in outputs:
        raise MlspecError(f"no evaluation in {display_path(folder)}: run `mlspec run` and `mlspec gate` before "
                          "deploying (in CI: the deploy job needs the artifacts of the jobs before it)")
    entry = recorded(workspace, loaded, EVALUATE, outputs)
    if entry is None:
        raise MlspecError(f"{display_path(metrics_path)}: the evaluate outputs are not the ones the evaluate "
                          f"stage recorded (in {display_path(workspace.record_file(EVALUATE))} or mlspec.lock): they "
                          "were changed after it ran; run `mlspec run evaluate --force` and `mlspec gate`")
    if "evaluation_digest" in stale:
        _same(path, "evaluation_digest", claimed.evaluation_digest, outputs_fingerprint(outputs),
              f"the evaluate outputs in {display_path(folder)} have")
    evaluation = evaluate.read_metrics(folder)
    return evaluation.champion, dict(evaluation.champion_metrics), dict(entry.upstream)


def _judge_again(path: Path, claimed: Verdict, spec: Spec, current: dict[str, Any]) -> Verdict:
    """Judge the spec's gates on the recorded inputs; the file must say exactly what that gives."""
    base = claimed.baseline
    if base.get("source") is None:
        metrics: dict[str, float | None] | None = None
        reason = base.get("reason")
        no_baseline = f"no baseline ({reason})" if isinstance(reason, str) else "no baseline"
    else:
        raw = base.get("metrics")
        if not isinstance(raw, dict) or not all(v is None or isinstance(v, int | float) for v in raw.values()):
            raise MlspecError(f"{display_path(path)}: baseline.metrics: not an object of metric values; {AGAIN}")
        metrics, no_baseline = {str(k): gates.as_number(v) for k, v in raw.items()}, "no baseline"
    intervals = {g.metric: g.interval for g in claimed.result.gates if g.interval is not None}
    significance: dict[str, gates.Interval | str] = {
        m: intervals.get(m) or "no interval recorded" for m, g in spec.evaluation.gates.items()
        if g.significance is not None}
    again = gates.judge(spec.evaluation.gates, current, metrics, significance=significance, no_baseline=no_baseline)
    file, fresh = gates.as_json(claimed.result), gates.as_json(again)
    _same(path, "gates (their metrics)", [g["metric"] for g in file["gates"]], [g["metric"] for g in fresh["gates"]],
          "the spec's evaluation.gates are")
    for index, (was, now) in enumerate(zip(file["gates"], fresh["gates"], strict=True)):
        for key in ("verdict", "current", "baseline", "delta", "warn_only", "direction", "checks", "reason",
                    "interval"):
            _same(path, f"gates[{index}].{key} ({was['metric']})", was[key], now[key], "judging again gives")
    _same(path, "verdict", file["verdict"], fresh["verdict"], "judging the gates again gives")
    # The notices are text about what was skipped; kept from the file (the significance reasons are not inputs).
    return replace(claimed, result=gates.Result(again.verdict, again.gates, claimed.result.notices))


def _same(path: Path, field: str, claimed: Any, actual: Any, what: str) -> None:
    if claimed != actual and not (_nan(claimed) and _nan(actual)):
        raise MlspecError(f"{display_path(path)}: {field} is {claimed!r}, but {what} {actual!r}: the verdict does "
                          f"not match what the gate read; {AGAIN}")


def _nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)
