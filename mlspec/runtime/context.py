"""The contract between the runner and the stage implementations.

A stage is a function ``run(ctx: StageContext) -> StageResult`` in ``mlspec.runtime.stages.<kind>``, beside
the kind's declaration (``KIND``, see :mod:`mlspec.runtime.stages.kind`); the runner gives it a context whose
spec shows only the sections that declaration names (:func:`mlspec.runtime.stages.context`). It writes its
files into ``ctx.out_dir`` (a fresh private directory); the runner moves that directory into place atomically
only after the stage returns, so a crash never leaves half-written outputs. A stage reads the outputs of the
stages it needs through ``ctx.upstream(stage_id)``.

A stage that ran but whose *verdict* is a failure returns ``StageResult(failed=...)`` after writing its
report files.

Outputs are content-addressed: the same inputs must give the same bytes, or mlspec.lock churns and every
downstream stage reruns. Facts that differ from run to run (wall-clock times, timestamps, run ids) go in
``ctx.run_dir`` (``_run/`` in the output directory), which is kept with the outputs but not digested.

A user-fixable error (bad data, an estimator that does not import, a failed expectation suite) is raised
as :class:`StageError`: the runner prints it with the stage and the spec line, without a traceback.

What one run is asked beyond the spec (``mlspec gate --baseline X``) reaches the stages as :class:`RunOptions`,
in ``ctx.options`` and in the kinds' external-input hooks, never through the process environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlspec.errors import MlspecError
from mlspec.graph import Stage
from mlspec.load import Loaded
from mlspec.runtime.hashing import RUN_DIR

if TYPE_CHECKING:
    from mlspec.store import Store


class StageError(MlspecError):
    """A stage failed for a reason the user can fix.

    ``spec_path`` names the spec key the failure is about (e.g. ``("training", "models", "forest",
    "estimator")``) so the message can carry ``mlspec.yaml:LINE:COL``.
    """

    def __init__(self, message: str, spec_path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.spec_path = spec_path


BASELINE_VAR = "MLSPEC_BASELINE"
"""The environment variable that requests a baseline when no ``--baseline`` is given (how CI passes one)."""
DASK_VAR = "MLSPEC_DASK_SCHEDULER"
"""The environment variable naming a Dask scheduler (``tcp://host:8786``) that runs a search's trials."""


@dataclass(frozen=True)
class RunOptions:
    """Per-run requests that are not in the spec, given to every stage (``ctx.options``) and to the kinds'
    external-input hooks, so a fingerprint and the stage it describes see the same request."""

    baseline: str | None = None
    """The gate's explicit baseline (a git revision or a path, see :mod:`mlspec.baseline`); None: the default."""
    dask_scheduler: str | None = None
    """The Dask scheduler a search's trials run on (``MLSPEC_DASK_SCHEDULER``); None: on this machine. Where
    trials run changes no result, so no fingerprint records it."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ, baseline: str | None = None) -> RunOptions:
        """The options of a run started from the command line or the API: an explicit ``baseline`` wins over
        ``MLSPEC_BASELINE``. The environment is read here, once per run, and nowhere below."""
        return cls(baseline=baseline or environ.get(BASELINE_VAR) or None,
                   dask_scheduler=environ.get(DASK_VAR, "").strip() or None)


NO_OPTIONS = RunOptions()
"""A run asked nothing beyond the spec: the default where a caller passes no options."""


@dataclass(frozen=True)
class StageContext:
    loaded: Loaded
    """The validated spec, its file path and line marks (``loaded.line_of(*path)``)."""
    stage: Stage
    out_dir: Path
    """Empty directory to write this stage's outputs into."""
    upstream_dirs: dict[str, Path]
    """Output directory of every stage listed in ``stage.needs``, by stage id."""
    log: Callable[[str], None]
    """Progress lines; shown live and grouped per stage in CI logs."""
    options: RunOptions = NO_OPTIONS
    """What this run was asked beyond the spec (the gate's baseline)."""
    workspace_root: Path | None = None
    """The run's workspace directory, where a search keeps its trial cache (``trials/``); None: no cache."""
    store: Store | None = None
    """The run's store, which also keeps a search's trial results; None: no store."""

    @property
    def spec(self) -> Any:
        return self.loaded.spec

    @property
    def root(self) -> Path:
        """Directory of mlspec.yaml; relative paths in the spec are resolved against it."""
        return self.loaded.root

    @property
    def run_dir(self) -> Path:
        """Where to put facts of this particular run (times, run ids): kept, but not part of the digests."""
        path = self.out_dir / RUN_DIR
        path.mkdir(exist_ok=True)
        return path

    def upstream(self, stage_id: str) -> Path:
        return self.upstream_dirs[stage_id]


@dataclass
class StageResult:
    metrics: dict[str, Any] = field(default_factory=dict)
    """Numbers worth recording in mlspec.lock (row counts, metric values, ...); JSON-serialisable."""
    summary: str = ""
    """One line for the run log, e.g. "3 suites, 41 expectations passed"."""
    failed: str | None = None
    """Set when the stage ran but its verdict is a failure (e.g. a suite's expectations failed). The runner
    keeps its outputs for reports, exits non-zero, and does not record it as up to date in mlspec.lock."""
    failures: list[tuple[str, tuple[str | int, ...]]] = field(default_factory=list)
    """With ``failed``: each failing check as (message, spec key it is about), e.g. one per failing gate. The
    runner reports each on its own spec line (a GitHub annotation) instead of one error at the stage."""
