"""The ``deploy:<target>`` stages: one per deploy target, after the gate and the targets named in ``after``.

``mlspec run`` does not run them: deployment is a command of its own (``mlspec deploy TARGET``, see
:mod:`mlspec.deploy`), which checks the gate's verdict first. They are stages so that the graph, ``mlspec plan``
and the CI pipeline (one job per target, after the report) know of them.
"""

from __future__ import annotations

from mlspec.graph import Stage, stage_id
from mlspec.runtime.stages.kind import Ci, Kind
from mlspec.spec import Spec


def _stages(spec: Spec) -> list[Stage]:
    return [Stage(stage_id("deploy", name), "deploy", name, ("gate", *(stage_id("deploy", a) for a in target.after)))
            for name, target in spec.deploy.items()]


KIND = Kind(
    "deploy", _stages,
    runnable=False,
    run_with="deploy with `mlspec deploy TARGET`",
    ci=Ci('mlspec deploy {spec} "$MLSPEC_TARGET"', per_stage_var="MLSPEC_TARGET", deploys=True, after_report=True,
          interruptible=False),
)
