"""Atomic writes and mlspec's temporary directories: modes follow the umask, as any ordinary tool's do."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlspec.fsutil import atomic_write_text, make_temp_dir, write_durable


@pytest.fixture(params=[0o002, 0o022, 0o077])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    mask = int(request.param)
    old = os.umask(mask)
    try:
        yield mask
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_atomic_write_gets_0666_less_the_umask(tmp_path: Path, umask: int) -> None:
    atomic_write_text(tmp_path / "mlspec.lock", "x\n")
    assert mode(tmp_path / "mlspec.lock") == 0o666 & ~umask


def test_a_durable_write_gets_0666_less_the_umask(tmp_path: Path, umask: int) -> None:
    write_durable(tmp_path / "model.skops", b"x")
    assert mode(tmp_path / "model.skops") == 0o666 & ~umask


def test_a_temp_dir_that_becomes_outputs_gets_0777_less_the_umask(tmp_path: Path, umask: int) -> None:
    assert mode(make_temp_dir(tmp_path, "train-m")) == 0o777 & ~umask


def test_replacing_a_file_takes_the_new_mode_not_the_old(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    target.write_text("old")
    target.chmod(0o600)
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert mode(target) == 0o666 & ~current_umask()


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
