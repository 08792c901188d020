"""Small stand-ins for the validate, train and evaluate stages, for testing the runner on its own (the data
and gate stages are the real ones).

They follow the stage contract (:mod:`mlspec.runtime.context`) and read their upstream outputs, so their own
outputs change exactly when their inputs do. Behaviour is chosen per stage id by environment variables, so
the same stand-ins serve in-process tests (``monkeypatch.setenv``) and subprocesses (``harness.py``):

* ``FAKE_BLOCK=<id>``: write ``<spec dir>/started-<id>`` and wait until ``<spec dir>/release`` exists;
* ``FAKE_FAIL=<id>``: return a failed verdict after writing ``report.txt``;
* ``FAKE_ERROR=<id>``: raise a StageError about ``training.seed``;
* ``FAKE_CRASH=<id>``: raise RuntimeError (a bug).
"""

from __future__ import annotations

import importlib
import json
import os
import time
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

from mlspec.runtime.context import StageContext, StageError, StageResult

BLOCK_TIMEOUT = 60.0


def _behave(ctx: StageContext) -> None:
    me = ctx.stage.id
    if os.environ.get("FAKE_BLOCK") == me:
        (ctx.root / f"started-{me.replace(':', '-')}").write_text(str(os.getpid()))
        (ctx.out_dir / "partial.txt").write_text("half-written\n")
        deadline = time.monotonic() + BLOCK_TIMEOUT
        while not (ctx.root / "release").exists():
            if time.monotonic() > deadline:
                raise RuntimeError("test stage was never released")
            time.sleep(0.02)
    if os.environ.get("FAKE_ERROR") == me:
        raise StageError("the seed is cursed", ("training", "seed"))
    if os.environ.get("FAKE_CRASH") == me:
        raise RuntimeError("stand-in stage crashed")


def _rows(ctx: StageContext, source: str) -> Any:
    return json.loads((ctx.upstream(f"data:{source}") / "profile.json").read_text())["rows"]


def validate(ctx: StageContext) -> StageResult:
    _behave(ctx)
    suite = ctx.spec.validation[ctx.stage.name]
    rows = _rows(ctx, suite.data)
    (ctx.out_dir / "report.txt").write_text(f"{suite.data}: {rows} rows checked\n")
    if os.environ.get("FAKE_FAIL") == ctx.stage.id:
        return StageResult({"rows": rows}, "1 of 1 checks failed",
                           failed=f"suite {ctx.stage.name!r}: 1 of 1 checks failed:\n  - y has nulls")
    return StageResult({"rows": rows}, f"{rows} rows checked")


def train(ctx: StageContext) -> StageResult:
    _behave(ctx)
    model = ctx.spec.training.models[ctx.stage.name]
    rows = _rows(ctx, model.data)
    described = {"estimator": model.estimator, "params": model.params, "rows": rows, "seed": ctx.spec.training.seed}
    (ctx.out_dir / "model.json").write_text(json.dumps(described, sort_keys=True) + "\n")
    ctx.log(f"pretending to fit {model.estimator}")
    return StageResult({"rows": rows}, f"fitted on {rows} rows")


def evaluate(ctx: StageContext) -> StageResult:
    _behave(ctx)
    scores = {}
    for name in ctx.spec.training.models:
        described = json.loads((ctx.upstream(f"train:{name}") / "model.json").read_text())
        scores[name] = round(1 - 1 / (2 + described["rows"] + len(name)), 6)
    champion = max(scores, key=lambda n: scores[n])
    # The fields of the real metrics.json that the (real) gate stage reads.
    report = {"champion": champion, "champion_metrics": {"accuracy": scores[champion]},
              "models": {n: {"accuracy": v} for n, v in scores.items()}}
    (ctx.out_dir / "metrics.json").write_text(json.dumps(report, sort_keys=True) + "\n")
    return StageResult({"champion": champion, "scores": scores}, f"champion {champion}")


STANDINS = {"validate": validate, "train": train, "evaluate": evaluate}


def module_for(kind: str) -> ModuleType | None:
    """A module-like object with ``run`` for ``kind``, or None for kinds that use the real module."""
    run = STANDINS.get(kind)
    return SimpleNamespace(run=run) if run else None  # type: ignore[return-value]


def stage_module(kind: str) -> ModuleType:
    """Drop-in for :func:`mlspec.runtime.runner.stage_module`: stand-ins, the real data stage."""
    return module_for(kind) or importlib.import_module(f"mlspec.runtime.stages.{kind}")


def write_project(root: Path, train_rows: int = 5) -> Path:
    """A tiny two-source project; returns its mlspec.yaml."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "mlspec.yaml").write_text(TINY_SPEC)
    write_csv(root / "train.csv", train_rows)
    write_csv(root / "holdout.csv", 3)
    return root / "mlspec.yaml"


def write_csv(path: Path, rows: int) -> None:
    path.write_text("x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(rows)))


TINY_SPEC = """\
version: 1
project: tiny
task: binary
data:
  target: y
  sources:
    train: {path: train.csv}
    holdout: {path: holdout.csv}
validation:
  train_check:
    data: train
    expectations:
      - expect_column_values_to_not_be_null: {column: y}
training:
  seed: 1
  models:
    m1: {estimator: sklearn.linear_model.LogisticRegression, data: train}
    m2: {estimator: sklearn.tree.DecisionTreeClassifier, data: train, params: {max_depth: 2}}
evaluation:
  data: holdout
  metrics: [accuracy]
"""
