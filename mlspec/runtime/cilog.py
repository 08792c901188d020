"""Progress lines of `mlspec run`, folded per stage in CI logs.

On a CI platform (:mod:`mlspec.platforms`) a stage's lines are folded the way its log viewer folds them,
and a located error becomes an annotation where the platform has them; elsewhere the lines are printed as
they are. A stage's verdict line is printed after its fold closes, so it stays visible when the fold is
collapsed.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TextIO

from mlspec import platforms


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
        self.platform = platforms.detect(os.environ if environ is None else environ)
        self._clock = clock

    def line(self, text: str) -> None:
        # Flushed per line: CI shows progress live only if nothing sits in a pipe buffer.
        print(text, file=self.out, flush=True)

    def error(self, text: str, file: str | None = None, line: int = 1, col: int = 1) -> None:
        """A located error on stderr; where the platform has annotations (GitHub), one on that line of
        ``file``, shown in the log and on the pull request."""
        self.out.flush()
        if self.platform is not None and file is not None:
            text = self.platform.annotation(text, file, line, col) or text
        print(text, file=self.err, flush=True)

    @contextmanager
    def group(self, name: str, title: str) -> Iterator[None]:
        """Fold the lines printed inside; ``name`` identifies the fold, ``title`` is its visible header."""
        start = self.platform.fold_start(name, title, self._clock()) if self.platform is not None else title
        self.line(start)
        try:
            yield
        finally:
            if self.platform is not None:
                self.line(self.platform.fold_end(name, self._clock()))
