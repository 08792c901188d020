"""What a merge request pipeline must show on either platform, read from what its jobs printed.

Jobs are named here by the stage they exist to run: ``validate:<suite>`` and ``train:<model>`` for the legs
of the matrix jobs, ``evaluate``, ``gate``. Each job runs ``mlspec run <its stage>``, which also selects the
stages that one needs; the line `mlspec run` prints for each of them tells where its outputs came from:
``ok <stage> in ...`` (computed in this job) or ``skip <stage>: up to date`` (outputs and their record
found in the workspace: on a fresh runner, only the artifacts of earlier jobs can have put them there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mlspec.runtime.runner import select
from mlspec.runtime.stages import build
from mlspec.spec import Spec
from mlspec.targets import pipeline


def job_names(spec: Spec) -> list[str]:
    """The jobs of a merge request pipeline (no deploy job may run there), legs of a matrix one by one."""
    names = []
    for job in pipeline.jobs(spec):
        if job.target is None:
            names += [f"{job.id}:{leg}" for leg in job.matrix] if job.matrix else [job.id]
    return names


def pipeline_job_names(spec: Spec) -> list[str]:
    """Every job of a merge request pipeline: the stage jobs, then the report job (it runs no stage)."""
    return [*job_names(spec), pipeline.REPORT_JOB]


def upstream(spec: Spec) -> dict[str, list[str]]:
    """For each job, the jobs that must have finished before it starts (every leg of the jobs it needs)."""
    legs: dict[str, list[str]] = {}
    for name in job_names(spec):
        legs.setdefault(name.split(":")[0], []).append(name)
    kinds = {job.id: job for job in pipeline.jobs(spec)}
    return {name: [leg for need in kinds[name.split(":")[0]].needs for leg in legs.get(need, [])]
            for name in job_names(spec)}


def stage_lines(output: Sequence[str]) -> dict[str, str]:
    """Stage id → the last verdict `mlspec run` printed for it (``run`` is followed by ``ok`` or ``failed``)."""
    found: dict[str, str] = {}
    for line in output:
        verb, _, rest = line.partition(" ")
        if verb in ("ok", "skip", "run", "failed", "blocked") and rest:
            found[rest.split(" ", 1)[0].rstrip(":")] = verb
    return found


def expected_stage_lines(spec: Spec, job: str) -> dict[str, str]:
    """What ``job`` must print: its own stage computed; every stage before it adopted from artifacts, except
    the data stages read by a job that has no job before it (the validate legs)."""
    stages = build(spec)
    selected, _ = select(stages, [job])
    first_jobs = not upstream(spec)[job]
    return {s.id: "ok" if s.id == job or (s.kind == "data" and first_jobs) else "skip" for s in selected}


def check_stages(spec: Spec, outputs: Mapping[str, Sequence[str]]) -> None:
    """Every stage job computed its own stage and adopted the rest; the stages really executed."""
    for job in job_names(spec):
        seen, expected = stage_lines(outputs[job]), expected_stage_lines(spec, job)
        assert seen == expected, f"{job}: stages {seen}, expected {expected}; it printed:\n" + _shown(outputs[job])
    # Real work, not an empty stand-in: the models were fitted and the evaluation scored them.
    for model in spec.training.models:
        assert any(line.startswith("  fitting ") for line in outputs[f"train:{model}"]), outputs[f"train:{model}"]
    assert any(line.startswith("ok evaluate in ") and "champion" in line for line in outputs["evaluate"])


def check_order(spec: Spec, started: Mapping[str, int], finished: Mapping[str, int]) -> None:
    """No job started before every job it needs had finished (positions in the executor's log)."""
    for job, before in upstream(spec).items():
        for need in before:
            assert finished[need] < started[job], f"{job} started before {need} finished"


def check_gate(spec: Spec, outputs: Mapping[str, Sequence[str]], base_branch: str) -> None:
    """The gate judged the champion's metrics as the evaluate job computed them (it adopted evaluate's
    outputs, see :func:`check_stages`) against the lock committed on the base branch, read from git."""
    summary = next(line for line in outputs["evaluate"] if line.startswith("ok evaluate in "))
    champion, _, scores = summary.partition(": champion ")[2].partition(": ")
    evaluated = dict(pair.split("=", 1) for pair in scores.split(", "))
    verdict = [line for line in outputs["gate"] if line.startswith("gate: ")]
    assert len(verdict) == 1, outputs["gate"]
    assert verdict[0].startswith(f"gate: pass for model {champion!r} (baseline: {base_branch}:"), verdict
    for metric in spec.evaluation.gates:
        row = next((line.split() for line in outputs["gate"] if line.startswith(f"{metric} ")), None)
        assert row is not None and evaluated[metric] in row, f"no {metric}={evaluated[metric]} in the gate's table"


def _shown(output: Sequence[str]) -> str:
    # pip's list of dependencies it found is long and says nothing about the stages.
    return "\n".join(line for line in output if not line.startswith("Requirement already satisfied"))
