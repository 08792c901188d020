"""mlspec: one mlspec.yaml for an ML project, validated, compiled to CI, run, gated and deployed.

The public Python API; the ``mlspec`` command is a thin layer over it::

    import mlspec
    spec = mlspec.load_spec("mlspec.yaml")     # raises mlspec.SpecError with file:line:col problems
    print(mlspec.json_schema()["title"])

Names are imported lazily so that ``import mlspec`` (and ``mlspec --version``) stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_spec": "mlspec.load",
    "load": "mlspec.load",
    "load_text": "mlspec.load",
    "Loaded": "mlspec.load",
    "Spec": "mlspec.spec",
    "MlspecError": "mlspec.errors",
    "SpecError": "mlspec.errors",
    "Problem": "mlspec.errors",
    "json_schema": "mlspec.schema",
    "init_project": "mlspec.project",
    "stages": "mlspec.runtime.stages",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:
    from mlspec.errors import MlspecError, Problem, SpecError
    from mlspec.load import Loaded, load, load_spec, load_text
    from mlspec.project import init_project
    from mlspec.runtime.stages import build as stages
    from mlspec.schema import json_schema
    from mlspec.spec import Spec


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mlspec' has no attribute {name!r}")
    import importlib

    attr = "build" if name == "stages" else name
    return getattr(importlib.import_module(module), attr)
