"""The scheduled pipelines `mlspec compile` generates for each `monitoring.on_drift` (the examples cover all
three: wine fails, diabetes opens an issue, breast-cancer retrains). The real checkers run over these files
in tests/test_compile.py."""

from __future__ import annotations

from typing import Any

import yaml

from tests.golden import compiled

MONITOR = ".github/workflows/mlspec-monitor.yml"
DRIFT = "${{ steps.monitor.outputs.MLSPEC_DRIFT }}"
ON_DRIFT = "needs.monitor.outputs.drift == 'true'"


def _files(example: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    files = compiled(example)
    return (yaml.safe_load(files[MONITOR]), yaml.safe_load(files[".github/workflows/mlspec.yml"]),
            yaml.safe_load(files[".gitlab-ci.yml"]))


def _run(job: dict[str, Any], name: str) -> str:
    return str(next(s for s in job["steps"] if s.get("name") == name)["run"])


def test_fail_makes_the_monitor_job_fail_on_drift() -> None:
    monitor, _, gitlab = _files("wine")
    assert list(monitor["jobs"]) == ["monitor"]
    job = monitor["jobs"]["monitor"]
    assert _run(job, "mlspec monitor") == 'mlspec monitor -f "$MLSPEC_SPEC"'
    assert "outputs" not in job and job["permissions"] == {"contents": "read"}
    assert gitlab["monitor"]["script"] == ['mlspec monitor -f "$MLSPEC_SPEC"']
    assert "reports" not in gitlab["monitor"]["artifacts"] and "monitor-issue" not in gitlab
    assert gitlab["train"]["rules"][0] == {"if": '$CI_PIPELINE_SOURCE == "schedule"', "when": "never"}
    assert all("MLSPEC_DRIFT" not in line for line in gitlab["default"]["before_script"])


def test_issue_adds_a_job_that_alone_may_write_issues() -> None:
    monitor, main, gitlab = _files("diabetes")
    jobs = monitor["jobs"]
    assert list(jobs) == ["monitor", "monitor-issue"]
    assert _run(jobs["monitor"], "mlspec monitor") == (
        'mlspec monitor -f "$MLSPEC_SPEC" --exit-zero-on-drift --outputs "$GITHUB_OUTPUT"')
    assert jobs["monitor"]["outputs"] == {"drift": DRIFT}
    issue = jobs["monitor-issue"]
    assert (issue["needs"], issue["if"]) == (["monitor"], f"${{{{ {ON_DRIFT} }}}}")
    assert issue["permissions"] == {"contents": "read", "issues": "write"}
    assert [j for j, job in {**jobs, **main["jobs"]}.items() if "issues" in job["permissions"]] == ["monitor-issue"]
    steps = {s["name"]: s for s in issue["steps"]}
    assert steps["Download the drift report"]["with"] == {"name": "mlspec-monitor", "path": ".mlspec"}
    opened = steps["Open or update the drift issue"]
    assert opened["run"] == 'mlspec monitor -f "$MLSPEC_SPEC" --open-issue'
    assert opened["env"] == {"GITHUB_TOKEN": "${{ secrets.GITHUB_TOKEN }}"}
    assert [s["name"] for s in issue["steps"] if "env" in s] == ["Open or update the drift issue"]
    # GitLab: the same, with the project access token as a CI/CD variable (never in the file).
    assert gitlab["monitor"]["artifacts"]["reports"] == {"dotenv": "mlspec-drift.env"}
    assert gitlab["monitor"]["script"] == [
        'mlspec monitor -f "$MLSPEC_SPEC" --exit-zero-on-drift --outputs mlspec-drift.env']
    assert gitlab["monitor-issue"]["needs"] == ["monitor"]
    assert gitlab["monitor-issue"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    assert gitlab["monitor-issue"]["script"] == ['mlspec monitor -f "$MLSPEC_SPEC" --open-issue']
    assert "MLSPEC_GITLAB_TOKEN" not in compiled("diabetes")[".gitlab-ci.yml"]


def test_retrain_reruns_the_training_pipeline_only_on_drift() -> None:
    monitor, main, _ = _files("breast-cancer")
    jobs = monitor["jobs"]
    training = [j for j in main["jobs"] if j != "report"]
    assert list(jobs) == ["monitor", *training]
    assert jobs["monitor"]["outputs"] == {"drift": DRIFT}
    for name in training:
        job, same = jobs[name], main["jobs"][name]
        assert job["needs"] == ["monitor", *same.get("needs", [])]
        # Both workflows render a job by one template block; the view-model gives the retrain job the same steps,
        # and the monitor job's artifact (data profiles) among the downloads of the first ones.
        download = [s for s in job["steps"] if s["name"] == "Download the outputs of earlier jobs"]
        steps = job["steps"] if same.get("needs") else [s for s in job["steps"] if s not in download]
        assert steps == same["steps"], f"{name}: the retrain job's view-model differs from mlspec.yml's"
        assert download and download[0]["with"]["pattern"] == "mlspec-*"
        assert job["permissions"] == {"contents": "read"} and job.get("environment") == same.get("environment")
        if name.startswith("deploy-"):
            # The gate must have passed, as on a push; the event is the schedule (or a manual run).
            assert job["if"].startswith(f"${{{{ !cancelled() && {ON_DRIFT} && needs.gate.result == 'success'")
            assert "github.event_name == 'schedule' || github.event_name == 'workflow_dispatch'" in job["if"]
            assert job["if"].rsplit(" && ", 1)[1] == same["if"].rsplit(" && ", 1)[1]  # the same refs
        else:
            assert job["if"] == f"${{{{ {ON_DRIFT} }}}}"


def test_retrain_in_gitlab_schedules() -> None:
    _, _, gitlab = _files("breast-cancer")
    assert gitlab["stages"][0] == "monitor"
    guard = gitlab["default"]["before_script"][0]
    assert guard == ('if [ "${MLSPEC_DRIFT:-}" = "false" ]; then echo "monitoring found no drift: nothing to '
                     'retrain"; exit 0; fi')
    for name in ("validate", "train", "evaluate", "gate", "deploy-staging", "deploy-production", "deploy-bundle"):
        assert gitlab[name]["needs"][0] == {"job": "monitor", "optional": True}, name
        assert all("schedule" not in rule.get("if", "") for rule in gitlab[name]["rules"]), name
    assert gitlab["deploy-staging"]["rules"] == [
        {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"', "when": "never"},
        {"if": '$CI_COMMIT_BRANCH == "main"', "when": "on_success"}]
    assert gitlab["report"]["rules"][0] == {"if": '$CI_PIPELINE_SOURCE == "schedule"', "when": "never"}
    assert gitlab["monitor"]["artifacts"]["reports"] == {"dotenv": "mlspec-drift.env"}
