"""Sources that only monitoring reads: a plain `mlspec run` leaves them to `mlspec monitor` when they are absent.

``monitoring.current`` is typically the production data of the week, fetched by the scheduled pipeline; a
fresh clone or a training-only CI job does not have it. Its ``data:`` stage is needed by the scheduled
monitor stage alone, so failing the training pipeline for its absence would stop work nothing there needs.
Named on the command line (``mlspec run data:current``) or needed by ``mlspec monitor``, it still runs and
fails with its located error. A stage fed by another stage (a prepare step's output) is never deferred: the
file is made by the run.
"""

from __future__ import annotations

from collections.abc import Sequence

from mlspec.graph import Stage
from mlspec.load import Loaded
from mlspec.sources import adapter


def monitoring_only(stages: Sequence[Stage]) -> set[str]:
    """Ids of the ``data:`` stages that some stage needs and every such stage is a scheduled one."""
    users: dict[str, list[Stage]] = {}
    for stage in stages:
        for need in stage.needs:
            users.setdefault(need, []).append(stage)
    return {s.id for s in stages if s.kind == "data" and not s.needs and s.id in users
            and all(u.scheduled for u in users[s.id])}


def deferred(loaded: Loaded, stages: Sequence[Stage], selected: Sequence[Stage]) -> dict[str, str]:
    """Stage id → why it is left to monitoring, for the monitoring-only stages of ``selected`` whose files
    are missing (in graph order)."""
    only = monitoring_only(stages)
    out: dict[str, str] = {}
    for stage in selected:
        if stage.id not in only or stage.name is None:
            continue
        source = loaded.spec.data.sources[stage.name]
        missing = [f for f in adapter(source).files(source) if not (loaded.root / f).exists()]
        if missing:
            out[stage.id] = (f"{missing[0]} does not exist; only monitoring reads it, so `mlspec monitor` runs "
                             "this stage once it is there")
    return out
