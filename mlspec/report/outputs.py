"""Writing the report: the formats asked for, into one directory, and GitHub's job summary.

The files are written atomically, so a job that uploads the directory never sends half a report. The
Markdown also goes to the job summary where the platform has one (``$GITHUB_STEP_SUMMARY`` on GitHub
Actions): that is what a pull request from a fork shows, since its token cannot write a comment. With a
store, the outputs the report reads are pulled from it first (:func:`pull_inputs`), so a CI job in a fresh
directory reports from the store alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from mlspec import platforms
from mlspec.errors import MlspecError
from mlspec.fsutil import atomic_write_text
from mlspec.load import Loaded
from mlspec.report import DIRECTORY, FILES, FORMATS
from mlspec.report.model import Report, collect
from mlspec.runtime.workspace import Workspace, display_path


def default_dir(loaded: Loaded, environ: Mapping[str, str] = os.environ) -> Path:
    return Workspace.for_spec(loaded.path, environ).root / DIRECTORY


def renderers() -> dict[str, Callable[[Report], str]]:
    from mlspec.report import gitlab_metrics, html, junit, markdown

    return {"markdown": markdown.render, "html": html.render, "junit": junit.render,
            "gitlab-metrics": gitlab_metrics.render}


def write(loaded: Loaded, formats: Sequence[str], out_dir: Path | None = None,
          environ: Mapping[str, str] = os.environ) -> list[str]:
    """Render ``formats`` (names of :data:`mlspec.report.FORMATS`, or ``all``) into ``out_dir``; returns what
    was written, one line each, for the user."""
    out = out_dir if out_dir is not None else default_dir(loaded, environ)
    wanted = FORMATS if "all" in formats else tuple(f for f in FORMATS if f in formats)
    lines, missing = pull_inputs(loaded, environ)
    report = collect(loaded, out, environ)
    render = renderers()
    for fmt in wanted:
        path = out / FILES[fmt]
        text = render[fmt](report)
        try:
            atomic_write_text(path, text)
        except OSError as exc:
            raise MlspecError(f"cannot write the report to {display_path(path)}: {exc.strerror or exc}") from None
        lines.append(f"wrote {display_path(path)}")
        summary = platforms.job_summary(environ) if fmt == "markdown" else None
        if summary is not None:
            lines.append(_append_summary(*summary, text))
    lines.append(f"{report.icon} {report.headline}")
    return [*missing, *lines]


def pull_inputs(loaded: Loaded, environ: Mapping[str, str] = os.environ) -> tuple[list[str], list[str]]:
    """With a store, pull the pipeline's outputs first; (lines of what moved, warnings of what is missing).

    All of them, model bundles included: the report shows a stage's outputs only when they are current, which
    `mlspec plan` decides from the outputs of everything upstream of it.
    """
    from mlspec.runtime.stages import RUNNABLE
    from mlspec.store import StoreError
    from mlspec.store.transfer import pull_for

    try:
        return pull_for(loaded, kinds=RUNNABLE, environ=environ)
    except StoreError as exc:
        # The report is for people: it shows what the job holds (the CI report job gets the pipeline's artifacts
        # and, holding a token that writes to the project, no store credentials) and says what it could not get.
        return [], [f"warning: the report shows the outputs this job holds; {exc}"]


def _append_summary(var: str, path: Path, text: str) -> str:
    try:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise MlspecError(f"cannot append the report to ${var} ({path}): {exc.strerror or exc}") from None
    return f"appended the Markdown report to the job summary (${var})"
