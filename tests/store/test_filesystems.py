"""What each kind of store says when it is down, refuses the credentials, lacks its bucket or its package:
one StoreError naming the store, the setting its URL came from and what to set, against the real servers."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlspec.load import load_text
from mlspec.store import Store, StoreError, open_store
from tests.servers import free_port, serve
from tests.store.conftest import AZURITE_KEY, StoreServer, new_bucket, sftp_url
from tests.support import EXAMPLES, REPO, tool

SPEC = (EXAMPLES / "diabetes" / "mlspec.yaml").read_text()
DIGEST = "sha256:" + "ab" * 32


def opened(tmp_path: Path) -> Store:
    store = open_store(load_text(SPEC, str(tmp_path / "mlspec.yaml"), tmp_path / "mlspec.yaml"))
    assert store is not None
    return store


def refusal(tmp_path: Path) -> str:
    """The message of the first request to the store in MLSPEC_STORE; it must fail."""
    with pytest.raises(StoreError) as caught:
        opened(tmp_path).read("mlspec-store.json")
    return str(caught.value)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for var in ("MLSPEC_STORE", "MLSPEC_STORE_ENDPOINT_URL", "AZURE_STORAGE_CONNECTION_STRING", "SSH_AUTH_SOCK",
                "AWS_PROFILE", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


@pytest.fixture(scope="module")
def s3_with_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StoreServer, str]]:
    """A moto server that checks signatures (after the first 4 requests, which make a user, its key, its policy
    and a bucket); the user's real keys, and the bucket's URL."""
    import boto3

    root = tmp_path_factory.mktemp("moto-auth")
    port = free_port()
    server = Path(sys.executable).with_name("moto_server")
    env = {**__import__("os").environ, "INITIAL_NO_AUTH_ACTION_COUNT": "4"}
    with serve([str(server if server.exists() else tool("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
               port, root, env=env):
        endpoint = f"http://127.0.0.1:{port}"
        setup = {"endpoint_url": endpoint, "region_name": "us-east-1", "aws_access_key_id": "setup",
                 "aws_secret_access_key": "setup"}
        iam = boto3.client("iam", **setup)
        iam.create_user(UserName="ci")
        key = iam.create_access_key(UserName="ci")["AccessKey"]
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        iam.put_user_policy(UserName="ci", PolicyName="s3", PolicyDocument=json.dumps(policy))
        boto3.client("s3", **setup).create_bucket(Bucket="guarded")
        yield StoreServer("s3", {"AWS_ACCESS_KEY_ID": key["AccessKeyId"],
                                 "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"], "AWS_DEFAULT_REGION": "us-east-1",
                                 "MLSPEC_STORE_ENDPOINT_URL": endpoint}, endpoint), "s3://guarded/store"


def test_s3_refused_credentials(s3_with_auth: tuple[StoreServer, str], clean_env: pytest.MonkeyPatch,
                                tmp_path: Path) -> None:
    server, url = s3_with_auth
    for key, value in server.env.items():
        clean_env.setenv(key, value)
    clean_env.setenv("MLSPEC_STORE", url)
    assert opened(tmp_path).create("runs/ok", b"1") is True  # the right keys work: the server does check
    clean_env.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    text = refusal(tmp_path)
    assert text.startswith("store s3://guarded/store (from MLSPEC_STORE): cannot read mlspec-store.json: no "
                           "credentials it accepts (")
    assert text.endswith("; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or a role: OIDC in CI)")


def test_azure_refused_credentials(azurite: StoreServer, clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("MLSPEC_STORE", new_bucket(azurite))
    wrong = azurite.env["AZURE_STORAGE_CONNECTION_STRING"].replace(AZURITE_KEY, "d3Jvbmc=")
    clean_env.setenv("AZURE_STORAGE_CONNECTION_STRING", wrong)
    text = refusal(tmp_path)
    assert "(from MLSPEC_STORE): cannot read mlspec-store.json: no credentials it accepts" in text
    assert text.endswith("; set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME with "
                         "AZURE_STORAGE_ACCOUNT_KEY")


def test_azure_without_credentials(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("MLSPEC_STORE", "az://models/store")
    clean_env.delenv("AZURE_STORAGE_ACCOUNT_NAME", raising=False)
    text = refusal(tmp_path)
    assert text.startswith("store az://models/store (from MLSPEC_STORE): cannot connect: no credentials it accepts")
    assert "set AZURE_STORAGE_CONNECTION_STRING" in text


def test_sftp_refused_key(sshd: StoreServer, clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(home / ".ssh" / "id_ed25519")],
                   check=True)
    (home / ".ssh" / "known_hosts").write_text((Path(sshd.env["HOME"]) / ".ssh" / "known_hosts").read_text())
    clean_env.setenv("HOME", str(home))
    url = sftp_url(sshd)
    clean_env.setenv("MLSPEC_STORE", url)
    text = refusal(tmp_path)
    assert text.startswith(f"store {url} (from MLSPEC_STORE): cannot connect: no credentials it accepts (")
    assert text.endswith("; set an SSH key (~/.ssh/id_*, ~/.ssh/config's IdentityFile) or an agent (SSH_AUTH_SOCK) "
                         "for the URL's user")


def test_sftp_unknown_host_key(sshd: StoreServer, clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_bytes((Path(sshd.env["HOME"]) / ".ssh" / "id_ed25519").read_bytes())
    (home / ".ssh" / "id_ed25519").chmod(0o600)
    (home / ".ssh" / "known_hosts").write_text("")  # sshfs alone would not check: mlspec asks asyncssh to
    clean_env.setenv("HOME", str(home))
    url = sftp_url(sshd)
    clean_env.setenv("MLSPEC_STORE", url)
    assert refusal(tmp_path) == (
        f"store {url} (from MLSPEC_STORE): cannot connect: the server's host key is not in ~/.ssh/known_hosts; check "
        f"it and add it (`ssh-keyscan -p {sshd.port} 127.0.0.1 >> ~/.ssh/known_hosts`)")


def test_gcs_without_credentials(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("MLSPEC_STORE", "gs://models/store")
    clean_env.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    text = refusal(tmp_path)
    assert text.startswith("store gs://models/store (from MLSPEC_STORE): cannot connect: no credentials it accepts")
    assert text.endswith("; set GOOGLE_APPLICATION_CREDENTIALS (or a workload identity: OIDC in CI)")


@pytest.mark.parametrize("kind", ["s3", "az", "sftp"])
def test_a_store_that_is_down_says_so(kind: str, clean_env: pytest.MonkeyPatch, tmp_path: Path,
                                      request: pytest.FixtureRequest) -> None:
    port = free_port()  # nothing listens there
    if kind == "s3":
        url = "s3://bucket/p"
        clean_env.setenv("MLSPEC_STORE_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        clean_env.setenv("AWS_ACCESS_KEY_ID", "x")
        clean_env.setenv("AWS_SECRET_ACCESS_KEY", "y")
    elif kind == "az":
        url = "az://container/p"
        azurite: StoreServer = request.getfixturevalue("azurite")
        conn = azurite.env["AZURE_STORAGE_CONNECTION_STRING"]
        clean_env.setenv("AZURE_STORAGE_CONNECTION_STRING", conn.replace(conn.split("127.0.0.1:")[1].split("/")[0],
                                                                          str(port)))
    else:
        url = f"sftp://me@127.0.0.1:{port}/srv/store"
    clean_env.setenv("MLSPEC_STORE", url)
    text = refusal(tmp_path)
    assert text.startswith(f"store {url} (from MLSPEC_STORE): cannot ")
    assert "check that it is reachable and that MLSPEC_STORE is right" in text
    assert ("store.endpoint_url or MLSPEC_STORE_ENDPOINT_URL" in text) == (kind == "s3")


@pytest.mark.parametrize("kind", ["s3", "az"])
def test_a_missing_bucket_is_named(kind: str, clean_env: pytest.MonkeyPatch, tmp_path: Path,
                                   request: pytest.FixtureRequest) -> None:
    server: StoreServer = request.getfixturevalue("s3_server" if kind == "s3" else "azurite")
    for key, value in server.env.items():
        clean_env.setenv(key, value)
    url = f"{kind}://nosuchbucket42/store"
    clean_env.setenv("MLSPEC_STORE", url)
    noun = "bucket" if kind == "s3" else "container"
    for attempt, what in ((lambda s: s.read("runs/r.json"), "read runs/r.json"),
                          (lambda s: s.create("runs/r.json", b"{}"), "create runs/r.json"),
                          (lambda s: s.has(DIGEST), "look up objects/sha256/ab/" + "ab" * 31),
                          (lambda s: s.list("runs/"), "list runs/")):
        with pytest.raises(StoreError) as caught:
            attempt(opened(tmp_path))
        assert str(caught.value) == (f"store {url} (from MLSPEC_STORE): cannot {what}: there is no {noun} "
                                     f"'nosuchbucket42'; create it, or point MLSPEC_STORE at one that exists")


@pytest.mark.parametrize(("kind", "package"), [("s3", "s3fs"), ("gs", "gcsfs"), ("az", "adlfs"), ("sftp", "sshfs")])
def test_a_missing_package_says_what_to_install(kind: str, package: str, tmp_path: Path) -> None:
    url = f"{kind}://host/p" if kind == "sftp" else f"{kind}://bucket/p"
    code = (f"import sys\nsys.modules[{package!r}] = None  # as if it were not installed\n"
            "from mlspec.store.base import StoreConfig\nfrom mlspec.store.url import parse\n"
            "from mlspec.store import Store, StoreError\n"
            f"try:\n    Store(StoreConfig(parse({url!r}), named_by='store.url')).read('k')\n"
            "except StoreError as exc:\n    print(exc)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert result.stdout == (f"store {url} (from store.url): the Python package {package!r} is not installed; "
                             "`pip install 'mlspec-ci[store]'` installs the filesystems mlspec supports\n")


def test_validate_and_compile_of_a_spec_with_a_store_import_no_filesystem(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(EXAMPLES / "diabetes", tmp_path, dirs_exist_ok=True)
    spec = tmp_path / "mlspec.yaml"
    spec.write_text(SPEC + "store:\n  url: s3://bucket/prefix\n  endpoint_url: http://127.0.0.1:9\n")
    heavy = ("fsspec", "s3fs", "boto3", "botocore", "aiobotocore", "gcsfs", "adlfs", "azure", "sshfs", "asyncssh")
    code = ("import sys\nfrom mlspec.cli import main\n"
            f"rc = [main(['validate', '-q', '-f', {str(spec)!r}]), main(['compile', '-f', {str(spec)!r}, '--out', "
            f"{str(tmp_path)!r}])]\n"
            f"print(rc, sorted(m for m in {heavy!r} if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.stdout.splitlines()[-1] == "[0, 0] []", result.stderr
