"""The CI platforms mlspec runs on, one module each (:mod:`~mlspec.platforms.github`,
:mod:`~mlspec.platforms.gitlab`), and what the rest of mlspec asks of them.

A platform module holds everything mlspec knows of its platform at run time (see
:class:`~mlspec.platforms.base.Platform`): detection, the job's facts, log folding and annotations, comments and
issues over :mod:`mlspec.platforms.http`. Adding a platform is one module and one line in :data:`PLATFORMS`.
The compile side (the generated CI files) is :mod:`mlspec.targets`.

The job's facts (base branch, commit, run page, ...) are read from the platform the job runs on first, then
from any other platform whose variables are set: a variable such as ``GITHUB_BASE_REF`` counts even without
``GITHUB_ACTIONS``, as it always has (and as tests and hand-run jobs set them).

This package is a low layer: it imports only leaves (:mod:`mlspec.errors`, :mod:`mlspec.jsonio`) and the
standard library, so every command may use it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from mlspec.platforms import github, gitlab
from mlspec.platforms.base import DriftIssue, JobFacts, Pipeline, Platform
from mlspec.platforms.comments import Thread

PLATFORMS: tuple[Platform, ...] = (github.PLATFORM, gitlab.PLATFORM)
"""In detection order."""

__all__ = ["PLATFORMS", "DriftIssue", "JobFacts", "Pipeline", "Platform", "Thread", "artifact_url", "commit", "detect",
           "in_ci", "job_summary", "merge_target", "names", "pushed_branch", "run_url"]


def detect(env: Mapping[str, str]) -> Platform | None:
    """The platform this job runs on, or None (a local run, or a CI system mlspec does not know)."""
    return next((p for p in PLATFORMS if p.detected(env)), None)


def in_ci(env: Mapping[str, str]) -> bool:
    """Whether this runs in a CI job: a known platform, or any CI system that sets ``CI=true``."""
    return env.get("CI") == "true" or detect(env) is not None


def names() -> tuple[str, ...]:
    return tuple(p.name for p in PLATFORMS)


def merge_target(env: Mapping[str, str]) -> str | None:
    """The branch the pull/merge request being built targets."""
    return next((b for p in _consulted(env) if (b := p.merge_target(env))), None)


def pushed_branch(env: Mapping[str, str]) -> str | None:
    """The branch a CI push pipeline builds."""
    return next((b for p in _consulted(env) if (b := p.pushed_branch(env))), None)


def commit(env: Mapping[str, str]) -> str | None:
    """The commit a report is about."""
    return next((c for p in _consulted(env) if (c := p.commit(env))), None)


def run_url(env: Mapping[str, str]) -> str | None:
    """The page of this pipeline run."""
    return next((u for p in _consulted(env) if (u := p.run_url(env))), None)


def artifact_url(env: Mapping[str, str], path: Path) -> str:
    """A link to ``path`` among the job's artifacts where the platform has one, else to the run's page (which
    lists them); ``""`` when there is none."""
    for platform in _consulted(env):
        link = platform.artifact_url(env, path)
        if link is not None:
            return link
    return run_url(env) or ""


def job_summary(env: Mapping[str, str]) -> tuple[str, Path] | None:
    """The variable naming the file of the run page's Markdown summary, and that file, where there is one."""
    return next((s for p in _consulted(env) if (s := p.job_summary(env))), None)


def _consulted(env: Mapping[str, str]) -> Iterator[Platform]:
    """The platforms in the order their variables are believed: the detected one first."""
    yield from sorted(PLATFORMS, key=lambda p: not p.detected(env))
