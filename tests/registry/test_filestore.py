"""The file registry: its layout, immutability, concurrent writers, and consistency after a SIGKILL."""

from __future__ import annotations

import itertools
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mlspec.registry import FileRegistry, RegistryError
from mlspec.registry.filestore import HISTORY
from tests.registry.kit import CI, candidate

HARNESS = Path(__file__).parent / "harness.py"
MODEL = "m"  # the harness's model


def _harness(root: Path, *args: str, kill: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HARNESS_KILL": kill or ""}
    return subprocess.run([sys.executable, str(HARNESS), str(root), *args], env=env, capture_output=True, text=True,
                          timeout=120)


def _tree(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_layout(tmp_path: Path) -> None:
    registry = FileRegistry(tmp_path / "reg")
    registry.register(MODEL, candidate(tmp_path, "a"), CI)
    registry.promote(MODEL, "production", 1, CI)
    assert _tree(tmp_path / "reg") == [
        ".lock", ".mlspec-owned", "m/aliases.json", "m/history.jsonl", "m/versions/1/MODEL_CARD.md",
        "m/versions/1/bundle/metadata.json", "m/versions/1/bundle/model.skops", "m/versions/1/metrics.json",
        "m/versions/1/provenance.json", "m/versions/1/verdict.json", "m/versions/1/version.json", "registry.json"]
    snapshot = json.loads((tmp_path / "reg/m/aliases.json").read_text())
    assert snapshot == {"format": 1, "seq": 2, "aliases": {"production": 1}}
    lines = (tmp_path / "reg/m/history.jsonl").read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["register", "promote"]
    assert json.loads(lines[1])["by"] == {"user": "alice", "system": "gitlab", "commit": CI.commit, "ref": "main",
                                          "run_url": CI.run_url}
    record = json.loads((tmp_path / "reg/m/versions/1/version.json").read_text())
    assert sorted(record["files"]) == ["MODEL_CARD.md", "bundle/metadata.json", "bundle/model.skops",
                                       "metrics.json", "provenance.json", "verdict.json"]
    assert registry.verify(MODEL) == []
    assert registry.models() == [MODEL]


def test_versions_are_read_only_and_tampering_is_detected(tmp_path: Path) -> None:
    registry = FileRegistry(tmp_path / "reg")
    version, _ = registry.register(MODEL, candidate(tmp_path, "a"), CI)
    model_file = Path(version.location) / "bundle" / "model.skops"
    assert stat.S_IMODE(model_file.stat().st_mode) == 0o444
    model_file.chmod(0o644)
    model_file.write_bytes(b"swapped")
    assert registry.verify(MODEL) == [
        f"version 1 of 'm' ({version.location}): bundle/model.skops changed after it was registered (the digests "
        "differ from the registry's record); refusing to use it. Register the model again (`mlspec deploy`) rather "
        "than editing a version"]


def test_a_bundle_that_is_not_the_judged_one_is_refused(tmp_path: Path) -> None:
    registry = FileRegistry(tmp_path / "reg")
    wrong = candidate(tmp_path, "a")
    (wrong.bundle_dir / "model.skops").write_bytes(b"changed after the gate")
    with pytest.raises(RegistryError, match="is not the one the gate judged"):
        registry.register(MODEL, wrong, CI)
    assert registry.versions(MODEL) == []
    assert not any((tmp_path / "reg" / "tmp").iterdir())


def test_bad_model_names_never_become_paths(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"invalid model name '\.\./x'"):
        FileRegistry(tmp_path / "reg").register("../x", candidate(tmp_path, "a"), CI)


def test_a_damaged_history_line_is_reported(tmp_path: Path) -> None:
    registry = FileRegistry(tmp_path / "reg")
    registry.register(MODEL, candidate(tmp_path, "a"), CI)
    with open(tmp_path / "reg" / MODEL / HISTORY, "a") as fh:
        fh.write("{not json}\n")
    with pytest.raises(RegistryError) as caught:
        registry.history(MODEL)
    assert str(caught.value).endswith(
        "m/history.jsonl:2:2: not valid JSON: Expecting property name enclosed in double quotes; the history is "
        "damaged")


def test_a_writer_waits_for_the_lock_then_says_who_holds_it(tmp_path: Path) -> None:
    import fcntl

    registry = FileRegistry(tmp_path / "reg", wait=0.3)
    registry.register(MODEL, candidate(tmp_path, "a"), CI)
    fd = os.open(tmp_path / "reg" / ".lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.pwrite(fd, b"4242\n", 0)
        with pytest.raises(RegistryError) as caught:
            registry.promote(MODEL, "production", 1, CI)
    finally:
        os.close(fd)
    assert str(caught.value) == (f"the registry {tmp_path / 'reg'} is still locked by another writer (pid 4242) "
                                 "after 0.3 s")
    assert registry.promote(MODEL, "production", 1, CI) is not None


def test_concurrent_promotions_are_serialised(tmp_path: Path) -> None:
    root = tmp_path / "reg"
    registry = FileRegistry(root)
    for content in "abc":
        registry.register(MODEL, candidate(tmp_path, content), CI)
    writers = [subprocess.Popen([sys.executable, str(HARNESS), str(root), "churn", alias, *order],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for alias in ("staging", "production") for order in (["1", "2"], ["2", "3"], ["3", "1"])]
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err.decode()
    events = registry.history(MODEL)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    for alias in ("staging", "production"):
        moves = [e for e in events if e.alias == alias]
        # No lost update: every move starts from where the one before it left the alias.
        assert all(b.previous == a.version for a, b in itertools.pairwise(moves))
        assert moves[0].previous is None
        assert registry.aliases(MODEL)[alias] == moves[-1].version
    assert registry.verify(MODEL) == []


def _prepared(tmp_path: Path) -> FileRegistry:
    """Version 1 in production: the state each crash test starts from."""
    registry = FileRegistry(tmp_path / "reg")
    registry.register(MODEL, candidate(tmp_path, "first"), CI)
    registry.promote(MODEL, "production", 1, CI)
    return registry


@pytest.mark.parametrize(
    ("kill", "versions", "registered", "recovered"),
    [
        ("before-rename:versions/2", [1], [1], False),  # assembled in tmp/ only
        ("rename:versions/2", [1, 2], [1], True),  # in place, its history line not yet written
        ("torn-write", [1, 2], [1], True),  # its line cut in half
        ("after-write", [1, 2], [1, 2], False),  # line written, not yet fsync'ed (a process crash keeps it)
    ],
)
def test_a_registration_killed_midway_leaves_a_consistent_registry(
        tmp_path: Path, kill: str, versions: list[int], registered: list[int], recovered: bool) -> None:
    registry = _prepared(tmp_path)
    done = _harness(registry.root, "register", "second", kill=kill)
    assert done.returncode == -9, done.stderr
    # Readers see committed state only: complete versions, complete history lines.
    assert [v.number for v in registry.versions(MODEL)] == versions
    assert [e.version for e in registry.history(MODEL) if e.kind == "register"] == registered
    assert registry.aliases(MODEL) == {"production": 1}
    # The next writer finishes what was left, and the registry is whole again.
    registry.repair(MODEL)
    assert registry.verify(MODEL) == []
    assert not (registry.root / "tmp").exists() or not any((registry.root / "tmp").iterdir())
    events = registry.history(MODEL)
    assert [e.version for e in events if e.kind == "register"] == versions
    assert any(e.recovered for e in events) == recovered
    again = _harness(registry.root, "register", "second")  # and registering it again is a no-op or completes it
    assert again.returncode == 0, again.stderr
    assert [v.number for v in registry.versions(MODEL)] == [1, 2]
    assert registry.verify(MODEL) == []


@pytest.mark.parametrize(
    ("kill", "alias_after_crash", "left_over"),
    [
        ("torn-write", 1, ["the history ends with a torn line"]),  # the move never committed
        ("after-write", 2, ["aliases.json disagrees with the history"]),  # committed; snapshot not yet replaced
        ("replace:m/aliases.json", 2, []),  # finished
    ],
)
def test_a_promotion_killed_midway_leaves_a_consistent_registry(
        tmp_path: Path, kill: str, alias_after_crash: int, left_over: list[str]) -> None:
    registry = _prepared(tmp_path)
    registry.register(MODEL, candidate(tmp_path, "second"), CI)
    done = _harness(registry.root, "promote", "production", "2", kill=kill)
    assert done.returncode == -9, done.stderr
    assert registry.aliases(MODEL) == {"production": alias_after_crash}
    assert registry.verify(MODEL) == left_over  # what the next writer repairs, as it does first of all
    registry.repair(MODEL)
    assert registry.verify(MODEL) == []
    snapshot = json.loads((registry.root / MODEL / "aliases.json").read_text())
    assert snapshot["aliases"] == {"production": alias_after_crash}
    # The state machine carries on from the state the crash left.
    if alias_after_crash == 2:
        assert registry.rollback(MODEL, "production", CI).version == 1
    else:
        assert registry.promote(MODEL, "production", 2, CI) is not None
    assert registry.verify(MODEL) == []
