"""Fixtures of the report tests: the breast-cancer example run for real, as a pull request would run it.

The template is a git repository whose ``main`` holds the example and the mlspec.lock of a run there (the
baseline), with a ``feature`` branch checked out that gives the forest fewer trees and was run in full. Each
test gets a private copy as its current directory, so it can edit the spec and rerun only what changed.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from mlspec.load import load
from mlspec.runtime import runner
from mlspec.runtime.cilog import Log
from tests.gitkit import baseline_from_lock, commit_all, git, init_repo
from tests.runtime.gatekit import CLEAN, fresh_copy
from tests.runtime.stagekit import copy_example

CHANGE = ("n_estimators: 200", "n_estimators: 100")


def run_here(spec: Path) -> runner.Report:
    return runner.run(load(spec), log=Log(io.StringIO(), io.StringIO(), {}))


@pytest.fixture(scope="session")
def pull_request_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from threadpoolctl import threadpool_limits

    spec = copy_example("breast-cancer", tmp_path_factory.mktemp("report-template"))
    baseline_from_lock(spec)  # the report of a pull request against main's committed lock
    root = spec.parent
    saved = {k: os.environ.pop(k) for k in CLEAN if k in os.environ}
    try:
        init_repo(root)
        commit_all(root, "breast-cancer example")
        with threadpool_limits(1):
            assert run_here(spec).ok
            commit_all(root, "Record the run on main")
            git(root, "switch", "-q", "-c", "feature")
            spec.write_text(spec.read_text().replace(*CHANGE))
            commit_all(root, "Fewer trees")
            assert run_here(spec).ok
    finally:
        os.environ.update(saved)
    return root


@pytest.fixture
def pull_request(pull_request_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the run pull request, as the current directory, with no CI variables set."""
    for var in os.environ:
        if var.startswith(("GITHUB_", "GITLAB_", "CI_", "MLSPEC_")):
            monkeypatch.delenv(var)
    root = fresh_copy(pull_request_template, tmp_path)
    monkeypatch.chdir(root)
    return root
