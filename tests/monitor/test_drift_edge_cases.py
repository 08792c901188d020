"""What monitoring says about data it cannot compare normally: nulls, changed types, many categories."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlspec.monitor import drift
from mlspec.monitor import profile as prof
from mlspec.runtime.context import StageError
from mlspec.spec import Drift, FeatureDrift
from tests.monitor.synthetic import verdicts

KINDS = [("x", "numeric"), ("code", "categorical")]


def _frames(current: dict[str, object], rows: int = 200) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"x": rng.normal(size=rows), "code": rng.choice([1, 2, 3], rows)})
    return reference, pd.DataFrame(current)


def test_all_null_current_column_is_no_data_and_drift() -> None:
    reference, current = _frames({"x": [np.nan] * 50, "code": [None] * 50})
    found = verdicts(reference, current, kinds=KINDS)
    for name in ("x", "code"):
        assert (found[name].verdict, found[name].drift) == ("no data", True)
        assert found[name].reason == "all 50 current values are null; the reference had 200 values"
        assert found[name].psi is None and found[name].p_value is None


def test_a_feature_null_on_both_sides_is_no_data_without_drift() -> None:
    reference = pd.DataFrame({"x": [np.nan] * 20, "code": [None] * 20})
    current = pd.DataFrame({"x": [np.nan] * 5, "code": [None] * 5})
    found = verdicts(reference, current, kinds=KINDS)
    assert {(v.verdict, v.drift) for v in found.values()} == {("no data", False)}
    assert found["x"].reason.startswith("no values in the reference or the current data")


def test_values_in_a_column_the_reference_never_filled_are_drift() -> None:
    reference = pd.DataFrame({"x": [np.nan] * 20, "code": [None] * 20})
    current = pd.DataFrame({"x": [1.0, 2.0], "code": ["a", None]})
    found = verdicts(reference, current, kinds=KINDS)
    assert (found["x"].verdict, found["x"].drift) == ("no data", True)
    assert found["x"].reason == "the reference has no values, the current data has 2"


def test_a_jump_in_missing_values_shows_in_psi() -> None:
    reference, _ = _frames({})
    current = reference.copy()
    current.loc[: len(current) // 2, "x"] = np.nan
    v = verdicts(reference, current, Drift(method="psi"), kinds=KINDS)["x"]
    assert v.current["nulls"] == 101 and v.drift and v.psi is not None and v.psi > 1


def test_non_numbers_in_a_numeric_column_are_a_type_change() -> None:
    reference, current = _frames({"x": ["1.5", "abc", "2", None, "n/a"], "code": [1, 2, 3, 1, 2]})
    v = verdicts(reference, current, kinds=KINDS)["x"]
    assert (v.verdict, v.drift) == ("type changed", True)
    assert v.reason == (f"numeric in the reference, but the current column ({current['x'].dtype}) holds "
                        "non-numbers: 'abc', 'n/a'")
    # Numbers written as text are still numbers.
    _, as_text = _frames({"x": ["0.1", "-0.3", "1.2"], "code": [1, 2, 3]})
    assert verdicts(reference, as_text, kinds=KINDS)["x"].verdict in ("ok", "drift")


def test_integer_codes_read_as_floats_are_the_same_categories() -> None:
    reference, current = _frames({"x": [0.0] * 4, "code": [1.0, 2.0, np.nan, 3.0]})
    v = verdicts(reference, current, kinds=KINDS)["code"]
    assert v.new_categories == {} and v.verdict == "ok"
    assert prof.category_key(np.int64(7)) == prof.category_key(7.0) == prof.category_key("7") == "7"
    assert prof.category_key(True) == "True" and prof.category_key(0.5) == "0.5"


def test_a_profile_keeps_the_top_categories_and_counts_the_rest() -> None:
    values = pd.Series([f"id{i}" for i in range(prof.MAX_CATEGORIES + 50)] + ["id0"] * 10)
    counted = prof.feature(values, "categorical")
    assert counted["truncated"] and len(counted["counts"]) == prof.MAX_CATEGORIES
    assert counted["counts"]["id0"] == 11 and counted[prof.OTHER] == 50
    # Beyond the kept categories nothing is known: unseen values are "other", never "new".
    v = drift.compare("id", counted, pd.Series(["id0", "id5", "never-seen"] * 20), "chi2", 0.05)
    assert v.new_categories == {} and v.verdict in ("ok", "drift")


def test_infinities_count_as_missing() -> None:
    values, bad = prof.numeric_values(pd.Series([1.0, np.inf, -np.inf, 2.0]))
    assert bad == [] and np.isnan(values).tolist() == [False, True, True, False]


@pytest.mark.parametrize(
    ("settings", "kind", "message", "where"),
    [
        (Drift(features={"code": FeatureDrift(method="ks")}), "categorical",
         "feature 'code' is categorical; the KS test needs a numeric feature: use chi2 or psi",
         ("monitoring", "drift", "features", "code", "method")),
        (Drift(features={"code": FeatureDrift(threshold=2.0)}), "categorical",
         "the threshold of feature 'code' is a p-value for chi2 and must be below 1, got 2.0",
         ("monitoring", "drift", "features", "code", "threshold")),
    ],
)
def test_settings_that_cannot_apply(settings: Drift, kind: str, message: str, where: tuple[str, ...]) -> None:
    with pytest.raises(StageError) as caught:
        drift.settings(settings, "code", kind)
    assert (str(caught.value), caught.value.spec_path) == (message, where)


def test_a_global_ks_gives_categorical_features_chi2_and_says_so() -> None:
    assert drift.settings(Drift(method="ks", p_value=0.01), "code", "categorical") == (
        "chi2", 0.01, ("monitoring", "drift", "p_value"), "categorical: chi2 instead of ks")
    assert drift.settings(Drift(psi_threshold=0.3, features={"x": FeatureDrift(method="psi")}), "x", "numeric") == (
        "psi", 0.3, ("monitoring", "drift", "features", "x"), "")


def test_overrides_must_name_features_of_the_model() -> None:
    with pytest.raises(StageError) as caught:
        drift.check_overrides(Drift(features={"mean_radus": FeatureDrift(method="psi")}), ["mean_radius", "x"])
    assert str(caught.value) == "'mean_radus' is not a feature of the monitored model; did you mean 'mean_radius'?"
    assert caught.value.spec_path == ("monitoring", "drift", "features", "mean_radus")
