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
    positive: Any = None
    """Binary: the positive class, which every binary metric is about; None: the last of ``classes``."""

    @property
    def positive_label(self) -> Any:
        assert self.classes is not None
        return self.positive if self.positive is not None else self.classes[-1]

    def positive_score(self) -> np.ndarray | None:
        """Binary: the positive class's probability, else its decision value (larger: more positive)."""
        assert self.classes is not None
        index = self.classes.index(self.positive_label)
        if self.proba is not None:
            return self.proba[:, index]
        if self.decision is None:
            return None
        # A binary decision_function is positive for classes[1] (scikit-learn's convention).
        return self.decision if index == 1 else -self.decision


def decision_rule(model: bundle.Bundle) -> tuple[Any, float] | None:
    """The model's ``(positive class, threshold)`` as recorded when it was trained; None: its own predict."""
    decision = model.metadata.get("decision") or {}
    threshold = decision.get("threshold")
    if threshold is None:
        return None
    return decision["positive_class"], float(threshold)


def predict_labels(model: bundle.Bundle, x: pd.DataFrame) -> np.ndarray:
    """The labels ``model`` predicts for the rows ``x``: by its decision threshold where it was trained with
    one (the positive class when its probability is at least the threshold), else by its own ``predict``.
    Everything that predicts labels from a bundle (evaluate, rescoring, monitoring, serve) calls this."""
    return decide(model.model, decision_rule(model), x)


def decide(fitted: Any, rule: tuple[Any, float] | None, x: pd.DataFrame) -> np.ndarray:
    """The labels the fitted pipeline predicts for ``x`` by the decision ``rule`` (:func:`decision_rule`)."""
    import numpy as np

    if rule is None:
        return np.asarray(fitted.predict(x))
    return thresholded(fitted.classes_, fitted.predict_proba(x), *rule)


def thresholded(classes: Any, proba: np.ndarray, positive: Any, threshold: float) -> np.ndarray:
    """The label of each row of ``proba`` (columns in the order of ``classes``, two of them) when the positive
    class is chosen at probability ``threshold`` or more."""
    import numpy as np

    values = np.asarray(classes)
    index = bundle.jsonable(list(values)).index(positive)
    chosen: np.ndarray = values[np.where(proba[:, index] >= threshold, index, 1 - index)]
    return chosen


def predict(task: str, name: str, model: bundle.Bundle, frame: pd.DataFrame, source: str,
            positive_class: Any = None) -> Scored:
    """Model ``name``'s outputs on the rows of ``frame`` (data source ``source``), as the evaluate stage and
    the gate's registry baseline both take them; :class:`StageError` if its features are missing or it fails.
    ``positive_class`` is the spec's ``data.positive_class``: the class binary metrics are about (when the
    spec names none, the one the model was trained with, see :func:`positive_of`)."""
    from mlspec.runtime.features import require_columns

    require_columns(model.features, [str(c) for c in frame.columns], source, ("evaluation", "data"),
                    f"model {name!r}")
    x = frame[model.features]
    fitted, estimator = model.model, str(model.metadata["estimator"])
    try:
        proba = fitted.predict_proba(x) if _has(fitted, "predict_proba") else None
        rule = decision_rule(model)
        predictions = (thresholded(fitted.classes_, proba, *rule) if rule is not None and proba is not None
                       else fitted.predict(x))
        decision = fitted.decision_function(x) if proba is None and _has(fitted, "decision_function") else None
    except Exception as exc:  # the estimator is the user's choice: whatever it raises is about this model
        reason = str(exc) if isinstance(exc, ValueError | TypeError) else f"{type(exc).__name__}: {exc}"
        raise StageError(f"model {name!r} ({estimator}) cannot predict on data source {source!r}: {reason}",
                         ("evaluation", "data")) from None
    classes = bundle.jsonable(fitted.classes_) if task != "regression" else None
    positive = positive_of(model, classes, positive_class) if task == "binary" else None
    return Scored(name, estimator, classes, predictions, proba, decision, positive)


def positive_of(model: bundle.Bundle, classes: list[Any] | None, declared: Any = None) -> Any:
    """The positive class of a binary ``model`` with ``classes``: the spec's (``declared``) when it is one of
    them, else the one recorded at training, else the rule of :func:`mlspec.labels.resolve`."""
    from mlspec import labels

    assert classes is not None
    recorded = (model.metadata.get("decision") or {}).get("positive_class")
    return labels.resolve(classes, declared if labels.match(declared, classes) is not None else recorded)


def _has(model: Any, method: str) -> bool:
    # Pipeline exposes predict_proba only when its final estimator has it (e.g. not SVC(probability=False)).
    return hasattr(model, method)


def score_kind(s: Scored) -> str | None:
    return "predict_proba" if s.proba is not None else "decision_function" if s.decision is not None else None


def compute_metrics(spec: Spec, s: Scored, y_true: np.ndarray) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    if unseen_labels(y_true, s):
        # Scored as "not the positive class", or refused by scikit-learn in its own words: say what it is.
        raise StageError(unseen_message(y_true, s), ("evaluation", "data"))
    for i, name in enumerate(spec.evaluation.metrics):
        out[name] = metric_value(name, spec.task, s, y_true, ("evaluation", "metrics", i))
    return out


def metric_value(name: str, task: str, s: Scored, y_true: np.ndarray, where: tuple[str | int, ...]) -> float | None:
    """Metric ``name`` of the outputs ``s`` against ``y_true`` (None when not finite), as evaluate computes it;
    also what a search's cross-validation scores folds by, so both mean the same by a number. A metric the
    outputs cannot give is a :class:`StageError` at ``where``."""
    import sklearn.metrics

    metric = METRICS[name]
    fn = getattr(sklearn.metrics, metric.function)
    kwargs = dict(metric.kwargs)
    y_for = y_true
    if metric.needs == "scores":
        y_input = _scores_for(metric, s, task, where)
        if task == "multiclass":
            kwargs["labels"] = s.classes
        elif task == "binary":
            # A 1-D score is read as "larger means the label that sorts last" (roc_auc_score, log_loss
            # have no pos_label): give them 1 for the positive class, 0 for the other, whatever sorts last.
            y_for = (y_true == s.positive_label).astype(int)
            if metric.function in POS_LABEL_FUNCTIONS:
                kwargs["pos_label"] = 1
    else:
        y_input = s.predictions
        if task == "binary" and metric.function in POS_LABEL_FUNCTIONS and "average" not in kwargs:
            kwargs["pos_label"] = s.positive_label
    with warnings.catch_warnings():
        # An undefined metric (e.g. precision with no positive predictions) is 0 by scikit-learn's rule;
        # its warning would only repeat what the number says.
        warnings.simplefilter("ignore")
        try:
            value = float(fn(y_for, y_input, **kwargs))
        except ValueError as exc:  # e.g. a class in the evaluation data that the model never saw
            raise StageError(f"metric {name!r} of model {s.name!r}: {exc}{unseen_note(y_true, s)}", where) from None
    return value if math.isfinite(value) else None


def unseen_labels(y_true: np.ndarray, s: Scored) -> list[Any]:
    """Labels of the evaluation data that the model never saw in training (none for a regressor)."""
    if s.classes is None:
        return []
    known = set(s.classes)
    return sorted({v for v in bundle.jsonable(list(y_true)) if v not in known}, key=str)


def unseen_message(y_true: np.ndarray, s: Scored, source: str | None = None, trained_on: str | None = None
                   ) -> str:
    """The evaluation labels (of data source ``source``) that model ``s`` never saw in training (on data source
    ``trained_on``), as the error that says so; the empty string when there are none."""
    unseen = unseen_labels(y_true, s)
    if not unseen:
        return ""
    shown = ", ".join(repr(v) for v in unseen[:5]) + (", ..." if len(unseen) > 5 else "")
    data = f"data source {source!r}" if source is not None else "the evaluation data"
    training = f" on data source {trained_on!r}" if trained_on is not None else ""
    return (f"{data} has label(s) {shown} that model {s.name!r} never saw in training{training}, whose labels "
            f"are {s.classes}; fix the data or train on data with every label")


def unseen_note(y_true: np.ndarray, s: Scored) -> str:
    unseen = unseen_labels(y_true, s)
    if not unseen:
        return ""
    shown = ", ".join(repr(v) for v in unseen[:5]) + (", ..." if len(unseen) > 5 else "")
    return (f" (the evaluation data has label(s) {shown} that the model never saw in training, whose labels "
            f"are {s.classes}; fix the data or train on data with every label)")


def _scores_for(metric: Metric, s: Scored, task: str, where: tuple[str | int, ...]) -> np.ndarray:
    if s.proba is not None:
        score = s.positive_score() if task == "binary" else s.proba
        assert score is not None
        return score
    probability_only = metric.function in PROBABILITY_FUNCTIONS or task == "multiclass"
    if s.decision is not None and not probability_only:
        # roc_auc_score reads a 1-D score as "larger is classes[1]": give it the positive class's direction
        # and say which class that is through the labels (roc_auc has no pos_label).
        score = s.positive_score() if task == "binary" else s.decision
        assert score is not None
        return score
    needed = "predicted probabilities (predict_proba)" if probability_only else "scores"
    raise StageError(
        f"metric {metric.name!r} needs {needed}, but model {s.name!r} ({s.estimator}) has no "
        + ("predict_proba" if probability_only else "predict_proba or decision_function"),
        where,
    )


def predictions_frame(index: pd.Index, y_true: np.ndarray, scored: list[Scored]) -> pd.DataFrame:
    """One row per evaluation row: ``row``, ``y_true``, and per model ``<m>:pred`` plus its scores.

    Scores are ``<m>:score`` (binary: the positive class's probability, or its decision value) or
    ``<m>:proba:<class>`` / ``<m>:decision:<class>`` (multiclass).
    """
    import pandas as pd

    columns: dict[str, Any] = {"row": index.to_numpy(), "y_true": y_true}
    for s in scored:
        columns[f"{s.name}:pred"] = s.predictions
        matrix = s.proba if s.proba is not None else s.decision
        if matrix is None:
            continue
        if s.classes is not None and len(s.classes) == 2 and (matrix.ndim == 1 or matrix.shape[1] == 2):
            columns[f"{s.name}:score"] = s.positive_score()
        elif matrix.ndim == 1:
            columns[f"{s.name}:score"] = matrix
        else:
            kind = "proba" if s.proba is not None else "decision"
            for j, label in enumerate(s.classes or range(matrix.shape[1])):
                columns[f"{s.name}:{kind}:{label}"] = matrix[:, j]
    return pd.DataFrame(columns)
