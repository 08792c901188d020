"""A model's scores on a table, and the catalogue's metrics of them.

Shared by the evaluate stage (which scores every model), the gate's significance test (which rescores
resampled rows), monitoring (the monitored model on labelled current data) and the evaluation plots, so each
computes a metric the same way. NumPy, pandas and scikit-learn are imported where they are used.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlspec.metrics import METRICS, Metric
from mlspec.runtime import bundle
from mlspec.runtime.context import StageError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlspec.spec import Spec

# Metrics of probabilities: a decision_function's margins would give a number, but a meaningless one.
PROBABILITY_FUNCTIONS = frozenset({"log_loss", "brier_score_loss"})
# Binary label metrics whose positive class scikit-learn assumes to be 1 unless told.
POS_LABEL_FUNCTIONS = frozenset(
    {"f1_score", "precision_score", "recall_score", "jaccard_score", "average_precision_score", "brier_score_loss"}
)


@dataclass
class Scored:
    """One model's output on the evaluation data."""

    name: str
    estimator: str
    classes: list[Any] | None
    predictions: np.ndarray
    proba: np.ndarray | None  # predict_proba, columns in the order of ``classes``
    decision: np.ndarray | None  # decision_function, when there is no predict_proba


def predict(task: str, name: str, model: bundle.Bundle, frame: pd.DataFrame, source: str) -> Scored:
    """Model ``name``'s outputs on the rows of ``frame`` (data source ``source``), as the evaluate stage and
    the gate's registry baseline both take them; :class:`StageError` if its features are missing or it fails."""
    from mlspec.runtime.features import require_columns

    require_columns(model.features, [str(c) for c in frame.columns], source, ("evaluation", "data"),
                    f"model {name!r}")
    x = frame[model.features]
    fitted, estimator = model.model, str(model.metadata["estimator"])
    try:
        predictions = fitted.predict(x)
        proba = fitted.predict_proba(x) if _has(fitted, "predict_proba") else None
        decision = fitted.decision_function(x) if proba is None and _has(fitted, "decision_function") else None
    except Exception as exc:  # the estimator is the user's choice: whatever it raises is about this model
        reason = str(exc) if isinstance(exc, ValueError | TypeError) else f"{type(exc).__name__}: {exc}"
        raise StageError(f"model {name!r} ({estimator}) cannot predict on data source {source!r}: {reason}",
                         ("evaluation", "data")) from None
    classes = bundle.jsonable(fitted.classes_) if task != "regression" else None
    return Scored(name, estimator, classes, predictions, proba, decision)


def _has(model: Any, method: str) -> bool:
    # Pipeline exposes predict_proba only when its final estimator has it (e.g. not SVC(probability=False)).
    return hasattr(model, method)


def score_kind(s: Scored) -> str | None:
    return "predict_proba" if s.proba is not None else "decision_function" if s.decision is not None else None


def compute_metrics(spec: Spec, s: Scored, y_true: np.ndarray) -> dict[str, float | None]:
    import sklearn.metrics

    out: dict[str, float | None] = {}
    for i, name in enumerate(spec.evaluation.metrics):
        metric = METRICS[name]
        fn = getattr(sklearn.metrics, metric.function)
        kwargs = dict(metric.kwargs)
        if metric.needs == "scores":
            y_input = _scores_for(metric, s, spec.task, ("evaluation", "metrics", i))
            if spec.task == "multiclass":
                kwargs["labels"] = s.classes
        else:
            y_input = s.predictions
        if spec.task == "binary" and metric.function in POS_LABEL_FUNCTIONS and "average" not in kwargs:
            assert s.classes is not None
            kwargs["pos_label"] = s.classes[-1]
        with warnings.catch_warnings():
            # An undefined metric (e.g. precision with no positive predictions) is 0 by scikit-learn's rule;
            # its warning would only repeat what the number says.
            warnings.simplefilter("ignore")
            try:
                value = float(fn(y_true, y_input, **kwargs))
            except ValueError as exc:  # e.g. a class in the evaluation data that the model never saw
                raise StageError(f"metric {name!r} of model {s.name!r}: {exc}{unseen_note(y_true, s)}",
                                 ("evaluation", "metrics", i)) from None
        out[name] = value if math.isfinite(value) else None
    return out


def unseen_labels(y_true: np.ndarray, s: Scored) -> list[Any]:
    """Labels of the evaluation data that the model never saw in training (none for a regressor)."""
    if s.classes is None:
        return []
    known = set(s.classes)
    return sorted({v for v in bundle.jsonable(list(y_true)) if v not in known}, key=str)


def unseen_note(y_true: np.ndarray, s: Scored) -> str:
    unseen = unseen_labels(y_true, s)
    if not unseen:
        return ""
    shown = ", ".join(repr(v) for v in unseen[:5]) + (", ..." if len(unseen) > 5 else "")
    return (f" (the evaluation data has label(s) {shown} that the model never saw in training, whose labels "
            f"are {s.classes}; fix the data or train on data with every label)")


def _scores_for(metric: Metric, s: Scored, task: str, where: tuple[str | int, ...]) -> np.ndarray:
    if s.proba is not None:
        return s.proba[:, -1] if task == "binary" else s.proba
    probability_only = metric.function in PROBABILITY_FUNCTIONS or task == "multiclass"
    if s.decision is not None and not probability_only:
        return s.decision
    needed = "predicted probabilities (predict_proba)" if probability_only else "scores"
    raise StageError(
        f"metric {metric.name!r} needs {needed}, but model {s.name!r} ({s.estimator}) has no "
        + ("predict_proba" if probability_only else "predict_proba or decision_function"),
        where,
    )


def predictions_frame(index: pd.Index, y_true: np.ndarray, scored: list[Scored]) -> pd.DataFrame:
    """One row per evaluation row: ``row``, ``y_true``, and per model ``<m>:pred`` plus its scores.

    Scores are ``<m>:score`` (binary: positive class probability, or the decision function) or
    ``<m>:proba:<class>`` / ``<m>:decision:<class>`` (multiclass).
    """
    import pandas as pd

    columns: dict[str, Any] = {"row": index.to_numpy(), "y_true": y_true}
    for s in scored:
        columns[f"{s.name}:pred"] = s.predictions
        matrix = s.proba if s.proba is not None else s.decision
        if matrix is None:
            continue
        if matrix.ndim == 1:
            columns[f"{s.name}:score"] = matrix
        elif matrix.shape[1] == 2 and s.classes is not None and len(s.classes) == 2:
            columns[f"{s.name}:score"] = matrix[:, 1]
        else:
            kind = "proba" if s.proba is not None else "decision"
            for j, label in enumerate(s.classes or range(matrix.shape[1])):
                columns[f"{s.name}:{kind}:{label}"] = matrix[:, j]
    return pd.DataFrame(columns)
