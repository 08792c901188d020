"""Running a generated GitHub workflow with act on this machine (no Docker, no network), and reading the result.

act runs each job on the host (``-P ubuntu-latest=-self-hosted``) in a fresh copy of the repository. It
checks out the repository itself without the network (a step ``uses: actions/checkout`` of the same
repository is done by that copy), but it cannot clone any other action, so each one is replaced, by the
exact ``owner/repo@sha`` the workflow pins, with a local stand-in under ``standins/`` (``--local-repository``).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlspec.targets import actions
from tests.support import tool

STANDINS = Path(__file__).resolve().parent / "standins"
# Done by act itself for the repository under test (it copies the work tree instead of cloning).
BUILT_IN = (actions.CHECKOUT,)


@dataclass
class Job:
    id: str
    matrix: dict[str, str]
    result: str = ""
    """success, failure or skipped."""
    output: list[str] = field(default_factory=list)
    """What the job's steps printed, line by line."""
    steps: dict[str, str] = field(default_factory=dict)
    """Result of each main step, by step name."""
    first: int = -1
    last: int = -1
    """Line numbers in act's log of the job's first step and of its result: the order jobs ran in."""

    @property
    def name(self) -> str:
        return self.id + "".join(f" ({k}={v})" for k, v in sorted(self.matrix.items()))


@dataclass(frozen=True)
class Run:
    returncode: int
    log: str
    jobs: dict[str, Job]
    """By :attr:`Job.name`."""

    def describe(self) -> str:
        text = "\n".join(f"--- {job.name}: {job.result}\n" + "\n".join(job.output) for job in self.jobs.values())
        return f"act exited {self.returncode}; what the jobs printed:\n{text}"


def standin_args(workflow: Path) -> list[str]:
    """``--local-repository`` for every action the workflow uses, after checking that each has a stand-in."""
    uses = {step["uses"] for job in yaml.safe_load(workflow.read_text())["jobs"].values()
            for step in job["steps"] if "uses" in step}
    args: list[str] = []
    for action in actions.ALL:
        if action in BUILT_IN or action.uses not in uses:
            continue
        directory = STANDINS / action.repo
        assert (directory / "action.yml").is_file(), f"no test stand-in for {action.repo} in {directory}"
        args += ["--local-repository", f"{action.uses}={directory}"]
    unknown = uses - {a.uses for a in actions.ALL}
    assert not unknown, f"the workflow uses actions that are not in mlspec.targets.actions: {sorted(unknown)}"
    return args


def pull_request_event(base: str, base_sha: str, head: str, head_sha: str, repository: str) -> dict[str, Any]:
    """The parts of a ``pull_request`` webhook payload that act and the workflow read."""
    owner, name = repository.split("/")
    return {
        "action": "synchronize",
        "number": 1,
        "pull_request": {"number": 1, "head": {"ref": head, "sha": head_sha}, "base": {"ref": base, "sha": base_sha}},
        "repository": {"full_name": repository, "name": name, "owner": {"login": owner}, "default_branch": base},
    }


def run(root: Path, workflow: Path, event: str, event_file: Path, env: Mapping[str, str], job_env: Mapping[str, str],
        variables: Mapping[str, str], cache_dir: Path, secrets: Mapping[str, str] | None = None) -> Run:
    command = [
        tool("act"), event, "--eventpath", str(event_file), "--workflows", str(workflow),
        # On the host, no Docker; no cache server (the cache stand-in never calls one); never pull an action
        # (checkout is act's copy of the work tree, every other action a stand-in: see standin_args).
        "-P", "ubuntu-latest=-self-hosted", "--no-cache-server", "--action-offline-mode",
        # Job workspaces and act's own files under tmp_path, not in ~/.cache/act.
        "--action-cache-path", str(cache_dir),
        # -v: jobs skipped by their `if:` are reported at debug level only; --json: one record per line.
        "--json", "--verbose", *standin_args(workflow),
    ]
    command += [arg for key, value in job_env.items() for arg in ("--env", f"{key}={value}")]
    command += [arg for key, value in variables.items() for arg in ("--var", f"{key}={value}")]
    command += [arg for key, value in (secrets or {}).items() for arg in ("--secret", f"{key}={value}")]
    result = subprocess.run(command, cwd=root, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=900)
    # Kept for a look after a failure (pytest keeps the last three runs' tmp_path).
    cache_dir.mkdir(parents=True, exist_ok=True)
    (cache_dir / "act.log").write_text(result.stdout)
    return Run(result.returncode, result.stdout, _parse(result.stdout.splitlines()))


def _parse(lines: list[str]) -> dict[str, Job]:
    jobs: dict[str, Job] = {}
    for number, line in enumerate(lines):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # act's own last words ("Error: Job 'gate' failed") are plain text
        if not isinstance(record, dict) or "jobID" not in record:
            continue
        key = Job(record["jobID"], {k: str(v) for k, v in (record.get("matrix") or {}).items()})
        job = jobs.setdefault(key.name, key)
        # Debug lines about a job (its `if:` being evaluated) come before it starts; its steps mark the start.
        if "step" in record and job.first < 0:
            job.first = number
        if "jobResult" in record:
            job.result = record["jobResult"]
            job.last = number
        if record.get("raw_output"):
            job.output.extend(str(record["msg"]).splitlines())
        if "stepResult" in record and record.get("stage") == "Main":
            job.steps[record["step"]] = record["stepResult"]
    return jobs
