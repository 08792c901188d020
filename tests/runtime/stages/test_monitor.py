"""The monitor stage and `mlspec monitor` on the bundled examples, with drifted copies of their current data."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.runtime.procs import mlspec
from tests.support import EXAMPLES

_TRAINED: dict[str, Path] = {}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> object:
    """A function giving a copy of an example in which `mlspec run` has run (trained once per example)."""

    def copy(example: str, into: Path) -> Path:
        if example not in _TRAINED:
            root = tmp_path_factory.mktemp("trained") / example
            shutil.copytree(EXAMPLES / example, root)
            result = mlspec(root, "run")
            assert result.returncode == 0, result.stdout + result.stderr
            _TRAINED[example] = root
        shutil.copytree(_TRAINED[example], into)
        return into

    yield copy
    _TRAINED.clear()


def _report(root: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((root / ".mlspec/stages/monitor/drift.json").read_text())
    return data


def _edit(root: Path, change: object) -> None:
    path = root / "data" / "current.csv"
    frame = pd.read_csv(path)
    changed = change(frame)  # type: ignore[operator]
    frame = frame if changed is None else changed
    frame.to_csv(path, index=False)


@pytest.mark.parametrize("example", ["breast-cancer", "wine", "diabetes"])
def test_no_drift_on_the_shipped_current_data(trained: object, tmp_path: Path, example: str) -> None:
    root = trained(example, tmp_path / example)  # type: ignore[operator]
    result = mlspec(root, "monitor")
    assert result.returncode == 0, result.stdout + result.stderr
    report = _report(root)
    features = report["features"]
    assert report["drift"] is False and isinstance(features, list)
    assert report["message"] == f"no drift in {len(features)} features or the predictions"
    assert sorted(p.name for p in (root / ".mlspec/stages/monitor").iterdir()) == [
        "_run", "drift.html", "drift.json", "drift.md", "junit.xml"]
    suite = ET.parse(root / ".mlspec/stages/monitor/junit.xml").getroot()
    assert (suite.get("tests"), suite.get("failures")) == (str(len(features) + 1), "0")
    # Nothing is deployed in these copies: the workspace's champion is monitored, and every report says so.
    assert "notice: monitoring the workspace's champion" in result.stdout
    assert "**Notice:** monitoring the workspace's champion" in (root / ".mlspec/stages/monitor/drift.md").read_text()
    assert report["performance"]["available"] is True  # type: ignore[index]
    # Unchanged inputs: the verdict is up to date and not recomputed.
    again = mlspec(root, "monitor")
    assert again.returncode == 0 and "skip monitor: up to date" in again.stdout


def test_drifted_current_data(trained: object, tmp_path: Path) -> None:
    root = trained("breast-cancer", tmp_path / "bc")  # type: ignore[operator]

    def drift(frame: pd.DataFrame) -> None:
        frame["mean_texture"] += 4.0  # KS, at the spec's p_value
        frame["mean_radius"] *= 1.3  # PSI, by the spec's override

    _edit(root, drift)
    result = mlspec(root, "monitor")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "monitor: drift in 2 of 30 features (mean_radius, mean_texture)" in lines
    assert any(line.split()[:3] == ["mean_radius", "psi", "drift:"] for line in lines)
    # Each drifted feature is an error at the spec key that set its threshold (a GitHub annotation in CI).
    spec = (root / "mlspec.yaml").read_text().splitlines()
    errors = [line for line in result.stderr.splitlines() if ": stage monitor: " in line]
    assert len(errors) == 2
    radius_line = int(errors[0].split(":")[1])
    assert "mean_radius" in spec[radius_line - 1] and "feature 'mean_radius': drift: PSI" in errors[0]
    assert spec[int(errors[1].split(":")[1]) - 1].strip().startswith("p_value:")
    html = (root / ".mlspec/stages/monitor/drift.html").read_text()
    assert html.count('src="data:image/png;base64,') == 2
    suite = ET.parse(root / ".mlspec/stages/monitor/junit.xml").getroot()
    failed = [case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None]
    assert failed == ["mean_radius", "mean_texture"]

    # For the pipelines that act on drift themselves: exit 0, and the flag for the next job.
    outputs = tmp_path / "outputs.env"
    acted = mlspec(root, "monitor", "--exit-zero-on-drift", "--outputs", str(outputs))
    assert acted.returncode == 0, acted.stderr
    assert outputs.read_text() == "MLSPEC_DRIFT=true\n"


def test_a_new_category_an_all_null_feature_and_a_changed_type(trained: object, tmp_path: Path) -> None:
    root = trained("diabetes", tmp_path / "d")  # type: ignore[operator]

    def change(frame: pd.DataFrame) -> None:
        frame.loc[:9, "sex"] = 3
        frame["s4"] = np.nan
        frame["bmi"] = frame["bmi"].astype(object)
        frame.loc[:1, "bmi"] = "unknown"  # not "n/a", which read_csv takes for a missing value

    _edit(root, change)
    result = mlspec(root, "monitor")
    assert result.returncode == 1
    report = _report(root)
    verdicts = {v["name"]: v for v in report["features"]}  # type: ignore[union-attr]
    assert verdicts["sex"]["verdict"] == "new categories" and verdicts["sex"]["new_categories"] == {"3": 10}
    assert verdicts["s4"]["verdict"] == "no data"
    assert verdicts["s4"]["reason"] == "all 133 current values are null; the reference had 309 values"
    assert verdicts["bmi"]["verdict"] == "type changed"
    # The model cannot read text in a numeric column: the verdicts stand, and the report says what failed.
    assert report["prediction"] is None
    assert report["performance"]["reason"].startswith(  # type: ignore[index]
        "model 'ridge' cannot predict on data source 'current': ")


def test_empty_current_data_is_an_error_not_a_verdict(trained: object, tmp_path: Path) -> None:
    root = trained("wine", tmp_path / "w")  # type: ignore[operator]
    _edit(root, lambda frame: frame.iloc[:0])
    outputs = tmp_path / "outputs.env"
    result = mlspec(root, "monitor", "--exit-zero-on-drift", "--outputs", str(outputs))
    assert result.returncode == 1
    line = next(line for line in result.stderr.splitlines() if "stage monitor" in line)
    assert line.endswith("stage monitor: data source 'current' has no rows: there is nothing to monitor (an empty "
                         "export is a broken data pipeline, not an absence of drift)")
    assert (root / "mlspec.yaml").read_text().splitlines()[int(line.split(":")[1]) - 1].strip() == "current: current"
    assert not outputs.exists()  # no verdict: nothing for a later job to act on
    assert "Traceback" not in result.stderr


def test_missing_columns_are_named_with_the_source(trained: object, tmp_path: Path) -> None:
    root = trained("wine", tmp_path / "w")  # type: ignore[operator]
    _edit(root, lambda frame: frame.drop(columns=["hue", "proline"]))
    result = mlspec(root, "monitor")
    assert result.returncode == 1
    assert ("stage monitor: data source 'current' lacks 2 columns needed by model 'logreg': 'hue', 'proline'"
            in result.stderr)


def test_without_a_trained_model_monitoring_says_what_to_do(tmp_path: Path) -> None:
    root = tmp_path / "wine"
    shutil.copytree(EXAMPLES / "wine", root)
    result = mlspec(root, "monitor")
    assert result.returncode == 1
    assert ("stage monitor: no model to monitor: the registry .mlspec/registry has no alias 'production' for "
            "'wine', and the workspace has no evaluation to take the champion from; deploy a model or run `mlspec "
            "run` first") in result.stderr


def test_the_deployed_model_comes_from_the_registry(trained: object, tmp_path: Path) -> None:
    root = trained("breast-cancer", tmp_path / "bc")  # type: ignore[operator]
    registry = tmp_path / "registry"
    deployed = mlspec(root, "deploy", "production", MLSPEC_REGISTRY=str(registry))
    assert deployed.returncode == 0, deployed.stderr
    result = mlspec(root, "monitor", MLSPEC_REGISTRY=str(registry))
    assert result.returncode == 0, result.stderr
    report = _report(root)
    model = report["model"]
    assert model == {"trained_model": "logreg", "notice": None,  # type: ignore[comparison-overlap]
                     "where": f"registry alias 'production': version 1 of 'breast-cancer' ({registry})"}
    assert "notice" not in result.stdout
    # The registered bundle carries the reference profile the train stage saved.
    assert (registry / "breast-cancer/versions/1/bundle/reference.json").is_file()


def test_labels_are_optional(trained: object, tmp_path: Path) -> None:
    root = trained("wine", tmp_path / "w")  # type: ignore[operator]
    _edit(root, lambda frame: frame.drop(columns=["cultivar"]))
    assert mlspec(root, "monitor").returncode == 0
    assert _report(root)["performance"] == {"available": False, "rows": 0, "metrics": [],
                                            "reason": "the current data has no 'cultivar' column"}


def test_reports_are_the_same_bytes_every_time(trained: object, tmp_path: Path) -> None:
    first, second = (trained("wine", tmp_path / n) for n in ("a", "b"))  # type: ignore[operator]
    for root in (first, second):
        _edit(root, lambda frame: frame.assign(alcohol=frame["alcohol"] + 1.0))
        assert mlspec(root, "monitor").returncode == 1
    for name in ("drift.json", "drift.md", "drift.html", "junit.xml"):
        a, b = (r / ".mlspec/stages/monitor" / name for r in (first, second))
        assert a.read_bytes() == b.read_bytes(), name


def test_open_issue_needs_a_report_and_drift(trained: object, tmp_path: Path) -> None:
    root = trained("wine", tmp_path / "w")  # type: ignore[operator]
    missing = mlspec(root, "monitor", "--open-issue")
    assert missing.returncode == 1
    assert missing.stderr == ("error: no drift report in .mlspec/stages/monitor: run `mlspec monitor` first (in CI, "
                              "this job needs the monitor job's artifact)\n")
    assert mlspec(root, "monitor").returncode == 0
    calm = mlspec(root, "monitor", "--open-issue")
    assert (calm.returncode, calm.stdout) == (0, "no drift in the last report (no drift in 13 features or the "
                                                 "predictions); no issue opened\n")
