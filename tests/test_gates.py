"""Gate judgement: every bound in both metric directions, the baseline edge cases, significance decisions."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from mlspec.gates import Interval, as_json, from_json, judge, parse_drop, render
from mlspec.spec import Gate, Significance

RMSE = "root_mean_squared_error"  # lower is better


def one(gate: Gate, current: float | None, baseline: float | str | None = "absent", metric: str = "accuracy",
        significance: Interval | str | None = None) -> tuple[str, str]:
    """Judge a single gate; ``baseline="absent"`` means there is no baseline at all."""
    base = None if baseline == "absent" else {metric: baseline}
    sig = {metric: significance} if significance is not None else None
    result = judge({metric: gate}, {metric: current}, base, significance=sig)
    return result.gates[0].verdict, result.gates[0].reason


@pytest.mark.parametrize(
    ("gate", "metric", "current", "baseline", "verdict", "reason"),
    [
        # absolute bounds, inclusive
        (Gate(min=0.9), "accuracy", 0.95, "absent", "pass", "0.95 >= min 0.9"),
        (Gate(min=0.9), "accuracy", 0.9, "absent", "pass", "0.9 >= min 0.9"),
        (Gate(min=0.9), "accuracy", 0.8999, "absent", "fail", "0.8999 < min 0.9"),
        (Gate(min=0.95), "accuracy", 0.94999, "absent", "fail", "0.94999 < min 0.95"),
        (Gate(max=65), RMSE, 55.71, "absent", "pass", "55.71 <= max 65"),
        (Gate(max=65), RMSE, 70.2, "absent", "fail", "70.2 > max 65"),
        (Gate(min=0.2, max=0.4), "r2", 0.5, "absent", "fail", "0.5 > max 0.4"),
        # absolute drop, higher is better
        (Gate(max_drop=0.02), "accuracy", 0.89, 0.9, "pass", "0.01 worse than the baseline 0.9, within max_drop 0.02"),
        (Gate(max_drop=0.02), "accuracy", 0.88, 0.9, "pass", "0.02 worse than the baseline 0.9, within max_drop 0.02"),
        (Gate(max_drop=0.02), "accuracy", 0.87, 0.9, "fail",
         "0.03 worse than the baseline 0.9, more than max_drop 0.02"),
        (Gate(max_drop=0.02), "accuracy", 0.95, 0.9, "pass", "0.05 better than the baseline 0.9"),
        (Gate(max_drop=0), "accuracy", 0.9, 0.9, "pass", "equal to the baseline 0.9"),
        # absolute drop, lower is better: a rise is the worsening
        (Gate(max_drop=2), RMSE, 56.5, 55.0, "pass", "1.5 worse than the baseline 55, within max_drop 2"),
        (Gate(max_drop=2), RMSE, 57.5, 55.0, "fail", "2.5 worse than the baseline 55, more than max_drop 2"),
        (Gate(max_drop=2), RMSE, 40.0, 55.0, "pass", "15 better than the baseline 55"),
        # percent drop, of |baseline|
        (Gate(max_drop="5%"), RMSE, 57.5, 55.0, "pass",
         "2.5 worse than the baseline 55, within max_drop 5% of 55 = 2.75"),
        (Gate(max_drop="5%"), RMSE, 58.0, 55.0, "fail",
         "3 worse than the baseline 55, more than max_drop 5% of 55 = 2.75"),
        (Gate(max_drop="2%"), "accuracy", 0.89, 0.9, "pass",
         "0.01 worse than the baseline 0.9, within max_drop 2% of 0.9 = 0.018"),
        (Gate(max_drop="2%"), "accuracy", 0.88, 0.9, "fail",
         "0.02 worse than the baseline 0.9, more than max_drop 2% of 0.9 = 0.018"),
        (Gate(max_drop="10%"), "r2", -0.55, -0.5, "pass",
         "0.05 worse than the baseline -0.5, within max_drop 10% of -0.5 = 0.05"),
        # a baseline of 0 with a percentage allows no worsening at all
        (Gate(max_drop="5%"), "max_error", 0.1, 0.0, "fail",
         "0.1 worse than the baseline 0; a percentage of a baseline of 0 allows no worsening (use an absolute "
         "max_drop)"),
        (Gate(max_drop="5%"), "max_error", 0.0, 0.0, "pass", "equal to the baseline 0"),
        # no usable baseline value: the relative check is skipped, the absolute ones still apply
        (Gate(max_drop=0.01), "accuracy", 0.5, "absent", "skipped", "max_drop skipped: no baseline"),
        (Gate(min=0.9, max_drop=0.01), "accuracy", 0.5, "absent", "fail", "0.5 < min 0.9"),
        (Gate(min=0.4, max_drop=0.01), "accuracy", 0.5, "absent", "pass",
         "0.5 >= min 0.4; max_drop skipped: no baseline"),
        (Gate(max_drop=0.01), "accuracy", 0.5, None, "skipped",
         "max_drop skipped: the baseline value is undefined (NaN)"),
        (Gate(max_drop=0.01), "accuracy", 0.5, "nan", "skipped",
         "max_drop skipped: the baseline value is undefined (NaN)"),
        # an undefined current value fails, whatever the bounds
        (Gate(min=0.9), "accuracy", None, "absent", "fail", "accuracy is undefined (NaN) for the champion"),
        (Gate(max_drop=0.01), "accuracy", math.nan, 0.9, "fail", "accuracy is undefined (NaN) for the champion"),
        # warn-only gates report a failure as a warning
        (Gate(min=0.9, warn_only=True), "accuracy", 0.8, "absent", "warn", "0.8 < min 0.9"),
        (Gate(min=0.9, warn_only=True), "accuracy", None, "absent", "warn",
         "accuracy is undefined (NaN) for the champion"),
        (Gate(min=0.9, warn_only=True), "accuracy", 0.95, "absent", "pass", "0.95 >= min 0.9"),
        # every failing bound is named
        (Gate(min=0.9, max_drop=0.01), "accuracy", 0.85, 0.95, "fail",
         "0.85 < min 0.9; 0.1 worse than the baseline 0.95, more than max_drop 0.01"),
    ],
)
def test_one_gate(gate: Gate, metric: str, current: float | None, baseline: Any, verdict: str, reason: str) -> None:
    assert one(gate, current, baseline, metric) == (verdict, reason)


def test_baseline_without_the_metric_skips_the_relative_check() -> None:
    result = judge({"f1": Gate(min=0.5, max_drop=0.01)}, {"f1": 0.8}, {"accuracy": 0.9})
    assert (result.gates[0].verdict, result.gates[0].reason) == (
        "pass", "0.8 >= min 0.5; max_drop skipped: the baseline has no f1")


def test_overall_verdict_and_the_no_baseline_notice() -> None:
    gates = {"accuracy": Gate(min=0.9, max_drop=0.01), "f1": Gate(min=0.9, warn_only=True)}
    passed = judge(gates, {"accuracy": 0.95, "f1": 0.95}, None, no_baseline="no baseline (not a git repository)")
    assert passed.verdict == "pass"
    assert passed.notices == ("no baseline (not a git repository): relative gates (max_drop) skipped, absolute "
                              "gates (min, max) apply",)
    warned = judge(gates, {"accuracy": 0.95, "f1": 0.5}, {"accuracy": 0.95})
    assert (warned.verdict, warned.notices, [g.metric for g in warned.warned]) == ("warn", (), ["f1"])
    failed = judge(gates, {"accuracy": 0.5, "f1": 0.5}, {"accuracy": 0.95})
    assert (failed.verdict, [g.metric for g in failed.failed]) == ("fail", ["accuracy"])
    assert judge({}, {"accuracy": 0.5}, None).verdict == "pass"
    # Only relative gates need a baseline; without them there is nothing to announce.
    assert judge({"f1": Gate(min=0.1)}, {"f1": 0.5}, None).notices == ()


def test_delta_is_current_minus_baseline() -> None:
    result = judge({RMSE: Gate(max_drop=1)}, {RMSE: 57.0}, {RMSE: 55.0})
    g = result.gates[0]
    assert (g.direction, g.current, g.baseline, g.delta) == ("lower", 57.0, 55.0, 2.0)


@pytest.mark.parametrize(("value", "parsed"), [(0.01, (0.01, False)), ("2%", (0.02, True)), ("0.5%", (0.005, True))])
def test_parse_drop(value: float | str, parsed: tuple[float, bool]) -> None:
    amount, percent = parse_drop(value)
    assert (amount, percent) == pytest.approx(parsed)


# --- significance: the decision given an interval of current - baseline --------------------------------------

SIG = Gate(max_drop=0.01, significance=Significance())


@pytest.mark.parametrize(
    ("metric", "current", "baseline", "interval", "verdict", "reason"),
    [
        # higher is better: the worsening interval is the difference interval negated
        ("accuracy", 0.87, 0.9, Interval(-0.06, 0.02, 0.95, 2000), "pass",
         "0.03 worse than the baseline 0.9, more than max_drop 0.01, but not significantly: 95% interval of the "
         "worsening [-0.02, 0.06] reaches down to 0.01"),
        ("accuracy", 0.87, 0.9, Interval(-0.05, -0.02, 0.95, 2000), "fail",
         "0.03 worse than the baseline 0.9, more than max_drop 0.01, significantly: 95% interval of the worsening "
         "[0.02, 0.05]"),
        # lower is better: the worsening interval is the difference interval itself
        (RMSE, 55.5, 55.0, Interval(0.2, 0.9, 0.9, 500), "fail",
         "0.5 worse than the baseline 55, more than max_drop 0.01, significantly: 90% interval of the worsening "
         "[0.2, 0.9]"),
        (RMSE, 55.5, 55.0, Interval(-0.3, 1.2, 0.9, 500), "pass",
         "0.5 worse than the baseline 55, more than max_drop 0.01, but not significantly: 90% interval of the "
         "worsening [-0.3, 1.2] reaches down to 0.01"),
        # within the allowance: the interval does not decide, and is shown
        ("accuracy", 0.895, 0.9, Interval(-0.05, -0.02, 0.95, 2000), "pass",
         "0.005 worse than the baseline 0.9, within max_drop 0.01; 95% interval of the worsening [0.02, 0.05]"),
        # the interval could not be computed: the plain threshold applies
        ("accuracy", 0.87, 0.9, "no predictions", "fail",
         "0.03 worse than the baseline 0.9, more than max_drop 0.01 (significance not tested)"),
    ],
)
def test_significance_decides_only_a_drop_beyond_the_allowance(
    metric: str, current: float, baseline: float, interval: Interval | str, verdict: str, reason: str
) -> None:
    assert one(SIG, current, baseline, metric, interval) == (verdict, reason)


def test_untested_significance_is_a_notice() -> None:
    result = judge({"accuracy": SIG}, {"accuracy": 0.87}, {"accuracy": 0.9},
                   significance={"accuracy": "the baseline's predictions are not available"})
    assert result.notices == ("accuracy: significance not tested (the baseline's predictions are not available); "
                              "the plain max_drop threshold applies",)


# --- the verdict's JSON and text ------------------------------------------------------------------------------


def test_json_round_trip_and_table() -> None:
    result = judge(
        {"accuracy": Gate(min=0.9, max_drop="2%"), RMSE: Gate(max=60, max_drop=1, significance=Significance()),
         "r2": Gate(min=0.5, warn_only=True)},
        {"accuracy": 0.95, RMSE: 58.0, "r2": 0.4},
        {"accuracy": 0.96, RMSE: 55.0, "r2": 0.45},
        significance={RMSE: Interval(1.5, 4.5, 0.95, 2000)},
    )
    data = json.loads(json.dumps(as_json(result)))
    assert from_json(data) == result
    assert data["gates"][1]["interval"] == {"low": 1.5, "high": 4.5, "confidence": 0.95, "resamples": 2000}
    assert render(result) == [
        "metric                   better  current  baseline  change  verdict  reason",
        "accuracy                 higher  0.95     0.96      -0.01   pass     0.95 >= min 0.9; 0.01 worse than the "
        "baseline 0.96, within max_drop 2% of 0.96 = 0.0192",
        "root_mean_squared_error  lower   58       55        +3      fail     3 worse than the baseline 55, more than "
        "max_drop 1, significantly: 95% interval of the worsening [1.5, 4.5]",
        "r2                       higher  0.4      0.45      -0.05   warn     0.4 < min 0.5",
    ]
    assert render(judge({}, {}, None)) == ["no gates: evaluation.gates is empty"]


def test_undefined_values_are_null_in_json() -> None:
    result = judge({"accuracy": Gate(max_drop=0.01)}, {"accuracy": math.nan}, {"accuracy": math.nan})
    data = as_json(result)
    assert (data["gates"][0]["current"], data["gates"][0]["baseline"], data["gates"][0]["delta"]) == (None,) * 3
    json.dumps(data, allow_nan=False)


@pytest.mark.parametrize("broken", [{}, {"verdict": "maybe", "gates": [], "notices": []}, {"verdict": "pass"}])
def test_from_json_rejects_what_it_did_not_write(broken: dict[str, Any]) -> None:
    with pytest.raises((KeyError, ValueError)):
        from_json(broken)
