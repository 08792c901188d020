"""The positive class and the decision threshold through the data, train and evaluate stages, on scikit-learn's
bundled breast cancer data with its labels as text, named both ways round."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm

from mlspec.load import load
from mlspec.runtime.context import StageError
from tests.runtime.stagekit import Kit

SPEC = """\
version: 1
project: cancer
task: binary
data:
  target: diagnosis
{positive}  sources:
    train: {{path: train.csv}}
    holdout: {{path: holdout.csv}}
training:
  models:
    logreg:
      estimator: sklearn.linear_model.LogisticRegression
      params: {{max_iter: 5000}}
      data: train
      preprocessing: {{numeric: {{scale: standard}}}}
{threshold}evaluation:
  data: holdout
  metrics: [average_precision, roc_auc, f1, recall, precision, log_loss, brier_score, accuracy]
"""
METRICS = ["average_precision", "roc_auc", "f1", "recall", "precision", "log_loss", "brier_score", "accuracy"]


def project(root: Path, malignant: str, benign: str, positive: str | None, threshold: float | None = None) -> Kit:
    """Breast cancer data (malignant is scikit-learn's 0) with the two diagnoses called ``malignant`` and
    ``benign``; ``positive`` is the spec's ``positive_class`` line (None: none)."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.data.rename(columns=lambda c: c.replace(" ", "_"))
    frame["diagnosis"] = np.where(data.target == 0, malignant, benign)
    root.mkdir(parents=True)
    order = np.random.default_rng(0).permutation(len(frame))
    frame.iloc[order[:400]].to_csv(root / "train.csv", index=False)
    frame.iloc[order[400:]].to_csv(root / "holdout.csv", index=False)
    line = f"  positive_class: {positive}\n" if positive is not None else ""
    cut = f"      threshold: {threshold}\n" if threshold is not None else ""
    (root / "mlspec.yaml").write_text(SPEC.format(positive=line, threshold=cut))
    return Kit.of(root / "mlspec.yaml", root.parent / f"{root.name}-work")


def metrics(kit: Kit) -> dict[str, object]:
    kit.run("evaluate")
    report: dict[str, object] = json.loads((kit.out_dir("evaluate") / "metrics.json").read_text())
    return report


def test_the_positive_class_decides_the_metrics_whichever_way_the_labels_sort(tmp_path: Path) -> None:
    # "yes" sorts after "no", so it was scikit-learn's positive class already; "no" sorts first and was not.
    yes = metrics(project(tmp_path / "yes", "yes", "no", '"yes"'))
    no = metrics(project(tmp_path / "no", "no", "yes", '"no"'))
    assert yes["positive_class"] == "yes" and no["positive_class"] == "no"
    assert no["models"]["logreg"] == pytest.approx(yes["models"]["logreg"], rel=1e-9)  # type: ignore[index]

    # And it is the malignant class's average precision, as scikit-learn computes it on that class.
    holdout = pd.read_csv(tmp_path / "no" / "holdout.csv")
    scores = pd.read_parquet(tmp_path / "no-work" / "evaluate" / "predictions.parquet")["logreg:score"]
    malignant = (holdout["diagnosis"] == "no").to_numpy()
    expected = skm.average_precision_score(malignant, scores)
    assert no["models"]["logreg"]["average_precision"] == pytest.approx(expected, rel=1e-12)  # type: ignore[index]
    # The benign class's average precision is another number: judging it would be the silent mistake.
    assert abs(skm.average_precision_score(~malignant, 1 - scores) - expected) > 1e-4


def test_per_class_metrics_sit_beside_the_gateable_ones(tmp_path: Path) -> None:
    report = metrics(project(tmp_path / "p", "yes", "no", '"yes"'))
    per_class = report["per_class"]["logreg"]  # type: ignore[index]
    holdout = pd.read_csv(tmp_path / "p" / "holdout.csv")
    assert {k: v["support"] for k, v in per_class.items()} == holdout["diagnosis"].value_counts().to_dict()
    assert per_class["yes"]["recall"] == pytest.approx(report["models"]["logreg"]["recall"])  # type: ignore[index]
    assert per_class["yes"]["f1"] == pytest.approx(report["models"]["logreg"]["f1"])  # type: ignore[index]
    assert list(report["models"]["logreg"]) == METRICS  # type: ignore[index]
    assert report["decisions"] == {"logreg": {"positive_class": "yes", "threshold": None}}


def test_without_a_positive_class_the_data_stage_stops_at_the_target(tmp_path: Path) -> None:
    kit = project(tmp_path / "p", "affair", "faithful", None)
    with pytest.raises(StageError) as err:
        kit.run("data:train")
    counts = pd.read_csv(tmp_path / "p" / "train.csv")["diagnosis"].value_counts()
    assert str(err.value) == (
        f"target column 'diagnosis' of data source 'train': the task is binary and the labels are \"affair\" "
        f"({counts['affair']} rows), \"faithful\" ({counts['faithful']} rows), which do not say which one is "
        "positive; name it under data, `positive_class: \"affair\"` or `positive_class: \"faithful\"` (the class "
        "whose precision, recall and probability the metrics are about)")
    assert err.value.spec_path == ("data", "target")
    # The holdout is not a training source: its labels are the evaluate stage's business.
    assert kit.run("data:holdout").failed is None


def test_an_unquoted_yes_is_pointed_at_with_the_fix(tmp_path: Path) -> None:
    kit = project(tmp_path / "p", "yes", "no", "yes")  # YAML: true
    with pytest.raises(StageError) as err:
        kit.run("data:train")
    assert 'YAML reads an unquoted yes as true: quote it, `positive_class: "yes"`' in str(err.value)
    assert err.value.spec_path == ("data", "positive_class")


def test_the_train_stage_applies_the_same_rule(tmp_path: Path) -> None:
    """A data stage left up to date by an earlier spec: the train stage checks the labels again."""
    kit = project(tmp_path / "p", "yes", "no", '"yes"')
    kit.prepare("data:train")
    path = kit.loaded.path
    path.write_text(path.read_text().replace('positive_class: "yes"', 'positive_class: "maybe"'))
    kit.loaded = load(path)  # the data stage's outputs stay: it is not rerun
    with pytest.raises(StageError) as err:
        kit.run("train:logreg")
    assert "positive_class \"maybe\" is not one of the labels" in str(err.value)
    assert err.value.spec_path == ("data", "positive_class")


def test_a_threshold_decides_the_labels_of_evaluate(tmp_path: Path) -> None:
    plain = metrics(project(tmp_path / "plain", "yes", "no", '"yes"'))
    strict = metrics(project(tmp_path / "strict", "yes", "no", '"yes"', threshold=0.9))
    assert strict["decisions"] == {"logreg": {"positive_class": "yes", "threshold": 0.9}}
    meta = json.loads((tmp_path / "strict-work" / "train-logreg" / "metadata.json").read_text())
    assert meta["decision"] == {"positive_class": "yes", "threshold": 0.9}

    frame = pd.read_parquet(tmp_path / "strict-work" / "evaluate" / "predictions.parquet")
    expected = np.where(frame["logreg:score"] >= 0.9, "yes", "no")
    assert (frame["logreg:pred"].to_numpy() == expected).all()
    truth = frame["y_true"].to_numpy()
    s, p = strict["models"]["logreg"], plain["models"]["logreg"]  # type: ignore[index]
    assert s["recall"] == pytest.approx(skm.recall_score(truth, expected, pos_label="yes"))
    # A stricter cut finds fewer positives (recall falls) and is right more often when it does (precision).
    assert s["recall"] < p["recall"] and s["precision"] >= p["precision"]
    # The threshold moves labels, not scores: ranking metrics stay as they were.
    assert s["roc_auc"] == pytest.approx(p["roc_auc"], rel=1e-12)


def test_a_threshold_needs_predict_proba(tmp_path: Path) -> None:
    kit = project(tmp_path / "p", "yes", "no", '"yes"', threshold=0.5)
    kit.edit_spec("sklearn.linear_model.LogisticRegression", "sklearn.svm.LinearSVC")
    with pytest.raises(StageError) as err:
        kit.run("train:logreg")
    assert str(err.value) == ("sklearn.svm.LinearSVC has no predict_proba, so no probability for the threshold to "
                              "cut; remove the threshold or use an estimator with predict_proba")
    assert err.value.spec_path == ("training", "models", "logreg", "threshold")


def test_a_holdout_label_never_seen_in_training(tmp_path: Path) -> None:
    kit = project(tmp_path / "p", "yes", "no", '"yes"')
    kit.edit_csv("holdout.csv", [0, 3], "diagnosis", ["unsure", "unsure"])
    with pytest.raises(StageError) as err:
        kit.run("evaluate")
    assert str(err.value) == (
        "data source 'holdout' has label(s) 'unsure' that model 'logreg' never saw in training on data source "
        "'train', whose labels are ['no', 'yes']; fix the data or train on data with every label")
    assert err.value.spec_path == ("evaluation", "data")
