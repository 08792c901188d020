"""The command line: exit codes, messages, and that `validate` stays light."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

import mlspec
from mlspec.cli import EXIT_BUG, build_parser, run_command
from tests.support import EXAMPLE_NAMES, EXAMPLES, run_mlspec

HEAVY = ("pandas", "numpy", "sklearn", "great_expectations", "scipy", "matplotlib", "jinja2", "jsonschema",
         # the store's filesystems (tests/store/test_filesystems.py checks a spec with a store, too)
         "fsspec", "s3fs", "boto3", "botocore", "aiobotocore", "gcsfs", "adlfs", "azure", "sshfs", "asyncssh")


def test_version() -> None:
    result = run_mlspec("--version")
    assert result.returncode == 0
    assert result.stdout == f"mlspec {mlspec.__version__}\n"


def test_validate_every_example_exits_0(example: Path) -> None:
    result = run_mlspec("validate", "-f", str(example))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{example}: valid\n")
    assert result.stderr == ""


def test_validate_summary_lists_sections_and_stage_order() -> None:
    spec = EXAMPLES / "breast-cancer" / "mlspec.yaml"
    out = run_mlspec("validate", "-f", str(spec)).stdout
    assert "  project     breast-cancer (binary)\n" in out
    assert "  stages      data:train -> data:holdout -> data:current -> validate:train_quality" in out
    assert "evaluate -> gate -> deploy:staging -> deploy:bundle -> deploy:production\n" in out


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_validate_imports_no_heavy_library(name: str) -> None:
    spec = EXAMPLES / name / "mlspec.yaml"
    code = (
        "import sys\n"
        "from mlspec.cli import main\n"
        f"rc = main(['validate', '-q', '-f', {str(spec)!r}])\n"
        f"print(rc, sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == "0 []\n"


def test_validate_reports_located_errors_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "mlspec.yaml"
    bad.write_text("version: 1\nproject: demo\ntask: binar\n")
    result = run_mlspec("validate", "-f", str(bad))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0] == (
        f"{bad}:1:1: missing required key 'data'; add `data:`"
    )
    assert f"{bad}:3:7: task: the string 'binar' is not allowed; did you mean 'binary'?" in result.stderr
    assert result.stderr.splitlines()[-1] == f"{bad}: 4 problems"


def test_missing_file_is_a_user_error(tmp_path: Path) -> None:
    result = run_mlspec("validate", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        "error: mlspec.yaml: file not found; run `mlspec init` to create a project, or pass the spec with -f PATH\n"
    )


def test_directory_is_a_user_error(tmp_path: Path) -> None:
    result = run_mlspec("validate", "-f", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr == (
        f"error: {tmp_path}: is a directory; pass the spec file itself, e.g. -f {tmp_path / 'mlspec.yaml'}\n"
    )


def test_non_utf8_file_is_located(tmp_path: Path) -> None:
    bad = tmp_path / "mlspec.yaml"
    bad.write_bytes(b"version: 1\nproject: caf\xe9\n")
    result = run_mlspec("validate", "-f", str(bad))
    assert result.returncode == 1
    assert result.stderr.startswith(f"{bad}:2:13: file is not valid UTF-8; save it as UTF-8\n")


def test_huge_file_fails_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "mlspec.yaml"
    with big.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse: no memory or disk spent
    result = run_mlspec("validate", "-f", str(big))
    assert result.returncode == 1
    assert result.stderr.startswith(f"{big}:1:1: file is 51200 KiB, larger than 2048 KiB; a spec should be a few KiB")


def test_warnings_go_to_stderr_and_keep_exit_0(tmp_path: Path) -> None:
    spec = tmp_path / "mlspec.yaml"
    spec.write_text((EXAMPLES / "diabetes" / "mlspec.yaml").read_text())  # its data files are not copied
    result = run_mlspec("validate", "-q", "-f", str(spec))
    assert result.returncode == 0
    assert result.stdout == ""
    assert f"warning: {spec}:13:19: data.sources.train.path: 'data/train.csv' does not exist (yet)" in result.stderr


def test_usage_errors_exit_2() -> None:
    assert run_mlspec().returncode == 2
    result = run_mlspec("validate", "--bogus")
    assert result.returncode == 2
    assert "unrecognized arguments: --bogus" in result.stderr


def test_internal_error_exits_3_with_report_hint(capsys: pytest.CaptureFixture[str]) -> None:
    def broken(_: argparse.Namespace) -> int:
        raise RuntimeError("boom")

    assert run_command(broken, argparse.Namespace()) == EXIT_BUG
    err = capsys.readouterr().err
    assert "RuntimeError: boom" in err
    assert err.endswith(f"mlspec {mlspec.__version__}: internal error; please report it to the mlspec "
                        "maintainers with the traceback above\n")


def test_schema_prints_the_checked_in_schema() -> None:
    result = run_mlspec("schema")
    assert result.returncode == 0
    assert result.stdout == (Path(mlspec.__file__).parent.parent / "schemas" / "mlspec.schema.json").read_text()
    assert json.loads(result.stdout)["title"] == "mlspec.yaml"


def test_init_creates_a_valid_project(tmp_path: Path) -> None:
    dest = tmp_path / "proj"
    result = run_mlspec("init", str(dest), "--example", "wine")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"created wine project in {dest} (")
    text = (dest / "mlspec.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=.mlspec/mlspec.schema.json\n")
    assert (dest / ".mlspec" / "mlspec.schema.json").read_text() == run_mlspec("schema").stdout
    assert (dest / "gx" / "holdout_suite.json").is_file()
    validated = run_mlspec("validate", "-f", str(dest / "mlspec.yaml"))
    assert validated.returncode == 0
    assert validated.stderr == ""  # every data file is there


def test_init_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "mlspec.yaml").write_text("mine\n")
    result = run_mlspec("init", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {tmp_path}: would overwrite ")
    assert (tmp_path / "mlspec.yaml").read_text() == "mine\n"
    assert not (tmp_path / "data").exists()


def test_init_unknown_example_suggests(tmp_path: Path) -> None:
    result = run_mlspec("init", str(tmp_path), "--example", "whine")
    assert result.returncode == 1
    assert result.stderr == "error: unknown example 'whine'; did you mean 'wine'?\n"


def test_every_command_has_help() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in subparsers._choices_actions}
    assert set(helps) == set(subparsers.choices)
    assert all(helps.values())


def test_init_blank_template_and_its_gitignore(tmp_path: Path) -> None:
    dest = tmp_path / "mine"
    result = run_mlspec("init", str(dest), "--template", "blank")
    assert (result.returncode, result.stderr) == (0, "")
    ignore = dest / ".gitignore"
    assert result.stdout.splitlines() == [
        f"created blank template in {dest} (3 files)",
        f"wrote {ignore}: what to commit and what not (README, \"What to commit\")",
        f"next: fill in the places marked FILL IN in {dest / 'mlspec.yaml'}, then mlspec validate -f "
        f"{dest / 'mlspec.yaml'}",
    ]
    assert ignore.read_text().startswith("# >>> mlspec")
    both = run_mlspec("init", str(dest), "--template", "blank", "--example", "wine")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
