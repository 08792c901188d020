"""`mlspec run`, `mlspec plan` and `mlspec status` as real subprocesses: output, exit codes, the run lock."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.runtime import fakestages
from tests.runtime.procs import environ, masked, mlspec, start, wait_for

BUSY = "error: workspace .mlspec is in use by another mlspec run (pid {pid}); wait for it to finish, or pass " \
       "--wait SECONDS to wait for it\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    fakestages.write_project(tmp_path)
    return tmp_path


def test_second_run_on_a_busy_workspace_fails_fast_naming_the_holder(root: Path) -> None:
    first = start(root, "run", FAKE_BLOCK="validate:train_check")
    try:
        wait_for(root / "started-validate-train_check", first)
        second = mlspec(root, "run")
        assert (second.returncode, second.stdout, second.stderr) == (1, "", BUSY.format(pid=first.pid))
        # Reading commands do not take the lock.
        assert mlspec(root, "plan").returncode == 0
        assert mlspec(root, "status").returncode == 0
        waiting = start(root, "run", "--wait", "60")
    finally:
        (root / "release").write_text("")
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, err
    assert masked(out)[-3] == "mlspec run: 0 ran, 7 up to date"


def test_wait_timeout_message(root: Path) -> None:
    first = start(root, "run", FAKE_BLOCK="validate:train_check")
    try:
        wait_for(root / "started-validate-train_check", first)
        second = mlspec(root, "run", "--wait", "0.2")
        assert second.returncode == 1
        assert second.stderr == (f"error: workspace .mlspec is still in use by another mlspec run (pid {first.pid}) "
                                 "after waiting 0.2 s; wait for it to finish\n")
    finally:
        (root / "release").write_text("")
        first.communicate(timeout=60)


def test_status_before_and_after_runs(root: Path) -> None:
    before = mlspec(root, "status")
    assert before.returncode == 0
    assert before.stdout.splitlines() == [
        "workspace: .mlspec (no runs yet)",
        "lock: mlspec.lock (not written yet)",
        *[f"{sid}: never run" for sid in
          ("data:train", "data:holdout", "validate:train_check", "train:m1", "train:m2", "evaluate", "gate")],
        "run `mlspec plan` to see what would run and why",
    ]
    assert mlspec(root, "run", harness=True, FAKE_FAIL="validate:train_check").returncode == 1
    (root / ".mlspec/stages/data/holdout/profile.json").write_text("{}")
    after = mlspec(root, "status")
    assert after.stdout.splitlines() == [
        "workspace: .mlspec",
        "lock: mlspec.lock (2 stages recorded)",
        "data:train: recorded; outputs match the lock (2 files)",  # profile.json, snapshot.parquet
        "  columns = 2",
        "  rows = 5",
        "data:holdout: recorded; outputs differ from the lock: profile.json",
        "  columns = 2",
        "  rows = 3",
        "validate:train_check: not recorded; outputs present from a failed or interrupted run",
        "train:m1: never run",
        "train:m2: never run",
        "evaluate: never run",
        "gate: never run",
        "run `mlspec plan` to see what would run and why",
    ]


def test_metrics_in_status_are_flattened(root: Path) -> None:
    assert mlspec(root, "run", harness=True).returncode == 0
    lines = mlspec(root, "status").stdout.splitlines()
    evaluate = lines.index("evaluate: recorded; outputs match the lock (1 file)")
    assert lines[evaluate + 1:evaluate + 4] == ["  champion = m1", "  scores.m1 = 0.888889", "  scores.m2 = 0.888889"]


def test_exit_codes_and_located_stage_errors(root: Path) -> None:
    failed = mlspec(root, "run", harness=True, FAKE_ERROR="train:m2")
    assert failed.returncode == 1
    assert failed.stderr == "mlspec.yaml:15:3: stage train:m2: the seed is cursed\n"
    assert masked(failed.stdout)[-3] == ("mlspec run: 4 ran, 0 up to date, 1 failed (train:m2), 2 blocked (evaluate, "
                                         "gate)")

    crashed = mlspec(root, "run", harness=True, FAKE_CRASH="train:m2")
    assert crashed.returncode == 3
    assert "RuntimeError: stand-in stage crashed" in crashed.stderr
    assert crashed.stderr.endswith("internal error; please report it to the mlspec maintainers with the "
                                   "traceback above\n")

    ok = mlspec(root, "run", harness=True)
    assert ok.returncode == 0 and ok.stderr == ""


def test_spec_path_in_messages_is_the_one_given(root: Path) -> None:
    result = mlspec(root.parent, "run", "-f", f"{root.name}/mlspec.yaml", harness=True, FAKE_ERROR="train:m1")
    assert result.stderr == f"{root.name}/mlspec.yaml:15:3: stage train:m1: the seed is cursed\n"
    assert masked(result.stdout)[-2:] == [f"lock: {root.name}/mlspec.lock", f"outputs: {root.name}/.mlspec/stages"]


def test_github_actions_groups_and_annotations(root: Path) -> None:
    result = mlspec(root, "run", "data:train", "train:m1", harness=True, GITHUB_ACTIONS="true",
                    FAKE_ERROR="train:m1")
    assert masked(result.stdout)[:8] == [
        "::group::run data:train: no lock entry",
        "  read train.csv: 5 rows, 2 columns",
        "::endgroup::",
        "ok data:train in T: 5 rows, 2 columns",
        "::group::run validate:train_check: no lock entry",
        "::endgroup::",
        "ok validate:train_check in T: 5 rows checked",
        "::group::run train:m1: no lock entry",
    ]
    assert result.stderr == ("::error file=mlspec.yaml,line=15,col=3::mlspec.yaml:15:3: stage train:m1: "
                             "the seed is cursed\n")


def test_gitlab_sections(root: Path) -> None:
    # Bytes, not text mode: universal newlines would turn the bare \r of the markers into line breaks.
    result = subprocess.run([sys.executable, "-m", "mlspec", "run", "data:train"], cwd=root,
                            env=environ(GITLAB_CI="true"), capture_output=True, check=True)
    lines = result.stdout.decode().split("\n")
    assert re.fullmatch(r"\x1b\[0Ksection_start:\d+:data_train\[collapsed=true\]\r\x1b\[0K"
                        r"run data:train: no lock entry", lines[0])
    assert lines[1] == "  read train.csv: 5 rows, 2 columns"
    assert re.fullmatch(r"\x1b\[0Ksection_end:\d+:data_train\r\x1b\[0K", lines[2])
    assert lines[3].startswith("ok data:train in ")


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (["run", "trian"], "error: unknown stage 'trian'; did you mean 'train'?\n"),
        (["plan", "deploy"], "error: stage 'deploy' is not available yet; mlspec run can run prepare, data, "
                             "validate, train, evaluate, gate and monitor stages; deploy with "
                             "`mlspec deploy TARGET`\n"),
        (["run", "-f", "nope.yaml"], "error: nope.yaml: file not found; run `mlspec init` to create a project, "
                                     "or pass the spec with -f PATH\n"),
    ],
)
def test_user_errors(root: Path, args: list[str], stderr: str) -> None:
    result = mlspec(root, *args)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", stderr)


def test_bad_wait_is_a_usage_error(root: Path) -> None:
    result = mlspec(root, "run", "--wait", "soon")
    assert result.returncode == 2
    assert "argument --wait: expected a number of seconds, got 'soon'" in result.stderr


def test_invalid_spec_is_located(root: Path) -> None:
    spec = root / "mlspec.yaml"
    spec.write_text(spec.read_text().replace("seed: 1", "seed: one"))
    result = mlspec(root, "run")
    assert result.returncode == 1
    assert result.stderr.startswith("mlspec.yaml:15:9: training.seed: expected a whole number, got the string 'one'")


def test_corrupt_lock_is_a_user_error(root: Path) -> None:
    (root / "mlspec.lock").write_text('{"schema": 1,\n "stages": {\n')
    for command in ("run", "plan", "status"):
        result = mlspec(root, command)
        assert (result.returncode, result.stderr) == (
            1, "error: mlspec.lock:3:1: not valid JSON: Expecting property name enclosed in double quotes; "
               "delete it to rerun every stage\n")


def test_unusable_workspace_is_a_user_error(root: Path) -> None:
    result = mlspec(root, "run", MLSPEC_CACHE_DIR="train.csv/ws")
    assert (result.returncode, result.stderr) == (
        1, "error: cannot use the workspace train.csv/ws: Not a directory; make it a writable directory, or set "
           "MLSPEC_CACHE_DIR to one\n")
