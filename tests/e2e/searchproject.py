"""A small repository whose one model is searched in two CI shard jobs, and what its pipelines must show.

The wine data from scikit-learn, one logistic regression searched over four values of C with 2-fold CV in
``shards: 2``; no suites or deploy targets, so a pipeline is the two shard legs, train, evaluate, gate and
report. Trial ``n`` belongs to shard ``n mod 2 + 1``: shard 1 runs C = 0.01 and 1.0, shard 2 C = 0.1 and 10.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tests.e2e.jobpython import executor_env
from tests.e2e.project import DEFAULT_BRANCH, git

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
SHARD_VALUES = {1: [0.01, 1.0], 2: [0.1, 10.0]}
"""The values of C each shard's trials try, in the grid's order."""
_SHARD_LINE = re.compile(r"^trials train:logreg: shard (\d)/2: (\d+) trials, (\d+) ran, (\d+) from the cache, "
                         r"0 failed; results in \S+$")
TRAIN_LINE = "  search: 4 trials: 0 ran, 4 from the cache, 0 failed"
"""What the train job prints when the shard jobs ran every trial."""


def make_search_project(root: Path, home: Path, mlspec: Path, tail: str = "") -> Path:
    """The repository in ``root`` on the default branch, its CI files compiled and committed; ``tail`` is added
    to the spec (a store). Returns the spec."""
    from sklearn.datasets import load_wine

    root.mkdir(parents=True)
    spec = root / "mlspec.yaml"
    spec.write_text(SPEC + tail)
    frame = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
    (root / "data").mkdir()
    frame.iloc[::3].to_csv(root / "data" / "holdout.csv", index=False)
    frame.drop(frame.index[::3]).to_csv(root / "data" / "train.csv", index=False)
    done = subprocess.run([str(mlspec), "compile", "-f", str(spec), "--out", str(root)], env=executor_env(home),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    git(root, home, "init", "--quiet", "--initial-branch", DEFAULT_BRANCH)
    for key, value in (("user.name", "mlspec e2e"), ("user.email", "e2e@mlspec.invalid"), ("commit.gpgsign", "false")):
        git(root, home, "config", key, value)
    git(root, home, "add", "--all")
    git(root, home, "commit", "--quiet", "--message", "a model searched in two shards")
    return spec


_TRIAL_LINE = re.compile(r"^  trial (\d+) \{'C': ([\d.]+)\}: cv accuracy [\d.]+ ± [\d.]+ \((\w+), [\d.]+ s\)$")


def check_shard(shard: int, output: Sequence[str]) -> None:
    """The leg of shard ``shard`` ran its two trials (numbers ``shard-1`` and ``shard+1``), none from a cache (a
    fresh copy of the repository)."""
    lines = [m.groups() for m in map(_SHARD_LINE.match, output) if m]
    assert lines == [(str(shard), "2", "2", "0")], output
    trials = [m.groups() for m in map(_TRIAL_LINE.match, output) if m]
    assert trials == [(str(n), str(c), "ran") for n, c in zip((shard - 1, shard + 1), SHARD_VALUES[shard],
                                                               strict=True)], output
