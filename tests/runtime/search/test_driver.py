"""Choosing the best trial: by the metric's direction, the lowest trial number among equals, none if all failed."""

from __future__ import annotations

from mlspec.runtime.search.driver import TrialResult, best


def trial(number: int, *scores: float) -> TrialResult:
    return TrialResult(number, {"k": number}, "ran" if scores else "failed", list(scores), 0.0,
                       None if scores else "ValueError: no")


def test_the_best_trial_follows_the_metrics_direction_and_breaks_ties_by_number() -> None:
    results = [trial(0, 0.5, 0.7), trial(1), trial(2, 0.7, 0.5), trial(3, 0.2, 0.2)]
    chosen = best(results, greater_is_better=True)
    assert chosen is not None and chosen.number == 0 and chosen.mean == 0.6  # 2 ties with it, and comes later
    lowest = best(results, greater_is_better=False)
    assert lowest is not None and lowest.number == 3
    assert best([trial(0), trial(1)], greater_is_better=True) is None
