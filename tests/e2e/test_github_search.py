"""A search split into CI shard jobs in the generated GitHub workflow, under act: each leg of ``trials-<model>``
uploads its trial results as an artifact of its own (``trials-<model>-<shard>``), and the train job downloads
them all into the workspace's ``trials/`` (``merge-multiple``), finds every trial cached and only refits the
best. The artifact stand-ins keep the real actions' rules for names, roots and merges (tests/e2e/standins/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e import act_local
from tests.e2e.jobpython import JobPython, executor_env
from tests.e2e.project import DEFAULT_BRANCH, git
from tests.e2e.searchproject import SHARD_VALUES, TRAIN_LINE, check_shard, make_search_project

WORKFLOW = Path(".github/workflows/mlspec.yml")
REPOSITORY = "mlspec-e2e/search"


@pytest.mark.slow
def test_shard_legs_upload_their_trials_and_the_train_job_runs_none(tmp_path: Path, home: Path,
                                                                    job_python: JobPython) -> None:
    root = tmp_path / "repo"
    make_search_project(root, home, job_python.mlspec)
    event = tmp_path / "push.json"
    event.write_text(json.dumps({"ref": f"refs/heads/{DEFAULT_BRANCH}", "after": git(root, home, "rev-parse", "HEAD"),
                                 "repository": {"full_name": REPOSITORY, "default_branch": DEFAULT_BRANCH}}))
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    job_env = {"MLSPEC_E2E_PYTHON": str(job_python.base), "MLSPEC_E2E_DEPS": str(job_python.deps),
               "MLSPEC_E2E_ARTIFACTS": str(artifacts), "PIP_NO_INDEX": "1"}
    run = act_local.run(root, root / WORKFLOW, "push", event, executor_env(home), job_env,
                        {"MLSPEC_INSTALL": str(job_python.wheel)}, tmp_path / "act")
    assert run.returncode == 0, run.describe()
    jobs = {":".join([job.id, *job.matrix.values()]): job for job in run.jobs.values()}
    assert {name: job.result for name, job in jobs.items()} == dict.fromkeys(
        ("trials-logreg:1", "trials-logreg:2", "train:logreg", "evaluate", "gate", "report"), "success")
    for shard in SHARD_VALUES:
        check_shard(shard, jobs[f"trials-logreg:{shard}"].output)
    train = jobs["train:logreg"]
    assert train.first > max(jobs[f"trials-logreg:{s}"].last for s in SHARD_VALUES)
    assert TRAIN_LINE in train.output, train.output
    # One artifact per leg, holding <model>/<fingerprint>.json: the layout the train job's download merges.
    for shard, values in SHARD_VALUES.items():
        results = [json.loads(p.read_text()) for p in (artifacts / f"trials-logreg-{shard}").rglob("*.json")]
        assert sorted(r["params"]["C"] for r in results) == values, results
        assert {p.parent.name for p in (artifacts / f"trials-logreg-{shard}").rglob("*.json")} == {"logreg"}
    record = artifacts / "mlspec-train-logreg" / "stages" / "train" / "logreg" / "_run" / "trials.json"
    assert {t["status"] for t in json.loads(record.read_text())["trials"]} == {"cached"}
