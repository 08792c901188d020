"""The generated GitHub workflow on a store, under act: every job in a fresh copy of the repository with a fresh
Python, no cache, no downloads of earlier jobs' artifacts (a workflow with a store has none), so the store is the
only thing jobs share. Three runs on one repository: the first push to main (train, gate without a baseline,
deploy into the store's registry), a pull request gated against the store's ``production`` version, scored on
the same rows, with the paired significance test computed, and the monitoring schedule with drifted data in the
bucket (monitor finds production in the store; drift → retrain → gate → deploy). Last, a laptop with the repository
and the store lists the three runs, each made of its jobs' parts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.e2e import act_local
from tests.e2e.jobpython import JobPython, executor_env
from tests.e2e.project import DEFAULT_BRANCH, FEATURE_BRANCH, git
from tests.e2e.storeproject import clone_at, make_store_project
from tests.e2e.test_store_gitlab import CHANGE
from tests.store.conftest import StoreServer, new_bucket
from tests.support import run_mlspec

WORKFLOW = Path(".github/workflows/mlspec.yml")
MONITOR_WORKFLOW = Path(".github/workflows/mlspec-monitor.yml")
REPOSITORY = "mlspec-e2e/project"
RUN_IDS = {"push": "9001", "pull-request": "9002", "schedule": "9003"}


def _name(job: act_local.Job) -> str:
    return ":".join([job.id, *job.matrix.values()])


def _says(job: act_local.Job, pattern: str) -> bool:
    return any(re.search(pattern, line) for line in job.output)


@pytest.mark.slow
def test_workflow_runs_share_only_the_store(tmp_path: Path, home: Path, job_python: JobPython,
                                            s3_server: StoreServer) -> None:
    bucket = new_bucket(s3_server).split("/")[2]
    project = make_store_project(tmp_path / "repo", home, bucket, str(s3_server.endpoint_url))
    workflow = yaml.safe_load((project.root / WORKFLOW).read_text())
    # Only the report job downloads what the jobs uploaded (for people); no job restores a cache.
    steps = [step.get("uses", "") for job_id, job in workflow["jobs"].items() for step in job["steps"]
             if job_id != "report"]
    assert not [s for s in steps if "download-artifact" in s or s.startswith("actions/cache")], steps

    def act(event_name: str, payload: dict[str, object], run: str, workflow: Path = WORKFLOW
            ) -> dict[str, act_local.Job]:
        event = tmp_path / f"{run}.json"
        event.write_text(json.dumps(payload))
        artifacts = tmp_path / f"artifacts-{run}"
        artifacts.mkdir()
        job_env = {"MLSPEC_E2E_PYTHON": str(job_python.base), "MLSPEC_E2E_DEPS": str(job_python.deps),
                   "MLSPEC_E2E_ARTIFACTS": str(artifacts), "PIP_NO_INDEX": "1",
                   "GITHUB_RUN_ID": RUN_IDS[run]}  # act numbers every run 1; GitHub's ids differ
        secrets = {k: v for k, v in project.ci_variables().items() if k != "STORE_ENDPOINT"}
        result = act_local.run(project.root, project.root / workflow, event_name, event, executor_env(home), job_env,
                               {"MLSPEC_INSTALL": str(job_python.wheel), "STORE_ENDPOINT": project.endpoint},
                               tmp_path / f"act-{run}", secrets)
        assert result.returncode == 0, result.describe()
        jobs = {_name(job): job for job in result.jobs.values()}
        assert {job.result for job in jobs.values()} <= {"success", "skipped"}, result.describe()
        return jobs

    # 1. The first push to main: no baseline yet, deployed as version 1 into the store's registry.
    head = git(project.root, home, "rev-parse", "HEAD")
    jobs = act("push", {"ref": f"refs/heads/{DEFAULT_BRANCH}", "after": head,
                        "repository": {"full_name": REPOSITORY, "default_branch": DEFAULT_BRANCH}}, "push")
    assert jobs["deploy-production"].result == "success", jobs["deploy-production"].output
    assert _says(jobs["gate"], r"no baseline"), jobs["gate"].output
    assert _says(jobs["train:logreg"], r"from the store"), jobs["train:logreg"].output
    assert project.aliases() == {"production": 1}

    # 2. A pull request: gated against production v1, scored in the gate job on the same rows.
    git(project.root, home, "switch", "--quiet", "--create", FEATURE_BRANCH)
    project.edit_spec(*CHANGE)
    feature = project.commit(f"Try {CHANGE[1]}", "mlspec.yaml")
    jobs = act("pull_request", act_local.pull_request_event(DEFAULT_BRANCH, head, FEATURE_BRANCH, feature,
                                                            REPOSITORY), "pull-request")
    assert jobs["deploy-production"].result == "skipped"
    gate = jobs["gate"]
    assert gate.result == "success", gate.output
    assert _says(gate, r"baseline: registry production"), gate.output
    assert _says(gate, r"significance: paired bootstrap"), gate.output
    assert project.aliases() == {"production": 1}

    # 3. The schedule on main, with drifted production data in the bucket: the monitor job finds production in
    #    the store, and drift retrains, gates and deploys.
    git(project.root, home, "switch", "--quiet", DEFAULT_BRANCH)
    project.drift()
    jobs = act("schedule", {"schedule": "0 6 * * 1"}, "schedule", MONITOR_WORKFLOW)
    assert _says(jobs["monitor"], r"registry alias 'production': version 1 of 'breast-cancer'"), jobs["monitor"].output
    assert _says(jobs["monitor"], r"monitor: drift in "), jobs["monitor"].output
    assert jobs["gate"].result == "success" and _says(jobs["gate"], r"gate: pass"), jobs["gate"].output
    assert jobs["deploy-production"].result == "success", jobs["deploy-production"].output

    # 4. A laptop with the repository and the store: each workflow run is one run of the history, its jobs' parts.
    laptop = clone_at(project, DEFAULT_BRANCH, tmp_path / "laptop")
    listed = run_mlspec("runs", "--json", "-f", str(laptop / "mlspec.yaml"), cwd=laptop, env=project.env())
    assert listed.returncode == 0, listed.stderr
    runs = {r["run_id"]: r for r in json.loads(listed.stdout)}
    assert sorted(runs) == ["github-9001", "github-9002", "github-9003"], sorted(runs)
    push, pull = runs["github-9001"], runs["github-9002"]
    assert {"train", "evaluate", "gate"} <= set(push["part"].split("+")), push["part"]
    assert push["branch"] == DEFAULT_BRANCH and push["verdict"] == "passed"
    assert pull["branch"] == FEATURE_BRANCH and pull["params"]["logreg"]["params"]["C"] == 0.5
    assert "monitor" in {s["id"] for s in runs["github-9003"]["stages"]}
