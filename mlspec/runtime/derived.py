"""The ``derive`` step of a model's Pipeline, built from ``data.derived`` (see :mod:`mlspec.transform.derive`).

The user's own transformer classes (``transformer:`` entries) are imported here, at training time only; the
spec's checks (:mod:`mlspec.checks`) have already made sure their package is in ``training.packages`` and the
class in ``training.trust``, and this checks again before importing, since importing a module runs it.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from mlspec.runtime.context import StageError
from mlspec.spec import BucketFeature, ClipFeature, DatePartFeature, ExprFeature, LogFeature, TransformerFeature

if TYPE_CHECKING:
    from mlspec.spec import Spec


def steps(spec: Spec) -> list[list[Any]]:
    """``Derive``'s steps for ``spec``'s ``data.derived``: plain data, and for ``transformer`` entries an
    unfitted instance of the user's class; raise :class:`StageError` pointing at the entry."""
    out: list[list[Any]] = []
    for name, d in spec.data.derived.items():
        if isinstance(d, ExprFeature):
            out.append([name, "expr", d.expr])
        elif isinstance(d, LogFeature):
            out.append([name, "log", d.log])
        elif isinstance(d, ClipFeature):
            out.append([name, "clip", [d.clip, d.min, d.max]])
        elif isinstance(d, BucketFeature):
            out.append([name, "bucket", [d.bucket, list(d.edges)]])
        elif isinstance(d, DatePartFeature):
            out.append([name, "date_part", [d.date_part, d.part]])
        elif isinstance(d, TransformerFeature):
            out.append([name, "transformer", [list(d.columns), user_transformer(spec, name, d)]])
    return out


def user_transformer(spec: Spec, name: str, d: TransformerFeature) -> Any:
    where = ("data", "derived", name, "transformer")
    package = d.transformer.split(".")[0]
    module, cls_name = d.transformer.rsplit(".", 1)
    if package not in spec.training.packages:
        raise StageError(f"{d.transformer!r} is in package {package!r}, which is not in training.packages; add it "
                         "there (only listed packages are imported)", where)
    if d.transformer not in spec.training.trust:
        raise StageError(f"{d.transformer!r} is not in training.trust; add it there so its models can be loaded",
                         where)
    if importlib.util.find_spec(package) is None:
        raise StageError(f"cannot import {d.transformer!r}: no module named {package!r}", where)
    try:
        cls = getattr(importlib.import_module(module), cls_name)
    except AttributeError:
        raise StageError(f"module {module!r} has no class {cls_name!r}", where) from None
    except Exception as exc:  # importing the user's module runs it; say what it raised
        raise StageError(f"cannot import {d.transformer!r}: {type(exc).__name__}: {exc}", where) from None
    if not isinstance(cls, type) or not callable(getattr(cls, "fit", None)) \
            or not callable(getattr(cls, "transform", None)):
        raise StageError(f"{d.transformer!r} is not a scikit-learn transformer class (fit and transform)", where)
    try:
        return cls(**d.params)
    except Exception as exc:
        raise StageError(f"{cls_name}(**params) failed: {type(exc).__name__}: {exc}",
                         ("data", "derived", name, "params")) from None


def fitted_outputs(derive: Any, inputs: list[str]) -> list[str]:
    """The columns a fitted ``Derive`` adds to its input table."""
    return [c for c in derive.columns_ if c not in inputs]
