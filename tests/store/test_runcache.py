"""The run cache against each kind of store: a run pushes what it ran; a fresh copy of the project fetches every
stage instead of computing it; a changed object is refused; a store that is down stops the run, losing nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlspec.runtime import lockfile
from mlspec.runtime.runner import FROM_STORE
from mlspec.store import object_key
from mlspec.store.runcache import fingerprint_of_key, record_key
from mlspec.store.transfer import push
from tests.store.synckit import STAGES, loaded, outputs, project, run, store_of, tree
from tests.support import run_mlspec


def test_record_keys_round_trip() -> None:
    fp = "sha256:" + "0a" * 32
    assert record_key("train:forest", fp) == f"runs/train/forest/{'0a' * 32}.json"
    assert record_key("gate", fp) == f"runs/gate/_/{'0a' * 32}.json"
    assert fingerprint_of_key(record_key("train:forest", fp)) == ("train:forest", fp)
    assert fingerprint_of_key(record_key("gate", fp)) == ("gate", fp)
    assert fingerprint_of_key("runs/gate/_/notes.json") is None
    assert fingerprint_of_key("objects/sha256/0a/" + "0a" * 31) is None


def test_a_run_pushes_and_a_fresh_copy_fetches_every_stage(store_env: str, tmp_path: Path,
                                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    first = project(tmp_path_factory, tmp_path / "laptop")
    report, lines = run(first, "gate", force=True)  # the gate runs again, and a stage that runs pushes
    assert [(o.stage_id, o.status) for o in report.outcomes if o.status == "ran"] == [("gate", "ran")]
    assert any(line.startswith("  pushed gate to the store: 2 files") for line in lines), lines
    store = store_of(first)
    gate = lockfile.read(first / "mlspec.lock").stages["gate"]
    assert lockfile.entry_from_json(store.read(record_key("gate", gate.fingerprint)) or b"") == gate
    assert all(store.has(d) for d in gate.outputs.values())
    # The stages that did not run are pushed by `mlspec push` (a run pushes only what it ran).
    pushed = push(loaded(first), store)
    assert pushed.ok and pushed.stages == len(STAGES) - 1 and pushed.current == 1

    second = project(tmp_path_factory, tmp_path / "runner", workspace=False)
    report, lines = run(second)
    assert report.ok
    assert {o.stage_id: (o.status, o.detail) for o in report.outcomes} == {s: ("up to date", FROM_STORE)
                                                                          for s in STAGES}
    assert f"mlspec run: 0 ran, 0 up to date, {len(STAGES)} from the store" in lines
    assert outputs(second) == outputs(first)  # byte for byte
    assert lockfile.read(second / "mlspec.lock") == lockfile.read(first / "mlspec.lock")
    report, lines = run(second)  # and now they are simply up to date here
    assert f"mlspec run: 0 ran, {len(STAGES)} up to date" in lines


def test_a_changed_object_is_refused_and_the_stage_runs(store_env: str, tmp_path: Path,
                                                        tmp_path_factory: pytest.TempPathFactory) -> None:
    """Decided: a fetch that fails verification is a miss (the stage runs, with a warning naming the object),
    never a wrong output and never a stopped run; the push after it repairs the object."""
    first = project(tmp_path_factory, tmp_path / "laptop")
    store = store_of(first)
    assert push(loaded(first), store).ok
    verdict = lockfile.read(first / "mlspec.lock").stages["gate"].outputs["verdict.json"]
    store.replace(object_key(verdict), b'{"verdict": "pass", "forged": true}\n')

    second = project(tmp_path_factory, tmp_path / "runner", workspace=False)
    report, lines = run(second)
    assert report.ok
    status = {o.stage_id: (o.status, o.detail) for o in report.outcomes}
    assert status["gate"][0] == "ran" and status["evaluate"] == ("up to date", FROM_STORE)
    warning = next(line for line in lines if line.startswith("warning: cannot fetch gate"))
    assert "verdict.json changed in the store after they were written" in warning and object_key(verdict) in warning
    assert outputs(second) == outputs(first)
    assert json.loads((second / ".mlspec/stages/gate/verdict.json").read_text())["verdict"] == "pass"
    # Repaired: the store serves the verified bytes again.
    check = tmp_path / "check.json"
    store.get_file(verdict, check)
    assert check.read_bytes() == (first / ".mlspec/stages/gate/verdict.json").read_bytes()


def test_without_run_cache_nothing_is_fetched(store_env: str, tmp_path: Path,
                                              tmp_path_factory: pytest.TempPathFactory) -> None:
    first = project(tmp_path_factory, tmp_path / "laptop")
    assert push(loaded(first), store_of(first), ["data:current"]).ok
    second = project(tmp_path_factory, tmp_path / "runner", workspace=False)
    spec = second / "mlspec.yaml"
    spec.write_text(spec.read_text() + "store:\n  url: unused\n  run_cache: false\n  push: false\n")
    report, _ = run(second, "data:current")
    assert [(o.stage_id, o.status) for o in report.outcomes] == [("data:current", "ran")]
    assert outputs(second) == {k: v for k, v in outputs(first).items() if k.startswith("data/current/")}


def test_a_store_that_is_down_stops_the_run_and_loses_nothing(tmp_path: Path,
                                                              tmp_path_factory: pytest.TempPathFactory) -> None:
    from tests.servers import free_port

    root = project(tmp_path_factory, tmp_path)
    spec = root / "mlspec.yaml"
    spec.write_text(spec.read_text().replace("max: 65,", "max: 66,"))  # the gate would run
    before = tree(root)
    env = {"MLSPEC_STORE": "s3://bucket/prefix", "MLSPEC_STORE_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
           "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_DEFAULT_REGION": "us-east-1"}
    done = run_mlspec("run", cwd=root, env=env)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "error: store s3://bucket/prefix (from MLSPEC_STORE): cannot read runs/gate/_/" in done.stderr
    assert "MLSPEC_STORE_ENDPOINT_URL" in done.stderr
    # Outputs, records and the lock are as they were (the run lock and the stat cache are bookkeeping; the run
    # history gains the stopped run, with a warning that it did not reach the store either).
    assert "warning: the run history was not mirrored to the store" in done.stdout
    kept = {".mlspec/run.lock", ".mlspec/stat-cache.json", ".mlspec/runs.db"}
    assert {k: v for k, v in tree(root).items() if k not in kept} == {k: v for k, v in before.items() if k not in kept}
