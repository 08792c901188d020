"""What mlspec needs to know of a CI platform at run time: the interface each platform module implements.

A platform answers from the job's environment variables only (``env``, a mapping like ``os.environ``); the
API calls (pull/merge request comments, the drift issue) go through :mod:`mlspec.platforms.http`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mlspec.platforms.comments import Thread


@dataclass(frozen=True)
class JobFacts:
    """Who runs the job and on what: the parts of a registry actor a CI platform knows."""

    user: str
    commit: str | None
    ref: str | None
    run: str | None
    """The page of this run (attempt, or job), for people."""


@dataclass(frozen=True)
class Pipeline:
    """The pipeline run a job belongs to, as every job of it sees it: what the run history files its part under."""

    id: str
    """The platform's id of the pipeline run, with the attempt where a re-run keeps that id."""
    job: str
    """The job, as the platform names it (matrix values included where the platform adds them)."""
    branch: str | None
    """The branch built: a pull/merge request's source branch, else the pushed one."""


@dataclass(frozen=True)
class DriftIssue:
    """What the drift issue says, platform aside; the platform finds the open one by ``marker``."""

    marker: str
    label: str
    title: str
    body: str
    again: str
    """The comment added to an issue that already exists."""


class Platform(ABC):
    name: str
    """``github``: the registry key, and the ``system`` of an actor."""
    ci: str
    """``GitHub Actions``: the CI system, for people."""
    token_var: str
    """The environment variable holding the token that writes comments and issues."""
    run_noun: str
    """What the platform calls one run of the pipeline, as a note's label: ``Run``, ``Pipeline``."""
    issue_settings: str
    """The settings ``mlspec monitor --open-issue`` needs here, for a message."""

    @abstractmethod
    def detected(self, env: Mapping[str, str]) -> bool:
        """Whether this job runs on this platform."""

    # --- facts of the job -----------------------------------------------------------------------------

    @abstractmethod
    def job(self, env: Mapping[str, str]) -> JobFacts:
        """The acting user, commit, ref and run page; ``env`` holds only variables that are set and not empty."""

    @abstractmethod
    def merge_target(self, env: Mapping[str, str]) -> str | None:
        """The branch the pull/merge request being built targets."""

    @abstractmethod
    def pushed_branch(self, env: Mapping[str, str]) -> str | None:
        """The branch a push pipeline builds (CI checks out a detached HEAD, so git cannot tell)."""

    @abstractmethod
    def commit(self, env: Mapping[str, str]) -> str | None:
        """The commit a report is about: the one pushed, not a merge commit the platform made to test it."""

    @abstractmethod
    def run_url(self, env: Mapping[str, str]) -> str | None:
        """The page of this pipeline run."""

    def pipeline(self, env: Mapping[str, str]) -> Pipeline | None:
        """The pipeline run this job belongs to; None when the variables that name it are not set."""
        return None

    def artifact_url(self, env: Mapping[str, str], path: Path) -> str | None:
        """A link to ``path`` among the job's artifacts: ``""`` when it is not one, None when the platform
        cannot link to a file (then the run's page, which lists them, serves)."""
        return None

    def job_summary(self, env: Mapping[str, str]) -> tuple[str, Path] | None:
        """The variable naming the file whose Markdown the platform shows on the run's page, and that file."""
        return None

    # --- log syntax --------------------------------------------------------------------------------------

    @abstractmethod
    def fold_start(self, name: str, title: str, now: float) -> str:
        """The line that opens a fold of log lines, showing ``title``; ``name`` identifies the fold."""

    @abstractmethod
    def fold_end(self, name: str, now: float) -> str:
        """The line that closes the fold ``name``."""

    def annotation(self, text: str, file: str, line: int, col: int) -> str | None:
        """``text`` as an error annotation on a line of ``file``, or None if the platform has none."""
        return None

    # --- API -----------------------------------------------------------------------------------------------

    @abstractmethod
    def comment_thread(self, env: Mapping[str, str]) -> Thread | str:
        """The pull/merge request's comments to write to, or why there is none (a notice, not an error)."""

    @abstractmethod
    def file_issue(self, env: Mapping[str, str], issue: DriftIssue) -> str:
        """Open ``issue``, or update the open one that carries its marker; returns what was done."""
