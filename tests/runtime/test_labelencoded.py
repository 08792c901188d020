"""The label-code wrapper: trains on codes 0..n-1, answers in the original labels, loads with skops."""

from __future__ import annotations

import numpy as np
import pytest
import skops.io as sio
from sklearn.datasets import load_wine

from mlspec.runtime import trusted_types
from mlspec.runtime.labelencoded import LabelEncodedClassifier


def test_xgboost_learns_string_labels_and_answers_in_them() -> None:
    from xgboost import XGBClassifier

    x, codes = load_wine(return_X_y=True)
    names = np.array(["barolo", "grignolino", "barbera"])[codes]
    with pytest.raises(ValueError, match="Invalid classes"):  # why the wrapper exists
        XGBClassifier(n_estimators=5).fit(x, names)
    model = LabelEncodedClassifier(XGBClassifier(n_estimators=20)).fit(x, names)
    assert list(model.classes_) == ["barbera", "barolo", "grignolino"]  # sorted, as scikit-learn's are
    assert (model.predict(x) == names).mean() > 0.95
    proba = model.predict_proba(x)
    assert proba.shape == (len(x), 3)
    assert np.array_equal(model.classes_[proba.argmax(axis=1)], model.predict(x))


def test_an_eval_set_is_coded_like_the_labels() -> None:
    from xgboost import XGBClassifier

    x, codes = load_wine(return_X_y=True)
    names = np.array(["a", "b", "c"])[codes]
    model = LabelEncodedClassifier(XGBClassifier(n_estimators=200, early_stopping_rounds=3))
    model.fit(x[:150], names[:150], eval_set=[(x[150:], names[150:])], verbose=False)
    assert model.estimator_.best_iteration < 199


def test_predict_proba_only_when_the_estimator_has_it() -> None:
    from sklearn.svm import SVC

    assert not hasattr(LabelEncodedClassifier(SVC()), "predict_proba")
    assert hasattr(LabelEncodedClassifier(SVC(probability=True)), "predict_proba")


def test_round_trips_through_skops_with_reviewed_types_only() -> None:
    from lightgbm import LGBMClassifier

    x, codes = load_wine(return_X_y=True)
    model = LabelEncodedClassifier(LGBMClassifier(n_estimators=5, verbose=-1)).fit(x, codes + 10)
    data = sio.dumps(model)
    types = sio.get_untrusted_types(data=data)
    assert trusted_types.refused(types) == []
    loaded = sio.loads(data, trusted=types)
    assert np.array_equal(loaded.predict(x), model.predict(x))
    assert set(loaded.predict(x)) <= {10, 11, 12}
