"""`mlspec diff [REV]`: the workspace against a git revision, like ``dvc metrics diff`` plus params and data.

Both sides are read the same way: the metrics every stage recorded in ``mlspec.lock`` (the file in the work
tree against the one committed at REV), the training parameters of ``mlspec.yaml`` (``training.seed``, each
model's estimator and params) and the digests of the files the ``data:<source>`` and ``prepare:<name>``
stages read. By default only what changed is listed; ``--all`` lists everything. REV defaults to HEAD, so the
question is "what did my uncommitted run change"; ``mlspec diff origin/main`` compares with the base branch.

Metrics are compared model by model (``evaluate.models.<model>.<metric>``, which the evaluate stage records for
every model). The champion's own rows (``evaluate.<metric>``) are a delta only while the champion stays the
same model: after a switch they compare two different models, so they are shown as the switch, not as a
change. A lock older than its spec (a spec section a recorded stage reads has changed since the stage ran)
gets a note: its metrics describe the spec as it was, not the one shown.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mlspec import gitio
from mlspec.errors import MlspecError
from mlspec.load import Loaded
from mlspec.runtime import lockfile
from mlspec.runtime.hashing import to_json
from mlspec.yamlio import YamlError, parse

Kind = Literal["metric", "param", "data"]
KINDS: tuple[Kind, ...] = ("metric", "param", "data")
WORKSPACE = "workspace"


SWITCHED = "champion switched"
"""The change shown for the champion's metrics when the champion is another model on each side."""


@dataclass(frozen=True)
class Row:
    kind: Kind
    name: str
    old: Any
    """None when the value is absent at the revision."""
    new: Any
    switched: bool = False
    """The row is the champion's, and the champion is a different model on each side: no delta."""

    @property
    def changed(self) -> bool:
        return bool(self.old != self.new) or self.switched

    @property
    def change(self) -> float | None:
        if self.switched:
            return None
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (self.old, self.new))
        if not numbers:
            return None
        change = float(self.new - self.old)
        return change if math.isfinite(change) else None  # from .inf/.nan params, or 1e308 - -1e308


@dataclass(frozen=True)
class Diff:
    rev: str
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()
    switch: tuple[str, str] | None = None
    """(old champion, new champion) when the champion is another model on each side."""

    def shown(self, everything: bool) -> list[Row]:
        return [r for r in self.rows if everything or r.changed]


def diff(loaded: Loaded, rev: str = "HEAD", new_lock: lockfile.Lock | None = None) -> Diff:
    """Compare ``loaded``'s workspace (its mlspec.lock and spec on disk) with revision ``rev``.

    ``new_lock`` replaces the lock on disk, e.g. the stage records a CI job downloaded with the outputs.
    """
    try:
        committed = lockfile.at_revision(loaded.path, rev, spec=True)
    except gitio.GitError as exc:
        raise MlspecError(f"mlspec diff compares with a git revision, but {loaded.path}: {exc}") from None
    if committed is None:
        if gitio.commit_of(loaded.path.parent, "HEAD") is None:  # `git init` and no commit yet
            raise MlspecError(f"{rev} names no commit: the repository has none yet; commit the project "
                              "(git add -A && git commit), then mlspec diff compares the workspace with it")
        raise MlspecError(f"unknown git revision {rev!r}; name a branch, tag or commit")
    notes: list[str] = []
    old_lock = committed.lock if committed.lock is not None else lockfile.Lock()
    if committed.lock is None:
        notes.append(f"{rev} has no {committed.lock_path}")
    old_spec: Any = {}
    if committed.spec_text is None:
        notes.append(f"{rev} has no {committed.spec_path}")
    else:
        try:
            old_spec = parse(committed.spec_text).data
        except YamlError as exc:
            notes.append(f"{rev}:{committed.spec_path} is not readable YAML ({exc.message}); params not compared")
    if new_lock is None:
        new_lock = lockfile.read(lockfile.path_for(loaded.path))
    notes += stale_lock(loaded, new_lock)
    return Diff(rev, tuple(compare(old_lock, new_lock, old_spec, loaded.doc.data)), tuple(notes),
                champion_switch(old_lock, new_lock))


def champion_switch(old_lock: lockfile.Lock, new_lock: lockfile.Lock) -> tuple[str, str] | None:
    """(old champion, new champion) when both sides name one and they differ."""
    old, new = (_champion(lock) for lock in (old_lock, new_lock))
    return (old, new) if old is not None and new is not None and old != new else None


def stale_lock(loaded: Loaded, lock: lockfile.Lock) -> list[str]:
    """A note when spec sections that recorded stages read have changed since those stages ran."""
    from mlspec.runtime.hashing import fingerprint
    from mlspec.runtime.stages import build, spec_sections

    changed: dict[str, list[str]] = {}
    for stage in build(loaded.spec):
        entry = lock.stages.get(stage.id)
        if entry is None:
            continue
        now = {path: fingerprint(value) for path, value in spec_sections(loaded.spec, stage).items()}
        for path in sorted(now.keys() | entry.spec.keys()):
            if now.get(path) != entry.spec.get(path):
                changed.setdefault(path, []).append(stage.id)
    if not changed:
        return []
    shown = "; ".join(f"{path} ({', '.join(ids)})" for path, ids in sorted(changed.items()))
    lock_name = lockfile.path_for(loaded.path).name
    return [f"{lock_name} is older than {loaded.path.name}: the spec changed since these stages ran: {shown}; "
            "the workspace side shows the metrics of the spec as it was (run `mlspec run` to update the lock)"]


def compare(old_lock: lockfile.Lock, new_lock: lockfile.Lock, old_spec: Any, new_spec: Any) -> list[Row]:
    """Rows for every metric, param and data file on either side, sorted by kind and name."""
    sides: list[tuple[Kind, dict[str, Any], dict[str, Any]]] = [
        ("metric", _metrics(old_lock), _metrics(new_lock)),
        ("param", _params(old_spec), _params(new_spec)),
        ("data", _data(old_lock), _data(new_lock)),
    ]
    switched = champion_switch(old_lock, new_lock) is not None
    return [Row(kind, name, old.get(name), new.get(name), switched and kind == "metric" and _champions(name))
            for kind, old, new in sides for name in sorted(old.keys() | new.keys())]


def _champions(name: str) -> bool:
    """Whether metric row ``name`` is a value of the champion (``evaluate.<metric>``, ``evaluate.champion``)."""
    return name.startswith("evaluate.") and not name.startswith(f"evaluate.{MODELS}.")


MODELS = "models"
"""The key of the evaluate stage's lock metrics that holds every model's metrics."""


def _metrics(lock: lockfile.Lock) -> dict[str, Any]:
    out = {f"{sid}.{key}": value for sid, entry in lock.stages.items() for key, value in _flat(entry.metrics)}
    evaluate = lock.stages.get("evaluate")
    champion = _champion(lock)
    if evaluate is not None and champion is not None and MODELS not in evaluate.metrics:
        # A lock from before every model was recorded: its champion's metrics are that model's.
        out.update((f"evaluate.{MODELS}.{champion}.{k}", v) for k, v in _flat(evaluate.metrics) if k != "champion")
    return out


def _champion(lock: lockfile.Lock) -> str | None:
    evaluate = lock.stages.get("evaluate")
    champion = evaluate.metrics.get("champion") if evaluate is not None else None
    return champion if isinstance(champion, str) else None


def _params(spec: Any) -> dict[str, Any]:
    training = spec.get("training") if isinstance(spec, dict) else None
    if not isinstance(training, dict):
        return {}
    out: dict[str, Any] = {}
    if "seed" in training:
        out["training.seed"] = training["seed"]
    models = training.get("models")
    for name, model in (models.items() if isinstance(models, dict) else ()):
        if not isinstance(model, dict):
            continue
        out[f"training.models.{name}.estimator"] = model.get("estimator")
        params = model.get("params")
        out.update((f"training.models.{name}.params.{k}", v) for k, v in _flat(params if isinstance(params, dict)
                                                                                 else {}))
    return out


def _data(lock: lockfile.Lock) -> dict[str, Any]:
    # A prepare step's inputs too (raw files, its script): what the tables the sources read were built from.
    return {path: digest for sid, entry in lock.stages.items() if sid.startswith(("data:", "prepare:"))
            for path, digest in entry.inputs.items()}


def _flat(values: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in values.items():
        if isinstance(value, Mapping):
            yield from _flat(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


# --- output -------------------------------------------------------------------------------------------------


def render(d: Diff, everything: bool = False) -> list[str]:
    rows = d.shown(everything)
    lines = [f"note: {n}" for n in d.notes]
    if d.switch is not None:
        lines.append(f"note: the champion switched from {d.switch[0]} to {d.switch[1]}: evaluate.<metric> rows "
                     "are two different models; evaluate.models.<model>.<metric> compare each model with itself")
    if not rows:
        return [*lines, f"no changes against {d.rev}" + ("" if everything else " (--all lists unchanged values)")]
    table = [("kind", "name", d.rev, WORKSPACE, "change")]
    table += [(r.kind, r.name, cell(r.kind, r.old), cell(r.kind, r.new), change_text(r)) for r in rows]
    widths = [max(len(t[i]) for t in table) for i in range(4)]
    return [*lines, *("  ".join([*(c.ljust(w) for c, w in zip(t, widths, strict=False)), t[4]]).rstrip()
                      for t in table)]


def as_json(d: Diff, everything: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"rev": d.rev, "notes": list(d.notes),
                           "champion": None if d.switch is None else {"old": d.switch[0], "new": d.switch[1]}}
    for kind in KINDS:
        out[f"{kind}s" if kind != "data" else kind] = {
            r.name: {"old": r.old, "new": r.new, "change": r.change, **({"champion_switched": True} if r.switched
                                                                          else {})}
            for r in d.shown(everything) if r.kind == kind}
    return out


def dumps(d: Diff, everything: bool = False) -> str:
    # to_json: .inf and .nan params as strings, so the output stays JSON (which has neither).
    return json.dumps(to_json(as_json(d, everything)), indent=2, sort_keys=True, ensure_ascii=False,
                      allow_nan=False) + "\n"


def cell(kind: Kind, value: Any) -> str:
    """One side of a row as shown: a data digest by its first 12 hex digits, floats to 6 digits."""
    if value is None:
        return "-"
    if kind == "data" and isinstance(value, str) and value.startswith("sha256:"):
        return value[len("sha256:"):][:12]
    if isinstance(value, float):
        return f"{value:.6g}"
    return value if isinstance(value, str) else json.dumps(value)


def change_text(row: Row) -> str:
    if row.switched:
        return SWITCHED
    if not row.changed:
        return ""
    if row.change is not None:
        return f"{row.change:+.6g}"
    return "added" if row.old is None else "removed" if row.new is None else "changed"
