"""Fixtures shared by all tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import EXAMPLE_NAMES, EXAMPLES


@pytest.fixture(params=EXAMPLE_NAMES)
def example(request: pytest.FixtureRequest) -> Path:
    """Each bundled example's mlspec.yaml."""
    return EXAMPLES / str(request.param) / "mlspec.yaml"
