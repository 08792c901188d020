"""What one `mlspec run` leaves in the run history: a :class:`RunRecord`, plain JSON values only.

A *run* is one pipeline run: a local `mlspec run`, or every job of one CI pipeline. Each `mlspec run`
invocation writes one *part* of its run (``part``: "local", or the CI job's name); the parts of a CI
pipeline share its ``run_id`` and :func:`merge` folds them into the run that `mlspec runs` shows. Records
are immutable once written; a re-run of a CI job writes a new part under the same run (a later ``finished``
wins where parts disagree).

This module is the contract between the history (:mod:`mlspec.runs`), which builds and keeps records, and
the tracking backends (:mod:`mlspec.tracking`), which send them elsewhere. It imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

FORMAT = 1


@dataclass(frozen=True)
class StageRun:
    """How one stage of the run ended."""

    id: str
    status: str
    """"ran", "up to date", "from the store" (fetched from the run cache), "failed" or "blocked"."""
    seconds: float | None = None
    """Wall time of the stage when it ran here; None when it was skipped or fetched."""
    detail: str = ""


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    """Local runs: ``<UTC yyyymmddTHHMMSSZ>-<6 hex>``; CI: ``<platform>-<pipeline id>[-<attempt>]``, shared
    by every job of the pipeline."""
    part: str
    """"local", or the CI job that wrote this part."""
    project: str
    started: str
    """ISO 8601, UTC, seconds."""
    finished: str
    seconds: float
    who: str
    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None
    ci: Mapping[str, str] = field(default_factory=dict)
    """platform, pipeline, job, url: empty for a local run."""
    command: tuple[str, ...] = ()
    """The stage names given to `mlspec run` (empty: the whole pipeline)."""
    force: bool = False
    overrides: tuple[str, ...] = ()
    """``--set`` arguments as given (``training.models.forest.params.max_depth=12``)."""
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Model name → {"estimator": ..., "params": {...}, ...}: what the spec (after overrides) asked for; a
    searched model's params are those of its best trial (and ``"search"`` summarises the search)."""
    metrics: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """Model name → metric → value, on the evaluation data (evaluate's), for the models this run evaluated."""
    champion: str | None = None
    data: Mapping[str, str] = field(default_factory=dict)
    """Source name → digest of the snapshot the run used."""
    stages: tuple[StageRun, ...] = ()
    verdict: str | None = None
    """The gate's verdict ("passed", "failed"), None when no gate ran in this run."""
    spec_fingerprint: str | None = None
    mlspec_version: str = ""
    format: int = FORMAT

    @property
    def champion_metrics(self) -> Mapping[str, float]:
        return self.metrics.get(self.champion, {}) if self.champion else {}

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunRecord:
        """The record ``to_json`` wrote; keys a newer mlspec added are ignored, so old readers keep working."""
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        values["stages"] = tuple(StageRun(**s) for s in values.get("stages", ()))
        values["command"] = tuple(values.get("command", ()))
        values["overrides"] = tuple(values.get("overrides", ()))
        return cls(**values)


def merge(parts: Iterable[RunRecord]) -> RunRecord:
    """The run made of ``parts`` (all with one run_id): stages, params, metrics and data are united, the part
    that finished last winning where two disagree; started is the earliest, finished the latest."""
    ordered = sorted(parts, key=lambda p: (p.finished, p.part))
    if not ordered:
        raise ValueError("no parts to merge")
    stages: dict[str, StageRun] = {}
    params: dict[str, Mapping[str, Any]] = {}
    metrics: dict[str, Mapping[str, float]] = {}
    data: dict[str, str] = {}
    overrides: list[str] = []
    verdict = champion = None
    for p in ordered:
        # A part that only skipped a stage (another job ran it) must not hide the part that ran it.
        for s in p.stages:
            if s.id not in stages or s.status in ("ran", "failed") or stages[s.id].status in ("blocked",):
                stages[s.id] = s
        params.update(p.params)
        metrics.update(p.metrics)
        data.update(p.data)
        overrides += [o for o in p.overrides if o not in overrides]
        verdict = p.verdict or verdict
        champion = p.champion or champion
    last = ordered[-1]
    started = min(p.started for p in ordered)
    return replace(
        last, part="+".join(sorted({p.part for p in ordered})), started=started,
        seconds=round(sum(p.seconds for p in ordered), 3), stages=tuple(stages.values()), params=params,
        metrics=metrics, data=data, overrides=tuple(overrides), verdict=verdict, champion=champion,
    )
