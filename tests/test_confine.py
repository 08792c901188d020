"""Paths of a spec stay in its project: `mlspec validate` refuses a data source or suite file that resolves
outside (absolute, `..`, a symlink) unless the source opts in, and special files even then."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlspec.errors import SpecError
from mlspec.load import load

SPEC = """\
version: 1
project: p
task: binary
data:
  target: y
  sources:
    train: {{path: {path}, format: csv{extra}}}
validation:
  checks: {{data: train, suite_file: {suite}}}
training:
  models:
    m: {{estimator: sklearn.linear_model.LogisticRegression, data: train}}
evaluation:
  data: train
  metrics: [accuracy]
"""
OPT_IN = "set `outside_project: true` on this source"


def _project(tmp_path: Path, path: str, *, extra: str = "", suite: str = "suite.json") -> Path:
    """A project in ``tmp_path/project`` with a secret file beside it, outside."""
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    (tmp_path / "secret.csv").write_text("token,y\nPLANTED-SECRET,1\n")
    (project / "train.csv").write_text("x,y\n1,0\n2,1\n")
    rows = '{"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}}'
    (project / "suite.json").write_text('{"expectations": [' + rows + "]}")
    spec = project / "mlspec.yaml"
    spec.write_text(SPEC.format(path=path, extra=extra, suite=suite))
    return spec


def _problems(spec: Path) -> list[str]:
    with pytest.raises(SpecError) as info:
        load(spec)
    return [str(p) for p in info.value.problems]


def _file_warnings(spec: Path) -> list[str]:
    return [str(w) for w in load(spec).warnings if w.path.startswith("data.sources")]


def _outside(spec: Path, rel: str, to: Path, col: int = 19) -> str:
    return (f"{spec}:7:{col}: data.sources.train.path: {rel!r} resolves outside the project (to {to}); "
            f"move the file into the project or {OPT_IN}")


def test_validate_exits_1_on_an_absolute_path(tmp_path: Path) -> None:
    secret = (tmp_path / "secret.csv").resolve()
    spec = _project(tmp_path, str(secret))
    result = subprocess.run([sys.executable, "-m", "mlspec", "validate", "-f", str(spec)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout + result.stderr == _outside(spec, str(secret), secret) + (
        f"\n     7 |     train: {{path: {secret}, format: csv}}\n       |                   ^\n")


def test_dot_dot_path(tmp_path: Path) -> None:
    spec = _project(tmp_path, "data/../../secret.csv")
    assert _problems(spec) == [_outside(spec, "data/../../secret.csv", (tmp_path / "secret.csv").resolve())]


def test_symlink_inside_the_project_pointing_out(tmp_path: Path) -> None:
    spec = _project(tmp_path, "link.csv")
    (spec.parent / "link.csv").symlink_to(tmp_path / "secret.csv")
    assert _problems(spec) == [_outside(spec, "link.csv", (tmp_path / "secret.csv").resolve())]


def test_symlinked_directory_pointing_out(tmp_path: Path) -> None:
    spec = _project(tmp_path, "shared/secret.csv")
    (spec.parent / "shared").symlink_to(tmp_path)
    assert _problems(spec) == [_outside(spec, "shared/secret.csv", (tmp_path / "secret.csv").resolve())]


def test_proc_environ_is_refused(tmp_path: Path) -> None:
    spec = _project(tmp_path, "/proc/self/environ")
    assert _problems(spec) == [_outside(spec, "/proc/self/environ", Path(f"/proc/{os.getpid()}/environ"))]


def test_proc_environ_is_refused_even_with_the_opt_in(tmp_path: Path) -> None:
    spec = _project(tmp_path, "/proc/self/environ", extra=", outside_project: true")
    assert _problems(spec) == [
        f"{spec}:7:19: data.sources.train.path: '/proc/self/environ' resolves to /proc/{os.getpid()}/environ, "
        "a system file, not data; mlspec reads only regular files"
    ]


@pytest.mark.parametrize("extra", ["", ", outside_project: true"])
def test_a_fifo_is_refused(extra: str, tmp_path: Path) -> None:
    spec = _project(tmp_path, "pipe.csv", extra=extra)
    os.mkfifo(spec.parent / "pipe.csv")
    assert _problems(spec) == [
        f"{spec}:7:19: data.sources.train.path: 'pipe.csv' resolves to {(spec.parent / 'pipe.csv').resolve()}, "
        "which is not a regular file (a device, FIFO or socket); mlspec reads only regular files"
    ]


def test_the_opt_in_allows_a_regular_file_outside(tmp_path: Path) -> None:
    secret = (tmp_path / "secret.csv").resolve()
    spec = _project(tmp_path, str(secret), extra=", outside_project: true")
    assert load(spec).spec.data.sources["train"].outside_project


def test_paths_inside_the_project_are_fine(tmp_path: Path) -> None:
    spec = _project(tmp_path, "data/../train.csv")
    (spec.parent / "data").mkdir()
    (spec.parent / "alias.csv").symlink_to(spec.parent / "train.csv")  # a link that stays inside is fine
    assert _file_warnings(spec) == []
    spec.write_text(spec.read_text().replace("data/../train.csv", "alias.csv"))
    assert _file_warnings(spec) == []


def test_a_missing_file_inside_is_still_a_warning(tmp_path: Path) -> None:
    spec = _project(tmp_path, "later.csv")
    assert _file_warnings(spec) == [
        f"{spec}:7:19: data.sources.train.path: 'later.csv' does not exist (yet)"
    ]


@pytest.mark.parametrize("suite", ["../secret.csv", "/etc/hostname", "link.json"])
def test_suite_file_outside_has_no_opt_in(suite: str, tmp_path: Path) -> None:
    spec = _project(tmp_path, "train.csv", suite=suite)
    (spec.parent / "link.json").symlink_to(tmp_path / "secret.csv")
    to = (spec.parent / suite).resolve()
    assert _problems(spec) == [
        f"{spec}:9:37: validation.checks.suite_file: {suite!r} resolves outside the project (to {to}); "
        "move the file into the project"
    ]
