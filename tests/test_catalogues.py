"""The static catalogues that let `validate` avoid heavy imports agree with the real libraries."""

from __future__ import annotations

import sklearn.metrics

from mlspec import expectations
from mlspec.expectations import catalogue_from_gx
from mlspec.gx_catalogue import CATALOGUE, COMMON_TYPES, TYPES
from mlspec.metrics import METRICS


def test_expectation_catalogue_matches_installed_great_expectations() -> None:
    assert catalogue_from_gx() == (CATALOGUE, TYPES, COMMON_TYPES), (
        "mlspec/gx_catalogue.py is out of date; regenerate it with `python -m mlspec.expectations`"
    )


def test_expectation_lookup() -> None:
    info = expectations.lookup("expect_column_values_to_be_between")
    assert info is not None
    assert info.required == ("column",)
    assert {"min_value", "max_value", "mostly", "meta"} <= set(info.allowed)
    assert info.kinds("mostly") == ("number[0.0,1.0]",)
    assert info.kinds("min_value") == ("number", "date", "null")
    assert info.kinds("result_format") == ("=BASIC", "=BOOLEAN_ONLY", "=COMPLETE", "=SUMMARY")
    assert expectations.lookup("expect_nothing") is None


def test_every_argument_has_a_type() -> None:
    for name, (required, optional) in CATALOGUE.items():
        assert sorted(TYPES[name]) == sorted((*required, *optional)), name


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
