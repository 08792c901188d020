"""GitHub Actions: the view-model of ``.github/workflows/mlspec.yml`` (and the monitoring workflow).

Security choices, each one a finding of zizmor or actionlint when missing:

* ``permissions: contents: read`` for the workflow and again per job; nothing wider is needed to run stages
  (artifacts use the runner's own token, not ``GITHUB_TOKEN``);
* actions pinned by full commit SHA (:mod:`mlspec.targets.actions`), checkout without persisted credentials;
* spec values reach scripts through ``env:`` only; inside a ``${{ }}`` expression only as a quoted git ref of
  a job condition (validated, :mod:`mlspec.cistrings`), so no spec value can open or end an expression;
* deploy jobs never run for pull requests, so code from a fork never sees a deployment secret or environment;
* the report job alone may write to pull requests (``pull-requests: write``), and only its comment step
  gets ``GITHUB_TOKEN``, and only for a pull request from this repository (a fork's token is read-only
  anyway; its report is the job summary). ``pull_request_target``, which would hand a fork a write token,
  is never used;
* in the monitoring workflow, the drift issue job alone may write issues (``issues: write``), and only its
  issue step gets ``GITHUB_TOKEN``.
"""

from __future__ import annotations

import posixpath
from typing import Any

from mlspec.runtime.stages import BY_NAME
from mlspec.spec import Spec
from mlspec.targets import actions, oidc
from mlspec.targets.common import Context, cache_inputs, cron, has_store, inert, install_requirement, one_line
from mlspec.targets.pipeline import (
    MONITOR_JOB,
    Job,
    deploy_job_id,
    glob_parts,
    issue_job,
    jobs,
    monitor_job,
    report_job,
    retrains,
)

WORKFLOW = ".github/workflows/mlspec.yml"
REPORT_ARTIFACT = "report"
"""Not ``mlspec-report``: later jobs download every ``mlspec-*`` artifact into the workspace."""
SAME_REPOSITORY_PR = ("github.event_name == 'pull_request' && "
                      "github.event.pull_request.head.repo.full_name == github.repository")
MONITOR_WORKFLOW = ".github/workflows/mlspec-monitor.yml"
OUTPUTS = (WORKFLOW, MONITOR_WORKFLOW)
PUSH_EVENTS = ("push", "workflow_dispatch")
SCHEDULED_EVENTS = ("schedule", "workflow_dispatch")


def files(ctx: Context) -> dict[str, dict[str, Any]]:
    """Template name → view-model, by output path."""
    out = {WORKFLOW: {"template": "github/mlspec.yml.j2", **_view(ctx)}}
    if ctx.spec.monitoring is not None:
        out[MONITOR_WORKFLOW] = {"template": "github/mlspec-monitor.yml.j2", **_monitor_view(ctx)}
    return one_line(out)


def _monitor_view(ctx: Context) -> dict[str, Any]:
    """The scheduled workflow: the monitor job, then what ``on_drift`` asks for. The monitor job reports drift
    as its output ``drift`` (written to ``$GITHUB_OUTPUT``); ``issue`` adds a job that alone may write issues,
    ``retrain`` the training pipeline's jobs, each conditioned on that output."""
    spec = ctx.spec
    assert spec.monitoring is not None
    monitor = monitor_job(spec, '"$GITHUB_OUTPUT"')
    assert monitor is not None
    view = _base(ctx)
    view["cron"] = cron(spec)
    # A run started by hand on a tag may retrain and deploy to a tag's target: no cache restores then, as in
    # mlspec.yml (see _setup.yml.j2).
    view["release_refs"] = retrains(spec) and any(t.when.tags for t in spec.deploy.values())
    view["job"] = {**_job(ctx, monitor, ()), "outputs": spec.monitoring.on_drift != "fail"}
    issue = issue_job(spec)
    view["issue"] = {**_job(ctx, issue, ()), "stage_cache": False} if issue is not None else None
    training = jobs(spec) if retrains(spec) else []
    view["jobs"] = [_retrain_job(ctx, job, training) for job in training]
    return view


def _retrain_job(ctx: Context, job: Job, all_jobs: list[Job]) -> dict[str, Any]:
    view = _job(ctx, job, all_jobs)
    view["needs"] = [MONITOR_JOB, *view["needs"]]
    view["download_outputs"] = not has_store(ctx.spec)
    drift = f"needs.{MONITOR_JOB}.outputs.drift == 'true'"
    # Scheduled (or started by hand) on the schedule's branch: a deploy target fires if that branch is one of
    # its refs, after the gate passed, exactly as on a push.
    view["if_"] = drift if job.target is None else _condition(ctx.spec, job, SCHEDULED_EVENTS, (drift,))
    return view


def _base(ctx: Context) -> dict[str, Any]:
    ci = ctx.spec.ci
    return {
        "header": ctx.header,
        "project": inert(ctx.spec.project),
        "spec_path": ctx.spec_path,
        "workspace": ctx.workspace,
        "lock_path": ctx.lock_path,
        "python": ci.python,
        "install": install_requirement(ctx),
        "extra_requirements": " ".join(inert(r) for r in ci.requirements),
        "requirements_file": inert(posixpath.join(ctx.spec_dir, ci.requirements_file)) if ci.requirements_file else "",
        "cache": ci.cache,
        "store": has_store(ctx.spec),
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
    view["push_branches"] = _unique([inert(b) for b in [spec.ci.default_branch, *deploy_branches]])
    view["push_tags"] = _unique([inert(g) for t in spec.deploy.values() for g in t.when.tags])
    view["release_refs"] = bool(view["push_tags"])
    view["jobs"] = [_job(ctx, job, all_jobs) for job in all_jobs]
    view["report"] = _report(ctx)
    return view


def _report(ctx: Context) -> dict[str, Any]:
    gh = ctx.spec.ci.github
    job = report_job(ctx.spec)
    return {
        "id": job.id,
        "needs": list(job.needs),
        "runs_on": [inert(label) for label in gh.runs_on],
        "timeout": gh.timeout_minutes,
        # The report compares data and params with the base branch's committed lock and spec.
        "fetch_depth": 0,
        "stage_cache": False,
        "command": job.report,
        "comment_command": job.comment,
        "comment_if": SAME_REPOSITORY_PR,
        "artifact": REPORT_ARTIFACT,
        "dir": ctx.report_dir,
        # With a store, whether each stage is current depends on the registry's baseline and url sources'
        # objects: the `mlspec report` step (not the comment step, which holds the token) reaches the store.
        "store_env": oidc.github_env(ctx.spec) if has_store(ctx.spec) else [],
        "oidc": oidc.github_steps(gh.oidc) if has_store(ctx.spec) else [],
    }


def _job(ctx: Context, job: Job, all_jobs: Any) -> dict[str, Any]:
    gh = ctx.spec.ci.github
    kind_ci = BY_NAME[job.kind].ci
    override = gh.stages.get(job.kind)
    runs_on = (override.runs_on if override and override.runs_on else None) or gh.runs_on
    timeout = (override.timeout_minutes if override and override.timeout_minutes else None) or gh.timeout_minutes
    env = list(job.env)
    if job.matrix_var:
        env.insert(0, (job.matrix_var, f"${{{{ matrix.{job.matrix_var.lower()} }}}}"))
    reaches_store = oidc.reaches_store(job)
    store = has_store(ctx.spec)
    leg = f"-${{{{ matrix.{job.matrix_var.lower()} }}}}" if job.matrix_var else ""  # names unique per matrix leg
    view: dict[str, Any] = {
        "id": job.id,
        "name": job.id + (f" ${{{{ matrix.{job.matrix_var.lower()} }}}}" if job.matrix_var else ""),
        "runs_on": [inert(label) for label in runs_on],
        "timeout": timeout,
        "needs": list(job.needs),
        "matrix_key": job.matrix_var.lower() if job.matrix_var else "",
        "matrix": list(job.matrix),
        "command": job.command,
        "env": env,
        "if_": _condition(ctx.spec, job),
        "environment": _environment(ctx.spec, job),
        "fetch_depth": 0 if kind_ci.full_history else 1,
        "artifact": "mlspec-" + job.id + leg,
        "upload_step": ("Keep the outputs for people (later jobs read them from the store)" if store
                        else "Keep the outputs for later jobs and for people"),
        "upload_paths": [f"{ctx.workspace}/stages", f"{ctx.workspace}/records"],
        "upload_lock": kind_ci.uploads_lock,
        # Jobs after evaluate take every stage output from the artifacts of the jobs before them, or from the
        # store when there is one (which also makes the stage-output cache redundant).
        "download_outputs": bool(job.needs) and not store,
        "download_trials": bool(job.trials) and not store,
        "stage_cache": ctx.spec.ci.cache and kind_ci.stage_cache and not store,
        "cache_step": "Restore stage outputs",
        "cache_paths": [f"{ctx.workspace}/stages", f"{ctx.workspace}/records"],
        # ci.env and the OIDC sign-in: in the mlspec step only, never in the install step or the report job.
        "store_env": oidc.github_env(ctx.spec) if reaches_store else [],
        "oidc": oidc.github_steps(ctx.spec.ci.github.oidc) if reaches_store else [],
        "cache_key": f"mlspec-{job.id}" + leg,
    }
    if job.trials_of is not None:
        view.update(_shard_job(ctx, job, leg))
    return view


def _shard_job(ctx: Context, job: Job, leg: str) -> dict[str, Any]:
    """What a search shard job keeps instead of stage outputs: the trial results under ``trials/`` of the
    workspace, as the artifact ``trials-<model>-<shard>`` (one folder per model inside, so the train job
    downloads every ``trials-*`` artifact into ``trials/`` and each result lands where ``mlspec run`` looks it
    up). With a store the results travel through it (``mlspec trials`` writes them there, the train job reads
    them from there): the artifact is then only for people, and the train job downloads none. Its cache keeps
    the model's results across pipelines (a raised budget reruns only the new trials), unless a store does."""
    assert job.trials_of is not None
    store = has_store(ctx.spec)
    return {
        "artifact": f"{job.id}{leg}",
        "upload_step": ("Keep the trial results for people (the train job reads them from the store)" if store
                        else "Keep the trial results for the train job and for people"),
        "upload_paths": [f"{ctx.workspace}/trials"],
        "cache_step": "Restore earlier trial results of this model",
        "cache_paths": [f"{ctx.workspace}/trials/{job.trials_of}"],
        "stage_cache": ctx.spec.ci.cache and not store,
    }


def _condition(spec: Spec, job: Job, events: tuple[str, ...] = PUSH_EVENTS, also: tuple[str, ...] = ()) -> str:
    """The job-level ``if:`` of a deploy job: pushes (or manual runs) of the refs its target names."""
    if job.target is None:
        return ""
    when = spec.deploy[job.target].when
    refs: list[str] = []
    for pattern in when.branches or ([] if when.tags else [spec.ci.default_branch]):
        refs.append(_ref_test("refs/heads/", pattern))
    for pattern in when.tags:
        refs.append(_ref_test("refs/tags/", pattern))
    event = "(" + " || ".join(f"github.event_name == '{e}'" for e in events) + ")"
    # `after` orders targets that fire in the same run; a target that did not fire (another branch or tag)
    # does not hold back the ones after it, but a failed one does. Hence no implicit success() here.
    gates = ["!cancelled()", *also, "needs.gate.result == 'success'"]
    gates += [f"needs.{deploy_job_id(a)}.result != 'failure'" for a in spec.deploy[job.target].after]
    return " && ".join([*gates, event, f"({' || '.join(refs)})"])


def _ref_test(prefix: str, pattern: str) -> str:
    literal, is_prefix = glob_parts(pattern)
    value = prefix + inert(literal)  # a git ref (mlspec.cistrings): no ' to end the expression's string
    return f"startsWith(github.ref, '{value}')" if is_prefix else f"github.ref == '{value}'"


def _environment(spec: Spec, job: Job) -> str:
    if job.target is None:
        return ""
    target = spec.deploy[job.target]
    return inert(target.environment or job.target)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
