"""The store's API against each kind of store: a directory, S3 (moto's server) and Azure Blob (Azurite)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from mlspec.load import load_text
from mlspec.runtime.hashing import file_digest
from mlspec.store import Store, StoreError, digest_of_key, object_key, open_store
from tests.support import EXAMPLES

SPEC = (EXAMPLES / "diabetes" / "mlspec.yaml").read_text()


def opened(tmp_path: Path, extra: str = "") -> Store:
    store = open_store(load_text(SPEC + extra, str(tmp_path / "mlspec.yaml"), tmp_path / "mlspec.yaml"))
    assert store is not None
    return store


def test_no_store_without_a_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLSPEC_STORE", raising=False)
    assert open_store(load_text(SPEC, str(tmp_path / "mlspec.yaml"), tmp_path / "mlspec.yaml")) is None


def test_relative_directory_is_relative_to_the_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLSPEC_STORE", raising=False)
    store = opened(tmp_path, "store:\n  url: shared/store\n")
    assert store.settings.url.prefix == str(tmp_path / "shared" / "store")
    assert store.settings.named_by == "store.url"


def test_object_keys_round_trip() -> None:
    digest = "sha256:" + "ab" * 32
    assert object_key(digest) == "objects/sha256/ab/" + "ab" * 31
    assert digest_of_key(object_key(digest)) == digest
    assert digest_of_key("runs/train/x.json") is None
    with pytest.raises(ValueError):
        object_key("md5:abc")


def test_objects_put_get_verify(store_env: str, tmp_path: Path) -> None:
    store = opened(tmp_path)
    src = tmp_path / "data.bin"
    src.write_bytes(b"x" * 3_000_000)
    digest = file_digest(src)
    assert not store.has(digest)
    assert store.put_file(src, digest) is True
    assert store.has(digest)
    assert store.put_file(src, digest) is False  # already there: nothing sent
    dest = tmp_path / "out" / "data.bin"
    store.get_file(digest, dest)
    assert dest.read_bytes() == src.read_bytes()
    assert [k for k in store.list("objects/") if digest_of_key(k) == digest] == [object_key(digest)]
    assert not [p for p in dest.parent.iterdir() if p.name != "data.bin"]  # no temporary left behind


def test_a_changed_object_is_refused(store_env: str, tmp_path: Path) -> None:
    store = opened(tmp_path)
    src = tmp_path / "a.txt"
    src.write_bytes(b"good")
    digest = file_digest(src)
    store.put_file(src, digest)
    store.replace(object_key(digest), b"evil")  # someone who can write the bucket
    dest = tmp_path / "dest.txt"
    dest.write_bytes(b"previous")
    with pytest.raises(StoreError, match="was changed or corrupted"):
        store.get_file(digest, dest)
    assert dest.read_bytes() == b"previous"


def test_create_is_create_if_absent(store_env: str, tmp_path: Path) -> None:
    store = opened(tmp_path)
    assert store.read("runs/x.json") is None
    assert store.create("runs/x.json", b"first") is True
    assert store.create("runs/x.json", b"second") is False
    assert store.read("runs/x.json") == b"first"
    store.replace("runs/x.json", b"third")
    assert store.read("runs/x.json") == b"third"
    store.delete("runs/x.json")
    assert store.read("runs/x.json") is None
    store.delete("runs/x.json")  # deleting what is gone is not an error


def test_racing_creators_one_wins(store_env: str, tmp_path: Path) -> None:
    store = opened(tmp_path)
    wins: list[int] = []
    barrier = threading.Barrier(6)

    def race(n: int) -> None:
        barrier.wait()
        if store.create("registry/claim", str(n).encode()):
            wins.append(n)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert store.read("registry/claim") == str(wins[0]).encode()


def test_batches_send_only_what_is_missing(store_env: str, tmp_path: Path) -> None:
    store = opened(tmp_path)
    files = []
    for n in range(40):  # enough for directory listings rather than one lookup per object
        path = tmp_path / "src" / f"f{n}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"file {n}\n")
        files.append((path, file_digest(path)))
    assert store.put_many(files[:5]) == 5
    assert store.missing([d for _, d in files]) == [d for _, d in files[5:]]
    assert store.put_many(files + files[:3]) == 35  # duplicates and what is there are not sent again
    assert store.missing([d for _, d in files]) == []
    dests = [(digest, tmp_path / "back" / path.name) for path, digest in files]
    store.get_many(dests)
    assert all(dest.read_text() == src.read_text() for (src, _), (_, dest) in zip(files, dests, strict=True))
    assert sorted(p.name for p in (tmp_path / "back").iterdir()) == sorted(p.name for p, _ in files)


def test_a_missing_object_in_a_batch_names_it(store_env: str, tmp_path: Path) -> None:
    store = opened(tmp_path)
    src = tmp_path / "here.txt"
    src.write_text("here")
    store.put_file(src, file_digest(src))
    absent = "sha256:" + "0" * 64
    with pytest.raises(StoreError, match=f"has no {object_key(absent)}; push it"):
        store.get_many([(file_digest(src), tmp_path / "a" / "here.txt"), (absent, tmp_path / "a" / "gone.txt")])
    assert not (tmp_path / "a" / "gone.txt").exists()
    assert [p.name for p in (tmp_path / "a").iterdir()] in ([], ["here.txt"])  # no temporary left


def test_large_transfers_report_each_tenth(store_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from mlspec.store import progress

    monkeypatch.setattr(progress, "LARGE", 1_000_000)  # the threshold, lowered so the test file is small
    store = opened(tmp_path)
    src = tmp_path / "big.bin"
    src.write_bytes(bytes(range(256)) * 12_000)  # 3 MB
    small = tmp_path / "small.bin"
    small.write_bytes(b"s" * 1000)
    store.put_many([(src, file_digest(src)), (small, file_digest(small))])
    store.get_many([(file_digest(src), tmp_path / "got" / "big.bin")])
    err = capsys.readouterr().err
    assert "mlspec: download big.bin (2.9 MiB): 100%" in err
    assert "small.bin" not in err
    assert "mlspec: upload big.bin (2.9 MiB): 100%" in err
    assert store.get_many([(file_digest(src), tmp_path / "quiet" / "big.bin")], progress=False) is None
    assert capsys.readouterr().err == ""
