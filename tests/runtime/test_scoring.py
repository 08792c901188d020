"""Scoring by the positive class and the decision threshold (mlspec.runtime.scoring), on scikit-learn's breast
cancer data with text labels, with real estimators and the evaluate stage's own functions."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm

from mlspec.monitor import performance
from mlspec.monitor import profile as prof
from mlspec.runtime import scoring
from mlspec.runtime.bundle import Bundle


def _data() -> tuple[pd.DataFrame, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    return data.data, np.where(data.target == 0, "no", "yes").astype(object)  # "no": malignant


def _bundle(estimator: Any, decision: dict[str, Any] | None = None) -> Bundle:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = _data()
    pipeline = make_pipeline(StandardScaler(), estimator).fit(x, y)
    metadata: dict[str, Any] = {"estimator": type(estimator).__name__,
                                "input": {"features": [{"name": c} for c in x.columns], "classes": ["no", "yes"]}}
    if decision is not None:
        metadata["decision"] = decision
    return Bundle(Path("unused"), pipeline, metadata)


def _spec(*metrics: str) -> Any:
    return SimpleNamespace(task="binary", evaluation=SimpleNamespace(metrics=list(metrics)))


def test_the_positive_class_need_not_sort_last() -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = _data()
    model = _bundle(LogisticRegression(max_iter=5000))
    scored = scoring.predict("binary", "m", model, x, "data", positive_class="no")
    assert scored.positive_label == "no"
    p_no = model.model.predict_proba(x)[:, 0]
    got = scoring.compute_metrics(_spec("average_precision", "roc_auc", "log_loss", "brier_score", "recall"),
                                  scored, y)
    malignant = (y == "no").astype(int)
    assert got == pytest.approx({
        "average_precision": skm.average_precision_score(malignant, p_no),
        "roc_auc": skm.roc_auc_score(malignant, p_no),
        "log_loss": skm.log_loss(malignant, p_no),
        "brier_score": skm.brier_score_loss(malignant, p_no),
        "recall": skm.recall_score(y, model.model.predict(x), pos_label="no"),
    }, rel=1e-12)


def test_a_decision_function_is_turned_towards_the_positive_class() -> None:
    from sklearn.svm import LinearSVC

    x, y = _data()
    model = _bundle(LinearSVC())
    as_no = scoring.predict("binary", "m", model, x, "data", positive_class="no")
    as_yes = scoring.predict("binary", "m", model, x, "data", positive_class="yes")
    margin = model.model.decision_function(x)  # positive for "yes", scikit-learn's classes_[1]
    assert as_no.positive_score() == pytest.approx(-margin) and as_yes.positive_score() == pytest.approx(margin)
    auc_no = scoring.compute_metrics(_spec("roc_auc"), as_no, y)["roc_auc"]
    assert auc_no == pytest.approx(skm.roc_auc_score(y == "no", -margin), rel=1e-12)
    assert auc_no == pytest.approx(scoring.compute_metrics(_spec("roc_auc"), as_yes, y)["roc_auc"], rel=1e-12)
    frame = scoring.predictions_frame(x.index, y, [as_no])
    assert frame["m:score"].to_numpy() == pytest.approx(-margin)


def test_predict_labels_cuts_the_positive_probability_at_the_threshold() -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = _data()
    own = _bundle(LogisticRegression(max_iter=5000))
    cut = _bundle(LogisticRegression(max_iter=5000), {"positive_class": "no", "threshold": 0.2})
    p_no = cut.model.predict_proba(x)[:, 0]
    labels = scoring.predict_labels(cut, x)
    assert labels.tolist() == np.where(p_no >= 0.2, "no", "yes").tolist()
    assert scoring.predict_labels(own, x).tolist() == own.model.predict(x).tolist()
    # A lower threshold for the positive class finds more of it.
    assert skm.recall_score(y, labels, pos_label="no") > skm.recall_score(y, own.model.predict(x), pos_label="no")
    assert scoring.predict("binary", "m", cut, x, "data").predictions.tolist() == labels.tolist()


def test_monitoring_scores_labels_by_the_threshold_and_drift_by_the_estimator() -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = _data()
    cut = _bundle(LogisticRegression(max_iter=5000), {"positive_class": "no", "threshold": 0.2})
    frame = x.assign(diagnosis=y)
    scored = performance.score(cut, frame, "m", "current")
    rows = scored.rows
    assert scored.labels is not None
    assert scored.labels.tolist() == scoring.predict_labels(cut, x.iloc[rows]).tolist()
    assert scored.predictions.tolist() == cut.model.predict(x.iloc[rows]).tolist()
    spec = SimpleNamespace(task="binary", data=SimpleNamespace(target="diagnosis", positive_class="no"),
                           evaluation=SimpleNamespace(metrics=["recall"]))
    report = performance.compare(spec, cut, "m", frame, scored, {"recall": 0.5})
    expected = skm.recall_score(y[rows], scored.labels, pos_label="no")
    assert report["metrics"][0]["current"] == prof.shown(expected)
