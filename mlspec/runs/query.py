"""Finding runs in the history: `mlspec runs` filters (``--branch``, ``--model``, ``--where``) and run references.

A condition (``--where``) is ``[MODEL.]METRIC OP NUMBER`` with OP one of ``>= <= > < == !=``: without a model
it reads the run's champion's metric (``roc_auc>=0.9``), with one that model's (``forest.roc_auc>=0.9``). A run
without that metric does not match. The SQL indexes narrow the candidates (a part with such a metric value);
the condition is then checked on the merged run, which is what the table shows.

A run reference is a unique prefix of a run id, ``latest`` (the run that finished last) or ``latest~N`` (N runs
before it); an unknown or ambiguous one is a :class:`RunNotFound` naming candidates.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mlspec.errors import MlspecError
from mlspec.runs.history import History
from mlspec.runs.record import RunRecord
from mlspec.suggest import did_you_mean

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne, ">": operator.gt, "<": operator.lt,
}
_WHERE = re.compile(r"^\s*(?:([A-Za-z0-9_.-]+?)\.)?([A-Za-z0-9_]+)\s*(>=|<=|==|!=|>|<)\s*(\S+)\s*$")
_LATEST = re.compile(r"^latest(?:~(\d+))?$")
_SHOWN = 5


class RunNotFound(MlspecError):
    """A run reference names no run, or more than one."""


@dataclass(frozen=True)
class Condition:
    model: str | None
    metric: str
    op: str
    value: float

    def value_of(self, run: RunRecord) -> float | None:
        values = run.metrics.get(self.model, {}) if self.model else run.champion_metrics
        return values.get(self.metric)

    def holds(self, run: RunRecord) -> bool:
        found = self.value_of(run)
        return found is not None and OPS[self.op](found, self.value)

    def __str__(self) -> str:
        return f"{self.model + '.' if self.model else ''}{self.metric}{self.op}{self.value:g}"


def parse_where(text: str) -> Condition:
    """``roc_auc>=0.9`` or ``forest.roc_auc>=0.9``; a malformed one is an error saying the form."""
    found = _WHERE.match(text)
    value = _number(found.group(4)) if found else None
    if found is None or value is None:
        raise MlspecError(f"--where {text!r}: expected [MODEL.]METRIC OP NUMBER with OP one of "
                          f"{' '.join(OPS)}, e.g. --where 'roc_auc>=0.9' or --where 'forest.f1>0.8'")
    return Condition(found.group(1), found.group(2), found.group(3), value)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Filters:
    branch: str | None = None
    model: str | None = None
    where: tuple[Condition, ...] = ()

    def holds(self, run: RunRecord) -> bool:
        if self.branch is not None and run.branch != self.branch:
            return False
        if self.model is not None and self.model not in run.params and self.model not in run.metrics:
            return False
        return all(c.holds(run) for c in self.where)

    def sql(self) -> tuple[str, list[object]]:
        """A condition on parts (alias ``p``) that every matching run has a part meeting: cheap by index."""
        clauses: list[str] = []
        args: list[object] = []
        if self.branch is not None:
            clauses.append("p.run_id IN (SELECT run_id FROM parts WHERE branch = ?)")
            args.append(self.branch)
        if self.model is not None:
            clauses.append("p.run_id IN (SELECT q.run_id FROM models m JOIN parts q ON q.id = m.part_id "
                           "WHERE m.model = ?)")
            args.append(self.model)
        for c in self.where:
            model = "m.model = ?" if c.model else "m.model = q.champion"
            clauses.append(f"p.run_id IN (SELECT q.run_id FROM metrics m JOIN parts q ON q.id = m.part_id WHERE "
                           f"m.metric = ? AND m.value {c.op.replace('==', '=')} ? AND {model})")
            args += [c.metric, c.value] + ([c.model] if c.model else [])
        return " AND ".join(clauses), args


def find(history: History, filters: Filters = Filters(), limit: int | None = None) -> list[RunRecord]:
    """The runs that match, newest first, at most ``limit``."""
    where, args = filters.sql()
    found: list[RunRecord] = []
    ids = history.run_ids(where, args)
    batch = max(limit or 0, 50)
    for start in range(0, len(ids), batch):
        found += [r for r in history.runs(ids[start:start + batch]) if filters.holds(r)]
        if limit is not None and len(found) >= limit:
            return found[:limit]
    return found


def resolve(ref: str, run_ids: Sequence[str]) -> str:
    """The run id ``ref`` names among ``run_ids`` (newest first)."""
    latest = _LATEST.match(ref)
    if latest:
        back = int(latest.group(1) or 0)
        if back < len(run_ids):
            return run_ids[back]
        raise RunNotFound(f"run {ref!r}: the history holds {len(run_ids)} run{'' if len(run_ids) == 1 else 's'}"
                          + ("" if run_ids else "; `mlspec run` records one"))
    if ref in run_ids:
        return ref
    matches = [r for r in run_ids if r.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        shown = ", ".join(matches[:_SHOWN]) + (f" and {len(matches) - _SHOWN} more" if len(matches) > _SHOWN else "")
        raise RunNotFound(f"run {ref!r} is ambiguous: it starts {len(matches)} run ids ({shown}); give more of it")
    hint = did_you_mean(ref, run_ids) if run_ids else ""
    recent = f"; the latest runs: {', '.join(run_ids[:3])}" if run_ids and not hint else ""
    empty = "; the history is empty: `mlspec run` records one" if not run_ids else ""
    raise RunNotFound(f"no run {ref!r} in the history{hint}{recent}{empty} (`mlspec runs` lists them)")
