"""The bundled examples are the golden inputs of every later stage: keep them coherent with their data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlspec.load import load


def test_example_data_matches_its_spec(example: Path) -> None:
    loaded = load(example)
    spec = loaded.spec
    assert loaded.warnings == ()
    frames = {name: pd.read_csv(loaded.root / src.path) for name, src in spec.data.sources.items()}
    assert set(frames) >= {"train", "holdout", "current"}
    columns = list(frames["train"].columns)
    for name, frame in frames.items():
        assert list(frame.columns) == columns, name
        assert frame[spec.data.target].notna().all(), name
    if spec.data.features is not None:
        declared = spec.data.features.numeric + spec.data.features.categorical
        assert sorted([*declared, spec.data.target]) == sorted(columns)
    for suite in spec.validation.values():
        for item in suite.expectations or []:
            ((_, kwargs),) = item.items()
            if kwargs and "column" in kwargs:
                assert kwargs["column"] in columns


def test_train_and_holdout_do_not_overlap(example: Path) -> None:
    root = example.parent / "data"
    train, holdout = pd.read_csv(root / "train.csv"), pd.read_csv(root / "holdout.csv")
    assert not set(map(tuple, train.to_numpy())) & set(map(tuple, holdout.to_numpy()))
    assert 0.25 <= len(holdout) / (len(train) + len(holdout)) <= 0.35


def test_classification_splits_keep_every_class() -> None:
    for name, target in (("breast-cancer", "malignant"), ("wine", "cultivar")):
        root = Path(__file__).parent.parent / "examples" / name / "data"
        for part in ("train", "holdout"):
            labels = set(pd.read_csv(root / f"{part}.csv")[target])
            assert labels == ({0, 1} if name == "breast-cancer" else {0, 1, 2}), (name, part)
