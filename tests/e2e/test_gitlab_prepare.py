"""A prepare step in the generated `.gitlab-ci.yml` under gitlab-ci-local: its job runs the command, and every
later job, in its own copy of a repository that holds only the raw files, gets the tables from that job's
artifact and restores them where the data sources read them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e import gitlab_local
from tests.e2e.jobpython import JobPython, executor_env
from tests.e2e.project import DEFAULT_BRANCH, git
from tests.e2e.test_gitlab_pipeline import MERGE_REQUEST, NOT_IN_MERGE_REQUESTS

# The wine example's tables become the step's outputs, made from copies under raw/ (plain Python: the job's
# environment needs nothing beyond mlspec).
SCRIPT = """\
import pathlib, shutil, sys
raw, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
out.mkdir(exist_ok=True)
for name in ("train.csv", "holdout.csv"):
    shutil.copyfile(raw / name, out / name)
print("prepared the tables")
"""
PREPARE = """
prepare:
  table:
    cmd: [python, prepare.py, raw, data]
    inputs: [prepare.py, raw]
    outputs: [data/train.csv, data/holdout.csv]
"""


@pytest.mark.slow
def test_prepare_job_feeds_the_jobs_after_it(tmp_path: Path, home: Path, job_python: JobPython) -> None:
    root = tmp_path / "repo"

    def mlspec(*args: str) -> None:
        done = subprocess.run([str(job_python.mlspec), *args], env=executor_env(home), capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr

    mlspec("init", str(root), "--example", "wine")
    (root / "raw").mkdir()
    for name in ("train.csv", "holdout.csv"):
        shutil.move(root / "data" / name, root / "raw" / name)
    (root / "prepare.py").write_text(SCRIPT)
    spec = root / "mlspec.yaml"
    spec.write_text(spec.read_text() + PREPARE)
    mlspec("compile", "-f", str(spec), "--out", str(root))
    git(root, home, "init", "--quiet", "--initial-branch", DEFAULT_BRANCH)
    for key, value in (("user.name", "mlspec e2e"), ("user.email", "e2e@mlspec.invalid"), ("commit.gpgsign", "false")):
        git(root, home, "config", key, value)
    git(root, home, "add", "--all")
    git(root, home, "commit", "--quiet", "--message", "wine with its tables made by a prepare step")

    variables = {**MERGE_REQUEST, "MLSPEC_INSTALL": str(job_python.wheel), "PIP_NO_INDEX": "1"}
    pipeline = gitlab_local.run(root, executor_env(home, job_python.venv(tmp_path / "job-venv")), variables,
                                NOT_IN_MERGE_REQUESTS)
    assert pipeline.returncode == 0, pipeline.describe()
    assert {name: job.result for name, job in pipeline.jobs.items()} == {
        name: "PASS" for name in ("prepare-table", "validate: [train_schema]", "validate: [holdout_suite]",
                                  "train: [logreg]", "train: [boosting]", "evaluate", "gate", "report")}
    first = pipeline.jobs["prepare-table"].output
    assert "  prepared the tables" in first
    assert "ok prepare:table" in "\n".join(first)
    # Every job with a data stage took the step's outputs from its artifact instead of running it again.
    for name in ("validate: [train_schema]", "train: [logreg]", "evaluate"):
        output = pipeline.jobs[name].output
        assert "skip prepare:table: up to date" in output, (name, output)
        assert "  restored data/train.csv from the outputs of prepare:table" in output, (name, output)
        assert "  prepared the tables" not in output
