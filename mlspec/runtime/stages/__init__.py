"""The stage kinds, one module each, and the registry that lists them in graph order.

Each module ``mlspec.runtime.stages.<kind>`` declares its :class:`~mlspec.runtime.stages.kind.Kind` as ``KIND``
next to its ``run(ctx: StageContext) -> StageResult`` (the contract is in :mod:`mlspec.runtime.context`;
``deploy``, which ``mlspec run`` does not run, has none).
The graph, the fingerprints, ``mlspec plan`` and the CI compilers iterate :data:`KINDS`; adding a kind is one
module, one line below and its spec section. The modules import only the spec layer and light helpers at
import time, so ``mlspec validate`` and ``mlspec compile`` (which build the graph) and a fully cached run
never pay for pandas, scikit-learn or Great Expectations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlspec.graph import Stage, toposort
from mlspec.runtime.stages import data, deploy, evaluate, gate, monitor, prepare, train, validate
from mlspec.runtime.stages.kind import Kind, Read, section_values, versions
from mlspec.spec import Spec

if TYPE_CHECKING:
    from mlspec.load import Loaded
    from mlspec.runtime.context import RunOptions, StageContext
    from mlspec.store import Store

KINDS: tuple[Kind, ...] = (
    prepare.KIND, data.KIND, validate.KIND, train.KIND, evaluate.KIND, gate.KIND, deploy.KIND, monitor.KIND,
)
"""Every stage kind, in the order the graph lists their stages."""
BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}
RUNNABLE: tuple[str, ...] = tuple(k.name for k in KINDS if k.runnable)
"""Kinds `mlspec run` can execute."""


def kind_of(stage: Stage) -> Kind:
    return BY_NAME[stage.kind]


def build(spec: Spec) -> list[Stage]:
    """All stages of ``spec`` in a deterministic topological order."""
    return toposort([s for kind in KINDS for s in kind.stages(spec)])


def reads(spec: Spec, stage: Stage) -> Sequence[Read]:
    return kind_of(stage).reads(spec, stage)


def spec_sections(spec: Spec, stage: Stage) -> dict[str, Any]:
    """Dotted spec path → the JSON value of that section, for every section ``stage``'s fingerprint covers."""
    return section_values(spec, reads(spec, stage))


def input_files(spec: Spec, stage: Stage) -> list[str]:
    """Files ``stage`` reads, relative to the spec's directory."""
    return kind_of(stage).files(spec, stage)


def stage_versions(spec: Spec, stage: Stage) -> dict[str, str]:
    return versions(kind_of(stage), spec, stage)


def external_inputs(loaded: Loaded, stage: Stage, options: RunOptions | None = None) -> dict[str, str]:
    """Inputs that are neither spec sections nor files of the project, by name → identity."""
    from mlspec.runtime.context import NO_OPTIONS

    hook = kind_of(stage).external
    return hook(loaded, stage, options or NO_OPTIONS) if hook is not None else {}


def spec_key(stage: Stage) -> tuple[str, ...]:
    """The spec key that defines ``stage``: where its errors point when they name no key of their own."""
    return kind_of(stage).spec_key(stage)


def context(
    loaded: Loaded, stage: Stage, out_dir: Path, upstream_dirs: dict[str, Path], log: Callable[[str], None],
    options: RunOptions | None = None, workspace_root: Path | None = None, store: Store | None = None,
) -> StageContext:
    """The context ``stage`` runs in: through it (``ctx.spec``, ``ctx.loaded.spec``) the stage sees only the
    spec sections its kind declares (:mod:`mlspec.runtime.specview`)."""
    # Imported here: `validate` and `compile` read the kinds' declarations and never run a stage.
    from mlspec.runtime.context import NO_OPTIONS, StageContext
    from mlspec.runtime.specview import view

    options = options or NO_OPTIONS
    restricted = replace(loaded, spec=view(loaded.spec, reads(loaded.spec, stage), stage.id))
    return StageContext(restricted, stage, out_dir, upstream_dirs, log, options, workspace_root, store)


def describe_runnable() -> str:
    """`mlspec run can run data, validate, ... and monitor stages; deploy with ...`, for messages."""
    names = list(RUNNABLE)
    listed = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
    return "; ".join([f"mlspec run can run {listed} stages", *(k.run_with for k in KINDS if not k.runnable)])
