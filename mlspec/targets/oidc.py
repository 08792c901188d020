"""The spec's job environment (``ci.env``) and OIDC sign-ins (``ci.<platform>.oidc``), as each platform writes
them, for the jobs that reach the store or the registry (:func:`reaches_store`).

Values by reference become ``${{ secrets.NAME }}`` / ``${{ vars.NAME }}`` on GitHub and ``$NAME`` on GitLab,
with ``NAME`` an identifier checked when the spec was loaded; literal values are written as they are, quoted
by the templates and checked again by :func:`mlspec.targets.common.inert`. Scripts are constants that read
variables, like every other script of the generated files.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlspec import cloudauth
from mlspec.spec import EnvValue, Oidc, SecretRef, Spec, VariableRef
from mlspec.targets import actions
from mlspec.targets.common import inert
from mlspec.targets.pipeline import ISSUE_JOB, Job

GCP_AUDIENCE = "https://iam.googleapis.com/"


def reaches_store(job: Job) -> bool:
    """Stage, deploy, monitor and retrain jobs; not the drift issue job (nor the report job, no :class:`Job`),
    which read only what earlier jobs uploaded and hold a token that can write to the project."""
    return job.id != ISSUE_JOB


# --- GitHub ---------------------------------------------------------------------------------------------------


def github_value(value: EnvValue) -> str:
    if isinstance(value, SecretRef):
        return f"${{{{ secrets.{value.secret} }}}}"
    if isinstance(value, VariableRef):
        return f"${{{{ vars.{value.var} }}}}"
    return inert(value)


def github_env(spec: Spec) -> list[tuple[str, str]]:
    return [(name, github_value(value)) for name, value in spec.ci.env.items()]


@dataclass(frozen=True)
class Step:
    name: str
    action: actions.Action
    inputs: tuple[tuple[str, str], ...]


def github_steps(oidc: Oidc) -> list[Step]:
    """The sign-in steps, one per cloud, before the mlspec step (after the install: pip never sees them)."""
    steps: list[Step] = []
    if oidc.aws is not None:
        aws = oidc.aws
        inputs = [("role-to-assume", github_value(aws.role)), ("aws-region", github_value(aws.region))]
        if aws.audience != "sts.amazonaws.com":
            inputs.append(("audience", inert(aws.audience)))
        steps.append(Step("AWS credentials (OIDC)", actions.AWS_CREDENTIALS, tuple(inputs)))
    if oidc.azure is not None:
        az = oidc.azure
        inputs = [("client-id", github_value(az.client_id)), ("tenant-id", github_value(az.tenant_id))]
        inputs += ([("subscription-id", github_value(az.subscription_id))] if az.subscription_id is not None
                   else [("allow-no-subscriptions", "true")])
        if az.audience != "api://AzureADTokenExchange":
            inputs.append(("audience", inert(az.audience)))
        steps.append(Step("Azure sign-in (OIDC)", actions.AZURE_LOGIN, tuple(inputs)))
    if oidc.gcp is not None:
        gcp = oidc.gcp
        inputs = [("workload_identity_provider", github_value(gcp.workload_identity_provider))]
        if gcp.service_account is not None:
            inputs.append(("service_account", github_value(gcp.service_account)))
        if gcp.audience is not None:
            inputs.append(("audience", inert(gcp.audience)))
        steps.append(Step("Google Cloud credentials (OIDC)", actions.GCP_AUTH, tuple(inputs)))
    return steps


# --- GitLab ---------------------------------------------------------------------------------------------------

AWS_SCRIPT = (f'export {cloudauth.AWS_TOKEN_FILE}="$(mktemp)" && '
              f'printf "%s" "${cloudauth.ID_TOKEN["aws"]}" > "${cloudauth.AWS_TOKEN_FILE}"')
"""The AWS SDKs (boto3, s3fs) assume ``AWS_ROLE_ARN`` with the token in ``AWS_WEB_IDENTITY_TOKEN_FILE``."""
AZURE_SCRIPT = (f'export {cloudauth.AZURE_TOKEN_FILE}="$(mktemp)" && '
                f'printf "%s" "${cloudauth.ID_TOKEN["azure"]}" > "${cloudauth.AZURE_TOKEN_FILE}"')
"""azure-identity's workload identity credential (in DefaultAzureCredential) reads these three variables."""
_GCP_IMPERSONATE = (', \\"service_account_impersonation_url\\": \\"https://iamcredentials.googleapis.com/v1/'
                    f'projects/-/serviceAccounts/${cloudauth.GCP_SERVICE_ACCOUNT}:generateAccessToken\\"')
GCP_SCRIPT = (
    f'MLSPEC_GCP_TOKEN_FILE="$(mktemp)" && printf "%s" "${cloudauth.ID_TOKEN["gcp"]}" > "$MLSPEC_GCP_TOKEN_FILE" '
    f'&& export {cloudauth.GCP_CREDENTIALS}="$(mktemp)" && printf \'{{"type": "external_account", '
    '"audience": "//iam.googleapis.com/%s", "subject_token_type": "urn:ietf:params:oauth:token-type:jwt", '
    '"token_url": "https://sts.googleapis.com/v1/token", "credential_source": {"file": "%s"}%s}\\n\' '
    f'"${cloudauth.GCP_PROVIDER}" "$MLSPEC_GCP_TOKEN_FILE" "${{{cloudauth.GCP_SERVICE_ACCOUNT}:+{_GCP_IMPERSONATE}}}" '
    f'> "${cloudauth.GCP_CREDENTIALS}"')
"""google-auth reads an external-account credentials file (what ``gcloud iam workload-identity-pools
create-cred-config`` writes): the token file, the provider and, if given, the service account to impersonate."""


def gitlab_value(value: EnvValue) -> str:
    if isinstance(value, SecretRef):
        return f"${value.secret}"
    if isinstance(value, VariableRef):
        return f"${value.var}"
    return inert(value)


def gitlab_env(spec: Spec) -> list[tuple[str, str]]:
    return [(name, gitlab_value(value)) for name, value in spec.ci.env.items()]


@dataclass(frozen=True)
class GitLabAuth:
    id_tokens: list[tuple[str, str]]
    """(variable, aud) of each ID token the job asks for."""
    variables: list[tuple[str, str]]
    script: list[str]
    """Constants, run before the job's command."""


def gitlab_auth(oidc: Oidc) -> GitLabAuth:
    auth = GitLabAuth([], [], [])
    if oidc.aws is not None:
        aws = oidc.aws
        auth.id_tokens.append((cloudauth.ID_TOKEN["aws"], inert(aws.audience)))
        auth.variables.append((cloudauth.AWS_ROLE, gitlab_value(aws.role)))
        auth.variables.extend((name, gitlab_value(aws.region)) for name in cloudauth.AWS_REGIONS)
        auth.script.append(AWS_SCRIPT)
    if oidc.azure is not None:
        az = oidc.azure
        auth.id_tokens.append((cloudauth.ID_TOKEN["azure"], inert(az.audience)))
        auth.variables.extend([(cloudauth.AZURE_CLIENT, gitlab_value(az.client_id)),
                               (cloudauth.AZURE_TENANT, gitlab_value(az.tenant_id))])
        if az.subscription_id is not None:
            auth.variables.append((cloudauth.AZURE_SUBSCRIPTION, gitlab_value(az.subscription_id)))
        auth.script.append(AZURE_SCRIPT)
    if oidc.gcp is not None:
        gcp = oidc.gcp
        provider = gitlab_value(gcp.workload_identity_provider)
        # GitLab expands variables in `aud` (16.1 and later), so a provider by reference works here too.
        auth.id_tokens.append((cloudauth.ID_TOKEN["gcp"], inert(gcp.audience) if gcp.audience else
                               GCP_AUDIENCE + provider))
        auth.variables.append((cloudauth.GCP_PROVIDER, provider))
        if gcp.service_account is not None:
            auth.variables.append((cloudauth.GCP_SERVICE_ACCOUNT, gitlab_value(gcp.service_account)))
        auth.script.append(GCP_SCRIPT)
    return auth
