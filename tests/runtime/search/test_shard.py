"""`mlspec trials --shard I/N` as a CI matrix job runs it, and the train job that follows; a killed search."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.runtime.search.kit import cached_files, edit, project, statuses

REPO = Path(__file__).resolve().parents[3]


def mlspec(spec: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mlspec", *args, "-f", str(spec)], capture_output=True, text=True,
                          cwd=spec.parent, env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})}, timeout=300)


def test_each_shard_runs_its_share_and_the_train_job_runs_no_trial(tmp_path: Path) -> None:
    spec = project(tmp_path, "space: {C: [0.01, 0.1, 1.0, 10.0, 100.0]}\ncv: 2\nshards: 2")
    first = mlspec(spec, "trials", "train:m", "--shard", "1/2")
    assert first.returncode == 0, first.stderr
    assert "shard 1/2: 3 trials, 3 ran, 0 from the cache, 0 failed" in first.stdout
    assert len(cached_files(spec)) == 3  # trials 0, 2, 4
    shown = [line.split(":")[0].strip() for line in first.stdout.splitlines() if line.startswith("  trial ")]
    assert shown == ["trial 0 {'C'", "trial 2 {'C'", "trial 4 {'C'"]
    assert "  trial 4 {'C': 100.0}: cv roc_auc " in first.stdout
    lock = (spec.parent / "mlspec.lock").read_text(encoding="utf-8")
    assert "train:m" not in lock and "data:train" in lock
    again = mlspec(spec, "trials", "train:m", "--shard", "1/2")
    assert "3 trials, 0 ran, 3 from the cache" in again.stdout
    second = mlspec(spec, "trials", "train:m", "--shard", "2/2")
    assert "shard 2/2: 2 trials, 2 ran" in second.stdout, second.stderr
    trained = mlspec(spec, "run", "train:m")
    assert trained.returncode == 0, trained.stderr
    assert "5 trials: 0 ran, 5 from the cache, 0 failed" in trained.stdout
    assert set(statuses(spec).values()) == {"cached"}


def test_bad_shard_requests_are_named_errors_without_a_traceback(tmp_path: Path) -> None:
    spec = project(tmp_path, "space: {C: [0.1, 1.0]}\ncv: 2")
    for args, message in [
        (("train:m", "--shard", "3/2"), "error: --shard '3/2': I must be between 1 and N (2)"),
        (("train:m", "--shard", "two"), "error: --shard 'two': write I/N, e.g. --shard 1/4 for the first of four"),
        (("train:n",), "error: 'train:n' is not a train stage; did you mean 'train:m'?"),
    ]:
        result = mlspec(spec, "trials", *args)
        assert result.returncode == 1 and result.stderr.startswith(message), result.stderr
        assert "Traceback" not in result.stderr


def test_an_unreachable_scheduler_is_a_named_error(tmp_path: Path) -> None:
    from tests.servers import free_port

    spec = project(tmp_path, "space: {C: [0.1, 1.0]}\ncv: 2")
    address = f"tcp://127.0.0.1:{free_port()}"
    result = mlspec(spec, "run", "train:m", env={"MLSPEC_DASK_SCHEDULER": address})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert (f"stage train:m: cannot reach the Dask scheduler at {address} (set by MLSPEC_DASK_SCHEDULER) within "
            "5 s") in result.stderr, result.stderr
    assert not cached_files(spec)


def test_a_killed_search_reruns_only_the_trials_it_had_not_finished(tmp_path: Path) -> None:
    # A forest of many trees: each trial takes long enough to kill the run between two of them.
    spec = project(tmp_path, "space: {max_depth: [2, 3, 4, 5, 6, 7]}\ncv: 2",
                   params="{n_estimators: 150}", estimator="sklearn.ensemble.RandomForestClassifier")
    proc = subprocess.Popen([sys.executable, "-m", "mlspec", "run", "train:m", "-f", str(spec)], cwd=spec.parent,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not cached_files(spec) and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    done = len(cached_files(spec))
    assert 1 <= done < 6, "the run was not killed mid-search"
    assert not (spec.parent / ".mlspec" / "stages" / "train" / "m").exists()
    rerun = mlspec(spec, "run", "train:m")
    assert rerun.returncode == 0, rerun.stderr
    assert f"6 trials: {6 - done} ran, {done} from the cache, 0 failed" in rerun.stdout
    edit(spec, "max_depth: [2, 3, 4, 5, 6, 7]", "max_depth: [2, 3, 4, 5, 6, 7, 8]")
    assert "7 trials: 1 ran, 6 from the cache" in mlspec(spec, "run", "train:m").stdout
