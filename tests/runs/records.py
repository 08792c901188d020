"""Hand-made run records for the tests of the history's parts that need no real run."""

from __future__ import annotations

from typing import Any

from mlspec.runs.record import RunRecord, StageRun


def record(run_id: str = "20261201T100000Z-aaaaaa", *, part: str = "local", finished: str = "2026-12-01T10:00:05+00:00",
           branch: str | None = "main", depth: Any = 3, auc: float = 0.9, project: str = "tiny",
           stages: tuple[StageRun, ...] = (StageRun("train:forest", "ran", 1.5),)) -> RunRecord:
    return RunRecord(
        run_id=run_id, part=part, project=project, started=finished.replace(":05+", ":00+"), finished=finished,
        seconds=5.0, who="someone", commit="c" * 40, branch=branch, dirty=False,
        params={"forest": {"estimator": "sklearn.ensemble.RandomForestClassifier", "params": {"max_depth": depth}}},
        metrics={"forest": {"roc_auc": auc, "accuracy": auc - 0.1}}, champion="forest",
        data={"train": "sha256:" + "1" * 64}, stages=stages, verdict="passed",
    )
