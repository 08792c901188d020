"""Scheduled pipelines of the generated `.gitlab-ci.yml` under gitlab-ci-local: monitoring, then the configured
action (breast-cancer: on_drift: retrain). Three schedules on one repository: no drift (nothing retrains), drift
(retrain, gate, deploy to staging), drift with gates the retrained model fails (nothing is deployed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e import gitlab_local
from tests.e2e.jobpython import JobPython, executor_env
from tests.e2e.scheduled import DRIFTED_FEATURES, make_scheduled_project

SCHEDULE = {"CI_PIPELINE_SOURCE": "schedule"}
TRAINING = ["validate: [train_quality]", "validate: [holdout_quality]", "train: [logreg]", "train: [forest]",
            "evaluate", "gate"]


def _says(job: gitlab_local.Job, text: str) -> bool:
    return any(text in line for line in job.output)


@pytest.mark.slow
def test_scheduled_pipelines(tmp_path: Path, home: Path, job_python: JobPython) -> None:
    project = make_scheduled_project(tmp_path / "repo", home, tmp_path / "registry")
    env = executor_env(home, job_python.venv(tmp_path / "job-venv"))
    variables = {**SCHEDULE, "MLSPEC_INSTALL": str(job_python.wheel), "PIP_NO_INDEX": "1",
                 "MLSPEC_REGISTRY": str(project.registry)}
    planned = gitlab_local.listed(project.root, env, variables)
    # The schedule's pipeline: monitoring, the training jobs that act on drift, the deploy targets of main.
    assert {name for name, when in planned.items() if when != "never"} == {"monitor", *TRAINING, "deploy-staging"}

    # 1. Recent data like the training data: no drift, and every training job ends at once.
    calm = gitlab_local.run(project.root, env, variables)
    assert calm.returncode == 0, calm.describe()
    jobs = calm.jobs
    assert sorted(jobs) == sorted(["monitor", *TRAINING, "deploy-staging"]), calm.describe()
    assert {job.result for job in jobs.values()} == {"PASS"}, calm.describe()
    assert _says(jobs["monitor"], "monitor: no drift in 30 features or the predictions")
    assert _says(jobs["monitor"], "model: logreg, registry alias 'production': version 1 of 'breast-cancer'")
    for name in [*TRAINING, "deploy-staging"]:
        assert _says(jobs[name], "monitoring found no drift: nothing to retrain"), name
        assert not _says(jobs[name], "Successfully installed mlspec-"), name  # ended before installing anything
    assert project.aliases() == {"production": 1}

    # 2. Drifted data: the monitor job passes (drift is the next jobs' cue), the model is retrained and gated,
    #    and deployed to staging. Training is deterministic, so the registry finds the bundle it already holds.
    project.drift()
    retrain = gitlab_local.run(project.root, env, variables)
    assert retrain.returncode == 0, retrain.describe()
    jobs = retrain.jobs
    assert {job.result for job in jobs.values()} == {"PASS"}, retrain.describe()
    assert _says(jobs["monitor"], f"monitor: {DRIFTED_FEATURES}")
    assert all(jobs["monitor"].finished < jobs[name].started for name in [*TRAINING, "deploy-staging"])
    assert any(line.startswith("  fitting ") for line in jobs["train: [forest]"].output)
    assert any(line.startswith("gate: pass for model 'logreg'") for line in jobs["gate"].output)
    assert _says(jobs["deploy-staging"], "moved alias 'staging' of 'breast-cancer' from nothing to version 1")
    assert project.aliases() == {"production": 1, "staging": 1}

    # 3. Drift again, but the retrained model fails a gate: the gate job fails and nothing is deployed.
    project.edit_spec("roc_auc: {min: 0.95, max_drop: 0.01}", "roc_auc: {min: 0.9999, max_drop: 0.01}")
    refused = gitlab_local.run(project.root, env, variables)
    assert refused.returncode != 0, refused.describe()
    jobs = refused.jobs
    assert jobs["monitor"].result == "PASS" and jobs["gate"].result == "FAIL", refused.describe()
    assert any(re.match(r"gate: fail for model 'logreg'", line) for line in jobs["gate"].output), jobs["gate"].output
    assert "deploy-staging" not in jobs or jobs["deploy-staging"].result == "", refused.describe()
    assert project.aliases() == {"production": 1, "staging": 1}
