"""Fingerprints of values, digests of files, and the stat cache that spares re-reading unchanged files."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from mlspec.runtime.hashing import StatCache, canonical_json, file_digest, fingerprint, to_json

HOUR_AGO = time.time() - 3600


def _age(path: Path) -> None:
    """Give a file an old mtime, past the racy window, as files are on a no-op run."""
    os.utime(path, (HOUR_AGO, HOUR_AGO))


def test_fingerprint_is_sha256_of_canonical_json() -> None:
    value = {"b": [1, 2.5, None, True], "a": "é"}
    assert canonical_json(value) == '{"a":"é","b":[1,2.5,null,true]}'.encode()
    assert fingerprint(value) == "sha256:" + hashlib.sha256(canonical_json(value)).hexdigest()


def test_fingerprint_ignores_key_order_but_not_values() -> None:
    assert fingerprint({"a": 1, "b": {"c": 2, "d": 3}}) == fingerprint({"b": {"d": 3, "c": 2}, "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})
    assert fingerprint({"a": 1}) != fingerprint({"a": 1.0})  # `C: 1` and `C: 1.0` reach estimators differently
    assert fingerprint([1, 2]) != fingerprint([2, 1])


class NumpyLike:
    """Quacks like a numpy scalar: has ``item()``."""

    def __init__(self, value: float) -> None:
        self.value = value

    def item(self) -> float:
        return self.value


def test_to_json_converts_numpy_like_values_and_non_finite_floats() -> None:
    value = {1: NumpyLike(0.5), "t": (1, 2), "nan": float("nan"), "inf": NumpyLike(float("-inf"))}
    assert to_json(value) == {"1": 0.5, "t": [1, 2], "nan": "nan", "inf": "-inf"}


def test_to_json_refuses_unknown_objects() -> None:
    with pytest.raises(TypeError, match=r"^object is not JSON-serialisable$"):
        to_json({"x": object()})


def test_file_digest_matches_sha256sum(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(os.urandom(3 * (1 << 20) + 17))  # more than one chunk, not a multiple of it
    sha256sum = shutil.which("sha256sum")
    assert sha256sum, "coreutils sha256sum is part of every supported CI image"
    expected = subprocess.run([sha256sum, str(path)], capture_output=True, text=True, check=True).stdout.split()[0]
    assert file_digest(path) == f"sha256:{expected}"


def test_empty_file_digest(tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    assert file_digest(tmp_path / "empty") == "sha256:" + hashlib.sha256(b"").hexdigest()


def test_stat_cache_skips_reading_unchanged_files(tmp_path: Path) -> None:
    data, cache_file = tmp_path / "big.csv", tmp_path / "cache.json"
    data.write_bytes(b"a,b\n" * 100_000)
    _age(data)
    first = StatCache(cache_file)
    digest = first.digest(data)
    assert first.hashed_bytes == 400_000
    first.save()

    again = StatCache(cache_file)
    assert again.digest(data) == digest == file_digest(data)
    assert again.hashed_bytes == 0


def test_stat_cache_sees_same_size_edit_with_restored_mtime(tmp_path: Path) -> None:
    data, cache_file = tmp_path / "big.csv", tmp_path / "cache.json"
    data.write_bytes(b"a,b\n1,2\n")
    _age(data)
    cache = StatCache(cache_file)
    before = cache.digest(data)
    cache.save()
    data.write_bytes(b"a,b\n1,3\n")  # same size ...
    _age(data)  # ... and the same mtime, as `cp -p` or `touch -d` would leave it; ctime still moves
    after = StatCache(cache_file).digest(data)
    assert after != before
    assert after == file_digest(data)


def test_stat_cache_does_not_trust_fresh_files(tmp_path: Path) -> None:
    data, cache_file = tmp_path / "fresh.csv", tmp_path / "cache.json"
    data.write_bytes(b"x\n")
    cache = StatCache(cache_file)
    cache.digest(data)
    cache.save()
    assert not cache_file.exists()  # nothing worth saving: a fresh mtime may hide a second write
    again = StatCache(cache_file)
    again.digest(data)
    assert again.hashed_bytes == 2


def test_stat_cache_forgets_deleted_files_and_survives_corruption(tmp_path: Path) -> None:
    keep, gone, cache_file = tmp_path / "keep", tmp_path / "gone", tmp_path / "cache.json"
    for path in (keep, gone):
        path.write_bytes(b"1")
        _age(path)
    cache = StatCache(cache_file)
    cache.digest(keep)
    cache.digest(gone)
    cache.save()
    gone.unlink()
    assert StatCache(cache_file).digest(gone) is None
    reloaded = StatCache(cache_file)
    reloaded.save()  # prunes the deleted file
    assert list(json.loads(cache_file.read_text())["entries"]) == [str(keep)]

    cache_file.write_text("{not json")
    broken = StatCache(cache_file)
    assert broken.digest(keep) == file_digest(keep)
    assert broken.hashed_bytes == 1


def test_stat_cache_digest_of_missing_file_or_directory_is_none(tmp_path: Path) -> None:
    cache = StatCache(None)
    assert cache.digest(tmp_path / "nope") is None
    assert cache.digest(tmp_path) is None


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"version": 1, "entries": {"x": [' + "9" * 5000 + ', 1, 1, 1, 1, "sha256:0"]}}',
        '{"version": 1, "entries": {"x": [1e999, 1, 1, 1, 1, "sha256:0"]}}',
        '{"version": 1, "entries": ' + '{"a": ' * 500 + "1" + "}" * 500 + "}",
        "\xff\xfe not text",
    ],
)
def test_hostile_stat_cache_is_ignored_and_rebuilt(tmp_path: Path, text: str) -> None:
    data, cache_file = tmp_path / "data.csv", tmp_path / "cache.json"
    data.write_bytes(b"a\n1\n")
    _age(data)
    cache_file.write_text(text, "utf-8", errors="surrogateescape")
    cache = StatCache(cache_file)
    assert cache.digest(data) == file_digest(data)
    cache.save()
    assert list(json.loads(cache_file.read_text())["entries"]) == [str(data)]


def test_unusable_stat_cache_is_replaced_even_when_nothing_new_is_cached(tmp_path: Path) -> None:
    cache_file = tmp_path / "cache.json"
    cache_file.write_text("[" * 100_000)
    StatCache(cache_file).save()
    assert json.loads(cache_file.read_text()) == {"version": 1, "entries": {}}
