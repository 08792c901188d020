"""`mlspec init` in-process: the blank template and the .gitignore it writes or extends, never overwriting."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlspec.errors import MlspecError
from mlspec.gitignore import BEGIN
from mlspec.load import load
from mlspec.project import init_project


def test_the_blank_template_is_a_valid_spec_that_names_what_to_fill_in(tmp_path: Path) -> None:
    written = init_project(tmp_path, template="blank")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        ".gitignore", ".mlspec/mlspec.schema.json", "mlspec.yaml"]
    text = (tmp_path / "mlspec.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=.mlspec/mlspec.schema.json\n")
    assert text.count("FILL IN") == 5
    loaded = load(tmp_path / "mlspec.yaml")
    # Valid as it stands; only the data the user has yet to put there is missing.
    assert {w.message for w in loaded.warnings} == {"'data/train.csv' does not exist (yet)",
                                                    "'data/holdout.csv' does not exist (yet)"}


def test_an_unknown_template_suggests_one(tmp_path: Path) -> None:
    with pytest.raises(MlspecError, match=r"^unknown template 'blnak'; did you mean 'blank'\?$"):
        init_project(tmp_path, template="blnak")


def test_an_existing_gitignore_gets_the_block_once(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("node_modules/\n")
    assert tmp_path / ".gitignore" in init_project(tmp_path / ".", "wine")
    first = (tmp_path / ".gitignore").read_text()
    assert first.startswith("node_modules/\n\n" + BEGIN) and first.count(BEGIN) == 1
    (tmp_path / "mlspec.yaml").unlink()
    assert tmp_path / ".gitignore" not in init_project(tmp_path, template="blank")
    assert (tmp_path / ".gitignore").read_text() == first


def test_a_refused_init_writes_no_gitignore(tmp_path: Path) -> None:
    (tmp_path / "mlspec.yaml").write_text("mine\n")
    with pytest.raises(MlspecError, match="would overwrite"):
        init_project(tmp_path, template="blank")
    assert not (tmp_path / ".gitignore").exists()
