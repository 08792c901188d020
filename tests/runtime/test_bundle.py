"""Model bundles: skops round trip, and refusal of types outside the trusted packages."""

from __future__ import annotations

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

from mlspec.runtime import bundle
from mlspec.runtime.bundle import BundleError


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
                               "value": 0.5, "nan": None, "input": {"features": [{"name": "a"}], "classes": [0, 1]}}
    assert loaded.features == ["a"]
    assert loaded.classes == [0, 1]
    # The model file itself is accepted too.
    assert bundle.load(tmp_path / "b" / "model.skops").path == tmp_path / "b"


def test_refuses_a_function_from_outside_the_trusted_packages(tmp_path: Path) -> None:
    x, y = _data()
    model = Pipeline([("double", FunctionTransformer(double)),
                      ("estimator", HistGradientBoostingClassifier(max_iter=10))])
    _save(tmp_path, model.fit(x, y), "sklearn.ensemble.HistGradientBoostingClassifier")
    with pytest.raises(BundleError) as err:
        bundle.load(tmp_path)
    assert str(err.value) == (
        f"{tmp_path / 'model.skops'}: refusing to load types from outside the trusted packages "
        f"(sklearn, numpy, scipy): {__name__}.double"
    )


def test_trusts_the_declared_estimators_package(tmp_path: Path) -> None:
    x, y = _data()
    model = Pipeline([("scale", StandardScaler()), ("estimator", MeanRegressor(2.0))]).fit(x, y.astype(float))
    _save(tmp_path / "own", model, f"{__name__}.MeanRegressor")
    loaded = bundle.load(tmp_path / "own")
    assert np.array_equal(loaded.model.predict(x), model.predict(x))
    # The same file declared as a scikit-learn estimator: the foreign class is refused.
    _save(tmp_path / "foreign", model, "sklearn.linear_model.Ridge")
    with pytest.raises(BundleError) as err:
        bundle.load(tmp_path / "foreign")
    assert str(err.value).endswith(f"(sklearn, numpy, scipy): {__name__}.MeanRegressor")


@pytest.mark.parametrize(
    ("estimator", "packages"),
    [
        ("sklearn.ensemble.RandomForestClassifier", ("sklearn", "numpy", "scipy")),
        ("xgboost.XGBClassifier", ("sklearn", "numpy", "scipy", "xgboost")),
    ],
)
def test_trusted_packages(estimator: str, packages: tuple[str, ...]) -> None:
    assert bundle.trusted_packages(estimator) == packages


def test_untrusted_filters_by_top_level_package() -> None:
    types = ["numpy.dtype", "sklearn.tree._tree.Tree", "xgboost.core.Booster", "builtins.eval", "sklearnx.Evil"]
    assert bundle.untrusted(types, "xgboost.XGBClassifier") == ["builtins.eval", "sklearnx.Evil"]
    assert bundle.untrusted(types, "sklearn.svm.SVC") == ["xgboost.core.Booster", "builtins.eval", "sklearnx.Evil"]


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
    assert str(err.value).startswith(f"{tmp_path / 'metadata.json'}: unreadable metadata (JSONDecodeError: ")
    (tmp_path / "metadata.json").write_text(json.dumps({"estimator": "sklearn.svm.SVC"}))
    with pytest.raises(BundleError) as err:
        bundle.load(tmp_path)
    assert str(err.value) == (
        f"{tmp_path / 'model.skops'}: not a readable skops file (BadZipFile: File is not a zip file)"
    )
