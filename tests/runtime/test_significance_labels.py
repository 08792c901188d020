"""The significance test rebuilds a binary model's outputs from predictions.parquet about the same positive
class the evaluate stage scored, so recomputed metrics reproduce the recorded ones whichever label sorts last."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlspec.runtime.scoring import Scored, compute_metrics, predictions_frame
from mlspec.runtime.significance import scored_from

METRICS = ["average_precision", "roc_auc", "log_loss", "brier_score", "f1", "recall"]


@pytest.mark.parametrize("positive", ["no", "yes"])
def test_rebuilt_outputs_reproduce_the_metrics(positive: str) -> None:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    x, target = load_breast_cancer(return_X_y=True)
    y = np.where(target == 0, "no", "yes").astype(object)
    model = LogisticRegression(max_iter=5000).fit(x[::2], y[::2])
    proba = model.predict_proba(x[1::2])
    truth = y[1::2]
    original = Scored("m", "LogisticRegression", ["no", "yes"], model.predict(x[1::2]), proba, None, positive)
    spec: Any = SimpleNamespace(task="binary", evaluation=SimpleNamespace(metrics=METRICS))
    recorded = compute_metrics(spec, original, truth)

    frame = predictions_frame(pd.RangeIndex(len(truth)), truth, [original])
    rebuilt = scored_from(frame, "m", "binary", frame["y_true"].to_numpy(), positive)
    assert rebuilt.positive_label == positive
    assert compute_metrics(spec, rebuilt, truth) == pytest.approx(recorded, rel=1e-12)
