from __future__ import annotations

import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.datasets import load_wine

from mlspec.runtime import trusted_types
from mlspec.transform.derive import Derive
from tests.transform.userfeatures import Ratio


def _wine() -> pd.DataFrame:
    frame: pd.DataFrame = load_wine(as_frame=True).frame
    return frame


STEPS = [
    ["per_ash", "expr", "alcohol / (ash - 2) + -max(hue, 1) ** 2"],
    ["log_proline", "log", "proline"],
    ["alcohol_clipped", "clip", ["alcohol", 12.0, 14.0]],
    ["alcohol_band", "bucket", ["alcohol", [12.0, 13.0]]],
    ["twice", "expr", "2 * log_proline"],  # an earlier derived feature
]


def test_each_kind_computes_what_it_says() -> None:
    wine = _wine()
    out = Derive(STEPS).fit_transform(wine)
    with np.errstate(divide="ignore"):
        expected = wine.alcohol / (wine.ash - 2) - np.maximum(wine.hue, 1) ** 2
    expected = expected.where(np.isfinite(expected))
    np.testing.assert_allclose(out.per_ash, expected)
    np.testing.assert_allclose(out.log_proline, np.log(wine.proline))
    assert out.alcohol_clipped.between(12, 14).all() and out.alcohol_clipped.max() == 14
    assert out.alcohol_band.tolist() == [0 if a < 12 else 1 if a < 13 else 2 for a in wine.alcohol]
    np.testing.assert_allclose(out.twice, 2 * np.log(wine.proline))
    assert list(out.columns[:len(wine.columns)]) == list(wine.columns)  # the raw columns pass through


def test_values_without_a_result_are_missing_not_infinite() -> None:
    x = pd.DataFrame({"a": [1.0, 0.0, -1.0, None], "b": [0.0, 1.0, 2.0, 3.0]})
    out = Derive([["q", "expr", "a / b"], ["l", "log", "a"], ["s", "expr", "sqrt(a)"], ["k", "bucket", ["a", [0.0]]]])
    got = out.fit_transform(x)
    assert np.isnan(got.q[0]) and got.q[1] == 0 and got.q[2] == -0.5 and np.isnan(got.q[3])
    assert got.l[0] == 0 and np.isnan(got.l[1:]).all()  # log of a value <= 0 is missing
    assert np.isnan(got.s[2])
    assert got.k[:3].tolist() == [1, 1, 0] and np.isnan(got.k[3])


def test_date_parts_and_a_user_transformer() -> None:
    x = pd.DataFrame({"day": ["2024-03-01", "2024-04-15"], "a": [2.0, 6.0], "b": [1.0, 2.0]})
    derive = Derive([["month", "date_part", ["day", "month"]], ["r", "transformer", [["a", "b"], Ratio(scale=2.0)]]])
    got = derive.fit_transform(x)
    assert got.month.tolist() == [3, 4]
    assert got.r.tolist() == [2 * 2 / 2.5, 2 * 3 / 2.5]  # fitted: the training mean of a / b is 2.5


def test_skops_round_trip_with_only_the_reviewed_types() -> None:
    wine = _wine()
    derive = Derive(STEPS).fit(wine)
    data = sio.dumps(derive)
    untrusted = sio.get_untrusted_types(data=data)
    assert untrusted == ["mlspec.transform.derive.Derive"]
    assert set(untrusted) <= trusted_types.REVIEWED["mlspec"]
    loaded = sio.loads(data, trusted=untrusted)
    pd.testing.assert_frame_equal(loaded.transform(wine), derive.transform(wine))


def test_a_user_transformer_needs_its_class_trusted() -> None:
    x = pd.DataFrame({"a": [2.0, 6.0], "b": [1.0, 2.0]})
    derive = Derive([["r", "transformer", [["a", "b"], Ratio()]]]).fit(x)
    data = sio.dumps(derive)
    user = "tests.transform.userfeatures.Ratio"
    assert sio.get_untrusted_types(data=data) == ["mlspec.transform.derive.Derive", user]
    assert trusted_types.refused(sio.get_untrusted_types(data=data)) == ["tests.transform.userfeatures.Ratio"]
