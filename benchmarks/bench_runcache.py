"""A CI-style job with a run-cache hit vs the same job recomputing its stage.

    python benchmarks/bench_runcache.py [--repeat N]

The breast-cancer example with a store on a moto S3 server on 127.0.0.1. One job (a fresh copy of the project,
empty workspace) runs ``mlspec run train:forest`` with the store and pushes what it made. Then, alternately, N
times each:

* **hit**: a fresh copy runs the same command; every stage's fingerprint is in the store, so its outputs are
  fetched (and verified) instead of computed;
* **recompute**: a fresh copy runs the same command with ``MLSPEC_STORE`` pointing at an empty bucket, so
  every stage runs (and is pushed);
* **no store**: the same without any store, as before stores existed.

Both are whole ``mlspec`` processes, as a CI job runs them (interpreter start and imports included). Medians are
printed. These print figures; they are not tests.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.servers import free_port, serve  # noqa: E402

WORK = REPO / "build" / "bench-runcache"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
STAGE = "train:forest"


def bucket(endpoint: str) -> str:
    import boto3

    name = "b" + secrets.token_hex(6)
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket=name)
    return f"s3://{name}/mlspec"


def job(template: Path, name: str, store: str, endpoint: str) -> float:
    """One job in a fresh copy of the project: seconds of ``mlspec run train:forest``."""
    here = WORK / name
    shutil.rmtree(here, ignore_errors=True)
    shutil.copytree(template, here)
    env = {**os.environ, **CREDENTIALS, "MLSPEC_STORE_ENDPOINT_URL": endpoint, "MLSPEC_CACHE_DIR": ""}
    env["MLSPEC_STORE"] = store  # "": the example's spec has no store
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "mlspec", "run", STAGE, "-f", str(here / "mlspec.yaml")], env=env,
                          capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"mlspec run failed:\n{done.stdout}{done.stderr}")
    shutil.rmtree(here)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    template = WORK / "template"
    subprocess.run([sys.executable, "-m", "mlspec", "init", str(template), "--example", "breast-cancer"], check=True,
                   capture_output=True)
    port = free_port()
    server = Path(sys.executable).with_name("moto_server")
    with serve([str(server), "-H", "127.0.0.1", "-p", str(port)], port, WORK):
        endpoint = f"http://127.0.0.1:{port}"
        shared = bucket(endpoint)
        first = job(template, "first", shared, endpoint)  # computes, and pushes every stage it ran
        hits: list[float] = []
        recomputes: list[float] = []
        plain: list[float] = []
        for n in range(args.repeat):
            hits.append(job(template, f"hit-{n}", shared, endpoint))
            recomputes.append(job(template, f"recompute-{n}", bucket(endpoint), endpoint))
            plain.append(job(template, f"plain-{n}", "", endpoint))
    hit, recompute = statistics.median(hits), statistics.median(recomputes)
    print(f"CI-style job `mlspec run {STAGE}` (breast-cancer, store on a local S3 server), median of {args.repeat}:")
    print(f"  first job (computes, pushes)   {first:6.2f} s")
    print(f"  run-cache hit (fetches)        {hit:6.2f} s")
    print(f"  recompute (empty store)        {recompute:6.2f} s")
    print(f"  recompute (no store)           {statistics.median(plain):6.2f} s")
    print(f"  hit / recompute                {hit / recompute:6.2f}x")


if __name__ == "__main__":
    main()
