"""Where and for what a report was made, from the CI platform's variables: commit, run link, HTML link."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from mlspec import __version__, platforms


def context(environ: Mapping[str, str]) -> tuple[str, ...]:
    parts = [f"mlspec {__version__}"]
    sha = platforms.commit(environ)
    if sha:
        parts.append(f"commit {sha[:12]}")
    run = platforms.run_url(environ)
    if run:
        parts.append(run)
    return tuple(parts)


def html_url(environ: Mapping[str, str], html: Path) -> str:
    """A link to the HTML report: to the file itself where the platform links to artifacts (GitLab), else to
    the run, whose page lists them (GitHub)."""
    return platforms.artifact_url(environ, html)
