"""Judging the champion's metrics against ``evaluation.gates``: pure functions, no I/O, no heavy imports.

Each gate bounds one metric. ``min`` and ``max`` are absolute and inclusive. ``max_drop`` bounds the
*worsening* against the baseline, in the metric's own direction: for a higher-is-better metric (accuracy)
worsening is ``baseline - current``, for a lower-is-better one (root_mean_squared_error) it is
``current - baseline``. A number is an absolute allowance; ``"2%"`` allows 2% of ``|baseline|``.

Edge cases, decided here once:

* a current value that is missing or NaN fails the gate ("undefined"), warn-only gates only warn;
* no baseline at all (a first run): ``max_drop`` is *skipped* with a notice; ``min``/``max`` still apply;
* a baseline that lacks the metric, or whose value is undefined: that ``max_drop`` is skipped, with the reason;
* a percentage of a baseline of exactly 0 is 0: any worsening fails (an absolute ``max_drop`` says more);
* comparisons allow a relative 1e-9 so that float rounding (0.9 - 0.88 > 0.02) never decides a gate;
* a gate whose checks were all skipped is ``skipped``; it neither passes nor fails the overall verdict.

With ``significance``, a ``max_drop`` that the point values exceed fails only if the whole bootstrap interval
of the worsening exceeds the allowance (see :mod:`mlspec.runtime.significance`); when the interval could not
be computed, the plain threshold applies and the reason is shown.

The overall verdict is ``fail`` if any gate fails, else ``warn`` if a warn-only gate failed, else ``pass``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mlspec.metrics import METRICS
from mlspec.numbers import fmt
from mlspec.spec import Gate

Direction = Literal["higher", "lower"]
Bound = Literal["min", "max", "max_drop"]
Outcome = Literal["pass", "fail", "skipped"]
GateVerdict = Literal["pass", "fail", "warn", "skipped"]
Overall = Literal["pass", "warn", "fail"]

REL_TOL = 1e-9
ABS_TOL = 1e-12


@dataclass(frozen=True)
class Interval:
    """A bootstrap confidence interval of ``current - baseline`` (metric units) for one metric."""

    low: float
    high: float
    confidence: float
    resamples: int


@dataclass(frozen=True)
class Check:
    bound: Bound
    limit: str
    """The bound as written in the spec: ``0.95``, ``2%``."""
    outcome: Outcome
    reason: str


@dataclass(frozen=True)
class GateResult:
    metric: str
    direction: Direction
    current: float | None
    baseline: float | None
    delta: float | None
    """``current - baseline``; None without both values."""
    warn_only: bool
    checks: tuple[Check, ...]
    verdict: GateVerdict
    reason: str
    interval: Interval | None = None


@dataclass(frozen=True)
class Result:
    verdict: Overall
    gates: tuple[GateResult, ...]
    notices: tuple[str, ...] = ()

    @property
    def failed(self) -> list[GateResult]:
        return [g for g in self.gates if g.verdict == "fail"]

    @property
    def warned(self) -> list[GateResult]:
        return [g for g in self.gates if g.verdict == "warn"]


def direction_of(metric: str) -> Direction:
    return "higher" if METRICS[metric].greater_is_better else "lower"


def parse_drop(value: float | str) -> tuple[float, bool]:
    """``max_drop`` as ``(amount, is_percent)``; a percentage as a fraction (``"2%"`` → ``(0.02, True)``)."""
    if isinstance(value, str):
        return float(value.rstrip("%")) / 100.0, True
    return float(value), False


def judge(
    gates: Mapping[str, Gate],
    current: Mapping[str, float | None],
    baseline: Mapping[str, float | None] | None,
    directions: Mapping[str, Direction] | None = None,
    significance: Mapping[str, Interval | str] | None = None,
    no_baseline: str = "no baseline",
) -> Result:
    """Judge every gate; ``baseline`` None means there is none (``no_baseline`` says why).

    ``significance`` holds, for gates that ask for it, the bootstrap interval or the reason it is missing.
    """
    directions = directions or {}
    significance = significance or {}
    results = tuple(
        _judge_one(metric, gate, as_number(current.get(metric)), baseline,
                   directions.get(metric) or direction_of(metric), significance.get(metric))
        for metric, gate in gates.items()
    )
    notices: list[str] = []
    if baseline is None and any(g.max_drop is not None for g in gates.values()):
        notices.append(f"{no_baseline}: relative gates (max_drop) skipped, absolute gates (min, max) apply")
    for metric, gate in gates.items():
        why = significance.get(metric)
        if gate.significance is not None and baseline is not None and isinstance(why, str):
            notices.append(f"{metric}: significance not tested ({why}); the plain max_drop threshold applies")
    verdicts = {g.verdict for g in results}
    overall: Overall = "fail" if "fail" in verdicts else "warn" if "warn" in verdicts else "pass"
    return Result(overall, results, tuple(notices))


def _judge_one(
    metric: str,
    gate: Gate,
    value: float | None,
    baseline: Mapping[str, float | None] | None,
    direction: Direction,
    significance: Interval | str | None,
) -> GateResult:
    base = as_number(baseline.get(metric)) if baseline is not None else None
    delta = value - base if value is not None and base is not None and not _nan(value, base) else None
    interval = significance if isinstance(significance, Interval) else None
    checks: list[Check] = []
    if value is None or math.isnan(value):
        undefined = f"{metric} is undefined (NaN) for the champion"
        verdict: GateVerdict = "warn" if gate.warn_only else "fail"
        return GateResult(metric, direction, value, base, delta, gate.warn_only, (), verdict, undefined, interval)
    if gate.min is not None:
        ok = value >= gate.min or _close(value, gate.min)
        a, b = _pair(value, gate.min)
        checks.append(Check("min", fmt(gate.min), "pass" if ok else "fail",
                            f"{a} >= min {b}" if ok else f"{a} < min {b}"))
    if gate.max is not None:
        ok = value <= gate.max or _close(value, gate.max)
        a, b = _pair(value, gate.max)
        checks.append(Check("max", fmt(gate.max), "pass" if ok else "fail",
                            f"{a} <= max {b}" if ok else f"{a} > max {b}"))
    if gate.max_drop is not None:
        checks.append(_drop_check(metric, gate, value, baseline, base, direction, significance))
    failing = [c for c in checks if c.outcome == "fail"]
    if failing:
        verdict = "warn" if gate.warn_only else "fail"
        reason = "; ".join(c.reason for c in failing)
    elif all(c.outcome == "skipped" for c in checks):
        verdict, reason = "skipped", "; ".join(c.reason for c in checks)
    else:
        verdict, reason = "pass", "; ".join(c.reason for c in checks)
    return GateResult(metric, direction, value, base, delta, gate.warn_only, tuple(checks), verdict, reason,
                      interval)


def _drop_check(
    metric: str,
    gate: Gate,
    value: float,
    baseline: Mapping[str, float | None] | None,
    base: float | None,
    direction: Direction,
    significance: Interval | str | None,
) -> Check:
    assert gate.max_drop is not None
    limit = gate.max_drop if isinstance(gate.max_drop, str) else fmt(gate.max_drop)
    if baseline is None:
        return Check("max_drop", limit, "skipped", "max_drop skipped: no baseline")
    if metric not in baseline:
        return Check("max_drop", limit, "skipped", f"max_drop skipped: the baseline has no {metric}")
    if base is None or math.isnan(base):
        return Check("max_drop", limit, "skipped", "max_drop skipped: the baseline value is undefined (NaN)")
    amount, percent = parse_drop(gate.max_drop)
    allowed = amount * abs(base) if percent else amount
    worse = base - value if direction == "higher" else value - base
    shown = f"{limit} of {fmt(base)} = {fmt(allowed)}" if percent else limit
    ci = ""
    if isinstance(significance, Interval):
        # Worsening is -(current - baseline) for higher-is-better metrics, so the interval flips.
        low, high = (-significance.high, -significance.low) if direction == "higher" else (
            significance.low, significance.high)
        ci = f"{significance.confidence * 100:g}% interval of the worsening [{fmt(low)}, {fmt(high)}]"
    # A computed interval is shown whatever the outcome: how sure the comparison is matters when it passes too.
    tail = f"; {ci}" if ci else ""
    if worse <= 0:
        better = f"{fmt(-worse)} better than" if worse < 0 else "equal to"
        return Check("max_drop", limit, "pass", f"{better} the baseline {fmt(base)}{tail}")
    how = f"{fmt(worse)} worse than the baseline {fmt(base)}"
    if worse <= allowed or _close(worse, allowed):
        return Check("max_drop", limit, "pass", f"{how}, within max_drop {shown}{tail}")
    over = f"{how}, more than max_drop {shown}"
    if percent and base == 0:
        over = f"{how}; a percentage of a baseline of 0 allows no worsening (use an absolute max_drop)"
    if gate.significance is None:
        return Check("max_drop", limit, "fail", over)
    if not isinstance(significance, Interval):
        return Check("max_drop", limit, "fail", f"{over} (significance not tested)")
    if low > allowed and not _close(low, allowed):
        return Check("max_drop", limit, "fail", f"{over}, significantly: {ci}")
    return Check("max_drop", limit, "pass", f"{over}, but not significantly: {ci} reaches down to {fmt(allowed)}")


# --- numbers ------------------------------------------------------------------------------------------------


def as_number(value: Any) -> float | None:
    """A metric value as recorded (float, int, None, or the string "nan" that hashing.to_json writes)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def finite(value: float | None) -> float | None:
    """``value`` for JSON, which has no NaN: an undefined value is null."""
    return value if value is not None and math.isfinite(value) else None


def _nan(*values: float) -> bool:
    return any(math.isnan(v) for v in values)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def _pair(a: float, b: float) -> tuple[str, str]:
    """Both numbers with enough digits that they look different when they are (0.9499 < min 0.95)."""
    for digits in (4, 6, 9, 12, 17):
        sa, sb = fmt(a, digits), fmt(b, digits)
        if sa != sb or _close(a, b):
            return sa, sb
    return repr(a), repr(b)


# --- verdict file and text ----------------------------------------------------------------------------------


def as_json(result: Result) -> dict[str, Any]:
    return {
        "verdict": result.verdict,
        "notices": list(result.notices),
        "gates": [
            {
                "metric": g.metric, "direction": g.direction, "current": finite(g.current),
                "baseline": finite(g.baseline), "delta": finite(g.delta), "warn_only": g.warn_only,
                "verdict": g.verdict, "reason": g.reason,
                "checks": [{"bound": c.bound, "limit": c.limit, "outcome": c.outcome, "reason": c.reason}
                           for c in g.checks],
                "interval": None if g.interval is None else {
                    "low": g.interval.low, "high": g.interval.high, "confidence": g.interval.confidence,
                    "resamples": g.interval.resamples},
            }
            for g in result.gates
        ],
    }


def from_json(data: Mapping[str, Any]) -> Result:
    """The inverse of :func:`as_json`; raises KeyError/TypeError/ValueError on anything else."""
    gates = []
    for g in data["gates"]:
        interval = g.get("interval")
        gates.append(GateResult(
            metric=str(g["metric"]), direction=g["direction"], current=as_number(g["current"]),
            baseline=as_number(g["baseline"]), delta=as_number(g["delta"]), warn_only=bool(g["warn_only"]),
            checks=tuple(Check(c["bound"], str(c["limit"]), c["outcome"], str(c["reason"])) for c in g["checks"]),
            verdict=g["verdict"], reason=str(g["reason"]),
            interval=None if interval is None else Interval(float(interval["low"]), float(interval["high"]),
                                                            float(interval["confidence"]), int(interval["resamples"])),
        ))
    if data["verdict"] not in ("pass", "warn", "fail"):
        raise ValueError(f"unknown verdict {data['verdict']!r}")
    return Result(data["verdict"], tuple(gates), tuple(str(n) for n in data["notices"]))


def render(result: Result) -> list[str]:
    """A plain-text table, one row per gate, then the notices. Rich reports (PR comments, HTML) come later and
    read the same :class:`Result`."""
    if not result.gates:
        return ["no gates: evaluation.gates is empty", *(f"notice: {n}" for n in result.notices)]
    rows = [("metric", "better", "current", "baseline", "change", "verdict", "reason")]
    for g in result.gates:
        rows.append((g.metric, g.direction, fmt(g.current), fmt(g.baseline), fmt(g.delta, signed=True),
                     g.verdict, g.reason))
    return [*_table(rows), *(f"notice: {n}" for n in result.notices)]


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join([*(c.ljust(w) for c, w in zip(r, widths, strict=False)), r[-1]]).rstrip() for r in rows]
