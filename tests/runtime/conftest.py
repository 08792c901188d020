"""Fixtures of the runtime tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.runtime.gatekit import CLEAN, build_template, fresh_copy


@pytest.fixture(scope="session")
def diabetes_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The diabetes example after one full `mlspec run` (shared; never modified: tests use ``diabetes``)."""
    return build_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def diabetes(diabetes_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the run diabetes project, as the current directory, with no baseline chosen."""
    for var in CLEAN:
        monkeypatch.delenv(var, raising=False)
    root = fresh_copy(diabetes_template, tmp_path)
    monkeypatch.chdir(root)
    return root
