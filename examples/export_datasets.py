"""Regenerate the example data sets from scikit-learn's bundled data (no download needed).

    python examples/export_datasets.py

Each example gets data/train.csv and data/holdout.csv (a stratified 70/30 split for classification) and
data/current.csv, a bootstrap sample of the holdout rows standing in for recent production data. Column names
are snake_case. Output is deterministic: fixed seeds, fixed float formatting.

breast-cancer also gets data/current_drifted.csv, for trying monitoring (`cp data/current_drifted.csv
data/current.csv && mlspec monitor`): the rows of data/current.csv after two changes upstream of the model, a
texture measurement recalibrated (x1.25) and areas measured on larger images (x1.3).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from sklearn import datasets
from sklearn.model_selection import train_test_split

HERE = Path(__file__).parent


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _frame(bunch: object, target: str) -> pd.DataFrame:
    frame = pd.DataFrame(bunch.data, columns=[_snake(c) for c in bunch.feature_names])  # type: ignore[attr-defined]
    frame[target] = bunch.target  # type: ignore[attr-defined]
    return frame


def _drifted(current: pd.DataFrame) -> pd.DataFrame:
    drifted = current.copy()
    drifted["mean_texture"] = drifted["mean_texture"] * 1.25
    for column in ("mean_area", "worst_area"):
        drifted[column] = drifted[column] * 1.3
    return drifted


def _export(name: str, frame: pd.DataFrame, target: str, stratify: bool) -> None:
    train, holdout = train_test_split(
        frame, test_size=0.3, random_state=0, stratify=frame[target] if stratify else None
    )
    current = holdout.sample(n=min(150, len(holdout)), replace=True, random_state=1)
    out = HERE / name / "data"
    out.mkdir(parents=True, exist_ok=True)
    parts = [("train", train), ("holdout", holdout), ("current", current)]
    if name == "breast-cancer":
        parts.append(("current_drifted", _drifted(current)))
    for part, df in parts:
        df.to_csv(out / f"{part}.csv", index=False, float_format="%.6g", lineterminator="\n")
        print(f"{name}/data/{part}.csv: {len(df)} rows")


def main() -> None:
    cancer = datasets.load_breast_cancer()
    frame = _frame(cancer, "malignant")
    frame["malignant"] = 1 - frame["malignant"]  # scikit-learn codes malignant as 0; make it the positive class
    _export("breast-cancer", frame, "malignant", stratify=True)

    _export("wine", _frame(datasets.load_wine(), "cultivar"), "cultivar", stratify=True)

    diabetes = datasets.load_diabetes(scaled=False)
    frame = _frame(diabetes, "progression")
    frame["sex"] = frame["sex"].astype(int)  # coded 1/2; declared categorical in the spec
    _export("diabetes", frame, "progression", stratify=False)


if __name__ == "__main__":
    main()
