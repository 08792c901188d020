"""A crafted model file that runs code when skops builds it (import as ``from tests.runtime.crafted import ...``).

Its ``schema.json`` is one ``ConstructorFromReduceNode``: skops calls the named callable with the node's
content as arguments. The callable is ``numpy.testing._private.utils.runstring(code, namespace)``, which is
``exec(code, namespace)``; skops itself reports it as untrusted, but a loader that trusts "everything from
numpy" runs it. The code writes a marker file, so a test sees whether it ran.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

RUNSTRING = "numpy.testing._private.utils.runstring"


def _str(value: str, ident: int) -> dict[str, Any]:
    return {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode", "content": json.dumps(value),
            "is_json": True, "__id__": ident}


def exec_schema(marker: Path) -> dict[str, Any]:
    code = f"open({str(marker)!r}, 'w').write('the model file ran code')"
    namespace = {"__class__": "dict", "__module__": "builtins", "__loader__": "DictNode", "content": {},
                 "key_types": {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
                               "content": [], "__id__": 3}, "__id__": 2}
    module, _, name = RUNSTRING.rpartition(".")
    return {"__class__": name, "__module__": module, "__loader__": "ConstructorFromReduceNode",
            "content": {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
                        "content": [_str(code, 1), namespace], "__id__": 4},
            "__id__": 0, "protocol": 2, "_skops_version": "0.16.0"}


def exec_model(marker: Path) -> bytes:
    """The bytes of a ``model.skops`` that creates ``marker`` when loaded."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("schema.json", json.dumps(exec_schema(marker)))
    return out.getvalue()


def write_bundle(directory: Path, marker: Path, estimator: str = "numpy.testing._private.utils.runstring") -> Path:
    """A bundle directory holding the crafted model, its metadata naming ``estimator``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.skops").write_bytes(exec_model(marker))
    (directory / "metadata.json").write_text(json.dumps({
        "format": 1, "model": "m", "estimator": estimator, "params": {}, "preprocessing": {},
        "input": {"features": [{"name": "x", "kind": "numeric", "dtype": "float64"}], "target": "y",
                  "target_dtype": "float64", "task": "regression", "declared": True},
        "versions": {}}) + "\n")
    return directory
