"""The distribution people install: `make wheel` builds it offline, and `pip install '<wheel>[run]'` gives
`mlspec-ci` (the PyPI name `mlspec` is another project's) with the `mlspec` command and import package."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mlspec import __version__
from tests.e2e.jobpython import JobPython, deps_view
from tests.support import REPO

VENV = Path(sys.executable).parent.parent


def _make_wheel(dist: Path) -> Path:
    stamp = VENV / ".mlspec-installed"
    assert stamp.exists(), "run `make test`, which installs the dev extras into the venv"
    # -o: the venv is the one running these tests, as it is; never reinstall anything into it.
    done = subprocess.run(["make", "-C", str(REPO), "wheel", f"VENV={VENV}", f"DIST={dist}", "-o", str(stamp)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = dist.glob("*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_wheel(tmp_path_factory.mktemp("dist"))


def test_make_wheel_builds_the_mlspec_ci_distribution(wheel: Path) -> None:
    assert wheel.name == f"mlspec_ci-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        metadata = zf.read(f"mlspec_ci-{__version__}.dist-info/METADATA").decode()
        entry_points = zf.read(f"mlspec_ci-{__version__}.dist-info/entry_points.txt").decode()
        names = zf.namelist()
    assert "\nName: mlspec-ci\n" in metadata
    assert "Provides-Extra: run" in metadata
    assert "mlspec = mlspec.cli:main" in entry_points
    assert "mlspec/cli/__init__.py" in names
    assert "mlspec/_data/templates/github/mlspec.yml.j2" in names


@pytest.mark.slow
def test_pip_install_of_the_wheel_with_run_gives_mlspec_ci_and_the_command(wheel: Path, tmp_path: Path) -> None:
    # A fresh venv that sees mlspec's dependencies (not mlspec) through a .pth file, as a CI job's does in
    # tests/e2e: pip resolves `[run]` against them with no index, and must install the wheel itself.
    tools = JobPython(Path(sys.executable), deps_view(tmp_path / "deps"), wheel, Path())
    bin_dir = tools.venv(tmp_path / "venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))}
    env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    done = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", f"{wheel}[run]"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    probe = ("from importlib import metadata\n"
             "import mlspec\n"
             "dist = metadata.distribution('mlspec-ci')\n"
             "print(dist.metadata['Name'], dist.version, mlspec.__file__)\n"
             "try:\n"
             "    metadata.distribution('mlspec')\n"
             "except metadata.PackageNotFoundError:\n"
             "    print('no-mlspec')\n")
    seen = subprocess.run([str(bin_dir / "python"), "-c", probe], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=60)
    assert seen.returncode == 0, seen.stderr
    name, version, where, absent = seen.stdout.split()
    assert (name, version, absent) == ("mlspec-ci", __version__, "no-mlspec"), seen.stdout
    assert Path(where).is_relative_to(tmp_path / "venv"), where
    command = subprocess.run([str(bin_dir / "mlspec"), "--version"], capture_output=True, text=True, env=env,
                             cwd=tmp_path, timeout=60)
    assert (command.returncode, command.stdout.strip()) == (0, f"mlspec {__version__}")
    init = subprocess.run([str(bin_dir / "mlspec"), "init", "p", "--example", "wine"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120)
    assert init.returncode == 0, init.stderr
    compiled = subprocess.run([str(bin_dir / "mlspec"), "compile", "-f", "p/mlspec.yaml", "--out", "p"],
                              capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert compiled.returncode == 0, compiled.stderr
    assert f'MLSPEC_INSTALL: "mlspec-ci[run]=={__version__}"' in (tmp_path / "p" / ".gitlab-ci.yml").read_text()
