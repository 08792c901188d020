"""The churn example, the one whose training table is built by the project's own code, runs as a pipeline on
the default branch under gitlab-ci-local: its prepare step builds the tables from the raw exports in a job of its
own, the LightGBM and logistic regression models train on them with their derived and date features, the gate
judges the champion on the positive class the spec names, and the deploy job registers it.

Each job runs in its own copy of the repository; the prepare step's outputs reach the other jobs only as
artifacts, and the clone has none of them (they are never committed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlspec.registry import FileRegistry
from mlspec.registry.filestore import BUNDLE
from mlspec.runtime import bundle
from tests.e2e import expect, gitlab_local
from tests.e2e.jobpython import JobPython, executor_env
from tests.e2e.project import DEFAULT_BRANCH, Project, git, make_project

EXAMPLE = "churn"
CHANGE = ("num_leaves: 15", "num_leaves: 12")


@pytest.fixture
def churn(tmp_path: Path, home: Path, job_python: JobPython) -> Project:
    return make_project(tmp_path / "repo", home, job_python.mlspec, EXAMPLE, CHANGE)


@pytest.mark.slow
def test_default_branch_pipeline_prepares_trains_and_deploys(tmp_path: Path, home: Path, churn: Project,
                                                             job_python: JobPython) -> None:
    git(churn.root, home, "switch", "--quiet", DEFAULT_BRANCH)
    # A clone has the raw exports and the code that prepares them, not what it made.
    assert (churn.root / "raw" / "usage.csv").is_file()
    assert not (churn.root / "data").exists()
    job_bin = job_python.venv(tmp_path / "job-venv")
    env = executor_env(home, job_bin)
    registry = tmp_path / "mounted" / "registry"
    variables = {"MLSPEC_INSTALL": str(job_python.wheel), "PIP_NO_INDEX": "1", "MLSPEC_REGISTRY": str(registry)}

    pipeline = gitlab_local.run(churn.root, env, variables)
    assert pipeline.returncode == 0, pipeline.describe()
    assert {job.result for job in pipeline.jobs.values()} == {"PASS"}, pipeline.describe()
    spec = churn.spec
    ran = {name: expect.stage_lines(job.output) for name, job in pipeline.jobs.items()}
    # The prepare step ran once, in one job; every other job that needed its tables adopted them.
    computed = [name for name, stages in ran.items() if stages.get("prepare:table") == "ok"]
    assert len(computed) == 1, ran
    adopters = [name for name, stages in ran.items() if stages.get("prepare:table") == "skip"]
    assert adopters, ran
    fitted = [line for job in pipeline.jobs.values() for line in job.output if line.startswith("  fitting ")]
    estimators = {m.estimator for m in spec.training.models.values()}
    assert {line.split()[1].rstrip(":") for line in fitted} == estimators, fitted

    gate = next(job for name, job in pipeline.jobs.items() if name == "gate")
    assert any(line.startswith("gate: pass for model ") for line in gate.output), gate.output
    assert any(line.startswith('  positive class: "yes"') for line in gate.output), gate.output

    deploy = pipeline.jobs["deploy-production"]
    assert deploy.result == "PASS" and deploy.started > gate.finished, pipeline.describe()
    found = FileRegistry(registry)
    assert found.aliases("churn") == {"production": 1}
    assert found.verify("churn") == []
    (version,) = found.versions("churn")
    # The registered bundle carries the feature code serving runs: its derived features, the date column it
    # takes raw, the positive class and the threshold.
    deployed = bundle.load(found.files("churn", version.number, tmp_path / "scratch") / BUNDLE)
    meta = deployed.metadata
    assert {"signup_date", "monthly_fee", "household", "minutes_mean", "age"} <= set(deployed.features)
    assert "customer_id" not in deployed.features
    assert meta["decision"]["positive_class"] == "yes"
    assert meta["decision"]["threshold"] == 0.35
