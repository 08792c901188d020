"""Pipelines that share state only through the store, under gitlab-ci-local: every job in its own copy of the
repository (--shell-isolation), no CI cache, no artifacts passed between jobs (the generated `needs:` say
`artifacts: false` when there is a store), so a job that works saw only what the store gave it.

One repository, in the order a team lives it:
1. the first push to main: data from the bucket, train, gate (nothing deployed yet: no baseline), deploy into
   the store's registry;
2. a merge request: the gate scores the store's ``production`` version on the same rows; the relative gates
   apply and the paired significance test is computed, its interval in the report;
3. the merge, pushed to main: gated against production, deployed as version 2;
4. a schedule with drifted production data in the bucket: monitor finds ``production`` in the store; drift →
   retrain → gate → deploy;
5. a second clone at the commit of step 1, after the training object was replaced: ``mlspec pull`` brings back
   the exact bytes that commit trained on;
6. on that laptop (the repository and the store, nothing else), `mlspec runs` lists the four pipelines, each one
   run made of its jobs' parts, and compares the merge request's params with the first push's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.e2e import gitlab_local
from tests.e2e.jobpython import JobPython, executor_env
from tests.e2e.project import DEFAULT_BRANCH, FEATURE_BRANCH, git
from tests.e2e.storeproject import TRAIN_OBJECT, clone_at, make_store_project
from tests.store.conftest import StoreServer, new_bucket
from tests.support import run_mlspec

# GitLab sets GITLAB_CI=true in every job; gitlab-ci-local sets "false" unless told, which would make each job's
# run-history part a local run of its own instead of a part of its pipeline's run.
PUSH = {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": DEFAULT_BRANCH, "GITLAB_CI": "true"}
MERGE_REQUEST = {
    "CI_PIPELINE_SOURCE": "merge_request_event",
    "CI_MERGE_REQUEST_IID": "1",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": FEATURE_BRANCH,
    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": DEFAULT_BRANCH,
    "GITLAB_CI": "true",
}
SCHEDULE = {"CI_PIPELINE_SOURCE": "schedule", "GITLAB_CI": "true"}
# The merge request: a stronger regularisation of the champion, so the gate has a real difference to judge.
CHANGE = ("params: {C: 1.0, max_iter: 1000}", "params: {C: 0.5, max_iter: 1000}")


def _says(job: gitlab_local.Job, pattern: str) -> bool:
    return any(re.search(pattern, line) for line in job.output)


def _passed(pipeline: gitlab_local.Pipeline) -> dict[str, gitlab_local.Job]:
    assert pipeline.returncode == 0, pipeline.describe()
    assert {job.result for job in pipeline.jobs.values()} == {"PASS"}, pipeline.describe()
    return pipeline.jobs


@pytest.mark.slow
def test_pipelines_share_only_the_store(tmp_path: Path, home: Path, job_python: JobPython,
                                        s3_server: StoreServer) -> None:
    bucket = new_bucket(s3_server).split("/")[2]
    project = make_store_project(tmp_path / "repo", home, bucket, str(s3_server.endpoint_url))
    env = executor_env(home, job_python.venv(tmp_path / "job-venv"))
    common = {"MLSPEC_INSTALL": str(job_python.wheel), "PIP_NO_INDEX": "1", **project.ci_variables()}

    # 1. The first push to main.
    jobs = _passed(gitlab_local.run(project.root, env, {**common, **PUSH}))
    assert "deploy-production" in jobs
    assert _says(jobs["gate"], r"no baseline"), jobs["gate"].output
    assert _says(jobs["deploy-production"], r"alias 'production' of 'breast-cancer' from nothing to version 1")
    assert project.aliases() == {"production": 1}
    # Every job started from nothing: the data job fetched nothing; the ones after it fetched from the store.
    assert _says(jobs["train: [logreg]"], r"from the store"), jobs["train: [logreg]"].output
    assert not _says(jobs["gate"], r"^\s*fitting "), jobs["gate"].output
    # The lock a maintainer commits to record the run (the gate job keeps it as an artifact for people).
    lock = next((project.root / ".gitlab-ci-local" / "artifacts" / "gate").rglob("mlspec.lock"))
    (project.root / "mlspec.lock").write_bytes(lock.read_bytes())
    recorded = project.commit("Record the pipeline run on main", "mlspec.lock")
    trained_on = project.object(TRAIN_OBJECT)

    # 2. A merge request: gated against production v1, scored here on the same rows.
    git(project.root, home, "switch", "--quiet", "--create", FEATURE_BRANCH)
    project.edit_spec(*CHANGE)
    project.commit(f"Try {CHANGE[1]}", "mlspec.yaml")
    jobs = _passed(gitlab_local.run(project.root, env, {**common, **MERGE_REQUEST}, ("CI_COMMIT_BRANCH",)))
    assert "deploy-production" not in jobs
    gate = jobs["gate"]
    assert _says(gate, r"baseline: registry production"), gate.output
    assert _says(gate, r"significance: paired bootstrap"), gate.output
    interval = r"^roc_auc .*95% interval of the worsening \[-?[0-9.e-]+, -?[0-9.e-]+\]"
    assert _says(gate, interval), "\n".join(gate.output[-20:])
    report = next((project.root / ".gitlab-ci-local" / "artifacts" / "report").rglob("report.md")).read_text()
    assert "registry production" in report and "95% interval of the worsening [" in report, report

    # 3. The merge, pushed to main: gated against production v1, deployed as version 2.
    git(project.root, home, "switch", "--quiet", DEFAULT_BRANCH)
    git(project.root, home, "merge", "--quiet", "--ff-only", FEATURE_BRANCH)
    jobs = _passed(gitlab_local.run(project.root, env, {**common, **PUSH}))
    assert _says(jobs["gate"], r"baseline: registry production"), jobs["gate"].output
    assert _says(jobs["deploy-production"], r"to version 2"), jobs["deploy-production"].output
    assert project.aliases() == {"production": 2}

    # 4. A schedule, with drifted production data in the bucket: retrain, gate, deploy.
    project.drift()
    jobs = _passed(gitlab_local.run(project.root, env, {**common, **SCHEDULE}))
    assert _says(jobs["monitor"], r"registry alias 'production': version 2 of 'breast-cancer'"), jobs["monitor"].output
    assert _says(jobs["monitor"], r"monitor: drift in "), jobs["monitor"].output
    assert _says(jobs["gate"], r"gate: pass"), jobs["gate"].output
    assert "deploy-production" in jobs

    # 5. The training object is replaced; a clone at the recorded commit pulls the bytes it trained on.
    #    A laptop at main runs the data stage on the new bytes (same spec section: same stage, new fingerprint)
    #    and pushes it, so the run cache holds the new bytes too; the old commit's lock still wins.
    replaced = trained_on.replace(b"\n", b"\r\n")
    project.upload(TRAIN_OBJECT, replaced)
    laptop = clone_at(project, DEFAULT_BRANCH, tmp_path / "laptop")
    project.mlspec("run", "data:train", "-f", str(laptop / "mlspec.yaml"), cwd=laptop)
    old = clone_at(project, recorded, tmp_path / "old-clone")
    said = project.mlspec("pull", "data:train", "-f", str(old / "mlspec.yaml"), cwd=old)
    kept = sorted((old / ".mlspec" / "stages" / "data" / "train" / "source").iterdir())
    assert len(kept) == 1 and kept[0].read_bytes() == trained_on, said
    said = project.mlspec("pull", "data:train", "--current", "-f", str(old / "mlspec.yaml"), cwd=old)
    assert kept[0].read_bytes() == replaced, said

    # 6. The laptop's `mlspec runs`: every pipeline's jobs recorded their parts in the store.
    listed = run_mlspec("runs", "--json", "-f", str(laptop / "mlspec.yaml"), cwd=laptop, env=project.env())
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"^imported \d+ parts of runs from the store", listed.stderr, re.M), listed.stderr
    runs = json.loads(listed.stdout)
    assert runs[0]["part"] == "local" and runs[0]["command"] == ["data:train"]  # the laptop's own run
    ci = runs[1:]
    assert [r["run_id"][:7] for r in ci] == ["gitlab-"] * 4 and len({r["run_id"] for r in ci}) == 4
    schedule, merged, merge_request, first = ci  # newest first
    parts = set(first["part"].split("+"))
    assert {"train: [logreg]", "train: [forest]", "evaluate", "gate"} <= parts, first["part"]
    assert first["branch"] == DEFAULT_BRANCH and first["verdict"] == "passed" and first["champion"] == "logreg"
    assert {s["id"]: s["status"] for s in first["stages"]}["train:logreg"] == "ran"
    assert set(first["metrics"]) == {"logreg", "forest"}
    assert merge_request["branch"] == FEATURE_BRANCH and merged["branch"] == DEFAULT_BRANCH
    assert "monitor" in {s["id"] for s in schedule["stages"]}
    compared = run_mlspec("runs", "compare", first["run_id"], merge_request["run_id"], "--json", "--local",
                          "-f", str(laptop / "mlspec.yaml"), cwd=laptop, env=project.env())
    assert compared.returncode == 0, compared.stderr
    assert json.loads(compared.stdout)["params"] == {"logreg.C": [1.0, 0.5]}
