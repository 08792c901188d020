"""The run history's costs: recording one run, and listing a history of 1,000 runs.

    python benchmarks/bench_runs.py [--repeat N] [--runs N]

The breast-cancer example, run once for real (its workspace holds every stage's outputs). Then, in process:

* **record**: what :func:`mlspec.runtime.runner.run` adds at its end: build the record from the outcomes and
  the outputs (:func:`mlspec.runs.build.build`: the stage outputs' JSON, git for commit, branch, dirty and user)
  and keep it (:func:`mlspec.runs.keep`: one SQLite transaction, and the local tracking backend); median of N;
* **record + mirror**: the same with a directory store, so each part is also created in ``history/``;
* **list**: a history of 1,000 runs (two parts each, as a CI pipeline writes them), then `mlspec runs` as a
  whole process (interpreter start and imports included), and the in-process query alone. Medians of N.

Goal: recording under 50 ms per run. These print figures; they are not tests.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mlspec.load import load  # noqa: E402
from mlspec.runs import keep  # noqa: E402
from mlspec.runs.build import build  # noqa: E402
from mlspec.runs.history import History  # noqa: E402
from mlspec.runs.query import find  # noqa: E402
from mlspec.runs.record import StageRun  # noqa: E402
from mlspec.runtime import runner  # noqa: E402
from mlspec.runtime.cilog import Log  # noqa: E402
from mlspec.runtime.workspace import Workspace  # noqa: E402
from mlspec.store import Store, StoreConfig  # noqa: E402
from mlspec.store.url import parse  # noqa: E402

WORK = REPO / "build" / "bench-runs"


def median_ms(times: list[float]) -> str:
    return f"{statistics.median(times) * 1000:.1f} ms (min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f})"


def project() -> Path:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    root = WORK / "project"
    subprocess.run([sys.executable, "-m", "mlspec", "init", str(root), "--example", "breast-cancer"], check=True,
                   capture_output=True)
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=b", "-c", "user.email=b@example.com", "commit",
                                                "-qm", "bench"]):
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
    report = runner.run(load(root / "mlspec.yaml"), log=Log(io.StringIO(), io.StringIO(), {}), store=None)
    assert report.ok
    return root / "mlspec.yaml"


def record_once(spec: Path, store: Store | None) -> float:
    loaded = load(spec)
    workspace = Workspace.for_spec(spec)
    stages = [StageRun(s.id, "up to date") for s in runner.build(loaded.spec) if s.kind != "monitor"]
    current = {s.id for s in stages}
    log = Log(io.StringIO(), io.StringIO(), {})
    start = time.perf_counter()
    now = time.time()
    record = build(loaded, workspace, stages, current, started=now, finished=now)
    keep(loaded, record, store, log)
    return time.perf_counter() - start


def fill(db: Path, runs: int) -> None:
    spec = WORK / "project" / "mlspec.yaml"
    history = History.of(Workspace.for_spec(spec))
    (template,) = history.runs([history.run_ids()[0]])
    history = History(db)
    parts = []
    for n in range(runs):
        stamp = f"2026-11-{1 + n // 100:02d}T{n % 24:02d}:{n % 60:02d}:00+00:00"
        run_id = f"gitlab-{100000 + n}"
        for part in ("train", "evaluate"):
            auc = 0.9 + (n % 97) / 1000
            metrics = {m: {**v, "roc_auc": auc} for m, v in template.metrics.items()}
            branch = "main" if n % 3 else f"feature-{n % 7}"
            parts.append((replace(template, run_id=run_id, part=part, started=stamp, finished=stamp, branch=branch,
                                  metrics=metrics), f"k/{run_id}/{part}"))
    history.add_many(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    os.environ.pop("MLSPEC_STORE", None)
    os.environ.pop("MLSPEC_CACHE_DIR", None)
    spec = project()
    print(f"record one run (build + keep locally), median of {args.repeat}: "
          f"{median_ms([record_once(spec, None) for _ in range(args.repeat)])}")
    store = Store(StoreConfig(parse(str(WORK / "store"))))
    print(f"record one run + mirror to a directory store, median of {args.repeat}: "
          f"{median_ms([record_once(spec, store) for _ in range(args.repeat)])}")

    db = WORK / "list" / "runs.db"
    db.parent.mkdir()
    start = time.perf_counter()
    fill(db, args.runs)
    print(f"history of {args.runs} runs ({2 * args.runs} parts) written in {time.perf_counter() - start:.2f} s, "
          f"{db.stat().st_size / 1e6:.1f} MB")
    shutil.copy(spec, db.parent / "mlspec.yaml")
    env = {**os.environ, "MLSPEC_CACHE_DIR": str(db.parent), "PYTHONPATH": str(REPO)}
    whole = []
    for _ in range(max(5, args.repeat // 5)):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mlspec", "runs", "--local", "-f", str(db.parent / "mlspec.yaml")],
                       env=env, check=True, capture_output=True)
        whole.append(time.perf_counter() - start)
    print(f"`mlspec runs` (20 newest) over {args.runs} runs, whole process: {median_ms(whole)}")
    history = History(db)
    from mlspec.runs.query import Filters, parse_where

    for label, filters in (("20 newest", Filters()), ("--branch feature-3", Filters(branch="feature-3")),
                           ("--where 'roc_auc>=0.99'", Filters(where=(parse_where("roc_auc>=0.99"),)))):
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            find(history, filters, 20)
            times.append(time.perf_counter() - start)
        print(f"query {label} over {args.runs} runs, in process: {median_ms(times)}")


if __name__ == "__main__":
    main()
