"""A search's cost: mlspec's 48-trial grid with 5-fold CV against scikit-learn's GridSearchCV, and on Dask.

    python benchmarks/bench_search.py [--repeats N] [--jobs N]

The same estimator (a random forest in the Pipeline the train stage builds: imputer, scaler, estimator), the
same training rows (the breast-cancer example's), the same five stratified folds and the same ``n_jobs``:

* mlspec: the search the train stage runs (:func:`mlspec.runtime.search.driver.search`, in-process, loky
  workers, trial results written to a fresh trial cache each time, as a first run writes them);
* GridSearchCV: ``GridSearchCV(pipeline, grid, cv=folds, scoring="roc_auc", n_jobs=N, refit=False)``;
* Dask: mlspec's search on a ``LocalCluster`` of N worker processes on loopback (``MLSPEC_DASK_SCHEDULER``).

Each figure is the median of ``--repeats`` runs (default 3), mlspec's and GridSearchCV's interleaved so a change
in the machine's load hits both alike; the same comparison in one process is also given in CPU seconds, which
other processes on the machine do not disturb. The best trial and its CV score are checked to agree. The whole
run takes a few minutes on two idle cores. These print figures; they are not tests.
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mlspec.load import load
from mlspec.runtime.search.cache import TrialCache
from mlspec.runtime.search.driver import Problem, best, search
from mlspec.runtime.search.space import plan

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "breast-cancer"
GRID = {"max_depth": [2, 4, 6, 8], "min_samples_leaf": [1, 2, 4, 8], "max_features": ["sqrt", 0.5, 1.0]}
SPEC = """\
version: 1
project: bench
task: binary
data:
  target: malignant
  positive_class: 1
  sources:
    train: {{path: data/train.csv}}
    holdout: {{path: data/holdout.csv}}
training:
  seed: 3
  models:
    forest:
      estimator: sklearn.ensemble.RandomForestClassifier
      params: {{n_estimators: 30}}
      data: train
      preprocessing: {{numeric: {{impute: median, scale: standard}}}}
      search:
        space: {grid}
        cv: 5
        parallel: {jobs}
evaluation:
  data: holdout
  metrics: [roc_auc]
"""


def median_of(repeats: int, work: Callable[[], Any], clock: Callable[[], float] = time.perf_counter
              ) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        start = clock()
        result = work()
        times.append(clock() - start)
    return statistics.median(times), result


def problem(root: Path, jobs: int) -> Problem:
    """The search problem the train stage builds (data stage run first, as `mlspec trials` does)."""
    from mlspec.runtime import runner
    from mlspec.runtime.cilog import Log
    from mlspec.runtime.context import RunOptions
    from mlspec.runtime.search import stage as search_stage
    from mlspec.runtime.stages import build, context, train
    from mlspec.runtime.workspace import Workspace

    shutil.copytree(EXAMPLE / "data", root / "data")
    (root / "mlspec.yaml").write_text(SPEC.format(grid=GRID, jobs=jobs), encoding="utf-8")
    loaded = load(root / "mlspec.yaml")
    quiet = Log(out=io.StringIO(), err=sys.stderr, environ={})
    assert runner.run(loaded, ["data:train"], log=quiet, store=None).ok
    stage = next(s for s in build(loaded.spec) if s.id == "train:forest")
    workspace = Workspace.for_spec(loaded.path)
    ctx = context(loaded, stage, root, {n: workspace.stage_dir(n) for n in stage.needs}, lambda _: None,
                  RunOptions(), workspace.root, None)
    return search_stage.problem(ctx, train.setup(ctx))


def run_mlspec(p: Problem, cache_dir: Path, scheduler: str | None = None) -> Any:
    shutil.rmtree(cache_dir, ignore_errors=True)  # a first run: every trial is fitted
    fresh = replace(p, cache=TrialCache(cache_dir, "forest"), scheduler=scheduler)
    chosen = best(search(fresh), fresh.greater_is_better)
    assert chosen is not None
    return chosen.params, chosen.mean


def run_sklearn(p: Problem, jobs: int) -> Any:
    from sklearn.model_selection import GridSearchCV

    from mlspec.runtime.search.cv import folds

    grid = {f"estimator__{k}": v for k, v in GRID.items()}
    gs = GridSearchCV(p.pipeline_for({}), grid, cv=folds(p.y, 5, p.seed, "binary"), scoring="roc_auc", n_jobs=jobs,
                      refit=False)
    y = (p.y == 1).astype(int)  # roc_auc's scorer takes the positive class as the larger label
    gs.fit(p.x, y)
    i = int(gs.best_index_)
    return {k.removeprefix("estimator__"): v for k, v in gs.cv_results_["params"][i].items()}, \
        float(gs.cv_results_["mean_test_score"][i])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        p = problem(Path(tmp) / "project", args.jobs)
        trials = len(plan(p.search, p.seed))
        print(f"{trials} trials x 5 folds of RandomForestClassifier(n_estimators=30) on {len(p.x)} rows, "
              f"n_jobs={args.jobs}, median of {args.repeats}")
        # One process, CPU seconds: the per-trial cost of each, whatever else the machine is running.
        one = replace(p, search=p.search.model_copy(update={"parallel": 1}))
        cpu_ours, _ = median_of(args.repeats, lambda: run_mlspec(one, Path(tmp) / "cache"), time.process_time)
        cpu_theirs, _ = median_of(args.repeats, lambda: run_sklearn(one, 1), time.process_time)
        print(f"  in one process (CPU s): mlspec {cpu_ours:.2f}, GridSearchCV {cpu_theirs:.2f}, "
              f"ratio {cpu_ours / cpu_theirs:.2f}x")
        run_sklearn(replace(p, x=p.x.iloc[:60], y=p.y.iloc[:60]), args.jobs)  # loky's workers started for both
        ours_times, theirs_times, found, expected = [], [], None, None
        for _ in range(args.repeats):  # interleaved: a change in the machine's load hits both alike
            seconds, found = median_of(1, lambda: run_mlspec(p, Path(tmp) / "cache"))
            ours_times.append(seconds)
            seconds, expected = median_of(1, lambda: run_sklearn(p, args.jobs))
            theirs_times.append(seconds)
        ours, theirs = statistics.median(ours_times), statistics.median(theirs_times)
        print(f"  n_jobs={args.jobs}, wall clock: mlspec (loky) {ours:.2f} s, GridSearchCV {theirs:.2f} s, "
              f"ratio {ours / theirs:.2f}x (goal: at most 1.1x)")
        assert found[0] == expected[0] and abs(found[1] - expected[1]) < 1e-9, (found, expected)
        print(f"  same best trial {found[0]}, cv roc_auc {found[1]:.6f}")
        from distributed import LocalCluster

        with LocalCluster(n_workers=args.jobs, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster:
            dask, on_dask = median_of(args.repeats, lambda: run_mlspec(p, Path(tmp) / "cache",
                                                                       cluster.scheduler_address))
        assert on_dask == found, (on_dask, found)
        print(f"  mlspec on Dask ({args.jobs} workers): {dask:7.2f} s, {dask / theirs:.2f}x GridSearchCV, "
              "same best trial")


if __name__ == "__main__":
    main()
