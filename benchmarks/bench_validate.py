"""Cold `mlspec validate` and `mlspec compile` wall time, against the floor of importing their two parsers or
against another revision.

    python benchmarks/bench_validate.py [--runs N] [--against REV]

Goal (issue: the spec): `validate` within 1.5x of `python -c "import pydantic, yaml"`. Each run is a fresh
interpreter (cold imports, warm OS cache); the median of N runs is reported, then the ratio. `compile` writes
each example's CI files into a fresh copy of the example (made outside the timed part).

With ``--against REV`` (a refactor must not make either command slower), REV is checked out into a temporary git
worktree, removed afterwards, and each command is timed in both trees in the same run, interleaved (the order
alternates from one run to the next) so that a busy machine slows both alike. Each tree runs its own code on its
own copy of the examples; the ratio is this tree's time over REV's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Every tree gets its .pyc files on the warm-up runs, whatever the caller's environment says: a tree that compiles
# its sources on every run (a fresh worktree, with PYTHONDONTWRITEBYTECODE set) would look slower than it is.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

Command = Callable[[Path, Path], list[str]]
"""The command line to time, given the tree to run it in (whose mlspec is the one imported) and a fresh scratch
directory of this run, which it may fill first: it is called before the clock starts."""


def _time_once(tree: Path, command: Command) -> float:
    with tempfile.TemporaryDirectory(prefix="mlspec-bench.") as scratch:
        cmd = command(tree, Path(scratch))
        env = {**ENV, "PYTHONPATH": str(tree)}
        start = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start


def _median_seconds(tree: Path, command: Command, runs: int) -> float:
    return statistics.median(_time_once(tree, command) for _ in range(runs))


def _interleaved(trees: tuple[Path, Path], command: Command, runs: int) -> tuple[float, float]:
    """Median seconds in each tree, the two timed in turn, the first one first on every other run."""
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(runs):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for which in order:
            times[which].append(_time_once(trees[which], command))
    return statistics.median(times[0]), statistics.median(times[1])


def _python(*args: str) -> Command:
    return lambda tree, scratch: [sys.executable, *args]


def _validate(example: str) -> Command:
    return _python("-m", "mlspec", "validate", "-q", "-f", f"examples/{example}/mlspec.yaml")


def _validate_summary(example: str) -> Command:
    # Without -q: the summary lists the stages, so this also times building the stage graph.
    return _python("-m", "mlspec", "validate", "-f", f"examples/{example}/mlspec.yaml")


def _compile(example: str) -> Command:
    def command(tree: Path, scratch: Path) -> list[str]:
        # compile writes into the repository that holds the spec: here a fresh copy of the example.
        repo = scratch / example
        shutil.copytree(tree / "examples" / example, repo)
        return [sys.executable, "-m", "mlspec", "compile", "-f", str(repo / "mlspec.yaml"), "--out", str(repo)]

    return command


def commands(tree: Path) -> list[tuple[str, Command]]:
    examples = sorted(p.parent.name for p in (tree / "examples").glob("*/mlspec.yaml"))
    verbs = (("validate -q", _validate), ("validate", _validate_summary), ("compile", _compile))
    return [(f"mlspec {verb} {name}", make(name)) for verb, make in verbs for name in examples]


@contextmanager
def worktree(rev: str) -> Iterator[Path]:
    """REV checked out (detached) in a temporary git worktree, removed on the way out."""
    scratch = Path(tempfile.mkdtemp(prefix="mlspec-bench-rev."))
    path = scratch / "tree"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(path), rev], check=True)
    try:
        yield path
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)], check=False)
        shutil.rmtree(scratch, ignore_errors=True)
        subprocess.run(["git", "-C", str(REPO), "worktree", "prune"], check=False)


def _floors(runs: int) -> tuple[float, float]:
    baseline = _python("-c", "import pydantic, yaml")
    _median_seconds(REPO, baseline, 2)  # warm the OS file cache and .pyc files
    seconds = _median_seconds(REPO, baseline, runs)
    # Touch the model classes too: `import pydantic` alone is lazy and loads almost nothing.
    floor = _median_seconds(REPO, _python("-c", "import pydantic, yaml; pydantic.BaseModel"), runs)
    label = 'python -c "import pydantic, yaml"'
    print(f"{label:<48} {seconds * 1000:8.1f} ms")
    print(f"{'  ... and touch pydantic.BaseModel':<48} {floor * 1000:8.1f} ms")
    return seconds, floor


def against_floor(runs: int) -> None:
    baseline, floor = _floors(runs)
    for name, command in commands(REPO):
        _median_seconds(REPO, command, 2)
        t = _median_seconds(REPO, command, runs)
        goal = " (goal <= 1.5x)" if name.startswith("mlspec validate ") else "               "
        print(f"{name:<48} {t * 1000:8.1f} ms   ratio {t / baseline:5.2f}x{goal}"
              f"   vs BaseModel floor {t / floor:5.2f}x")


def against_rev(rev: str, runs: int) -> None:
    with worktree(rev) as before:
        label = subprocess.run(["git", "-C", str(before), "rev-parse", "--short", "HEAD"], check=True,
                               capture_output=True, text=True).stdout.strip()
        print(f"{'command':<36} {'before (' + label + ')':>16} {'after (this tree)':>18} {'ratio':>7}")
        for name, command in commands(REPO):
            for tree in (before, REPO):
                _median_seconds(tree, command, 2)  # warm the OS file cache and each tree's .pyc files
            old, new = _interleaved((before, REPO), command, runs)
            print(f"{name:<36} {old * 1000:13.1f} ms {new * 1000:15.1f} ms {new / old:6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command and tree (default: 15)")
    parser.add_argument("--against", metavar="REV", help="time REV's tree too, interleaved, and print the ratio")
    args = parser.parse_args()
    if args.against:
        against_rev(args.against, args.runs)
    else:
        against_floor(args.runs)


if __name__ == "__main__":
    main()
