"""The environment variables each cloud's OIDC sign-in sets in a CI job (``ci.<platform>.oidc``).

The compilers write them (:mod:`mlspec.targets.oidc`); validation refuses a ``ci.env`` entry of the same name,
which would override the short-lived credentials with whatever the spec names (or be overridden by them).
On GitHub the sign-in actions export them; on GitLab the job's ``variables:`` and its first script lines do.
"""

from __future__ import annotations

CLOUDS = ("aws", "azure", "gcp")

# GitLab: the ID token of each cloud, in a variable of the job (id_tokens:), written to a file the SDK reads.
ID_TOKEN = {"aws": "MLSPEC_AWS_ID_TOKEN", "azure": "MLSPEC_AZURE_ID_TOKEN", "gcp": "MLSPEC_GCP_ID_TOKEN"}

AWS_ROLE = "AWS_ROLE_ARN"
AWS_TOKEN_FILE = "AWS_WEB_IDENTITY_TOKEN_FILE"
AWS_REGIONS = ("AWS_REGION", "AWS_DEFAULT_REGION")
AZURE_CLIENT = "AZURE_CLIENT_ID"
AZURE_TENANT = "AZURE_TENANT_ID"
AZURE_SUBSCRIPTION = "AZURE_SUBSCRIPTION_ID"
AZURE_TOKEN_FILE = "AZURE_FEDERATED_TOKEN_FILE"
GCP_PROVIDER = "MLSPEC_GCP_WORKLOAD_IDENTITY_PROVIDER"
GCP_SERVICE_ACCOUNT = "MLSPEC_GCP_SERVICE_ACCOUNT"
GCP_CREDENTIALS = "GOOGLE_APPLICATION_CREDENTIALS"

SETS: dict[str, frozenset[str]] = {
    # configure-aws-credentials exports the keys of the assumed role; the SDKs' web identity provider reads the
    # role and token file. A static key pair left beside them would win in the SDKs' credential chain.
    "aws": frozenset({AWS_ROLE, AWS_TOKEN_FILE, *AWS_REGIONS, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                      "AWS_SESSION_TOKEN", "AWS_PROFILE", ID_TOKEN["aws"]}),
    "azure": frozenset({AZURE_CLIENT, AZURE_TENANT, AZURE_SUBSCRIPTION, AZURE_TOKEN_FILE, "AZURE_CLIENT_SECRET",
                        ID_TOKEN["azure"]}),
    # google-github-actions/auth exports the credentials file under several names, and the project.
    "gcp": frozenset({GCP_CREDENTIALS, "CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE", "GOOGLE_GHA_CREDS_PATH",
                      "CLOUDSDK_CORE_PROJECT", "CLOUDSDK_PROJECT", "GCLOUD_PROJECT", "GCP_PROJECT",
                      "GOOGLE_CLOUD_PROJECT", GCP_PROVIDER, GCP_SERVICE_ACCOUNT, ID_TOKEN["gcp"]}),
}
