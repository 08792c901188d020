"""Fixtures of the end-to-end tests: the job Python (built once) and a merge-request-shaped repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e import jobpython
from tests.e2e.project import Project, make_project

EXAMPLE = "breast-cancer"
# The merge request under test: the forest gets fewer trees. The champion (logreg) is unchanged, so the gate,
# comparing with the lock committed on main, passes.
CHANGE = ("n_estimators: 200", "n_estimators: 100")


@pytest.fixture(scope="session")
def job_python(tmp_path_factory: pytest.TempPathFactory) -> jobpython.JobPython:
    return jobpython.prepare(tmp_path_factory.mktemp("job-python"))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """HOME for git, the executors and the jobs: nothing of the user's, nothing written outside tmp_path."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture(scope="session", params=["", "ml"], ids=["spec-at-root", "spec-in-subdir"])
def project_template(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                     job_python: jobpython.JobPython) -> Project:
    """The repository, made once per layout: its spec at the top, or in a subdirectory (the workspace, the
    lock and every artifact path then start with it, in both CI files)."""
    root = tmp_path_factory.mktemp("project")
    return make_project(root / "repo", root / "home", job_python.mlspec, EXAMPLE, CHANGE, subdir=str(request.param))


@pytest.fixture
def project(project_template: Project, tmp_path: Path) -> Project:
    """A copy for one test: the executors write into the repository (gitlab-ci-local keeps its state there)."""
    return project_template.copy_to(tmp_path / "repo")


# The S3-compatible server of the store tests, for the pipelines that share state only through a store.
from tests.store.conftest import s3_server  # noqa: E402, F401
