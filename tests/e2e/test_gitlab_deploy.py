"""The generated `.gitlab-ci.yml` on the default branch, under gitlab-ci-local: the pipeline trains, gates and
deploys, and ends with a promoted version in a file registry; deploy jobs appear only where the spec says.

The registry is a directory outside the job checkouts (``MLSPEC_REGISTRY``, as a project would set it for a
runner with a mounted volume): each job runs in a throwaway copy of the repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlspec.registry import FileRegistry
from tests.e2e import gitlab_local
from tests.e2e.jobpython import JobPython, executor_env
from tests.e2e.project import DEFAULT_BRANCH, Project, git


def _deploys(jobs: dict[str, str]) -> dict[str, str]:
    return {name: when for name, when in jobs.items() if name.startswith("deploy-")}


@pytest.mark.slow
def test_default_branch_pipeline_promotes_a_version(tmp_path: Path, home: Path, project: Project,
                                                    job_python: JobPython) -> None:
    git(project.root, home, "switch", "--quiet", DEFAULT_BRANCH)  # a push to main, not the merge request
    job_bin = job_python.venv(tmp_path / "job-venv")
    env = executor_env(home, job_bin)
    registry = tmp_path / "mounted" / "registry"
    variables = {"MLSPEC_INSTALL": str(job_python.wheel), "PIP_NO_INDEX": "1", "MLSPEC_REGISTRY": str(registry)}

    # breast-cancer: staging on pushes to main; production on v* tags, after approval; the export on v* tags.
    assert _deploys(gitlab_local.listed(project.root, env, variables)) == {
        "deploy-staging": "on_success", "deploy-production": "never", "deploy-bundle": "never"}
    tag = gitlab_local.listed(project.root, env, {**variables, "CI_COMMIT_TAG": "v1.0"}, ("CI_COMMIT_BRANCH",))
    assert _deploys(tag) == {"deploy-staging": "never", "deploy-production": "manual", "deploy-bundle": "on_success"}

    pipeline = gitlab_local.run(project.root, env, variables)
    assert pipeline.returncode == 0, pipeline.describe()
    assert pipeline.jobs["deploy-staging"].result == "PASS", pipeline.describe()
    assert not {"deploy-production", "deploy-bundle"} & set(pipeline.jobs)
    deploy = pipeline.jobs["deploy-staging"]
    assert "moved alias 'staging' of 'breast-cancer' from nothing to version 1" in deploy.output, deploy.output
    assert deploy.started > pipeline.jobs["gate"].finished

    found = FileRegistry(registry)
    assert found.aliases("breast-cancer") == {"staging": 1}
    assert found.verify("breast-cancer") == []
    (version,) = found.versions("breast-cancer")
    assert (version.verdict, version.trained_model) == ("pass", "logreg")
    (promotion,) = [e for e in found.history("breast-cancer") if e.kind == "promote"]
    assert promotion.note == "deploy target staging"
    assert promotion.actor.commit == project.base_sha  # the commit the pipeline ran for
