"""Progress lines of `mlspec run`, folded per stage in CI logs.

GitHub Actions (``GITHUB_ACTIONS=true``) folds lines between ``::group::TITLE`` and ``::endgroup::`` and turns
``::error file=F,line=L,col=C::MESSAGE`` into an annotation on the file. GitLab CI (``GITLAB_CI=true``) folds
lines between ``section_start`` and ``section_end`` markers. Elsewhere the lines are printed as they are.
A stage's verdict line is printed after its fold closes, so it stays visible when the fold is collapsed.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Literal, TextIO

Style = Literal["plain", "github", "gitlab"]
_ESC = "\x1b[0K"  # GitLab's "erase to end of line", which its log viewer expects around section markers


def detect(environ: Mapping[str, str]) -> Style:
    if environ.get("GITHUB_ACTIONS") == "true":
        return "github"
    if environ.get("GITLAB_CI") == "true":
        return "gitlab"
    return "plain"


class Log:
    def __init__(
        self,
        out: TextIO | None = None,
        err: TextIO | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.style = detect(os.environ if environ is None else environ)
        self._clock = clock

    def line(self, text: str) -> None:
        # Flushed per line: CI shows progress live only if nothing sits in a pipe buffer.
        print(text, file=self.out, flush=True)

    def error(self, text: str, file: str | None = None, line: int = 1, col: int = 1) -> None:
        """A located error on stderr; on GitHub as an annotation on that line of ``file``, shown in the log
        and on the pull request."""
        self.out.flush()
        if self.style == "github" and file is not None:
            where = _escape(file).replace(":", "%3A").replace(",", "%2C")
            text = f"::error file={where},line={line},col={col}::{_escape(text)}"
        print(text, file=self.err, flush=True)

    @contextmanager
    def group(self, name: str, title: str) -> Iterator[None]:
        """Fold the lines printed inside; ``name`` identifies the fold, ``title`` is its visible header."""
        if self.style == "github":
            self.line(f"::group::{title}")
        elif self.style == "gitlab":
            self.line(f"{_ESC}section_start:{int(self._clock())}:{_section(name)}[collapsed=true]\r{_ESC}{title}")
        else:
            self.line(title)
        try:
            yield
        finally:
            if self.style == "github":
                self.line("::endgroup::")
            elif self.style == "gitlab":
                self.line(f"{_ESC}section_end:{int(self._clock())}:{_section(name)}\r{_ESC}")


def _section(name: str) -> str:
    """GitLab section names allow only letters, digits, ``_``, ``.`` and ``-``."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _escape(text: str) -> str:
    # GitHub workflow commands end at a newline; these escapes are how it spells them in a message.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
