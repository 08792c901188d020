"""Is a drop real or evaluation noise? A paired bootstrap of the champion against the baseline model.

The statistics. The evaluation set has rows ``i = 1..n`` with labels ``y_i``; the champion's outputs
(predictions, scores) are ``c_i`` and the baseline model's outputs on the *same rows* are ``b_i``. For a
metric ``M`` the observed difference is ``D = M(y, c) - M(y, b)``. One bootstrap resample draws ``n`` row
indices ``I`` with replacement and computes ``D* = M(y[I], c[I]) - M(y[I], b[I])``: the *same* indices for
both models. That pairing is the point: both models find the same rows hard, so their errors are correlated
and their difference varies far less than either metric alone; comparing two separately bootstrapped
metrics would give an interval several times too wide. For classification the rows are resampled within
each true class, keeping the class counts of the evaluation set (a stratified bootstrap): the class balance
is a property of the evaluation set, not noise, and no resample loses a class (which would leave ROC AUC
undefined). After ``B`` resamples (``resamples``, default 2000) the percentile interval at level ``γ``
(``confidence``, default 0.95) is the ``(1-γ)/2`` and ``(1+γ)/2`` quantiles of the ``D*``.

The decision (in :mod:`mlspec.gates`). The worsening is ``W = -D`` for a higher-is-better metric and ``W = D``
for a lower-is-better one; the allowance ``A`` is ``max_drop`` (a percentage is taken of the baseline's
full-sample value and then held fixed). The gate fails only when the whole interval of ``W`` lies above
``A``: a one-sided test of "the champion is no worse than allowed" at level ``(1-γ)/2``, so with the default
a model that is in truth within the allowance is blocked by evaluation noise about 2.5% of the time, while
a clearly worse model still fails. Resampling is seeded (:data:`SEED`), so a verdict is reproducible.

What it does not cover: the bootstrap treats the evaluation rows as a random sample of the cases that
matter, and says nothing about training randomness (another seed may move the model more than the
interval). Percentile intervals are rough for small evaluation sets (under a few dozen rows per class) and
for metrics that hinge on single rows (``max_error``). Resamples on which a metric is undefined are dropped;
if more than :data:`MAX_UNDEFINED` of them are, the interval is not reported.

Which outputs are compared: the champion's columns in the current ``predictions.parquet`` and the baseline
champion's columns in the baseline's (see :mod:`mlspec.baseline`). Both must list the same rows with the same
labels, and recomputing each metric from them must give the values recorded, or the test is skipped with
the reason (the gate then applies the plain threshold).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from mlspec.gates import Interval

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlspec.runtime.scoring import Scored
    from mlspec.spec import Spec

SEED = 0
MAX_UNDEFINED = 0.1
REPRODUCE_TOL = 1e-9

Statistic = Callable[["np.ndarray"], "tuple[float | None, float | None]"]


def paired_bootstrap(
    statistic: Statistic, n: int, strata: np.ndarray | None, resamples: int, confidence: float, seed: int = SEED
) -> Interval | str:
    """The percentile interval of ``candidate - baseline``, or why there is none.

    ``statistic(indices)`` returns both models' metric on the rows ``indices`` (None when undefined there);
    ``strata`` (one label per row) makes the resampling stratified.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    groups = [np.arange(n)]
    if strata is not None:
        _, codes = np.unique(np.asarray(strata).astype(str), return_inverse=True)
        groups = [np.flatnonzero(codes == k) for k in range(int(codes.max()) + 1)]
    diffs: list[float] = []
    for _ in range(resamples):
        idx = np.concatenate([g[rng.integers(0, len(g), len(g))] for g in groups])
        cand, base = statistic(idx)
        if cand is not None and base is not None and math.isfinite(cand) and math.isfinite(base):
            diffs.append(cand - base)
    undefined = resamples - len(diffs)
    if undefined > MAX_UNDEFINED * resamples:
        return f"the metric is undefined on {undefined} of {resamples} resamples"
    alpha = 1.0 - confidence
    low, high = np.quantile(np.asarray(diffs), [alpha / 2, 1 - alpha / 2])
    return Interval(float(low), float(high), confidence, resamples)


# --- from predictions.parquet to intervals --------------------------------------------------------------------


def intervals(
    spec: Spec,
    metrics: Sequence[str],
    current: tuple[Path, str, dict[str, Any]],
    baseline: tuple[Path, str | None, dict[str, Any]],
) -> dict[str, Interval | str]:
    """Per metric, the interval of champion minus baseline model, or why it cannot be computed.

    ``current`` and ``baseline`` are each (predictions.parquet, model name, recorded metric values).
    """
    import pandas as pd

    (cur_file, cur_model, cur_values), (base_file, base_model, base_values) = current, baseline
    if base_model is None:
        return dict.fromkeys(metrics, "the baseline does not name its champion")
    try:
        cur, base = pd.read_parquet(cur_file), pd.read_parquet(base_file)
    except (OSError, ValueError) as exc:
        return dict.fromkeys(metrics, f"cannot read the predictions: {exc}")
    problem = _misaligned(cur, base)
    if problem:
        return dict.fromkeys(metrics, problem)
    y = cur["y_true"].to_numpy()
    try:
        cand_scored = scored_from(cur, cur_model, spec.task, y, spec.data.positive_class)
        base_scored = scored_from(base, base_model, spec.task, y, spec.data.positive_class)
    except KeyError as exc:
        return dict.fromkeys(metrics, f"no predictions of model {exc.args[0]!r} in the predictions file")
    out: dict[str, Interval | str] = {}
    for metric in metrics:
        gate = spec.evaluation.gates[metric]
        assert gate.significance is not None
        value = _metric_function(spec, metric)
        reproduced = _reproduced(metric, value, y, cand_scored, cur_values, "champion") or _reproduced(
            metric, value, y, base_scored, base_values, "baseline")
        if reproduced:
            out[metric] = reproduced
            continue
        strata = y if spec.task != "regression" else None
        out[metric] = paired_bootstrap(_both(value, y, cand_scored, base_scored), len(y), strata,
                                       gate.significance.resamples, gate.significance.confidence)
    return out


def _both(value: Callable[[np.ndarray, Scored], float | None], y: np.ndarray, cand: Scored, base: Scored
          ) -> Statistic:
    def statistic(idx: np.ndarray) -> tuple[float | None, float | None]:
        return value(y[idx], _take(cand, idx)), value(y[idx], _take(base, idx))

    return statistic


def _misaligned(cur: pd.DataFrame, base: pd.DataFrame) -> str | None:
    same = "the baseline's predictions are on other evaluation rows (the evaluation data changed), so there is no "
    same += "paired comparison"
    for column in ("row", "y_true"):
        if column not in cur.columns or column not in base.columns:
            return f"a predictions file has no {column!r} column"
    if len(cur) != len(base) or not (cur["row"].to_numpy() == base["row"].to_numpy()).all():
        return same
    if not (cur["y_true"].astype(str).to_numpy() == base["y_true"].astype(str).to_numpy()).all():
        return same
    return None


def scored_from(frame: pd.DataFrame, model: str, task: str, y: np.ndarray, positive_class: Any = None) -> Scored:
    """A model's outputs as the evaluate stage held them, rebuilt from its predictions.parquet columns;
    ``positive_class`` is the spec's ``data.positive_class`` (binary)."""
    import numpy as np

    from mlspec import labels as positive_rule
    from mlspec.runtime.scoring import Scored

    if f"{model}:pred" not in frame.columns:
        raise KeyError(model)
    predictions = frame[f"{model}:pred"].to_numpy()
    if task == "regression":
        return Scored(model, "", None, predictions, None, None)
    # Column names hold class labels as text; map them back to the labels' own values (0, not "0").
    labels = {str(v): v for v in [*y.tolist(), *predictions.tolist()]}
    if f"{model}:score" in frame.columns:
        # Binary: the positive class's probability or decision value. As the positive class's column of a
        # two-column matrix, the evaluate stage's metric code reads it exactly as it read the original.
        score = frame[f"{model}:score"].to_numpy(dtype=float)
        classes = sorted(labels.values(), key=_sort_key)
        positive = positive_rule.resolve(classes, positive_class) if len(classes) == 2 else classes[-1]
        classes = [*(c for c in classes if c != positive), positive]
        return Scored(model, "", classes, predictions, np.column_stack([1.0 - score, score]), None, positive)
    for kind in ("proba", "decision"):
        columns = [str(c) for c in frame.columns if str(c).startswith(f"{model}:{kind}:")]
        if columns:
            suffixes = [c.split(":", 2)[2] for c in columns]
            matrix = frame[columns].to_numpy(dtype=float)
            return Scored(model, "", [labels.get(x, x) for x in suffixes], predictions,
                          matrix if kind == "proba" else None, matrix if kind == "decision" else None)
    return Scored(model, "", sorted(labels.values(), key=_sort_key), predictions, None, None)


def _sort_key(value: Any) -> tuple[int, Any]:
    # Model classes are numpy-sorted (numbers before strings never mix in one label column).
    return (0, value) if isinstance(value, int | float) else (1, str(value))


def _take(s: Scored, idx: np.ndarray) -> Scored:
    from mlspec.runtime.scoring import Scored

    return Scored(s.name, s.estimator, s.classes, s.predictions[idx],
                  None if s.proba is None else s.proba[idx], None if s.decision is None else s.decision[idx])


def _metric_function(spec: Spec, metric: str) -> Callable[[np.ndarray, Scored], float | None]:
    """The metric exactly as the evaluate stage computes it, on given rows; None where it is undefined."""
    from mlspec.runtime.context import StageError
    from mlspec.runtime.scoring import compute_metrics

    # What compute_metrics reads, with the one metric: the gate's view of the spec has no evaluation.metrics.
    narrowed: Any = SimpleNamespace(task=spec.task, evaluation=SimpleNamespace(metrics=[metric]))

    def value(y: np.ndarray, scored: Scored) -> float | None:
        try:
            return compute_metrics(narrowed, scored, y)[metric]
        except StageError:
            return None

    return value


def _reproduced(
    metric: str, value: Callable[[np.ndarray, Scored], float | None], y: np.ndarray, scored: Scored,
    recorded: dict[str, Any], who: str,
) -> str | None:
    """Why the predictions file cannot stand for the recorded ``metric`` of ``who``; None if it can."""
    again, was = value(y, scored), recorded.get(metric)
    if again is None or not isinstance(was, int | float) or not math.isclose(again, was, rel_tol=REPRODUCE_TOL,
                                                                              abs_tol=REPRODUCE_TOL):
        return f"{metric} of the {who} recomputed from its predictions ({again}) is not the recorded {was}"
    return None
