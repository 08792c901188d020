"""`mlspec comment`: the Markdown report as **one** pull/merge request comment, edited in place on every push.

The comment is found again by the hidden marker on its first line (``<!-- mlspec-report: <project> -->``):
the first comment of the thread that starts with it is edited; only when there is none is one created. So a
pull request has one mlspec comment however often it is pushed to, not one per commit. Where the comments
are, and with which token, is the platform's (:mod:`mlspec.platforms.github`, :mod:`mlspec.platforms.gitlab`);
finding and editing the comment is :mod:`mlspec.platforms.comments`.

Nothing to comment on is not an error: outside a pull/merge request, without a token (a pull request from a
fork gets none that can write, and its report is in the job summary and artifacts), the command prints a
notice and succeeds. An API that refuses is an error with the platform's own message and what to check.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from mlspec import platforms
from mlspec.errors import MlspecError
from mlspec.load import Loaded
from mlspec.platforms import comments
from mlspec.report import marker


def comment(loaded: Loaded, body_file: Path | None = None, environ: Mapping[str, str] = os.environ) -> list[str]:
    """Post or update the report comment; ``body_file`` replaces the report rendered from the workspace."""
    thread = locate(environ)
    if isinstance(thread, str):
        return [f"notice: {thread}"]
    tag = marker(loaded.spec.project)
    if body_file is None:
        from mlspec.report import markdown
        from mlspec.report.model import collect
        from mlspec.report.outputs import default_dir, pull_inputs

        pull_inputs(loaded, environ)  # with a store; what is missing shows in the report as missing
        body = markdown.render(collect(loaded, default_dir(loaded, environ), environ))
    else:
        try:
            body = body_file.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise MlspecError(f"cannot read the comment body {body_file}: {exc}") from None
        if not body.startswith(tag):
            body = f"{tag}\n{body}"
    return [comments.upsert(thread, body, tag)]


def locate(environ: Mapping[str, str] = os.environ) -> comments.Thread | str:
    """The thread to comment on, or why there is none here (a notice, not an error)."""
    platform = platforms.detect(environ)
    if platform is None:
        known = " or ".join(p.ci for p in platforms.PLATFORMS)
        return f"not running in {known}: no pull or merge request to comment on"
    return platform.comment_thread(environ)
