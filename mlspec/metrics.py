"""The metric catalogue: names users write in ``evaluation.metrics``, and what they mean.

Names follow scikit-learn's scorer names (``sklearn.metrics.get_scorer_names()``) without the ``neg_`` prefix,
so ``root_mean_squared_error`` is reported as the positive error it is and gates read naturally
(``max: 5.0``). The table is static so that ``mlspec validate`` never imports scikit-learn; a test checks it
against the installed scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Task = Literal["binary", "multiclass", "regression"]
Needs = Literal["labels", "scores"]

CLASSIFICATION: frozenset[Task] = frozenset({"binary", "multiclass"})
ALL_TASKS: frozenset[Task] = frozenset({"binary", "multiclass", "regression"})


@dataclass(frozen=True)
class Metric:
    name: str
    function: str  # attribute of sklearn.metrics
    tasks: frozenset[Task]
    greater_is_better: bool = True
    needs: Needs = "labels"  # "scores": predict_proba / decision_function output
    kwargs: dict[str, object] = field(default_factory=dict)


def _averaged(base: str, function: str) -> list[Metric]:
    out = [Metric(base, function, frozenset({"binary"}))]
    for avg in ("micro", "macro", "weighted"):
        out.append(Metric(f"{base}_{avg}", function, CLASSIFICATION, kwargs={"average": avg}))
    return out


_METRICS: list[Metric] = [
    Metric("accuracy", "accuracy_score", CLASSIFICATION),
    Metric("balanced_accuracy", "balanced_accuracy_score", CLASSIFICATION),
    *_averaged("f1", "f1_score"),
    *_averaged("precision", "precision_score"),
    *_averaged("recall", "recall_score"),
    *_averaged("jaccard", "jaccard_score"),
    Metric("matthews_corrcoef", "matthews_corrcoef", CLASSIFICATION),
    Metric("roc_auc", "roc_auc_score", frozenset({"binary"}), needs="scores"),
    Metric("roc_auc_ovr", "roc_auc_score", CLASSIFICATION, needs="scores", kwargs={"multi_class": "ovr"}),
    Metric("roc_auc_ovo", "roc_auc_score", CLASSIFICATION, needs="scores", kwargs={"multi_class": "ovo"}),
    Metric(
        "roc_auc_ovr_weighted",
        "roc_auc_score",
        CLASSIFICATION,
        needs="scores",
        kwargs={"multi_class": "ovr", "average": "weighted"},
    ),
    Metric("average_precision", "average_precision_score", frozenset({"binary"}), needs="scores"),
    Metric("log_loss", "log_loss", CLASSIFICATION, greater_is_better=False, needs="scores"),
    Metric("brier_score", "brier_score_loss", frozenset({"binary"}), greater_is_better=False, needs="scores"),
    Metric("r2", "r2_score", frozenset({"regression"})),
    Metric("explained_variance", "explained_variance_score", frozenset({"regression"})),
    Metric("max_error", "max_error", frozenset({"regression"}), greater_is_better=False),
    Metric("mean_absolute_error", "mean_absolute_error", frozenset({"regression"}), greater_is_better=False),
    Metric("mean_squared_error", "mean_squared_error", frozenset({"regression"}), greater_is_better=False),
    Metric(
        "root_mean_squared_error", "root_mean_squared_error", frozenset({"regression"}), greater_is_better=False
    ),
    Metric(
        "median_absolute_error", "median_absolute_error", frozenset({"regression"}), greater_is_better=False
    ),
    Metric(
        "mean_absolute_percentage_error",
        "mean_absolute_percentage_error",
        frozenset({"regression"}),
        greater_is_better=False,
    ),
]

METRICS: dict[str, Metric] = {m.name: m for m in _METRICS}


def metrics_for(task: Task) -> list[str]:
    """Metric names usable for ``task``, in catalogue order."""
    return [m.name for m in _METRICS if task in m.tasks]
