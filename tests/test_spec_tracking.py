"""The ``tracking:`` section: its defaults, and the server addresses a committed spec must not hold."""

from __future__ import annotations

import pytest

from mlspec.errors import SpecError
from mlspec.load import load_text
from tests.test_load_errors import BASE


def test_the_default_is_the_local_history_only() -> None:
    tracking = load_text(BASE, "mlspec.yaml").spec.tracking
    assert (tracking.backend, tracking.uri, tracking.experiment) == ("local", None, None)


def test_an_mlflow_server_and_experiment() -> None:
    spec = load_text(BASE + "tracking: {backend: mlflow, uri: 'https://mlflow.example.com/ml', experiment: x}\n",
                     "mlspec.yaml").spec
    assert (spec.tracking.backend, spec.tracking.uri, spec.tracking.experiment) == (
        "mlflow", "https://mlflow.example.com/ml", "x")


@pytest.mark.parametrize(("uri", "message"), [
    ("https://ada:s3cret@mlflow.example.com", "'https://ada:***@mlflow.example.com': never put credentials in the "
     "spec; MLflow reads them from MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"),
    ("https://mlflow.example.com/?token=abc", "'https://mlflow.example.com/?***': a tracking server's address "
     "takes no query or fragment (tokens belong in the environment)"),
    ("mlflow.example.com", "'mlflow.example.com' is not an MLflow server address; write https://host[:port][/path]"),
    ("file:///tmp/mlruns", "'file:///tmp/mlruns' is not an MLflow server address; write https://host[:port][/path]"),
])
def test_a_server_address_that_does_not_belong_in_the_spec(uri: str, message: str) -> None:
    text = BASE + f"tracking:\n  backend: mlflow\n  uri: '{uri}'\n"
    line = text.count("\n") - 1 + 1
    with pytest.raises(SpecError) as caught:
        load_text(text, "mlspec.yaml")
    assert str(caught.value) == f"mlspec.yaml:{line}:8: tracking.uri: {message}"


def test_an_unknown_backend_is_named_with_the_choices() -> None:
    with pytest.raises(SpecError) as caught:
        load_text(BASE + "tracking: {backend: mlfow}\n", "mlspec.yaml")
    assert str(caught.value).endswith("tracking.backend: the string 'mlfow' is not allowed; did you mean 'mlflow'?")
