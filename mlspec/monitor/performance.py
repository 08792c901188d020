"""The monitored model on the current data: its predictions, and its metrics when the data has labels.

Predictions are made on the current rows, or a fixed random sample of
:data:`mlspec.monitor.profile.PREDICTION_ROWS` of them (the reference's predictions are sampled the same
way). When the current data has the label column, the spec's ``evaluation.metrics`` are computed on the
sampled rows that have a label, exactly as the evaluate stage computes them, and set beside the metrics
recorded when the model was evaluated. They are reported, not gated: a metric on a few hundred recent rows is
noisy, and labels often arrive late and biased towards some outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlspec.metrics import METRICS
from mlspec.monitor import profile as prof
from mlspec.runtime.context import StageError
from mlspec.runtime.scoring import decision_rule, thresholded

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlspec.runtime.bundle import Bundle
    from mlspec.spec import Spec


@dataclass
class Scoring:
    rows: Any
    """Positions of the scored rows in the current frame."""
    predictions: np.ndarray
    """The estimator's own predictions, as the training reference's are (prediction drift compares them)."""
    proba: np.ndarray | None
    decision: np.ndarray | None
    labels: np.ndarray | None = None
    """The labels by the model's decision threshold (:func:`mlspec.runtime.scoring.predict_labels`), which
    its metrics are of; None: ``predictions``."""


def score(model: Bundle, frame: pd.DataFrame, name: str, source: str) -> Scoring:
    import numpy as np

    rows = np.arange(len(frame))
    if len(frame) > prof.PREDICTION_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(len(frame), prof.PREDICTION_ROWS, replace=False))
    x = frame.iloc[rows][model.features]
    pipeline = model.model
    try:
        predictions = np.asarray(pipeline.predict(x))
        proba = pipeline.predict_proba(x) if hasattr(pipeline, "predict_proba") else None
        decision = (pipeline.decision_function(x) if proba is None and hasattr(pipeline, "decision_function")
                    else None)
    except (ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StageError(f"model {name!r} cannot predict on data source {source!r}: {first}",
                         ("monitoring", "current")) from None
    rule = decision_rule(model)
    decided = thresholded(pipeline.classes_, proba, *rule) if rule is not None and proba is not None else None
    return Scoring(rows, predictions, proba, decision, decided)


def compare(spec: Spec, model: Bundle, name: str, frame: pd.DataFrame, scoring: Scoring,
            recorded: dict[str, Any]) -> dict[str, Any]:
    """``{"available": bool, "rows": n, "reason": str, "metrics": [...]}`` for the report."""
    from mlspec.runtime.scoring import Scored, compute_metrics, positive_of

    label = spec.data.target
    if label not in frame.columns:
        return {"available": False, "rows": 0, "reason": f"the current data has no {label!r} column", "metrics": []}
    labels = frame[label].iloc[scoring.rows]
    known = labels.notna().to_numpy()
    if not known.any():
        return {"available": False, "rows": 0, "reason": f"every {label!r} value of the current data is null",
                "metrics": []}
    classes = model.classes
    predicted = scoring.labels if scoring.labels is not None else scoring.predictions
    positive = positive_of(model, classes, spec.data.positive_class) if spec.task == "binary" else None
    scored = Scored(name, str(model.metadata.get("estimator")), classes, predicted[known],
                    None if scoring.proba is None else scoring.proba[known],
                    None if scoring.decision is None else scoring.decision[known], positive)
    try:
        current = compute_metrics(spec, scored, labels.to_numpy()[known])
    except StageError as exc:  # e.g. a class the model never saw: the report says so instead of failing
        return {"available": False, "rows": int(known.sum()), "reason": str(exc), "metrics": []}
    rows = []
    for metric, value in current.items():
        before = recorded.get(metric)
        higher = METRICS[metric].greater_is_better
        change = None if value is None or before is None else value - before
        worse = change is not None and (change < 0 if higher else change > 0)
        rows.append({"metric": metric, "recorded": prof.shown(before) if before is not None else None,
                     "current": prof.shown(value) if value is not None else None,
                     "change": prof.shown(change) if change is not None else None,
                     "direction": "higher" if higher else "lower", "worse": worse})
    return {"available": True, "rows": int(known.sum()), "reason": "", "metrics": rows}
