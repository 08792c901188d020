"""Objects on the test servers for the url sources: put, replace and delete them as a user's pipeline would."""

from __future__ import annotations

import secrets

from tests.store.conftest import StoreServer

S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def s3_client(server: StoreServer):  # type: ignore[no-untyped-def]
    import boto3

    return boto3.client("s3", endpoint_url=server.endpoint_url, aws_access_key_id="testing",
                        aws_secret_access_key="testing", region_name="us-east-1")


def s3_bucket(server: StoreServer, versioned: bool = False) -> str:
    name = "src" + secrets.token_hex(5)
    client = s3_client(server)
    client.create_bucket(Bucket=name)
    if versioned:
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def s3_put(server: StoreServer, bucket: str, key: str, data: bytes) -> None:
    s3_client(server).put_object(Bucket=bucket, Key=key, Body=data)


def az_container(server: StoreServer) -> str:
    from azure.storage.blob import BlobServiceClient

    name = "src" + secrets.token_hex(5)
    BlobServiceClient.from_connection_string(server.env["AZURE_STORAGE_CONNECTION_STRING"]).create_container(name)
    return name


def az_put(server: StoreServer, container: str, blob: str, data: bytes) -> None:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(server.env["AZURE_STORAGE_CONNECTION_STRING"])
    service.get_blob_client(container, blob).upload_blob(data, overwrite=True)
