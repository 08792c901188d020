"""`mlspec monitor` figures: the time to judge drift, per million current rows per feature, and how it grows.

    python benchmarks/bench_monitor.py [--max-rows N]

What is timed is the comparison the monitor stage makes for each feature (:func:`mlspec.monitor.drift.compare`:
type check, nulls, one sort, the PSI bins and the KS statistic from the reference's quantile sketch, or the
category counts and the chi-squared test), against a reference profile of 100,000 rows built beforehand (that
is the train stage's cost, printed once). Reading the data and the model's predictions are left out: they
depend on the file format and the model, not on monitoring. Each figure is the best of three runs.

* rows: one numeric feature at 100k, 1M and 5M rows (--max-rows caps it); one categorical feature likewise;
* features: 1, 10 and 50 numeric features at 200k rows, each its own column.

The whole run takes well under two minutes. These print figures; they are not tests.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mlspec.monitor import drift
from mlspec.monitor import profile as prof

REFERENCE_ROWS = 100_000
CITIES = [f"city-{i:02d}" for i in range(40)]


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def numeric_column(rng: np.random.Generator, rows: int) -> pd.Series:
    values = rng.normal(0.05, 1.0, rows)
    values[rng.random(rows) < 0.01] = np.nan  # a few missing values, as real columns have
    return pd.Series(values)


def categorical_column(rng: np.random.Generator, rows: int) -> pd.Series:
    """Strings, as read from CSV (a ``category`` dtype, as from parquet, counts ten times faster)."""
    return pd.Series(rng.choice(CITIES, rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-rows", type=int, default=5_000_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)

    reference = pd.DataFrame({"x": rng.normal(size=REFERENCE_ROWS), "city": rng.choice(CITIES, REFERENCE_ROWS)})
    kinds = [("x", "numeric"), ("city", "categorical")]
    took = best_of(3, lambda: prof.build(reference, kinds, None, "binary", "reference"))
    profile = prof.build(reference, kinds, None, "binary", "reference")["features"]
    print(f"reference profile of {REFERENCE_ROWS:,} rows x 2 features (train stage): {took * 1000:.0f} ms, "
          f"{len(prof.dumps({'features': profile})) / 1024:.0f} KiB")

    print("\ngrowth with rows, one feature:")
    print(f"  {'kind':<12}{'method':<7}{'rows':>11}{'seconds':>10}{'s / 1M rows / feature':>24}")
    for kind, method, column, name in (("numeric", "ks", numeric_column, "x"), ("numeric", "psi", numeric_column, "x"),
                                       ("categorical", "chi2", categorical_column, "city")):
        for rows in (100_000, 1_000_000, 5_000_000):
            if rows > args.max_rows:
                continue
            current = column(rng, rows)
            threshold = 0.2 if method == "psi" else 0.01
            seconds = best_of(3, lambda c=current, m=method, n=name, t=threshold: drift.compare(  # type: ignore[misc]
                n, profile[n], c, m, t))
            print(f"  {kind:<12}{method:<7}{rows:>11,}{seconds:>10.3f}{seconds / rows * 1e6:>24.3f}")

    print("\ngrowth with features, 200,000 rows each (KS):")
    print(f"  {'features':>8}{'seconds':>10}{'s / 1M rows / feature':>24}")
    rows = 200_000
    columns = [numeric_column(rng, rows) for _ in range(50)]
    for count in (1, 10, 50):
        seconds = best_of(3, lambda k=count: [drift.compare("x", profile["x"], c, "ks", 0.01)  # type: ignore[misc]
                                              for c in columns[:k]])
        print(f"  {count:>8}{seconds:>10.3f}{seconds / rows / count * 1e6:>24.3f}")


if __name__ == "__main__":
    main()
