"""The drift statistics, on a reference summary and a current sample.

**PSI** (population stability index) over the reference's bins: ``sum((c - r) * ln(c / r))`` with ``r`` and
``c`` the reference and current shares of each bin. A bin empty on one side would make the index infinite, so
every share is floored at :data:`EPSILON` (``1e-4``) first; shares are not renormalised afterwards. Without
drift PSI is roughly ``chi2(k - 1) * (1/n_ref + 1/n_cur)`` for ``k`` bins: the usual 0.1 / 0.2 / 0.25 rules of
thumb assume a few hundred rows on each side.

**KS** (two-sample Kolmogorov-Smirnov), with the reference given by its quantile sketch: ``m`` quantiles at
probabilities ``(j + 0.5) / m`` (``inverted_cdf``, so each is a value of the data). The sketch's step function
is within ``1 / (2m)`` of the reference's empirical CDF everywhere, so the statistic ``D`` is within
``1 / (2m)`` (0.0005 for the default ``m = 1000``) of SciPy's exact two-sample statistic on the raw data, and
equal to it when the reference has at most ``m`` values (the sketch is then the sorted data). The p-value is
Smirnov's asymptotic one, exactly as ``scipy.stats.ks_2samp(method="asymp")`` computes it (above an effective
size of 10,000, the limiting Kolmogorov distribution, which is instant where ``kstwo`` takes up to seconds,
and at most a percent larger), with the real reference size, at ``D - 1/(2m)`` when the sketch is
approximate: conservative, so the false-alarm rate stays at most the nominal one, at the cost of missing
shifts smaller than the sketch can resolve. The current data is sorted once (``O(n log n)``); the PSI bins and
the KS statistic are then binary searches of the few edges and sketch points in it.

**chi2**: the chi-squared test of homogeneity of the 2 x k table (reference counts, current counts), as
``scipy.stats.chi2_contingency(table, correction=False)``: a test of two samples, so a small reference does
not inflate the false-alarm rate as a goodness-of-fit test against fixed reference shares would. Categories
with fewer than :data:`MIN_CELL` rows on both sides together are pooled into one column first (joined by the
smallest other category when the pool itself is that thin), because the chi-squared approximation is poor for
near-empty columns. A category the reference never had is drift in its
own right (see :mod:`mlspec.monitor.drift`), whatever the p-value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

EPSILON = 1e-4
"""Floor of a bin's share in PSI."""
MIN_CELL = 5
"""Categories with fewer rows than this (reference and current together) are pooled in the chi-squared test."""
KSTWO_LIMIT = 10_000
"""Above this effective sample size the KS p-value comes from the limiting distribution (see :func:`ks_p_value`)."""


@dataclass(frozen=True)
class Test:
    statistic: float
    p_value: float
    dof: int = 0


def psi(reference: Sequence[float] | np.ndarray, current: Sequence[float] | np.ndarray) -> float:
    """Population stability index of two count (or share) vectors over the same bins."""
    import numpy as np

    ref = np.asarray(reference, dtype=float)
    cur = np.asarray(current, dtype=float)
    if ref.sum() <= 0 or cur.sum() <= 0:
        raise ValueError("PSI needs at least one row on each side")
    r = np.maximum(ref / ref.sum(), EPSILON)
    c = np.maximum(cur / cur.sum(), EPSILON)
    return float(np.sum((c - r) * np.log(c / r)))


def bin_counts(edges: Sequence[float] | np.ndarray, values: np.ndarray, is_sorted: bool = False) -> np.ndarray:
    """Counts of ``values`` in the bins ``(-inf, e0), [e0, e1), ..., [e_last, inf)``."""
    import numpy as np

    ordered = values if is_sorted else np.sort(values)
    below = np.searchsorted(ordered, np.asarray(edges, dtype=float), side="left")  # values < each edge
    return np.diff(np.concatenate(([0], below, [len(ordered)])))


def ks_from_sketch(sketch: Sequence[float] | np.ndarray, reference_rows: int, current: np.ndarray,
                   is_sorted: bool = False) -> Test:
    """Two-sample KS of the reference (its sorted quantile sketch, of ``reference_rows`` values) and ``current``
    (no NaN); see the module docstring for the approximation and the p-value."""
    import numpy as np

    q = np.asarray(sketch, dtype=float)
    n = len(current)
    if len(q) == 0 or n == 0 or reference_rows <= 0:
        raise ValueError("KS needs at least one value on each side")
    ordered = current if is_sorted else np.sort(current)
    points, repeats = np.unique(q, return_counts=True)
    ref_cdf = np.cumsum(repeats) / len(q)  # the sketch's CDF at each point
    ref_before = np.concatenate(([0.0], ref_cdf[:-1]))  # ... and just below it
    at_or_below = np.searchsorted(ordered, points, side="right") / n
    below = np.searchsorted(ordered, points, side="left") / n
    # Both CDFs are steps; between two sketch points the reference is flat and the current one monotone, so the
    # largest gap is at a sketch point or just below one.
    d = float(max(np.max(np.abs(at_or_below - ref_cdf)), np.max(np.abs(below - ref_before))))
    # A sketch of fewer points than the reference has values is off by up to 1/(2m): the p-value is taken at
    # the smallest D the raw data could have, so the sketch can hide a shift that small but never invent one.
    error = 0.0 if len(q) >= reference_rows else 0.5 / len(q)
    return Test(d, ks_p_value(max(0.0, d - error), reference_rows, n))


def ks_p_value(d: float, n1: int, n2: int) -> float:
    """Smirnov's asymptotic two-sided p-value, as ``scipy.stats.ks_2samp(method="asymp")`` computes it, up to an
    effective size of :data:`KSTWO_LIMIT`; beyond it, the limiting Kolmogorov distribution."""
    from scipy.stats import kstwo, kstwobign  # type: ignore[import-untyped]

    big, small = max(n1, n2), min(n1, n2)
    effective = max(1, round(big * small / (big + small)))
    if effective > KSTWO_LIMIT:
        # kstwo.sf takes up to seconds at large n (2 s at n = 1e6); the limit it tends to is instant, within a
        # percent of it there, and never below it (conservative).
        return float(min(1.0, max(0.0, kstwobign.sf(d * math.sqrt(effective)))))
    return float(min(1.0, max(0.0, kstwo.sf(d, effective))))


def chi2_homogeneity(reference: Mapping[str, int], current: Mapping[str, int]) -> tuple[Test, list[str]]:
    """Chi-squared test of homogeneity of two category count tables; also the table's columns after pooling
    (a pooled column is named ``<pooled: N categories>``)."""
    import numpy as np
    from scipy.stats import chi2

    names = sorted(set(reference) | set(current))
    table = np.array([[reference.get(c, 0) for c in names], [current.get(c, 0) for c in names]], dtype=float)
    table, columns = pool_rare(table, names)
    if table.shape[1] < 2 or table[0].sum() == 0 or table[1].sum() == 0:
        return Test(0.0, 1.0, 0), columns  # one category on both sides: nothing can differ
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    dof = table.shape[1] - 1
    return Test(statistic, float(chi2.sf(statistic, dof)), dof), columns


def pool_rare(table: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Columns with fewer than :data:`MIN_CELL` rows pooled into one; a pool still that thin joins the smallest
    other column."""
    import numpy as np

    totals = table.sum(axis=0)
    rare = totals < MIN_CELL
    if not rare.any() or rare.all():
        return table, names
    if table[:, rare].sum() < MIN_CELL:
        rare[int(np.argmin(np.where(rare, np.inf, totals)))] = True
    if rare.sum() < 2:
        return table, names
    kept = [n for n, r in zip(names, rare, strict=True) if not r]
    pooled = table[:, rare].sum(axis=1, keepdims=True)
    return np.hstack([table[:, ~rare], pooled]), [*kept, f"<pooled: {int(rare.sum())} categories>"]


def family_false_alarm(p_value: float, tests: int) -> float:
    """The chance that at least one of ``tests`` independent tests at level ``p_value`` flags drift that is not
    there: what an uncorrected per-feature threshold costs across many features."""
    return 1.0 - (1.0 - p_value) ** tests
