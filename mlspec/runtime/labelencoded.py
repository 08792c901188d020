"""A classifier wrapper that trains its estimator on label codes 0..n-1 and answers in the original labels.

XGBoost's classifiers accept only integer labels 0..n-1; users' targets are strings ("yes"/"no", "red"/...)
or arbitrary integers. Wrapping the estimator here keeps the label mapping inside the model file, so
evaluation, serving and monitoring see the original labels without knowing it exists. The class lives in
mlspec (not in a test or user package) because saved models name it: it is on the reviewed allowlist
(:mod:`mlspec.runtime.trusted_types`), and moving it would make those files unloadable.
"""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.metaestimators import available_if


def _inner_has(method: str) -> Any:
    return lambda self: hasattr(self.estimator, method)


class LabelEncodedClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """``estimator`` fitted on ``LabelEncoder`` codes; ``classes_`` and ``predict`` are the original labels."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def fit(self, x: Any, y: Any, **fit_params: Any) -> LabelEncodedClassifier:
        self.encoder_ = LabelEncoder().fit(y)
        # An early-stopping eval set carries labels too: they must be coded the same way.
        if "eval_set" in fit_params:
            fit_params["eval_set"] = [(xv, self.encoder_.transform(yv)) for xv, yv in fit_params["eval_set"]]
        if "eval_y" in fit_params:
            fit_params["eval_y"] = self.encoder_.transform(fit_params["eval_y"])
        self.estimator_ = clone(self.estimator).fit(x, self.encoder_.transform(y), **fit_params)
        self.classes_ = self.encoder_.classes_
        return self

    def predict(self, x: Any) -> Any:
        return self.encoder_.inverse_transform(self.estimator_.predict(x).astype(int).ravel())

    @available_if(_inner_has("predict_proba"))  # type: ignore[untyped-decorator]
    def predict_proba(self, x: Any) -> Any:
        return self.estimator_.predict_proba(x)

