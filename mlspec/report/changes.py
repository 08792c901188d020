"""What this run changed against the baseline: data files, their shape, and the training parameters.

The baseline is the one the gate compares with (:func:`mlspec.baseline.resolve`, same rules, same
environment). When it is a git revision, :func:`mlspec.diff.diff` compares that revision's committed
``mlspec.lock`` and ``mlspec.yaml`` with this run. "This run" is the stage records in the workspace, not the
``mlspec.lock`` of the checkout: in CI the report job downloads the records with the outputs, while its
checkout holds the lock of the last commit, which may predate the run. Evaluation metrics are not listed
here: the gates and models tables show them.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass

from mlspec import baseline, diff
from mlspec.errors import MlspecError
from mlspec.load import Loaded
from mlspec.runtime import lockfile
from mlspec.runtime.context import BASELINE_VAR, RunOptions
from mlspec.runtime.stages import build
from mlspec.runtime.workspace import Workspace
from mlspec.sources import adapter
from mlspec.spec import Source

LABELS = {"data": "data file", "param": "parameter", "metric": "data shape"}


@dataclass(frozen=True)
class Change:
    kind: str
    name: str
    old: str
    new: str
    change: str


@dataclass(frozen=True)
class Changes:
    against: str
    """The revision compared with (``origin/main``); empty when nothing was compared."""
    rows: tuple[Change, ...]
    note: str = ""
    """Why nothing was compared, or what was left out."""


def collect(loaded: Loaded, workspace: Workspace, environ: Mapping[str, str]) -> Changes:
    request = RunOptions.from_environ(environ).baseline
    if baseline.from_the_registry(loaded.spec, request):  # told without reading the registry (the job may not)
        return Changes("", (), "not compared: the baseline is a registry version; files are compared with a git "
                               f"revision as the baseline (--baseline REV, {BASELINE_VAR}=REV)")
    try:
        base = baseline.resolve(loaded, request, environ)
    except MlspecError as exc:
        return Changes("", (), f"not compared: {exc}")
    if isinstance(base, baseline.NoBaseline):
        return Changes("", (), "nothing to compare with: there is no baseline")
    assert not isinstance(base, baseline.RegistryVersion)
    rev, sep, _ = base.source.partition(":")
    if not sep:
        return Changes("", (), f"not compared: the baseline {base.source} is a file, not a git revision")
    try:
        found = diff.diff(loaded, rev, records(loaded, workspace))
    except MlspecError as exc:
        return Changes(rev, (), f"not compared: {exc}")
    rows = tuple(
        Change(LABELS[r.kind], r.name, diff.cell(r.kind, r.old), diff.cell(r.kind, r.new), diff.change_text(r))
        for r in found.shown(everything=False)
        if (r.kind != "metric" or r.name.startswith("data:")) and not _not_read_here(r, loaded.spec.data.sources)
    )
    return Changes(rev, rows, "; ".join(found.notes))


def _not_read_here(row: diff.Row, sources: Mapping[str, Source]) -> bool:
    """A source still in the spec whose stage this run did not run: CI runs only what a pull request needs
    (not the data only monitoring reads), so its absence from the run is not a removal."""
    if row.new is not None:
        return False
    if row.kind == "data":
        return row.name in {posixpath.normpath(f) for s in sources.values() for f in adapter(s).files(s)}
    return row.kind == "metric" and row.name.split(".", 1)[0] in {f"data:{name}" for name in sources}


def records(loaded: Loaded, workspace: Workspace) -> lockfile.Lock:
    """The lock entries kept beside the outputs in the workspace: what this run computed or adopted."""
    entries: dict[str, lockfile.Entry] = {}
    for stage in build(loaded.spec):
        entry = lockfile.read_record(workspace, stage.id)
        if entry is not None:
            entries[stage.id] = entry
    return lockfile.Lock(entries)
