"""The store's filesystems, for ``url`` sources: the same packages, timeouts and credential chains as the store.

Data sources sit below the store in the package's layers, so the data stage hands :data:`STORE_FILESYSTEMS`
to the adapter (:class:`mlspec.sources.base.Reading`) instead of the adapter importing the store.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from mlspec.sources.progress import FetchError
from mlspec.sourceurl import SourceUrl


class StoreFilesystems:
    """:class:`mlspec.sources.base.Filesystems` over :func:`mlspec.store.backend.open_backend`."""

    def open(self, url: SourceUrl, endpoint: str | None) -> tuple[Any, str]:
        from mlspec.store.backend import open_backend
        from mlspec.store.base import StoreConfig, StoreError
        from mlspec.store.filesystems import PACKAGES
        from mlspec.store.url import StoreUrl

        package = PACKAGES[url.kind]
        if importlib.util.find_spec(package) is None:
            raise FetchError(f"reading {url.kind}:// needs the Python package {package!r}; "
                             "`pip install 'mlspec-ci[store]'` installs the filesystems mlspec supports")
        # A store "rooted" at the object: the store's construction reused as it is, its root the object's path.
        rooted = StoreUrl(url.kind, url.host, url.path, user=url.user, port=url.port, text=url.text)
        try:
            backend = open_backend(StoreConfig(rooted, endpoint, named_by="the source's url"))
        except StoreError as exc:
            raise FetchError(str(exc)) from None
        return backend.fs, backend.root

    def credentials(self, kind: str) -> str:
        from mlspec.store.filesystems import CREDENTIALS

        return CREDENTIALS[kind]


STORE_FILESYSTEMS = StoreFilesystems()
