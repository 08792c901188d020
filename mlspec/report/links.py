"""Where and for what a report was made, from the CI system's variables: commit, run link, HTML link."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from mlspec import __version__, jsonio


def context(environ: Mapping[str, str]) -> tuple[str, ...]:
    parts = [f"mlspec {__version__}"]
    sha = environ.get("CI_COMMIT_SHA") or environ.get("GITHUB_SHA")
    if environ.get("GITHUB_EVENT_PATH"):  # on pull requests GITHUB_SHA is a merge commit; show the pushed one
        sha = _github_head_sha(Path(environ["GITHUB_EVENT_PATH"])) or sha
    if sha:
        parts.append(f"commit {sha[:12]}")
    run = _run_url(environ)
    if run:
        parts.append(run)
    return tuple(parts)


def _github_head_sha(event: Path) -> str | None:
    try:
        data = jsonio.read(event)
    except (OSError, jsonio.JsonError):  # only a nicer commit id: the report does not depend on it
        return None
    sha = jsonio.dig(data, "pull_request", "head", "sha")
    return sha if isinstance(sha, str) and sha else None


def _run_url(environ: Mapping[str, str]) -> str:
    if environ.get("CI_PIPELINE_URL"):
        return environ["CI_PIPELINE_URL"]
    keys = ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    if all(environ.get(k) for k in keys):
        server, repo, run = (environ[k] for k in keys)
        return f"{server}/{repo}/actions/runs/{run}"
    return ""


def html_url(environ: Mapping[str, str], html: Path) -> str:
    """GitLab links straight to a file in a job's artifacts; GitHub only to the run, whose page lists them."""
    job, project_dir = environ.get("CI_JOB_URL"), environ.get("CI_PROJECT_DIR")
    if job and project_dir:
        try:
            rel = html.absolute().relative_to(Path(project_dir).absolute())
        except ValueError:
            return ""
        return f"{job}/artifacts/file/{rel.as_posix()}"
    return _run_url(environ)
