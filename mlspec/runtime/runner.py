"""`mlspec run` and `mlspec plan`: pick the stages, skip what is up to date, run the rest, keep the lock.

For each selected stage, in graph order: compute its fingerprint (:mod:`mlspec.runtime.staleness`) and skip
it if mlspec.lock agrees and its outputs are intact. Otherwise import ``mlspec.runtime.stages.<kind>``, run it
into a fresh directory under the workspace's ``tmp/``, and on success rename that directory into place and
then record the stage in mlspec.lock (atomically). Crash safety follows from that order: until the lock is
rewritten it describes the *old* outputs, and new outputs that differ from them fail the digest check, so a
run killed at any point leaves the stage up to date or visibly stale, never wrongly up to date.

Failure policy: a stage that raises :class:`StageError` or returns a ``failed`` verdict blocks the stages
that need it, but independent stages still run (like ``make -k``). Their results are cached, so after the
fix only the failed branch reruns, and CI reports every failing suite in one go. The run then exits 1. A
failed verdict keeps its outputs (they hold the report) and removes the stage from mlspec.lock. Any other
exception is a bug in mlspec or a stage: it propagates (exit 3); the lock and outputs are untouched.

A stage whose outputs are also files of the project (a prepare step's, :mod:`mlspec.runtime.stages.prepare`)
is run into place by its command; whenever it is up to date instead (skipped, adopted, fetched), the runner
has its kind put the recorded outputs back where the project has them (``Kind.restore``) before any stage
that needs it reads them.

``--force`` reruns the stages named on the command line (all of them when none are named); the stages they
need run only if stale.

With a store (:mod:`mlspec.store`), a stage that would run is first looked up in the run cache
(:mod:`mlspec.store.runcache`) by its fingerprint (``store.run_cache``): if another run anywhere recorded it,
its outputs are fetched and verified into a fresh ``tmp/`` directory, swapped in and recorded exactly as if
the stage had run here ("fetch", counted as "from the store"). A record whose objects are gone or corrupt is
a miss: the stage runs, and its push repairs a corrupt object. ``--force`` runs the named stages without
looking. After a stage runs successfully (``store.push``) its outputs, then its record, go to the store; a
failed verdict is not pushed. A store that does not answer stops the run with its :class:`StoreError` (exit
1): what the workspace holds stays as it is, and ``mlspec push`` sends what a stopped push did not.

Every run is recorded (:mod:`mlspec.runs`): once the stages are done, still holding the workspace, the
runner builds the run's record from the outcomes and the outputs of the stages it brought up to date, keeps
it in the workspace's history, mirrors it to the store and sends it to the tracking backend. A run a store
error stops is recorded too, with the stages it finished. A backend that does not take the record makes the
run fail (exit 1) with nothing else undone; :func:`plan` records nothing.

What a run is asked beyond the spec (the gate's baseline) is one :class:`~mlspec.runtime.context.RunOptions`,
given to every fingerprint and every stage of the run; without one, :func:`run` and :func:`plan` take it from
the environment (``MLSPEC_BASELINE``), once.
"""

from __future__ import annotations

import importlib
import shutil
import time
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Literal

from mlspec.errors import MlspecError
from mlspec.fsutil import atomic_write_text, remove_stale_writes
from mlspec.graph import Stage
from mlspec.load import Loaded
from mlspec.runs.record import StageRun
from mlspec.runtime import lockfile
from mlspec.runtime.cilog import Log
from mlspec.runtime.context import RunOptions, StageContext, StageError, StageResult
from mlspec.runtime.deferred import deferred
from mlspec.runtime.hashing import StatCache, file_digest, manifest, outputs_fingerprint, to_json
from mlspec.runtime.stages import RUNNABLE, build, describe_runnable, kind_of, spec_key
from mlspec.runtime.stages import context as stage_context
from mlspec.runtime.staleness import Facts, facts_of, settle
from mlspec.runtime.workspace import Workspace, display_path
from mlspec.spec import StageKind
from mlspec.store import Store, StoreError, open_store, runcache
from mlspec.suggest import did_you_mean

Status = Literal["ran", "up to date", "failed", "blocked"]
FROM_STORE = "from the store"
"""The detail of an "up to date" outcome whose outputs were fetched from the run cache."""


def stage_module(kind: str) -> ModuleType:
    """The module implementing stage ``kind``, imported only when a stage of that kind runs."""
    return importlib.import_module(f"mlspec.runtime.stages.{kind}")


# --- choosing stages -----------------------------------------------------------------------------------------


def select(stages: Sequence[Stage], names: Sequence[str]) -> tuple[list[Stage], set[str]]:
    """The stages to consider, in graph order, and the ids named on the command line.

    A name is a stage id (``train:forest``) or a kind (``train``: every train stage). The stages a named
    stage needs are added; no names means every stage of the training pipeline that can run (monitoring is
    scheduled on its own: it runs only when named).
    """
    runnable = [s for s in stages if s.kind in RUNNABLE]
    if not names:
        pipeline = [s for s in runnable if not s.scheduled]
        return pipeline, {s.id for s in pipeline}
    named: set[str] = set()
    for name in names:
        named |= _resolve(name, stages)
    by_id = {s.id: s for s in stages}
    wanted = set(named)
    for stage in reversed(stages):  # graph order reversed: a stage comes before everything it needs
        if stage.id in wanted:
            wanted.update(by_id[n].id for n in stage.needs)
    return [s for s in runnable if s.id in wanted], named


def _resolve(name: str, stages: Sequence[Stage]) -> set[str]:
    kind = name.split(":", 1)[0]
    if kind in typing.get_args(StageKind) and kind not in RUNNABLE:
        raise MlspecError(f"stage {name!r} is not available yet; {describe_runnable()}")
    matches = {s.id for s in stages if s.id == name} or {s.id for s in stages if s.kind == name}
    if matches:
        return matches
    if name in RUNNABLE:
        raise MlspecError(f"there are no {name} stages in the spec; run `mlspec plan` to list the stages")
    choices = {s.id for s in stages} | {s.kind for s in stages}
    raise MlspecError(f"unknown stage {name!r}" + did_you_mean(name, choices))


# --- running -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageOutcome:
    """How one stage of a run ended (ran, up to date, failed, blocked)."""

    stage_id: str
    status: Status
    detail: str = ""
    seconds: float | None = None
    """Wall time of the stage when it ran (or failed) here; None when it was skipped or fetched."""


@dataclass(frozen=True)
class Report:
    outcomes: tuple[StageOutcome, ...]
    lock_path: Path
    workspace: Workspace
    left: tuple[str, ...] = ()
    """Monitoring-only stages not run because their data is absent (:mod:`mlspec.runtime.deferred`)."""
    run_id: str | None = None
    """The run's id in the run history (:mod:`mlspec.runs`)."""
    errors: tuple[str, ...] = ()
    """Problems after the stages (a tracking backend that did not take the record): the run is not ok."""

    @property
    def ok(self) -> bool:
        return not self.errors and all(o.status in ("ran", "up to date") for o in self.outcomes)


def run(
    loaded: Loaded, names: Sequence[str] = (), force: bool = False, wait: float = 0.0, log: Log | None = None,
    options: RunOptions | None = None, store: Store | Literal["spec"] | None = "spec",
) -> Report:
    """Bring the selected stages up to date; see the module docstring for the failure policy.

    ``store``: the spec's store (``store.url`` or ``MLSPEC_STORE``) by default; None runs without one.
    """
    log = log or Log()
    started = time.time()
    options = options if options is not None else RunOptions.from_environ()
    store = open_store(loaded) if store == "spec" else store
    stages = build(loaded.spec)
    selected, named = select(stages, names)
    left = {} if names else deferred(loaded, stages, selected)
    workspace = Workspace.for_spec(loaded.path)
    lock_path = lockfile.path_for(loaded.path)
    with workspace.run_lock(wait):
        workspace.clear_tmp()
        # A run killed while writing the lock leaves fsutil's temp file beside it; the lock itself is intact.
        remove_stale_writes(lock_path)
        state = _Run(loaded, workspace, lock_path, lockfile.read(lock_path), {s.id for s in stages}, log, options,
                     store)
        try:
            for stage in selected:
                if stage.id in left:
                    log.line(f"skip {stage.id}: {left[stage.id]}")
                else:
                    state.step(stage, forced=force and stage.id in named)
        except MlspecError:
            state.cache.save()
            _keep(state, names, force, started, stopped=True)  # what the stopped run did is still recorded
            raise
        state.cache.save()
        run_id, errors = _keep(state, names, force, started)
    for error in errors:
        log.error(f"error: {error}")
    report = Report(tuple(state.outcomes.values()), lock_path, workspace, tuple(left), run_id, errors)
    for line in summary(report):
        log.line(line)
    return report


def _keep(state: _Run, names: Sequence[str], force: bool, started: float,
          stopped: bool = False) -> tuple[str | None, tuple[str, ...]]:
    """Record the run in the history (:mod:`mlspec.runs`); its id and the errors to report.

    ``stopped``: the run is ending with an error of its own, which must not be hidden by one of the history's.
    """
    from mlspec import runs
    from mlspec.runs.build import build

    stages = [StageRun(o.stage_id, FROM_STORE if o.detail == FROM_STORE else o.status, o.seconds,
                       "" if o.detail == FROM_STORE else o.detail) for o in state.outcomes.values()]
    try:
        record = build(state.loaded, state.workspace, stages, state.current, names=names, force=force,
                       started=started, finished=time.time())
        kept = runs.keep(state.loaded, record, state.store, state.log)
    except MlspecError as exc:
        if not stopped:
            raise
        state.log.line(f"warning: the run was not recorded in the run history: {exc}")
        return None, ()
    return record.run_id, kept.errors


@dataclass
class _Run:
    """The bookkeeping of one run; the lock itself is an immutable value replaced on every write."""

    loaded: Loaded
    workspace: Workspace
    lock_path: Path
    lock: lockfile.Lock
    known: set[str]
    log: Log
    options: RunOptions
    store: Store | None = None
    outcomes: dict[str, StageOutcome] = field(default_factory=dict)
    output_digests: dict[str, str] = field(default_factory=dict)
    corrupt: dict[str, set[str]] = field(default_factory=dict)
    """Stage id → digests the run cache holds corrupt (found by a fetch): that stage's push repairs them."""
    current: set[str] = field(default_factory=set)
    """Stages whose outputs in the workspace are this run's (up to date, fetched, ran, or a failed verdict's):
    what the run's record reads."""

    def __post_init__(self) -> None:
        self.cache = StatCache(self.workspace.stat_cache_file)

    def step(self, stage: Stage, forced: bool) -> None:
        blockers = [n for n in stage.needs if self.outcomes[n].status not in ("ran", "up to date")]
        if blockers:
            detail = f"needs {', '.join(blockers)}, which did not succeed"
            self._record(StageOutcome(stage.id, "blocked", detail), f"blocked {stage.id}: {detail}")
            return
        facts = facts_of(stage, self.loaded, self.cache, {n: self.output_digests[n] for n in stage.needs},
                         self.options)
        locked = self.lock.stages.get(stage.id)
        outputs = manifest(self.workspace.stage_dir(stage.id), self.cache.digest)
        entry, reasons = settle(facts, locked, lockfile.read_record(self.workspace, stage.id), outputs, forced)
        if entry is not None and not reasons:
            if entry != locked:  # adopted outputs: mlspec.lock catches up with them
                self._write(self.lock.with_entry(stage.id, entry))
            self.output_digests[stage.id] = outputs_fingerprint(entry.outputs)
            self._record(StageOutcome(stage.id, "up to date"), f"skip {stage.id}: up to date")
            self.current.add(stage.id)
            self._restore(stage, entry)
            return
        if not forced and self.store is not None and self.store.settings.run_cache and self._fetch(stage, facts):
            return
        self._execute(stage, facts, reasons)

    def _fetch(self, stage: Stage, facts: Facts) -> bool:
        """Take the stage's outputs from the run cache; False when it has no usable record of them."""
        assert self.store is not None
        found = runcache.lookup(self.store, stage.id, facts.fingerprint)
        if found.warning:
            self.log.line(f"warning: {found.warning}")
        if found.entry is None:
            return False
        entry = found.entry
        tmp = self.workspace.new_tmp(stage.id)
        try:
            got = runcache.fill(self.store, entry.outputs, tmp, self.workspace.stage_dir(stage.id), self.cache.digest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if not got.complete:
            shutil.rmtree(tmp, ignore_errors=True)
            self.corrupt[stage.id] = set(got.corrupt.values())
            self.log.line(f"warning: cannot fetch {stage.id} from the store: {got.problem(self.store)}; running it")
            return False
        # As after a run: the old record goes before the swap, the new one comes after it.
        record = self.workspace.record_file(stage.id)
        record.unlink(missing_ok=True)
        self.workspace.swap_in(tmp, stage.id)
        atomic_write_text(record, lockfile.entry_to_json(entry))
        self._write(self.lock.with_entry(stage.id, entry))
        self.output_digests[stage.id] = outputs_fingerprint(entry.outputs)
        self._record(StageOutcome(stage.id, "up to date", FROM_STORE),
                     f"fetch {stage.id}: {FROM_STORE} {self.store.location} ({got.describe()})")
        self.current.add(stage.id)
        self._restore(stage, entry)
        return True

    def _restore(self, stage: Stage, entry: lockfile.Entry) -> None:
        """Outputs that are also project files (a prepare step's) back where the project has them, when they
        differ from the stage's recorded ones (another job ran the step, a run was killed while writing)."""
        hook = kind_of(stage).restore
        if hook is None:
            return
        for path in hook(self.loaded, stage, self.workspace.stage_dir(stage.id), entry.outputs, self.cache.digest):
            self.log.line(f"  restored {path} from the outputs of {stage.id}")

    def _push(self, stage: Stage, entry: lockfile.Entry) -> None:
        assert self.store is not None
        try:
            pushed = runcache.push(self.store, stage.id, self.workspace.stage_dir(stage.id), entry,
                                   self.corrupt.get(stage.id, ()))
        except StoreError as exc:
            raise StoreError(f"{exc} (the outputs of {stage.id} are kept in the workspace; `mlspec push {stage.id}` "
                             "sends them once the store answers)") from None
        self.log.line(f"  pushed {stage.id} to the store: {pushed.describe()}")

    def _execute(self, stage: Stage, facts: Facts, reasons: list[str]) -> None:
        tmp = self.workspace.new_tmp(stage.id)
        upstream_dirs = {n: self.workspace.stage_dir(n) for n in stage.needs}
        ctx = stage_context(self.loaded, stage, tmp, upstream_dirs, lambda text: self.log.line(f"  {text}"),
                            self.options, self.workspace.root, self.store)
        started = time.monotonic()
        error: StageError | None = None
        with self.log.group(stage.id, f"run {stage.id}: {'; '.join(reasons)}"):
            try:
                result = _call(stage, ctx)
            except StageError as exc:
                error = exc
        seconds = time.monotonic() - started
        took = f"{seconds:.2f} s"
        if error is not None:
            shutil.rmtree(tmp, ignore_errors=True)
            self._report_error(stage, str(error), error.spec_path)
            self._record(StageOutcome(stage.id, "failed", str(error), round(seconds, 3)),
                         f"failed {stage.id} after {took}")
            return
        if result.failed is not None:
            # Out of the lock first: a crash after this leaves the stage stale, whatever its outputs say.
            self.workspace.record_file(stage.id).unlink(missing_ok=True)
            self._write(self.lock.without(stage.id))
            self.workspace.swap_in(tmp, stage.id)
            for message, spec_path in result.failures or [(result.failed, ())]:
                self._report_error(stage, message, spec_path)
            self.current.add(stage.id)
            self._record(StageOutcome(stage.id, "failed", result.failed, round(seconds, 3)),
                         f"failed {stage.id} in {took}" + (f": {result.summary}" if result.summary else ""))
            return
        outputs = manifest(tmp, file_digest) or {}
        metrics = _metrics(stage, result)
        upstream = {n: d for n, d in facts.upstream.items() if d is not None}
        entry = lockfile.Entry(facts.fingerprint, facts.spec, facts.versions, facts.inputs, upstream, outputs,
                               metrics)
        # The old record goes before the swap and the new one comes after it, so a record never describes
        # outputs other than its own; a crash in between leaves the stage stale, which the next run fixes.
        record = self.workspace.record_file(stage.id)
        record.unlink(missing_ok=True)
        self.workspace.swap_in(tmp, stage.id)
        atomic_write_text(record, lockfile.entry_to_json(entry))
        self._write(self.lock.with_entry(stage.id, entry))
        self.output_digests[stage.id] = outputs_fingerprint(outputs)
        self.current.add(stage.id)
        self._record(StageOutcome(stage.id, "ran", result.summary, round(seconds, 3)),
                     f"ok {stage.id} in {took}" + (f": {result.summary}" if result.summary else ""))
        if self.store is not None and self.store.settings.push:
            self._push(stage, entry)

    def _report_error(self, stage: Stage, message: str, spec_path: tuple[str | int, ...]) -> None:
        # Without a key of its own, a failure points at the stage's definition (e.g. the failing suite).
        mark = self.loaded.line_of(*(spec_path or spec_key(stage)))
        where = str(self.loaded.path)
        self.log.error(f"{where}:{mark.line}:{mark.col}: stage {stage.id}: {message}", where, mark.line, mark.col)

    def _write(self, lock: lockfile.Lock) -> None:
        # Entries of stages that left the spec go at the first write, so the committed lock matches the spec.
        self.lock = lock.only(self.known)
        lockfile.write(self.lock_path, self.lock)

    def _record(self, outcome: StageOutcome, line: str) -> None:
        self.outcomes[outcome.stage_id] = outcome
        self.log.line(line)


def _call(stage: Stage, ctx: StageContext) -> StageResult:
    try:
        result = stage_module(stage.kind).run(ctx)
    except ModuleNotFoundError as exc:
        top = (exc.name or "").split(".", 1)[0]
        if not top or top == "mlspec":
            raise
        raise StageError(f"Python package {top!r} is not installed; `pip install 'mlspec-ci[run]'` installs what "
                         "the built-in stages need") from None
    if not isinstance(result, StageResult):
        raise TypeError(f"stage {stage.id} returned {type(result).__name__}, not a StageResult")
    return result


def _metrics(stage: Stage, result: StageResult) -> dict[str, object]:
    try:
        return dict(to_json(result.metrics))
    except TypeError as exc:
        raise TypeError(f"stage {stage.id} returned metrics that cannot be recorded: {exc}") from None


def summary(report: Report) -> list[str]:
    counts: dict[Status, list[str]] = {"ran": [], "up to date": [], "failed": [], "blocked": []}
    fetched = 0
    for outcome in report.outcomes:
        counts[outcome.status].append(outcome.stage_id)
        fetched += outcome.detail == FROM_STORE and outcome.status == "up to date"
    parts = [f"{len(counts['ran'])} ran", f"{len(counts['up to date']) - fetched} up to date"]
    parts += [f"{fetched} {FROM_STORE}"] if fetched else []
    parts += [f"{len(ids)} {status} ({', '.join(ids)})" for status, ids in counts.items()
              if ids and status in ("failed", "blocked")]
    parts += [f"{len(report.left)} left to monitoring ({', '.join(report.left)})"] if report.left else []
    return [
        "mlspec run: " + ", ".join(parts),
        f"lock: {display_path(report.lock_path)}",
        f"outputs: {display_path(report.workspace.stages_dir)}",
        *([f"history: run {report.run_id} (`mlspec runs show {report.run_id}`)"] if report.run_id else []),
    ]


# --- planning ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanItem:
    stage_id: str
    reasons: tuple[str, ...]
    """Why the stage would run; empty when it is up to date."""


@dataclass(frozen=True)
class Plan:
    items: tuple[PlanItem, ...]
    later: tuple[str, ...]
    """Stages of the spec that this mlspec cannot run yet."""
    left: tuple[tuple[str, str], ...] = ()
    """Monitoring-only stages the run would leave alone, with why (:mod:`mlspec.runtime.deferred`)."""


def plan(loaded: Loaded, names: Sequence[str] = (), force: bool = False, options: RunOptions | None = None) -> Plan:
    """What `mlspec run` with the same arguments would run, and why; reads the workspace, writes nothing.

    A stage whose upstream would rerun is listed as running, although the run may skip it when that
    upstream's outputs come out unchanged.
    """
    options = options if options is not None else RunOptions.from_environ()
    stages = build(loaded.spec)
    selected, named = select(stages, names)
    left = {} if names else deferred(loaded, stages, selected)
    selected = [s for s in selected if s.id not in left]
    workspace = Workspace.for_spec(loaded.path)
    lock = lockfile.read(lockfile.path_for(loaded.path))
    cache = StatCache(workspace.stat_cache_file)  # read, never saved: only a run holding the lock writes it
    digests: dict[str, str | None] = {}
    items: list[PlanItem] = []
    for stage in selected:
        facts = facts_of(stage, loaded, cache, {n: digests[n] for n in stage.needs}, options)
        outputs = manifest(workspace.stage_dir(stage.id), cache.digest)
        entry, reasons = settle(facts, lock.stages.get(stage.id), lockfile.read_record(workspace, stage.id), outputs,
                                force and stage.id in named)
        digests[stage.id] = outputs_fingerprint(entry.outputs) if entry and not reasons else None
        items.append(PlanItem(stage.id, tuple(reasons)))
    later = () if names else tuple(s.id for s in stages if s.kind not in RUNNABLE)
    return Plan(tuple(items), later, tuple(left.items()))


def render_plan(p: Plan) -> list[str]:
    lines = [f"run {i.stage_id}: {'; '.join(i.reasons)}" if i.reasons else f"skip {i.stage_id}: up to date"
             for i in p.items]
    lines += [f"skip {stage_id}: {why}" for stage_id, why in p.left]
    if p.later:
        lines.append(f"not available yet: {', '.join(p.later)}")
    to_run = sum(1 for i in p.items if i.reasons)
    lines.append(f"mlspec plan: {to_run} to run, {len(p.items) - to_run} up to date")
    return lines
