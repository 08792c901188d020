"""The generated monitoring workflow under act, as its schedule starts it: monitoring, then the configured action
(breast-cancer: on_drift: retrain). No drift: the training jobs are skipped; drift: retrain, gate, deploy to
staging; drift with gates the retrained model fails: nothing is deployed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e import act_local
from tests.e2e.jobpython import JobPython, executor_env
from tests.e2e.scheduled import DRIFTED_FEATURES, Scheduled, make_scheduled_project

WORKFLOW = Path(".github/workflows/mlspec-monitor.yml")
TRAINING = ["validate:train_quality", "validate:holdout_quality", "train:logreg", "train:forest", "evaluate", "gate"]
DEPLOYS = ["deploy-staging", "deploy-production", "deploy-bundle"]


def _name(job: act_local.Job) -> str:
    return ":".join([job.id, *job.matrix.values()])


def _schedule(project: Scheduled, tmp_path: Path, home: Path, job_python: JobPython, run: str) -> act_local.Run:
    event = tmp_path / f"{run}.json"
    event.write_text(json.dumps({"schedule": "0 6 * * 1"}))
    artifacts = tmp_path / f"artifacts-{run}"  # artifacts belong to one run
    artifacts.mkdir()
    job_env = {"MLSPEC_E2E_PYTHON": str(job_python.base), "MLSPEC_E2E_DEPS": str(job_python.deps),
               "MLSPEC_E2E_ARTIFACTS": str(artifacts), "PIP_NO_INDEX": "1",
               "MLSPEC_REGISTRY": str(project.registry)}
    return act_local.run(project.root, project.root / WORKFLOW, "schedule", event, executor_env(home), job_env,
                         {"MLSPEC_INSTALL": str(job_python.wheel)}, tmp_path / f"act-{run}")


def _says(job: act_local.Job, text: str) -> bool:
    return any(text in line for line in job.output)


@pytest.mark.slow
def test_scheduled_monitoring_workflow(tmp_path: Path, home: Path, job_python: JobPython) -> None:
    project = make_scheduled_project(tmp_path / "repo", home, tmp_path / "registry")

    # 1. No drift: the monitor job passes with output drift=false, and every job after it is skipped.
    calm = _schedule(project, tmp_path, home, job_python, "calm")
    assert calm.returncode == 0, calm.describe()
    jobs = {_name(job): job for job in calm.jobs.values()}
    assert jobs["monitor"].result == "success", calm.describe()
    assert _says(jobs["monitor"], "monitor: no drift in 30 features or the predictions")
    assert _says(jobs["monitor"], "model: logreg, registry alias 'production': version 1 of 'breast-cancer'")
    assert {job.result for name, job in jobs.items() if name != "monitor"} <= {"skipped"}, calm.describe()
    assert project.aliases() == {"production": 1}

    # 2. Drift: retrained, gated, deployed to staging (the schedule runs on main); the tag targets stay skipped.
    project.drift()
    retrain = _schedule(project, tmp_path, home, job_python, "retrain")
    assert retrain.returncode == 0, retrain.describe()
    jobs = {_name(job): job for job in retrain.jobs.values()}
    ran = sorted(name for name, job in jobs.items() if job.result == "success")
    assert ran == sorted(["monitor", *TRAINING, "deploy-staging"]), retrain.describe()
    assert {jobs[name].result for name in ("deploy-production", "deploy-bundle")} == {"skipped"}
    assert _says(jobs["monitor"], f"monitor: {DRIFTED_FEATURES}")
    assert all(jobs["monitor"].last < jobs[name].first for name in [*TRAINING, "deploy-staging"])
    assert any(line.startswith("gate: pass for model 'logreg'") for line in jobs["gate"].output)
    assert _says(jobs["deploy-staging"], "moved alias 'staging' of 'breast-cancer' from nothing to version 1")
    assert project.aliases() == {"production": 1, "staging": 1}

    # 3. Drift, and a retrained model that fails its gates: the gate job fails, no deploy job runs.
    project.edit_spec("roc_auc: {min: 0.95, max_drop: 0.01}", "roc_auc: {min: 0.9999, max_drop: 0.01}")
    refused = _schedule(project, tmp_path, home, job_python, "refused")
    assert refused.returncode != 0, refused.describe()
    jobs = {_name(job): job for job in refused.jobs.values()}
    assert (jobs["monitor"].result, jobs["gate"].result) == ("success", "failure"), refused.describe()
    assert any(line.startswith("gate: fail for model 'logreg'") for line in jobs["gate"].output)
    assert {jobs[name].result for name in DEPLOYS if name in jobs} <= {"skipped"}, refused.describe()
    assert project.aliases() == {"production": 1, "staging": 1}
