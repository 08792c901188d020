"""The model registry: immutable versions, aliases, and the history of every alias move.

Which registry a spec uses::

    registry.backend: file    a directory: registry.path (relative to mlspec.yaml, or absolute), unless the
                              environment variable MLSPEC_REGISTRY names another directory
    registry.backend: store   under ``registry/`` in the spec's store (``store.url``, or ``MLSPEC_STORE``):
                              the default when the spec has a ``store`` section
    registry.backend: mlflow  the MLflow tracking server named by MLFLOW_TRACKING_URI (and its model
                              registry, or MLFLOW_REGISTRY_URI's)

In CI, a relative ``registry.path`` lands in the job's throwaway checkout: give the spec a store (the registry
then lives there), or point ``MLSPEC_REGISTRY`` (a CI/CD variable) or an absolute ``registry.path`` at a
directory the runner keeps, such as a mounted volume.

See :mod:`mlspec.registry.base` for the state machine, :mod:`mlspec.registry.filestore` for the file layout
and its crash safety, :mod:`mlspec.registry.storestore` for the store's (concurrent writers without a lock,
and what each kind of store guarantees), :mod:`mlspec.registry.mlflowstore` for MLflow, and
:mod:`mlspec.registry.integrity` for how a version is checked before use (and signed, when
``MLSPEC_SIGNING_KEY`` is set).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from mlspec import platforms
from mlspec.load import Loaded
from mlspec.registry.base import Actor, Candidate, Event, Registry, RegistryError, Version
from mlspec.registry.filestore import FileRegistry
from mlspec.registry.integrity import signing_key

ENV_VAR = "MLSPEC_REGISTRY"

__all__ = ["ENV_VAR", "Actor", "Candidate", "Event", "FileRegistry", "Registry", "RegistryError", "Version",
           "backend", "file_location", "open_registry", "registry_warning", "resolve"]


def file_location(loaded: Loaded, environ: Mapping[str, str] = os.environ) -> Path:
    """The directory of the file registry of ``loaded``'s spec."""
    override = environ.get(ENV_VAR)
    if override:
        return Path(override)
    path = Path(loaded.spec.registry.path)
    return path if path.is_absolute() else loaded.root / path


def backend(loaded: Loaded) -> Literal["file", "store", "mlflow"]:
    """The registry backend ``loaded``'s spec uses (``registry.backend``, else the store's if it has one)."""
    return loaded.spec.registry.chosen_backend(loaded.spec.store is not None)


def open_registry(loaded: Loaded, environ: Mapping[str, str] = os.environ) -> Registry:
    chosen = backend(loaded)
    if chosen == "store":
        from mlspec.registry.storestore import StoreRegistry
        from mlspec.store import open_store

        store = open_store(loaded, environ)
        if store is None:
            raise RegistryError("registry.backend is store, but there is no store: add a store section to the "
                                "spec (store.url) or set MLSPEC_STORE")
        return StoreRegistry(store, key=signing_key(environ))
    if chosen == "mlflow":
        try:  # MLflow takes seconds to import: only when the spec uses it
            from mlspec.registry.mlflowstore import MlflowRegistry
        except ModuleNotFoundError as exc:
            if not (exc.name or "").startswith("mlflow"):
                raise
            raise RegistryError("registry.backend is mlflow, but the MLflow client is not installed: pip install "
                                "'mlspec-ci[mlflow]' (in CI: add mlflow-skinny to ci.requirements)") from None
        return MlflowRegistry.from_environment(environ)
    return FileRegistry(file_location(loaded, environ), key=signing_key(environ))


def resolve(registry: Registry, model: str, ref: str) -> Version:
    """The version ``ref`` names: a number, or an alias."""
    if ref.isdigit():
        return registry.get(model, int(ref))
    aliases = registry.aliases(model)
    if ref not in aliases:
        known = ", ".join(f"{a} -> {v}" for a, v in aliases.items()) or "none"
        raise RegistryError(f"{model!r} has no alias {ref!r} in the registry {registry.location} (aliases: {known})")
    return registry.get(model, aliases[ref])


def registry_warning(loaded: Loaded, environ: Mapping[str, str] = os.environ) -> str | None:
    """:func:`ephemeral_warning` for the spec's registry: only a file registry can be in the checkout."""
    if backend(loaded) != "file":
        return None
    return ephemeral_warning(loaded, file_location(loaded, environ), "file registry", environ)


def ephemeral_warning(loaded: Loaded, path: Path, what: str, environ: Mapping[str, str]) -> str | None:
    """A warning when ``path`` lies inside a CI job's checkout, which is thrown away when the job ends."""
    if not platforms.in_ci(environ):
        return None
    try:
        path.resolve().relative_to(loaded.root.resolve())
    except ValueError:
        return None
    return (f"warning: the {what} {path} is inside this CI job's checkout, which is deleted when the job ends; "
            f"point {ENV_VAR} (a CI/CD variable) or an absolute path in the spec at a directory the runner keeps"
            if what == "file registry" else
            f"warning: the {what} {path} is inside this CI job's checkout, which is deleted when the job ends; "
            "use an absolute path on a volume the runner keeps, or upload the directory as an artifact")


def locate(spec_file: str, registry_dir: str | None, model: str | None,
           environ: Mapping[str, str] = os.environ) -> tuple[Registry, str, Path]:
    """The registry, the model name and the directory to read git facts in, as the command line names them.

    ``--registry DIR`` names a file registry directly, and ``--registry URL`` (``s3://bucket/prefix``, any
    store URL) the registry in that store, so a serving host needs no spec; the model then defaults to the
    spec's project if there is a spec, and must be given if there is none.
    """
    from mlspec.load import load

    spec_path = Path(spec_file)
    if registry_dir:
        registry = named_registry(registry_dir, environ)
        if model is None and not spec_path.is_file():
            held = ", ".join(registry.models()) or "nothing yet"
            raise RegistryError(f"no spec at {spec_file} to take the model name from; pass --model NAME (the "
                                f"registry {registry.location} holds: {held})")
        name = model or load(spec_path).spec.project
        root = spec_path.parent if spec_path.is_file() else Path.cwd()
        return registry, name, root
    loaded = load(spec_path)
    return open_registry(loaded, environ), model or loaded.spec.project, loaded.root


def named_registry(where: str, environ: Mapping[str, str] = os.environ) -> Registry:
    """The registry ``--registry`` names: a store's (a URL with a scheme), else a file registry directory."""
    if "://" not in where:
        return FileRegistry(Path(where), key=signing_key(environ))
    from mlspec.registry.storestore import StoreRegistry
    from mlspec.store import ENDPOINT_VAR, Store, StoreConfig
    from mlspec.store.url import StoreUrlError, parse

    try:
        url = parse(where)
    except StoreUrlError as exc:
        raise RegistryError(f"--registry: {exc}") from None
    endpoint = environ.get(ENDPOINT_VAR, "").strip() or None
    return StoreRegistry(Store(StoreConfig(url, endpoint, named_by="--registry")), key=signing_key(environ))
