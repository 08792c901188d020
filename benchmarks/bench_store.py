"""The store's transfer figures: push and pull of one 1 GiB file and of 1,000 small files, mlspec vs DVC.

    python benchmarks/bench_store.py [--big-mib N] [--small N]

One moto S3 server on 127.0.0.1 serves both tools, each in a bucket of its own. mlspec is timed through the
Store API (``Store.put_many`` / ``Store.get_many``: what ``mlspec push`` / ``pull`` call), DVC by its commands
(``dvc push`` / ``dvc pull`` with an ``endpointurl`` remote), from a separate virtualenv under
build/bench-dvc that this script makes on first use (``pip install 'dvc[s3]'``): DVC is never a dependency of
mlspec. Hashing is not timed for either (the lock's digests and ``dvc add`` come first); pulls start with an
empty workspace and, for DVC, an empty cache. mlspec verifies every download's sha256 before renaming it into
place (included in its time); DVC trusts the remote's names by default.

These print figures; they are not tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mlspec.runtime.hashing import file_digest  # noqa: E402
from mlspec.store import Store  # noqa: E402
from mlspec.store.base import StoreConfig  # noqa: E402
from mlspec.store.url import parse  # noqa: E402
from tests.servers import free_port, serve  # noqa: E402

DVC_VENV = REPO / "build" / "bench-dvc"
WORK = REPO / "build" / "bench-store"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def dvc() -> Path:
    exe = DVC_VENV / "bin" / "dvc"
    if not exe.exists():
        print("installing dvc[s3] into build/bench-dvc (once) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(DVC_VENV)], check=True)
        subprocess.run([str(DVC_VENV / "bin" / "pip"), "install", "--quiet", "dvc[s3]"], check=True)
    return exe


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def make_data(big_mib: int, small: int) -> tuple[Path, list[Path]]:
    data = WORK / "data"
    shutil.rmtree(data, ignore_errors=True)
    (data / "small").mkdir(parents=True)
    big = data / "big.bin"
    with open(big, "wb") as out:
        for _ in range(big_mib):
            out.write(os.urandom(2**20))
    files = []
    for n in range(small):
        path = data / "small" / f"f{n:04d}.bin"
        path.write_bytes(os.urandom(1024 + (n * 37) % 8192))
        files.append(path)
    return big, files


def mlspec_figures(endpoint: str, bucket: str, big: Path, files: list[Path]) -> dict[str, float]:
    def store() -> Store:  # a fresh Store per step: no connection or listing reused from the step before
        return Store(StoreConfig(parse(f"s3://{bucket}/store"), endpoint, named_by="bench"))

    big_item = [(big, file_digest(big))]
    small_items = [(path, file_digest(path)) for path in files]
    out = WORK / "mlspec-out"
    shutil.rmtree(out, ignore_errors=True)
    return {
        "push 1 GiB": timed(lambda: store().put_many(big_item, progress=False)),
        "pull 1 GiB": timed(lambda: store().get_many([(d, out / "big.bin") for _, d in big_item], progress=False)),
        "push 1000 small": timed(lambda: store().put_many(small_items, progress=False)),
        "pull 1000 small": timed(lambda: store().get_many([(d, out / "small" / p.name) for p, d in small_items],
                                                          progress=False)),
        "push again (nothing to send)": timed(lambda: store().put_many(small_items + big_item, progress=False)),
    }


def dvc_figures(endpoint: str, bucket: str, big: Path, files: list[Path]) -> dict[str, float]:
    exe = str(dvc())
    repo = WORK / "dvc-repo"
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir()
    env = {**os.environ, **CREDENTIALS}

    def run(*args: str) -> None:
        done = subprocess.run([exe, *args], cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
        if done.returncode:
            sys.exit(f"dvc {' '.join(args)} failed:\n{done.stderr}")

    run("init", "--no-scm", "-q")
    run("config", "core.analytics", "false")
    run("remote", "add", "-d", "bench", f"s3://{bucket}/dvc")
    run("remote", "modify", "bench", "endpointurl", endpoint)
    shutil.copyfile(big, repo / "big.bin")
    shutil.copytree(files[0].parent, repo / "small")
    run("add", "-q", "big.bin")
    run("add", "-q", "small")

    figures = {"push 1 GiB": timed(lambda: run("push", "-q", "big.bin.dvc")),
               "push 1000 small": timed(lambda: run("push", "-q", "small.dvc"))}
    # Pulls start from nothing: no cache, no workspace copy (as on a fresh CI runner).
    shutil.rmtree(repo / ".dvc" / "cache")
    shutil.rmtree(repo / "small")
    (repo / "big.bin").unlink()
    figures["pull 1 GiB"] = timed(lambda: run("pull", "-q", "big.bin.dvc"))
    figures["pull 1000 small"] = timed(lambda: run("pull", "-q", "small.dvc"))
    figures["push again (nothing to send)"] = timed(lambda: run("push", "-q"))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mib", type=int, default=1024, help="size of the large file, in MiB (1024)")
    parser.add_argument("--small", type=int, default=1000, help="how many small files (1000)")
    args = parser.parse_args()
    dvc()
    WORK.mkdir(parents=True, exist_ok=True)
    big, files = make_data(args.big_mib, args.small)
    port = free_port()
    server = Path(sys.executable).with_name("moto_server")
    with serve([str(server if server.exists() else "moto_server"), "-H", "127.0.0.1", "-p", str(port)], port, WORK):
        import boto3

        endpoint = f"http://127.0.0.1:{port}"
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        for bucket in ("bench-mlspec", "bench-dvc"):
            client.create_bucket(Bucket=bucket)
        os.environ.update(CREDENTIALS)
        ours = mlspec_figures(endpoint, "bench-mlspec", big, files)
        theirs = dvc_figures(endpoint, "bench-dvc", big, files)
    version = subprocess.run([str(dvc()), "--version"], capture_output=True, text=True).stdout.strip()
    print(f"store transfers against one moto S3 server on 127.0.0.1 ({args.big_mib} MiB file, {args.small} small "
          f"files of 1-9 KiB; DVC {version})")
    print(f"  {'':30} {'mlspec':>9} {'dvc':>9} {'dvc/mlspec':>11}")
    for name, seconds in ours.items():
        label = name.replace("1 GiB", f"{args.big_mib} MiB").replace("1000", str(args.small))
        print(f"  {label:30} {seconds:8.2f}s {theirs[name]:8.2f}s {theirs[name] / seconds:10.1f}x")
    shutil.rmtree(WORK / "data", ignore_errors=True)
    shutil.rmtree(WORK / "mlspec-out", ignore_errors=True)
    shutil.rmtree(WORK / "dvc-repo", ignore_errors=True)


if __name__ == "__main__":
    main()
