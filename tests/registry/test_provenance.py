"""Who acted, from where: CI facts from GitHub Actions and GitLab CI, git and the local user elsewhere."""

from __future__ import annotations

from pathlib import Path

from mlspec.registry.base import Actor
from mlspec.registry.card import render
from mlspec.registry.provenance import _dirty, actor
from tests.gitkit import commit_all, init_repo


def test_github_actions() -> None:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "octocat", "GITHUB_SHA": "b" * 40, "GITHUB_REF_NAME": "v1.2",
           "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "99",
           "GITHUB_RUN_ATTEMPT": "2"}
    assert actor(Path("."), env) == Actor("octocat", "github", "b" * 40, "v1.2",
                                          "https://github.com/o/r/actions/runs/99/attempts/2")


def test_gitlab_ci_without_a_job_url_names_the_pipeline() -> None:
    env = {"GITLAB_CI": "true", "GITLAB_USER_LOGIN": "alice", "CI_COMMIT_SHA": "c" * 40, "CI_COMMIT_REF_NAME": "main",
           "CI_JOB_URL": "", "CI_PIPELINE_URL": "https://gitlab.example.com/g/p/-/pipelines/5"}
    assert actor(Path("."), env) == Actor("alice", "gitlab", "c" * 40, "main",
                                          "https://gitlab.example.com/g/p/-/pipelines/5")


def test_local_facts_come_from_git(tmp_path: Path) -> None:
    init_repo(tmp_path)
    (tmp_path / "mlspec.yaml").write_text("version: 1\n")
    head = commit_all(tmp_path, "first")
    found = actor(tmp_path, {})
    assert (found.system, found.commit, found.ref, found.run_url) == ("local", head, "main", None)
    assert found.user  # the git identity, or the login name
    assert _dirty(tmp_path) is False
    (tmp_path / "mlspec.yaml").write_text("version: 1\nproject: x\n")
    assert _dirty(tmp_path) is True


def test_outside_git(tmp_path: Path) -> None:
    found = actor(tmp_path, {"USER": "carol"})
    assert (found.system, found.commit, found.ref) == ("local", None, None)
    assert _dirty(tmp_path) is None


def test_card_escapes_table_cells_and_survives_a_sparse_record() -> None:
    card = render({"model": "m", "gate": {"verdict": "warn", "gates": [
        {"metric": "f1", "verdict": "warn", "current": 0.5, "baseline": None, "reason": "a | b"}]}})
    assert card.startswith("# Model card: m\n")
    assert "| f1 | warn | 0.5 | — | a \\| b |" in card
    assert "| code | unknown (not a git checkout) |" in card
