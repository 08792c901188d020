"""A model bundle: the fitted scikit-learn Pipeline in skops format plus ``metadata.json``.

Layout of a bundle directory (the output of a ``train:<model>`` stage)::

    model.skops      the fitted Pipeline (preprocessing + estimator), never a plain pickle
    metadata.json    estimator, params, seed, input schema, data fingerprint, library versions, timings
    reference.json   the training data's profile, for drift monitoring (see mlspec.monitor.profile)

Loading trusts exact types only: skops' defaults and the reviewed allowlist of
:mod:`mlspec.runtime.trusted_types`, never whole packages and never anything the bundle itself declares (its
``metadata.json`` is as writable as its model file). Any other type in the file makes :func:`load` refuse with
the list of offending types before anything in the file is built, so a tampered or foreign file is never
executed; the tree structures of what it builds are then bounds-checked (:mod:`mlspec.runtime.structure`).
Where the file came from is checked separately (:mod:`mlspec.registry.integrity`).
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlspec import jsonio
from mlspec.errors import MlspecError
from mlspec.runtime import structure, trusted_types

MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
BUNDLE_FORMAT = 1
MAX_SCHEMA_BYTES = 64 * 1024 * 1024
"""Uncompressed size of a model file's ``schema.json`` beyond which it is refused unread (a zip bomb)."""


class BundleError(MlspecError):
    """A model bundle is missing, unreadable, or holds types that are not trusted."""


@dataclass(frozen=True)
class Bundle:
    path: Path
    model: Any
    """The fitted ``sklearn.pipeline.Pipeline``."""
    metadata: dict[str, Any]

    @property
    def features(self) -> list[str]:
        return [f["name"] for f in self.metadata["input"]["features"]]

    @property
    def classes(self) -> list[Any] | None:
        classes: list[Any] | None = self.metadata["input"].get("classes")
        return classes


def save(directory: Path, model: Any, metadata: dict[str, Any], trust: Collection[str] = ()) -> dict[str, list[str]]:
    """Write the bundle; its metadata gains ``trusted_types``: the types of the model file beyond skops'
    defaults, by the library that needs them (or ``training.trust``, the spec's ``trust``), which it returns.
    A record for people: loading never reads it."""
    import skops.io as sio

    data = _stable_zip(sio.dumps(model))
    types = trusted_types.grouped(sio.get_untrusted_types(data=data), trust)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MODEL_FILE).write_bytes(data)
    metadata = {**metadata, "trusted_types": types}
    (directory / METADATA_FILE).write_text(json.dumps(jsonable(metadata), indent=2) + "\n", encoding="utf-8")
    return types


def _stable_zip(data: bytes) -> bytes:
    """The same skops archive, made byte-identical for an identical model.

    skops names objects and array files after ``id()`` (memory addresses) and stamps zip entries with the
    time of writing; content-addressed outputs (mlspec.lock, CI artifacts adopted by digest) need identical
    models to be identical files. Ids are renumbered in the order the schema first mentions them (they only
    link references inside the file), array files are renamed to match, and timestamps are fixed.
    """
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as src:
        schema = json.loads(src.read("schema.json"))  # skops' output, just made in memory: not a read
        ids: dict[int, int] = {}
        files: dict[str, str] = {}

        def renumber(node: Any) -> Any:
            if isinstance(node, dict):
                out: dict[str, Any] = {}
                for key, value in node.items():
                    if key == "__id__" and isinstance(value, int):
                        out[key] = ids.setdefault(value, len(ids))
                    elif key == "file" and isinstance(value, str):
                        out[key] = files.setdefault(value, f"{len(files)}{Path(value).suffix}")
                    else:
                        out[key] = renumber(value)
                return out
            if isinstance(node, list):
                return [renumber(v) for v in node]
            return node

        stable = renumber(schema)
        entries = [("schema.json", json.dumps(stable, separators=(",", ":")).encode(), "schema.json")]
        entries += sorted(((files[i.filename], src.read(i.filename), i.filename) for i in src.infolist()
                           if i.filename in files), key=lambda e: int(Path(e[0]).stem))
        unknown = {i.filename for i in src.infolist()} - {"schema.json", *files}
        if unknown:  # a skops format this code does not know: keep it loadable rather than "stable"
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as dst:
            for name, content, original in entries:
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = src.getinfo(original).compress_type
                dst.writestr(info, content)
    return out.getvalue()


def load(path: str | Path, trust: Collection[str] = (), log: Callable[[str], None] | None = None) -> Bundle:
    """Load a bundle directory (or its ``model.skops``); raise :class:`BundleError` on untrusted content.

    ``trust`` is the loader's own opt-in (the spec's ``training.trust``) to exact types beyond the reviewed
    allowlist; the bundle's files never widen it. Those of them the file holds are told to ``log``."""
    import skops.io as sio

    directory = Path(path)
    if directory.name == MODEL_FILE:
        directory = directory.parent
    model_file, meta_file = directory / MODEL_FILE, directory / METADATA_FILE
    for file in (model_file, meta_file):
        if not file.is_file():
            raise BundleError(f"{directory}: not a model bundle: {file.name} is missing")
    try:
        metadata = jsonio.read_object(meta_file)
    except jsonio.JsonError as exc:
        raise BundleError(f"unreadable metadata: {exc}") from None
    types = _types(model_file)
    refused = trusted_types.refused(types, trust)
    if refused:
        raise BundleError(
            f"{model_file}: refusing to load a model file that holds types outside mlspec's reviewed allowlist "
            f"(mlspec.runtime.trusted_types) and training.trust: {', '.join(refused)}. If this model is yours "
            "and you trust the code of these types, list them in training.trust of mlspec.yaml; otherwise the "
            "file was altered or made by other means: retrain it (`mlspec run`) from a spec you trust."
        )
    spec_trusted = trusted_types.from_spec(types, trust)
    if spec_trusted and log is not None:
        log(f"trusting from training.trust: {', '.join(spec_trusted)}")
    try:
        model = sio.load(model_file, trusted=types)
    except Exception as exc:  # every type is trusted, so what fails is the file's content
        raise BundleError(f"{model_file}: cannot load the model ({type(exc).__name__}: {exc})") from None
    try:
        structure.check(model, str(model_file))
    except structure.StructureError as exc:
        raise BundleError(str(exc)) from None
    return Bundle(directory, model, metadata)


def _types(model_file: Path) -> list[str]:
    """The types ``model_file`` names beyond skops' defaults, read without building any of them."""
    import skops.io as sio

    try:
        with zipfile.ZipFile(model_file) as archive:
            size = archive.getinfo("schema.json").file_size
        if size > MAX_SCHEMA_BYTES:
            raise BundleError(f"{model_file}: its schema.json is {size:,} bytes, over the limit of "
                              f"{MAX_SCHEMA_BYTES:,}; this is not a model mlspec wrote")
        return list(sio.get_untrusted_types(file=model_file))
    except BundleError:
        raise
    except Exception as exc:  # skops raises zipfile, JSON, key and recursion errors for corrupt files
        raise BundleError(f"{model_file}: not a readable skops file ({type(exc).__name__}: {exc})") from None


def read_profile(directory: Path) -> dict[str, Any]:
    """The ``profile.json`` a ``data:<source>`` stage wrote (source, path, digest, rows, columns, schema)."""
    return jsonio.read_object(directory / "profile.json")


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON: NumPy values as Python ones, non-finite floats as null, others as repr."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    tolist = getattr(value, "tolist", None)  # NumPy scalars and arrays
    if callable(tolist):
        return jsonable(tolist())
    return repr(value)
