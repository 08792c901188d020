"""Regenerate the example data sets from scikit-learn's bundled data (no download needed).

    python examples/export_datasets.py

Each example gets data/train.csv and data/holdout.csv (a stratified 70/30 split for classification) and
data/current.csv, a bootstrap sample of the holdout rows standing in for recent production data. Column names
are snake_case. Output is deterministic: fixed seeds, fixed float formatting.

churn is the one example whose training table is built by the project's own code: this script writes its raw
tables (raw/customers.csv, raw/usage.csv, raw/cancellations.csv: a simulated subscription service, since no
bundled data set has dates or string labels), and its prepare step (examples/churn/prepare.py) turns them into
data/*.csv when the pipeline runs.

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

    _export_churn()


def _churn_raw() -> dict[str, pd.DataFrame]:
    """Customers of a subscription service, their monthly usage and who cancelled, from a fixed simulation.

    Cancelling is likelier with many support calls, a high fee per household member, little use, a short
    tenure and the basic plan; about one customer in four cancels. Ages are missing for some customers.
    """
    import numpy as np

    rng = np.random.default_rng(2024)
    n = 2400
    start, end = np.datetime64("2022-01-01"), np.datetime64("2024-12-01")
    signup = start + rng.integers(0, int((end - start).astype(int)) - 60, n).astype("timedelta64[D]")
    plan = rng.choice(["basic", "standard", "premium"], n, p=[0.5, 0.35, 0.15])
    fee = np.select([plan == "basic", plan == "standard"], [9.99, 19.99], 39.99) * rng.choice(
        [1.0, 0.8, 0.5], n, p=[0.8, 0.15, 0.05])
    household = rng.integers(1, 6, n)
    age = rng.integers(18, 81, n).astype(float)
    age[rng.random(n) < 0.04] = np.nan
    customers = pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(1, n + 1)],
        "signup_date": signup.astype(str),
        "plan": plan,
        "region": rng.choice(["north", "south", "east", "west"], n),
        "monthly_fee": fee.round(2),
        "household": household,
        "age": age,
    })
    appetite = rng.gamma(2.0, 120.0, n)  # minutes a month each customer tends to use
    trouble = rng.gamma(1.0, 0.4, n)  # support calls a month
    risk = (-2.6 + 1.3 * trouble + 0.05 * fee / household - appetite / 400 + 0.5 * (plan == "basic")
            + 0.3 * (age < 30))
    monthly = 1 / (1 + np.exp(-risk)) / 6  # chance of cancelling in a given month
    usage, cancellations = [], []
    for i in range(n):
        months = int((end - signup[i]).astype(int) // 30)
        for month in range(months):
            day = signup[i] + np.timedelta64(30 * month, "D")
            usage.append((customers.customer_id[i], str(day), int(rng.poisson(appetite[i])),
                          int(rng.poisson(trouble[i]))))
            if rng.random() < monthly[i]:
                cancellations.append((customers.customer_id[i], str(day + np.timedelta64(20, "D"))))
                break
    return {
        "customers": customers,
        "usage": pd.DataFrame(usage, columns=["customer_id", "month_start", "minutes", "support_calls"]),
        "cancellations": pd.DataFrame(cancellations, columns=["customer_id", "cancelled_on"]),
    }


def _export_churn() -> None:
    out = HERE / "churn" / "raw"
    out.mkdir(parents=True, exist_ok=True)
    for part, df in _churn_raw().items():
        df.to_csv(out / f"{part}.csv", index=False, float_format="%.6g", lineterminator="\n")
        print(f"churn/raw/{part}.csv: {len(df)} rows")


if __name__ == "__main__":
    main()
