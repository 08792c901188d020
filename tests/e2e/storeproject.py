"""A repository whose pipelines share state only through a store: moto's S3 server on loopback.

The breast-cancer example, changed the way a team with a bucket would change it:

* ``store:`` on S3 (the endpoint comes from a CI variable, the keys from CI secrets, by reference in ``ci.env``),
  the registry in the store, CI caches off, so nothing but the store carries state from job to job;
* the training data and the "recent production data" are objects in the bucket (``kind: url``), not files of
  the repository: replacing them is how new data arrives;
* one deploy target, ``production``, moved by every push to main; the gate's baseline is its version (the
  default: the alias of the registry target), scored on the evaluation rows, with a paired significance test.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.project import DEFAULT_BRANCH, git
from tests.e2e.scheduled import DRIFTED
from tests.support import run_mlspec

EXAMPLE = "breast-cancer"
KEY_ID, SECRET = "testing", "testing"  # what moto's server accepts
TRAIN_OBJECT = "data/train.csv"
CURRENT_OBJECT = "data/current.csv"


@dataclass(frozen=True)
class StoreProject:
    root: Path
    home: Path
    bucket: str
    endpoint: str

    @property
    def spec(self) -> Path:
        return self.root / "mlspec.yaml"

    @property
    def store_url(self) -> str:
        return f"s3://{self.bucket}/mlspec"

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
                            region_name="us-east-1")

    def upload(self, key: str, data: bytes) -> None:
        self.client().put_object(Bucket=self.bucket, Key=key, Body=data)

    def object(self, key: str) -> bytes:
        return bytes(self.client().get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def ci_variables(self) -> dict[str, str]:
        """The project's CI/CD variables and secrets, as a maintainer would set them."""
        return {"STORE_KEY_ID": KEY_ID, "STORE_SECRET": SECRET, "STORE_ENDPOINT": self.endpoint}

    def env(self) -> dict[str, str]:
        """What a laptop with the same store would set."""
        return {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_DEFAULT_REGION": "us-east-1",
                "MLSPEC_STORE_ENDPOINT_URL": self.endpoint, "MLSPEC_CACHE_DIR": ""}

    def mlspec(self, *args: str, cwd: Path | None = None, ok: bool = True) -> str:
        result = run_mlspec(*args, env=self.env(), cwd=cwd or self.root)
        assert (result.returncode == 0) == ok, f"mlspec {args[0]}:\n{result.stdout}{result.stderr}"
        return result.stdout + result.stderr

    def aliases(self) -> dict[str, int]:
        """The aliases of the store's registry, read through mlspec's own registry API with the laptop's settings."""
        from mlspec.load import load
        from mlspec.registry import open_registry

        saved = dict(os.environ)
        os.environ.update(self.env())  # the filesystem libraries read their credentials from the process
        try:
            return dict(open_registry(load(self.spec), os.environ).aliases(EXAMPLE))
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def commit(self, message: str, *paths: str) -> str:
        git(self.root, self.home, "add", *paths)
        git(self.root, self.home, "commit", "--quiet", "--message", message)
        return git(self.root, self.home, "rev-parse", "HEAD")

    def edit_spec(self, old: str, new: str) -> None:
        text = self.spec.read_text("utf-8")
        assert old in text, old
        self.spec.write_text(text.replace(old, new, 1), "utf-8")

    def drift(self) -> None:
        """Recent production data arrives in the bucket, and it has drifted."""
        self.upload(CURRENT_OBJECT, (self.root / DRIFTED).read_bytes())


def spec_text(example_spec: str, bucket: str) -> str:
    """The example's spec with a store, bucket data, one production target and the store-only CI settings."""
    text = example_spec
    swaps = [
        ("    train:\n      path: data/train.csv\n",
         f"    train:\n      kind: url\n      url: s3://{bucket}/{TRAIN_OBJECT}\n"),
        ("    current:\n      path: data/current.csv\n",
         f"    current:\n      kind: url\n      url: s3://{bucket}/{CURRENT_OBJECT}\n"),
        ("    roc_auc: {min: 0.95, max_drop: 0.01}\n",
         "    roc_auc: {min: 0.95, max_drop: 0.01, significance: {resamples: 500}}\n"),
    ]
    for old, new in swaps:
        assert old in text, old
        text = text.replace(old, new, 1)
    head, _, rest = text.partition("\ndeploy:\n")
    _, _, monitoring = rest.partition("\nmonitoring:\n")
    monitoring, _, _ = monitoring.partition("\nci:\n")
    return (head + "\n"
            "deploy:\n"
            "  production:\n"
            "    kind: registry\n"
            "    alias: production\n"
            "    when: {branches: [main]}\n"
            "\n"
            f"store:\n  url: s3://{bucket}/mlspec\n"
            "\n"
            "registry:\n  backend: store\n"
            "\n"
            "monitoring:\n" + monitoring.rstrip("\n") + "\n"
            "\n"
            "ci:\n"
            "  python: \"3.11\"\n"
            "  cache: false\n"
            "  env:\n"
            "    AWS_ACCESS_KEY_ID: {secret: STORE_KEY_ID}\n"
            "    AWS_SECRET_ACCESS_KEY: {secret: STORE_SECRET}\n"
            "    AWS_DEFAULT_REGION: us-east-1\n"
            "    MLSPEC_STORE_ENDPOINT_URL: {var: STORE_ENDPOINT}\n")


def make_store_project(root: Path, home: Path, bucket: str, endpoint: str) -> StoreProject:
    """The repository on ``main`` with its CI files committed, its data in the bucket, and nothing run yet."""
    project = StoreProject(root, home, bucket, endpoint)
    project.mlspec("init", str(root), "--example", EXAMPLE, cwd=root.parent)
    project.spec.write_text(spec_text(project.spec.read_text("utf-8"), bucket), "utf-8")
    project.upload(TRAIN_OBJECT, (root / "data" / "train.csv").read_bytes())
    project.upload(CURRENT_OBJECT, (root / "data" / "current.csv").read_bytes())
    # The bucket's copies are the data now; the repository keeps the holdout and the drifted sample only.
    for name in ("train.csv", "current.csv"):
        (root / "data" / name).unlink()
    project.mlspec("validate", "-f", str(project.spec))
    project.mlspec("compile", "-f", str(project.spec), "--out", str(root))
    git(root, home, "init", "--quiet", "--initial-branch", DEFAULT_BRANCH)
    for key, value in (("user.name", "mlspec e2e"), ("user.email", "e2e@mlspec.invalid"), ("commit.gpgsign", "false")):
        git(root, home, "config", key, value)
    project.commit(f"{EXAMPLE} example on a store, with its generated CI files", "--all")
    return project


def clone_at(project: StoreProject, commit: str, dest: Path) -> Path:
    """A second clone of the repository, checked out at ``commit`` (a laptop going back in time)."""
    git(project.root.parent, project.home, "clone", "--quiet", str(project.root), str(dest))
    git(dest, project.home, "checkout", "--quiet", commit)
    shutil.rmtree(dest / ".mlspec", ignore_errors=True)
    return dest
