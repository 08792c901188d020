"""The drift issue's calls, shared by the platforms: the open issues listed page by page, errors worded as
the issue tracker's own (they name the request as sent, with its query, and the platform's answer)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from mlspec.errors import MlspecError
from mlspec.platforms.http import Client, Refused, Unreachable


def call(client: Client, method: str, path: str, payload: Mapping[str, Any] | None = None) -> Any:
    """``method`` on ``path`` (under the API's base, query included); the parsed answer."""
    with _worded(client):
        return client.call(method, client.base + path, payload).data


def listed(client: Client, path: str, of: str, keep: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """Every issue of the listing at ``path`` (all its pages) that ``keep`` accepts."""
    found: list[dict[str, Any]] = []
    with _worded(client):
        for page in client.pages(client.base + path, "issues", of):
            found += [item for item in page if isinstance(item, dict) and keep(item)]
    return found


@contextmanager
def _worded(client: Client) -> Iterator[None]:
    try:
        yield
    except Refused as exc:
        detail = exc.body.decode("utf-8", "replace")[:300]
        hint = client.hint(exc.status)
        raise MlspecError(f"{client.name} API {exc.method} {_relative(client, exc.url)}: HTTP {exc.status} "
                          f"{exc.reason}: {detail}" + (f"; {hint}" if hint else "")) from None
    except Unreachable as exc:
        raise MlspecError(f"{client.name} API {exc.method} {exc.url}: {exc.cause}") from None


def _relative(client: Client, url: str) -> str:
    return url[len(client.base):] if url.startswith(client.base) else url
