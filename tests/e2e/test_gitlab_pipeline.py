"""The generated `.gitlab-ci.yml` runs a merge request pipeline to completion under gitlab-ci-local.

Jobs run on the host (shell executor) each in its own copy of the repository (--shell-isolation), so a job
sees another job's outputs only if they travel as declared artifacts, as on GitLab.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e import expect, gitlab_local
from tests.e2e.jobpython import JobPython, executor_env
from tests.e2e.project import DEFAULT_BRANCH, FEATURE_BRANCH, Project

# What GitLab sets in a merge request pipeline, as far as the generated rules and mlspec read it. There is no
# CI_COMMIT_BRANCH in merge request pipelines; gitlab-ci-local would set it from the checked-out branch.
MERGE_REQUEST = {
    "CI_PIPELINE_SOURCE": "merge_request_event",
    "CI_MERGE_REQUEST_IID": "1",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": FEATURE_BRANCH,
    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": DEFAULT_BRANCH,
    "GITLAB_CI": "true",
}
NOT_IN_MERGE_REQUESTS = ("CI_COMMIT_BRANCH",)


def _job_name(gitlab_name: str) -> str:
    """``train: [forest]`` → ``train:forest`` (the stage the leg runs); other names stay as they are."""
    leg = re.fullmatch(r"(\S+): \[(.+)\]", gitlab_name)
    return f"{leg[1]}:{leg[2]}" if leg else gitlab_name


@pytest.mark.slow
def test_merge_request_pipeline(tmp_path: Path, home: Path, project: Project, job_python: JobPython) -> None:
    spec = project.spec
    job_bin = job_python.venv(tmp_path / "job-venv")
    env = executor_env(home, job_bin)
    # CI/CD variables, as a project would set them: the jobs install mlspec from the wheel, pip never goes online.
    variables = {**MERGE_REQUEST, "MLSPEC_INSTALL": str(job_python.wheel), "PIP_NO_INDEX": "1"}

    # The rules leave every deploy job out of a merge request pipeline (when: never), whatever the branch.
    planned = gitlab_local.listed(project.root, env, variables, NOT_IN_MERGE_REQUESTS)
    deploy = {name: when for name, when in planned.items() if name.startswith("deploy-")}
    assert deploy == {f"deploy-{target}": "never" for target in spec.deploy}
    assert planned.get("monitor", "never") == "never"

    pipeline = gitlab_local.run(project.root, env, variables, NOT_IN_MERGE_REQUESTS)
    assert pipeline.returncode == 0, pipeline.describe()
    jobs = {_job_name(name): job for name, job in pipeline.jobs.items()}
    assert sorted(jobs) == sorted(expect.pipeline_job_names(spec)), pipeline.describe()  # so no deploy job ran
    assert {job.result for job in jobs.values()} == {"PASS"}, pipeline.describe()

    expect.check_order(spec, {n: j.started for n, j in jobs.items()}, {n: j.finished for n, j in jobs.items()})
    outputs = {name: job.output for name, job in jobs.items()}
    expect.check_stages(spec, outputs)
    expect.check_gate(spec, outputs, DEFAULT_BRANCH)
    # The first job installed mlspec from the wheel of this checkout; the others found it installed.
    first = min(jobs.values(), key=lambda job: job.started)
    assert any(line.startswith("Successfully installed mlspec-") for line in first.output), first.output
    assert (job_bin / "mlspec").is_file()  # into the job venv, first on PATH, not some other Python

    # The artifacts stayed with gitlab-ci-local (nothing was computed in, or copied back to, the checkout).
    assert not (project.workspace / "stages").exists()
    state = project.root / ".gitlab-ci-local"
    assert (state / "artifacts" / "evaluate" / project.workspace.relative_to(project.root) / "stages" / "evaluate"
            / "metrics.json").is_file()
