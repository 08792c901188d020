"""What the compiled jobs install: mlspec's extras follow the sections of the spec that need them."""

from __future__ import annotations

import pytest

from mlspec.load import load_text
from mlspec.targets.common import extras
from tests.support import EXAMPLES

WINE = (EXAMPLES / "wine" / "mlspec.yaml").read_text()
OPTUNA = "{max_iter: 2000}\n      search: {method: optuna, budget: 4, space: {C: {low: 0.01, high: 10, log: true}}}"


@pytest.mark.parametrize(("tail", "edit", "expected"), [
    ("", None, ["run"]),
    ("store: {url: s3://bucket/mlspec}\n", None, ["run", "store"]),
    ("tracking: {backend: mlflow}\n", None, ["run", "mlflow"]),
    ("registry: {backend: mlflow}\n", None, ["run", "mlflow"]),
    ("", OPTUNA, ["run", "search"]),
    ("store: {url: s3://bucket/mlspec}\ntracking: {backend: mlflow}\n", OPTUNA, ["run", "store", "mlflow", "search"]),
])
def test_a_job_installs_the_extras_its_spec_needs(tail: str, edit: str | None, expected: list[str]) -> None:
    text = WINE if edit is None else WINE.replace("      params: {max_iter: 2000}\n", f"      params: {edit}\n", 1)
    assert text != WINE or edit is None
    assert extras(load_text(text + tail).spec) == expected


def test_a_grid_search_needs_no_optuna() -> None:
    text = WINE.replace("      params: {max_iter: 2000}\n",
                        "      params: {max_iter: 2000}\n      search: {space: {C: [0.1, 1]}}\n", 1)
    assert text != WINE
    assert extras(load_text(text).spec) == ["run"]
