"""A small real project for the run-history tests (import as ``from tests.runs.kit import ...``).

Two fast models on the breast-cancer example's tables, no suites (Great Expectations costs seconds to import),
run by the real runner in-process, in a git repository so runs have a commit and a branch.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from mlspec.load import load
from mlspec.runtime import runner
from mlspec.runtime.cilog import Log
from mlspec.store import Store
from tests.runtime.gatekit import CLEAN
from tests.support import EXAMPLES

SPEC = """\
version: 1
project: tiny
task: binary
data:
  target: malignant
  sources:
    train: {path: data/train.csv}
    holdout: {path: data/holdout.csv}
training:
  seed: 7
  models:
    forest:
      estimator: sklearn.ensemble.RandomForestClassifier
      params: {n_estimators: 8, max_depth: MAX_DEPTH}
      data: train
    logreg:
      estimator: sklearn.linear_model.LogisticRegression
      params: {max_iter: 500}
      data: train
      preprocessing:
        numeric: {impute: median, scale: standard}
evaluation:
  data: holdout
  metrics: [roc_auc, accuracy]
  champion: {metric: roc_auc}
  gates:
    roc_auc: {min: MIN_AUC}
"""
ENV_OUT = (*CLEAN, "MLSPEC_STORE", "CI", "CI_PIPELINE_ID", "CI_JOB_NAME", "GITHUB_RUN_ID", "MLFLOW_TRACKING_URI")


def write(root: Path, max_depth: int = 3, min_auc: float = 0.5) -> Path:
    """The project in ``root`` (created, or its spec rewritten); returns mlspec.yaml."""
    data = root / "data"
    if not data.exists():
        data.mkdir(parents=True)
        for name in ("train.csv", "holdout.csv"):
            shutil.copy(EXAMPLES / "breast-cancer" / "data" / name, data / name)
    spec = root / "mlspec.yaml"
    spec.write_text(SPEC.replace("MAX_DEPTH", str(max_depth)).replace("MIN_AUC", str(min_auc)))
    return spec


def git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "runner@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "runner@example.com"}
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, env=env, check=True)
    return done.stdout.strip()


def repo(root: Path, branch: str = "main") -> Path:
    spec = write(root)
    git(root, "init", "-q", "-b", branch)
    git(root, "config", "user.email", "runner@example.com")
    (root / ".gitignore").write_text(".mlspec/\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "tiny project")
    return spec


@contextmanager
def environ(extra: Mapping[str, str] = {}) -> Iterator[None]:
    """Outside CI (whatever runs the tests), plus ``extra``."""
    saved = {k: os.environ.pop(k) for k in ENV_OUT if k in os.environ}
    os.environ.update(extra)
    try:
        yield
    finally:
        for k in extra:
            os.environ.pop(k, None)
        os.environ.update(saved)


def go(spec: Path, *names: str, store: Store | None = None, env: Mapping[str, str] = {},
       force: bool = False) -> tuple[runner.Report, str, str]:
    """A real run in-process; the report, stdout and stderr."""
    from threadpoolctl import threadpool_limits

    out, err = io.StringIO(), io.StringIO()
    with environ(env), threadpool_limits(1):
        report = runner.run(load(spec), names, force=force, log=Log(out, err, {}), store=store)
    return report, out.getvalue(), err.getvalue()
