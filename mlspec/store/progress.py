"""Progress of large transfers: one line on stderr per tenth of a file, through fsspec's own callback API.

Small files say nothing (a push of a thousand of them would drown the log); a file of :data:`LARGE` bytes or
more says where it is at each 10%, so a CI log shows a slow transfer moving, not a hung job. Lines, not a bar:
CI logs are not terminals.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO

from fsspec.callbacks import Callback

LARGE = 64 * 2**20
"""Files from this size up report their progress."""


def size_text(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


class Tenths(Callback):  # type: ignore[misc]  # fsspec is untyped
    """Prints ``mlspec: upload model.skops (1.0 GiB): 30%`` each time the transfer crosses a tenth."""

    def __init__(self, verb: str, name: str, size: int, stream: TextIO | None = None) -> None:
        super().__init__(size=size)
        self.verb = verb
        self.name = name
        self.stream = stream
        self._shown = 0
        # s3fs and adlfs update from several parts at once.
        self._lock = threading.Lock()

    def call(self, hook_name: str | None = None, **kwargs: Any) -> None:
        size = self.size or 0
        if size < LARGE:
            return
        with self._lock:
            tenth = min(10, int(self.value * 10 // size))
            if tenth <= self._shown:
                return
            self._shown = tenth
        stream = self.stream or sys.stderr
        stream.write(f"mlspec: {self.verb} {self.name} ({size_text(size)}): {tenth * 10}%\n")
        stream.flush()


    async def hook(self, current: int, total: int | None) -> None:
        """The Azure SDK's ``progress_hook`` (bytes sent so far, of ``total``)."""
        if total:
            self.size = total
        self.absolute_update(current)


def callback(verb: str, name: str, size: int, enabled: bool) -> Callback | None:
    """A :class:`Tenths` for a large file when progress is ``enabled``; None (no callback) otherwise."""
    return Tenths(verb, name, size) if enabled and size >= LARGE else None
