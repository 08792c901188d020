"""The allowlist's record of who vouches for each type of a model file."""

from __future__ import annotations

from mlspec.runtime import trusted_types


def test_grouped_by_library_then_spec_then_unreviewed() -> None:
    types = ["xgboost.core.Booster", "collections.OrderedDict", "numpy.dtype", "proj.features.Ratio", "os.system",
             "mlspec.runtime.labelencoded.LabelEncodedClassifier", "xgboost.core.Booster"]
    assert trusted_types.grouped(types, ["proj.features.Ratio"]) == {
        "lightgbm": ["collections.OrderedDict"],
        "mlspec": ["mlspec.runtime.labelencoded.LabelEncodedClassifier"],
        "scikit-learn": ["numpy.dtype"],
        "training.trust": ["proj.features.Ratio"],
        "unreviewed": ["os.system"],
        "xgboost": ["xgboost.core.Booster"],
    }


def test_from_spec_names_only_what_the_allowlist_would_not_have_let_through() -> None:
    trust = ["proj.features.Ratio", "xgboost.core.Booster"]
    held = ["proj.features.Ratio", "xgboost.core.Booster", "numpy.dtype"]
    assert trusted_types.from_spec(held, trust) == ["proj.features.Ratio"]
    assert trusted_types.refused([*held, "os.system"], trust) == ["os.system"]

