"""`mlspec run` figures: the no-op re-run, and file hashing throughput.

    python benchmarks/bench_run.py [--runs N] [--example NAME] [--size-mb MB]

(a) No-op re-run: after one full run of an example, the median wall time of `mlspec run` (a fresh
    interpreter each time, as CI runs it) against `python -c pass`. Goal: under 0.5 s absolute. Then the
    same against `dvc repro` on an equivalent dvc.yaml (same stages, dependencies, spec keys as params,
    outputs), when dvc is importable here or a `dvc` command is on PATH; otherwise a note says so.
(c) Hashing: mlspec's streaming file digest against `sha256sum` on one file of --size-mb (default 1024),
    warm OS cache, best of three each. Goal: at least 0.8x sha256sum's throughput. Also the cost of a stat
    cache hit on the same file, which is what a no-op run pays.
(b), a full run against a hand-written script, is benchmarks/ of the ML stages.

These print figures; they are not tests.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mlspec.load import load  # noqa: E402
from mlspec.runtime import stages as kinds  # noqa: E402
from mlspec.runtime.hashing import StatCache, file_digest  # noqa: E402
from mlspec.runtime.stages import build  # noqa: E402
from mlspec.runtime.workspace import Workspace  # noqa: E402

CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("MLSPEC_CACHE_DIR", "GITHUB_ACTIONS", "GITLAB_CI")}


def median_seconds(cmd: list[str], runs: int, cwd: Path | None = None) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=CLEAN_ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def mlspec(*args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "mlspec", *args], cwd=cwd, env=CLEAN_ENV, check=True,
                   stdout=subprocess.DEVNULL)


def dvc_command() -> list[str] | None:
    if importlib.util.find_spec("dvc") is not None:
        return [sys.executable, "-m", "dvc"]
    found = shutil.which("dvc")
    return [found] if found else None


def dvc_yaml(project: Path) -> dict[str, Any]:
    """The pipeline of ``project``'s mlspec.yaml as dvc stages, each running one mlspec stage."""
    loaded = load(project / "mlspec.yaml")
    workspace = Workspace.for_spec(Path("mlspec.yaml"), {})
    document = yaml.safe_load((project / "mlspec.yaml").read_text())
    stages: dict[str, Any] = {}
    for stage in build(loaded.spec):
        if stage.kind not in kinds.RUNNABLE:
            continue
        params = [key for key in kinds.spec_sections(loaded.spec, stage) if _has_key(document, key)]
        stages[stage.id.replace(":", "_")] = {
            "cmd": f"{sys.executable} -m mlspec run {stage.id} --force",
            "deps": [*kinds.input_files(loaded.spec, stage), *(str(workspace.stage_dir(n)) for n in stage.needs)],
            "params": [{"mlspec.yaml": params}] if params else [],
            "outs": [str(workspace.stage_dir(stage.id))],
        }
    return {"stages": stages}


def _has_key(document: Any, dotted: str) -> bool:
    for part in dotted.split("."):
        if not isinstance(document, dict) or part not in document:
            return False
        document = document[part]
    return True


def bench_noop(example: str, runs: int) -> None:
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "mlspec-project"
        mlspec("init", str(project), "--example", example, cwd=Path(tmp))
        start = time.perf_counter()
        mlspec("run", cwd=project)
        full = time.perf_counter() - start
        median_seconds([py, "-m", "mlspec", "run"], 2, project)  # warm .pyc files and the stat cache
        noop = median_seconds([py, "-m", "mlspec", "run"], runs, project)
        median_seconds([py, "-c", "pass"], 2)
        floor = median_seconds([py, "-c", "pass"], runs)
        print(f"(a) no-op re-run of {example} (median of {runs}; the full run took {full:.1f} s)")
        print(f"    python -c pass                         {floor * 1000:8.1f} ms")
        print(f"    mlspec run (every stage up to date)    {noop * 1000:8.1f} ms   "
              f"{noop / floor:5.1f}x python -c pass; goal < 500 ms: {'met' if noop < 0.5 else 'MISSED'}")

        dvc = dvc_command()
        if dvc is None:
            print("    dvc repro: skipped, dvc is not installed (pip install dvc, or put `dvc` on PATH)")
            return
        other = Path(tmp) / "dvc-project"
        mlspec("init", str(other), "--example", example, cwd=Path(tmp))
        (other / "dvc.yaml").write_text(yaml.safe_dump(dvc_yaml(other), sort_keys=False))
        subprocess.run([*dvc, "init", "--no-scm", "-q"], cwd=other, check=True)
        subprocess.run([*dvc, "repro", "-q"], cwd=other, env=CLEAN_ENV, check=True, stdout=subprocess.DEVNULL)
        median_seconds([*dvc, "repro"], 1, other)
        dvc_noop = median_seconds([*dvc, "repro"], max(3, runs // 3), other)
        version = subprocess.run([*dvc, "--version"], capture_output=True, text=True).stdout.strip()
        print(f"    dvc repro (dvc {version}, same stages)  {dvc_noop * 1000:8.1f} ms   "
              f"mlspec is {dvc_noop / noop:4.1f}x faster")


def best_of(times: int, func: Any) -> float:
    best = float("inf")
    for _ in range(times):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def bench_hashing(size_mb: int) -> None:
    sha256sum = shutil.which("sha256sum")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.bin"
        with path.open("wb") as fh:
            for _ in range(size_mb):
                fh.write(os.urandom(1 << 20))
        hour_ago = time.time() - 3600
        os.utime(path, (hour_ago, hour_ago))  # past the racy window, like data files on a no-op run
        file_digest(path)  # warm the OS cache
        mb = size_mb
        ours = best_of(3, lambda: file_digest(path))
        print(f"(c) hashing a {mb} MiB file (warm OS cache, best of 3)")
        print(f"    mlspec file_digest                      {ours:6.2f} s  {mb / ours:8.0f} MiB/s")
        if sha256sum:
            theirs = best_of(3, lambda: subprocess.run([sha256sum, str(path)], check=True, stdout=subprocess.DEVNULL))
            print(f"    sha256sum                               {theirs:6.2f} s  {mb / theirs:8.0f} MiB/s   "
                  f"mlspec throughput {theirs / ours:4.2f}x sha256sum; goal >= 0.8x: "
                  f"{'met' if theirs / ours >= 0.8 else 'MISSED'}")
        else:
            print("    sha256sum: not found, no comparison")
        cache_file = Path(tmp) / "stat-cache.json"
        first = StatCache(cache_file)
        first.digest(path)
        first.save()
        hit = best_of(5, lambda: StatCache(cache_file).digest(path))
        print(f"    stat cache hit (load cache, stat, look up) {hit * 1e6:6.0f} us   "
              f"{ours / hit:8.0f}x cheaper than hashing")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--example", default="breast-cancer")
    parser.add_argument("--size-mb", type=int, default=1024)
    args = parser.parse_args()
    bench_noop(args.example, args.runs)
    bench_hashing(args.size_mb)


if __name__ == "__main__":
    main()
