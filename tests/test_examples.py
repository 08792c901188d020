"""The bundled examples are the golden inputs of every later stage: keep them coherent with their data."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from mlspec.load import load


def tables(example: Path, tmp_path: Path) -> Path:
    """The directory holding the example's tables: its own, or, for an example whose tables its prepare steps
    build (churn), a copy in which they were built by `mlspec run prepare`."""
    if not load(example).spec.prepare:
        return example.parent
    copy = tmp_path / example.parent.name
    shutil.copytree(example.parent, copy, ignore=shutil.ignore_patterns(".mlspec"))
    done = subprocess.run([sys.executable, "-m", "mlspec", "run", "-f", str(copy / "mlspec.yaml"), "prepare"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return copy


def test_example_data_matches_its_spec(example: Path, tmp_path: Path) -> None:
    loaded = load(example)
    spec = loaded.spec
    assert loaded.warnings == ()
    root = tables(example, tmp_path)
    frames = {name: pd.read_csv(root / src.path) for name, src in spec.data.sources.items()}
    assert set(frames) >= {"train", "holdout", "current"}
    columns = list(frames["train"].columns)
    for name, frame in frames.items():
        assert list(frame.columns) == columns, name
        assert frame[spec.data.target].notna().all(), name
    if spec.data.features is not None:
        declared = spec.data.features.numeric + spec.data.features.categorical + spec.data.features.datetime
        assert sorted([*declared, *spec.data.exclude, spec.data.target]) == sorted(columns)
    for suite in spec.validation.values():
        for item in suite.expectations or []:
            ((_, kwargs),) = item.items()
            if kwargs and "column" in kwargs:
                assert kwargs["column"] in columns


def test_train_and_holdout_do_not_overlap(example: Path, tmp_path: Path) -> None:
    root = tables(example, tmp_path) / "data"
    train, holdout = pd.read_csv(root / "train.csv"), pd.read_csv(root / "holdout.csv")
    assert not set(map(tuple, train.to_numpy())) & set(map(tuple, holdout.to_numpy()))
    assert 0.25 <= len(holdout) / (len(train) + len(holdout)) <= 0.35


def test_classification_splits_keep_every_class() -> None:
    for name, target in (("breast-cancer", "malignant"), ("wine", "cultivar")):
        root = Path(__file__).parent.parent / "examples" / name / "data"
        for part in ("train", "holdout"):
            labels = set(pd.read_csv(root / f"{part}.csv")[target])
            assert labels == ({0, 1} if name == "breast-cancer" else {0, 1, 2}), (name, part)
