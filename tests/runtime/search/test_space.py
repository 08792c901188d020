"""Trial planning: grid order, seeded random draws that survive a larger budget, ranges kept in bounds."""

from __future__ import annotations

from mlspec.runtime.search.space import draw, plan
from mlspec.searchcheck import trial_count
from mlspec.spec import Search, SearchRange


def test_a_grid_varies_its_last_key_fastest_and_stops_at_its_budget() -> None:
    search = Search(space={"a": [1, 2], "b": ["x", "y", "z"]}, budget=4)
    assert [t.params for t in plan(search, 0)] == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"},
                                                  {"a": 2, "b": "x"}]
    assert trial_count(Search(space={"a": [1, 2], "b": ["x", "y", "z"]})) == 6


def test_random_trials_depend_on_the_seed_and_their_number_only() -> None:
    space = {"c": SearchRange(low=0.001, high=100.0, log=True), "n": SearchRange(low=1, high=9), "k": ["p", "q"]}
    small = plan(Search(method="random", space=space, budget=4), 3)
    large = plan(Search(method="random", space=space, budget=8), 3)
    assert large[:4] == small
    assert plan(Search(method="random", space=space, budget=4), 4) != small
    for trial in large:
        assert 0.001 <= trial.params["c"] <= 100.0
        assert isinstance(trial.params["n"], int) and 1 <= trial.params["n"] <= 9
        assert trial.params["k"] in ("p", "q")


def test_an_integer_log_range_stays_within_its_bounds() -> None:
    values = {draw({"n": SearchRange(low=1, high=1000, log=True)}, 0, i)["n"] for i in range(200)}
    assert min(values) >= 1 and max(values) <= 1000 and all(isinstance(v, int) for v in values)
    assert len(values) > 50
