"""The store tests' servers: moto's standalone S3 server, Azurite and OpenSSH's sshd, real servers on loopback.

``store_env`` runs a test once per kind of store (a directory, S3 over HTTP, Azure Blob, SFTP), each in a fresh
bucket, container or directory, with the environment that kind's real credential variables would give it.
"""

from __future__ import annotations

import getpass
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.servers import free_port, serve
from tests.support import REPO, tool

AZURITE = REPO / ".ci" / "node" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's documented development account (public, well known: it only ever opens the local emulator).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
SSHD = Path("/usr/sbin/sshd")
KINDS = ["file", "s3", "az", "sftp"]


@dataclass(frozen=True)
class StoreServer:
    kind: str
    env: dict[str, str] = field(default_factory=dict)
    endpoint_url: str | None = None
    root: Path | None = None
    port: int = 0
    """sftp: the directory under which each test gets a store of its own."""


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreServer]:
    """moto's S3 server (``moto_server``) on 127.0.0.1; credentials it accepts, as the AWS variables."""
    root = tmp_path_factory.mktemp("moto")
    port = free_port()
    server = Path(sys.executable).with_name("moto_server")
    with serve([str(server if server.exists() else tool("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
               port, root):
        env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
               "MLSPEC_STORE_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
        yield StoreServer("s3", env, f"http://127.0.0.1:{port}")


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreServer]:
    """Azurite's Blob service on 127.0.0.1 (in-memory), and the connection string of its dev account."""
    root = tmp_path_factory.mktemp("azurite")
    port = free_port()
    with serve([str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
                "--skipApiVersionCheck", "--silent"], port, root, stop_seconds=3):
        # Azurite waits for idle keep-alive connections on SIGTERM; its data is in memory, nothing to lose.
        conn = (f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
                f"BlobEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};")
        yield StoreServer("az", {"AZURE_STORAGE_CONNECTION_STRING": conn})


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreServer]:
    """OpenSSH's sshd on 127.0.0.1, run as this user with a config, host key and authorized key of its own; the
    client side is a HOME whose ~/.ssh holds the user's key and the server's host key, as ssh(1) would."""
    if not SSHD.exists():
        pytest.skip(f"{SSHD} is missing: the store's SFTP tests need Debian's openssh-server (`make test` installs "
                    "it with apt-get)")
    root = tmp_path_factory.mktemp("sshd")
    home = root / "home"
    (home / ".ssh").mkdir(parents=True, mode=0o700)
    for name in ("host_key", "user_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(root / name)],
                       check=True)
    (root / "user_key").rename(home / ".ssh" / "id_ed25519")
    (root / "authorized_keys").write_text((root / "user_key.pub").read_text())
    port = free_port()
    host_key = (root / "host_key.pub").read_text().split()
    (home / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    (root / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {root / 'host_key'}\nPidFile {root / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {root / 'authorized_keys'}\nAuthenticationMethods publickey\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
        "PermitRootLogin prohibit-password\nMaxSessions 20\nSubsystem sftp internal-sftp\nLogLevel ERROR\n")
    if os.getuid() == 0:
        # As root, sshd insists on its privilege separation directory (systemd's unit creates it at boot).
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    (root / "stores").mkdir()
    with serve([str(SSHD), "-D", "-e", "-f", str(root / "sshd_config")], port, root):
        yield StoreServer("sftp", {"HOME": str(home)}, root=root / "stores", port=port)


def sftp_url(server: StoreServer, path: str = "") -> str:
    """An SFTP store URL on ``server``: a fresh directory below its root unless ``path`` names one."""
    assert server.root is not None
    name = path or "t" + secrets.token_hex(6)
    return f"sftp://{getpass.getuser()}@127.0.0.1:{server.port}{server.root}/{name}"


def new_bucket(server: StoreServer) -> str:
    """A fresh bucket (S3), container (Azure) or directory (SFTP) on ``server``; its store URL."""
    if server.kind == "sftp":
        return sftp_url(server)
    name = "t" + secrets.token_hex(6)
    if server.kind == "s3":
        import boto3

        boto3.client("s3", endpoint_url=server.endpoint_url, aws_access_key_id="testing",
                     aws_secret_access_key="testing", region_name="us-east-1").create_bucket(Bucket=name)
        return f"s3://{name}/store"
    from azure.storage.blob import BlobServiceClient

    BlobServiceClient.from_connection_string(server.env["AZURE_STORAGE_CONNECTION_STRING"]).create_container(name)
    return f"az://{name}/store"


SERVERS = {"s3": "s3_server", "az": "azurite", "sftp": "sshd"}


@pytest.fixture(params=KINDS)
def store_env(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh store of each kind: its URL in MLSPEC_STORE, its credentials in the environment; the URL."""
    for var in ("MLSPEC_STORE", "MLSPEC_STORE_ENDPOINT_URL", "AZURE_STORAGE_CONNECTION_STRING", "SSH_AUTH_SOCK"):
        monkeypatch.delenv(var, raising=False)
    if request.param == "file":
        url = f"file://{tmp_path / 'store'}"
    else:
        server: StoreServer = request.getfixturevalue(SERVERS[request.param])
        for key, value in server.env.items():
            monkeypatch.setenv(key, value)
        url = new_bucket(server)
    monkeypatch.setenv("MLSPEC_STORE", url)
    return url
