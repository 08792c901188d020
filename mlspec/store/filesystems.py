"""Each kind of store's fsspec filesystem, opened with bounded retries, and what to tell a user it refuses.

Every library's defaults are tuned for batch jobs that may wait minutes for a flaky network; a store that is
down, a key that is wrong or a bucket that is missing should instead say so within seconds, naming the store,
the setting its URL came from and the variables to set (:func:`describe`).
"""

from __future__ import annotations

import os
from typing import Any

from mlspec.store.base import ENDPOINT_VAR, StoreConfig

PACKAGES = {"s3": "s3fs", "gs": "gcsfs", "az": "adlfs", "sftp": "sshfs"}
"""Filesystem kind → the PyPI package that implements it (the ``store`` extra installs them)."""
CREDENTIALS = {
    "s3": "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or a role: OIDC in CI)",
    "gs": "GOOGLE_APPLICATION_CREDENTIALS (or a workload identity: OIDC in CI)",
    "az": "AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY",
    "sftp": "an SSH key (~/.ssh/id_*, ~/.ssh/config's IdentityFile) or an agent (SSH_AUTH_SOCK) for the URL's user",
    "file": "a directory this user can write",
}
CONTAINER = {"s3": "bucket", "gs": "bucket", "az": "container", "sftp": "directory", "file": "directory"}
CONCURRENCY = {"s3": 16, "gs": 16, "az": 16, "sftp": 8, "file": 8}
"""Transfers in flight at once, per kind: enough to hide round trips, few enough for one connection pool."""

# botocore retries a refused connection with backoff; s3fs retries again around it. Bounded both ways, a store
# that is down is reported in about ten seconds, not minutes. The pool is as large as the transfers in flight.
_S3_CONFIG = {"connect_timeout": 5, "read_timeout": 60, "retries": {"max_attempts": 2, "mode": "standard"},
              "max_pool_connections": 2 * CONCURRENCY["s3"]}
_S3_RETRIES = 2
_SSH_TIMEOUT = 10
# What each library raises for missing or refused credentials, by name (the libraries may not be installed).
_AUTH_ERRORS = ("PermissionDenied", "ClientAuthenticationError", "DefaultCredentialsError", "RefreshError",
                "NoCredentialsError", "PartialCredentialsError")


def open_filesystem(settings: StoreConfig) -> Any:
    """The fsspec filesystem of ``settings``' URL (ImportError when its package is missing)."""
    url = settings.url
    if url.kind == "file":
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem()
    if url.kind == "s3":
        import s3fs

        client: dict[str, Any] = {}
        if settings.endpoint_url:
            client["endpoint_url"] = settings.endpoint_url
        fs = s3fs.S3FileSystem(client_kwargs=client, config_kwargs=_S3_CONFIG, skip_instance_cache=True)
        fs.retries = _S3_RETRIES
        return fs
    if url.kind == "gs":
        import gcsfs

        # "google_default": the credential chain, never the anonymous fallback a bucket would refuse anyway.
        options: dict[str, Any] = {"token": "google_default", "requests_timeout": 60}
        if settings.endpoint_url:
            options["endpoint_url"] = settings.endpoint_url
        return gcsfs.GCSFileSystem(skip_instance_cache=True, **options)
    if url.kind == "az":
        import adlfs

        fs = adlfs.AzureBlobFileSystem(skip_instance_cache=True, **_azure_options())
        _bound_azure_retries(fs)
        return fs
    import sshfs

    ssh: dict[str, Any] = {"skip_instance_cache": True, "connect_timeout": _SSH_TIMEOUT,
                           "timeout": _SSH_TIMEOUT + 5,
                           # sshfs turns host-key checking off by default; () is asyncssh's own default:
                           # ~/.ssh/known_hosts, as ssh(1) checks it.
                           "known_hosts": (),
                           "max_sessions": CONCURRENCY["sftp"] + 2}
    if url.port:
        ssh["port"] = url.port
    if url.user:
        ssh["username"] = url.user
    return sshfs.SSHFileSystem(url.bucket, **ssh)


def _azure_options() -> dict[str, Any]:
    # adlfs reads the account name from the environment, but not every variable the Azure SDKs know.
    env = os.environ
    # adlfs sends every block of a file at once by default (thousands of requests for a large one).
    options: dict[str, Any] = {"connection_timeout": 5, "max_concurrency": 8}
    if env.get("AZURE_STORAGE_CONNECTION_STRING"):
        return {**options, "connection_string": env["AZURE_STORAGE_CONNECTION_STRING"]}
    if env.get("AZURE_STORAGE_ACCOUNT_NAME"):
        options["account_name"] = env["AZURE_STORAGE_ACCOUNT_NAME"]
    if env.get("AZURE_STORAGE_ACCOUNT_KEY"):
        options["account_key"] = env["AZURE_STORAGE_ACCOUNT_KEY"]
    if not options.get("account_key"):
        options["anon"] = False  # the default credential chain (managed identity, OIDC federation, az login)
    return options


def _bound_azure_retries(fs: Any) -> None:
    """The Azure SDK retries a refused connection three times after 15, 18 and 24 s (a store that is down took
    over a minute per request here); adlfs offers no way to pass a retry policy, so its client's is tuned."""
    policy = getattr(getattr(fs.service_client, "_config", None), "retry_policy", None)
    if policy is None:
        return
    for name, value in (("total_retries", 2), ("connect_retries", 1), ("read_retries", 2), ("status_retries", 2),
                        ("initial_backoff", 0.5), ("increment_base", 2), ("random_jitter_range", 0.5)):
        if hasattr(policy, name):
            setattr(policy, name, value)


def describe(settings: StoreConfig, what: str, exc: BaseException) -> str:
    """The message of a :class:`~mlspec.store.StoreError` for ``exc``, raised while trying to ``what``."""
    url = settings.url
    where = f"store {url.text} (from {settings.named_by})"
    detail = " ".join(str(exc).split()) or type(exc).__name__
    kind = problem(exc, detail)
    if kind == "host key":
        host = f"-p {url.port} {url.bucket}" if url.port else url.bucket
        return (f"{where}: cannot {what}: the server's host key is not in ~/.ssh/known_hosts; check it and add it "
                f"(`ssh-keyscan {host} >> ~/.ssh/known_hosts`)")
    if kind == "auth":
        return f"{where}: cannot {what}: no credentials it accepts ({detail[:200]}); set {CREDENTIALS[url.kind]}"
    fix = f"check that it is reachable and that {settings.named_by} is right"
    if url.kind == "s3":
        fix += f" (an S3-compatible service also needs store.endpoint_url or {ENDPOINT_VAR})"
    return f"{where}: cannot {what}: {detail[:300]}; {fix}"


def missing_container(settings: StoreConfig, what: str) -> str:
    url = settings.url
    noun = CONTAINER[url.kind]
    return (f"store {url.text} (from {settings.named_by}): cannot {what}: there is no {noun} {url.bucket!r}; "
            f"create it, or point {settings.named_by} at one that exists")


def problem(exc: BaseException, detail: str) -> str:
    """``auth``, ``host key`` or ``other``: which advice fits ``exc``."""
    name = type(exc).__name__
    if name == "HostKeyNotVerifiable":
        return "host key"
    if isinstance(exc, PermissionError) or name in _AUTH_ERRORS:
        return "auth"
    lowered = detail.lower()
    words = ("access denied", "accessdenied", "forbidden", "invalidaccesskeyid", "signaturedoesnotmatch",
             "authorization", "authentication", "credential", "403", "401", "must provide either a connection_string")
    return "auth" if any(word in lowered for word in words) else "other"
