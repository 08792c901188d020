"""GitHub Actions: the view-model of ``.github/workflows/mlspec.yml`` (and the monitoring workflow).

Security choices, each one a finding of zizmor or actionlint when missing:

* ``permissions: contents: read`` for the workflow and again per job; nothing wider is needed to run stages
  (artifacts use the runner's own token, not ``GITHUB_TOKEN``);
* actions pinned by full commit SHA (:mod:`mlspec.targets.actions`), checkout without persisted credentials;
* spec values reach scripts through ``env:`` only; deploy jobs never run for pull requests, so code from a
  fork never sees a deployment secret or environment.
"""

from __future__ import annotations

import posixpath
from typing import Any

from mlspec.spec import Spec
from mlspec.targets import actions
from mlspec.targets.common import Context, cache_inputs, install_requirement
from mlspec.targets.pipeline import Job, deploy_job_id, glob_parts, jobs, monitor_job

WORKFLOW = ".github/workflows/mlspec.yml"
MONITOR_WORKFLOW = ".github/workflows/mlspec-monitor.yml"


def files(ctx: Context) -> dict[str, dict[str, Any]]:
    """Template name → view-model, by output path."""
    out = {WORKFLOW: {"template": "github/mlspec.yml.j2", **_view(ctx)}}
    monitor = monitor_job(ctx.spec)
    if monitor is not None and ctx.spec.monitoring is not None:
        view = _base(ctx)
        view["cron"] = ctx.spec.monitoring.schedule
        view["release_refs"] = False
        view["job"] = _job(ctx, monitor, ())
        out[MONITOR_WORKFLOW] = {"template": "github/mlspec-monitor.yml.j2", **view}
    return out


def _base(ctx: Context) -> dict[str, Any]:
    ci = ctx.spec.ci
    return {
        "header": ctx.header,
        "project": ctx.spec.project,
        "spec_path": ctx.spec_path,
        "workspace": ctx.workspace,
        "lock_path": ctx.lock_path,
        "python": ci.python,
        "install": install_requirement(ctx),
        "extra_requirements": " ".join(ci.requirements),
        "requirements_file": posixpath.join(ctx.spec_dir, ci.requirements_file) if ci.requirements_file else "",
        "cache": ci.cache,
        "cache_inputs": ", ".join(f"'{p}'" for p in cache_inputs(ctx)),
        "checkout": actions.CHECKOUT,
        "setup_python": actions.SETUP_PYTHON,
        "cache_action": actions.CACHE,
        "upload": actions.UPLOAD_ARTIFACT,
        "download": actions.DOWNLOAD_ARTIFACT,
    }


def _view(ctx: Context) -> dict[str, Any]:
    spec = ctx.spec
    all_jobs = jobs(spec)
    view = _base(ctx)
    deploy_branches = [b for t in spec.deploy.values() for b in t.when.branches]
    view["push_branches"] = _unique([spec.ci.default_branch, *deploy_branches])
    view["push_tags"] = _unique([g for t in spec.deploy.values() for g in t.when.tags])
    view["release_refs"] = bool(view["push_tags"])
    view["jobs"] = [_job(ctx, job, all_jobs) for job in all_jobs]
    return view


def _job(ctx: Context, job: Job, all_jobs: Any) -> dict[str, Any]:
    gh = ctx.spec.ci.github
    override = gh.stages.get(job.kind)
    runs_on = (override.runs_on if override and override.runs_on else None) or gh.runs_on
    timeout = (override.timeout_minutes if override and override.timeout_minutes else None) or gh.timeout_minutes
    env = list(job.env)
    if job.matrix_var:
        env.insert(0, (job.matrix_var, f"${{{{ matrix.{job.matrix_var.lower()} }}}}"))
    view: dict[str, Any] = {
        "id": job.id,
        "name": job.id + (f" ${{{{ matrix.{job.matrix_var.lower()} }}}}" if job.matrix_var else ""),
        "runs_on": runs_on,
        "timeout": timeout,
        "needs": list(job.needs),
        "matrix_key": job.matrix_var.lower() if job.matrix_var else "",
        "matrix": list(job.matrix),
        "command": job.command,
        "env": env,
        "if_": _condition(ctx.spec, job),
        "environment": _environment(ctx.spec, job),
        # The gate compares with the base branch's committed lock, so it needs the history, not one commit.
        "fetch_depth": 0 if job.kind == "gate" else 1,
        "artifact": "mlspec-" + job.id + (f"-${{{{ matrix.{job.matrix_var.lower()} }}}}" if job.matrix_var else ""),
        "upload_lock": job.kind in ("gate", "evaluate"),
        # Jobs after evaluate take every stage output from the artifacts of the jobs before them.
        "stage_cache": ctx.spec.ci.cache and job.kind in ("validate", "train", "evaluate", "monitor"),
        "cache_key": f"mlspec-{job.id}" + (f"-${{{{ matrix.{job.matrix_var.lower()} }}}}" if job.matrix_var else ""),
    }
    return view


def _condition(spec: Spec, job: Job) -> str:
    """The job-level ``if:`` of a deploy job: pushes (or manual runs) of the refs its target names."""
    if job.target is None:
        return ""
    when = spec.deploy[job.target].when
    refs: list[str] = []
    for pattern in when.branches or ([] if when.tags else [spec.ci.default_branch]):
        refs.append(_ref_test("refs/heads/", pattern))
    for pattern in when.tags:
        refs.append(_ref_test("refs/tags/", pattern))
    event = "(github.event_name == 'push' || github.event_name == 'workflow_dispatch')"
    # `after` orders targets that fire in the same run; a target that did not fire (another branch or tag)
    # does not hold back the ones after it, but a failed one does. Hence no implicit success() here.
    gates = ["!cancelled()", "needs.gate.result == 'success'"]
    gates += [f"needs.{deploy_job_id(a)}.result != 'failure'" for a in spec.deploy[job.target].after]
    return " && ".join([*gates, event, f"({' || '.join(refs)})"])


def _ref_test(prefix: str, pattern: str) -> str:
    literal, is_prefix = glob_parts(pattern)
    value = (prefix + literal).replace("'", "''")  # GitHub expression strings escape ' by doubling it
    return f"startsWith(github.ref, '{value}')" if is_prefix else f"github.ref == '{value}'"


def _environment(spec: Spec, job: Job) -> str:
    if job.target is None:
        return ""
    target = spec.deploy[job.target]
    return target.environment or job.target


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
