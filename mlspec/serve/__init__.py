"""`mlspec serve`: an HTTP prediction service for one registry version.

The web stack is Starlette (routing, requests, responses) on uvicorn (the ASGI server). Both are small,
maintained by the Encode community, and the base of FastAPI; we do not need FastAPI's own layer because the
request schema is not a Python class but the model's recorded input schema, checked by
:mod:`mlspec.serve.validation`. uvicorn gives a production HTTP/1.1 server with keep-alive and graceful
shutdown on SIGTERM in one process, with no separate WSGI server to configure. Both are imported only here,
when a service starts (``pip install 'mlspec-ci[serve]'``).

The version is chosen when the service starts (an alias is resolved then) and stays the one served: after an
alias moves, restart the service to follow it. Before loading, the registry checks the version's files
against the manifest it recorded at registration (and its signature, with ``MLSPEC_SIGNING_KEY`` set; see
:mod:`mlspec.registry.integrity`), and :func:`mlspec.runtime.bundle.load` refuses any type outside the
reviewed allowlist, so neither a tampered version nor a crafted model file is ever executed.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable, Collection
from pathlib import Path
from types import FrameType

from mlspec.errors import MlspecError
from mlspec.registry import Registry, resolve
from mlspec.registry.filestore import BUNDLE
from mlspec.serve.validation import InputSchema

try:
    from mlspec.serve.app import Limits, Service, create_app
except ModuleNotFoundError as exc:  # the command line shows this as a one-line error, not a traceback
    if (exc.name or "").split(".")[0] not in ("starlette", "uvicorn", "anyio"):
        raise
    raise MlspecError("`mlspec serve` needs the web stack: pip install 'mlspec-ci[serve]'") from None

DEFAULT_ALIAS = "production"

__all__ = ["DEFAULT_ALIAS", "Limits", "Service", "bind", "create_app", "load_service", "serve"]


def load_service(registry: Registry, model: str, ref: str, scratch: Path, reject: Collection[str] = (),
                 trust: Collection[str] = (), log: Callable[[str], None] | None = None) -> Service:
    """The version ``ref`` (an alias or a number) of ``model``, loaded and checked; ``reject``: the kinds of
    input issue to answer with 422 (``Serving.rejects()``); ``trust`` and ``log`` as for
    :func:`mlspec.runtime.bundle.load` (the spec's ``training.trust``, when there is a spec)."""
    from mlspec.runtime import bundle, scoring

    version = resolve(registry, model, ref)
    folder = registry.files(model, version.number, scratch) / BUNDLE  # checked against the registration
    loaded = bundle.load(folder, trust, log)
    try:
        schema = InputSchema.from_metadata(loaded.metadata)
    except (KeyError, TypeError) as exc:
        raise MlspecError(f"{folder}/metadata.json has no usable input schema ({type(exc).__name__}: {exc})") from None
    info = {"model": model, "version": version.number, "alias": None if ref.isdigit() else ref,
            "trained_model": version.trained_model, "digest": version.digest, "verdict": version.verdict}
    return Service(loaded.model, schema, info, loaded.classes, frozenset(reject), scoring.decision_rule(loaded))


def serve(service: Service, host: str, port: int, limits: Limits, ready: Callable[[str], None]) -> None:
    """Serve until SIGINT/SIGTERM; ``ready`` gets the URL once the port is listening (port 0: a free one)."""
    try:
        import uvicorn
    except ModuleNotFoundError:
        raise MlspecError("`mlspec serve` needs the web stack: pip install 'mlspec-ci[serve]'") from None
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    config = uvicorn.Config(create_app(service, limits), log_level="info", timeout_keep_alive=5,
                            timeout_graceful_shutdown=10, server_header=False)
    shown = f"[{host}]" if ":" in host else host
    ready(f"http://{shown}:{bound}")
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again so the process ends by it. Ending
    # by SystemExit(0) instead lets the caller clean up (the scratch copy of a downloaded version).
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stopped(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket: bound here, so the chosen port is known (and printed) before the server starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # The protocol must be named: asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP, and
    # without it a keep-alive connection waits ~40 ms per response (Nagle against delayed ACKs).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise MlspecError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    return sock
