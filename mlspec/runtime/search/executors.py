"""Where the folds of a batch of trials run: in-process, in ``parallel`` loky processes, or on a Dask cluster.

The unit of work is one fold of one trial, as in scikit-learn's ``GridSearchCV`` (which also hands joblib
trial×fold tasks), so ``parallel`` workers stay busy however many folds a trial has. With
``MLSPEC_DASK_SCHEDULER`` set (``tcp://host:8786``) the same tasks go to that Dask cluster, the training
table scattered to the workers once rather than pickled into every task. Every worker needs mlspec and the
estimator's library installed, as CI jobs do.

Why Dask rather than Ray: Dask's ``distributed`` is pure-Python wheels over the NumPy/pandas stack mlspec
already has, it is joblib's and scikit-learn's own route to a cluster, and a ``LocalCluster`` is just a
scheduler and a few worker processes, which tests start on loopback. Ray brings its own object store,
daemons and a large binary wheel per platform, for features (actors, autoscaling) a search does not need.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from mlspec.errors import MlspecError
from mlspec.runtime.context import DASK_VAR
from mlspec.runtime.search.cv import FoldScore, Scoring, score_fold

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

CONNECT_SECONDS = 5
"""How long to wait for the scheduler: an unreachable address should fail fast, not hang a CI job."""

Task = tuple[Any, "np.ndarray", "np.ndarray"]
"""An unfitted pipeline, the rows it is fitted on, the rows it is scored on."""


class ClusterError(MlspecError):
    """The Dask scheduler named by MLSPEC_DASK_SCHEDULER cannot be reached, or its workers failed."""


def stream(tasks: Sequence[Task], x: pd.DataFrame, y: pd.Series, how: Scoring, parallel: int,
           scheduler: str | None = None) -> Iterator[FoldScore]:
    """Each task's score, in the order of ``tasks``, as soon as it and those before it are done (so a
    trial's result can be cached while later ones still run)."""
    if not tasks:
        return iter(())
    if scheduler:
        return _dask(tasks, x, y, how, scheduler)
    if parallel <= 1 or len(tasks) == 1:
        return (score_fold(p, x, y, train, test, how) for p, train, test in tasks)
    from joblib import Parallel, delayed

    out: Iterator[FoldScore] = Parallel(n_jobs=min(parallel, len(tasks)), backend="loky", return_as="generator")(
        delayed(score_fold)(p, x, y, train, test, how) for p, train, test in tasks)
    return out


def connect(address: str) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address``; :class:`ClusterError` if it does not answer."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError(f"{DASK_VAR} is set ({address}), but Dask's distributed package is not installed; "
                           "`pip install 'mlspec-ci[cluster]'`, or unset it to run trials here") from None
    try:
        return Client(address, timeout=f"{CONNECT_SECONDS}s", set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address} (set by {DASK_VAR}) within "
                           f"{CONNECT_SECONDS} s: {exc}; start the scheduler, fix the address, or unset "
                           f"{DASK_VAR} to run the trials here") from None


def _dask(tasks: Sequence[Task], x: pd.DataFrame, y: pd.Series, how: Scoring, address: str
          ) -> Iterator[FoldScore]:
    client = connect(address)  # before the first result is asked for: an unreachable cluster fails at once
    return _dask_results(client, tasks, x, y, how, address)


def _dask_results(client: Any, tasks: Sequence[Task], x: pd.DataFrame, y: pd.Series, how: Scoring,
                  address: str) -> Iterator[FoldScore]:
    try:
        shared_x, shared_y = client.scatter([x, y], broadcast=True)
        futures = [client.submit(score_fold, p, shared_x, shared_y, train, test, how, pure=False)
                   for p, train, test in tasks]
        for future in futures:
            try:
                result: FoldScore = future.result()
            except Exception as exc:  # a worker died or could not import the task: not one trial's failure
                raise ClusterError(f"the Dask cluster at {address} ({DASK_VAR}) failed to run a trial: "
                                   f"{type(exc).__name__}: {exc}") from None
            yield result
    finally:
        client.close()
