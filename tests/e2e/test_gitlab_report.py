"""The merge request pipeline run twice under gitlab-ci-local, its report posted to a GitLab API on loopback.

First push: the gates pass; the report job creates the merge request note. Second push raises a gate's
threshold: the pipeline fails at the gate and no deploy job runs, yet the report job still runs, shows the
failure, and edits the same note instead of adding one. The API is the strict stand-in of
tests/platforms/fakeapi.py, reached by the jobs (on the host, shell executor) through ``CI_API_V4_URL``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mlspec.report import marker
from tests.e2e import gitlab_local
from tests.e2e.jobpython import JobPython, executor_env
from tests.e2e.project import Project, git
from tests.e2e.test_gitlab_pipeline import MERGE_REQUEST, NOT_IN_MERGE_REQUESTS, _job_name
from tests.platforms import fakeapi

THREAD = f"gitlab:42!{MERGE_REQUEST['CI_MERGE_REQUEST_IID']}"
STRICTER = ("roc_auc: {min: 0.95,", "roc_auc: {min: 0.999,")


def _report_lines(pipeline: gitlab_local.Pipeline) -> list[str]:
    return pipeline.jobs["report"].output


@pytest.mark.slow
@pytest.mark.parametrize("project_template", ["ml"], indirect=True, ids=["spec-in-subdir"])
def test_merge_request_report_updates_one_note(tmp_path: Path, home: Path, project: Project,
                                               job_python: JobPython) -> None:
    env = executor_env(home, job_python.venv(tmp_path / "job-venv"))
    spec = project.root / project.spec_path
    junit = (project.root / ".gitlab-ci-local" / "artifacts" / "report" / project.workspace.relative_to(project.root)
             / "report" / "junit.xml")
    with fakeapi.serve() as api:
        api.seed(THREAD, "Could the forest do with fewer trees?")
        variables = {**MERGE_REQUEST, "MLSPEC_INSTALL": str(job_python.wheel), "PIP_NO_INDEX": "1",
                     "CI_API_V4_URL": f"{api.base}/api/v4", "CI_PROJECT_ID": "42",
                     "MLSPEC_GITLAB_TOKEN": fakeapi.GITLAB_TOKEN}

        passing = gitlab_local.run(project.root, env, variables, NOT_IN_MERGE_REQUESTS)
        assert passing.returncode == 0, passing.describe()
        assert {_job_name(n): j.result for n, j in passing.jobs.items()}["report"] == "PASS", passing.describe()
        assert "✅ gates passed" in _report_lines(passing)
        (note,) = [c for c in api.comments[THREAD] if c["body"].startswith(marker("breast-cancer"))]
        assert f"posted the report as comment {note['id']} on merge request !1 of project 42" in _report_lines(
            passing)
        assert "## ✅ mlspec `breast-cancer`: gates passed\n" in note["body"]
        assert "| parameter | training.models.forest.params.n_estimators | 200 | 100 | -100 |" in note["body"]
        assert ET.parse(junit).getroot().get("failures") == "0"

        # The second push makes a gate fail.
        text = spec.read_text("utf-8")
        spec.write_text(text.replace(*STRICTER, 1), "utf-8")
        git(project.root, home, "commit", "--quiet", "--all", "--message", "Demand a better roc_auc")
        failing = gitlab_local.run(project.root, env, variables, NOT_IN_MERGE_REQUESTS)
        assert failing.returncode != 0, failing.describe()
        results = {_job_name(n): j.result for n, j in failing.jobs.items()}
        assert results.pop("gate") == "FAIL", failing.describe()
        assert results.pop("report") == "PASS", failing.describe()  # after the failed gate: when: always
        assert set(results.values()) == {"PASS"}, failing.describe()  # the jobs before the gate
        assert not [name for name in failing.jobs if name.startswith("deploy-")]
        assert any("roc_auc: 0.9917 < min 0.999" in line for line in failing.jobs["gate"].output)
        assert "❌ 1 gate failed" in _report_lines(failing)
        assert f"updated the report in comment {note['id']} on merge request !1 of project 42" in _report_lines(
            failing)

    # One mlspec note, edited in place; the reviewer's note untouched.
    assert [c["id"] for c in api.comments[THREAD]][1:] == [note["id"]]
    assert api.comments[THREAD][0]["body"] == "Could the forest do with fewer trees?"
    body = api.comments[THREAD][1]["body"]
    assert "## ❌ mlspec `breast-cancer`: 1 gate failed\n" in body
    assert ("| ❌ | `roc_auc` (higher is better) | 0.9917 | 0.9917 | +0 | min 0.999, max_drop 0.01 | 0.9917 &lt; "
            "min 0.999 |") in body
    notes = "/api/v4/projects/42/merge_requests/1/notes"
    assert [(r.method, r.path, r.status) for r in api.requests] == [
        ("GET", notes, 200), ("POST", notes, 201), ("GET", notes, 200), ("PUT", f"{notes}/{note['id']}", 200)]
    failures = ET.parse(junit).getroot().findall(".//testcase[@name='roc_auc']/failure")
    assert [f.get("message") for f in failures] == ["0.9917 < min 0.999"]
