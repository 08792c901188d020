"""A search on a real Dask cluster (two worker processes on loopback) finds what the same search finds here."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlspec.runtime.context import RunOptions
from tests.runtime.search.kit import found, project, stage_dir, statuses, train

REPO = Path(__file__).resolve().parents[3]
SEARCH = "space: {C: [0.01, 0.1, 1.0, 10.0]}\ncv: 3"


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    from distributed import LocalCluster

    # The workers import the fold task from mlspec, as a cluster's workers would from an installed package.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def test_a_search_on_a_local_cluster_matches_the_same_search_in_process(tmp_path: Path, scheduler: str) -> None:
    here, there = project(tmp_path / "here", SEARCH), project(tmp_path / "there", SEARCH)
    assert train(here)[0].ok
    report, _, lines = train(there, options=RunOptions(dask_scheduler=scheduler))
    assert report.ok, lines
    assert any(f"on the Dask cluster at {scheduler}" in line for line in lines)
    assert statuses(there) == {0: "ran", 1: "ran", 2: "ran", 3: "ran"}
    assert found(there) == found(here)  # the same trials, fold scores and best trial
    assert (stage_dir(there) / "model.skops").read_bytes() == (stage_dir(here) / "model.skops").read_bytes()
