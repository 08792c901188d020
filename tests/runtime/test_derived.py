from __future__ import annotations

import pytest

from mlspec.load import load_text
from mlspec.runtime.context import StageError
from mlspec.runtime.derived import steps
from tests.transform.userfeatures import Ratio

SPEC = """\
version: 1
project: demo
task: binary
data:
  target: y
  sources: {train: {path: train.csv}}
  derived:
    r: {transformer: TRANSFORMER, columns: [a, b], params: PARAMS}
    q: {expr: "a / b"}
    c: {clip: a, max: 3}
training:
  packages: [tests]
  trust: [TRANSFORMER]
  models:
    m: {estimator: sklearn.linear_model.LogisticRegression, data: train}
evaluation: {data: train, metrics: [accuracy]}
"""


def _spec(transformer: str = "tests.transform.userfeatures.Ratio", params: str = "{scale: 2.0}") -> object:
    return load_text(SPEC.replace("TRANSFORMER", transformer).replace("PARAMS", params)).spec


def test_steps_are_plain_data_and_an_instance_of_the_users_class() -> None:
    [r, q, c] = steps(_spec())  # type: ignore[arg-type]
    assert r[:2] == ["r", "transformer"] and r[2][0] == ["a", "b"]
    assert isinstance(r[2][1], Ratio) and r[2][1].scale == 2.0
    assert q == ["q", "expr", "a / b"]
    assert c == ["c", "clip", ["a", None, 3.0]]


@pytest.mark.parametrize(("transformer", "params", "message", "key"), [
    ("tests.transform.userfeatures.Nope", "{}", "module 'tests.transform.userfeatures' has no class 'Nope'",
     "transformer"),
    ("tests.transform.test_derive.STEPS", "{}",
     "'tests.transform.test_derive.STEPS' is not a scikit-learn transformer class (fit and transform)", "transformer"),
    ("tests.transform.userfeatures.Ratio", "{width: 3}",
     "Ratio(**params) failed: TypeError: Ratio.__init__() got an unexpected keyword argument 'width'", "params"),
])
def test_a_class_that_is_not_usable_is_located(transformer: str, params: str, message: str, key: str) -> None:
    with pytest.raises(StageError) as error:
        steps(_spec(transformer, params))  # type: ignore[arg-type]
    assert str(error.value) == message
    assert error.value.spec_path == ("data", "derived", "r", key)
