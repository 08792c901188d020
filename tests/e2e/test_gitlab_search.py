"""A search split into CI shard jobs, under gitlab-ci-local: each leg of ``trials-<model>`` runs its share of
the grid in its own copy of the repository, its trial results reach the train job only as its artifact, and
the train job finds every trial cached and only refits the best one."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e import gitlab_local
from tests.e2e.jobpython import JobPython, executor_env
from tests.e2e.project import DEFAULT_BRANCH, git

# A small project of its own: one searched model, 4 grid points in 2 shards, 2-fold CV; no suites or deploy
# targets, so the pipeline is the shard legs, train, evaluate, gate and report.
SPEC = """\
version: 1
project: search-shards
task: multiclass
data:
  target: cultivar
  sources:
    train: {path: data/train.csv}
    holdout: {path: data/holdout.csv}
training:
  seed: 7
  models:
    logreg:
      estimator: sklearn.linear_model.LogisticRegression
      params: {max_iter: 500}
      data: train
      preprocessing:
        numeric: {scale: standard}
      search: {space: {C: [0.01, 0.1, 1.0, 10.0]}, cv: 2, shards: 2}
evaluation:
  data: holdout
  metrics: [accuracy]
  champion: {metric: accuracy}
  gates:
    accuracy: {min: 0.8}
"""
SHARD_LINE = re.compile(r"^trials train:logreg: shard (\d)/2: (\d+) trials, (\d+) ran, (\d+) from the cache, "
                        r"0 failed; results in \S+$")


def _write_tables(root: Path) -> None:
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
    (root / "data").mkdir()
    frame.iloc[::3].to_csv(root / "data" / "holdout.csv", index=False)
    frame.drop(frame.index[::3]).to_csv(root / "data" / "train.csv", index=False)


@pytest.mark.slow
def test_shard_jobs_run_the_trials_and_the_train_job_none(tmp_path: Path, home: Path, job_python: JobPython) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "mlspec.yaml").write_text(SPEC)
    _write_tables(root)
    env = executor_env(home)
    done = subprocess.run([str(job_python.mlspec), "compile", "-f", str(root / "mlspec.yaml"), "--out", str(root)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    git(root, home, "init", "--quiet", "--initial-branch", DEFAULT_BRANCH)
    for key, value in (("user.name", "mlspec e2e"), ("user.email", "e2e@mlspec.invalid"), ("commit.gpgsign", "false")):
        git(root, home, "config", key, value)
    git(root, home, "add", "--all")
    git(root, home, "commit", "--quiet", "--message", "a model searched in two shards")

    variables = {"MLSPEC_INSTALL": str(job_python.wheel), "PIP_NO_INDEX": "1"}
    pipeline = gitlab_local.run(root, executor_env(home, job_python.venv(tmp_path / "job-venv")), variables)
    assert pipeline.returncode == 0, pipeline.describe()
    assert {name: job.result for name, job in pipeline.jobs.items()} == {
        name: "PASS" for name in ("trials-logreg: [1]", "trials-logreg: [2]", "train: [logreg]", "evaluate", "gate",
                                  "report")}
    # Each leg ran its half of the grid, none of it from a cache (a fresh copy of the repository each).
    for shard in ("1", "2"):
        output = pipeline.jobs[f"trials-logreg: [{shard}]"].output
        (line,) = [m for m in map(SHARD_LINE.match, output) if m]
        assert line.groups() == (shard, "2", "2", "0"), output
    # The train job started after both legs and took all four results from their artifacts.
    train = pipeline.jobs["train: [logreg]"]
    assert train.started > max(pipeline.jobs[f"trials-logreg: [{s}]"].finished for s in ("1", "2"))
    assert "  search: 4 trials: 0 ran, 4 from the cache, 0 failed" in train.output, train.output
    # The artifacts: each leg kept the results of its trials (numbers 0, 2 and 1, 3 of the grid's order), one
    # file each, where the train job looks them up; the train job's own record says every trial was cached.
    kept = root / ".gitlab-ci-local" / "artifacts"
    legs = sorted(p for p in kept.iterdir() if p.name.startswith("trials-logreg"))  # the leg's number inside
    assert len(legs) == 2, legs
    for leg, values in zip(legs, ([0.01, 1.0], [0.1, 10.0]), strict=True):
        results = [json.loads(p.read_text()) for p in (leg / ".mlspec" / "trials" / "logreg").glob("*.json")]
        assert sorted(r["params"]["C"] for r in results) == values, results
        assert all(r["model"] == "logreg" and len(r["scores"]) == 2 for r in results)
    (leg,) = [p for p in kept.iterdir() if p.name.startswith("train")]
    record = json.loads((leg / ".mlspec" / "stages" / "train" / "logreg" / "_run" / "trials.json").read_text())
    assert [(t["number"], t["status"]) for t in record["trials"]] == [(n, "cached") for n in range(4)]
