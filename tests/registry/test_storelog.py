"""The store registry's history: events read in order, damage reported, long histories read by segments."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlspec.registry import RegistryError
from mlspec.registry.storestore import StoreRegistry
from tests.registry.kit import CI, candidate, store_of

MODEL = "m"


def _fresh(url: str) -> StoreRegistry:
    return StoreRegistry(store_of(url))


def _prepared(url: str, tmp_path: Path) -> StoreRegistry:
    registry = _fresh(url)
    registry.register(MODEL, candidate(tmp_path, "first"), CI)
    registry.promote(MODEL, "production", 1, CI)
    return registry


def test_a_deleted_or_foreign_event_is_reported(tmp_path: Path) -> None:
    url = f"file://{tmp_path / 'store'}"
    registry = _prepared(url, tmp_path)
    registry.register(MODEL, candidate(tmp_path, "b"), CI)
    registry.store.delete("registry/m/history/00000002.json")
    assert _fresh(url).verify(MODEL)[0] == (
        "history objects [1, 3] are not the contiguous events 1..1 that readers see (an event was deleted)")
    registry.store.replace("registry/m/history/00000002.json", b'{"seq": 9, "event": "register", "model": "m", '
                           b'"version": 2, "at": "x", "by": {}}\n')
    with pytest.raises(RegistryError) as caught:
        _fresh(url).history(MODEL)
    assert str(caught.value) == f"{url}/registry/m/history/00000002.json: holds event 9 of 'm'; the history is damaged"
    registry.store.replace("registry/m/history/00000002.json", b"{not json")
    with pytest.raises(RegistryError, match=r"00000002\.json:1:2: not valid JSON: .*; the history is damaged$"):
        _fresh(url).history(MODEL)


def _counting(registry: StoreRegistry) -> list[str]:
    reads: list[str] = []
    real = registry.store.read

    def read(key: str) -> bytes | None:
        reads.append(key.removeprefix("registry/m/"))
        return real(key)

    registry.store.read = read  # type: ignore[method-assign]
    return reads


def test_a_long_history_is_read_a_segment_at_a_time(tmp_path: Path) -> None:
    url = f"file://{tmp_path / 'store'}"
    writer = StoreRegistry(store_of(url), segment=3)
    writer.register(MODEL, candidate(tmp_path, "a"), CI)
    writer.register(MODEL, candidate(tmp_path, "b"), CI)
    for number in (1, 2, 1, 2, 1):
        writer.promote(MODEL, "production", number, CI)
    assert writer.store.list("registry/m/segments/") == [
        "registry/m/segments/3/00000001.json", "registry/m/segments/3/00000002.json"]
    reader = StoreRegistry(store_of(url), segment=3)
    reads = _counting(reader)
    events = reader.history(MODEL)
    assert reads == ["segments/3/00000001.json", "segments/3/00000002.json", "segments/3/00000003.json",
                     "history/00000007.json", "history/00000008.json"]
    assert [e.seq for e in events] == list(range(1, 8))
    assert events == _fresh(url).history(MODEL)  # the same events as one by one
    assert reader.verify(MODEL) == []


def test_a_segment_a_writer_did_not_write_is_written_by_repair(tmp_path: Path) -> None:
    url = f"file://{tmp_path / 'store'}"
    writer = StoreRegistry(store_of(url), segment=2)
    real = writer.store.create
    writer.store.create = lambda key, data: False if "/segments/" in key else real(key, data)  # type: ignore
    writer.register(MODEL, candidate(tmp_path, "a"), CI)
    writer.promote(MODEL, "production", 1, CI)
    assert writer.store.list("registry/m/segments/") == []  # as if killed just before writing it
    reader = StoreRegistry(store_of(url), segment=2)
    assert [e.seq for e in reader.history(MODEL)] == [1, 2]  # the events one by one
    reader.repair(MODEL)
    assert len(reader.store.list("registry/m/segments/")) == 1
    assert [e.seq for e in StoreRegistry(store_of(url), segment=2).history(MODEL)] == [1, 2]
    # A segment that disagrees with the events it copies is damage: refused, or reported by verify.
    first = reader.store.read("registry/m/history/00000001.json") or b""
    second = reader.store.read("registry/m/history/00000002.json") or b""
    moved_earlier = second.replace(b'"at":"2', b'"at":"1', 1)  # the promotion, a thousand years before
    assert moved_earlier != second
    reader.store.replace("registry/m/segments/2/00000001.json", first + moved_earlier)
    assert StoreRegistry(store_of(url), segment=2).verify(MODEL) == ["segment 1 disagrees with event 2"]
    reader.store.replace("registry/m/segments/2/00000001.json", second + second)
    with pytest.raises(RegistryError, match=r"segments/2/00000001\.json:1: holds event 2 of 'm'"):
        StoreRegistry(store_of(url), segment=2).history(MODEL)
