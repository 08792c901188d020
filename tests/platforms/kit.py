"""Running what calls the platform APIs against :mod:`tests.platforms.fakeapi`: `mlspec comment` in a
subprocess with only the CI variables a test sets, and the drift issue's environments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mlspec.platforms import gitlab
from mlspec.report import marker
from tests.platforms import fakeapi
from tests.support import EXAMPLES

SPEC = EXAMPLES / "breast-cancer" / "mlspec.yaml"
MARKER = marker("breast-cancer")
REPO = "octo/ml-project"
_FOREIGN = ("GITHUB_", "GITLAB_", "CI_", "MLSPEC_", "RUNNER_", "ACTIONS_")


def comment(tmp_path: Path, env: dict[str, str], body: str = "## first push\n") -> subprocess.CompletedProcess[str]:
    text = tmp_path / "body.md"
    text.write_text(f"{MARKER}\n{body}")
    base = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN) and k != "CI"}
    return subprocess.run([sys.executable, "-m", "mlspec", "comment", "-f", str(SPEC), "--body", str(text)],
                          env={**base, "NO_PROXY": "127.0.0.1", **env}, capture_output=True, text=True, timeout=60)


def github_env(tmp_path: Path, api: fakeapi.Api, head: str = REPO, token: str = fakeapi.GITHUB_TOKEN,
               event: dict[str, object] | None = None) -> dict[str, str]:
    """A pull request's job, from ``head`` (a fork when it is not :data:`REPO`)."""
    payload = event if event is not None else {
        "number": 12, "pull_request": {"number": 12, "head": {"sha": "a" * 40, "repo": {"full_name": head}}}}
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(path),
           "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": api.base}
    if token:
        env["GITHUB_TOKEN"] = token
    return env


def gitlab_env(api: fakeapi.Api, token: str = fakeapi.GITLAB_TOKEN, iid: str = "7") -> dict[str, str]:
    """A merge request pipeline's job."""
    env = {"GITLAB_CI": "true", "CI_API_V4_URL": f"{api.base}/api/v4", "CI_PROJECT_ID": "42",
           "CI_MERGE_REQUEST_IID": iid}
    if token:
        env[gitlab.TOKEN_VAR] = token
    return env


def github_schedule(base: str) -> dict[str, str]:
    """A scheduled monitoring job of ``octo/wine``, as `mlspec monitor --open-issue` sees it."""
    return {"GITHUB_ACTIONS": "true", "GITHUB_API_URL": base, "GITHUB_REPOSITORY": "octo/wine",
            "GITHUB_TOKEN": fakeapi.GITHUB_TOKEN, "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_RUN_ID": "77"}


def gitlab_schedule(base: str) -> dict[str, str]:
    return {"GITLAB_CI": "true", "CI_API_V4_URL": f"{base}/api/v4", "CI_PROJECT_ID": "42",
            gitlab.TOKEN_VAR: fakeapi.GITLAB_TOKEN, "CI_PIPELINE_URL": "https://gitlab.example/p/1"}
