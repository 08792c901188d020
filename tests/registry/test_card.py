"""The model card shows a binary model's positive class, its decision threshold and its per-class metrics."""

from __future__ import annotations

from mlspec.registry.card import render

PROV = {
    "model": "cancer", "trained_model": "logreg", "task": "binary",
    "decision": {"positive_class": "yes", "threshold": 0.35},
    "evaluation": {"metrics": ["recall"], "champion": "logreg", "models": {"logreg": {"recall": 0.9}},
                   "per_class": {"no": {"precision": 0.95, "recall": 0.97, "f1": 0.96, "support": 108},
                                 "yes": {"precision": 0.93, "recall": 0.9, "f1": 0.915, "support": 61}}},
}


def test_the_card_names_the_positive_class_and_the_threshold() -> None:
    card = render(PROV, 3)
    assert '| positive class | `"yes"` |' in card
    assert "| decision | positive when its probability is at least 0.35 |" in card
    assert "Per class, `logreg`:" in card
    assert "| `no` | 0.95 | 0.97 | 0.96 | 108 |" in card and "| `yes` | 0.93 | 0.9 | 0.915 | 61 |" in card


def test_without_a_threshold_the_estimator_decides() -> None:
    card = render({**PROV, "decision": {"positive_class": 1, "threshold": None}})
    assert "| positive class | `1` |" in card and "| decision | the estimator's own predict |" in card


def test_a_regressor_card_has_neither() -> None:
    card = render({"model": "m", "task": "regression", "evaluation": {"metrics": ["r2"], "models": {}}})
    assert "positive class" not in card and "Per class" not in card


def test_a_searched_model_card_says_how_its_params_were_chosen() -> None:
    search = {"method": "grid", "trials": 12, "best_trial": 5, "metric": "roc_auc", "cv_score": 0.9912, "cv": 5}
    card = render({**PROV, "search": search})
    assert ("- params chosen by a grid search: trial 5 of 12, 5-fold CV roc_auc 0.9912 on the training rows"
            in card)
    assert "search" not in render(PROV)
