"""Progress lines for large downloads, and the error a fetch raises for the adapter to locate."""

from __future__ import annotations

from collections.abc import Callable

MIB = 1 << 20
LARGE = 64 * MIB
"""Downloads at least this large (or of unknown size) get progress lines; smaller ones only the result."""
_UNKNOWN_STEP = 256 * MIB


class FetchError(Exception):
    """An object that cannot be fetched, for a reason the user can fix; the message names the URL and what to set.
    The adapter turns it into a :class:`~mlspec.sources.base.SourceError` at the source's ``url``."""


def mib(n: int) -> str:
    return f"{n / MIB:.1f} MiB"


class Progress:
    """Counts bytes and logs a line at each tenth of a large download (every 256 MiB when the size is unknown)."""

    def __init__(self, label: str, total: int | None, log: Callable[[str], None] | None) -> None:
        self.label = label
        self.total = total
        self.log = log if log is not None and (total is None or total >= LARGE) else None
        self.done = 0
        self._next = self._step()

    def _step(self) -> int:
        if self.total is None:
            return self.done + _UNKNOWN_STEP
        return self.done + max(self.total // 10, 1)

    def add(self, n: int) -> None:
        self.done += n
        if self.log is not None and self.done >= self._next and self.done != self.total:
            of = f" of {mib(self.total)} ({100 * self.done // self.total}%)" if self.total else ""
            self.log(f"fetching {self.label}: {mib(self.done)}{of}")
            self._next = self._step()
