"""The evaluate stage: metrics cross-checked against scikit-learn, champion choice, outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from mlspec.load import load
from mlspec.runtime import bundle
from mlspec.runtime.context import StageError
from mlspec.runtime.stages.evaluate import choose_champion, find_metrics, read_metrics
from mlspec.runtime.workspace import display_path
from mlspec.spec import Champion, Evaluation
from tests.runtime.stagekit import EXAMPLES as EXAMPLES_DIR
from tests.runtime.stagekit import Kit, kit_for

PNG = b"\x89PNG\r\n\x1a\n"


def _holdout(kit: Kit) -> pd.DataFrame:
    return pd.read_csv(kit.loaded.root / "data" / "holdout.csv")


def _model(kit: Kit, name: str) -> Any:
    return bundle.load(kit.out_dir(f"train:{name}")).model


def _expected_binary(model: Any, x: pd.DataFrame, y: np.ndarray) -> dict[str, float]:
    proba = model.predict_proba(x)[:, 1]
    pred = model.predict(x)
    return {"roc_auc": skm.roc_auc_score(y, proba), "accuracy": skm.accuracy_score(y, pred),
            "f1": skm.f1_score(y, pred), "log_loss": skm.log_loss(y, proba)}


def _expected_multiclass(model: Any, x: pd.DataFrame, y: np.ndarray) -> dict[str, float]:
    pred = model.predict(x)
    return {"f1_macro": skm.f1_score(y, pred, average="macro"), "accuracy": skm.accuracy_score(y, pred),
            "roc_auc_ovr": skm.roc_auc_score(y, model.predict_proba(x), multi_class="ovr")}


def _expected_regression(model: Any, x: pd.DataFrame, y: np.ndarray) -> dict[str, float]:
    pred = model.predict(x)
    return {"root_mean_squared_error": skm.root_mean_squared_error(y, pred),
            "mean_absolute_error": skm.mean_absolute_error(y, pred), "r2": skm.r2_score(y, pred)}


EXAMPLES = [
    ("breast-cancer", _expected_binary, ["confusion_matrix-forest.png", "confusion_matrix-logreg.png", "roc.png"]),
    ("wine", _expected_multiclass, ["confusion_matrix-boosting.png", "confusion_matrix-logreg.png"]),
    ("diabetes", _expected_regression, ["regression-forest.png", "regression-ridge.png"]),
]


@pytest.mark.parametrize(("example", "expected_fn", "plots"), EXAMPLES)
def test_metrics_match_scikit_learn(example: str, expected_fn: Any, plots: list[str], tmp_path: Path) -> None:
    kit = kit_for(example, tmp_path)
    result = kit.run("evaluate")
    spec = kit.loaded.spec
    holdout = _holdout(kit)
    y = holdout[spec.data.target].to_numpy()
    x = holdout.drop(columns=[spec.data.target])
    models = list(spec.training.models)
    expected = {m: expected_fn(_model(kit, m), x, y) for m in models}

    out = kit.out_dir("evaluate")
    report = json.loads((out / "metrics.json").read_text())
    assert list(report["models"]) == models
    for m in models:
        assert list(report["models"][m]) == spec.evaluation.metrics
        assert report["models"][m] == pytest.approx(expected[m], rel=1e-12)
    champion = report["champion"]
    assert report["champion_metrics"] == report["models"][champion]
    # The lock records every model's metrics besides the champion's, for `mlspec diff`.
    assert result.metrics == {"champion": champion, **report["champion_metrics"], "models": report["models"]}
    assert report["data"]["source"] == "holdout"
    assert report["data"]["rows"] == len(holdout)
    assert report["data"]["digest"].startswith("sha256:")
    assert sorted(p.name for p in (out / "plots").iterdir()) == plots
    assert all((out / "plots" / p).read_bytes().startswith(PNG) for p in plots)

    # What every other module reads: the same values, typed.
    evaluation = read_metrics(out)
    assert (evaluation.path, evaluation.champion) == (out / "metrics.json", champion)
    assert evaluation.champion_metrics == report["champion_metrics"]
    assert evaluation.models == report["models"] and list(evaluation.models) == models
    assert evaluation.metrics == tuple(spec.evaluation.metrics)
    assert evaluation.directions == report["directions"]
    assert evaluation.document == report
    assert find_metrics(out) == evaluation


def test_binary_champion_and_predictions(tmp_path: Path) -> None:
    kit = kit_for("breast-cancer", tmp_path)
    kit.run("evaluate")
    report = json.loads((kit.out_dir("evaluate") / "metrics.json").read_text())
    assert report["directions"] == {"roc_auc": "higher", "accuracy": "higher", "f1": "higher", "log_loss": "lower"}
    assert report["champion_rule"] == {"metric": "roc_auc", "direction": "higher"}
    aucs = {m: v["roc_auc"] for m, v in report["models"].items()}
    assert report["champion"] == max(aucs, key=lambda m: aucs[m])
    assert report["scores"] == {"logreg": "predict_proba", "forest": "predict_proba"}

    frame = pd.read_parquet(kit.out_dir("evaluate") / "predictions.parquet")
    holdout = _holdout(kit)
    x = holdout.drop(columns=["malignant"])
    assert list(frame.columns) == ["row", "y_true", "logreg:pred", "logreg:score", "forest:pred", "forest:score"]
    assert frame["row"].tolist() == list(range(len(holdout)))
    assert np.array_equal(frame["y_true"], holdout["malignant"])
    forest = _model(kit, "forest")
    assert np.array_equal(frame["forest:pred"], forest.predict(x))
    assert np.array_equal(frame["forest:score"], forest.predict_proba(x)[:, 1])


def test_multiclass_predictions_keep_every_class_probability(tmp_path: Path) -> None:
    kit = kit_for("wine", tmp_path)
    kit.run("evaluate")
    frame = pd.read_parquet(kit.out_dir("evaluate") / "predictions.parquet")
    assert list(frame.columns) == [
        "row", "y_true",
        "logreg:pred", "logreg:proba:0", "logreg:proba:1", "logreg:proba:2",
        "boosting:pred", "boosting:proba:0", "boosting:proba:1", "boosting:proba:2",
    ]
    report = json.loads((kit.out_dir("evaluate") / "metrics.json").read_text())
    # Both models are perfect on this holdout: the tie goes to the model declared first.
    assert report["models"]["logreg"]["f1_macro"] == report["models"]["boosting"]["f1_macro"] == 1.0
    assert report["champion"] == "logreg"


def test_lower_rmse_wins(tmp_path: Path) -> None:
    kit = kit_for("diabetes", tmp_path)
    result = kit.run("evaluate")
    report = json.loads((kit.out_dir("evaluate") / "metrics.json").read_text())
    rmse = {m: v["root_mean_squared_error"] for m, v in report["models"].items()}
    assert rmse["ridge"] < rmse["forest"]
    assert report["champion"] == "ridge"
    assert report["champion_rule"] == {"metric": "root_mean_squared_error", "direction": "lower"}
    assert report["scores"] == {"ridge": None, "forest": None}
    assert result.summary.startswith("champion ridge: root_mean_squared_error=")
    frame = pd.read_parquet(kit.out_dir("evaluate") / "predictions.parquet")
    assert list(frame.columns) == ["row", "y_true", "ridge:pred", "forest:pred"]


def test_fixed_champion_and_default_rule(tmp_path: Path) -> None:
    kit = kit_for("diabetes", tmp_path)
    kit.edit_spec("champion: {metric: root_mean_squared_error}", "champion: {model: forest}")
    kit.run("evaluate")
    report = json.loads((kit.out_dir("evaluate") / "metrics.json").read_text())
    assert report["champion"] == "forest"
    assert report["champion_rule"] == {"model": "forest"}


@pytest.mark.parametrize(
    ("champion", "expected"),
    [
        (None, "a"),  # default: the first metric, accuracy (higher is better)
        (Champion(metric="accuracy"), "a"),
        (Champion(metric="log_loss"), "b"),  # lower is better
        (Champion(metric="f1"), "b"),  # b and c tie; a's undefined value never wins
        (Champion(metric="roc_auc"), "a"),  # a and c tie: a is declared first
        (Champion(model="c"), "c"),
    ],
)
def test_choose_champion(champion: Champion | None, expected: str) -> None:
    base = load(EXAMPLES_DIR / "breast-cancer" / "mlspec.yaml").spec
    evaluation = Evaluation(data="holdout", metrics=["accuracy", "log_loss", "f1", "roc_auc"], champion=champion)
    spec = base.model_copy(update={"evaluation": evaluation})
    table: dict[str, dict[str, float | None]] = {
        "a": {"accuracy": 0.9, "log_loss": 0.3, "f1": None, "roc_auc": 0.95},
        "b": {"accuracy": 0.8, "log_loss": 0.2, "f1": 0.7, "roc_auc": 0.90},
        "c": {"accuracy": 0.85, "log_loss": 0.25, "f1": 0.7, "roc_auc": 0.95},
    }
    assert choose_champion(spec, table) == expected


def _use_linear_svc(kit: Kit) -> None:
    kit.edit_spec(
        "estimator: sklearn.ensemble.RandomForestClassifier\n      params: {n_estimators: 200, max_depth: 8}",
        "estimator: sklearn.svm.LinearSVC\n      params: {}",
    )


def test_decision_function_scores_serve_roc_auc(tmp_path: Path) -> None:
    kit = kit_for("breast-cancer", tmp_path)
    _use_linear_svc(kit)
    kit.edit_spec("    log_loss: {max: 0.3, warn_only: true}\n", "")
    kit.edit_spec("metrics: [roc_auc, accuracy, f1, log_loss]", "metrics: [roc_auc, accuracy, f1]")
    kit.run("evaluate")
    report = json.loads((kit.out_dir("evaluate") / "metrics.json").read_text())
    assert report["scores"] == {"logreg": "predict_proba", "forest": "decision_function"}
    holdout = _holdout(kit)
    svc = _model(kit, "forest")
    expected = skm.roc_auc_score(holdout["malignant"], svc.decision_function(holdout.drop(columns=["malignant"])))
    assert report["models"]["forest"]["roc_auc"] == pytest.approx(expected, rel=1e-12)


def test_probability_metric_without_predict_proba(tmp_path: Path) -> None:
    kit = kit_for("breast-cancer", tmp_path)
    _use_linear_svc(kit)
    with pytest.raises(StageError) as err:
        kit.run("evaluate")
    assert str(err.value) == (
        "metric 'log_loss' needs predicted probabilities (predict_proba), but model 'forest' "
        "(sklearn.svm.LinearSVC) has no predict_proba"
    )
    assert err.value.spec_path == ("evaluation", "metrics", 3)


def test_evaluation_data_without_a_feature_column(tmp_path: Path) -> None:
    kit = kit_for("breast-cancer", tmp_path)
    kit.run("train:logreg")
    kit.run("train:forest")
    path = kit.loaded.root / "data" / "holdout.csv"
    pd.read_csv(path).rename(columns={"mean_area": "mean_aera"}).to_csv(path, index=False)
    with pytest.raises(StageError) as err:
        kit.run("evaluate")
    assert str(err.value) == (
        "data source 'holdout' has no column 'mean_area', needed by model 'logreg'; did you mean 'mean_aera'?"
    )
    assert err.value.spec_path == ("evaluation", "data")


SPEC = """\
version: 1
project: shop
task: binary
data:
  target: bought
  positive_class: "yes"
  exclude: [id]
  sources:
    train: {path: train.csv}
    holdout: {path: holdout.csv}
training:
  models:
    tree:
      estimator: sklearn.tree.DecisionTreeClassifier
      params: {max_depth: 3}
      data: train
      preprocessing:
        categorical: {impute: constant}
evaluation:
  data: holdout
  metrics: [accuracy, precision, roc_auc]
"""


def test_inferred_text_features_and_unseen_categories(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n = 300
    colors = rng.choice(["red", "green", "blue"], size=n).astype(object)
    colors[::17] = None
    price = rng.uniform(1, 100, size=n)
    bought = np.where((colors == "red") | (price < 20), "yes", "no")
    frame = pd.DataFrame({"id": np.arange(n), "color": colors, "price": price, "bought": bought})
    frame.iloc[:200].to_csv(tmp_path / "train.csv", index=False)
    holdout = frame.iloc[200:].copy()
    holdout.loc[holdout.index[:5], "color"] = "purple"  # never seen in training
    holdout.to_csv(tmp_path / "holdout.csv", index=False)
    (tmp_path / "mlspec.yaml").write_text(SPEC)
    kit = Kit.of(tmp_path / "mlspec.yaml", tmp_path / "work")
    kit.run("evaluate")

    meta = json.loads((kit.out_dir("train:tree") / "metadata.json").read_text())
    assert [(f["name"], f["kind"]) for f in meta["input"]["features"]] == [("price", "numeric"),
                                                                            ("color", "categorical")]
    assert meta["input"]["classes"] == ["no", "yes"]
    assert meta["input"]["declared"] is False
    report = json.loads((kit.out_dir("evaluate") / "metrics.json").read_text())
    model = _model(kit, "tree")
    saved = pd.read_csv(tmp_path / "holdout.csv")
    x, y = saved.drop(columns=["bought", "id"]), saved["bought"]
    pred = model.predict(x)
    # The positive class of the binary task is the one it names: "yes".
    assert report["models"]["tree"] == pytest.approx({
        "accuracy": skm.accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred, pos_label="yes"),
        "roc_auc": skm.roc_auc_score(y, model.predict_proba(x)[:, 1]),
    }, rel=1e-12)
    assert report["models"]["tree"]["accuracy"] > 0.9


def test_a_class_the_model_never_saw(tmp_path: Path) -> None:
    kit = kit_for("wine", tmp_path)
    kit.edit_csv("data/holdout.csv", [0], "cultivar", [3])
    with pytest.raises(StageError) as err:
        kit.run("evaluate")
    assert str(err.value) == (
        "data source 'holdout' has label(s) 3 that model 'logreg' never saw in training on data source 'train', "
        "whose labels are [0, 1, 2]; fix the data or train on data with every label"
    )
    assert err.value.spec_path == ("evaluation", "data")


def test_a_model_that_fits_but_cannot_predict_is_a_stage_error(tmp_path: Path) -> None:
    """KNeighborsClassifier checks ``metric`` only when it predicts: this was an InvalidParameterError
    traceback (exit 3) from the train stage's reference predictions."""
    kit = kit_for("breast-cancer", tmp_path)
    kit.edit_spec("estimator: sklearn.ensemble.RandomForestClassifier\n      params: {n_estimators: 200, max_depth: 8}",
                  "estimator: sklearn.neighbors.KNeighborsClassifier\n      params: {metric: pyfunc}")
    with pytest.raises(StageError) as err:
        kit.run("evaluate")
    assert str(err.value).startswith(
        "model 'forest' (sklearn.neighbors.KNeighborsClassifier) was fitted but cannot predict on its training "
        "data: InvalidParameterError: The 'metric' parameter of pairwise_distances_chunked must be ")
    assert err.value.spec_path == ("training", "models", "forest")


def test_a_binary_label_the_model_never_saw_says_so(tmp_path: Path) -> None:
    kit = kit_for("breast-cancer", tmp_path)
    kit.edit_csv("data/holdout.csv", [0, 1], "malignant", [2, 2])
    with pytest.raises(StageError) as err:
        kit.run("evaluate")
    assert str(err.value) == (
        "data source 'holdout' has label(s) 2 that model 'logreg' never saw in training on data source 'train', "
        "whose labels are [0, 1]; fix the data or train on data with every label")
    assert err.value.spec_path == ("evaluation", "data")


def test_plots_skip_a_model_missing_a_label_with_a_notice(tmp_path: Path) -> None:
    from mlspec.runtime import plots
    from mlspec.runtime.scoring import Scored

    y_true = np.array([0, 1, 1, 2, 0])
    predictions = np.array([0, 1, 0, 1, 0])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.8, 0.2]])
    seen = Scored("seen", "x.Y", [0, 1, 2], predictions, None, None)
    unseen = Scored("unseen", "x.Y", [0, 1], predictions, proba, None)
    notices: list[str] = []
    written = plots.write_all(tmp_path, "binary", y_true, [seen, unseen], notices.append)
    assert [p.name for p in written] == ["confusion_matrix-seen.png"]
    assert notices == ["skipped the confusion matrix and ROC curve of model 'unseen': the evaluation data has "
                       "label(s) 2 that the model never saw in training"]


# --- reading metrics.json back --------------------------------------------------------------------------------

RERUN = "run `mlspec run evaluate --force`"
GOOD: dict[str, Any] = {"champion": "m", "champion_metrics": {"auc": 0.9, "f1": None},
                        "models": {"m": {"auc": 0.9, "f1": None}}, "metrics": ["auc", "f1"],
                        "directions": {"auc": "higher", "f1": "higher"}}


def test_a_missing_evaluation_is_an_error_or_none_as_the_caller_chooses(tmp_path: Path) -> None:
    assert find_metrics(tmp_path) is None
    with pytest.raises(StageError) as caught:
        read_metrics(tmp_path)
    assert str(caught.value) == f"{display_path(tmp_path / 'metrics.json')}: missing; {RERUN}"
    assert caught.value.spec_path == ("evaluation",)


def test_the_fields_others_do_not_read_may_be_absent(tmp_path: Path) -> None:
    (tmp_path / "metrics.json").write_text(json.dumps({"champion": "m", "champion_metrics": {"auc": 1}}))
    evaluation = read_metrics(tmp_path)
    assert (evaluation.champion, evaluation.champion_metrics) == ("m", {"auc": 1})
    assert (evaluation.models, evaluation.metrics, evaluation.directions) == ({}, (), {})


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{", "metrics.json:1:2: not valid JSON: Expecting property name enclosed in double quotes"),
        ("[1]", "metrics.json: expected a JSON object, found list"),
        ("[" * 100_000 + "]" * 100_000, "metrics.json: nested deeper than 64 levels"),
        (json.dumps({**GOOD, "champion": None}), "metrics.json: champion: missing or not a string"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "champion"}),
         "metrics.json: champion: missing or not a string"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "champion_metrics"}),
         "metrics.json: champion_metrics: missing"),
        (json.dumps({**GOOD, "champion_metrics": [0.9]}),
         "metrics.json: champion_metrics: not an object of metric values"),
        (json.dumps({**GOOD, "champion_metrics": {"auc": "high"}}),
         "metrics.json: champion_metrics.auc: 'high' is not a number or null"),
        (json.dumps({**GOOD, "champion_metrics": {"auc": True}}),
         "metrics.json: champion_metrics.auc: True is not a number or null"),
        (json.dumps({**GOOD, "models": []}), "metrics.json: models: not an object"),
        (json.dumps({**GOOD, "models": {"m": 0.9}}), "metrics.json: models.m: not an object of metric values"),
        (json.dumps({**GOOD, "metrics": "auc"}), "metrics.json: metrics: not a list of metric names"),
        (json.dumps({**GOOD, "directions": {"auc": "up"}}),
         'metrics.json: directions: not an object of "higher" or "lower"'),
    ],
)
def test_a_file_that_is_not_an_evaluation_is_a_located_error(tmp_path: Path, content: str, problem: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "metrics.json").write_text(content)
    for reader in (read_metrics, find_metrics):
        with pytest.raises(StageError) as caught:
            reader(Path("."))
        assert str(caught.value) == f"{problem}; {RERUN}"
        assert caught.value.spec_path == ("evaluation",)
