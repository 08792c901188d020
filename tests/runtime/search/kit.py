"""A small searched project on the breast-cancer example's data, run through the real runner.

No validation suites (the search is what is under test) and a logistic regression, so a trial takes a few
hundredths of a second; ``search`` is the model's search section as YAML lines.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from mlspec.load import Loaded, load
from mlspec.runtime.runner import Report, run
from tests.runtime.stagekit import EXAMPLES

GRID = "space: {C: [0.01, 0.1, 1.0, 10.0]}\ncv: 3"


def project(tmp_path: Path, search: str = GRID, params: str = "{max_iter: 1000}",
            estimator: str = "sklearn.linear_model.LogisticRegression", extra: str = "") -> Path:
    """``tmp_path/p/mlspec.yaml``: model ``m`` with ``search``, trained on ``train``, evaluated on ``holdout``."""
    root = tmp_path / "p"
    (root / "data").mkdir(parents=True, exist_ok=True)
    for name in ("train", "holdout"):
        shutil.copy(EXAMPLES / "breast-cancer" / "data" / f"{name}.csv", root / "data" / f"{name}.csv")
    lines = "".join(f"        {line}\n" for line in search.splitlines())
    (root / "mlspec.yaml").write_text(
        "version: 1\nproject: s\ntask: binary\n"
        "data:\n  target: malignant\n  positive_class: 1\n  sources:\n"
        "    train: {path: data/train.csv}\n    holdout: {path: data/holdout.csv}\n"
        "training:\n  seed: 7\n  models:\n    m:\n"
        f"      estimator: {estimator}\n      params: {params}\n      data: train\n"
        "      preprocessing: {numeric: {impute: median, scale: standard}}\n"
        f"      search:\n{lines}"
        "evaluation:\n  data: holdout\n  metrics: [roc_auc, accuracy]\n" + extra, encoding="utf-8")
    return root / "mlspec.yaml"


def edit(spec: Path, old: str, new: str) -> None:
    text = spec.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"test setup: {old!r} must occur once"
    spec.write_text(text.replace(old, new), encoding="utf-8")


def train(spec: Path, **kwargs: Any) -> tuple[Report, Loaded, list[str]]:
    """Run ``train:m`` (and its data stage); also the log lines."""
    import io

    from mlspec.runtime.cilog import Log

    out = io.StringIO()
    loaded = load(spec)
    report = run(loaded, ["train:m"], log=Log(out=out, err=out, environ={}), **kwargs)
    return report, loaded, out.getvalue().splitlines()


def stage_dir(spec: Path) -> Path:
    return spec.parent / ".mlspec" / "stages" / "train" / "m"


def found(spec: Path) -> dict[str, Any]:
    """The train stage's ``trials.json`` (what the trials found)."""
    data: dict[str, Any] = json.loads((stage_dir(spec) / "trials.json").read_text(encoding="utf-8"))
    return data


def statuses(spec: Path) -> dict[int, str]:
    """Trial number → ran / cached / failed, in the last run of the train stage."""
    facts = json.loads((stage_dir(spec) / "_run" / "trials.json").read_text(encoding="utf-8"))
    return {t["number"]: t["status"] for t in facts["trials"]}


def cached_files(spec: Path) -> list[Path]:
    return sorted((spec.parent / ".mlspec" / "trials" / "m").glob("*.json"))
