"""The report's trials section: for each searched model, its best trial and its top trials.

Read from the train stage's outputs (``trials.json``: what the trials found) and run facts (``_run/trials.json``:
which ran and which came from the cache), never recomputed. The section says where the CV scores come from:
folds of the training rows only, never the evaluation rows the gate judges.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlspec import jsonio
from mlspec.load import Loaded
from mlspec.numbers import fmt
from mlspec.runtime.hashing import RUN_DIR
from mlspec.runtime.workspace import Workspace

TOP = 10
"""Trials shown per model, best first; trials.json in the artifact has every one."""


@dataclass(frozen=True)
class TrialRow:
    rank: int
    number: int
    params: str
    cv: str
    """``mean ± std``, or the failure."""


@dataclass(frozen=True)
class SearchView:
    model: str
    method: str
    metric: str
    trials: int
    ran: int
    cached: int
    failed: int
    best: str
    """``trial 3 {C: 1.0}: cv roc_auc 0.9931 ± 0.0051``."""
    top: tuple[TrialRow, ...]
    note: str
    """Which rows the CV scores come from."""


def collect(loaded: Loaded, workspace: Workspace) -> tuple[SearchView, ...]:
    out = []
    for name, model in loaded.spec.training.models.items():
        if model.search is None:
            continue
        directory = workspace.stage_dir(f"train:{name}")
        found = _read(directory / "trials.json")
        if found is None:
            continue
        facts = _read(directory / RUN_DIR / "trials.json") or {}
        out.append(_view(name, model.data, loaded.spec.evaluation.data, found, facts))
    return tuple(out)


def _view(name: str, source: str, evaluation: str, found: Mapping[str, Any], facts: Mapping[str, Any]) -> SearchView:
    trials = [t for t in found.get("trials", []) if isinstance(t, dict)]
    status = {t.get("number"): t.get("status") for t in facts.get("trials", []) if isinstance(t, dict)}
    greater = bool(found.get("greater_is_better", True))
    done = sorted((t for t in trials if "cv_mean" in t),
                  key=lambda t: (-t["cv_mean"] if greater else t["cv_mean"], t["number"]))
    failed = [t for t in trials if "failed" in t]
    rows = [TrialRow(i + 1, t["number"], params(t.get("params", {})), f"{fmt(t['cv_mean'])} ± {fmt(t['cv_std'])}")
            for i, t in enumerate(done[:TOP])]
    rows += [TrialRow(0, t["number"], params(t.get("params", {})), "failed: " + str(t["failed"])[:200])
             for t in failed[:max(0, TOP - len(rows))]]
    metric = str(found.get("metric", ""))
    best = done[0] if done else None
    shown = (f"trial {best['number']} {params(best.get('params', {}))}: cv {metric} {fmt(best['cv_mean'])} ± "
             f"{fmt(best['cv_std'])}") if best else "none: every trial failed"
    rows_used = found.get("rows")
    note = (f"Scored by {found.get('cv')}-fold cross-validation on the {rows_used} training rows (data source "
            f"{source!r}) only, never on the evaluation rows ({evaluation!r}) the gate judges; the best trial was "
            "then refitted on all the training rows.")
    return SearchView(name, str(found.get("method", "")), metric, len(trials),
                      sum(s == "ran" for s in status.values()), sum(s == "cached" for s in status.values()),
                      len(failed), shown, tuple(rows), note)


def params(values: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in values.items()) + "}"


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = jsonio.read(path)
    except (FileNotFoundError, jsonio.JsonError):  # a part that is missing or not mlspec's is left out
        return None
    return data if isinstance(data, dict) else None
