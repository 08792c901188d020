"""What the store's modules share: its settings, its error, its environment variables."""

from __future__ import annotations

from dataclasses import dataclass

from mlspec.errors import MlspecError
from mlspec.store.url import StoreUrl

ENV_VAR = "MLSPEC_STORE"
ENDPOINT_VAR = "MLSPEC_STORE_ENDPOINT_URL"
MARKER = "mlspec-store.json"
FORMAT = 1
DIGEST_PREFIX = "sha256:"


class StoreError(MlspecError):
    """The store cannot be reached or refused a request; the message names the store and what to set."""


@dataclass(frozen=True)
class StoreConfig:
    url: StoreUrl
    endpoint_url: str | None = None
    run_cache: bool = True
    push: bool = True
    named_by: str = "store.url"
    """Which setting chose the URL, for messages."""
