"""A repository for scheduled pipelines: the breast-cancer example on ``main``, its model deployed to a file
registry outside the repository (``MLSPEC_REGISTRY``, as a runner's kept volume would be), and helpers to
commit new "recent production data" or a spec change before the next scheduled run.

breast-cancer's monitoring says ``on_drift: retrain``: a scheduled pipeline monitors the production model and,
on drift, reruns validate → train → evaluate → gate, and deploys the retrained model to the targets whose
rules match the schedule's branch (``staging``: main) only if the gate passed.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from mlspec.registry import FileRegistry
from tests.e2e.project import DEFAULT_BRANCH, git
from tests.support import run_mlspec

EXAMPLE = "breast-cancer"
DRIFTED = "data/current_drifted.csv"
"""Shipped with the example: data/current.csv after two upstream changes (see examples/export_datasets.py)."""
DRIFTED_FEATURES = "drift in 3 of 30 features (mean_texture, mean_area, worst_area)"


@dataclass(frozen=True)
class Scheduled:
    root: Path
    home: Path
    registry: Path

    @property
    def spec(self) -> Path:
        return self.root / "mlspec.yaml"

    def aliases(self) -> dict[str, int]:
        return FileRegistry(self.registry).aliases(EXAMPLE)

    def commit(self, message: str, *paths: str) -> None:
        git(self.root, self.home, "add", *paths)
        git(self.root, self.home, "commit", "--quiet", "--message", message)

    def drift(self) -> None:
        """New production data arrives, and it has drifted."""
        shutil.copyfile(self.root / DRIFTED, self.root / "data" / "current.csv")
        self.commit("Recent production data", "data/current.csv")

    def edit_spec(self, old: str, new: str) -> None:
        text = self.spec.read_text("utf-8")
        assert old in text, old
        self.spec.write_text(text.replace(old, new, 1), "utf-8")
        self.commit(f"Spec: {new}", "mlspec.yaml")


def _mlspec(registry: Path, *args: str) -> str:
    result = run_mlspec(*args, env={"MLSPEC_CACHE_DIR": "", "MLSPEC_REGISTRY": str(registry)})
    assert result.returncode == 0, f"mlspec {args[0]} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


def make_scheduled_project(root: Path, home: Path, registry: Path) -> Scheduled:
    """The example with its CI files and its run's mlspec.lock committed on main, its champion deployed to
    ``production`` in ``registry``, and no workspace (a scheduled job starts from a clean checkout)."""
    project = Scheduled(root, home, registry)
    _mlspec(registry, "init", str(root), "--example", EXAMPLE)
    _mlspec(registry, "compile", "-f", str(project.spec), "--out", str(root))
    git(root, home, "init", "--quiet", "--initial-branch", DEFAULT_BRANCH)
    for key, value in (("user.name", "mlspec e2e"), ("user.email", "e2e@mlspec.invalid"), ("commit.gpgsign", "false")):
        git(root, home, "config", key, value)
    project.commit(f"{EXAMPLE} example with its generated CI files", "--all")
    _mlspec(registry, "run", "-f", str(project.spec))
    _mlspec(registry, "deploy", "production", "-f", str(project.spec))
    project.commit("Record the pipeline run on main", "mlspec.lock")
    git(root, home, "clean", "--quiet", "-d", "--force", "-x")
    assert project.aliases() == {"production": 1}
    return project
