"""Third-party GitHub Actions used by the generated workflows, pinned by full commit SHA.

A tag can be moved to other code; a commit SHA cannot. Each SHA below is the commit its version tag points
to in the action's repository (checked when the pin is updated); the version is kept for the comment
that tools like Dependabot and people read.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Action:
    repo: str
    sha: str
    version: str

    @property
    def uses(self) -> str:
        return f"{self.repo}@{self.sha}"


CHECKOUT = Action("actions/checkout", "3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1")
SETUP_PYTHON = Action("actions/setup-python", "5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0")
CACHE = Action("actions/cache", "27d5ce7f107fe9357f9df03efb73ab90386fccae", "v5.0.5")
UPLOAD_ARTIFACT = Action("actions/upload-artifact", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0")
DOWNLOAD_ARTIFACT = Action("actions/download-artifact", "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1")
# Cloud sign-in with the job's OIDC token (ci.github.oidc): only in jobs that reach the store or the registry.
AWS_CREDENTIALS = Action("aws-actions/configure-aws-credentials", "e6de054238d6b7531b4efff3b6587d9aade6a06c",
                         "v6.2.3")
AZURE_LOGIN = Action("azure/login", "f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca", "v3.0.1")
GCP_AUTH = Action("google-github-actions/auth", "7c6bc770dae815cd3e89ee6cdf493a5fab2cc093", "v3.0.0")

ALL = (CHECKOUT, SETUP_PYTHON, CACHE, UPLOAD_ARTIFACT, DOWNLOAD_ARTIFACT, AWS_CREDENTIALS, AZURE_LOGIN, GCP_AUTH)
