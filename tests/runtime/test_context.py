"""RunOptions: what one run is asked beyond the spec, read from the environment once, at the edge."""

from __future__ import annotations

from mlspec.runtime.context import NO_OPTIONS, RunOptions


def test_an_explicit_baseline_wins_over_the_environment() -> None:
    assert RunOptions.from_environ({"MLSPEC_BASELINE": "main"}, baseline="HEAD~1") == RunOptions("HEAD~1")
    assert RunOptions.from_environ({"MLSPEC_BASELINE": "main"}) == RunOptions("main")


def test_no_request_is_no_baseline() -> None:
    assert RunOptions.from_environ({}) == NO_OPTIONS
    assert RunOptions.from_environ({"MLSPEC_BASELINE": ""}, baseline="") == RunOptions(None)
