"""The static metric catalogue that lets `validate` avoid importing scikit-learn agrees with it."""

from __future__ import annotations

import sklearn.metrics

from mlspec.metrics import METRICS


def test_every_metric_function_exists_in_scikit_learn() -> None:
    for metric in METRICS.values():
        assert callable(getattr(sklearn.metrics, metric.function)), metric.name


def test_metric_names_are_scorer_names_without_neg() -> None:
    scorers = {n.removeprefix("neg_") for n in sklearn.metrics.get_scorer_names()}
    assert sorted(n for n in METRICS if n not in scorers) == []


def test_metric_directions_agree_with_scikit_learn_scorers() -> None:
    names = set(sklearn.metrics.get_scorer_names())
    for name, metric in METRICS.items():
        # scikit-learn names a lower-is-better metric `neg_<name>` so that its scorers always maximise.
        scorer = name if name in names else f"neg_{name}"
        assert (scorer == name) == metric.greater_is_better, name
