"""Cold `mlspec validate` wall time against the floor of importing its two parsers.

    python benchmarks/bench_validate.py [--runs N]

Goal (issue: the spec): within 1.5x of `python -c "import pydantic, yaml"`. Each run is a fresh interpreter
(cold imports, warm OS cache); the median of N runs is reported for both, then the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _median_seconds(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    py = sys.executable
    baseline_cmd = [py, "-c", "import pydantic, yaml"]
    _median_seconds(baseline_cmd, 2)  # warm the OS file cache and .pyc files
    baseline = _median_seconds(baseline_cmd, args.runs)
    # Touch the model classes too: `import pydantic` alone is lazy and loads almost nothing.
    floor = _median_seconds([py, "-c", "import pydantic, yaml; pydantic.BaseModel"], args.runs)
    label = 'python -c "import pydantic, yaml"'
    print(f"{label:<48} {baseline * 1000:8.1f} ms")
    print(f"{'  ... and touch pydantic.BaseModel':<48} {floor * 1000:8.1f} ms")
    for example in sorted((REPO / "examples").glob("*/mlspec.yaml")):
        cmd = [py, "-m", "mlspec", "validate", "-q", "-f", str(example)]
        _median_seconds(cmd, 2)
        t = _median_seconds(cmd, args.runs)
        name = f"mlspec validate {example.parent.name}"
        print(f"{name:<48} {t * 1000:8.1f} ms   ratio {t / baseline:5.2f}x (goal <= 1.5x)"
              f"   vs BaseModel floor {t / floor:5.2f}x")


if __name__ == "__main__":
    main()
