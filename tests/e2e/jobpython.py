"""The Python that CI jobs get on this machine, where nothing can be downloaded.

A job on a real runner starts from a bare Python and runs ``python -m pip install "$MLSPEC_INSTALL"``. Here
``MLSPEC_INSTALL`` names a wheel built from this checkout, and each job's Python is a fresh virtual
environment that sees every *dependency* of mlspec (pandas, scikit-learn, Great Expectations, and pip itself)
through a ``.pth`` file pointing at a "deps" directory: symlinks to everything in the test venv's
site-packages except mlspec. Leaving mlspec out matters twice: the job's pip must really install the wheel
(it would report "already installed" if it saw the editable install's metadata), and it must never see, let
alone uninstall, the editable install that the rest of the project uses.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from dataclasses import dataclass
from pathlib import Path

from tests.support import REPO

# site-packages entries that belong to the editable install of mlspec, or are .pth files (only processed
# in real site directories anyway, and the editable one would put this checkout on sys.path).
_HIDDEN_PREFIXES = ("mlspec", "_editable_impl_mlspec", "__editable__")


@dataclass(frozen=True)
class JobPython:
    base: Path
    """The interpreter job venvs are made from (the one running the tests)."""
    deps: Path
    """Symlinks to the test venv's site-packages without mlspec: what a job's .pth file points at."""
    wheel: Path
    """mlspec built from this checkout: the jobs' MLSPEC_INSTALL."""
    mlspec: Path
    """The ``mlspec`` command of that wheel, installed in a venv of its own: what the tests run themselves
    (init, compile, the run on the default branch), so that they and the jobs run one and the same build,
    even while the work tree changes under a long test session."""

    def venv(self, path: Path) -> Path:
        """A fresh job venv at ``path`` (no pip of its own: the one in ``deps`` serves); returns its bin."""
        venv.EnvBuilder(clear=True, with_pip=False, symlinks=True).create(path)
        site = subprocess.run([str(path / "bin" / "python"), "-c",
                               "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip()
        Path(site, "mlspec-e2e-deps.pth").write_text(f"{self.deps}\n")
        return path / "bin"


def build_wheel(out: Path) -> Path:
    """A wheel of this checkout (work tree as it is, uncommitted changes included), built offline."""
    try:
        import hatchling  # noqa: F401  # the build backend, needed here because there is no build isolation
    except ImportError:
        raise AssertionError("hatchling is not installed; run `make test`, which installs the dev extras") from None
    # No build isolation: an isolated build would download hatchling. Nothing is written into the checkout.
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
         "-w", str(out), str(REPO)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"building the mlspec wheel failed:\n{result.stdout}{result.stderr}"
    (wheel,) = out.glob("mlspec_ci-*.whl")
    return wheel


def deps_view(out: Path) -> Path:
    paths = sysconfig.get_paths()
    sites = list(dict.fromkeys(Path(paths[k]) for k in ("purelib", "platlib")))
    assert any((s / "pip").is_dir() for s in sites), f"pip is not installed in {sites[0]}; the job venvs use it"
    out.mkdir(parents=True)
    for site in sites:
        for entry in sorted(site.iterdir()):
            hidden = entry.name.startswith(_HIDDEN_PREFIXES) or entry.suffix == ".pth" or entry.name == "__pycache__"
            if not hidden and not (out / entry.name).exists():
                os.symlink(entry, out / entry.name)
    return out


def prepare(root: Path) -> JobPython:
    wheel = build_wheel(root / "wheel")
    tools = JobPython(Path(sys.executable), deps_view(root / "deps"), wheel, Path())
    bin_dir = tools.venv(root / "mlspec-venv")
    result = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--no-index", "--no-deps", "-q",
                             str(wheel)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"installing the mlspec wheel failed:\n{result.stdout}{result.stderr}"
    return JobPython(tools.base, tools.deps, wheel, bin_dir / "mlspec")


# Variables of the caller's shell that would change what the jobs do: a CI the tests themselves run in
# (GITHUB_*, GITLAB_*, CI_*, RUNNER_*), a workspace elsewhere, a PYTHONPATH putting this checkout's mlspec
# ahead of the installed wheel, an activated venv.
_FOREIGN = ("GITHUB_", "GITLAB_", "CI_", "RUNNER_", "ACTIONS_", "MLSPEC_", "PIP_", "PYTHON", "VIRTUAL_ENV")


def executor_env(home: Path, first_on_path: Path | None = None) -> dict[str, str]:
    """The environment an executor (and so each job) starts with: a private HOME (caches, act's and
    gitlab-ci-local's state), pip that cannot reach an index, and no mlspec on PATH but the job's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN) and k != "CI"}
    ours = str(Path(sys.executable).parent)  # the test venv's bin, where the editable mlspec's script is
    path = [p for p in env.get("PATH", os.defpath).split(os.pathsep) if p and p != ours]
    if first_on_path is not None:
        path.insert(0, str(first_on_path))
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), PATH=os.pathsep.join(path), PIP_NO_INDEX="1", PYTHONDONTWRITEBYTECODE="1",
               GIT_CONFIG_NOSYSTEM="1")
    stray = shutil.which("mlspec", path=os.pathsep.join(p for p in path if p != str(first_on_path)))
    assert stray is None, f"{stray} is on PATH: jobs could run it instead of the mlspec they install"
    return env
