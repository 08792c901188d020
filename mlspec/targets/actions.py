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

ALL = (CHECKOUT, SETUP_PYTHON, CACHE, UPLOAD_ARTIFACT, DOWNLOAD_ARTIFACT)
