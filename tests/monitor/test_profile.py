"""The reference profile the train stage saves, and what the monitor stage's fingerprint covers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlspec.load import load
from mlspec.monitor import profile as prof
from mlspec.runtime import stages
from mlspec.runtime.runner import select
from mlspec.runtime.stages import build
from tests.runtime.stagekit import kit_for
from tests.support import EXAMPLES


def test_the_train_stage_saves_a_reference_profile(tmp_path: Path) -> None:
    kit = kit_for("diabetes", tmp_path)
    kit.run("train:ridge")
    path = kit.out_dir("train:ridge") / prof.FILE
    text = path.read_text()
    saved = json.loads(text)
    assert text == prof.dumps(saved)  # sorted keys, fixed layout
    train = pd.read_csv(kit.loaded.root / "data" / "train.csv")
    assert (saved["format"], saved["source"], saved["rows"]) == (prof.FORMAT, "train", len(train))
    bmi = saved["features"]["bmi"]
    assert bmi["kind"] == "numeric" and bmi["rows"] == len(train) and bmi["nulls"] == 0
    assert bmi["sketch"] == sorted(train["bmi"].tolist())  # fewer rows than sketch points: the data itself
    assert sum(bmi["counts"]) == len(train) and len(bmi["counts"]) == len(bmi["edges"]) + 1
    assert saved["features"]["sex"]["counts"] == {str(k): int(v) for k, v in train["sex"].value_counts().items()}
    assert saved["prediction"]["kind"] == "numeric" and saved["prediction"]["rows"] == len(train)


def test_a_profile_of_many_rows_is_small_and_the_same_every_time() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=200_000), "c": rng.choice(list("abc"), 200_000)})
    kinds = [("x", "numeric"), ("c", "categorical")]
    first = prof.dumps(prof.build(frame, kinds, None, "binary", "big"))
    assert first == prof.dumps(prof.build(frame.copy(), kinds, None, "binary", "big"))
    saved = json.loads(first)
    assert len(saved["features"]["x"]["sketch"]) == prof.SKETCH_POINTS
    assert len(saved["features"]["x"]["edges"]) == 9
    assert len(first) < 60_000


def test_predictions_are_profiled_on_a_fixed_sample() -> None:
    class Echo:
        def predict(self, x: pd.DataFrame) -> np.ndarray:
            return x["x"].to_numpy()

    frame = pd.DataFrame({"x": np.arange(prof.PREDICTION_ROWS + 500, dtype=float)})
    first = prof.predict_sample(Echo(), frame, ["x"])
    assert len(first) == prof.PREDICTION_ROWS and (np.diff(first) > 0).all()
    assert (first == prof.predict_sample(Echo(), frame, ["x"])).all()


def test_monitoring_runs_only_when_named() -> None:
    stages = build(load(EXAMPLES / "breast-cancer" / "mlspec.yaml").spec)
    everything, _ = select(stages, [])
    assert "monitor" not in {s.id for s in everything}
    named, _ = select(stages, ["monitor"])
    assert [s.id for s in named] == ["data:train", "data:current", "monitor"]


def test_what_the_monitor_stage_fingerprint_covers() -> None:
    loaded = load(EXAMPLES / "breast-cancer" / "mlspec.yaml")
    stage = next(s for s in build(loaded.spec) if s.id == "monitor")
    sections = stages.spec_sections(loaded.spec, stage)
    assert sorted(sections) == ["data.positive_class", "data.sources.current", "data.sources.train", "data.target",
                                "deploy.<monitored alias>", "evaluation.metrics", "monitoring", "project",
                                "registry", "task"]
    assert "schedule" not in sections["monitoring"] and sections["deploy.<monitored alias>"] == "production"
    assert stages.input_files(loaded.spec, stage) == []  # it reads the snapshots of data:current and data:train
    assert stage.needs == ("data:current", "data:train")
    assert stages.spec_key(stage) == ("monitoring",)
    assert "scipy" in stages.stage_versions(loaded.spec, stage)


def test_a_deeply_nested_reference_profile_is_a_located_error(tmp_path: Path) -> None:
    """json.loads raised RecursionError (a traceback) on 100,000 levels of nesting."""
    from mlspec import jsonio

    path = tmp_path / "reference.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(jsonio.JsonError, match="nested deeper than 64 levels"):
        prof.read(path)
