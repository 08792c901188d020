"""The report's view-model: what the workspace says about the last run, as display-ready values.

Everything is read from the workspace the run left (in CI: the artifacts of the earlier jobs), never
recomputed: the verdict (``stages/gate/verdict.json``), each suite's GX result (``stages/validate/<suite>/``),
the evaluation (``stages/evaluate/metrics.json`` and ``plots/*.png``) and the data profiles. A part that is
missing (a stage failed or never ran) is shown as missing with the reason, so a report of a broken run still
says how far it got. Numbers are formatted here, once, so every format shows the same digits.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mlspec import gates, jsonio
from mlspec.errors import MlspecError
from mlspec.load import Loaded
from mlspec.numbers import fmt
from mlspec.report import FILES, changes, links, marker, trials
from mlspec.runtime import verdict as verdicts
from mlspec.runtime.stages.evaluate import Evaluation, find_metrics
from mlspec.runtime.workspace import Workspace

Status = Literal["pass", "fail", "warn", "skipped", "missing"]
ICONS: dict[str, str] = {"pass": "✅", "fail": "❌", "warn": "⚠️", "skipped": "⏭️", "missing": "❔"}
REASON_CHARS = 400  # a gate's or expectation's explanation is cut here: reports stay readable and bounded
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PLOT_BYTES = 5 << 20


@dataclass(frozen=True)
class GateRow:
    metric: str
    better: str
    current: str
    baseline: str
    change: str
    bounds: str
    """The gate as the spec writes it: ``min 0.95, max_drop 0.01``."""
    status: Status
    reason: str
    warn_only: bool
    line: int
    """The line of ``evaluation.gates.<metric>`` in the spec."""

    @property
    def icon(self) -> str:
        return ICONS[self.status]


@dataclass(frozen=True)
class Expectation:
    label: str
    status: Status
    detail: str

    @property
    def icon(self) -> str:
        return ICONS[self.status]


@dataclass(frozen=True)
class Suite:
    name: str
    data: str
    status: Status
    summary: str
    """``6 of 6 expectations passed``, or why there is no result."""
    warn_only: bool
    line: int
    expectations: tuple[Expectation, ...]

    @property
    def icon(self) -> str:
        return ICONS[self.status]

    @property
    def failed(self) -> tuple[Expectation, ...]:
        return tuple(e for e in self.expectations if e.status in ("fail", "warn"))


@dataclass(frozen=True)
class ModelRow:
    name: str
    champion: bool
    values: tuple[str, ...]
    """In the order of :attr:`Report.metric_names`."""


@dataclass(frozen=True)
class ClassRow:
    """One class of the champion's per-class metrics (a classification task)."""

    label: str
    precision: str
    recall: str
    f1: str
    support: str
    positive: bool
    """The binary task's positive class."""


@dataclass(frozen=True)
class DataRow:
    source: str
    path: str
    rows: str
    columns: str
    digest: str
    """The first 12 hex digits of the file's sha256."""


@dataclass(frozen=True)
class Plot:
    name: str
    path: Path


@dataclass(frozen=True)
class Report:
    project: str
    spec_path: str
    marker: str
    status: Status
    headline: str
    model: str
    baseline: str
    """Where the baseline came from, or why there is none."""
    notices: tuple[str, ...]
    gates: tuple[GateRow, ...]
    suites: tuple[Suite, ...]
    metric_names: tuple[str, ...]
    models: tuple[ModelRow, ...]
    evaluation_note: str
    """Why there is no models table, when there is none."""
    positive_class: str
    """A binary task's positive class as the spec writes it (``"yes"``, ``1``); empty otherwise."""
    decision: str
    """How the champion turns probabilities into labels (``threshold 0.35``); empty: its own predict."""
    classes: tuple[ClassRow, ...]
    """The champion's precision, recall, F1 and support per class (classification)."""
    data: tuple[DataRow, ...]
    changes: changes.Changes
    plots: tuple[Plot, ...]
    plot_notes: tuple[str, ...]
    numbers: tuple[tuple[str, float], ...]
    """Metrics for machines (GitLab's metrics report): name → value."""
    context: tuple[str, ...]
    """Where and for what this report was made: mlspec version, commit, links to the full report."""
    html_url: str
    """Where the HTML report of this run can be opened, when the CI system says."""
    searches: tuple[trials.SearchView, ...] = ()
    """Each searched model's trials (:mod:`mlspec.report.trials`)."""

    @property
    def icon(self) -> str:
        return ICONS[self.status]


def collect(loaded: Loaded, out_dir: Path, environ: Mapping[str, str] = os.environ) -> Report:
    """The report of the run in ``loaded``'s workspace, whose files will be written to ``out_dir``."""
    spec = loaded.spec
    workspace = Workspace.for_spec(loaded.path, environ)
    stale = _stale(loaded)
    evaluation, evaluation_note = _evaluation(workspace, stale)
    verdict, missing = _verdict(loaded, workspace, evaluation is not None)
    status: Status = verdict.verdict if verdict is not None else "missing"
    if verdict is not None:
        gate_rows = tuple(_gate_row(loaded, g) for g in verdict.result.gates)
    else:
        gate_rows = tuple(_unjudged(loaded, metric, evaluation, missing) for metric in spec.evaluation.gates)
    plots, plot_notes = _plots(workspace.stage_dir("evaluate") / "plots") if evaluation else ((), ())
    return Report(
        project=spec.project,
        spec_path=str(loaded.path),
        marker=marker(spec.project),
        status=status,
        headline=_headline(status, len([g for g in gate_rows if g.status == "fail"])),
        model=verdict.model if verdict is not None else evaluation.champion if evaluation is not None else "",
        baseline=_baseline(verdict) if verdict is not None else missing,
        notices=verdict.result.notices if verdict is not None else (),
        gates=gate_rows,
        suites=tuple(_suite(loaded, workspace, name, stale) for name in spec.validation),
        metric_names=tuple(spec.evaluation.metrics),
        models=_models(spec.evaluation.metrics, evaluation),
        evaluation_note=evaluation_note,
        **_labels(evaluation),
        data=tuple(_data_row(workspace, name) for name in spec.data.sources),
        changes=changes.collect(loaded, workspace, environ),
        plots=plots,
        plot_notes=plot_notes,
        numbers=_numbers(verdict, evaluation, workspace, spec.data.sources),
        context=links.context(environ),
        html_url=links.html_url(environ, out_dir / FILES["html"]),
        searches=trials.collect(loaded, workspace),
    )


# --- gates --------------------------------------------------------------------------------------------------


def _stale(loaded: Loaded) -> dict[str, str]:
    """Stages whose outputs in the workspace no longer match the spec and data, with why (as `mlspec plan`)."""
    from mlspec.runtime.runner import plan

    return {item.stage_id: "; ".join(item.reasons) for item in plan(loaded).items if item.reasons}


def _current(stage_id: str, stale: Mapping[str, str]) -> bool:
    # A stage whose verdict failed keeps its outputs (they are the report) but leaves the lock: "no lock
    # entry" is then the last run's own result, not an out-of-date one.
    return stale.get(stage_id, "no lock entry") == "no lock entry"


def _evaluation(workspace: Workspace, stale: Mapping[str, str]) -> tuple[Evaluation | None, str]:
    # Optional: a run that stopped before evaluate has none. One that is there but broken is an error.
    evaluation = find_metrics(workspace.stage_dir("evaluate"))
    if evaluation is None:
        return None, "no evaluation: the evaluate stage did not finish (an earlier stage failed or did not run)"
    if "evaluate" in stale:
        return None, f"no current evaluation: the one in the workspace is out of date ({stale['evaluate']})"
    return evaluation, ""


def _verdict(loaded: Loaded, workspace: Workspace, evaluated: bool) -> tuple[verdicts.Verdict | None, str]:
    """The verdict, if it judged the evaluation now in the workspace with today's gates; else None and why."""
    path = workspace.stage_dir(verdicts.GATE_STAGE.id) / verdicts.FILE
    if not evaluated or not path.is_file():
        return None, "no gate verdict: the gate did not run (an earlier stage failed, or the run stopped before it)"
    try:
        verdict = verdicts.read(path)
    except MlspecError as exc:
        return None, f"no gate verdict: {exc}"
    if verdicts.out_of_date(verdict, loaded.spec, verdicts.evaluated_outputs(workspace)):
        return None, ("no current gate verdict: the one in the workspace judged another evaluation or other gate "
                      "settings; run `mlspec gate`")
    return verdict, ""


def _gate_row(loaded: Loaded, g: gates.GateResult) -> GateRow:
    bounds = ", ".join(f"{c.bound} {c.limit}" for c in g.checks) or "-"
    status: Status = g.verdict
    return GateRow(
        metric=g.metric, better=f"{g.direction} is better", current=fmt(g.current), baseline=fmt(g.baseline),
        change=fmt(g.delta, signed=True), bounds=bounds + (" (warn only)" if g.warn_only else ""), status=status,
        reason=short(g.reason, REASON_CHARS), warn_only=g.warn_only,
        line=loaded.line_of("evaluation", "gates", g.metric).line,
    )


def _unjudged(loaded: Loaded, metric: str, evaluation: Evaluation | None, why: str) -> GateRow:
    """A declared gate without a verdict: its bounds from the spec, the champion's value if evaluated."""
    gate = loaded.spec.evaluation.gates[metric]
    bounds = [f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}"
              for name, value in (("min", gate.min), ("max", gate.max), ("max_drop", gate.max_drop))
              if value is not None]
    current = gates.as_number(evaluation.champion_metrics.get(metric)) if evaluation is not None else None
    return GateRow(
        metric=metric, better=f"{gates.direction_of(metric)} is better", current=fmt(current), baseline="-",
        change="-", bounds=", ".join(bounds) + (" (warn only)" if gate.warn_only else ""), status="missing",
        reason=why, warn_only=gate.warn_only, line=loaded.line_of("evaluation", "gates", metric).line,
    )


def _headline(status: Status, failed: int) -> str:
    if status == "fail":
        return f"{failed} gate{'s' if failed != 1 else ''} failed"
    return {"pass": "gates passed", "warn": "gates passed with warnings", "missing": "no gate verdict"}.get(
        status, status)


def _baseline(verdict: verdicts.Verdict) -> str:
    base = verdict.baseline
    if base.get("source"):
        # A registry baseline's source names its model already (registry production = forest v3).
        model = f" (champion {base['model']!r})" if base.get("model") and not base.get("registry") else ""
        return f"{base['source']}{model}"
    return f"none: {base.get('reason') or 'no baseline'}"


# --- validation ---------------------------------------------------------------------------------------------


def _suite(loaded: Loaded, workspace: Workspace, name: str, stale: Mapping[str, str]) -> Suite:
    from mlspec.runtime.stages.validate import label, outcomes_of

    suite = loaded.spec.validation[name]
    line = loaded.line_of("validation", name).line
    result = _json(workspace.stage_dir(f"validate:{name}") / "result.json")
    if result is None:
        return Suite(name, suite.data, "missing", "no result: the suite did not run, or stopped with an error",
                     suite.warn_only, line, ())
    if not _current(f"validate:{name}", stale):
        return Suite(name, suite.data, "missing", f"no current result: out of date ({stale[f'validate:{name}']})",
                     suite.warn_only, line, ())
    try:
        outcomes = outcomes_of(result, {})
    except (KeyError, TypeError, AttributeError) as exc:
        return Suite(name, suite.data, "missing", f"unreadable result.json ({type(exc).__name__}: {exc})",
                     suite.warn_only, line, ())
    failing: Status = "warn" if suite.warn_only else "fail"
    rows = tuple(Expectation(short(label(o), REASON_CHARS), "pass" if o.success else failing,
                             short(o.detail, REASON_CHARS)) for o in outcomes)
    failed = sum(1 for r in rows if r.status != "pass")
    status: Status = "pass" if not failed else failing
    summary = f"{len(rows) - failed} of {len(rows)} expectations passed" + (" (warn only)" if failed and
                                                                            suite.warn_only else "")
    return Suite(name, suite.data, status, summary, suite.warn_only, line, rows)


# --- evaluation and data ------------------------------------------------------------------------------------


def _models(metric_names: list[str], evaluation: Evaluation | None) -> tuple[ModelRow, ...]:
    if evaluation is None:
        return ()
    return tuple(
        ModelRow(name, name == evaluation.champion, tuple(fmt(gates.as_number(values.get(m))) for m in metric_names))
        for name, values in evaluation.models.items()
    )


def _labels(evaluation: Evaluation | None) -> dict[str, Any]:
    """The positive class, the champion's decision threshold and its per-class table, from ``metrics.json``."""
    doc = evaluation.document if evaluation is not None else {}
    champion = evaluation.champion if evaluation is not None else ""
    positive = doc.get("positive_class")
    shown = json.dumps(positive) if "positive_class" in doc else ""
    threshold = ((doc.get("decisions") or {}).get(champion) or {}).get("threshold")
    rows = ((doc.get("per_class") or {}).get(champion) or {}).items()
    def number(v: Mapping[str, Any], key: str) -> str:
        return fmt(gates.as_number(v.get(key)))

    classes = tuple(ClassRow(label, number(v, "precision"), number(v, "recall"), number(v, "f1"),
                             str(v.get("support")), positive is not None and label == str(positive))
                    for label, v in rows if isinstance(v, Mapping))
    return {"positive_class": shown, "decision": f"threshold {fmt(threshold)}" if threshold is not None else "",
            "classes": classes}


def _data_row(workspace: Workspace, source: str) -> DataRow:
    profile = _json(workspace.stage_dir(f"data:{source}") / "profile.json") or {}
    columns = profile.get("columns")
    digest = str(profile.get("digest") or "")
    return DataRow(source, str(profile.get("path") or "-"), str(profile.get("rows", "-")),
                   str(len(columns)) if isinstance(columns, list) else "-",
                   digest.removeprefix("sha256:")[:12] or "-")


def _plots(directory: Path) -> tuple[tuple[Plot, ...], tuple[str, ...]]:
    plots, notes = [], []
    for path in sorted(directory.glob("*.png")) if directory.is_dir() else []:
        size = path.stat().st_size
        if size > MAX_PLOT_BYTES:
            notes.append(f"{path.name} left out: {size >> 20} MiB is more than a report should carry")
        elif not _is_png(path.read_bytes()):
            notes.append(f"{path.name} left out: not a PNG file")
        else:
            plots.append(Plot(path.stem, path))
    return tuple(plots), tuple(notes)


def _is_png(data: bytes) -> bool:
    """A PNG signature followed by the IHDR chunk, where the HTML report reads the size from."""
    return data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR" and len(data) >= 24


def _numbers(verdict: verdicts.Verdict | None, evaluation: Evaluation | None, workspace: Workspace,
             sources: Mapping[str, Any]) -> tuple[tuple[str, float], ...]:
    out: list[tuple[str, float]] = []
    for name, value in (evaluation.champion_metrics.items() if evaluation is not None else ()):
        number = gates.as_number(value)
        if number is not None and gates.finite(number) is not None:
            out.append((str(name), number))
    if verdict is not None:
        for status in ("pass", "fail", "warn", "skipped"):
            out.append((f"gates_{status}", float(sum(1 for g in verdict.result.gates if g.verdict == status))))
    for source in sources:
        rows = (_json(workspace.stage_dir(f"data:{source}") / "profile.json") or {}).get("rows")
        if isinstance(rows, int):
            out.append((f"data_{source}_rows", float(rows)))
    return tuple(out)


# --- small helpers ------------------------------------------------------------------------------------------


def _json(path: Path) -> dict[str, Any] | None:
    """A stage's JSON output; None if missing (that part of the report is omitted).

    A file that is there but is not JSON (truncated, nested 100k deep, a 5000-digit number) was not written
    by mlspec, which replaces outputs atomically: an error naming it, rather than a report that quietly
    leaves a part out."""
    try:
        data = jsonio.read(path)
    except FileNotFoundError:
        return None
    except jsonio.JsonError as exc:
        raise MlspecError(f"{exc}; run `mlspec run` to compute it again") from None
    return data if isinstance(data, dict) else None


def short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
