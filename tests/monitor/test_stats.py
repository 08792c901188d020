"""The drift statistics against SciPy's own, on the same data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from mlspec.monitor import profile as prof
from mlspec.monitor import stats


def _ks(reference: np.ndarray, current: np.ndarray) -> stats.Test:
    sketch = prof.numeric(reference)["sketch"]
    return stats.ks_from_sketch(sketch, len(reference), current)


@pytest.mark.parametrize(("n_ref", "n_cur", "shift"), [(50, 30, 0.0), (400, 150, 0.3), (1000, 5000, 0.1),
                                                        (1000, 20, 1.0)])
def test_ks_equals_scipy_when_the_sketch_holds_every_reference_value(n_ref: int, n_cur: int, shift: float) -> None:
    rng = np.random.default_rng(n_ref + n_cur)
    reference, current = rng.normal(size=n_ref), rng.normal(shift, size=n_cur)
    ours = _ks(reference, current)
    theirs = sps.ks_2samp(reference, current, method="asymp")
    assert ours.statistic == pytest.approx(theirs.statistic, abs=1e-12)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("seed", range(5))
def test_ks_with_ties_equals_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    reference, current = rng.integers(0, 8, 600).astype(float), rng.integers(1, 9, 300).astype(float)
    assert _ks(reference, current).statistic == pytest.approx(sps.ks_2samp(reference, current).statistic, abs=1e-12)


@pytest.mark.parametrize(("n_ref", "n_cur", "shift", "seed"), [(20_000, 3000, 0.0, 1), (50_000, 50_000, 0.05, 2),
                                                                (200_000, 10_000, 0.02, 3), (5_000, 200, 0.5, 4)])
def test_ks_from_a_sketch_is_within_its_documented_bound_and_conservative(n_ref: int, n_cur: int, shift: float,
                                                                          seed: int) -> None:
    rng = np.random.default_rng(seed)
    reference, current = rng.lognormal(size=n_ref), rng.lognormal(shift, size=n_cur)
    ours = _ks(reference, current)
    exact = sps.ks_2samp(reference, current, method="asymp")
    bound = 0.5 / prof.SKETCH_POINTS
    assert abs(ours.statistic - exact.statistic) <= bound + 1e-12
    assert ours.p_value >= exact.pvalue - 1e-12  # never more alarms than the exact test
    effective = round(n_ref * n_cur / (n_ref + n_cur))
    d = max(0.0, ours.statistic - bound)
    at = sps.kstwo.sf(d, effective) if effective <= stats.KSTWO_LIMIT else sps.kstwobign.sf(d * effective**0.5)
    assert ours.p_value == pytest.approx(float(at), rel=1e-9)


@pytest.mark.parametrize("effective", [10_001, 50_000, 1_000_000])
def test_large_samples_use_the_limiting_distribution_which_is_conservative(effective: int) -> None:
    for d in (0.5 / effective**0.5, 1.5 / effective**0.5, 2.5 / effective**0.5):
        limiting = stats.ks_p_value(d, 2 * effective, 2 * effective)
        exact = float(sps.kstwo.sf(d, effective))
        assert exact <= limiting <= exact * 1.02 + 1e-12


def test_chi2_equals_scipy_chi2_contingency() -> None:
    reference = {"a": 120, "b": 80, "c": 45, "d": 30}
    current = {"a": 40, "b": 50, "c": 12, "d": 9}
    ours, columns = stats.chi2_homogeneity(reference, current)
    table = np.array([[reference[k] for k in "abcd"], [current[k] for k in "abcd"]])
    statistic, p, dof, _ = sps.chi2_contingency(table, correction=False)
    assert columns == ["a", "b", "c", "d"]
    assert (ours.statistic, ours.dof) == (pytest.approx(statistic, rel=1e-12), dof)
    assert ours.p_value == pytest.approx(p, rel=1e-9)
    # Two categories: no Yates correction, unlike chi2_contingency's default.
    two, _ = stats.chi2_homogeneity({"x": 30, "y": 70}, {"x": 45, "y": 55})
    assert two.p_value == pytest.approx(sps.chi2_contingency([[30, 70], [45, 55]], correction=False)[1], rel=1e-9)


def test_chi2_pools_rare_categories_and_counts_new_ones() -> None:
    reference = {"a": 500, "b": 300, "r1": 2, "r2": 1}
    current = {"a": 90, "b": 70, "r3": 1, "new": 30}
    ours, columns = stats.chi2_homogeneity(reference, current)
    # r1, r2 and r3 hold 4 rows together, still too few for a column: the smallest other category joins them.
    assert columns == ["a", "b", "<pooled: 4 categories>"]
    table = np.array([[500, 300, 3], [90, 70, 31]])
    statistic, p, _, _ = sps.chi2_contingency(table, correction=False)
    assert (ours.statistic, ours.p_value) == (pytest.approx(statistic), pytest.approx(p))
    assert stats.chi2_homogeneity({"a": 10}, {"a": 99})[0] == stats.Test(0.0, 1.0, 0)
    assert stats.chi2_homogeneity({"a": 300, "b": 200, "r": 6}, {"a": 40, "b": 30, "r": 1})[1] == ["a", "b", "r"]


def test_psi_is_the_symmetrised_kullback_leibler_divergence_scipy_computes() -> None:
    reference, current = np.array([10, 20, 30, 25, 15]), np.array([12, 18, 20, 30, 20])
    theirs = sps.entropy(current, reference) + sps.entropy(reference, current)
    assert stats.psi(reference, current) == pytest.approx(theirs, rel=1e-12)
    # An empty bin is floored at 1e-4 of the rows instead of making the index infinite.
    floored = stats.psi([50, 50, 0], [40, 40, 20])
    r, c = np.array([0.5, 0.5, 1e-4]), np.array([0.4, 0.4, 0.2])
    assert floored == pytest.approx(float(np.sum((c - r) * np.log(c / r))))
    with pytest.raises(ValueError, match="at least one row"):
        stats.psi([1, 2], [0, 0])


def test_bins_are_left_closed_on_the_reference_edges() -> None:
    counts = stats.bin_counts([1.0, 2.0, 3.0], np.array([0.5, 1.0, 1.5, 2.0, 2.0, 3.0, 9.0]))
    assert counts.tolist() == [1, 2, 2, 2]
    assert stats.bin_counts([], np.array([1.0, 2.0])).tolist() == [2]


def test_family_false_alarm() -> None:
    assert stats.family_false_alarm(0.01, 30) == pytest.approx(0.26, abs=0.001)
    assert stats.family_false_alarm(0.05, 1) == pytest.approx(0.05)
