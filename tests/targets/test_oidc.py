"""ci.env and OIDC sign-in reach exactly the jobs that use the store or the registry; with a store, no job
downloads earlier jobs' outputs or restores a stage cache; and the GitLab sign-in scripts write what each
cloud's own SDK reads (checked with boto3, azure-identity and google-auth, which need no network for it)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlspec.targets import actions, oidc
from tests.golden import compiled

STORE = "breast-cancer+store"
REPORTERS = ("report", "monitor-issue")
"""Jobs that read what earlier jobs uploaded, and hold a token that can write to the project. The report job also
reaches the store in its `mlspec report` step alone (whether a stage is current depends on the registry's
baseline and on url sources), never in the step that holds the token."""


def _github(rel: str) -> dict[str, Any]:
    return yaml.safe_load(compiled(STORE)[rel])


@pytest.mark.parametrize("rel", [".github/workflows/mlspec.yml", ".github/workflows/mlspec-monitor.yml"])
def test_github_env_and_oidc_only_in_the_mlspec_step_of_store_jobs(rel: str) -> None:
    jobs = _github(rel)["jobs"]
    store_jobs = [j for j in jobs if j not in REPORTERS]
    reporters = [j for j in jobs if j in REPORTERS and j != "report"]
    assert "deploy-staging" in store_jobs  # on_drift: retrain deploys from the monitoring workflow too
    assert ("monitor" in store_jobs) == rel.endswith("-monitor.yml")
    for job_id, job in jobs.items():
        uses = [s.get("uses", "") for s in job["steps"]]
        signs_in = [u for u in uses if u in (a.uses for a in (actions.AWS_CREDENTIALS, actions.AZURE_LOGIN,
                                                               actions.GCP_AUTH))]
        text = yaml.safe_dump(job)
        if job_id == "report":
            continue  # test_github_report_reaches_the_store_in_its_report_step_only
        if job_id in reporters:
            assert "id-token" not in job["permissions"] and not signs_in
            assert "MLFLOW_TRACKING_TOKEN" not in text and "vars.AZURE" not in text
            continue
        assert job["permissions"] == {"contents": "read", "id-token": "write"}, job_id
        assert len(signs_in) == 3, job_id
        names = [s["name"] for s in job["steps"]]
        mlspec_step = next(s for s in job["steps"] if s.get("run", "").startswith("mlspec "))
        # Sign-in after the install (pip never sees a credential), right before the mlspec step.
        assert names.index("Install mlspec") < names.index("AWS credentials (OIDC)")
        assert names.index(mlspec_step["name"]) == names.index("Google Cloud credentials (OIDC)") + 1
        env = mlspec_step["env"]
        assert env["MLFLOW_TRACKING_TOKEN"] == "${{ secrets.MLFLOW_TRACKING_TOKEN }}"
        assert env["MLSPEC_STORE_ENDPOINT_URL"] == "${{ vars.MLSPEC_STORE_ENDPOINT_URL }}"
        assert env["MLFLOW_TRACKING_URI"] == "https://mlflow.example.com:5000/"
        others = [s for s in job["steps"] if s is not mlspec_step]
        assert all("MLFLOW_TRACKING_TOKEN" not in yaml.safe_dump(s) for s in others), job_id
        # The store carries stage outputs: no download, no stage-output cache (pip's cache stays).
        assert actions.DOWNLOAD_ARTIFACT.uses not in uses, job_id
        assert "Restore stage outputs" not in names, job_id
        assert any(u == actions.UPLOAD_ARTIFACT.uses for u in uses), job_id
    aws = next(s for j in store_jobs for s in jobs[j]["steps"] if s.get("uses") == actions.AWS_CREDENTIALS.uses)
    assert aws["with"] == {"role-to-assume": "${{ secrets.AWS_ROLE_ARN }}", "aws-region": "eu-west-1"}


def test_github_reporters_still_read_the_uploaded_outputs() -> None:
    jobs = _github(".github/workflows/mlspec.yml")["jobs"]
    assert actions.DOWNLOAD_ARTIFACT.uses in [s.get("uses") for s in jobs["report"]["steps"]]


def test_github_report_reaches_the_store_in_its_report_step_only() -> None:
    report = _github(".github/workflows/mlspec.yml")["jobs"]["report"]
    assert report["permissions"] == {"contents": "read", "pull-requests": "write", "id-token": "write"}
    names = [s["name"] for s in report["steps"]]
    step = next(s for s in report["steps"] if s.get("run", "").startswith("mlspec report"))
    assert step["env"]["MLFLOW_TRACKING_TOKEN"] == "${{ secrets.MLFLOW_TRACKING_TOKEN }}"
    assert names.index(step["name"]) == names.index("Google Cloud credentials (OIDC)") + 1
    comment = next(s for s in report["steps"] if s.get("run", "").startswith("mlspec comment"))
    assert set(comment["env"]) == {"GITHUB_TOKEN"}  # the token, and no store credential beside it


def test_gitlab_env_id_tokens_and_needs_with_a_store() -> None:
    ci = yaml.safe_load(compiled(STORE)[".gitlab-ci.yml"])
    jobs = {k: v for k, v in ci.items() if isinstance(v, dict) and "script" in v}
    for job_id, job in jobs.items():
        if job_id in REPORTERS:
            # Both read what the jobs uploaded; only the report job reaches the store (GitLab scopes variables
            # per job, and the merge request token is a CI/CD variable of every job anyway).
            assert all(isinstance(n, str) or n.get("artifacts", True) for n in job["needs"])
            if job_id != "report":
                assert "id_tokens" not in job and "MLFLOW_TRACKING_TOKEN" not in job.get("variables", {})
                continue
        assert set(job["id_tokens"]) == {"MLSPEC_AWS_ID_TOKEN", "MLSPEC_AZURE_ID_TOKEN", "MLSPEC_GCP_ID_TOKEN"}
        assert job["id_tokens"]["MLSPEC_GCP_ID_TOKEN"] == {"aud": "https://iam.googleapis.com/$GCP_PROVIDER"}
        variables = job["variables"]
        assert variables["MLFLOW_TRACKING_TOKEN"] == "$MLFLOW_TRACKING_TOKEN"
        assert variables["AWS_ROLE_ARN"] == "arn:aws:iam::123456789012:role/mlspec-ci"
        assert variables["AWS_REGION"] == variables["AWS_DEFAULT_REGION"] == "$AWS_REGION_NAME"
        assert job["script"][:3] == [oidc.AWS_SCRIPT, oidc.AZURE_SCRIPT, oidc.GCP_SCRIPT]
        assert job["script"][-1].startswith("mlspec ")
        # Only the monitor job's dotenv report (is there drift?) still travels as an artifact, and every job's
        # outputs to the report job.
        for need in ([] if job_id == "report" else job["needs"]):
            assert isinstance(need, dict), (job_id, need)
            assert need.get("artifacts", True) is (need["job"] == "monitor"), (job_id, need)
        assert all(c["key"].startswith("pip-") for c in job.get("cache", [])), job_id


def _exported(script: str, env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The environment after ``script`` ran in sh (what the job's command then sees)."""
    done = subprocess.run(["sh", "-c", f"{script} && env -0"], env={"PATH": os.environ["PATH"],
                          "TMPDIR": str(tmp_path), **env}, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return dict(item.split("=", 1) for item in done.stdout.split("\0") if "=" in item)


def test_gitlab_aws_script_gives_boto3_a_web_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    env = _exported(oidc.AWS_SCRIPT, {"MLSPEC_AWS_ID_TOKEN": "aws.jwt.token", "AWS_ROLE_ARN":
                                      "arn:aws:iam::123456789012:role/ci", "AWS_DEFAULT_REGION": "eu-west-1"},
                    tmp_path)
    assert Path(env["AWS_WEB_IDENTITY_TOKEN_FILE"]).read_text() == "aws.jwt.token"
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key in ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(key, env[key])
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    credentials = boto3.Session().get_credentials()  # deferred: nothing is asked of AWS yet
    assert credentials is not None and credentials.method == "assume-role-with-web-identity"


def test_gitlab_azure_script_gives_azure_identity_a_federated_token(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.identity import WorkloadIdentityCredential

    env = _exported(oidc.AZURE_SCRIPT, {"MLSPEC_AZURE_ID_TOKEN": "azure.jwt.token"}, tmp_path)
    assert Path(env["AZURE_FEDERATED_TOKEN_FILE"]).read_text() == "azure.jwt.token"
    monkeypatch.setenv("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000001")
    monkeypatch.setenv("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000002")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", env["AZURE_FEDERATED_TOKEN_FILE"])
    WorkloadIdentityCredential()  # reads the three variables; raises when one is missing


@pytest.mark.parametrize("account", ["ci@project.iam.gserviceaccount.com", ""])
def test_gitlab_gcp_script_writes_credentials_google_auth_loads(account: str, tmp_path: Path) -> None:
    from google.auth import identity_pool

    provider = "projects/1/locations/global/workloadIdentityPools/ci/providers/gitlab"
    env = _exported(oidc.GCP_SCRIPT, {"MLSPEC_GCP_ID_TOKEN": "gcp.jwt.token",
                                      "MLSPEC_GCP_WORKLOAD_IDENTITY_PROVIDER": provider,
                                      **({"MLSPEC_GCP_SERVICE_ACCOUNT": account} if account else {})}, tmp_path)
    credentials = identity_pool.Credentials.from_file(env["GOOGLE_APPLICATION_CREDENTIALS"])
    assert credentials.info["audience"] == f"//iam.googleapis.com/{provider}"
    assert credentials.service_account_email == (account or None)
    source = credentials.info["credential_source"]["file"]
    assert Path(source).read_text() == "gcp.jwt.token"


def test_the_variables_mlspec_sets_are_reserved_for_it() -> None:
    """A spec's ci.env cannot set a variable the generated jobs set themselves (mlspec.cistrings)."""
    from mlspec import cloudauth
    from mlspec.cistrings import RESERVED_NAMES, RESERVED_PREFIXES
    from tests.golden import NAMES, spec_of

    for name in NAMES:
        own = set(spec_of(name).ci.env) | set().union(*cloudauth.SETS.values())
        for rel, text in compiled(name).items():
            doc = yaml.safe_load(text)
            if rel.startswith(".github/"):
                names = set(doc.get("env", {}))
                names |= {k for job in doc["jobs"].values() for s in job["steps"] for k in s.get("env", {})}
            else:
                names = set(doc.get("variables", {}))
                names |= {k for job in doc.values() if isinstance(job, dict) for k in job.get("variables", {})}
                names |= {k for job in doc.values() if isinstance(job, dict)
                          for m in job.get("parallel", {}).get("matrix", []) for k in m}
            if rel.startswith(".github/"):
                names |= {k.upper() for job in doc["jobs"].values()
                          for k in job.get("strategy", {}).get("matrix", {})}
            mlspec_own = {n for n in names - own if n != "GITHUB_TOKEN"}
            assert all(n in RESERVED_NAMES or n.startswith(RESERVED_PREFIXES) for n in mlspec_own), (
                name, rel, sorted(n for n in mlspec_own if n not in RESERVED_NAMES))
