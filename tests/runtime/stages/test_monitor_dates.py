"""`mlspec run` and `mlspec monitor` on a project with a date column and derived features: months later the
dates are all new, yet that is no drift; a shifted derived input is."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine

from tests.runtime.procs import mlspec

SPEC = """\
version: 1
project: wine-dated
task: multiclass
data:
  target: cultivar
  sources:
    train: {path: train.csv}
    holdout: {path: holdout.csv}
    current: {path: current.csv}
  features:
    numeric: [alcohol, hue, color_intensity]
    datetime: [bottled]
  derived:
    alcohol_per_hue: {expr: "alcohol / hue"}
    log_proline: {log: proline}
training:
  models:
    forest:
      estimator: sklearn.ensemble.RandomForestClassifier
      params: {n_estimators: 25}
      data: train
evaluation:
  data: holdout
  metrics: [accuracy]
monitoring:
  current: current
  drift: {method: ks, p_value: 0.001}
"""


def _tables(root: Path) -> pd.DataFrame:
    wine: pd.DataFrame = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
    rng = np.random.default_rng(1)
    wine["bottled"] = (pd.Timestamp("2020-01-01")
                       + pd.to_timedelta(rng.integers(0, 700, len(wine)), unit="D")).strftime("%Y-%m-%d")
    wine = wine.sample(frac=1.0, random_state=0).reset_index(drop=True)
    wine.iloc[:120].to_csv(root / "train.csv", index=False)
    wine.iloc[120:].to_csv(root / "holdout.csv", index=False)
    return wine


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dated")
    (root / "mlspec.yaml").write_text(SPEC)
    wine = _tables(root)
    later = wine.iloc[:120].copy()
    later["bottled"] = (pd.to_datetime(later["bottled"]) + pd.DateOffset(years=3)).dt.strftime("%Y-%m-%d")
    later.to_csv(root / "current.csv", index=False)
    result = mlspec(root, "run")
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def _monitor(root: Path, code: int = 0) -> dict[str, object]:
    result = mlspec(root, "monitor")
    assert result.returncode == code, result.stdout + result.stderr
    report: dict[str, object] = json.loads((root / ".mlspec/stages/monitor/drift.json").read_text())
    return report


def test_new_dates_are_not_drift(project: Path) -> None:
    report = _monitor(project)
    names = [f["name"] for f in report["features"]]  # type: ignore[attr-defined, index]
    # The raw inputs are watched (proline feeds a derived feature); the date, whose values always move on, is not.
    assert names == ["alcohol", "hue", "color_intensity", "proline"]
    assert report["drift"] is False


def test_a_shifted_input_of_a_derived_feature_is_drift(project: Path) -> None:
    current = pd.read_csv(project / "current.csv")
    current["proline"] = current["proline"] * 3
    current.to_csv(project / "current.csv", index=False)
    report = _monitor(project, code=1)  # monitoring.on_drift defaults to fail
    assert report["drift"] is True
    drifted = [f["name"] for f in report["features"] if f["drift"]]  # type: ignore[attr-defined, index]
    assert drifted == ["proline"]
