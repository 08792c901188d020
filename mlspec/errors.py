"""Exceptions that carry user-facing messages.

Anything derived from :class:`MlspecError` is a *user* problem: the CLI prints its message and exits 1,
never a traceback. Any other exception escaping a command is a bug in mlspec (exit 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class MlspecError(Exception):
    """A problem the user can fix; ``str(err)`` is the complete message."""

    exit_code = 1


@dataclass(frozen=True, order=True)
class Problem:
    """One finding in a spec file, located by 1-based line and column."""

    file: str
    line: int
    col: int
    path: str
    message: str

    def __str__(self) -> str:
        # Line 0: a problem of a command-line argument (``--set KEY=VALUE``), which has no position.
        where = f"{self.file}:{self.line}:{self.col}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SpecError(MlspecError):
    """The spec file could not be read or is invalid; holds every problem found, in file order."""

    def __init__(self, problems: Sequence[Problem], source: str | None = None) -> None:
        self.problems = sorted(problems)
        self.source = source
        super().__init__(self.render(context=False))

    def render(self, context: bool = True) -> str:
        """All problems, each optionally followed by the offending source line with a caret."""
        lines: list[str] = []
        src_lines = self.source.splitlines() if (context and self.source) else []
        for p in self.problems:
            lines.append(str(p))
            if 0 < p.line <= len(src_lines):
                text = src_lines[p.line - 1]
                lines.append(f"  {p.line:>4} | {text}")
                lines.append(f"       | {' ' * (p.col - 1)}^")
        if len(self.problems) > 1:
            # The file's name, even when a `--set` argument (line 0, sorted first) has problems too.
            file = next((p.file for p in self.problems if p.line), "--set")
            lines.append(f"{file}: {len(self.problems)} problems")
        return "\n".join(lines)
