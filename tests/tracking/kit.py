"""What the tracking tests share: a project whose spec names a tracking backend, records to send, a log."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

from mlspec.load import Loaded, load
from mlspec.runs.record import RunRecord, StageRun
from mlspec.runtime.cilog import Log
from tests.runtime.stagekit import copy_example


def project(into: Path, tracking: str) -> Loaded:
    """The diabetes example (its spec only matters) with ``tracking`` appended as its tracking section."""
    spec = copy_example("diabetes", into)
    spec.write_text(spec.read_text() + f"\ntracking: {tracking}\n")
    return load(spec)


def quiet() -> tuple[Log, io.StringIO]:
    out = io.StringIO()
    return Log(out, out, {}), out


RECORD = RunRecord(
    run_id="gitlab-4711", part="train", project="diabetes", started="2026-12-04T18:00:00Z",
    finished="2026-12-04T18:01:30Z", seconds=90.0, who="ada", commit="0123abc", branch="feature/depth",
    dirty=False, ci={"platform": "gitlab", "pipeline": "4711", "job": "train",
                     "url": "https://gitlab.example.com/p/-/pipelines/4711"},
    overrides=("training.models.forest.params.n_estimators=50",),
    params={"ridge": {"estimator": "sklearn.linear_model.Ridge", "params": {"alpha": 1.0}},
            "forest": {"estimator": "sklearn.ensemble.RandomForestRegressor",
                       "params": {"n_estimators": 50, "min_samples_leaf": 3}}},
    stages=(StageRun("train:ridge", "ran", 1.5), StageRun("train:forest", "ran", 20.0),
            StageRun("data:train", "up to date")),
    spec_fingerprint="f" * 64, mlspec_version="0.14.0",
)
"""The train job's part of a CI pipeline's run: params, no metrics yet."""

EVALUATE = replace(
    RECORD, part="evaluate", started="2026-12-04T18:02:00Z", finished="2026-12-04T18:02:20Z", seconds=20.0,
    ci={**RECORD.ci, "job": "evaluate"}, stages=(StageRun("evaluate", "ran", 3.0), StageRun("gate", "ran", 0.1)),
    metrics={"ridge": {"root_mean_squared_error": 55.5, "r2": 0.45},
             "forest": {"root_mean_squared_error": 57.25, "r2": 0.41}},
    champion="ridge", verdict="passed",
)
"""The same pipeline's evaluate job: metrics, the champion and the gate's verdict."""
