"""Golden files of `mlspec compile` for every example, and for variants of them that exercise what the examples
leave out: regenerate with `make golden` after a deliberate change.

    python -m tests.golden
"""

from __future__ import annotations

from pathlib import Path

from mlspec.compile import compile_spec
from mlspec.load import load, load_text
from mlspec.spec import Spec
from tests.support import EXAMPLE_NAMES, EXAMPLES

GOLDEN = Path(__file__).resolve().parent / "golden"
# A fixed version, so the goldens do not change with every release of mlspec.
VERSION = "1.2.3"

STORE_CI = """\
store:
  url: s3://mlspec-ci-bucket/breast-cancer

ci:
  python: "3.11"
  env:
    MLSPEC_STORE_ENDPOINT_URL: {var: MLSPEC_STORE_ENDPOINT_URL}
    MLFLOW_TRACKING_URI: https://mlflow.example.com:5000/
    MLFLOW_TRACKING_TOKEN: {secret: MLFLOW_TRACKING_TOKEN}
  github:
    oidc:
      aws: {role: {secret: AWS_ROLE_ARN}, region: eu-west-1}
      azure: {client_id: {var: AZURE_CLIENT_ID}, tenant_id: {var: AZURE_TENANT_ID}}
      gcp:
        workload_identity_provider: projects/123456/locations/global/workloadIdentityPools/ci/providers/github
        service_account: {var: GCP_SERVICE_ACCOUNT}
  gitlab:
    oidc:
      aws: {role: arn:aws:iam::123456789012:role/mlspec-ci, region: {var: AWS_REGION_NAME}}
      azure: {client_id: {var: AZURE_CLIENT_ID}, tenant_id: {var: AZURE_TENANT_ID}, subscription_id: {var: AZ_SUB}}
      gcp: {workload_identity_provider: {var: GCP_PROVIDER}, service_account: ci@project.iam.gserviceaccount.com}
"""
"""The breast-cancer example (which monitors and retrains on drift) with a store, job environment by reference,
and OIDC sign-in to all three clouds on both platforms."""

PREPARE = """\
prepare:
  clean:
    cmd: [python, prep/clean.py, raw, build/clean.csv]
    inputs: [prep/clean.py, raw]
    outputs: [build/clean.csv]
  split:
    cmd: [python, prep/split.py, build/clean.csv, data]
    inputs: [prep/split.py, build/clean.csv]
    outputs: [data/train.csv, data/holdout.csv]
    env: {SPLIT_SEED: "7"}
"""
"""The wine example with its training tables made by two prepare steps, the second reading the first's output:
a job each, the second needing the first, and every data stage's job needing both."""

WINE_SEARCH = (
    ("      params: {max_iter: 2000}\n",
     "      params: {max_iter: 2000}\n      search: {space: {C: [0.1, 1.0, 10.0]}, cv: 3, shards: 2}\n"),
    ("      params: {max_iter: 100, learning_rate: 0.1}\n",
     "      params: {max_iter: 100}\n      search: {space: {learning_rate: [0.05, 0.1, 0.2]}, cv: 3, shards: 3}\n"),
)
"""The wine example with both models searched in shards (2 and 3): a shard job each before the train job,
their trial results travelling as artifacts."""
STORE_SEARCH = (
    ("      params: {n_estimators: 200, max_depth: 8}\n",
     "      params: {n_estimators: 200}\n"
     "      search: {space: {max_depth: [4, 8, 16]}, cv: 3, shards: 3, parallel: 2}\n"),
    ("      params: {C: 1.0, max_iter: 1000}\n",
     "      params: {max_iter: 1000}\n      search: {space: {C: [0.1, 1.0]}, cv: 3}\n"),
)
"""The store variant with the forest searched in three shards (the trial results travel through the store; its
shard jobs sign in like the train job and also run in the scheduled workflow that retrains on drift), and the
logistic regression searched inside its train job (``shards: 1``: no shard job)."""

VARIANTS: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    "breast-cancer+store": ("breast-cancer", STORE_CI, ()),
    "breast-cancer+store+search": ("breast-cancer", STORE_CI, STORE_SEARCH),
    "wine+prepare": ("wine", PREPARE, ()),
    "wine+search": ("wine", "", WINE_SEARCH),
}
"""Golden name -> (example, what replaces the example's `ci:` section, or is added when it has none, and
(old, new) edits of the example's text)."""
NAMES = [*EXAMPLE_NAMES, *VARIANTS]


def spec_of(name: str) -> Spec:
    if name not in VARIANTS:
        return load(EXAMPLES / name / "mlspec.yaml").spec
    example, tail, edits = VARIANTS[name]
    path = EXAMPLES / example / "mlspec.yaml"
    text = path.read_text()
    for old, new in edits:
        assert text.count(old) == 1, f"the {example} example no longer holds {old!r}: update {name} in tests/golden.py"
        text = text.replace(old, new)
    if tail:
        text = (text[:text.index("\nci:\n")] if "\nci:\n" in text else text) + "\n" + tail
    return load_text(text, str(path), base=path.parent).spec


def compiled(name: str) -> dict[str, str]:
    return compile_spec(spec_of(name), "mlspec.yaml", version=VERSION)


def regenerate() -> None:
    for name in NAMES:
        for rel, text in compiled(name).items():
            path = GOLDEN / name / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(GOLDEN.parent.parent)}")


if __name__ == "__main__":
    regenerate()
