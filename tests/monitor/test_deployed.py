"""Which model monitoring watches when the registry has none: the workspace's champion, read from the
evaluation as every other reader reads it (:func:`mlspec.runtime.stages.evaluate.find_metrics`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlspec.load import load
from mlspec.monitor.deployed import find
from mlspec.runtime.context import StageError
from tests.support import EXAMPLES

METRICS = Path(".mlspec/stages/evaluate/metrics.json")


@pytest.fixture
def wine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "wine"
    shutil.copytree(EXAMPLES / "wine", root)
    monkeypatch.chdir(root)
    monkeypatch.delenv("MLSPEC_CACHE_DIR", raising=False)
    METRICS.parent.mkdir(parents=True)
    return root


def test_the_champion_of_the_workspace_needs_its_bundle(wine: Path) -> None:
    METRICS.write_text(json.dumps({"champion": "logreg", "champion_metrics": {"accuracy": 0.9}}))
    with pytest.raises(StageError) as caught:
        find(load(Path("mlspec.yaml")), environ={})
    assert str(caught.value).endswith("and the champion 'logreg' has no bundle in .mlspec/stages/train/logreg; run "
                                      "`mlspec run`")


def test_the_champion_and_its_metrics_come_from_the_evaluation(wine: Path) -> None:
    METRICS.write_text(json.dumps({"champion": "logreg", "champion_metrics": {"accuracy": 0.9},
                                   "models": {"logreg": {"accuracy": 0.9}, "forest": {"accuracy": 0.8}}}))
    bundle = Path(".mlspec/stages/train/logreg")
    bundle.mkdir(parents=True)
    (bundle / "model.skops").write_bytes(b"not loaded: finding the model reads no bundle")
    found = find(load(Path("mlspec.yaml")), environ={})
    assert (found.trained_model, found.metrics, found.bundle_dir) == ("logreg", {"accuracy": 0.9}, bundle)
    assert found.notice is not None and found.notice.startswith("monitoring the workspace's champion 'logreg'")


def test_a_broken_evaluation_is_named_with_what_to_run(wine: Path) -> None:
    METRICS.write_text(json.dumps({"champion_metrics": {"accuracy": 0.9}}))
    with pytest.raises(StageError) as caught:
        find(load(Path("mlspec.yaml")), environ={})
    assert str(caught.value) == (".mlspec/stages/evaluate/metrics.json: champion: missing or not a string; run "
                                 "`mlspec run evaluate --force`")
    assert caught.value.spec_path == ("evaluation",)
