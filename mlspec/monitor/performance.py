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
    proba: np.ndarray | None
    decision: np.ndarray | None


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
    return Scoring(rows, predictions, proba, decision)


def compare(spec: Spec, model: Bundle, name: str, frame: pd.DataFrame, scoring: Scoring,
            recorded: dict[str, Any]) -> dict[str, Any]:
    """``{"available": bool, "rows": n, "reason": str, "metrics": [...]}`` for the report."""
    from mlspec.runtime.scoring import Scored, compute_metrics

    label = spec.data.target
    if label not in frame.columns:
        return {"available": False, "rows": 0, "reason": f"the current data has no {label!r} column", "metrics": []}
    labels = frame[label].iloc[scoring.rows]
    known = labels.notna().to_numpy()
    if not known.any():
        return {"available": False, "rows": 0, "reason": f"every {label!r} value of the current data is null",
                "metrics": []}
    classes = model.classes
    scored = Scored(name, str(model.metadata.get("estimator")), classes, scoring.predictions[known],
                    None if scoring.proba is None else scoring.proba[known],
                    None if scoring.decision is None else scoring.decision[known])
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
