"""A search split into CI shard jobs, under gitlab-ci-local: each leg of ``trials-<model>`` runs its share of
the grid in its own copy of the repository, and the train job finds every trial's result (from the legs'
artifacts, or from the store when there is one) and only refits the best one."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.e2e import gitlab_local
from tests.e2e.jobpython import JobPython, executor_env
from tests.e2e.searchproject import SHARD_VALUES, TRAIN_LINE, check_shard, make_search_project
from tests.e2e.storeproject import KEY_ID, SECRET
from tests.store.conftest import StoreServer, new_bucket

JOBS = ("trials-logreg: [1]", "trials-logreg: [2]", "train: [logreg]", "evaluate", "gate", "report")


def _passed(pipeline: gitlab_local.Pipeline, jobs: Sequence[str] = JOBS) -> dict[str, gitlab_local.Job]:
    assert pipeline.returncode == 0, pipeline.describe()
    assert {name: job.result for name, job in pipeline.jobs.items()} == dict.fromkeys(jobs, "PASS")
    jobs = pipeline.jobs
    for shard in SHARD_VALUES:
        check_shard(shard, jobs[f"trials-logreg: [{shard}]"].output)
    # The train job started after both legs and ran no trial.
    train = jobs["train: [logreg]"]
    assert train.started > max(jobs[f"trials-logreg: [{s}]"].finished for s in SHARD_VALUES)
    assert TRAIN_LINE in train.output, train.output
    return jobs


@pytest.mark.slow
def test_shard_jobs_pass_their_trials_to_the_train_job_as_artifacts(tmp_path: Path, home: Path,
                                                                    job_python: JobPython) -> None:
    root = tmp_path / "repo"
    make_search_project(root, home, job_python.mlspec)
    variables = {"MLSPEC_INSTALL": str(job_python.wheel), "PIP_NO_INDEX": "1"}
    _passed(gitlab_local.run(root, executor_env(home, job_python.venv(tmp_path / "job-venv")), variables))
    # Each leg's artifact holds the results of its trials, one file each, where the train job looks them up;
    # the train job's own record says every trial came from that cache.
    kept = root / ".gitlab-ci-local" / "artifacts"
    legs = sorted(p for p in kept.iterdir() if p.name.startswith("trials-logreg"))  # the leg's number inside
    assert len(legs) == 2, legs
    for leg, values in zip(legs, SHARD_VALUES.values(), strict=True):
        results = [json.loads(p.read_text()) for p in (leg / ".mlspec" / "trials" / "logreg").glob("*.json")]
        assert sorted(r["params"]["C"] for r in results) == values, results
        assert all(r["model"] == "logreg" and len(r["scores"]) == 2 for r in results)
    (leg,) = [p for p in kept.iterdir() if p.name.startswith("train")]
    record = json.loads((leg / ".mlspec" / "stages" / "train" / "logreg" / "_run" / "trials.json").read_text())
    assert [(t["number"], t["status"]) for t in record["trials"]] == [(n, "cached") for n in range(4)]


STORE = """
store:
  url: s3://{bucket}/mlspec
ci:
  cache: false
  env:
    AWS_ACCESS_KEY_ID: {{secret: STORE_KEY_ID}}
    AWS_SECRET_ACCESS_KEY: {{secret: STORE_SECRET}}
    AWS_DEFAULT_REGION: us-east-1
    MLSPEC_STORE_ENDPOINT_URL: {{var: STORE_ENDPOINT}}
"""


@pytest.mark.slow
def test_with_a_store_the_trials_travel_through_it(tmp_path: Path, home: Path, job_python: JobPython,
                                                   s3_server: StoreServer) -> None:
    bucket = new_bucket(s3_server).split("/")[2]
    root = tmp_path / "repo"
    make_search_project(root, home, job_python.mlspec, STORE.format(bucket=bucket))
    variables = {"MLSPEC_INSTALL": str(job_python.wheel), "PIP_NO_INDEX": "1", "STORE_KEY_ID": KEY_ID,
                 "STORE_SECRET": SECRET, "STORE_ENDPOINT": str(s3_server.endpoint_url)}
    # Up to the train job: what comes after it is the same as without a store, and the test above runs it.
    _passed(gitlab_local.run(root, executor_env(home, job_python.venv(tmp_path / "job-venv")), variables,
                             until="train"), JOBS[:3])
    # No job downloaded another's artifacts (`artifacts: false`): the four results are objects in the bucket.
    import boto3

    client = boto3.client("s3", endpoint_url=str(s3_server.endpoint_url), aws_access_key_id=KEY_ID,
                          aws_secret_access_key=SECRET, region_name="us-east-1")
    listed = client.list_objects_v2(Bucket=bucket, Prefix="mlspec/trials/logreg/").get("Contents", [])
    assert len(listed) == 4, listed
