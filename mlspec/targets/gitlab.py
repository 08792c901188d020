"""GitLab CI: the view-model of ``.gitlab-ci.yml``.

Pipelines run for merge requests, branches without an open merge request (so a push never makes two
pipelines), tags, the web UI and schedules. Scheduled pipelines run monitoring; with ``on_drift: retrain`` they
hold the training jobs too, which need the monitor job's dotenv report and end at once unless it found drift
(``DRIFT_GUARD``); ``on_drift: issue`` adds a ``monitor-issue`` job after it.
Deploy jobs never run in merge request pipelines, so code from a fork never reaches a deployment. The
``report`` job runs after the gate whatever its outcome: it publishes the JUnit and metrics reports GitLab
shows in the merge request, the HTML report (``expose_as``), and posts the merge request note when the
project has set ``MLSPEC_GITLAB_TOKEN`` (``mlspec comment`` does nothing otherwise, and outside merge requests).
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from mlspec.monitor import DRIFT_VAR
from mlspec.runtime.stages import BY_NAME, KINDS
from mlspec.spec import Spec
from mlspec.targets import oidc
from mlspec.targets.common import Context, cron, has_store, inert, install_requirement, one_line
from mlspec.targets.pipeline import (
    ISSUE_JOB,
    MONITOR_JOB,
    REPORT_JOB,
    Job,
    glob_parts,
    issue_job,
    jobs,
    monitor_job,
    report_job,
    retrains,
)

GITLAB_CI = ".gitlab-ci.yml"
OUTPUTS = (GITLAB_CI,)
TRIALS_STAGE = "trials"
"""The stage of the search shard jobs, just before the train jobs that read their results."""
# Monitoring first: with on_drift: retrain, the training jobs of a scheduled pipeline need the monitor job. The
# report reads every job of the training pipeline; deployment comes after it.
STAGES = (
    *(k.name for k in KINDS if k.scheduled),
    *(name for k in KINDS if k.ci.command and not k.scheduled and not k.ci.after_report
      for name in ((TRIALS_STAGE, k.name) if k.name == "train" else (k.name,))),
    REPORT_JOB,
    *(k.name for k in KINDS if k.ci.command and not k.scheduled and k.ci.after_report),
)
DRIFT_ENV = "mlspec-drift.env"
"""The monitor job's dotenv report: MLSPEC_DRIFT=true|false, for the jobs that act on drift."""
DRIFT_GUARD = (f'if [ "${{{DRIFT_VAR}:-}}" = "false" ]; then echo "monitoring found no drift: nothing to retrain"; '
               "exit 0; fi")
"""First line of every job (before mlspec is installed) when scheduled pipelines retrain on drift: the
training jobs of a scheduled pipeline then exist, and end at once when the monitor job found no drift."""
REPORT_LINK = "mlspec report"
"""The name of the HTML report's link in the merge request (``artifacts:expose_as``)."""


def files(ctx: Context) -> dict[str, dict[str, Any]]:
    spec = ctx.spec
    ci = spec.ci
    all_jobs = jobs(spec)
    monitor = monitor_job(spec, DRIFT_ENV)
    if monitor is not None:
        all_jobs += [monitor, *([issue] if (issue := issue_job(spec)) else [])]
    views = [_job(ctx, job) for job in all_jobs]
    # After the gate, before the deploy jobs: the order people read the pipeline in.
    read = [i for i, j in enumerate(all_jobs) if j.id in report_job(spec).needs]
    views.insert(read[-1] + 1, _report(ctx))
    view: dict[str, Any] = {
        "template": "gitlab/gitlab-ci.yml.j2",
        "header": ctx.header,
        "stages": [s for s in STAGES if any(v["stage"] == s for v in views)],
        "spec_path": ctx.spec_path,
        "workspace": ctx.workspace,
        "lock_path": ctx.lock_path,
        "install": install_requirement(ctx),
        "extra_requirements": " ".join(inert(r) for r in ci.requirements),
        "requirements_file": inert(posixpath.join(ctx.spec_dir, ci.requirements_file)) if ci.requirements_file else "",
        # The full image, not -slim: the gate (and `mlspec diff`) read the base branch's lock with git, which
        # -slim lacks. spec.GitLabCI.image documents this default; tests/test_compile.py holds them together.
        "image": inert(ci.gitlab.image or f"python:{ci.python}"),
        "python": ci.python,
        "tags": [inert(tag) for tag in ci.gitlab.tags],
        "timeout": _duration(ci.gitlab.timeout_minutes),
        "cache": ci.cache,
        "cron": cron(spec),
        "drift_guard": DRIFT_GUARD if retrains(spec) else "",
        "jobs": views,
    }
    return one_line({GITLAB_CI: view})


def _job(ctx: Context, job: Job) -> dict[str, Any]:
    spec = ctx.spec
    kind = BY_NAME[job.kind]
    override = spec.ci.gitlab.stages.get(job.kind)
    tags = [inert(tag) for tag in override.tags] if override and override.tags is not None else None
    timeout = override.timeout_minutes if override and override.timeout_minutes else None
    # `after` targets may be left out of a pipeline by their rules: optional needs keep it valid. With a store,
    # the store carries the stage outputs: no earlier job's artifacts are downloaded.
    store = has_store(spec)
    needs = [{"job": n, "optional": n.startswith("deploy-"), "artifacts": not store} for n in job.needs]
    if retrains(spec) and not kind.scheduled:
        # Only scheduled pipelines have the monitor job; its dotenv report (an artifact, so kept with a store
        # too) tells these jobs whether to retrain.
        needs.insert(0, {"job": MONITOR_JOB, "optional": True, "artifacts": True})
    if job.id == ISSUE_JOB:
        needs = [{**need, "artifacts": True} for need in needs]  # it reads the monitor job's report
    acts_on_drift = job.id == MONITOR_JOB and spec.monitoring is not None and spec.monitoring.on_drift != "fail"
    reaches_store = oidc.reaches_store(job)
    auth = oidc.gitlab_auth(spec.ci.gitlab.oidc) if reaches_store else oidc.GitLabAuth([], [], [])
    view: dict[str, Any] = {
        "id": job.id,
        "stage": job.kind,
        "needs": needs,
        "matrix_var": job.matrix_var or "",
        "matrix": list(job.matrix),
        "script": [job.command],
        # Constants that sign in to the cloud with an ID token, before the command (and after the install).
        "auth_script": auth.script,
        "id_tokens": auth.id_tokens,
        "env": [*job.env, *(oidc.gitlab_env(spec) if reaches_store else []), *auth.variables],
        "tags": tags,
        "timeout": _duration(timeout) if timeout else "",
        "rules": _rules(spec, job),
        "environment": inert(spec.deploy[job.target].environment or job.target) if job.target else "",
        "interruptible": kind.ci.interruptible,
        "full_history": kind.ci.full_history,
        # The drift issue job (after the monitor job) only reads the monitor job's report.
        "stage_cache": spec.ci.cache and kind.ci.stage_cache and job.id != ISSUE_JOB and not store,
        "cache_key": f"mlspec-{job.id}" + (f"-${job.matrix_var}" if job.matrix_var else ""),
        "cache_paths": [f"{ctx.workspace}/stages/", f"{ctx.workspace}/records/"],
        "artifact_paths": [f"{ctx.workspace}/stages/", f"{ctx.workspace}/records/",
                           *([ctx.lock_path] if kind.ci.uploads_lock else [])],
        "expose_as": "",
        "reports": [("dotenv", DRIFT_ENV)] if acts_on_drift else [],
    }
    if job.trials_of is not None:
        # A search shard job keeps the model's trial results, not stage outputs: as its artifact, which the
        # train job (needing it) downloads into the same folder; with a store the results travel through the
        # store and the artifact is only for people. Its cache keeps them across pipelines (a raised budget
        # reruns only the new trials), unless a store does.
        trials = f"{ctx.workspace}/trials/{job.trials_of}/"
        view.update(stage=TRIALS_STAGE, cache_paths=[trials], artifact_paths=[trials],
                    stage_cache=spec.ci.cache and not store)
    return view


def _report(ctx: Context) -> dict[str, Any]:
    job = report_job(ctx.spec)
    store = has_store(ctx.spec)
    auth = oidc.gitlab_auth(ctx.spec.ci.gitlab.oidc) if store else oidc.GitLabAuth([], [], [])
    return {
        "id": job.id,
        "stage": "report",
        # It reads what the jobs uploaded; with a store it also needs the store (whether each stage is current
        # depends on the registry's baseline and on url sources' objects), so it signs in like the stage jobs.
        "needs": [{"job": n, "optional": False, "artifacts": True} for n in job.needs],
        "matrix_var": "",
        "matrix": [],
        "script": [job.report, job.comment],
        "auth_script": auth.script,
        "id_tokens": auth.id_tokens,
        "env": [*(oidc.gitlab_env(ctx.spec) if store else []), *auth.variables],
        "tags": None,
        "timeout": "",
        # After a failed gate too: the report shows why. Schedules run monitoring only.
        "rules": [{"if": '$CI_PIPELINE_SOURCE == "schedule"', "when": "never"}, {"if": "", "when": "always"}],
        "environment": "",
        "interruptible": True,
        # The report compares data and params with the target branch's committed lock and spec.
        "full_history": True,
        "stage_cache": False,
        "cache_key": "",
        "artifact_paths": [ctx.report_dir + "/"],
        "expose_as": REPORT_LINK,
        "reports": [("junit", ctx.report_file("junit")), ("metrics", ctx.report_file("gitlab-metrics"))],
    }


def _rules(spec: Spec, job: Job) -> list[dict[str, str]]:
    """Each rule as ``{"if": condition or "", "when": ... or ""}``."""
    return [{"if": r.get("if", ""), "when": r.get("when", "")} for r in _rule_list(spec, job)]


def _rule_list(spec: Spec, job: Job) -> list[dict[str, str]]:
    if BY_NAME[job.kind].scheduled:
        return [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    # With on_drift: retrain, scheduled pipelines hold the training pipeline too (see DRIFT_GUARD).
    scheduled = not retrains(spec)
    if job.target is None:
        return ([{"if": '$CI_PIPELINE_SOURCE == "schedule"', "when": "never"}] if scheduled else []) + [
            {"when": "on_success"}]
    when = spec.deploy[job.target].when
    on = "manual" if when.manual else "on_success"
    never = '$CI_PIPELINE_SOURCE == "merge_request_event"' + (' || $CI_PIPELINE_SOURCE == "schedule"'
                                                              if scheduled else "")
    rules = [{"if": never, "when": "never"}]
    for pattern in when.branches or ([] if when.tags else [spec.ci.default_branch]):
        rules.append({"if": _ref_test("$CI_COMMIT_BRANCH", pattern), "when": on})
    for pattern in when.tags:
        rules.append({"if": _ref_test("$CI_COMMIT_TAG", pattern), "when": on})
    return rules


def _ref_test(variable: str, pattern: str) -> str:
    """A rule's condition on a git ref (mlspec.cistrings): no `"` to end its string, which has no escapes."""
    literal, is_prefix = glob_parts(inert(pattern))
    if is_prefix:
        # GitLab regexes are RE2 between slashes: escape the literal, and the slash that would end it.
        regex = re.escape(literal).replace("/", "\\/")
        return f"{variable} =~ /^{regex}/"
    return f'{variable} == "{literal}"'


def _duration(minutes: int) -> str:
    return f"{minutes // 60}h {minutes % 60}m" if minutes >= 60 and minutes % 60 else (
        f"{minutes // 60}h" if minutes >= 60 else f"{minutes}m")
