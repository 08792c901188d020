"""Build the churn example's training tables from its raw exports: the project's own code, run by mlspec's
prepare step (`prepare.table` in mlspec.yaml).

    python prepare.py RAW_DIR OUT_DIR

reads RAW_DIR/customers.csv, usage.csv and cancellations.csv and writes OUT_DIR/train.csv, holdout.csv and
current.csv: one row per customer who stayed at least three months, with their usage of those first three
months and whether they cancelled later (`churned`: yes/no), which is what the model learns to foresee. Rows are
split 70/30 by a hash of the customer id (so a customer never moves between the two); a sample of the holdout
stands in for recent production inputs. The output is a function of the input alone: no clock, no unseeded randomness.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pandas as pd

FIRST_MONTHS = 3


def table(raw: Path) -> pd.DataFrame:
    customers = pd.read_csv(raw / "customers.csv")
    usage = pd.read_csv(raw / "usage.csv").sort_values(["customer_id", "month_start"])
    cancelled = pd.read_csv(raw / "cancellations.csv")
    first = usage.groupby("customer_id").head(FIRST_MONTHS)
    per_customer = first.groupby("customer_id").agg(
        months=("month_start", "size"),
        minutes_mean=("minutes", "mean"),
        minutes_last=("minutes", "last"),
        support_calls=("support_calls", "sum"),
    ).reset_index()
    per_customer = per_customer[per_customer["months"] == FIRST_MONTHS].drop(columns="months")
    # Cancelled within the first months: gone before there was anything to foresee.
    early = set(first.merge(cancelled, on="customer_id").groupby("customer_id").size().index) & set(
        usage.groupby("customer_id").size().loc[lambda s: s <= FIRST_MONTHS].index)
    out = customers.merge(per_customer, on="customer_id", how="inner")
    out = out[~out["customer_id"].isin(early)].copy()
    out["minutes_mean"] = out["minutes_mean"].round(1)
    out["churned"] = out["customer_id"].isin(set(cancelled["customer_id"])).map({True: "yes", False: "no"})
    return out


def in_holdout(customer_id: str) -> bool:
    return hashlib.sha256(customer_id.encode()).digest()[0] < 77  # 77/256: 30% of customers


def main(raw: str, out: str) -> None:
    frame = table(Path(raw))
    holdout_rows = frame["customer_id"].map(in_holdout)
    parts = {
        "train": frame[~holdout_rows],
        "holdout": frame[holdout_rows],
        "current": frame[holdout_rows].sample(n=300, replace=True, random_state=1),
    }
    Path(out).mkdir(parents=True, exist_ok=True)
    for name, part in parts.items():
        part.to_csv(Path(out) / f"{name}.csv", index=False, lineterminator="\n")
        print(f"{out}/{name}.csv: {len(part)} customers, {int((part['churned'] == 'yes').sum())} churned")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
