"""The store tests' servers: moto's standalone S3 server and Azurite, real servers on loopback.

``store_url`` runs a test once per kind of store (a directory, S3 over HTTP, Azure Blob), each in a fresh
bucket or container, with the environment that kind's real credential variables would give it.
"""

from __future__ import annotations

import secrets
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


@dataclass(frozen=True)
class StoreServer:
    kind: str
    env: dict[str, str] = field(default_factory=dict)
    endpoint_url: str | None = None


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


def new_bucket(server: StoreServer) -> str:
    """A fresh bucket (S3) or container (Azure) on ``server``; its store URL."""
    name = "t" + secrets.token_hex(6)
    if server.kind == "s3":
        import boto3

        boto3.client("s3", endpoint_url=server.endpoint_url, aws_access_key_id="testing",
                     aws_secret_access_key="testing", region_name="us-east-1").create_bucket(Bucket=name)
        return f"s3://{name}/store"
    from azure.storage.blob import BlobServiceClient

    BlobServiceClient.from_connection_string(server.env["AZURE_STORAGE_CONNECTION_STRING"]).create_container(name)
    return f"az://{name}/store"


@pytest.fixture(params=["file", "s3", "az"])
def store_env(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh store of each kind: its URL in MLSPEC_STORE, its credentials in the environment; the URL."""
    for var in ("MLSPEC_STORE", "MLSPEC_STORE_ENDPOINT_URL", "AZURE_STORAGE_CONNECTION_STRING"):
        monkeypatch.delenv(var, raising=False)
    if request.param == "file":
        url = f"file://{tmp_path / 'store'}"
    else:
        server: StoreServer = request.getfixturevalue("s3_server" if request.param == "s3" else "azurite")
        for key, value in server.env.items():
            monkeypatch.setenv(key, value)
        url = new_bucket(server)
    monkeypatch.setenv("MLSPEC_STORE", url)
    return url
