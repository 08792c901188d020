"""The CI jobs of a spec, independent of the platform.

Stages of one kind that can run side by side become one job fanned out by a matrix (a suite or a model per
runner); the others are one job each. Every job runs ``mlspec`` itself, so CI and a laptop execute the same
code. Shell commands are constants that read spec-derived values from environment variables: nothing from
the spec is ever interpolated into a script.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlspec.spec import Spec, StageKind

SPEC_VAR = "MLSPEC_SPEC"


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

    @property
    def fan_out(self) -> bool:
        return self.matrix_var is not None


def jobs(spec: Spec) -> list[Job]:
    """The training pipeline's jobs in dependency order (monitoring runs on its own schedule)."""
    spec_arg = spec_arg_text()
    out: list[Job] = []
    if spec.validation:
        out.append(Job("validate", "validate", (), f'mlspec run {spec_arg} "validate:$SUITE"', "SUITE",
                       tuple(spec.validation)))
    upstream = tuple(j.id for j in out)
    out.append(Job("train", "train", upstream, f'mlspec run {spec_arg} "train:$MODEL"', "MODEL",
                   tuple(spec.training.models)))
    out.append(Job("evaluate", "evaluate", (*upstream, "train"), f"mlspec run {spec_arg} evaluate"))
    before_gate = (*upstream, "train", "evaluate")
    out.append(Job("gate", "gate", before_gate, f"mlspec gate {spec_arg}"))
    for name, target in spec.deploy.items():
        needs = (*before_gate, "gate", *(deploy_job_id(a) for a in target.after))
        out.append(Job(deploy_job_id(name), "deploy", needs, f'mlspec deploy {spec_arg} "$MLSPEC_TARGET"',
                       env=(("MLSPEC_TARGET", name),), target=name))
    return out


def monitor_job(spec: Spec) -> Job | None:
    if spec.monitoring is None:
        return None
    return Job("monitor", "monitor", (), f"mlspec monitor {spec_arg_text()}")


def spec_arg_text() -> str:
    return f'-f "${SPEC_VAR}"'


def deploy_job_id(target: str) -> str:
    return f"deploy-{target}"


def glob_parts(pattern: str) -> tuple[str, bool]:
    """A branch/tag pattern as (literal prefix, is_prefix): ``release/*`` → (``release/``, True).

    Only exact names and one trailing ``*`` are allowed (checked by ``mlspec validate``), because both
    platforms' job conditions can express those and nothing more without a script.
    """
    if pattern.endswith("*"):
        return pattern[:-1], True
    return pattern, False
