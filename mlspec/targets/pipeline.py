"""The CI jobs of a spec, independent of the platform.

Stages of one kind that can run side by side become one job fanned out by a matrix (a suite or a model per
runner); the others are one job each. Every job runs ``mlspec`` itself, so CI and a laptop execute the same
code. Shell commands are constants that read spec-derived values from environment variables: nothing from
the spec is ever interpolated into a script.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlspec.runtime.stages import BY_NAME, KINDS
from mlspec.spec import Spec, StageKind

SPEC_VAR = "MLSPEC_SPEC"
REPORT_JOB = "report"
TRIALS_COMMAND = 'mlspec trials {spec} "train:$MODEL" --shard "$SHARD/$SHARDS"'
"""A shard job's command: its share of a model's search trials (``--shard I/N``), whose results the train job
finds cached. The shard number and count are two variables, not one ``I/N`` value, because job, artifact and
cache names are built from the number and neither platform allows a ``/`` in all of them."""
SHARD_VAR = "SHARD"


@dataclass(frozen=True)
class Job:
    id: str
    kind: StageKind
    needs: tuple[str, ...]
    """Every job whose outputs this one reads (transitively): on GitLab only listed jobs pass artifacts."""
    command: str
    matrix_var: str | None = None
    matrix: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    """Extra (variable, value) pairs the command reads; values come from the spec and are quoted by the
    template, never pasted into the script."""
    target: str | None = None
    """The deploy target of a deploy job."""
    trials_of: str | None = None
    """The model whose search trials a shard job runs (one leg per shard): it keeps the trial results, not
    stage outputs, for the train job."""
    trials: tuple[str, ...] = ()
    """The shard jobs whose trial results the train job reads (it needs them too)."""

    @property
    def fan_out(self) -> bool:
        return self.matrix_var is not None


def jobs(spec: Spec) -> list[Job]:
    """The training pipeline's jobs in dependency order (monitoring runs on its own schedule).

    Each kind with a CI command (:class:`mlspec.runtime.stages.kind.Ci`) gets its jobs, in the registry's
    order; every job needs all the jobs before it (on GitLab only listed jobs pass artifacts), and a deploy
    job also the deploy jobs its target comes after. A model searched in shards (``search.shards > 1``) adds its
    shard job (:func:`trials_jobs`) before the train job, which needs it.
    """
    spec_arg = spec_arg_text()
    out: list[Job] = []
    for kind in KINDS:
        ci = kind.ci
        mine = kind.stages(spec)  # in the spec's order, which the matrix and the deploy jobs follow
        if not ci.command or kind.scheduled or not mine:
            continue
        command = ci.command.format(spec=spec_arg)
        shards = trials_jobs(spec, tuple(j.id for j in out)) if kind.name == "train" else []
        out += shards
        upstream = tuple(j.id for j in out)
        if ci.per_stage_var is None:
            matrix = tuple(str(s.name) for s in mine) if ci.matrix_var else ()
            out.append(Job(kind.name, kind.name, upstream, command, ci.matrix_var, matrix,
                           trials=tuple(j.id for j in shards)))
            continue
        before = tuple(j.id for j in out if j.kind != kind.name)
        for stage in mine:
            name = str(stage.name)
            after = tuple(job_id(n) for n in stage.needs if n.startswith(f"{kind.name}:"))
            out.append(Job(job_id(stage.id), kind.name, (*before, *after), command,
                           env=((ci.per_stage_var, name),), target=name if ci.deploys else None))
    return out


def trials_jobs(spec: Spec, needs: tuple[str, ...]) -> list[Job]:
    """One job per model searched in shards, ``trials-<model>``, fanned out over its shard numbers (``1`` to
    ``shards``); each leg runs the trials whose number is its share. One job per model rather than one over
    model × shard keeps every matrix within the spec's bound on shards (32), far below either platform's
    limit on the jobs of one matrix (GitHub 256, GitLab 200), however many models are searched. The legs need
    what the train job needs (its data and checks): ``mlspec trials`` brings that upstream up to date first."""
    out = []
    for name, model in spec.training.models.items():
        if model.search is None or model.search.shards < 2:
            continue
        shards = model.search.shards
        out.append(Job(trials_job_id(name), "train", needs, TRIALS_COMMAND.format(spec=spec_arg_text()),
                       SHARD_VAR, tuple(str(i) for i in range(1, shards + 1)),
                       env=(("MODEL", name), ("SHARDS", str(shards))), trials_of=name))
    return out


def trials_job_id(model: str) -> str:
    return f"trials-{model}"


def job_id(stage_id: str) -> str:
    """The job of a stage that has one of its own: ``deploy:production`` runs in ``deploy-production``."""
    return stage_id.replace(":", "-", 1)


@dataclass(frozen=True)
class ReportJob:
    """The job after the gate that writes the report (``mlspec report``) and posts it to the pull/merge request
    (``mlspec comment``). It runs when the gate failed too, since the report is how people see why; the
    comment command itself does nothing outside a pull/merge request or without a token."""

    id: str
    needs: tuple[str, ...]
    """Every job of the training pipeline: the report reads all their outputs."""
    report: str
    comment: str


def report_job(spec: Spec) -> ReportJob:
    needs = tuple(job.id for job in jobs(spec) if not BY_NAME[job.kind].ci.after_report)
    return ReportJob(REPORT_JOB, needs, f"mlspec report {spec_arg_text()}", f"mlspec comment {spec_arg_text()}")


MONITOR_JOB = "monitor"
ISSUE_JOB = "monitor-issue"


def monitor_job(spec: Spec, outputs: str = "") -> Job | None:
    """The scheduled monitor job. With ``on_drift: fail`` drift fails it; otherwise drift is written to
    ``outputs`` (``MLSPEC_DRIFT=true``, a file the platform reads job outputs from) for the job that acts on
    it, and only an error fails it."""
    if spec.monitoring is None:
        return None
    command = f"mlspec monitor {spec_arg_text()}"
    if spec.monitoring.on_drift != "fail":
        command += f" --exit-zero-on-drift --outputs {outputs}"
    return Job(MONITOR_JOB, "monitor", (), command)


def issue_job(spec: Spec) -> Job | None:
    """``on_drift: issue``: after the monitor job, file its report as the project's one drift issue (the
    command does nothing when the report shows no drift)."""
    if spec.monitoring is None or spec.monitoring.on_drift != "issue":
        return None
    return Job(ISSUE_JOB, "monitor", (MONITOR_JOB,), f"mlspec monitor {spec_arg_text()} --open-issue")


def retrains(spec: Spec) -> bool:
    """Whether scheduled pipelines rerun the training pipeline when the monitor job finds drift."""
    return spec.monitoring is not None and spec.monitoring.on_drift == "retrain"


def spec_arg_text() -> str:
    return f'-f "${SPEC_VAR}"'


def deploy_job_id(target: str) -> str:
    return job_id(f"deploy:{target}")


def glob_parts(pattern: str) -> tuple[str, bool]:
    """A branch/tag pattern as (literal prefix, is_prefix): ``release/*`` → (``release/``, True).

    Only exact names and one trailing ``*`` are allowed (checked by ``mlspec validate``), because both
    platforms' job conditions can express those and nothing more without a script.
    """
    if pattern.endswith("*"):
        return pattern[:-1], True
    return pattern, False
