"""The registry of platforms: which one a job runs on, and the job's facts read from any platform's variables."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlspec import platforms

ALLOWED = ("mlspec", "mlspec.errors", "mlspec.jsonio")
"""What mlspec.platforms may import beyond itself: the package (for its version) and leaves."""


@pytest.mark.parametrize(
    ("environ", "name"),
    [({}, None), ({"GITHUB_ACTIONS": "true"}, "github"), ({"GITLAB_CI": "true"}, "gitlab"),
     ({"GITHUB_ACTIONS": "false", "GITLAB_CI": "1"}, None),
     ({"GITHUB_ACTIONS": "true", "GITLAB_CI": "true"}, "github")],
)
def test_detect(environ: dict[str, str], name: str | None) -> None:
    found = platforms.detect(environ)
    assert (found.name if found is not None else None) == name


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, False), ({"CI": "true"}, True), ({"GITHUB_ACTIONS": "true"}, True), ({"GITLAB_CI": "true"}, True),
     ({"CI": "1", "GITLAB_CI": "yes"}, False)],
)
def test_in_ci(environ: dict[str, str], expected: bool) -> None:
    assert platforms.in_ci(environ) is expected


def test_one_module_per_platform_with_distinct_names() -> None:
    assert platforms.names() == ("github", "gitlab")
    assert len({p.token_var for p in platforms.PLATFORMS}) == len(platforms.PLATFORMS)


@pytest.mark.parametrize(
    ("environ", "target"),
    [({"GITHUB_BASE_REF": "develop"}, "develop"), ({"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"}, "main"),
     ({"GITHUB_BASE_REF": ""}, None), ({}, None)],
)
def test_merge_target_needs_no_detection(environ: dict[str, str], target: str | None) -> None:
    assert platforms.merge_target(environ) == target


def test_the_detected_platform_is_believed_first() -> None:
    both = {"CI_COMMIT_BRANCH": "from-gitlab", "GITHUB_REF_TYPE": "branch", "GITHUB_REF_NAME": "from-github"}
    assert platforms.pushed_branch(both) == "from-github"
    assert platforms.pushed_branch({**both, "GITLAB_CI": "true"}) == "from-gitlab"


def test_commit_and_run_page() -> None:
    assert (platforms.commit({}), platforms.run_url({})) == (None, None)
    gitlab = {"CI_COMMIT_SHA": "c" * 40, "CI_PIPELINE_URL": "https://gitlab.example/p/1"}
    assert (platforms.commit(gitlab), platforms.run_url(gitlab)) == ("c" * 40, "https://gitlab.example/p/1")


def test_artifact_links_fall_back_to_the_run_page(tmp_path: Path) -> None:
    html = tmp_path / "report" / "report.html"
    gitlab = {"CI_JOB_URL": "https://gitlab.example/j/7", "CI_PROJECT_DIR": str(tmp_path),
              "CI_PIPELINE_URL": "https://gitlab.example/p/1"}
    assert platforms.artifact_url(gitlab, html) == "https://gitlab.example/j/7/artifacts/file/report/report.html"
    assert platforms.artifact_url(gitlab, Path("/elsewhere/report.html")) == ""
    assert platforms.artifact_url({"CI_PIPELINE_URL": "https://gitlab.example/p/1"}, html) == (
        "https://gitlab.example/p/1")
    assert platforms.artifact_url({}, html) == ""


def test_job_summary_only_where_the_platform_has_one(tmp_path: Path) -> None:
    assert platforms.job_summary({"GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")}) == (
        "GITHUB_STEP_SUMMARY", tmp_path / "s.md")
    assert platforms.job_summary({"GITLAB_CI": "true"}) is None


def test_a_low_layer_free_of_heavy_imports() -> None:
    """The platforms import leaves only: report, monitor, registry and runtime call them, never the reverse."""
    code = ("import sys, json, mlspec.platforms; "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('mlspec', 'pydantic', 'jinja2', 'yaml', 'numpy', 'pandas', 'sklearn', 'great_expectations'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(done.stdout)
    outside = [m for m in loaded if not m.startswith("mlspec.platforms") and m not in ALLOWED]
    assert outside == []
    assert {"mlspec.platforms.github", "mlspec.platforms.gitlab", "mlspec.platforms.http"} <= set(loaded)
