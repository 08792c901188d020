"""The store's ``history/``: parts created once under keys of their own, imported with one listing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from mlspec.runs.history import History
from mlspec.runs.mirror import PREFIX, import_parts, key_of, put, send_pending
from mlspec.store import Store, StoreConfig
from mlspec.store.url import parse
from tests.runs.records import record


def store_in(path: Path) -> Store:
    return Store(StoreConfig(parse(str(path)), named_by="MLSPEC_STORE"))


def test_keys_are_safe_and_parts_sharing_a_name_get_their_own(tmp_path: Path) -> None:
    store = store_in(tmp_path / "store")
    one = record("gitlab-7", part="train: [forest]")
    assert key_of(one) == "history/gitlab-7/train___forest_.json"
    assert put(store, one) == "history/gitlab-7/train___forest_.json"
    assert put(store, one) == "history/gitlab-7/train___forest_.json"  # the same part: the same key, untouched
    retried = replace(one, finished="2026-12-01T11:00:00+00:00")  # a retried job: another part, same name
    assert put(store, retried) == "history/gitlab-7/train___forest_~2.json"
    assert store.list(PREFIX) == ["history/gitlab-7/train___forest_.json", "history/gitlab-7/train___forest_~2.json"]


def test_a_laptop_imports_what_it_lacks_and_skips_what_it_cannot_read(tmp_path: Path) -> None:
    store = store_in(tmp_path / "store")
    ci = History(tmp_path / "ci.db")
    ci.add(record("gitlab-7", part="train"))
    ci.add(record("gitlab-7", part="evaluate", auc=0.97))
    assert send_pending(ci, store).sent == 2 and ci.pending() == []
    store.replace("history/gitlab-7/broken.json", b"{not json")
    laptop = History(tmp_path / "laptop.db")
    laptop.add(record("20261201T100000Z-ffffff"))
    got = import_parts(laptop, store)
    assert got.added == 2 and len(got.skipped) == 1 and got.skipped[0].startswith("history/gitlab-7/broken.json: ")
    assert laptop.run_ids() == ["gitlab-7", "20261201T100000Z-ffffff"]  # same finish: by run id, descending
    assert [p.part for p in laptop.parts("gitlab-7")] == ["evaluate", "train"]  # in the listing's order
    assert import_parts(laptop, store).added == 0
    # The laptop's own run is mirrored by its next sync; the imported parts are not sent back.
    assert send_pending(laptop, store).sent == 1
    assert len(store.list(PREFIX)) == 4
