"""The boosting adapters: fit arguments checked against the estimator, early stopping on a split of the training
rows, native categoricals that survive unseen categories, each library's own spelling of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlspec.runtime import boosting
from mlspec.runtime.context import StageError
from mlspec.runtime.features import FeatureSet
from mlspec.runtime.stages.train import build_estimator, import_estimator, make_pipeline
from mlspec.spec import TrainedModel
from tests.runtime.stagekit import Kit

WHERE = ("training", "models", "m")
LIBRARIES = ("xgboost", "lightgbm", "catboost")


def _model(estimator: str, **block: Any) -> TrainedModel:
    return TrainedModel.model_validate({"estimator": estimator, "data": "train", **block})


def _frame(n: int = 300) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"num": rng.normal(size=n), "plan": rng.choice(["basic", "plus", "pro", "max"], size=n)})
    # The label depends on the category, so a model that ignores it (or garbles it) scores visibly worse.
    y = pd.Series(np.where((frame["plan"] == "pro") ^ (frame["num"] > 0.5), "yes", "no"))
    return frame, y


def _fitted(estimator: str, params: dict[str, Any], task: str = "binary", **block: Any) -> tuple[Any, Any]:
    model = _model(estimator, params=params, **block)
    cls = import_estimator(estimator, WHERE, [estimator.split(".")[0]])
    boosting.check(model, cls, WHERE)
    est, _ = build_estimator(cls, model, 3, WHERE)
    est = boosting.wrap(est, estimator, task)
    pipeline = make_pipeline(FeatureSet("y", ("num",), ("plan",), True), model.preprocessing, est)
    x, y = _frame()
    fitted = boosting.fit(pipeline, x, y, model, 3, task, WHERE)
    return pipeline, fitted


ESTIMATORS = {"xgboost": "xgboost.XGBClassifier", "lightgbm": "lightgbm.LGBMClassifier",
              "catboost": "catboost.CatBoostClassifier",
              "sklearn": "sklearn.ensemble.HistGradientBoostingClassifier"}
PARAMS = {"xgboost": {"n_estimators": 200, "learning_rate": 0.3}, "lightgbm": {"n_estimators": 200},
          "catboost": {"iterations": 200, "learning_rate": 0.5}, "sklearn": {"max_iter": 200}}


@pytest.mark.parametrize("library", ESTIMATORS)
def test_native_categoricals_learn_the_category_and_take_unseen_ones(library: str) -> None:
    pipeline, _ = _fitted(ESTIMATORS[library], PARAMS[library],
                          preprocessing={"categorical": {"encode": "native"}})
    x, y = _frame()
    assert (pipeline.predict(x) == y).mean() > 0.95
    unseen = pd.DataFrame({"num": [0.0, 1.0], "plan": ["atlantis", None]})
    assert set(pipeline.predict(unseen)) <= {"yes", "no"}
    assert pipeline.predict_proba(unseen).shape == (2, 2)


@pytest.mark.parametrize("library", ESTIMATORS)
def test_early_stopping_stops_early_and_records_the_best_iteration(library: str) -> None:
    pipeline, fitted = _fitted(ESTIMATORS[library], PARAMS[library],
                               early_stopping={"rounds": 3, "validation_fraction": 0.25})
    assert fitted.best_iteration is not None and 1 <= fitted.best_iteration < 200
    # The validation rows are held out of the fit itself (HistGradientBoosting holds them out internally).
    assert fitted.fit_rows == (300 if library == "sklearn" else 225)
    x, y = _frame()
    assert (pipeline.predict(x) == y).mean() > 0.9


def test_early_stopping_is_repeatable() -> None:
    first, a = _fitted("xgboost.XGBClassifier", PARAMS["xgboost"], early_stopping={"rounds": 3})
    second, b = _fitted("xgboost.XGBClassifier", PARAMS["xgboost"], early_stopping={"rounds": 3})
    x, _ = _frame()
    assert a == b
    assert np.array_equal(first.predict_proba(x), second.predict_proba(x))


def test_fit_arguments_reach_the_estimator() -> None:
    # sample_weight is a per-row array; a scalar one is the simplest fit argument a spec can give XGBoost.
    pipeline, _ = _fitted("xgboost.XGBClassifier", {"n_estimators": 5}, fit={"verbose": False})
    assert pipeline.steps[-1][1].estimator_.n_estimators == 5
    pipeline, _ = _fitted("sklearn.ensemble.HistGradientBoostingClassifier", {"max_iter": 5},
                          fit={"sample_weight": None})
    assert pipeline.steps[-1][1].n_iter_ == 5


@pytest.mark.parametrize(("estimator", "block", "where", "message"), [
    ("xgboost.XGBClassifier", {"fit": {"verbos": False}}, ("fit", "verbos"),
     "XGBClassifier.fit takes no argument 'verbos'; did you mean 'verbose'?"),
    ("sklearn.ensemble.RandomForestClassifier", {"fit": {"eval_set": 1}}, ("fit", "eval_set"),
     "RandomForestClassifier.fit takes no argument 'eval_set'; expected one of: sample_weight"),
    ("lightgbm.LGBMClassifier", {"fit": {"callbacks": []}, "early_stopping": {"rounds": 3}}, ("fit", "callbacks"),
     "fit argument 'callbacks' is set by mlspec for early_stopping; remove it here"),
    ("catboost.CatBoostClassifier", {"fit": {"cat_features": [0]},
                                     "preprocessing": {"categorical": {"encode": "native"}}},
     ("fit", "cat_features"), "fit argument 'cat_features' is set by mlspec for native categoricals; remove it here"),
    ("sklearn.ensemble.RandomForestClassifier", {"early_stopping": {"rounds": 3}}, ("early_stopping",),
     "RandomForestClassifier has no early stopping that mlspec can drive; remove early_stopping, or use XGBoost, "
     "LightGBM, CatBoost or scikit-learn's HistGradientBoosting*"),
    ("sklearn.linear_model.LogisticRegression", {"preprocessing": {"categorical": {"encode": "native"}}},
     ("preprocessing", "categorical", "encode"),
     "LogisticRegression has no native categorical handling; use encode: onehot or ordinal, or XGBoost, LightGBM, "
     "CatBoost or scikit-learn's HistGradientBoosting*"),
])
def test_located_mistakes(estimator: str, block: dict[str, Any], where: tuple[str, ...], message: str) -> None:
    model = _model(estimator, **block)
    cls = import_estimator(estimator, WHERE, [estimator.split(".")[0]])
    with pytest.raises(StageError) as err:
        boosting.check(model, cls, WHERE)
    assert (str(err.value), err.value.spec_path) == (message, (*WHERE, *where))


def test_too_few_rows_to_hold_out_is_located() -> None:
    model = _model("xgboost.XGBClassifier", early_stopping={"rounds": 3, "validation_fraction": 0.01})
    with pytest.raises(StageError) as err:
        boosting._split(*_frame(20), 0.01, 0, "binary", WHERE)
    assert err.value.spec_path == (*WHERE, "early_stopping", "validation_fraction")
    assert str(err.value).startswith("cannot hold out 0.01 of 20 rows for early stopping: ")
    assert model.early_stopping is not None


def test_library_defaults_keep_the_project_clean_and_quiet() -> None:
    assert boosting.defaults("catboost.CatBoostRegressor", {}) == {"allow_writing_files": False, "verbose": False}
    assert boosting.defaults("catboost.CatBoostRegressor", {"logging_level": "Info"}) == {
        "allow_writing_files": False}
    assert boosting.defaults("lightgbm.LGBMRegressor", {}) == {"verbose": -1}
    assert boosting.defaults("lightgbm.LGBMRegressor", {"verbosity": 1}) == {}
    assert boosting.defaults("sklearn.linear_model.Ridge", {}) == {}


def test_library_lookup() -> None:
    assert boosting.library("xgboost.XGBRegressor") is boosting.LIBRARIES["xgboost"]
    assert boosting.library("xgboostx.Model") is None
    assert boosting.library("sklearn.ensemble.HistGradientBoostingRegressor") is not None
    assert boosting.library("sklearn.ensemble.RandomForestRegressor") is None


def test_catboost_writes_nothing_into_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _fitted("catboost.CatBoostClassifier", {"iterations": 5}, early_stopping={"rounds": 2})
    assert list(tmp_path.iterdir()) == []


def test_the_train_stage_records_the_best_iteration(tmp_path: Path) -> None:
    from tests.runtime.boostproject import write_project

    spec = write_project(tmp_path / "project", "breast_cancer", "lightgbm.LGBMClassifier", "{n_estimators: 300}",
                         "      early_stopping: {rounds: 5}\n      fit: {eval_metric: binary_logloss}\n")
    kit = Kit.of(spec, tmp_path / "work")
    result = kit.run("train:m")
    assert result.metrics["fit_rows"] == 358  # 90% of the 398 training rows
    assert 1 <= result.metrics["best_iteration"] < 300
    assert result.summary.endswith(f", best iteration {result.metrics['best_iteration']}")


@pytest.mark.parametrize("library", ESTIMATORS)
def test_identical_training_makes_an_identical_model_file(library: str) -> None:
    import time

    import skops.io as sio

    from mlspec.runtime.bundle import _stable_zip

    files = []
    for _ in range(2):
        pipeline, _ = _fitted(ESTIMATORS[library], {**PARAMS[library], **({"iterations": 5} if library == "catboost"
                                                                          else {})},
                              early_stopping={"rounds": 3}, preprocessing={"categorical": {"encode": "native"}})
        files.append(_stable_zip(sio.dumps(pipeline)))
        time.sleep(1.1)  # CatBoost stamps the second it finished training
    assert files[0] == files[1]
