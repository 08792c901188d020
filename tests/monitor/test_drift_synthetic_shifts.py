"""Drift verdicts on synthetic data with shifts of known size: false alarms without drift, detection with it.

The false-alarm rates are measured over many seeds and printed (``pytest -s`` shows them); the assertions
allow three binomial standard deviations above the nominal rate.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from mlspec.spec import Drift, FeatureDrift
from tests.monitor.synthetic import CATEGORIES, KINDS, NUMERIC, SHARES, table, verdicts

SEEDS = 200
N_REF, N_CUR = 3000, 400
LEVEL = 0.05


def _bound(rate: float, trials: int) -> float:
    return rate + 3 * math.sqrt(rate * (1 - rate) / trials)


def test_false_alarm_rate_without_drift() -> None:
    alarms = {"ks": 0, "chi2": 0, "psi": 0}
    trials = {"ks": 0, "chi2": 0, "psi": 0}
    any_alarm = 0
    for seed in range(SEEDS):
        rng = np.random.default_rng(seed)
        found = verdicts(table(rng, N_REF), table(rng, N_CUR), Drift(p_value=LEVEL))
        for v in found.values():
            alarms[v.method] += v.drift
            trials[v.method] += 1
            assert v.psi is not None
            alarms["psi"] += v.psi > 0.2
            trials["psi"] += 1
        any_alarm += any(v.drift for v in found.values())
    rates = {m: alarms[m] / trials[m] for m in alarms}
    family = any_alarm / SEEDS
    expected_family = 1 - (1 - LEVEL) ** len(KINDS)
    print(f"\nfalse alarms over {SEEDS} seeds ({N_REF} reference rows, {N_CUR} current rows, same distribution):")
    print(f"  KS   p < {LEVEL}: {rates['ks']:.4f} of {trials['ks']} numeric features (nominal {LEVEL})")
    print(f"  chi2 p < {LEVEL}: {rates['chi2']:.4f} of {trials['chi2']} categorical features (nominal {LEVEL})")
    print(f"  PSI  > 0.2:  {rates['psi']:.4f} of {trials['psi']} features")
    print(f"  any of {len(KINDS)} features: {family:.3f} of tables (1 - (1 - {LEVEL})^{len(KINDS)} = "
          f"{expected_family:.3f})")
    assert rates["ks"] <= _bound(LEVEL, trials["ks"])
    assert _bound(LEVEL, trials["chi2"]) >= rates["chi2"] >= 2 * LEVEL - _bound(LEVEL, trials["chi2"])
    assert rates["psi"] <= 0.01
    assert family <= _bound(expected_family, SEEDS)


@pytest.mark.parametrize(("shift", "at_least"), [(0.1, 0.15), (0.25, 0.9), (0.5, 1.0)])
def test_shifted_means_are_detected(shift: float, at_least: float) -> None:
    detected = {name: 0 for name in NUMERIC}
    for seed in range(50):
        rng = np.random.default_rng(1000 + seed)
        found = verdicts(table(rng, N_REF), table(rng, N_CUR, shift=shift))
        for name in NUMERIC:
            detected[name] += found[name].drift
    rates = {name: n / 50 for name, n in detected.items()}
    print(f"\nKS detection rate of a shift of {shift} (in the unit of each distribution) over 50 seeds: {rates}")
    assert all(rate >= at_least for rate in rates.values()), rates


def test_psi_grows_with_the_shift() -> None:
    rng = np.random.default_rng(7)
    reference = table(rng, 20_000)
    psi = [verdicts(reference, table(rng, 20_000, shift=s))["normal"].psi for s in (0.0, 0.25, 0.5, 1.0)]
    print(f"\nPSI of a normal feature shifted by 0, 0.25, 0.5, 1 sd: {psi}")
    assert psi == sorted(psi)
    assert psi[0] is not None and psi[0] < 0.01 and psi[2] is not None and psi[2] > 0.2
    settings = Drift(method="psi", psi_threshold=0.2)
    assert verdicts(reference, table(rng, 2000, shift=1.0), settings)["normal"].verdict == "drift"


def test_changed_category_frequencies_are_detected() -> None:
    changed = {"colour": [0.4, 0.3, 0.3], "city": [0.2, 0.2, 0.15, 0.1, 0.1, 0.1, 0.1, 0.05]}
    detected = {name: 0 for name in CATEGORIES}
    for seed in range(50):
        rng = np.random.default_rng(2000 + seed)
        found = verdicts(table(rng, N_REF), table(rng, N_CUR, shares=changed))
        for name in CATEGORIES:
            detected[name] += found[name].drift and found[name].method == "chi2"
    print(f"\nchi2 detection rate of changed category shares over 50 seeds: {detected} of 50")
    assert all(n >= 45 for n in detected.values()), detected


def test_a_new_category_is_drift_and_is_named() -> None:
    rng = np.random.default_rng(3)
    reference, current = table(rng, N_REF), table(rng, N_CUR)
    current.loc[:4, "colour"] = "purple"
    current.loc[5:6, "colour"] = "teal"
    v = verdicts(reference, current)["colour"]
    assert (v.verdict, v.drift) == ("new categories", True)
    assert v.new_categories == {"purple": 5, "teal": 2}
    assert v.reason.startswith("categories the reference never had: 'purple' (5 rows), 'teal' (2 rows); p ")


def test_verdicts_agree_with_scipy_on_the_raw_data() -> None:
    rng = np.random.default_rng(11)
    reference, current = table(rng, 800), table(rng, 300, shift=0.1)
    found = verdicts(reference, current)
    for name in NUMERIC:
        exact = sps.ks_2samp(reference[name], current[name], method="asymp")
        assert found[name].statistic == pytest.approx(exact.statistic, abs=1e-12)  # 800 rows: the sketch is exact
        assert found[name].p_value == pytest.approx(exact.pvalue, rel=1e-9)
    for name, values in CATEGORIES.items():
        counts = pd.DataFrame({"ref": reference[name].value_counts(), "cur": current[name].value_counts()})
        statistic, p, _, _ = sps.chi2_contingency(counts.fillna(0).loc[values].T.to_numpy(), correction=False)
        assert (found[name].statistic, found[name].p_value) == (pytest.approx(statistic), pytest.approx(p))


def test_per_feature_overrides_of_method_and_threshold() -> None:
    rng = np.random.default_rng(5)
    reference, current = table(rng, N_REF), table(rng, N_CUR, shift=0.25)
    settings = Drift(p_value=0.05, features={"normal": FeatureDrift(method="psi", threshold=5.0),
                                             "colour": FeatureDrift(method="psi"),
                                             "uniform": FeatureDrift(threshold=1e-300)})
    found = verdicts(reference, current, settings)
    assert (found["normal"].method, found["normal"].threshold, found["normal"].drift) == ("psi", 5.0, False)
    assert (found["colour"].method, found["colour"].threshold) == ("psi", 0.2)
    assert (found["uniform"].method, found["uniform"].drift) == ("ks", False)
    assert found["lognormal"].drift  # the same shift, at the spec's level
    assert SHARES  # the shares the categorical columns are drawn with
