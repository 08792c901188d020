"""What `mlspec runs` and `mlspec runs show` print: a table that fits 100 columns, one run in full, JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from mlspec.runs.record import RunRecord

WIDTH = 100
_COLUMNS = (("run", 23), ("finished", 16), ("branch", 12), ("champion", 10), ("metric", 8), ("verdict", 7),
            ("stages", 12))
"""Name and width of each column: 100 characters with the two-space gaps."""


def number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())  # one line, whatever a branch or model name holds
    return text if len(text) <= width else text[:width - 1] + "…"


def stage_counts(run: RunRecord) -> str:
    counts: dict[str, int] = {}
    for stage in run.stages:
        counts[stage.status] = counts.get(stage.status, 0) + 1
    short = {"ran": "ran", "up to date": "skip", "from the store": "store", "failed": "FAIL", "blocked": "blk"}
    return " ".join(f"{n} {short.get(s, s)}" for s, n in counts.items())


def table(runs: Sequence[RunRecord], metric: str | None, filtered: bool = False) -> list[str]:
    """One line per run, newest first; ``metric`` is the champion metric shown (the spec's champion rule);
    ``filtered``: the runs passed a filter, so an empty table means none matched, not none recorded."""
    if not runs:
        return ["no recorded run matches the filters" if filtered else "no runs recorded yet: `mlspec run` records one"]
    names = [n if n != "metric" else (metric or "metric") for n, _ in _COLUMNS]
    widths = [w for _, w in _COLUMNS]
    lines = ["  ".join(_cut(n.upper(), w).ljust(w) for n, w in zip(names, widths, strict=True)).rstrip()]
    for run in runs:
        value = run.champion_metrics.get(metric) if metric else None
        cells = [run.run_id, run.finished.replace("T", " ")[:16], run.branch or "-", run.champion or "-",
                 number(value), run.verdict or "-", stage_counts(run)]
        lines.append("  ".join(_cut(c, w).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    return lines


def show(run: RunRecord) -> list[str]:
    """Every fact of one run, for a person."""
    lines = [
        f"run {run.run_id} ({run.part})",
        f"  project   {run.project}",
        f"  when      {run.started} → {run.finished} ({run.seconds:.1f} s)",
        f"  who       {run.who}",
        f"  commit    {run.commit or '-'}{' (dirty)' if run.dirty else ''}",
        f"  branch    {run.branch or '-'}",
    ]
    if run.ci:
        lines.append(f"  ci        {', '.join(f'{k}={v}' for k, v in run.ci.items())}")
    lines.append(f"  command   mlspec run {' '.join(run.command)}{' --force' if run.force else ''}".rstrip())
    lines += [f"  override  {o}" for o in run.overrides]
    if run.verdict:
        lines.append(f"  verdict   {run.verdict}")
    if run.params:
        lines.append("params")
        for model, entry in sorted(run.params.items()):
            lines.append(f"  {model}: {entry.get('estimator')}")
            lines += [f"    {k} = {json.dumps(v)}" for k, v in sorted((entry.get("params") or {}).items())]
            search = entry.get("search")
            if isinstance(search, dict):
                lines.append("    search: " + ", ".join(f"{k}={v}" for k, v in search.items()))
    if run.metrics:
        lines.append("metrics" + (f" (champion {run.champion})" if run.champion else ""))
        for model, values in sorted(run.metrics.items()):
            lines.append(f"  {model}: " + ", ".join(f"{m}={number(v)}" for m, v in values.items()))
    if run.data:
        lines.append("data")
        lines += [f"  {source}: {digest}" for source, digest in sorted(run.data.items())]
    lines.append("stages")
    for stage in run.stages:
        took = f" in {stage.seconds:.2f} s" if stage.seconds is not None else ""
        lines.append(f"  {stage.id}: {stage.status}{took}")
    return lines


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def runs_json(runs: Sequence[RunRecord]) -> str:
    return dumps([r.to_json() for r in runs])
