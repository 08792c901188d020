"""`mlspec serve` figures: latency (p50, p99) and throughput over HTTP against `model.predict` in process.

    python benchmarks/bench_serve.py [--seconds S] [--batch N]

Two models trained on the diabetes example by mlspec's own pipeline and registered in a file registry: a
Ridge regression (predict costs microseconds, so the figures show the service's own overhead) and a random
forest of 100 trees (predict dominates). For each, `mlspec serve` runs as its own process on 127.0.0.1 (so
client and server do not share a GIL) and one keep-alive client sends single-row and batch requests one after
another; then four concurrent clients send single rows. In process, the same rows go through `model.predict`
on a ready DataFrame, and through validation + DataFrame building + predict (what the service adds before
HTTP). Each measurement stops after --seconds or 2000 requests; the whole run takes well under a minute.

These print figures; they are not tests.
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mlspec.registry import FileRegistry  # noqa: E402
from mlspec.runtime import bundle  # noqa: E402
from mlspec.serve.validation import InputSchema, check, to_frame  # noqa: E402
from tests.serve.models import diabetes_frame, register, train_diabetes  # noqa: E402

MAX_REQUESTS = 2000


def measure(call: Callable[[], object], seconds: float) -> list[float]:
    for _ in range(20):  # warm up: connection, caches, lazy imports
        call()
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(times) < MAX_REQUESTS and time.perf_counter() < deadline:
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def summary(times: list[float], rows: int) -> dict[str, float]:
    ordered = sorted(times)
    total = sum(times)
    return {"p50_ms": 1000 * statistics.median(ordered), "p99_ms": 1000 * ordered[int(0.99 * (len(ordered) - 1))],
            "req_s": len(times) / total, "rows_s": rows * len(times) / total, "n": len(times)}


class Server:
    def __init__(self, registry: Path, model: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "mlspec", "serve", "--registry", str(registry), "--model",
                                      model, "--port", "0", "--max-body-bytes", str(8 << 20)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "http://" not in line:
            raise SystemExit(f"mlspec serve did not start: {line!r}")
        self.port = int(line.split("http://127.0.0.1:")[1].split()[0])

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def poster(port: int, body: bytes) -> Callable[[], object]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}

    def call() -> object:
        conn.request("POST", "/predict", body=body, headers=headers)
        answer = conn.getresponse()
        data = answer.read()
        if answer.status != 200:
            raise SystemExit(f"HTTP {answer.status}: {data[:200]!r}")
        return data

    return call


def concurrent(port: int, body: bytes, clients: int, seconds: float) -> float:
    """Requests per second with ``clients`` keep-alive clients sending at once."""
    counts = [0] * clients

    def work(i: int) -> None:
        call = poster(port, body)
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline and counts[i] < MAX_REQUESTS:
            call()
            counts[i] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - start)


def bench_model(name: str, registry: Path, folder: Path, rows: list[dict[str, Any]], batch: int,
                seconds: float) -> None:
    loaded = bundle.load(folder)
    schema = InputSchema.from_metadata(loaded.metadata)
    print(f"\n== {name}: {loaded.metadata['estimator']}")
    print(f"{'case':<34}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>10}{'rows/s':>11}{'n':>6}")
    server = Server(registry, name)
    try:
        for label, part in (("single row", rows[:1]), (f"batch of {batch}", rows[:batch])):
            frame = to_frame(schema, check(schema, part))
            direct = summary(measure(lambda f=frame: loaded.model.predict(f), seconds / 3), len(part))
            prepared = summary(measure(lambda p=part: loaded.model.predict(to_frame(schema, check(schema, p))),
                                       seconds / 3), len(part))
            http_ = summary(measure(poster(server.port, json.dumps({"rows": part}).encode()), seconds), len(part))
            for case, s in ((f"{label}: model.predict", direct), (f"{label}: check+frame+predict", prepared),
                            (f"{label}: HTTP /predict", http_)):
                print(f"{case:<34}{s['p50_ms']:>9.3f}{s['p99_ms']:>9.3f}{s['req_s']:>10.0f}{s['rows_s']:>11.0f}"
                      f"{s['n']:>6.0f}")
            print(f"  ratio HTTP/in-process: p50 x{http_['p50_ms'] / direct['p50_ms']:.1f}, p99 "
                  f"x{http_['p99_ms'] / direct['p99_ms']:.1f}, throughput x{http_['req_s'] / direct['req_s']:.2f}")
        rate = concurrent(server.port, json.dumps({"rows": rows[:1]}).encode(), 4, seconds / 2)
        print(f"single row, 4 concurrent clients: {rate:.0f} req/s")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per HTTP measurement (default 2)")
    parser.add_argument("--batch", type=int, default=100, help="rows per batch request (default 100)")
    args = parser.parse_args()
    from sklearn.ensemble import RandomForestRegressor

    frame = diabetes_frame("holdout").drop(columns=["progression"])
    rows = json.loads(frame.sample(n=args.batch, replace=len(frame) < args.batch, random_state=0)
                      .to_json(orient="records"))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        registry = FileRegistry(root / "registry")
        ridge = train_diabetes(root / "ridge")
        register(registry, "ridge", ridge)
        forest = train_diabetes(root / "forest", RandomForestRegressor(n_estimators=100, random_state=0))
        register(registry, "forest", forest)
        bench_model("ridge", registry.root, ridge, rows, args.batch, args.seconds)
        bench_model("forest", registry.root, forest, rows, args.batch, args.seconds)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
