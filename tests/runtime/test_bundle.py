"""Model bundles: skops round trip of every model mlspec trains, and refusal of any type off the allowlist."""

from __future__ import annotations

import importlib
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skops.io as sio
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from mlspec.runtime import bundle, trusted_types
from mlspec.runtime.bundle import BundleError
from tests.runtime import crafted


def double(x: Any) -> Any:
    return x * 2


class MeanRegressor(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """A third-party style estimator living outside scikit-learn (in this test module)."""

    def __init__(self, factor: float = 1.0) -> None:
        self.factor = factor

    def fit(self, x: Any, y: Any) -> MeanRegressor:
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, x: Any) -> Any:
        return np.full(len(x), self.mean_ * self.factor)


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4))
    return x, (x[:, 0] + x[:, 1] > 0).astype(int)


def _save(directory: Path, model: Any, estimator: str) -> None:
    bundle.save(directory, model, {"estimator": estimator, "input": {"features": [], "classes": [0, 1]}})


def test_round_trip(tmp_path: Path) -> None:
    x, y = _data()
    model = Pipeline([("scale", StandardScaler()), ("estimator", HistGradientBoostingClassifier(max_iter=20))])
    model.fit(x, y)
    meta = {"estimator": "sklearn.ensemble.HistGradientBoostingClassifier", "seed": 1, "value": np.float64(0.5),
            "nan": float("nan"), "input": {"features": [{"name": "a"}], "classes": np.array([0, 1])}}
    bundle.save(tmp_path / "b", model, meta)
    loaded = bundle.load(tmp_path / "b")
    assert np.array_equal(loaded.model.predict_proba(x), model.predict_proba(x))
    assert loaded.metadata == {"estimator": "sklearn.ensemble.HistGradientBoostingClassifier", "seed": 1,
                               "value": 0.5, "nan": None, "input": {"features": [{"name": "a"}], "classes": [0, 1]},
                               # What the model file holds beyond skops' defaults, by the library needing it.
                               "trusted_types": {"scikit-learn": [
                                   "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]}}
    assert loaded.features == ["a"]
    assert loaded.classes == [0, 1]
    # The model file itself is accepted too.
    assert bundle.load(tmp_path / "b" / "model.skops").path == tmp_path / "b"


REFUSAL = ("{file}: refusing to load a model file that holds types outside mlspec's reviewed allowlist "
           "(mlspec.runtime.trusted_types) and training.trust: {types}. If this model is yours and you trust the "
           "code of these types, list them in training.trust of mlspec.yaml; otherwise the file was altered or "
           "made by other means: retrain it (`mlspec run`) from a spec you trust.")


def test_refuses_a_function_from_outside_the_allowlist(tmp_path: Path) -> None:
    x, y = _data()
    model = Pipeline([("double", FunctionTransformer(double)),
                      ("estimator", HistGradientBoostingClassifier(max_iter=10))])
    _save(tmp_path, model.fit(x, y), "sklearn.ensemble.HistGradientBoostingClassifier")
    with pytest.raises(BundleError) as err:
        bundle.load(tmp_path)
    assert str(err.value) == REFUSAL.format(file=tmp_path / "model.skops", types=f"{__name__}.double")


@pytest.mark.parametrize("estimator", [f"{__name__}.MeanRegressor", "sklearn.linear_model.Ridge"])
def test_the_declared_estimator_widens_no_trust(tmp_path: Path, estimator: str) -> None:
    x, y = _data()
    model = Pipeline([("scale", StandardScaler()), ("estimator", MeanRegressor(2.0))]).fit(x, y.astype(float))
    _save(tmp_path, model, estimator)
    with pytest.raises(BundleError) as err:
        bundle.load(tmp_path)
    assert str(err.value) == REFUSAL.format(file=tmp_path / "model.skops", types=f"{__name__}.MeanRegressor")


@pytest.mark.parametrize("estimator", ["numpy.testing._private.utils.runstring", "numpy.X", "numpy",
                                       "sklearn.linear_model.Ridge"])
def test_a_crafted_file_that_runs_code_is_refused_unbuilt(tmp_path: Path, estimator: str) -> None:
    marker = tmp_path / "ran"
    folder = crafted.write_bundle(tmp_path / "bundle", marker, estimator)
    with pytest.raises(BundleError) as err:
        bundle.load(folder)
    assert str(err.value) == REFUSAL.format(file=folder / "model.skops", types=crafted.RUNSTRING)
    assert not marker.exists()
    # The file is what the finding describes: skops itself would run it if told to trust that function.
    sio.load(folder / "model.skops", trusted=[crafted.RUNSTRING])
    assert marker.exists()


def test_the_allowlist_holds_exact_names_only() -> None:
    for library, types in trusted_types.REVIEWED.items():
        assert types, library
        for name in types:
            module, _, attr = name.rpartition(".")
            assert module and attr and "*" not in name, name
            assert callable(getattr(importlib.import_module(module), attr)), name  # still exists
    assert trusted_types.refused(["numpy", "numpy.dtype", "sklearn", "sklearn.tree._tree.Tree", "numpy.X"]) == [
        "numpy", "numpy.X", "sklearn"]


# --- every model mlspec trains still loads --------------------------------------------------------------------

PREPROCESSING = [
    {"numeric": {"impute": ni, "scale": ns}, "categorical": {"impute": ci, "encode": ce}}
    for ni, ns, ci, ce in itertools.product(["mean", "median", "most_frequent", "none"],
                                            ["standard", "minmax", "robust", "none"],
                                            ["most_frequent", "constant", "none"], ["onehot", "ordinal"])
]


def _frame(missing: bool) -> Any:
    import pandas as pd

    n = 30
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                          "color": [("red", "blue", "green")[i % 3] for i in range(n)],
                          "grade": [i % 4 for i in range(n)], "fresh": [i % 5 == 0 for i in range(n)]})
    if missing:
        frame.loc[3, "a"] = np.nan
        frame.loc[4, "color"] = None
    return frame


def _round_trip(tmp_path: Path, prep: dict[str, Any], estimator: Any, y: Any, missing: bool = True) -> None:
    from mlspec.runtime.features import FeatureSet
    from mlspec.runtime.stages.train import make_pipeline
    from mlspec.spec import Preprocessing

    preprocessing = Preprocessing.model_validate(prep)
    frame = _frame(missing and preprocessing.numeric.impute != "none" and preprocessing.categorical.impute != "none")
    features = FeatureSet("y", ("a", "b"), ("color", "grade", "fresh"), True)
    model = make_pipeline(features, preprocessing, estimator).fit(frame[list(features.columns)], y)
    path = f"{type(estimator).__module__}.{type(estimator).__name__}"
    _save(tmp_path, model, path)
    loaded = bundle.load(tmp_path)
    x = frame[list(features.columns)]
    assert np.array_equal(loaded.model.predict(x), model.predict(x))


@pytest.mark.parametrize("prep", PREPROCESSING, ids=lambda p: "-".join(v for s in p.values() for v in s.values()))
def test_every_preprocessing_option_round_trips(tmp_path: Path, prep: dict[str, Any]) -> None:
    from sklearn.linear_model import LogisticRegression

    _round_trip(tmp_path, prep, LogisticRegression(), np.array(["no", "yes", "yes"] * 10))


def _estimators() -> list[Any]:
    from sklearn import calibration, ensemble, gaussian_process, linear_model, neighbors, neural_network, svm, tree
    from sklearn.gaussian_process import kernels

    return [
        linear_model.LogisticRegression(), linear_model.Ridge(), linear_model.Lasso(), linear_model.ElasticNet(),
        linear_model.SGDClassifier(), linear_model.SGDRegressor(loss="huber"), linear_model.TweedieRegressor(),
        linear_model.TweedieRegressor(power=1.5, link="log"), linear_model.HuberRegressor(),
        linear_model.QuantileRegressor(), linear_model.BayesianRidge(), linear_model.ARDRegression(),
        tree.DecisionTreeClassifier(), tree.DecisionTreeRegressor(), tree.ExtraTreeClassifier(),
        ensemble.RandomForestClassifier(n_estimators=3), ensemble.RandomForestRegressor(n_estimators=3),
        ensemble.ExtraTreesClassifier(n_estimators=3), ensemble.GradientBoostingClassifier(n_estimators=3),
        ensemble.GradientBoostingRegressor(n_estimators=3, loss="huber"), ensemble.AdaBoostClassifier(n_estimators=3),
        ensemble.BaggingRegressor(n_estimators=3), ensemble.HistGradientBoostingClassifier(max_iter=3),
        ensemble.HistGradientBoostingRegressor(max_iter=3, loss="poisson"),
        ensemble.HistGradientBoostingClassifier(max_iter=3, categorical_features=[0]),
        neighbors.KNeighborsClassifier(n_neighbors=3), neighbors.KNeighborsRegressor(algorithm="ball_tree"),
        neighbors.KNeighborsClassifier(metric="manhattan", algorithm="kd_tree"), neighbors.NearestCentroid(),
        neighbors.RadiusNeighborsRegressor(radius=10.0), svm.SVC(probability=True), svm.SVR(), svm.LinearSVC(),
        neural_network.MLPClassifier(max_iter=20), neural_network.MLPRegressor(solver="sgd", max_iter=20),
        gaussian_process.GaussianProcessClassifier(),
        gaussian_process.GaussianProcessRegressor(kernel=kernels.ConstantKernel() * kernels.Matern()
                                                  + kernels.WhiteKernel()),
        calibration.CalibratedClassifierCV(cv=2), calibration.CalibratedClassifierCV(method="isotonic", cv=2),
    ]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("estimator", _estimators(), ids=lambda e: type(e).__name__)
def test_scikit_learn_estimators_round_trip(tmp_path: Path, estimator: Any) -> None:
    from sklearn.base import is_classifier

    y = np.array(["no", "yes", "yes"] * 10) if is_classifier(estimator) else np.linspace(1.0, 4.0, 30)
    prep = {"numeric": {"scale": "standard"}, "categorical": {"encode": "ordinal"}}
    _round_trip(tmp_path, prep, estimator, y)


def test_every_scikit_learn_estimator_class_is_trusted() -> None:
    from sklearn.utils import all_estimators
    from skops.io._trusted_types import SKLEARN_ESTIMATOR_TYPE_NAMES
    from skops.io._utils import get_type_name

    # skops trusts these by default; the allowlist must never be what refuses one of them.
    names = [get_type_name(cls) for _, cls in all_estimators()]
    assert len(names) > 150

    assert set(names) <= set(SKLEARN_ESTIMATOR_TYPE_NAMES) | trusted_types.ALLOWED


def test_missing_files(tmp_path: Path) -> None:
    with pytest.raises(BundleError) as err:
        bundle.load(tmp_path)
    assert str(err.value) == f"{tmp_path}: not a model bundle: model.skops is missing"
    sio.dump(StandardScaler(), tmp_path / "model.skops")
    with pytest.raises(BundleError) as err:
        bundle.load(tmp_path)
    assert str(err.value) == f"{tmp_path}: not a model bundle: metadata.json is missing"


def test_corrupt_files(tmp_path: Path) -> None:
    (tmp_path / "model.skops").write_bytes(b"not a zip")
    (tmp_path / "metadata.json").write_text("{")
    with pytest.raises(BundleError) as err:
        bundle.load(tmp_path)
    assert str(err.value) == (f"unreadable metadata: {tmp_path / 'metadata.json'}:1:2: not valid JSON: Expecting "
                              "property name enclosed in double quotes")
    (tmp_path / "metadata.json").write_text(json.dumps({"estimator": "sklearn.svm.SVC"}))
    with pytest.raises(BundleError) as err:
        bundle.load(tmp_path)
    assert str(err.value) == (
        f"{tmp_path / 'model.skops'}: not a readable skops file (BadZipFile: File is not a zip file)"
    )


def test_the_evaluate_stage_refuses_a_crafted_model(tmp_path: Path) -> None:
    from mlspec.runtime.context import StageError
    from tests.runtime.stagekit import kit_for

    kit = kit_for("diabetes", tmp_path)
    trained = kit.prepare("train:ridge")
    marker = tmp_path / "ran"
    (trained / "model.skops").chmod(0o644)
    (trained / "model.skops").write_bytes(crafted.exec_model(marker))
    with pytest.raises(StageError) as err:
        kit.run("evaluate")
    assert str(err.value) == "model 'ridge': " + REFUSAL.format(file=trained / "model.skops",
                                                                 types=crafted.RUNSTRING)
    assert not marker.exists()


def _crafted_tree(fitted: Any, field: str, value: int) -> None:
    """Set ``field`` of the root node of ``fitted``'s tree, the way a crafted file's node array would."""
    from sklearn.tree._tree import Tree

    tree = fitted.tree_
    state = tree.__getstate__()
    state["nodes"] = state["nodes"].copy()
    state["nodes"][field][0] = value
    crafted_tree = Tree(tree.n_features, np.asarray(tree.n_classes, dtype=np.intp), tree.n_outputs)
    crafted_tree.__setstate__(state)
    fitted.tree_ = crafted_tree


@pytest.mark.parametrize(("field", "value"), [("left_child", 0), ("right_child", 10_000), ("feature", 4),
                                              ("feature", 10_000)])
def test_a_tree_that_points_outside_itself_is_refused(tmp_path: Path, field: str, value: int) -> None:
    from sklearn.ensemble import RandomForestClassifier

    x, y = _data()
    forest = RandomForestClassifier(n_estimators=2, random_state=0).fit(x, y)
    _crafted_tree(forest.estimators_[1], field, value)
    _save(tmp_path, Pipeline([("scale", StandardScaler()), ("estimator", forest)]), "sklearn.ensemble.X")
    with pytest.raises(BundleError) as err:
        bundle.load(tmp_path)
    assert str(err.value).startswith(f"{tmp_path / 'model.skops'}: a decision tree in it points outside itself "
                                     "(node 0 of ")


@pytest.mark.parametrize(("field", "value"), [("left", 0), ("right", 10_000), ("feature_idx", 4)])
def test_a_gradient_boosting_tree_that_points_outside_itself_is_refused(tmp_path: Path, field: str,
                                                                         value: int) -> None:
    x, y = _data()
    model = HistGradientBoostingClassifier(max_iter=3).fit(x, y)
    model._predictors[2][0].nodes[field][0] = value
    _save(tmp_path, model, "sklearn.ensemble.HistGradientBoostingClassifier")
    with pytest.raises(BundleError) as err:
        bundle.load(tmp_path)
    assert str(err.value).startswith(f"{tmp_path / 'model.skops'}: a gradient boosting tree in it points outside "
                                     "itself (node 0 of ")


# --- the boosting libraries: the survey behind their entries in trusted_types.REVIEWED ------------------------

BOOSTERS = ["xgboost.XGBClassifier", "xgboost.XGBRegressor", "lightgbm.LGBMClassifier", "lightgbm.LGBMRegressor",
            "catboost.CatBoostClassifier", "catboost.CatBoostRegressor"]
BOOSTER_OPTIONS = {"plain": {}, "native": {"preprocessing": {"categorical": {"encode": "native"}}},
                   "early": {"early_stopping": {"rounds": 2, "validation_fraction": 0.3}},
                   "native-early": {"preprocessing": {"categorical": {"encode": "native"}},
                                    "early_stopping": {"rounds": 2, "validation_fraction": 0.3}}}


@pytest.mark.parametrize("options", BOOSTER_OPTIONS, ids=str)
@pytest.mark.parametrize("estimator", BOOSTERS)
def test_boosting_models_hold_only_their_librarys_reviewed_types(tmp_path: Path, estimator: str,
                                                                   options: str) -> None:
    """A library upgrade whose fitted models need a new type fails here, naming it, not in production."""
    from mlspec.runtime import boosting
    from mlspec.runtime.features import FeatureSet
    from mlspec.runtime.stages.train import build_estimator, import_estimator, make_pipeline
    from mlspec.spec import TrainedModel

    classifier = estimator.endswith("Classifier")
    size = "iterations" if estimator.startswith("catboost") else "n_estimators"
    model = TrainedModel.model_validate({"estimator": estimator, "data": "t", "params": {size: 5},
                                         **BOOSTER_OPTIONS[options]})
    where = ("training", "models", "m")
    est, _ = build_estimator(import_estimator(estimator, where, [estimator.split(".")[0]]), model, 0, where)
    task = "multiclass" if classifier else "regression"
    pipeline = make_pipeline(FeatureSet("y", ("a", "b"), ("color", "grade", "fresh"), True), model.preprocessing,
                             boosting.wrap(est, estimator, task))
    frame = _frame(missing=True)
    y = np.array(["no", "yes", "maybe"] * 10) if classifier else np.linspace(1.0, 4.0, 30)
    x = frame[["a", "b", "color", "grade", "fresh"]]
    boosting.fit(pipeline, x, y, model, 0, task, where)
    library = estimator.split(".")[0]
    held = set(sio.get_untrusted_types(data=sio.dumps(pipeline)))
    reviewed = trusted_types.REVIEWED
    assert held - reviewed[library] - reviewed["mlspec"] - reviewed["scikit-learn"] == set()
    assert held & reviewed[library], "the survey found the library's own types"
    _save(tmp_path, pipeline, estimator)
    loaded = bundle.load(tmp_path)
    assert np.array_equal(loaded.model.predict(x), pipeline.predict(x))
    assert json.loads((tmp_path / "metadata.json").read_text())["trusted_types"][library] == sorted(
        held & reviewed[library])
