"""The .gitignore block: what git then ignores (asked of real git), and appending it once to a user's file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlspec.gitignore import BEGIN, block, merge
from mlspec.load import load
from tests.support import EXAMPLES

COMMITTED = ["mlspec.yaml", "mlspec.lock", ".gitlab-ci.yml", ".github/workflows/mlspec.yml", "data/train.csv",
             ".mlspec/mlspec.schema.json", "gx/holdout_suite.json"]
MADE = [".mlspec/stages/train/forest/model.skops", ".mlspec/report/report.html", ".mlspec/registry/p/aliases.json",
        ".mlspec/run.lock", "dist/model/model.skops", "dist/.model.mlspec-lock"]


def ignored(root: Path, paths: list[str]) -> set[str]:
    """The paths of ``paths`` that git would ignore in ``root`` (``git check-ignore`` exits 1 for none)."""
    done = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=root, capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr
    return set(done.stdout.split())


def test_git_ignores_what_runs_make_and_keeps_what_to_commit(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text(block(load(EXAMPLES / "breast-cancer" / "mlspec.yaml").spec))
    assert ignored(tmp_path, COMMITTED + MADE) == set(MADE)


def test_a_registry_store_or_export_outside_the_workspace_is_listed() -> None:
    spec = load(EXAMPLES / "breast-cancer" / "mlspec.yaml").spec
    spec = spec.model_copy(update={"registry": spec.registry.model_copy(update={"path": "models/registry"})})
    lines = block(spec).splitlines()
    made = [line for line in lines if line.startswith("/") and not line.startswith("/.mlspec")]
    assert made == ["/dist/model/", "/models/registry/"]
    assert block(None).splitlines()[-1] == "# <<< mlspec"


def test_what_prepare_steps_make_is_ignored_and_their_inputs_kept(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text(block(load(EXAMPLES / "churn" / "mlspec.yaml").spec))
    made = ["data/train.csv", "data/holdout.csv", "data/current.csv"]
    kept = ["prepare.py", "raw/usage.csv", "raw/customers.csv", "mlspec.yaml"]
    assert ignored(tmp_path, made + kept) == set(made)


@pytest.mark.parametrize(("existing", "expected"), [
    (None, "B\n"),
    ("", "B\n"),
    ("node_modules/\n", "node_modules/\n\nB\n"),
    ("node_modules/", "node_modules/\n\nB\n"),
    ("node_modules/\n\n", "node_modules/\n\nB\n"),
])
def test_the_block_is_appended_after_the_users_lines(existing: str | None, expected: str) -> None:
    assert merge(existing, "B\n") == expected


def test_a_file_with_the_block_is_left_alone() -> None:
    assert merge(f"x\n{BEGIN} (edited by me)\n/.mlspec/*\n", block(None)) is None
