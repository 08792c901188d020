"""The train stage: real scikit-learn Pipelines fitted on copies of the examples, saved with skops."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import BaseEstimator, RegressorMixin

from mlspec.runtime import bundle
from mlspec.runtime.context import StageError
from tests.runtime.stagekit import Kit, kit_for, profile

MODELS = [
    ("breast-cancer", "logreg", "sklearn.linear_model.LogisticRegression", {"C": 1.0, "max_iter": 1000}, 42),
    ("breast-cancer", "forest", "sklearn.ensemble.RandomForestClassifier", {"n_estimators": 200, "max_depth": 8},
     42),
    ("wine", "logreg", "sklearn.linear_model.LogisticRegression", {"max_iter": 2000}, 7),
    ("wine", "boosting", "sklearn.ensemble.HistGradientBoostingClassifier",
     {"max_iter": 100, "learning_rate": 0.1}, 7),
    ("diabetes", "ridge", "sklearn.linear_model.Ridge", {"alpha": 1.0}, 0),
    ("diabetes", "forest", "sklearn.ensemble.RandomForestRegressor", {"n_estimators": 200, "min_samples_leaf": 3},
     0),
]
CLASSES = {"breast-cancer": [0, 1], "wine": [0, 1, 2], "diabetes": None}


@pytest.mark.parametrize(("example", "model", "estimator", "params", "seed"), MODELS)
def test_trains_every_example_model(
    example: str, model: str, estimator: str, params: dict[str, object], seed: int, tmp_path: Path
) -> None:
    kit = kit_for(example, tmp_path)
    result = kit.run(f"train:{model}")
    out = kit.out_dir(f"train:{model}")
    train = pd.read_csv(kit.loaded.root / "data" / "train.csv")
    assert sorted(p.name for p in out.iterdir()) == ["_run", "metadata.json", "model.skops", "reference.json"]
    assert zipfile.is_zipfile(out / "model.skops")  # skops' zip format, not a pickle stream
    assert result.metrics == {"rows": len(train)}  # nothing that changes from run to run goes into the lock
    timing = json.loads((out / "_run" / "training.json").read_text())
    assert timing["fit_seconds"] > 0
    assert timing["trained_at"].endswith("+00:00")

    meta = json.loads((out / "metadata.json").read_text())
    assert meta["estimator"] == estimator
    assert meta["params"] == {**params, "random_state": seed}  # every one of these takes a random_state
    assert meta["all_params"]["random_state"] == seed
    assert meta["seed"] == seed
    spec = kit.loaded.spec
    assert meta["data"] == {"source": "train", "digest": profile(kit.loaded, "train")["digest"], "rows": len(train)}
    assert meta["input"]["target"] == spec.data.target
    assert meta["input"]["task"] == spec.task
    assert meta["input"].get("classes") == CLASSES[example]
    columns = [c for c in train.columns if c != spec.data.target]
    assert sorted(f["name"] for f in meta["input"]["features"]) == sorted(columns)
    assert all(f["dtype"] == str(train[f["name"]].dtype) for f in meta["input"]["features"])
    seen = meta["input"]["seen"]  # what serving compares requests with (mlspec.runtime.seen)
    for f in meta["input"]["features"]:
        column = train[f["name"]]
        if f["kind"] == "numeric":
            assert seen["ranges"][f["name"]] == [float(column.min()), float(column.max())]
        else:
            assert seen["categories"][f["name"]] == sorted(column.dropna().unique().tolist())
    assert meta["versions"]["scikit-learn"] == sklearn.__version__
    assert set(meta["versions"]) == {"python", "mlspec", "scikit-learn", "pandas", "numpy", "scipy", "skops"}
    assert "fit_seconds" not in meta and "trained_at" not in meta

    loaded = bundle.load(out)
    assert loaded.model.named_steps["estimator"].get_params()["random_state"] == seed
    assert list(loaded.model.feature_names_in_) == loaded.features


def test_training_twice_gives_byte_identical_bundles(tmp_path: Path) -> None:
    first = kit_for("wine", tmp_path / "a")
    second = kit_for("wine", tmp_path / "b")
    for kit in (first, second):
        kit.run("train:boosting")
    for name in ("model.skops", "metadata.json", "reference.json"):
        a = (first.out_dir("train:boosting") / name).read_bytes()
        assert a == (second.out_dir("train:boosting") / name).read_bytes(), name


def test_pipeline_carries_the_declared_preprocessing(tmp_path: Path) -> None:
    kit = kit_for("diabetes", tmp_path)
    kit.run("train:ridge")
    kit.run("train:forest")
    ridge = bundle.load(kit.out_dir("train:ridge")).model
    forest = bundle.load(kit.out_dir("train:forest")).model
    assert list(ridge.named_steps) == ["preprocess", "estimator"]

    def describe(pipeline: object) -> list[tuple[str, list[str], list[str]]]:
        out = []
        for name, steps, columns in pipeline.named_steps["preprocess"].transformers_:  # type: ignore[attr-defined]
            if name == "remainder":
                continue
            kinds = [f"{type(s).__name__}:{getattr(s, 'strategy', '')}" for _, s in steps.steps]
            out.append((name, kinds, list(columns)))
        return out

    numeric = ["age", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
    assert describe(ridge) == [
        ("numeric", ["SimpleImputer:median", "StandardScaler:"], numeric),
        ("categorical", ["SimpleImputer:most_frequent", "OneHotEncoder:"], ["sex"]),
    ]
    assert describe(forest) == [
        ("numeric", ["SimpleImputer:median"], numeric),
        ("categorical", ["SimpleImputer:most_frequent", "OneHotEncoder:"], ["sex"]),
    ]
    holdout = pd.read_csv(kit.loaded.root / "data" / "holdout.csv")
    assert ridge.predict(holdout.drop(columns=["progression"])).shape == (len(holdout),)


def test_params_may_set_random_state_themselves(tmp_path: Path) -> None:
    kit = kit_for("breast-cancer", tmp_path)
    kit.edit_spec("{n_estimators: 200, max_depth: 8}", "{n_estimators: 20, random_state: 3}")
    kit.run("train:forest")
    meta = json.loads((kit.out_dir("train:forest") / "metadata.json").read_text())
    assert meta["params"] == {"n_estimators": 20, "random_state": 3}


def test_training_twice_gives_identical_predictions(tmp_path: Path) -> None:
    first, second = kit_for("breast-cancer", tmp_path / "a"), kit_for("breast-cancer", tmp_path / "b")
    holdout = pd.read_csv(first.loaded.root / "data" / "holdout.csv").drop(columns=["malignant"])
    for model in ("forest", "logreg"):
        first.run(f"train:{model}")
        second.run(f"train:{model}")
        a = bundle.load(first.out_dir(f"train:{model}")).model
        b = bundle.load(second.out_dir(f"train:{model}")).model
        assert np.array_equal(a.predict_proba(holdout), b.predict_proba(holdout))
    # ... and a different seed gives a different forest, so the seed really reaches the estimator.
    third = kit_for("breast-cancer", tmp_path / "c")
    third.edit_spec("seed: 42", "seed: 43")
    third.run("train:forest")
    c = bundle.load(third.out_dir("train:forest")).model
    a = bundle.load(first.out_dir("train:forest")).model
    assert not np.array_equal(a.predict_proba(holdout), c.predict_proba(holdout))


ESTIMATOR = ("training", "models", "forest", "estimator")


@pytest.mark.parametrize(
    ("estimator", "message"),
    [
        (
            "sklearn.ensemble.RandomForestClasifier",
            "module 'sklearn.ensemble' has no attribute 'RandomForestClasifier'; "
            "did you mean 'RandomForestClassifier'?",
        ),
        (
            "sklearn.ensembl.RandomForestClassifier",
            "module 'sklearn' has no attribute 'ensembl'; did you mean 'ensemble'?",
        ),
        (
            "xgboostx.XGBClassifier",
            "cannot import 'xgboostx.XGBClassifier': no module named 'xgboostx'; is the package installed? "
            "(CI installs extra packages from ci.requirements)",
        ),
        (
            "sklearn.metrics.accuracy_score",
            "'sklearn.metrics.accuracy_score' is a function, not an estimator class",
        ),
        (
            "collections.OrderedDict",
            "'collections.OrderedDict' is not a scikit-learn estimator: it has no fit and predict methods",
        ),
        (
            "sklearn.ensemble.RandomForestRegressor",
            "sklearn.ensemble.RandomForestRegressor is a regressor, but the task is binary classification; "
            "use a classifier",
        ),
    ],
)
def test_bad_estimator(estimator: str, message: str, tmp_path: Path) -> None:
    kit = kit_for("breast-cancer", tmp_path)
    kit.edit_spec("\n  models:", "\n  packages: [xgboostx, collections]\n  models:")
    kit.edit_spec("estimator: sklearn.ensemble.RandomForestClassifier", f"estimator: {estimator}")
    with pytest.raises(StageError) as err:
        kit.run("train:forest")
    assert str(err.value) == message
    assert err.value.spec_path == ESTIMATOR
    line = kit.loaded.path.read_text().splitlines()[kit.loaded.line_of(*ESTIMATOR).line - 1]
    assert line == f"      estimator: {estimator}"


def test_classifier_for_a_regression_task(tmp_path: Path) -> None:
    kit = kit_for("diabetes", tmp_path)
    kit.edit_spec("sklearn.linear_model.Ridge", "sklearn.linear_model.RidgeClassifier")
    with pytest.raises(StageError) as err:
        kit.run("train:ridge")
    assert str(err.value) == (
        "sklearn.linear_model.RidgeClassifier is a classifier, but the task is regression; use a regressor"
    )


@pytest.mark.parametrize(
    ("params", "message", "path"),
    [
        (
            "{n_estimator: 10}",
            "unknown parameter 'n_estimator' of RandomForestClassifier; did you mean 'n_estimators'?",
            ("training", "models", "forest", "params", "n_estimator"),
        ),
        (
            "{n_estimators: -5}",
            "invalid params for sklearn.ensemble.RandomForestClassifier: The 'n_estimators' parameter of "
            "RandomForestClassifier must be an int in the range [1, inf). Got -5 instead.",
            ("training", "models", "forest", "params"),
        ),
        (
            "{max_depth: 0}",
            "invalid params for sklearn.ensemble.RandomForestClassifier: The 'max_depth' parameter of "
            "RandomForestClassifier must be an int in the range [1, inf) or None. Got 0 instead.",
            ("training", "models", "forest", "params"),
        ),
    ],
)
def test_bad_params(params: str, message: str, path: tuple[str, ...], tmp_path: Path) -> None:
    kit = kit_for("breast-cancer", tmp_path)
    kit.edit_spec("{n_estimators: 200, max_depth: 8}", params)
    with pytest.raises(StageError) as err:
        kit.run("train:forest")
    assert str(err.value) == message
    assert err.value.spec_path == path


def test_short_param_lists_are_shown_in_full(tmp_path: Path) -> None:
    kit = kit_for("diabetes", tmp_path)
    kit.edit_spec("{alpha: 1.0}", "{lambda: 1.0}")
    with pytest.raises(StageError) as err:
        kit.run("train:ridge")
    assert str(err.value) == (
        "unknown parameter 'lambda' of Ridge; expected one of: alpha, copy_X, fit_intercept, max_iter, "
        "positive, random_state, solver, tol"
    )


def _drop_column(kit: Kit, rel: str, column: str) -> None:
    path = kit.loaded.root / rel
    pd.read_csv(path).drop(columns=[column]).to_csv(path, index=False)


def test_missing_target_column(tmp_path: Path) -> None:
    kit = kit_for("breast-cancer", tmp_path)
    _drop_column(kit, "data/train.csv", "malignant")
    with pytest.raises(StageError) as err:
        kit.run("train:logreg")
    assert str(err.value) == "data source 'train' has no target column 'malignant'"
    assert err.value.spec_path == ("data", "target")


def test_missing_declared_feature_column(tmp_path: Path) -> None:
    kit = kit_for("diabetes", tmp_path)
    _drop_column(kit, "data/train.csv", "s5")
    with pytest.raises(StageError) as err:
        kit.run("train:ridge")
    assert str(err.value) == "data source 'train' has no column 's5', declared in data.features.numeric"
    assert err.value.spec_path == ("data", "features", "numeric", 7)


def test_missing_target_values(tmp_path: Path) -> None:
    kit = kit_for("diabetes", tmp_path)
    kit.edit_csv("data/train.csv", [3, 8], "progression", [None, None])
    with pytest.raises(StageError) as err:
        kit.run("train:ridge")
    assert str(err.value) == (
        "target column 'progression' of data source 'train' has 2 missing values; drop or fill those rows"
    )


def test_binary_task_needs_two_classes(tmp_path: Path) -> None:
    kit = kit_for("breast-cancer", tmp_path)
    kit.edit_csv("data/train.csv", [0], "malignant", [2])
    with pytest.raises(StageError) as err:
        kit.run("train:logreg")
    assert str(err.value) == (
        "the task is binary, but target column 'malignant' of data source 'train' has 3 classes: 0, 1, 2"
    )
    assert err.value.spec_path == ("task",)


def test_missing_values_without_imputation_fail_with_the_estimators_reason(tmp_path: Path) -> None:
    kit = kit_for("breast-cancer", tmp_path)
    kit.edit_spec("numeric: {impute: median, scale: standard}", "numeric: {impute: none, scale: standard}")
    kit.edit_csv("data/train.csv", [5], "mean_area", [None])
    with pytest.raises(StageError) as err:
        kit.run("train:logreg")
    assert str(err.value).startswith(
        "training 'logreg' (sklearn.linear_model.LogisticRegression) failed: ValueError: Input X contains NaN."
    )
    assert err.value.spec_path == ("training", "models", "logreg")


class OpenRegressor(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """Takes ``**kwargs`` like xgboost's wrappers do, and lists its real parameters in get_params()."""

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        self.alpha = alpha
        self.extra = kwargs
        self.random_state = kwargs.pop("random_state", None)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"alpha": self.alpha, "random_state": self.random_state, **self.extra}

    def fit(self, x: Any, y: Any) -> OpenRegressor:
        self.mean_ = float(np.mean(y)) + np.random.default_rng(self.random_state).normal()
        return self

    def predict(self, x: Any) -> Any:
        return np.full(len(x), self.mean_)


def test_estimator_from_another_package_taking_kwargs(tmp_path: Path) -> None:
    kit = kit_for("diabetes", tmp_path)
    kit.edit_spec("\n  models:", f"\n  packages: [tests]\n  trust: [{__name__}.OpenRegressor]\n  models:")
    kit.edit_spec("estimator: sklearn.linear_model.Ridge\n      params: {alpha: 1.0}",
                  f"estimator: {__name__}.OpenRegressor\n      params: {{alpha: 2.0, booster_option: 3}}")
    assert kit.run("train:ridge").failed is None
    meta = json.loads((kit.out_dir("train:ridge") / "metadata.json").read_text())
    # Unknown names pass (the estimator takes **kwargs); the seed still reaches it as random_state.
    assert meta["params"] == {"alpha": 2.0, "booster_option": 3, "random_state": 0}
    assert meta["all_params"] == {"alpha": 2.0, "random_state": 0, "booster_option": 3}
    assert meta["trusted_types"] == {"scikit-learn": ["numpy.dtype"], "training.trust": [f"{__name__}.OpenRegressor"]}
    # Loading it back is another matter: only reviewed types load, and naming the class does not trust it...
    with pytest.raises(bundle.BundleError, match=f"allowlist .*: {__name__}.OpenRegressor"):
        bundle.load(kit.out_dir("train:ridge"))
    # ...the loader's own training.trust does, and says so.
    said: list[str] = []
    bundle.load(kit.out_dir("train:ridge"), [f"{__name__}.OpenRegressor"], said.append)
    assert said == [f"trusting from training.trust: {__name__}.OpenRegressor"]


def test_a_model_holding_untrusted_types_fails_in_training_saying_how_to_trust_them(tmp_path: Path) -> None:
    kit = kit_for("diabetes", tmp_path)
    kit.edit_spec("\n  models:", "\n  packages: [tests]\n  models:")
    kit.edit_spec("estimator: sklearn.linear_model.Ridge", f"estimator: {__name__}.OpenRegressor")
    with pytest.raises(StageError) as err:
        kit.run("train:ridge")
    assert str(err.value) == (f"model 'ridge' ({__name__}.OpenRegressor) holds types outside mlspec's reviewed "
                              f"allowlist: {__name__}.OpenRegressor; if you trust them, list them in training.trust")
    assert err.value.spec_path == ("training", "trust")


@pytest.mark.parametrize("module", ["this", "antigravity"])
def test_train_stage_refuses_an_undeclared_package_before_importing_it(module: str) -> None:
    # The loader refuses such a spec already; the stage checks again before importlib runs anything.
    import sys

    from mlspec.runtime.stages.train import import_estimator

    assert module not in sys.modules
    with pytest.raises(StageError) as err:
        import_estimator(f"{module}.X", ESTIMATOR, {"sklearn"})
    assert str(err.value) == (f"'{module}.X' would be imported from package {module!r}, which the spec does not "
                              f"declare; add `packages: [{module}]` under `training` (only sklearn is allowed "
                              "without it)")
    assert module not in sys.modules


def test_a_declared_package_that_is_not_installed_is_looked_up_without_importing() -> None:
    from mlspec.runtime.stages.train import import_estimator

    with pytest.raises(StageError) as err:
        import_estimator("notinstalledpkg.Model", ESTIMATOR, {"sklearn", "notinstalledpkg"})
    assert str(err.value) == ("cannot import 'notinstalledpkg.Model': no module named 'notinstalledpkg'; is the "
                              "package installed? (CI installs extra packages from ci.requirements)")
