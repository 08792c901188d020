"""Running a generated `.gitlab-ci.yml` with gitlab-ci-local on this machine, and reading what happened."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import REPO

GITLAB_CI_LOCAL = REPO / ".ci" / "node" / "node_modules" / ".bin" / "gitlab-ci-local"

# gitlab-ci-local's options for running the generated file on the host (see REAL-CLIENTS.md): `image:` is
# ignored by the shell executor; without --shell-isolation all jobs would share one working tree and
# artifacts would only appear to pass; artifacts stay in .gitlab-ci-local/ instead of the checkout.
# One job at a time: every job installs mlspec into the same job venv (the shell executor has no per-job
# Python), and two pip installs into one environment at once can corrupt it.
BASE_ARGS = ("--no-color", "--force-shell-executor", "--shell-isolation", "--no-artifacts-to-source",
             "--json-schema-validation", "--concurrency", "1", "--max-job-name-padding", "0")

_SUMMARY = re.compile(r"^ (PASS|FAIL|WARN) +(.+?) *$")


@dataclass
class Job:
    name: str
    """As gitlab-ci-local shows it: ``train: [forest]`` for a matrix leg, else the job's key."""
    result: str = ""
    """PASS, FAIL or WARN (allowed to fail)."""
    output: list[str] = field(default_factory=list)
    """What the job's script printed, line by line."""
    started: int = -1
    finished: int = -1
    """Line numbers of the pipeline log where the job started and finished: the order jobs ran in."""


@dataclass(frozen=True)
class Pipeline:
    returncode: int
    log: str
    jobs: dict[str, Job]

    def describe(self) -> str:
        return f"gitlab-ci-local exited {self.returncode}; its log:\n{self.log}"


def available() -> str:
    assert GITLAB_CI_LOCAL.exists(), ("gitlab-ci-local is not installed; run `make test`, which installs the CI "
                                      "tools under .ci/node")
    return str(GITLAB_CI_LOCAL)


def _variable_args(variables: Mapping[str, str], unset: Sequence[str]) -> list[str]:
    args = [arg for key, value in variables.items() for arg in ("--variable", f"{key}={value}")]
    args += [arg for key in unset for arg in ("--unset-variable", key)]
    predefined = [k for k in variables if k.startswith(("CI_", "GITLAB_"))]
    if predefined:
        # Overriding predefined variables is the documented way to simulate another pipeline source.
        args += ["--ignore-predefined-vars", ",".join(predefined)]
    return args


def listed(root: Path, env: Mapping[str, str], variables: Mapping[str, str], unset: Sequence[str] = ()
           ) -> dict[str, str]:
    """Every job of the pipeline these variables make, by name, with its ``when`` (``never``: left out)."""
    result = subprocess.run([available(), "--list-json", *_variable_args(variables, unset)], cwd=root, env=dict(env),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return {job["name"]: job["when"] for job in json.loads(result.stdout)}


def run(root: Path, env: Mapping[str, str], variables: Mapping[str, str], unset: Sequence[str] = (),
        until: str = "") -> Pipeline:
    """The pipeline these variables make; with ``until``, only that job and the jobs it needs (``--needs``)."""
    only = [until, "--needs"] if until else []
    result = subprocess.run([available(), *only, *BASE_ARGS, *_variable_args(variables, unset)], cwd=root,
                            env=dict(env),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    # Beside the per-job logs gitlab-ci-local keeps in its state directory, for a look after a failure.
    state = root / ".gitlab-ci-local"
    state.mkdir(exist_ok=True)
    (state / "pipeline.log").write_text(result.stdout)
    return Pipeline(result.returncode, result.stdout, _parse(result.stdout.splitlines()))


def _parse(lines: list[str]) -> dict[str, Job]:
    jobs: dict[str, Job] = {}
    for line in lines:
        summary = _SUMMARY.match(line)
        if summary:
            jobs.setdefault(summary[2], Job(summary[2])).result = summary[1]
    # Longest names first, so that no job's lines are taken for those of a job whose name is a prefix of it.
    names = sorted(jobs, key=len, reverse=True)
    for number, line in enumerate(lines):
        name = next((n for n in names if line.startswith(n + " ")), None)
        if name is None:
            continue
        rest = line[len(name) + 1:]
        job = jobs[name]
        if rest.startswith("> "):
            job.output.append(rest[2:])
        elif rest.startswith("starting "):
            job.started = number
        elif rest.startswith("finished in "):
            job.finished = number
    return jobs
