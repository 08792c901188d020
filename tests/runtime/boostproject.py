"""Projects on scikit-learn's bundled datasets for the boosting libraries (import as
``from tests.runtime.boostproject import write_project``).

Each table gains a categorical column (``cellar`` / ``site``) so native categorical handling has something to
do, and the ``current`` table (what monitoring and serving see) holds a category training never saw.
"""

from __future__ import annotations

from pathlib import Path

SPEC = """\
version: 1
project: boost
task: {task}
data:
  target: {target}
  sources:
    train: {{path: data/train.csv}}
    holdout: {{path: data/holdout.csv}}
    current: {{path: data/current.csv}}
training:
  seed: 7
  packages: [xgboost, lightgbm, catboost]
  models:
    m:
      estimator: {estimator}
      params: {params}
      data: train
{extra}evaluation:
  data: holdout
  metrics: [{metric}]
  champion: {{metric: {metric}}}
  gates:
    {metric}: {gate}
deploy:
  production: {{kind: registry, alias: production}}
registry: {{backend: file, path: .mlspec/registry}}
monitoring: {{current: current, reference: train}}
"""

UNSEEN = "atlantis"
"""The category of ``current``'s first rows that no training row has."""


def write_tables(root: Path, dataset: str) -> str:
    """``data/{train,holdout,current}.csv`` under ``root`` from ``load_<dataset>``; returns the target column."""
    import numpy as np
    from sklearn import datasets

    frame = getattr(datasets, f"load_{dataset}")(as_frame=True).frame
    frame.columns = [str(c).replace("/", "_").replace(" ", "_") for c in frame.columns]
    if dataset == "wine":  # string class labels: XGBoost alone would refuse them
        frame["target"] = frame["target"].map({0: "barolo", 1: "grignolino", 2: "barbera"})
        frame["cellar"] = np.where(frame["alcohol"] > 13, "north",
                                   np.where(frame["color_intensity"] > 5, "south", "east"))
    elif dataset == "breast_cancer":
        frame["cellar"] = np.where(frame["mean_radius"] > 14, "large", "small")
    else:
        frame["cellar"] = np.where(frame["bmi"] > 0, "high", "low")
    frame = frame.sample(frac=1, random_state=0).reset_index(drop=True)
    cut = int(len(frame) * 0.7)
    (root / "data").mkdir(parents=True, exist_ok=True)
    frame.iloc[:cut].to_csv(root / "data" / "train.csv", index=False)
    frame.iloc[cut:].to_csv(root / "data" / "holdout.csv", index=False)
    current = frame.iloc[cut:].drop(columns="target").copy()
    current.loc[current.index[:3], "cellar"] = UNSEEN
    current.to_csv(root / "data" / "current.csv", index=False)
    return "target"


TASKS = {"wine": ("multiclass", "accuracy", "{min: 0.8}"), "breast_cancer": ("binary", "roc_auc", "{min: 0.9}"),
         "diabetes": ("regression", "r2", "{min: 0.1}")}


def write_project(root: Path, dataset: str, estimator: str, params: str = "{}", extra: str = "") -> Path:
    """A project under ``root`` training ``estimator`` on ``dataset``; ``extra`` is more of the model's block
    (indented six spaces). Returns its mlspec.yaml."""
    target = write_tables(root, dataset)
    task, metric, gate = TASKS[dataset]
    spec = root / "mlspec.yaml"
    spec.write_text(SPEC.format(task=task, target=target, estimator=estimator, params=params, extra=extra,
                                metric=metric, gate=gate), encoding="utf-8")
    return spec
