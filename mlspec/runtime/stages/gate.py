"""The ``gate`` stage: judge the champion's metrics against ``evaluation.gates`` and write the verdict.

Reads the evaluate stage's ``metrics.json`` (champion and its metrics, through
:func:`mlspec.runtime.stages.evaluate.read_metrics`) and, for gates with ``significance``,
both ``predictions.parquet`` files; finds the baseline (:mod:`mlspec.baseline`); judges (:mod:`mlspec.gates`);
writes ``verdict.json`` and ``summary.txt`` (:mod:`mlspec.runtime.verdict`). A baseline from the registry is
scored here, on the evaluate stage's rows: the gate needs the snapshot of ``data:<evaluation.data>`` for
that, and writes the version's predictions to ``baseline/predictions.parquet`` among its outputs. A failing
gate makes the stage return a failed verdict, with one located error per failing gate; warn-only gates only
report.

The verdict names the model bundle it judged by the digest the evaluate stage recorded for
``train:<champion>`` (its record beside the outputs, or its entry in mlspec.lock, whichever describes the
evaluate outputs read here), so deployment can check that it deploys exactly that bundle.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlspec.graph import Stage, stage_id
from mlspec.runtime.hashing import file_digest, manifest, outputs_fingerprint
from mlspec.runtime.stages.evaluate import PREDICTIONS_FILE, read_metrics
from mlspec.runtime.stages.kind import Ci, Kind, Read, version_of
from mlspec.spec import Spec

if TYPE_CHECKING:
    from mlspec import baseline, gates
    from mlspec.load import Loaded
    from mlspec.runtime.context import RunOptions, StageContext, StageResult

BASELINE_INPUT = "<baseline>"
"""The gate's input that stands for its baseline (not a file; see :func:`_baseline_input`)."""
# The significance test recomputes metrics on resampled rows; only then do these shape the gate's result.
SIGNIFICANCE_LIBRARIES = ("numpy", "pandas", "pyarrow", "scikit-learn", "scipy")
STAGE = Stage("gate", "gate", None, ("evaluate",))
"""The gate stage, by its id (its needs are :func:`_stages`')."""


def _stages(spec: Spec) -> list[Stage]:
    # The evaluation rows, to score a registry baseline on them (the snapshot evaluate read).
    return [Stage("gate", "gate", None, ("evaluate", stage_id("data", spec.evaluation.data)))]


def _reads(spec: Spec, stage: Stage) -> list[Read]:
    return [
        # The champion and its metrics come from evaluate's outputs; `task` matters to the significance test.
        Read("task"),
        Read("evaluation.gates"),
        Read("evaluation.champion"),
        # Scoring a registry baseline on the evaluation rows, as the evaluate stage scores (mlspec.runtime.rescore).
        Read("evaluation.data"),
        Read("evaluation.metrics"),
        Read("data.target"),
        Read("data.positive_class"),  # which class the rescored and resampled binary metrics are about
        # Which baseline: a branch's lock, or the registry version of an alias (the spec's project in the
        # spec's registry, the alias by default the deploy targets'); its identity is the stage's input (see
        # _baseline_input), and where the registry is does not change what a version scores.
        Read("ci.default_branch", fingerprinted=False),
        Read("evaluation.baseline", fingerprinted=False),
        Read("deploy", fingerprinted=False),
        Read("registry", fingerprinted=False),
        # Whether there is a store decides whether the registry outlives a CI job (mlspec.baseline.origin).
        Read("store", fingerprinted=False),
        Read("project", fingerprinted=False),
        Read("training.trust", fingerprinted=False),  # which baseline model files it may load
    ]


def wants_significance(spec: Spec) -> bool:
    return any(g.significance is not None for g in spec.evaluation.gates.values())


def _more_versions(spec: Spec, stage: Stage) -> dict[str, str]:
    return {dist: version_of(dist) for dist in SIGNIFICANCE_LIBRARIES} if wants_significance(spec) else {}


def _baseline_input(loaded: Loaded, stage: Stage, options: RunOptions) -> dict[str, str]:
    """The baseline (see :mod:`mlspec.baseline`): the registry version an alias names (its model, number and
    bundle digest), or another branch's mlspec.lock, the one the run asks for (``mlspec gate --baseline``,
    ``MLSPEC_BASELINE``) or the pull request's target branch. Its identity is part of the gate's fingerprint,
    so a new baseline (an alias moved) reruns the gate and an unchanged one does not."""
    from mlspec import baseline

    found = baseline.resolve(loaded, options.baseline, predictions=wants_significance(loaded.spec))
    return {BASELINE_INPUT: found.identity}


KIND = Kind(
    "gate", _stages, _reads,
    files=lambda spec, stage: [],
    more_versions=_more_versions,
    spec_key=lambda stage: ("evaluation", "gates"),
    external=_baseline_input,
    # The command of its own reads the baseline from the pull request's target branch, in the git history.
    ci=Ci("mlspec gate {spec}", full_history=True, uploads_lock=True),
)


def run(ctx: StageContext) -> StageResult:
    from mlspec import baseline, gates
    from mlspec.runtime.context import StageResult
    from mlspec.runtime.verdict import Verdict, failure_message, spec_fingerprint, write

    spec = ctx.spec
    evaluated = ctx.upstream("evaluate")
    evaluation = read_metrics(evaluated)
    champion, current = evaluation.champion, dict(evaluation.champion_metrics)
    wanted = [m for m, g in spec.evaluation.gates.items() if g.significance is not None]
    found = baseline.resolve(ctx.loaded, ctx.options.baseline, predictions=bool(wanted))
    if isinstance(found, baseline.RegistryVersion):
        ctx.log(f"baseline: scoring {found.source} on the evaluation rows")
        base = baseline.score(ctx, found)
    else:
        base = found
    if isinstance(base, baseline.NoBaseline) and base.detail:
        ctx.log(f"no baseline: {base.reason}; {base.detail}")
    significance = _significance(ctx, wanted, base, (evaluated / PREDICTIONS_FILE, champion, current))
    result = gates.judge(spec.evaluation.gates, current, _metrics_of(base), significance=significance,
                         no_baseline=_why_none(base))

    outputs = manifest(evaluated, file_digest) or {}
    verdict = Verdict(result, champion, _model_digest(ctx, champion, outputs), outputs_fingerprint(outputs),
                      spec_fingerprint(spec), _describe(base))
    write(ctx.out_dir, verdict)
    if "positive_class" in evaluation.document:  # which class the binary metrics judged here are about
        threshold = ((evaluation.document.get("decisions") or {}).get(champion) or {}).get("threshold")
        ctx.log(f"positive class: {json.dumps(evaluation.document['positive_class'])}"
                + (f", {champion} decides at threshold {threshold}" if threshold is not None else ""))
    for g in result.gates:
        ctx.log(f"{g.metric}: {g.verdict}: {g.reason}")
    for notice in result.notices:
        ctx.log(f"notice: {notice}")

    metrics = {"verdict": result.verdict, "model": champion, "gates": {g.metric: g.verdict for g in result.gates}}
    summary = _summary(result, base)
    if result.verdict != "fail":
        return StageResult(metrics, summary)
    failures: list[tuple[str, tuple[str | int, ...]]] = [
        (f"{g.metric}: {g.reason}", ("evaluation", "gates", g.metric)) for g in result.failed]
    return StageResult(metrics, summary, failed=failure_message(result), failures=failures)


def _metrics_of(base: baseline.Baseline | baseline.NoBaseline) -> dict[str, float | None] | None:
    from mlspec import baseline

    return dict(base.metrics) if isinstance(base, baseline.Baseline) else None


def _why_none(base: baseline.Baseline | baseline.NoBaseline) -> str:
    from mlspec import baseline

    return f"no baseline ({base.reason})" if isinstance(base, baseline.NoBaseline) else "no baseline"


def _describe(base: baseline.Baseline | baseline.NoBaseline) -> dict[str, Any]:
    from mlspec import baseline

    if isinstance(base, baseline.Baseline):
        return base.describe()
    return {"source": None, "reason": base.reason}


def _significance(
    ctx: StageContext, wanted: list[str], base: baseline.Baseline | baseline.NoBaseline,
    current: tuple[Path, str, dict[str, Any]],
) -> dict[str, gates.Interval | str]:
    from mlspec import baseline

    if not wanted or not isinstance(base, baseline.Baseline):
        return {}
    if base.predictions is None:
        return dict.fromkeys(wanted, base.no_predictions)
    from mlspec.runtime.significance import intervals

    ctx.log(f"significance: paired bootstrap of {current[1]!r} against the baseline's {base.model!r} "
            f"for {', '.join(wanted)}")
    return intervals(ctx.spec, wanted, current, (base.predictions, base.model, dict(base.metrics)))


def _model_digest(ctx: StageContext, champion: str, outputs: dict[str, str]) -> str | None:
    """The digest of ``train:<champion>``'s outputs that the evaluate outputs were computed from, if known."""
    from mlspec.runtime.verdict import recorded
    from mlspec.runtime.workspace import Workspace

    entry = recorded(Workspace.for_spec(ctx.loaded.path), ctx.loaded, "evaluate", outputs)
    if entry is not None:
        return entry.upstream.get(f"train:{champion}")
    ctx.log("notice: no record of the evaluate outputs names the champion's bundle; deploy will refuse this verdict")
    return None


def _summary(result: gates.Result, base: baseline.Baseline | baseline.NoBaseline) -> str:
    from mlspec import baseline

    counts = {v: [g.metric for g in result.gates if g.verdict == v] for v in ("pass", "fail", "warn", "skipped")}
    parts = [f"{len(ids)} {word}" + (f" ({', '.join(ids)})" if word != "passed" else "")
             for word, ids in (("passed", counts["pass"]), ("failed", counts["fail"]),
                               ("warned", counts["warn"]), ("skipped", counts["skipped"])) if ids]
    text = f"{result.verdict}: " + (", ".join(parts) if parts else "no gates")
    relative = any(c.bound == "max_drop" for g in result.gates for c in g.checks)
    if isinstance(base, baseline.NoBaseline) and relative:
        text += f"; relative gates skipped, no baseline: {base.reason}"
    return text

