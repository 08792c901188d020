"""One fold of one trial, scored as the evaluate stage would score the final model.

The task runs in a worker process (loky or a Dask worker) as well as in-process, so it takes only picklable
values and returns a :class:`FoldScore` rather than raising: a trial whose fit fails is recorded as failed
with its message while the others go on. The whole Pipeline from the train stage is fitted on the fold's
training part (preprocessing, derived features, boosting adapters, early stopping all refitted per fold, by
:func:`mlspec.runtime.boosting.fit`), and the fold's held-out part is scored by
:func:`mlspec.runtime.scoring.metric_value` with the model's positive class and decision threshold.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlspec.spec import TrainedModel


@dataclass(frozen=True)
class Scoring:
    """How every fold of a search is fitted and scored (the same for all its trials)."""

    model: TrainedModel
    task: str
    seed: int
    metric: str
    positive_class: Any
    where: tuple[str | int, ...]


@dataclass(frozen=True)
class FoldScore:
    score: float | None
    error: str | None
    seconds: float


def folds(y: pd.Series, cv: int, seed: int, task: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """``cv`` (train, test) row positions of ``y``: stratified for classification, shuffled by ``seed``."""
    import numpy as np
    from sklearn.model_selection import KFold, StratifiedKFold

    splitter = (KFold(cv, shuffle=True, random_state=seed) if task == "regression"
                else StratifiedKFold(cv, shuffle=True, random_state=seed))
    return [(np.asarray(a), np.asarray(b)) for a, b in splitter.split(np.zeros(len(y)), y)]


def score_fold(pipeline: Any, x: pd.DataFrame, y: pd.Series, train: np.ndarray, test: np.ndarray,
               how: Scoring) -> FoldScore:
    """Fit a fresh copy of ``pipeline`` on rows ``train`` of ``x``/``y`` and score it on rows ``test``."""
    from sklearn.base import clone

    from mlspec.runtime import boosting

    start = time.perf_counter()
    try:
        fitted = clone(pipeline)
        boosting.fit(fitted, x.iloc[train], y.iloc[train], how.model, how.seed, how.task, how.where)
        value = _score(fitted, x.iloc[test], y.iloc[test], how)
    except Exception as exc:  # the user's estimator and params: whatever they raise fails this trial only
        text = str(exc).strip()
        return FoldScore(None, f"{type(exc).__name__}: {text}" if text else type(exc).__name__,
                         time.perf_counter() - start)
    if value is None:
        return FoldScore(None, f"metric {how.metric} is not a finite number on this fold", time.perf_counter() - start)
    return FoldScore(value, None, time.perf_counter() - start)


def _score(fitted: Any, x: pd.DataFrame, y: pd.Series, how: Scoring) -> float | None:
    import numpy as np

    from mlspec import labels
    from mlspec.metrics import METRICS
    from mlspec.runtime import bundle, scoring

    # Only what the metric reads: a forest's predict is a second pass over every tree.
    needs_scores = METRICS[how.metric].needs == "scores"
    threshold = how.model.threshold
    has_proba = hasattr(fitted, "predict_proba")
    proba = fitted.predict_proba(x) if has_proba and (needs_scores or threshold is not None) else None
    decision = (fitted.decision_function(x) if needs_scores and not has_proba and hasattr(fitted, "decision_function")
                else None)
    classes = bundle.jsonable(list(fitted.classes_)) if how.task != "regression" else None
    positive = labels.resolve(classes, how.positive_class) if how.task == "binary" and classes else None
    if needs_scores:
        predictions = np.empty(0)  # a metric of scores never reads the labels
    elif threshold is not None and proba is not None and positive is not None:
        predictions = scoring.thresholded(fitted.classes_, proba, positive, threshold)
    else:
        predictions = np.asarray(fitted.predict(x))
    scored = scoring.Scored("trial", how.model.estimator, classes, predictions, proba, decision, positive)
    return scoring.metric_value(how.metric, how.task, scored, np.asarray(y), how.where)
