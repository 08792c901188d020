"""`mlspec runs compare`: runs side by side, as one view-model that the text, JSON and HTML outputs share.

Rows, each with one value per run (None where a run lacks it):

* params that differ: ``<model>.<param>`` (and ``<model>.estimator``, ``<model>.search.<key>``), only those
  whose values are not all equal;
* metrics: every ``<model>.<metric>`` some run has, with its delta against the *first* run given (the
  baseline of the comparison), and the champion's metrics as ``champion.<metric>``;
* data that changed: sources whose digests differ between runs;
* stages: how each stage ended in each run (only stages whose endings differ are "changed");
* verdicts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlspec.runs.record import RunRecord
from mlspec.runs.views import number


@dataclass(frozen=True)
class Row:
    name: str
    values: tuple[Any, ...]

    @property
    def differs(self) -> bool:
        return len({json.dumps(v, sort_keys=True) for v in self.values}) > 1


@dataclass(frozen=True)
class MetricRow:
    model: str
    metric: str
    values: tuple[float | None, ...]
    deltas: tuple[float | None, ...]
    """value - the first run's value; None where either is missing (the first run's own delta is 0)."""

    @property
    def name(self) -> str:
        return f"{self.model}.{self.metric}"


@dataclass(frozen=True)
class Comparison:
    runs: tuple[RunRecord, ...]
    params: tuple[Row, ...]
    metrics: tuple[MetricRow, ...]
    data: tuple[Row, ...]
    stages: tuple[Row, ...]
    verdicts: Row

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": [{"run_id": r.run_id, "started": r.started, "branch": r.branch, "commit": r.commit,
                      "champion": r.champion, "overrides": list(r.overrides)} for r in self.runs],
            "params": {row.name: list(row.values) for row in self.params},
            "metrics": {row.name: {"values": list(row.values), "deltas": list(row.deltas)} for row in self.metrics},
            "data": {row.name: list(row.values) for row in self.data},
            "stages": {row.name: list(row.values) for row in self.stages},
            "verdicts": list(self.verdicts.values),
        }


def flat_params(run: RunRecord) -> dict[str, Any]:
    """``<model>.<param>`` → value, plus the estimator and a search's summary."""
    flat: dict[str, Any] = {}
    for model, entry in run.params.items():
        flat[f"{model}.estimator"] = entry.get("estimator")
        for key, value in (entry.get("params") or {}).items():
            flat[f"{model}.{key}"] = value
        for key, value in (entry.get("search") or {}).items():
            flat[f"{model}.search.{key}"] = value
    return flat


def _rows(maps: Sequence[Mapping[str, Any]], only_differing: bool, ordered: bool = False) -> tuple[Row, ...]:
    """One row per key of ``maps``: sorted, or (``ordered``) in the order the runs have them."""
    names = list(dict.fromkeys(k for m in maps for k in m)) if ordered else sorted({k for m in maps for k in m})
    rows = [Row(n, tuple(m.get(n) for m in maps)) for n in names]
    return tuple(r for r in rows if r.differs or not only_differing)


def compare(runs: Sequence[RunRecord]) -> Comparison:
    """The comparison of ``runs`` (at least two), against the first."""
    if len(runs) < 2:
        raise ValueError("compare needs two runs or more")
    metrics: list[MetricRow] = []
    tables: list[tuple[str, list[Mapping[str, float]]]] = [
        (model, [r.metrics.get(model, {}) for r in runs]) for model in sorted({m for r in runs for m in r.metrics})]
    tables.append(("champion", [r.champion_metrics for r in runs]))
    for model, values in tables:
        for metric in dict.fromkeys(k for v in values for k in v):
            row = tuple(v.get(metric) for v in values)
            first = row[0]
            deltas = tuple(None if first is None or v is None else v - first for v in row)
            metrics.append(MetricRow(model, metric, row, deltas))
    stage_maps = [{s.id: s.status for s in r.stages} for r in runs]
    return Comparison(
        runs=tuple(runs),
        params=_rows([flat_params(r) for r in runs], only_differing=True),
        metrics=tuple(metrics),
        data=_rows([dict(r.data) for r in runs], only_differing=True),
        stages=_rows(stage_maps, only_differing=False, ordered=True),
        verdicts=Row("verdict", tuple(r.verdict for r in runs)),
    )


def _delta(value: float | None) -> str:
    return "" if value is None or value == 0 else f" ({value:+.4g})"


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return number(value)
    return value if isinstance(value, str) else json.dumps(value)


def render(c: Comparison) -> list[str]:
    """The comparison as text: one column per run, deltas against the first in brackets."""
    header = ["", *[r.run_id for r in c.runs]]
    body: list[list[str]] = []

    def section(title: str, rows: Sequence[tuple[str, Sequence[str]]]) -> None:
        if rows:
            body.append([title])
            body.extend([f"  {name}", *cells] for name, cells in rows)

    section("params that differ", [(r.name, [_value(v) for v in r.values]) for r in c.params])
    section("metrics (change against the first run)", [
        (r.name, [number(v) + _delta(d) for v, d in zip(r.values, r.deltas, strict=True)]) for r in c.metrics])
    section("data that changed", [(r.name, [_short_digest(v) for v in r.values]) for r in c.data])
    section("stages", [(r.name, [_value(v) for v in r.values]) for r in c.stages])
    section("verdict", [("gate", [_value(v) for v in c.verdicts.values])])
    if not c.params:
        body.append(["params: the same in every run"])
    if not c.data:
        body.append(["data: the same in every run"])
    widths = [max(len(row[i]) for row in [header, *body] if len(row) > i) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip() for row in [header, *body]]


def _short_digest(value: Any) -> str:
    return "-" if value is None else str(value).removeprefix("sha256:")[:12]

