"""Bounds checks of the tree structures in a loaded model, before any of it predicts.

An allowlisted type still holds data from the file. Decision trees (``sklearn.tree._tree.Tree``) and the
predictors of HistGradientBoosting (``TreePredictor``) hold node arrays that scikit-learn's compiled code
follows without bounds checks: a crafted child index or feature index reads outside the arrays (a crash, or
memory read into a prediction), and a child pointing back up the tree loops forever. skops leaves
``TreePredictor`` untrusted for this reason. mlspec trusts both, because forests and gradient boosting are
the models people train, and checks here what the compiled code assumes: every split's children come after
it and inside the array, and its feature is a column the model is given.

The column bound is the ``n_features_in_`` of the estimator that owns a tree and of every estimator around
it (an ensemble hands its trees the columns it validated, unchecked), restarting inside a ``Pipeline`` or
``ColumnTransformer``, whose steps see different columns.
"""

from __future__ import annotations

import sys
from typing import Any

from mlspec.errors import MlspecError

_WIDTH_CHANGERS = ("Pipeline", "ColumnTransformer", "FeatureUnion")


class StructureError(MlspecError):
    """A tree in a model file has indices that point outside it."""


def check(model: Any, where: str) -> None:
    """Raise :class:`StructureError` (naming ``where``) if a tree in ``model`` is out of bounds."""
    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(model, sys.maxsize)]
    while stack:
        obj, bound = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        kind = type(obj).__name__
        if kind == "Tree" and type(obj).__module__ == "sklearn.tree._tree":
            _check_tree(obj, bound, where)
            continue
        if kind == "TreePredictor":
            _check_predictor(obj, bound, where)
        children: list[Any]
        if isinstance(obj, dict):
            children = list(obj.values())
        elif isinstance(obj, list | tuple):
            children = list(obj)
        elif type(obj).__module__ == "numpy" and getattr(obj, "dtype", None) is not None:
            children = list(obj.ravel()) if obj.dtype == object else []
        elif type(obj).__module__.startswith("sklearn.") and hasattr(obj, "__dict__"):
            width = getattr(obj, "n_features_in_", None) if "n_features_in_" in vars(obj) else None
            if kind in _WIDTH_CHANGERS:
                bound = sys.maxsize
            elif isinstance(width, int) and width >= 0:
                bound = min(bound, width)
            children = list(vars(obj).values())
        else:
            continue
        stack.extend((child, bound) for child in children)


def _check_tree(tree: Any, bound: int, where: str) -> None:
    import numpy as np

    n = int(tree.node_count)
    left, right, feature = tree.children_left[:n], tree.children_right[:n], tree.feature[:n]
    index = np.arange(n)
    leaf = (left == -1) & (right == -1)
    split = ~leaf
    bad = split & ((left <= index) | (right <= index) | (left >= n) | (right >= n)
                   | (feature < 0) | (feature >= min(bound, int(tree.n_features))))
    if n < 1 or tree.value.shape[0] < n or bad.any():
        raise StructureError(f"{where}: a decision tree in it points outside itself (node "
                             f"{int(np.argmax(bad)) if bad.any() else 0} of {n}); this is not a model "
                             "scikit-learn fitted")


def _check_predictor(predictor: Any, bound: int, where: str) -> None:
    import numpy as np

    nodes = predictor.nodes
    n = len(nodes)
    index = np.arange(n)
    split = nodes["is_leaf"] == 0
    bitsets = len(getattr(predictor, "raw_left_cat_bitsets", []))
    bad = split & ((nodes["left"] <= index) | (nodes["right"] <= index) | (nodes["left"] >= n)
                   | (nodes["right"] >= n) | (nodes["feature_idx"] >= bound)
                   | ((nodes["is_categorical"] != 0) & (nodes["bitset_idx"] >= bitsets)))
    if n < 1 or bad.any():
        raise StructureError(f"{where}: a gradient boosting tree in it points outside itself (node "
                             f"{int(np.argmax(bad)) if bad.any() else 0} of {n}); this is not a model "
                             "scikit-learn fitted")
