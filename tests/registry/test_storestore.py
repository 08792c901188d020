"""The store registry: its layout, writers racing without a lock, and consistency after a SIGKILL.

Each test runs on a directory store, on moto's S3 server and on Azurite (``store_kind``); the writers of the
concurrency and crash tests are separate processes (tests/registry/harness.py), as CI jobs are.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mlspec.registry import RegistryError
from mlspec.registry.storestore import StoreRegistry
from mlspec.store import Store, StoreError, object_key
from tests.registry.kit import CI, LOCAL, candidate, store_of

HARNESS = Path(__file__).parent / "harness.py"
MODEL = "m"  # the harness's model
KINDS = pytest.mark.parametrize("store_url", ["file", "s3", "az"], indirect=True)


def _harness(url: str, *args: str, kill: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HARNESS_KILL": kill or ""}
    return subprocess.run([sys.executable, str(HARNESS), url, *args], env=env, capture_output=True, text=True,
                          timeout=300)


def _fresh(url: str) -> StoreRegistry:
    """The registry as a new job opens it: nothing read before."""
    return StoreRegistry(store_of(url))


def _prepared(url: str, tmp_path: Path) -> StoreRegistry:
    """Version 1 in production: the state each crash test starts from."""
    registry = _fresh(url)
    registry.register(MODEL, candidate(tmp_path, "first"), CI)
    registry.promote(MODEL, "production", 1, CI)
    return registry


@KINDS
def test_layout(store_url: str, tmp_path: Path) -> None:
    registry = _fresh(store_url)
    version, _ = registry.register(MODEL, candidate(tmp_path, "a"), CI)
    registry.promote(MODEL, "production", 1, CI)
    store = registry.store
    register, _ = registry.history(MODEL)
    assert register.manifest is not None
    record_key = f"registry/m/versions/{register.manifest.removeprefix('sha256:')}.json"
    assert [k for k in store.list("") if not k.startswith("objects/")] == [
        "mlspec-store.json", "registry/m/aliases.json", "registry/m/history/00000001.json",
        "registry/m/history/00000002.json", record_key]
    assert json.loads(store.read("registry/m/aliases.json") or b"") == {
        "format": 1, "seq": 2, "aliases": {"production": 1}}
    event = json.loads(store.read("registry/m/history/00000002.json") or b"")
    assert {k: event[k] for k in ("seq", "event", "alias", "previous", "version")} == {
        "seq": 2, "event": "promote", "alias": "production", "previous": None, "version": 1}
    assert event["by"]["run_url"] == CI.run_url
    record = json.loads(store.read(record_key) or b"")
    assert sorted(record["files"]) == ["MODEL_CARD.md", "bundle/metadata.json", "bundle/model.skops",
                                       "metrics.json", "provenance.json", "verdict.json"]
    assert all(store.read(object_key(d)) is not None for d in record["files"].values())  # files are objects
    assert version.location == f"{store.location}/{record_key}"
    assert registry.location == f"{store.location}/registry"
    assert registry.verify(MODEL) == []
    assert _fresh(store_url).models() == [MODEL]


@KINDS
def test_files_are_downloaded_into_scratch_and_checked(store_url: str, tmp_path: Path) -> None:
    _fresh(store_url).register(MODEL, candidate(tmp_path, "a"), CI)
    registry = _fresh(store_url)
    folder = registry.files(MODEL, 1, tmp_path / "scratch")
    assert folder.parent == tmp_path / "scratch"
    assert (folder / "bundle" / "model.skops").read_bytes() == b"model a"
    assert json.loads((folder / "version.json").read_text())["version"] == 1
    assert "# Model card: m, version 1" in (folder / "MODEL_CARD.md").read_text()
    again = registry.files(MODEL, 1, tmp_path / "scratch")  # a second call gets its own directory
    assert again != folder and (again / "bundle" / "model.skops").is_file()


@KINDS
def test_a_tampered_or_deleted_object_is_refused_naming_the_file(store_url: str, tmp_path: Path) -> None:
    _fresh(store_url).register(MODEL, candidate(tmp_path, "a"), CI)
    registry = _fresh(store_url)
    (register,) = registry.history(MODEL)
    assert register.manifest is not None
    record = json.loads(registry.store.read(
        f"registry/m/versions/{register.manifest.removeprefix('sha256:')}.json") or b"")
    registry.store.replace(object_key(record["files"]["bundle/model.skops"]), b"a model swapped in the bucket")
    with pytest.raises(RegistryError) as caught:
        registry.files(MODEL, 1, tmp_path / "scratch")
    assert str(caught.value) == (
        f"version 1 of 'm' ({registry.location}): bundle/model.skops changed after it was registered (the digests "
        "differ from the registry's record); refusing to use it. Register the model again (`mlspec deploy`) "
        "rather than editing a version")
    with pytest.raises(RegistryError, match=r"bundle/model\.skops changed after it was registered"):
        _fresh(store_url).promote(MODEL, "production", 1, CI)
    key = object_key(record["files"]["provenance.json"])
    registry.store.delete(key)
    with pytest.raises(RegistryError) as caught:
        _fresh(store_url).files(MODEL, 1, tmp_path / "scratch")
    assert "provenance.json is missing from the store (object " + key + ")" in str(caught.value)
    assert _fresh(store_url).aliases(MODEL) == {}


@KINDS
def test_concurrent_deploys_are_all_recorded(store_url: str, tmp_path: Path) -> None:
    """Six deploy jobs at once, each registering two bundles of its own and one they all share, promoting
    ``production`` to each: every registration and every move is in the history, none lost, no gap."""
    writers = [subprocess.Popen([sys.executable, str(HARNESS), store_url, "deploy", "production", f"own-{i}-a",
                                 "shared", f"own-{i}-b"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for i in range(6)]
    done: list[dict[str, Any]] = []
    for writer in writers:
        out, err = writer.communicate(timeout=600)
        assert writer.returncode == 0, err
        done += [json.loads(line) for line in out.splitlines()]
    registry = _fresh(store_url)
    events = registry.history(MODEL)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    versions = registry.versions(MODEL)
    assert [v.number for v in versions] == list(range(1, 14))  # 12 bundles of their own, 1 shared
    by_content = {d["content"]: d["version"] for d in done}
    assert len(set(by_content.values())) == 13
    assert sorted(d["new"] for d in done if d["content"] == "shared") == [False] * 5 + [True]
    assert len({d["version"] for d in done if d["content"] == "shared"}) == 1  # one version, found by all
    # Every move a writer was told it made is in the history, at the number it was told.
    moves = [e for e in events if e.kind == "promote"]
    told = sorted(d["seq"] for d in done if d["seq"] is not None)
    assert told == [e.seq for e in moves]
    assert all(events[d["seq"] - 1].version == d["version"] for d in done if d["seq"] is not None)
    # No lost update: each move starts from where the one before it left the alias.
    assert moves[0].previous is None
    assert all(b.previous == a.version for a, b in itertools.pairwise(moves))
    assert registry.aliases(MODEL) == {"production": moves[-1].version}
    assert registry.verify(MODEL) == []


@KINDS
@pytest.mark.parametrize(
    ("kill", "versions"),
    [
        ("store:put_file:model.skops:after", [1]),  # one file uploaded: an orphan object
        ("store:create:/versions/", [1]),  # every file uploaded, no record
        ("store:create:/versions/:after", [1]),  # its record created, no event: still no version
        ("store:create:/history/:after", [1, 2]),  # the event: version 2 exists; the snapshot is behind
    ],
)
def test_a_registration_killed_midway_leaves_a_consistent_registry(
        store_url: str, tmp_path: Path, kill: str, versions: list[int]) -> None:
    _prepared(store_url, tmp_path)
    done = _harness(store_url, "register", "second", kill=kill)
    assert done.returncode == -signal.SIGKILL, done.stderr
    registry = _fresh(store_url)
    assert [v.number for v in registry.versions(MODEL)] == versions
    assert registry.aliases(MODEL) == {"production": 1}
    assert [p for p in registry.verify(MODEL) if "aliases.json" not in p] == []  # everything committed is whole
    registry.repair(MODEL)
    assert registry.verify(MODEL) == []
    again = _harness(store_url, "register", "second")  # the next writer: a no-op, or it registers the bundle
    assert again.returncode == 0, again.stderr
    registry = _fresh(store_url)
    assert [v.number for v in registry.versions(MODEL)] == [1, 2]
    assert registry.promote(MODEL, "production", 2, CI) is not None
    assert registry.verify(MODEL) == []


@KINDS
@pytest.mark.parametrize(
    ("kill", "alias_after_crash", "left_over"),
    [
        ("store:create:/history/", 1, []),  # the move never committed
        ("store:create:/history/:after", 2, ["aliases.json disagrees with the history"]),  # snapshot behind
        ("store:replace:aliases.json:after", 2, []),  # finished
    ],
)
def test_a_promotion_killed_midway_leaves_a_consistent_registry(
        store_url: str, tmp_path: Path, kill: str, alias_after_crash: int, left_over: list[str]) -> None:
    registry = _prepared(store_url, tmp_path)
    registry.register(MODEL, candidate(tmp_path, "second"), CI)
    done = _harness(store_url, "promote", "production", "2", kill=kill)
    assert done.returncode == -signal.SIGKILL, done.stderr
    registry = _fresh(store_url)
    assert registry.aliases(MODEL) == {"production": alias_after_crash}
    assert registry.verify(MODEL) == left_over
    registry.repair(MODEL)
    assert registry.verify(MODEL) == []
    assert json.loads(registry.store.read("registry/m/aliases.json") or b"")["aliases"] == {
        "production": alias_after_crash}
    if alias_after_crash == 2:  # the state machine carries on from the state the crash left
        assert registry.rollback(MODEL, "production", CI).version == 1
    else:
        assert registry.promote(MODEL, "production", 2, CI) is not None
    assert registry.verify(MODEL) == []


@pytest.mark.parametrize("store_url", ["file", "s3"], indirect=True)
def test_writers_killed_at_random_moments_leave_a_consistent_registry(store_url: str, tmp_path: Path) -> None:
    """SIGKILL at whatever point a writer has reached, mid-request included; the next writer recovers."""
    registry = _prepared(store_url, tmp_path)
    for content in ("b", "c"):
        registry.register(MODEL, candidate(tmp_path, content), CI)
    rng = random.Random(12)
    for _ in range(6):
        writer = subprocess.Popen([sys.executable, str(HARNESS), store_url, "churn", "production", "1", "2", "3"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(1.0, 2.5))  # past the imports, into the writes
        writer.send_signal(signal.SIGKILL)
        writer.wait(60)
        after = _fresh(store_url)
        assert [p for p in after.verify(MODEL) if "aliases.json" not in p] == []
    after = _fresh(store_url)
    moves = [e for e in after.history(MODEL) if e.kind == "promote"]
    assert len(moves) > 1  # the writers got somewhere
    assert all(b.previous == a.version for a, b in itertools.pairwise(moves))
    after.repair(MODEL)
    assert after.verify(MODEL) == []
    assert after.promote(MODEL, "staging", 3, CI) is not None


# --- races, made to happen at a chosen moment -------------------------------------------------------------------


def _racing(registry: StoreRegistry, other: Any) -> None:
    """Make ``other()`` (another writer's change) happen just before ``registry``'s next event is created."""
    store = registry.store
    real = store.create
    pending = [other]

    def create(key: str, data: bytes) -> bool:
        if "/history/" in key and pending:
            pending.pop()()
        return real(key, data)

    store.create = create  # type: ignore[method-assign]


@KINDS
def test_a_promotion_that_loses_the_race_records_the_alias_the_winner_left(store_url: str, tmp_path: Path) -> None:
    setup = _prepared(store_url, tmp_path)
    for content in ("b", "c"):
        setup.register(MODEL, candidate(tmp_path, content), CI)
    registry = _fresh(store_url)
    _racing(registry, lambda: _fresh(store_url).promote(MODEL, "production", 3, LOCAL))
    event = registry.promote(MODEL, "production", 2, CI)
    assert event is not None and (event.seq, event.previous, event.version) == (6, 3, 2)
    assert _fresh(store_url).aliases(MODEL) == {"production": 2}
    racing_same = _fresh(store_url)
    _racing(racing_same, lambda: _fresh(store_url).promote(MODEL, "production", 1, LOCAL))
    assert racing_same.promote(MODEL, "production", 1, CI) is None  # the winner did the same move
    assert _fresh(store_url).verify(MODEL) == []


@KINDS
def test_a_rollback_whose_alias_moved_meanwhile_is_refused(store_url: str, tmp_path: Path) -> None:
    setup = _prepared(store_url, tmp_path)
    for content in ("b", "c"):
        setup.register(MODEL, candidate(tmp_path, content), CI)
    setup.promote(MODEL, "production", 2, CI)
    registry = _fresh(store_url)
    _racing(registry, lambda: _fresh(store_url).promote(MODEL, "production", 3, LOCAL))
    with pytest.raises(RegistryError) as caught:
        registry.rollback(MODEL, "production", CI)
    assert str(caught.value) == (
        "alias 'production' of 'm' was moved by another writer while this rollback was being recorded (it now "
        "names version 3); nothing was rolled back: see `mlspec registry history`, and roll back again if it "
        "should still go back")
    assert _fresh(store_url).aliases(MODEL) == {"production": 3}
    # A race that leaves the alias alone (another registration) does not stop it.
    registry = _fresh(store_url)
    _racing(registry, lambda: _fresh(store_url).register(MODEL, candidate(tmp_path, "d"), LOCAL))
    assert registry.rollback(MODEL, "production", CI).version == 2


@KINDS
def test_registrations_that_race_take_the_next_number(store_url: str, tmp_path: Path) -> None:
    _prepared(store_url, tmp_path)
    registry = _fresh(store_url)
    _racing(registry, lambda: _fresh(store_url).register(MODEL, candidate(tmp_path, "theirs"), LOCAL))
    mine, new = registry.register(MODEL, candidate(tmp_path, "mine"), CI)
    assert (mine.number, new) == (3, True)
    folder = _fresh(store_url).files(MODEL, 3, tmp_path / "scratch")  # restaged under its new number
    assert (folder / "bundle" / "model.skops").read_bytes() == b"model mine"
    assert "# Model card: m, version 3" in (folder / "MODEL_CARD.md").read_text()
    assert json.loads((folder / "version.json").read_text())["version"] == 3
    same = _fresh(store_url)
    _racing(same, lambda: _fresh(store_url).register(MODEL, candidate(tmp_path, "both"), LOCAL))
    found, new = same.register(MODEL, candidate(tmp_path, "both"), CI)
    assert (found.number, new, found.created_by) == (4, False, LOCAL)
    assert _fresh(store_url).verify(MODEL) == []


def test_a_create_refused_after_it_succeeded_counts_as_written(tmp_path: Path) -> None:
    """A retried request whose first attempt succeeded is refused; the writer's own bytes are there."""
    registry = _prepared(f"file://{tmp_path / 'store'}", tmp_path)
    registry.register(MODEL, candidate(tmp_path, "b"), CI)
    real = Store.create

    def create(self: Store, key: str, data: bytes) -> bool:
        real(self, key, data)
        return False

    registry.store.create = create.__get__(registry.store)  # type: ignore[method-assign]
    event = registry.promote(MODEL, "production", 2, CI)
    assert event is not None and event.seq == 4
    assert [e.seq for e in _fresh(f"file://{tmp_path / 'store'}").history(MODEL)] == [1, 2, 3, 4]


def test_a_writer_that_keeps_losing_gives_up_clearly(tmp_path: Path) -> None:
    url = f"file://{tmp_path / 'store'}"
    _prepared(url, tmp_path)
    registry = StoreRegistry(store_of(url), attempts=3)
    registry.store.create = lambda key, data: False  # type: ignore[method-assign]
    with pytest.raises(RegistryError) as caught:
        registry.register(MODEL, candidate(tmp_path, "b"), CI)
    assert str(caught.value) == (f"could not record a change of 'm' in the registry {url}/registry: other writers "
                                 "took the next history number 3 times in a row; run it again")


# --- damage and failures ------------------------------------------------------------------------------------------


def test_bad_model_names_never_become_keys(tmp_path: Path) -> None:
    registry = _fresh(f"file://{tmp_path / 'store'}")
    for attempt in (lambda: registry.history("../x"), lambda: registry.register("../x", candidate(tmp_path, "a"), CI)):
        with pytest.raises(RegistryError, match=r"invalid model name '\.\./x'"):
            attempt()


def test_a_store_that_is_down_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.servers import free_port

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("MLSPEC_STORE_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens
    registry = _fresh("s3://bucket/store")
    with pytest.raises(StoreError) as caught:
        registry.aliases(MODEL)
    assert str(caught.value).startswith("store s3://bucket/store (from MLSPEC_STORE): cannot read registry/m/")
    assert "check that it is reachable" in str(caught.value)


def test_the_objects_a_registry_references(tmp_path: Path) -> None:
    from mlspec.registry.storestore import referenced_objects
    from mlspec.store import digest_of_key

    url = f"file://{tmp_path / 'store'}"
    registry = _prepared(url, tmp_path)
    registry.register("other", candidate(tmp_path, "b"), CI)
    stored = {digest_of_key(k) for k in registry.store.list("objects/")}
    assert referenced_objects(registry.store) == stored  # nothing else was uploaded
    assert len(stored) == 10  # 6 files each; metadata.json and metrics.json are the same bytes in both
    assert referenced_objects(store_of(f"file://{tmp_path / 'empty'}")) == set()
