"""`mlspec gate` and `mlspec diff` as real subprocesses in a real git repository: the diabetes project with
its lock committed on main, then a branch that changes the ridge model."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitkit import BASELINE_VARS, GIT_ENV, baseline_from_lock, commit_all, git, init_repo

SCRUB = (*BASELINE_VARS, "MLSPEC_CACHE_DIR", "GITHUB_ACTIONS", "GITLAB_CI")
RMSE_LINE = 46


def mlspec(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SCRUB}
    return subprocess.run([sys.executable, "-m", "mlspec", *args], cwd=root, env={**clean, **GIT_ENV, **env},
                          capture_output=True, text=True, timeout=600)


def tail(stdout: str) -> list[str]:
    """What `mlspec gate` prints after the run's own lines: the verdict table."""
    text = stdout.split("\n\n", 1)[1] if "\n\n" in stdout else ""
    return text.splitlines()


@pytest.fixture(scope="module")
def main_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repo") / "diabetes"
    assert mlspec(root.parent, "init", str(root), "--example", "diabetes").returncode == 0
    baseline_from_lock(root / "mlspec.yaml")
    init_repo(root)
    done = mlspec(root, "run")
    assert done.returncode == 0, done.stdout + done.stderr
    commit_all(root, "diabetes, run on main")
    return root


@pytest.fixture
def repo(main_repo: Path, tmp_path: Path) -> Path:
    """A private copy of the repository (work tree, .git and workspace), on a new branch `feature`."""
    root = tmp_path / "diabetes"
    shutil.copytree(main_repo, root, symlinks=True)
    git(root, "checkout", "-q", "-b", "feature")
    return root


def set_alpha(root: Path, alpha: str) -> None:
    spec = root / "mlspec.yaml"
    spec.write_text(spec.read_text().replace("alpha: 1.0", f"alpha: {alpha}"))


def test_a_regression_against_main_fails_with_a_located_error(repo: Path) -> None:
    set_alpha(repo, "3000.0")  # ridge gets much worse; forest becomes the champion, still worse than main
    result = mlspec(repo, "gate")
    assert result.returncode == 1
    assert result.stderr == (f"mlspec.yaml:{RMSE_LINE}:5: stage gate: root_mean_squared_error: 3.428 worse than "
                             "the baseline 55.71, more than max_drop 5% of 55.71 = 2.786\n")
    assert tail(result.stdout) == [
        "gate: fail for model 'forest' (baseline: main:mlspec.lock)",
        "metric                   better  current  baseline  change    verdict  reason",
        "root_mean_squared_error  lower   59.14    55.71     +3.428    fail     3.428 worse than the baseline 55.71, "
        "more than max_drop 5% of 55.71 = 2.786",
        "r2                       higher  0.3143   0.3915    -0.07719  pass     0.3143 >= min 0.3",
    ]
    assert "mlspec run: 2 ran, 4 up to date, 1 failed (gate)" in result.stdout


def test_a_change_within_the_allowance_passes(repo: Path) -> None:
    set_alpha(repo, "300.0")
    result = mlspec(repo, "gate")
    assert (result.returncode, result.stderr) == (0, "")
    assert tail(result.stdout)[:1] == ["gate: pass for model 'ridge' (baseline: main:mlspec.lock)"]
    assert "0.4947 worse than the baseline 55.71, within max_drop 5% of 55.71 = 2.786" in tail(result.stdout)[2]


def test_github_annotations_against_the_pull_request_target(repo: Path) -> None:
    set_alpha(repo, "3000.0")
    git(repo, "checkout", "-q", "--detach")  # as actions/checkout leaves a pull request's merge commit
    result = mlspec(repo, "gate", GITHUB_ACTIONS="true", GITHUB_BASE_REF="main")
    assert result.returncode == 1
    # GitHub reads %25 as %: workflow commands escape it.
    assert result.stderr == (f"::error file=mlspec.yaml,line={RMSE_LINE},col=5::mlspec.yaml:{RMSE_LINE}:5: stage "
                             "gate: root_mean_squared_error: 3.428 worse than the baseline 55.71, more than max_drop "
                             "5%25 of 55.71 = 2.786\n")


def test_on_main_relative_gates_are_skipped_with_a_notice(main_repo: Path, tmp_path: Path) -> None:
    root = tmp_path / "diabetes"
    shutil.copytree(main_repo, root, symlinks=True)
    result = mlspec(root, "gate")
    assert (result.returncode, result.stderr) == (0, "")
    assert tail(result.stdout)[-1] == (
        "notice: no baseline (HEAD is on the default branch 'main', so there is no base branch to compare with; "
        "pass --baseline REV to compare with another revision): relative gates (max_drop) skipped, absolute gates "
        "(min, max) apply")
    assert "skip gate: up to date" in result.stdout  # main's own run had no baseline either


def test_baseline_by_path_and_by_revision(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "mlspec.lock").write_text((repo / "mlspec.lock").read_text())
    by_path = mlspec(repo, "gate", "--baseline", str(other / "mlspec.lock"))
    assert by_path.returncode == 0, by_path.stderr
    assert tail(by_path.stdout)[0] == f"gate: pass for model 'ridge' (baseline: {other / 'mlspec.lock'})"
    by_rev = mlspec(repo, "gate", "--baseline", "HEAD")
    assert tail(by_rev.stdout)[0] == "gate: pass for model 'ridge' (baseline: HEAD:mlspec.lock)"
    assert "run gate: input changed: <baseline>" in by_rev.stdout


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (["gate", "--baseline", "mian"], "error: baseline 'mian' is neither a file nor a git revision; name an "
                                         "mlspec.lock, a metrics.json, or a branch, tag or commit\n"),
        (["diff", "mian"], "error: unknown git revision 'mian'; name a branch, tag or commit\n"),
        (["gate", "-f", "nope.yaml"], "error: nope.yaml: file not found; run `mlspec init` to create a project, "
                                      "or pass the spec with -f PATH\n"),
    ],
)
def test_user_errors(repo: Path, args: list[str], stderr: str) -> None:
    result = mlspec(repo, *args)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", stderr)


def test_a_blocked_gate_prints_no_stale_verdict(repo: Path) -> None:
    holdout = repo / "data" / "holdout.csv"
    holdout.write_text(holdout.read_text().replace("progression", "target", 1))
    result = mlspec(repo, "gate")
    assert result.returncode == 1
    assert "blocked gate: needs evaluate, which did not succeed" in result.stdout
    assert tail(result.stdout) == []


# --- mlspec diff ---------------------------------------------------------------------------------------------


def test_diff_against_main(repo: Path) -> None:
    set_alpha(repo, "300.0")
    assert mlspec(repo, "run").returncode == 0
    result = mlspec(repo, "diff", "main")
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0] == "kind    name                                           main      workspace  change"
    assert "metric  evaluate.root_mean_squared_error               55.7145   56.2091    +0.494661" in lines
    # Each model with itself: ridge changed, the forest did not.
    assert "metric  evaluate.models.ridge.root_mean_squared_error  55.7145   56.2091    +0.494661" in lines
    assert not [line for line in lines if ".forest." in line]
    assert "param   training.models.ridge.params.alpha             1         300        +299" in lines
    assert not [line for line in lines if line.startswith("data ")]  # the data did not change

    data = json.loads(mlspec(repo, "diff", "main", "--json").stdout)
    assert data["params"] == {"training.models.ridge.params.alpha": {"old": 1.0, "new": 300.0, "change": 299.0}}
    assert data["metrics"]["evaluate.r2"]["old"] == pytest.approx(0.39153074)
    assert data["data"] == {}
    everything = json.loads(mlspec(repo, "diff", "main", "--json", "--all").stdout)
    assert sorted(everything["data"]) == ["data/current.csv", "data/holdout.csv", "data/train.csv"]


def test_diff_without_changes_and_with_changed_data(repo: Path) -> None:
    result = mlspec(repo, "diff")
    assert result.stdout == "no changes against HEAD (--all lists unchanged values)\n"
    train = repo / "data" / "train.csv"
    rows = train.read_text().splitlines(keepends=True)
    train.write_text("".join(rows[:-1]))
    assert mlspec(repo, "run", "data").returncode == 0
    lines = mlspec(repo, "diff").stdout.splitlines()
    assert re.fullmatch(r"data    data/train\.csv\s+[0-9a-f]{12}\s+[0-9a-f]{12}\s+changed", lines[-1])
    assert "metric  data:train.rows" in lines[1] and lines[1].endswith("-1")


def test_diff_outside_git(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    assert mlspec(tmp_path, "init", str(root), "--example", "diabetes").returncode == 0
    result = mlspec(root, "diff")
    assert (result.returncode, result.stderr) == (
        1, "error: mlspec diff compares with a git revision, but mlspec.yaml: not a git repository\n")


def test_diff_in_a_repository_without_commits(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    assert mlspec(tmp_path, "init", str(root), "--example", "diabetes").returncode == 0
    git(root, "init", "-q", "-b", "main")
    result = mlspec(root, "diff")
    assert (result.returncode, result.stderr) == (
        1, "error: HEAD names no commit: the repository has none yet; commit the project (git add -A && git "
           "commit), then mlspec diff compares the workspace with it\n")
