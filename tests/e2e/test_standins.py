"""The action stand-ins keep the real actions' rules, so an artifact path that would not round-trip on GitHub
fails here too; and every pinned action but checkout has one, clearly marked as a test stand-in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlspec.targets import actions
from tests.e2e.act_local import BUILT_IN, STANDINS

UPLOAD = STANDINS / "actions" / "upload-artifact" / "upload.py"
DOWNLOAD = STANDINS / "actions" / "download-artifact" / "download.py"


@pytest.mark.parametrize("action", [a for a in actions.ALL if a not in BUILT_IN], ids=lambda a: a.repo)
def test_every_pinned_action_has_a_marked_standin(action: actions.Action) -> None:
    path = STANDINS / action.repo / "action.yml"
    assert path.is_file(), f"add a stand-in for {action.repo} in {path.parent}"
    text = path.read_text()
    assert text.startswith(f"# TEST STAND-IN for {action.repo}, used only by tests/e2e")
    meta = yaml.safe_load(text)
    assert meta["runs"]["using"] == "composite"
    assert "test stand-in" in meta["name"]


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _script(script: Path, workspace: Path, store: Path, **inputs: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GITHUB_WORKSPACE": str(workspace), "MLSPEC_E2E_ARTIFACTS": str(store)}
    env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    return subprocess.run([sys.executable, str(script)], cwd=workspace, env=env, capture_output=True, text=True,
                          timeout=60)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    for rel in ("ml/.mlspec/stages/train/forest/model.skops", "ml/.mlspec/stages/train/forest/.hidden",
                "ml/.mlspec/records/train/forest.json", "ml/mlspec.lock", "notes/a.txt", "notes/b.log"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)
    return root


def test_upload_keeps_paths_below_the_common_ancestor(workspace: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    done = _script(UPLOAD, workspace, store, name="mlspec-train-forest", path="ml/.mlspec/stages\nml/.mlspec/records\n",
                   include_hidden_files="true")
    assert done.returncode == 0, done.stdout
    assert _files(store / "mlspec-train-forest") == [
        "records/train/forest.json", "stages/train/forest/.hidden", "stages/train/forest/model.skops"]


def test_upload_leaves_out_hidden_files_unless_asked(workspace: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert _script(UPLOAD, workspace, store, name="a", path="ml/.mlspec/stages").returncode == 0
    assert _files(store / "a") == ["train/forest/model.skops"]
    # A search path whose own name starts with a dot is hidden too.
    done = _script(UPLOAD, workspace, store, name="b", path="ml/.mlspec", if_no_files_found="error")
    assert done.returncode == 1
    assert "no files were found" in done.stdout


def test_upload_of_one_file_keeps_no_directory(workspace: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert _script(UPLOAD, workspace, store, name="lock", path="ml/mlspec.lock").returncode == 0
    assert _files(store / "lock") == ["mlspec.lock"]


def test_upload_globs_and_exclusions(workspace: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert _script(UPLOAD, workspace, store, name="notes", path="notes/*\n!notes/*.log").returncode == 0
    assert _files(store / "notes") == ["a.txt"]


def test_upload_of_a_name_twice_fails_unless_overwrite(workspace: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert _script(UPLOAD, workspace, store, name="x", path="notes").returncode == 0
    again = _script(UPLOAD, workspace, store, name="x", path="notes")
    assert again.returncode == 1
    assert "already uploaded" in again.stdout
    assert _script(UPLOAD, workspace, store, name="x", path="ml/mlspec.lock", overwrite="true").returncode == 0
    assert _files(store / "x") == ["mlspec.lock"]


def test_upload_rejects_names_github_rejects(workspace: Path, tmp_path: Path) -> None:
    done = _script(UPLOAD, workspace, tmp_path / "store", name="train/forest", path="notes")
    assert done.returncode == 1
    assert "is not valid" in done.stdout


def test_download_by_name_pattern_and_merge(tmp_path: Path) -> None:
    store = tmp_path / "store"
    for name, rel in (("mlspec-a", "stages/a/out"), ("mlspec-b", "stages/b/out"), ("other", "x")):
        (store / name / rel).parent.mkdir(parents=True)
        (store / name / rel).write_text(name)
    job = tmp_path / "job"
    job.mkdir()
    assert _script(DOWNLOAD, job, store, name="other", path="one").returncode == 0
    assert _files(job / "one") == ["x"]
    assert _script(DOWNLOAD, job, store, pattern="mlspec-*", path="each").returncode == 0
    assert _files(job / "each") == ["mlspec-a/stages/a/out", "mlspec-b/stages/b/out"]
    assert _script(DOWNLOAD, job, store, pattern="mlspec-*", merge_multiple="true", path="ml/.mlspec").returncode == 0
    assert _files(job / "ml" / ".mlspec") == ["stages/a/out", "stages/b/out"]
    missing = _script(DOWNLOAD, job, store, name="nope")
    assert missing.returncode == 1
    assert "artifact 'nope' not found" in missing.stdout
