"""The generated GitHub workflow runs for a pull request under act, on the host, with local action stand-ins.

Every job starts in a fresh copy of the repository with a fresh Python (the setup-python stand-in), so a job
sees another job's outputs only through the artifact stand-ins, which keep the real actions' rules for what
an artifact holds and where a download puts it (tests/e2e/standins/).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e import act_local, expect
from tests.e2e.jobpython import JobPython, executor_env
from tests.e2e.project import DEFAULT_BRANCH, FEATURE_BRANCH, Project

WORKFLOW = Path(".github/workflows/mlspec.yml")
REPOSITORY = "mlspec-e2e/project"


def _job_name(job: act_local.Job) -> str:
    """``train`` with matrix ``{model: forest}`` → ``train:forest`` (the stage the leg runs)."""
    return ":".join([job.id, *job.matrix.values()])


@pytest.mark.slow
def test_pull_request_workflow(tmp_path: Path, home: Path, project: Project, job_python: JobPython) -> None:
    spec = project.spec
    event = tmp_path / "event.json"
    event.write_text(json.dumps(act_local.pull_request_event(DEFAULT_BRANCH, project.base_sha, FEATURE_BRANCH,
                                                             project.head_sha, REPOSITORY)))
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    job_env = {  # read by the stand-ins
        "MLSPEC_E2E_PYTHON": str(job_python.base),
        "MLSPEC_E2E_DEPS": str(job_python.deps),
        "MLSPEC_E2E_ARTIFACTS": str(artifacts),
        "PIP_NO_INDEX": "1",
    }
    run = act_local.run(project.root, project.root / WORKFLOW, "pull_request", event, executor_env(home), job_env,
                        {"MLSPEC_INSTALL": str(job_python.wheel)}, tmp_path / "act")
    assert run.returncode == 0, run.describe()

    ran = {_job_name(job): job for job in run.jobs.values() if job.result != "skipped"}
    assert sorted(ran) == sorted(expect.pipeline_job_names(spec)), run.describe()
    assert {job.result for job in ran.values()} == {"success"}, run.describe()
    skipped = sorted(job.id for job in run.jobs.values() if job.result == "skipped")
    assert skipped == sorted(f"deploy-{target}" for target in spec.deploy)  # by their if:, on a pull request

    expect.check_order(spec, {n: j.first for n, j in ran.items()}, {n: j.last for n, j in ran.items()})
    outputs = {name: job.output for name, job in ran.items()}
    expect.check_stages(spec, outputs)
    expect.check_gate(spec, outputs, DEFAULT_BRANCH)
    for name, job in ran.items():
        # Each job installed mlspec from the wheel of this checkout into its own fresh Python: the venv of the
        # setup-python stand-in, the only one that finds the dependencies (pip says where) through its .pth.
        assert any(line.startswith("Successfully installed mlspec-") for line in job.output), name
        assert any(f" in {job_python.deps} " in line for line in job.output), name
        # The report job's comment step runs only for pull requests from the repository itself; this event's
        # pull request names no head repository, as for a deleted fork.
        by_if = {"Comment on the pull request"} if name == "report" else set()
        assert {s: r for s, r in job.steps.items() if s not in by_if} == dict.fromkeys(
            set(job.steps) - by_if, "success"), (name, job.steps)
        assert {job.steps[s] for s in by_if} <= {"skipped"}, (name, job.steps)

    # One artifact per job and leg, as named in the workflow, plus the lock files; none in the checkout.
    assert sorted(p.name for p in artifacts.iterdir()) == sorted(
        [f"mlspec-{name.replace(':', '-')}" for name in ran if name != "report"]
        + ["lockfile-evaluate", "lockfile-gate", "report"])
    workspace = project.workspace.relative_to(project.root)
    assert (artifacts / "mlspec-evaluate" / "stages" / "evaluate" / "metrics.json").is_file()
    assert (artifacts / "lockfile-gate" / "mlspec.lock").is_file()
    assert not (project.root / workspace / "stages").exists()
