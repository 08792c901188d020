"""`mlspec init` in-process: the blank template and the .gitignore it writes or extends, never overwriting."""

from __future__ import annotations

import io
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


def test_the_blank_template_runs_on_the_users_own_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its only blanks are the ones it marks: with a table of the user's (here scikit-learn's bundled breast
    cancer data, the target renamed to the template's `label`) the whole pipeline runs and the gate passes."""
    from sklearn.datasets import load_breast_cancer

    from mlspec.runtime.cilog import Log
    from mlspec.runtime.runner import run

    for var in ("MLSPEC_CACHE_DIR", "MLSPEC_BASELINE", "MLSPEC_STORE", "MLSPEC_WORKSPACE"):
        monkeypatch.delenv(var, raising=False)
    init_project(tmp_path, template="blank")
    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "label"})
    (tmp_path / "data").mkdir()
    frame.iloc[::3].to_csv(tmp_path / "data" / "holdout.csv", index=False)
    frame.drop(frame.index[::3]).to_csv(tmp_path / "data" / "train.csv", index=False)
    out, err = io.StringIO(), io.StringIO()
    report = run(load(tmp_path / "mlspec.yaml"), log=Log(out, err, {}))
    assert report.ok, out.getvalue() + err.getvalue()
    assert [o.stage_id for o in report.outcomes] == [
        "data:train", "data:holdout", "train:baseline", "evaluate", "gate"]
