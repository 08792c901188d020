"""`mlspec run` with a url source on moto's S3 server: the fingerprint follows the object, the bytes are an output.

The real command in a subprocess: an unchanged object leaves the data stage up to date, a replaced one reruns
it; the lock records the kept bytes' digest and the object's identity; those bytes, pushed to a store by that
digest, come back after the bucket object was overwritten; a missing object is a located error, exit 1.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from mlspec.load import load
from mlspec.runtime import lockfile
from mlspec.runtime.workspace import Workspace
from tests.runtime.procs import mlspec
from tests.sources.remotekit import S3_ENV, s3_bucket, s3_put
from tests.store.conftest import StoreServer

SPEC = """\
version: 1
project: p
task: binary
data:
  target: y
  sources:
    train:
      kind: url
      url: s3://{bucket}/data/{key}
      description: exported nightly
store:
  url: s3://{bucket}/store
training:
  models:
    m: {{estimator: sklearn.linear_model.LogisticRegression, data: train}}
evaluation:
  data: train
  metrics: [accuracy]
"""
CSV = b"x,y\n1,0\n2,1\n3,1\n4,0\n"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def project(s3_server: StoreServer, tmp_path: Path) -> tuple[Path, str, dict[str, str]]:
    """A project whose training data is an object in a fresh bucket, with a store in the same bucket; its
    directory, the bucket, and the environment (credentials, and the store's endpoint: the source's too)."""
    bucket = s3_bucket(s3_server)
    (tmp_path / "mlspec.yaml").write_text(SPEC.format(bucket=bucket, key="train.csv"))
    assert s3_server.endpoint_url is not None
    return tmp_path, bucket, {**S3_ENV, "MLSPEC_STORE_ENDPOINT_URL": s3_server.endpoint_url}


def entry(root: Path) -> lockfile.Entry:
    return lockfile.read(lockfile.path_for(root / "mlspec.yaml")).stages["data:train"]


def test_unchanged_object_skips_replaced_object_reruns(s3_server: StoreServer,
                                                       project: tuple[Path, str, dict[str, str]]) -> None:
    root, bucket, env = project
    url = f"s3://{bucket}/data/train.csv"
    s3_put(s3_server, bucket, "data/train.csv", CSV)
    first = mlspec(root, "run", "data:train", **env)
    assert first.returncode == 0, first.stderr
    recorded = entry(root)
    assert recorded.outputs["source/train.csv"] == sha(CSV)
    assert sorted(recorded.outputs) == ["profile.json", "snapshot.parquet", "source/train.csv"]
    etag = '"' + hashlib.md5(CSV).hexdigest() + '"'
    assert recorded.inputs == {url: f"etag {etag} size {len(CSV)}"}
    source = recorded.metrics["source"]
    assert isinstance(source, dict)
    assert {k: source[k] for k in ("url", "size", "etag", "sha256", "raw")} == {
        "url": url, "size": len(CSV), "etag": etag, "sha256": sha(CSV), "raw": "source/train.csv"}
    stage_dir = Workspace.for_spec(root / "mlspec.yaml").stage_dir("data:train")
    assert (stage_dir / "source" / "train.csv").read_bytes() == CSV
    profile = json.loads((stage_dir / "profile.json").read_text())
    assert (profile["path"], profile["digest"], profile["raw"]) == (url, sha(CSV), "source/train.csv")
    assert profile["origin"] == source and list(profile)[-2:] == ["origin", "raw"]

    again = mlspec(root, "run", "data:train", **env)
    assert again.returncode == 0 and "skip data:train: up to date" in again.stdout, again.stdout + again.stderr

    replaced = CSV + b"5,1\n"
    s3_put(s3_server, bucket, "data/train.csv", replaced)
    plan = mlspec(root, "plan", "data:train", **env)
    assert f"input changed: {url}" in plan.stdout, plan.stdout + plan.stderr
    rerun = mlspec(root, "run", "data:train", **env)
    assert rerun.returncode == 0 and f"run data:train: input changed: {url}" in rerun.stdout, rerun.stdout
    assert entry(root).outputs["source/train.csv"] == sha(replaced)
    assert (stage_dir / "source" / "train.csv").read_bytes() == replaced


def test_the_kept_bytes_outlive_the_object(s3_server: StoreServer, project: tuple[Path, str, dict[str, str]],
                                           monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """What `mlspec push` and `pull` do with a stage's outputs, by the lock's digests, through the Store API."""
    from mlspec.store import open_store

    root, bucket, env = project
    s3_put(s3_server, bucket, "data/train.csv", CSV)
    assert mlspec(root, "run", "data:train", **env).returncode == 0
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    store = open_store(load(root / "mlspec.yaml"))
    assert store is not None
    stage_dir = Workspace.for_spec(root / "mlspec.yaml").stage_dir("data:train")
    old = entry(root).outputs
    store.put_many([(stage_dir / rel, digest) for rel, digest in old.items()])

    s3_put(s3_server, bucket, "data/train.csv", b"x,y\n9,9\n")  # the bucket object is overwritten
    assert mlspec(root, "run", "data:train", **env).returncode == 0
    assert entry(root).outputs["source/train.csv"] != old["source/train.csv"]
    back = tmp_path / "pulled" / "train.csv"
    store.get_file(old["source/train.csv"], back)  # the old commit's lock names these bytes
    assert back.read_bytes() == CSV


def test_missing_object_is_a_located_error(s3_server: StoreServer, project: tuple[Path, str, dict[str, str]]) -> None:
    root, bucket, env = project
    (root / "mlspec.yaml").write_text(SPEC.format(bucket=bucket, key="nope.csv"))
    done = mlspec(root, "run", "data:train", **env)
    assert done.returncode == 1
    assert (f"mlspec.yaml:9:7: stage data:train: data source 'train': s3://{bucket}/data/nope.csv does not exist; "
            "check `url`, or upload the object first") in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    assert "data:train" not in lockfile.read(lockfile.path_for(root / "mlspec.yaml")).stages


def test_refused_credentials_name_the_variables(s3_server: StoreServer, project: tuple[Path, str, dict[str, str]],
                                                tmp_path: Path) -> None:
    root, bucket, env = project
    s3_put(s3_server, bucket, "data/train.csv", CSV)
    none = str(tmp_path / "no-such-file")
    bare = {"MLSPEC_STORE_ENDPOINT_URL": env["MLSPEC_STORE_ENDPOINT_URL"], "AWS_ACCESS_KEY_ID": "",
            "AWS_SECRET_ACCESS_KEY": "", "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_CONFIG_FILE": none,
            "AWS_EC2_METADATA_DISABLED": "true"}
    done = mlspec(root, "run", "data:train", **bare)
    assert done.returncode == 1, done.stdout + done.stderr
    output = done.stderr + done.stdout
    # The project's store is on the same service: its run-cache lookup, before the stage reads its source, is the
    # first request refused, and says the same thing about the same variables.
    assert (f"stage data:train: data source 'train': s3://{bucket}/data/train.csv: access refused (" in output
            or f"error: store s3://{bucket}/store (from store.url): cannot read runs/data/train/" in output), output
    assert "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or a role: OIDC in CI)" in output
    assert "Traceback" not in done.stderr
