"""The ``gate`` stage: judge the champion's metrics against ``evaluation.gates`` and write the verdict.

Reads the evaluate stage's ``metrics.json`` (champion and its metrics) and, for gates with ``significance``,
both ``predictions.parquet`` files; finds the baseline (:mod:`mlspec.baseline`); judges (:mod:`mlspec.gates`);
writes ``verdict.json`` and ``summary.txt`` (:mod:`mlspec.runtime.verdict`). A failing gate makes the stage
return a failed verdict, with one located error per failing gate; warn-only gates only report.

The verdict names the model bundle it judged by the digest the evaluate stage recorded for
``train:<champion>`` (its record beside the outputs, or its entry in mlspec.lock, whichever describes the
evaluate outputs read here), so deployment can check that it deploys exactly that bundle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlspec import baseline, gates, jsonio
from mlspec.runtime.context import StageContext, StageError, StageResult
from mlspec.runtime.hashing import file_digest
from mlspec.runtime.staleness import manifest, outputs_fingerprint
from mlspec.runtime.verdict import Verdict, failure_message, recorded, spec_fingerprint, write
from mlspec.runtime.workspace import Workspace

METRICS_FILE = "metrics.json"
PREDICTIONS_FILE = "predictions.parquet"


def run(ctx: StageContext) -> StageResult:
    spec = ctx.spec
    evaluated = ctx.upstream("evaluate")
    report = _read_metrics(evaluated / METRICS_FILE)
    champion, current = str(report["champion"]), dict(report["champion_metrics"])
    wanted = [m for m, g in spec.evaluation.gates.items() if g.significance is not None]
    base = baseline.resolve(ctx.loaded, baseline.requested(), predictions=bool(wanted))
    significance = _significance(ctx, wanted, base, (evaluated / PREDICTIONS_FILE, champion, current))
    result = gates.judge(spec.evaluation.gates, current, _metrics_of(base), significance=significance,
                         no_baseline=_why_none(base))

    outputs = manifest(evaluated, file_digest) or {}
    verdict = Verdict(result, champion, _model_digest(ctx, champion, outputs), outputs_fingerprint(outputs),
                      spec_fingerprint(spec), _describe(base))
    write(ctx.out_dir, verdict)
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


def _read_metrics(path: Path) -> dict[str, Any]:
    try:
        data = jsonio.read_object(path)
        if not isinstance(data.get("champion"), str) or not isinstance(data.get("champion_metrics"), dict):
            raise TypeError("champion or champion_metrics is missing or has the wrong type")
    except (FileNotFoundError, jsonio.JsonError, TypeError) as exc:
        raise StageError(f"the evaluate outputs have no readable {METRICS_FILE} ({type(exc).__name__}: {exc}); "
                         "run `mlspec run evaluate --force`", ("evaluation",)) from None
    return data


def _metrics_of(base: baseline.Baseline | baseline.NoBaseline) -> dict[str, float | None] | None:
    return dict(base.metrics) if isinstance(base, baseline.Baseline) else None


def _why_none(base: baseline.Baseline | baseline.NoBaseline) -> str:
    return f"no baseline ({base.reason})" if isinstance(base, baseline.NoBaseline) else "no baseline"


def _describe(base: baseline.Baseline | baseline.NoBaseline) -> dict[str, Any]:
    if isinstance(base, baseline.Baseline):
        return base.describe()
    return {"source": None, "reason": base.reason}


def _significance(
    ctx: StageContext, wanted: list[str], base: baseline.Baseline | baseline.NoBaseline,
    current: tuple[Path, str, dict[str, Any]],
) -> dict[str, gates.Interval | str]:
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
    entry = recorded(Workspace.for_spec(ctx.loaded.path), ctx.loaded, "evaluate", outputs)
    if entry is not None:
        return entry.upstream.get(f"train:{champion}")
    ctx.log("notice: no record of the evaluate outputs names the champion's bundle; deploy will refuse this verdict")
    return None


def _summary(result: gates.Result, base: baseline.Baseline | baseline.NoBaseline) -> str:
    counts = {v: [g.metric for g in result.gates if g.verdict == v] for v in ("pass", "fail", "warn", "skipped")}
    parts = [f"{len(ids)} {word}" + (f" ({', '.join(ids)})" if word != "passed" else "")
             for word, ids in (("passed", counts["pass"]), ("failed", counts["fail"]),
                               ("warned", counts["warn"]), ("skipped", counts["skipped"])) if ids]
    text = f"{result.verdict}: " + (", ".join(parts) if parts else "no gates")
    relative = any(c.bound == "max_drop" for g in result.gates for c in g.checks)
    if isinstance(base, baseline.NoBaseline) and relative:
        text += f"; relative gates skipped, no baseline: {base.reason}"
    return text

