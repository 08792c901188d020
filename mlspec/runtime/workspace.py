"""The workspace: one directory holding every stage's outputs, so a CI cache can save and restore it whole.

Layout (default ``.mlspec/`` beside mlspec.yaml; the environment variable ``MLSPEC_CACHE_DIR`` names another
directory, relative to the current directory)::

    stages/<kind>/<name>/   outputs of stage <kind>:<name> (``stages/evaluate/`` for unnamed stages)
    tmp/                    outputs being written (``<stage>.mlspec-<pid>-<random>``); swapped into stages/
                            by rename when a stage succeeds
    records/<kind>/<name>.json  the lock entry of each stage's current outputs (see below)
    trials/<model>/         a search's trial results by fingerprint (:mod:`mlspec.runtime.search.cache`)
    stat-cache.json         file digests by stat data (see :class:`mlspec.runtime.hashing.StatCache`)
    run.lock                held (flock) by the run using the workspace, and holds that run's pid
    runs.db                 the run history (:mod:`mlspec.runs.history`; ``runs.db-journal`` while it writes)
    tracking/outbox/        run records a tracking server has not taken yet (:mod:`mlspec.tracking.outbox`)
    .mlspec-owned           marks the directory as mlspec's (:mod:`mlspec.ownership`): a run refuses a
                            directory of the user's, since it cleans up inside its workspace

A stage's record travels with its outputs: a CI job that downloads another job's outputs (as an artifact) or
restores them from a cache also gets the entry that says what they were computed from, so the runner can
adopt them as up to date instead of recomputing them. mlspec.lock stays the committed summary.

Two runs on one workspace are serialised by the run lock. The default is to fail fast with a message naming
the holder: a CI job that silently waits looks hung, and on a laptop the user wants to know. ``--wait SECONDS``
waits instead. The lock is an ``flock`` on an open file, so the kernel releases it when its holder dies,
even by SIGKILL: a killed run never leaves a stale lock behind. (POSIX only, like the CI runners mlspec
targets; on NFS, Linux maps flock onto POSIX record locks, which NFS supports.)
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mlspec import ownership
from mlspec.errors import MlspecError
from mlspec.fsutil import FILE_MODE, clear_temps, fsync_dir, lock_fd, make_temp_dir, remove

ENV_VAR = "MLSPEC_CACHE_DIR"
DEFAULT_DIR = ".mlspec"
POLL_SECONDS = 0.1
LAYOUT = ownership.Layout(
    "workspace", "workspace",
    frozenset({"stages", "tmp", "records", "stat-cache.json", "run.lock", "registry", "report", "baseline", "trials",
               "mlspec.schema.json", "runs.db", "runs.db-journal", "tracking"}), "tmp")


class WorkspaceBusy(MlspecError):
    """Another run holds the workspace's run lock."""


@dataclass(frozen=True)
class Workspace:
    root: Path
    named_by: str = field(default=f"the default workspace {DEFAULT_DIR}", compare=False)
    """Which setting chose :attr:`root`, for messages."""

    @classmethod
    def for_spec(cls, spec_path: Path, environ: Mapping[str, str] = os.environ) -> Workspace:
        override = environ.get(ENV_VAR)
        return cls(Path(override), ENV_VAR) if override else cls(spec_path.parent / DEFAULT_DIR)

    @property
    def stages_dir(self) -> Path:
        return self.root / "stages"

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    @property
    def stat_cache_file(self) -> Path:
        return self.root / "stat-cache.json"

    @property
    def lock_file(self) -> Path:
        return self.root / "run.lock"

    def stage_dir(self, stage_id: str) -> Path:
        """Where the outputs of ``stage_id`` live once the stage has run."""
        return self.stages_dir.joinpath(*stage_id.split(":", 1))

    def record_file(self, stage_id: str) -> Path:
        """The lock entry of the outputs in :meth:`stage_dir`, kept beside them (not inside: not an output)."""
        kind, _, name = stage_id.partition(":")
        return self.root / "records" / f"{kind}{'/' + name if name else ''}.json"

    def claim(self) -> None:
        """Create or adopt the workspace as mlspec's, or refuse a directory holding the user's files."""
        fix = (f"point {ENV_VAR} at a new or empty directory" if self.named_by == ENV_VAR else
               f"move those files out of {display_path(self.root)}, or set {ENV_VAR} to a new or empty directory")
        ownership.claim(self.root, LAYOUT, self.named_by, fix)

    def new_tmp(self, stage_id: str) -> Path:
        """A fresh empty directory for a stage to write into, on the same filesystem as ``stages/``."""
        return make_temp_dir(self.tmp_dir, stage_id.replace(":", "-"))

    def clear_tmp(self) -> None:
        """Remove what a killed run left in ``tmp/`` (mlspec's temporary names only); under the run lock."""
        clear_temps(self.tmp_dir)

    def swap_in(self, new: Path, stage_id: str) -> Path:
        """Make the directory ``new`` the outputs of ``stage_id``, replacing the previous ones.

        POSIX cannot rename a directory over a non-empty one, so the old outputs are first renamed aside. A
        crash between the two renames leaves no outputs for the stage, which the next run sees as "outputs
        missing" and reruns; it never leaves a mix of old and new files.
        """
        final = self.stage_dir(stage_id)
        final.parent.mkdir(parents=True, exist_ok=True)
        old: Path | None = None
        if final.exists():
            old = make_temp_dir(self.tmp_dir, "old") / "outputs"
            os.replace(final, old)
        os.replace(new, final)
        fsync_dir(final.parent)
        if old is not None:
            remove(old.parent)
        return final

    @contextmanager
    def run_lock(self, wait: float = 0.0) -> Iterator[None]:
        """Hold the workspace for one run; raise :class:`WorkspaceBusy` if another run holds it."""
        try:
            self.claim()
            fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, FILE_MODE)
        except OSError as exc:
            raise MlspecError(f"cannot use the workspace {display_path(self.root)}: {exc.strerror}; make it a "
                              f"writable directory, or set {ENV_VAR} to one") from None
        try:
            lock_fd(fd, wait, lambda _: WorkspaceBusy(self._busy_message(wait)), POLL_SECONDS)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the flock

    def _busy_message(self, wait: float) -> str:
        pid = self._holder_pid()
        who = f"another mlspec run (pid {pid})" if pid else "another mlspec run"
        where = display_path(self.root)
        if wait > 0:
            return f"workspace {where} is still in use by {who} after waiting {wait:g} s; wait for it to finish"
        return f"workspace {where} is in use by {who}; wait for it to finish, or pass --wait SECONDS to wait for it"

    def _holder_pid(self) -> int | None:
        # The holder writes its pid right after taking the lock; give it a moment if we looked in between.
        for _ in range(10):
            try:
                text = self.lock_file.read_text("ascii").strip()
            except (OSError, UnicodeDecodeError):
                return None
            if text.isdigit():
                return int(text)
            time.sleep(0.02)
        return None


def display_path(path: Path) -> str:
    """``path`` relative to the current directory when it is below it, else as it is."""
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
