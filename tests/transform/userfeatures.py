"""A project's own transformer class, as a repository would hold one (import as ``tests.transform.userfeatures``):
the tests name it in ``data.derived`` with ``training.packages: [tests]`` and ``training.trust``."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class Ratio(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """The first column over the second, scaled by the training mean of that ratio (so fitting matters)."""

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale

    def fit(self, x: Any, y: Any = None) -> Ratio:
        values = np.asarray(x, dtype=float)
        self.mean_ = float(np.mean(values[:, 0] / values[:, 1]))
        return self

    def transform(self, x: Any) -> Any:
        values = np.asarray(x, dtype=float)
        return self.scale * (values[:, 0] / values[:, 1]) / self.mean_
