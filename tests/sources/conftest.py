"""The store tests' real servers (moto's S3 server, Azurite), for the sources that read from them."""

from tests.store.conftest import azurite, s3_server

__all__ = ["azurite", "s3_server"]
