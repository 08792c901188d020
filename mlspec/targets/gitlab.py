"""GitLab CI: the view-model of ``.gitlab-ci.yml``.

Pipelines run for merge requests, branches without an open merge request (so a push never makes two
pipelines), tags, the web UI and schedules. Training jobs skip scheduled pipelines, which run monitoring.
Deploy jobs never run in merge request pipelines, so code from a fork never reaches a deployment.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from mlspec.spec import Spec
from mlspec.targets.common import Context, install_requirement
from mlspec.targets.pipeline import Job, glob_parts, jobs, monitor_job

GITLAB_CI = ".gitlab-ci.yml"
STAGES = ("validate", "train", "evaluate", "gate", "deploy", "monitor")


def files(ctx: Context) -> dict[str, dict[str, Any]]:
    spec = ctx.spec
    ci = spec.ci
    all_jobs = jobs(spec)
    monitor = monitor_job(spec)
    if monitor is not None:
        all_jobs.append(monitor)
    view: dict[str, Any] = {
        "template": "gitlab/gitlab-ci.yml.j2",
        "header": ctx.header,
        "stages": [s for s in STAGES if any(j.kind == s for j in all_jobs)],
        "spec_path": ctx.spec_path,
        "workspace": ctx.workspace,
        "lock_path": ctx.lock_path,
        "install": install_requirement(ctx),
        "extra_requirements": " ".join(ci.requirements),
        "requirements_file": posixpath.join(ctx.spec_dir, ci.requirements_file) if ci.requirements_file else "",
        # The full image, not -slim: the gate reads the base branch's lock with git.
        "image": ci.gitlab.image or f"python:{ci.python}",
        "python": ci.python,
        "tags": ci.gitlab.tags,
        "timeout": _duration(ci.gitlab.timeout_minutes),
        "cache": ci.cache,
        "cron": spec.monitoring.schedule if spec.monitoring else "",
        "jobs": [_job(spec, job) for job in all_jobs],
    }
    return {GITLAB_CI: view}


def _job(spec: Spec, job: Job) -> dict[str, Any]:
    override = spec.ci.gitlab.stages.get(job.kind)
    tags = override.tags if override and override.tags is not None else None
    timeout = override.timeout_minutes if override and override.timeout_minutes else None
    return {
        "id": job.id,
        "stage": job.kind,
        # `after` targets may be left out of a pipeline by their rules: optional needs keep it valid.
        "needs": [{"job": n, "optional": n.startswith("deploy-")} for n in job.needs],
        "matrix_var": job.matrix_var or "",
        "matrix": list(job.matrix),
        "command": job.command,
        "env": list(job.env),
        "tags": tags,
        "timeout": _duration(timeout) if timeout else "",
        "rules": _rules(spec, job),
        "environment": (spec.deploy[job.target].environment or job.target) if job.target else "",
        # A deployment half done is worse than a superseded one finished; the gate reads git history.
        "interruptible": job.kind not in ("deploy",),
        "full_history": job.kind == "gate",
        "stage_cache": spec.ci.cache and job.kind in ("validate", "train", "evaluate", "monitor"),
        "cache_key": f"mlspec-{job.id}" + (f"-${job.matrix_var}" if job.matrix_var else ""),
        "keep_lock": job.kind in ("evaluate", "gate"),
    }


def _rules(spec: Spec, job: Job) -> list[dict[str, str]]:
    """Each rule as ``{"if": condition or "", "when": ... or ""}``."""
    return [{"if": r.get("if", ""), "when": r.get("when", "")} for r in _rule_list(spec, job)]


def _rule_list(spec: Spec, job: Job) -> list[dict[str, str]]:
    if job.kind == "monitor":
        return [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    if job.target is None:
        return [{"if": '$CI_PIPELINE_SOURCE == "schedule"', "when": "never"}, {"when": "on_success"}]
    when = spec.deploy[job.target].when
    on = "manual" if when.manual else "on_success"
    rules = [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event" || $CI_PIPELINE_SOURCE == "schedule"',
              "when": "never"}]
    for pattern in when.branches or ([] if when.tags else [spec.ci.default_branch]):
        rules.append({"if": _ref_test("$CI_COMMIT_BRANCH", pattern), "when": on})
    for pattern in when.tags:
        rules.append({"if": _ref_test("$CI_COMMIT_TAG", pattern), "when": on})
    return rules


def _ref_test(variable: str, pattern: str) -> str:
    literal, is_prefix = glob_parts(pattern)
    if is_prefix:
        # GitLab regexes are RE2 between slashes: escape the literal, and the slash that would end it.
        regex = re.escape(literal).replace("/", "\\/")
        return f"{variable} =~ /^{regex}/"
    return f"{variable} == {_quoted(literal)}"


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _duration(minutes: int) -> str:
    return f"{minutes // 60}h {minutes % 60}m" if minutes >= 60 and minutes % 60 else (
        f"{minutes // 60}h" if minutes >= 60 else f"{minutes}m")
