"""``Derive``: the head of a model's Pipeline, computing ``data.derived`` from the raw columns.

Each step is plain data: ``[name, kind, argument]`` with kind ``expr`` (the expression's text, parsed again
by :mod:`mlspec.expr` when the model computes, never evaluated as Python), ``log`` (a column), ``clip``
(``[column, min, max]``), ``bucket`` (``[column, edges]``), ``date_part`` (``[column, part]``) or
``transformer`` (``[columns, estimator]``: the user's own transformer, unfitted here, fitted in ``fit``).
The output is the input table with the derived columns appended, which the ``preprocess`` step then selects
by name. A value the arithmetic cannot give (x / 0, log of a value <= 0, an overflow) is NaN, as a missing
value is: the numeric imputer fills both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sklearn.base import BaseEstimator, TransformerMixin, clone

from mlspec import expr
from mlspec.transform import dates

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


class Derive(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    def __init__(self, steps: list[list[Any]] | None = None) -> None:
        self.steps = steps

    def fit(self, x: pd.DataFrame, y: Any = None) -> Derive:
        self.fitted_: list[Any] = []
        frame = x.copy()
        for name, kind, arg in self.steps or []:
            estimator = None
            if kind == "transformer":
                columns, template = arg
                estimator = clone(template).fit(frame[list(columns)], y)
            self.fitted_.append(estimator)
            _assign(frame, name, _compute(frame, kind, arg, estimator))
        self.columns_ = [str(c) for c in frame.columns]
        return self

    def transform(self, x: pd.DataFrame) -> pd.DataFrame:
        frame = x.copy()
        for (name, kind, arg), estimator in zip(self.steps or [], self.fitted_, strict=True):
            _assign(frame, name, _compute(frame, kind, arg, estimator))
        return frame

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        import numpy as np

        return np.asarray(self.columns_, dtype=object)


def outputs(name: str, width: int) -> list[str]:
    """The columns a derived feature ``name`` of ``width`` values per row adds."""
    return [name] if width == 1 else [f"{name}_{i}" for i in range(width)]


def _assign(frame: pd.DataFrame, name: str, values: np.ndarray) -> None:
    if values.ndim == 1:
        frame[name] = values
        return
    for column, index in zip(outputs(name, values.shape[1]), range(values.shape[1]), strict=True):
        frame[column] = values[:, index]


def _compute(frame: pd.DataFrame, kind: str, arg: Any, estimator: Any) -> np.ndarray:
    import numpy as np

    with np.errstate(all="ignore"):
        if kind == "expr":
            return _finite(_evaluate(expr.parse(arg).tree, frame, len(frame)))
        if kind == "log":
            values = _numbers(frame[arg])
            return _finite(np.log(np.where(values > 0, values, np.nan)))
        if kind == "clip":
            column, low, high = arg
            low, high = -np.inf if low is None else low, np.inf if high is None else high
            return np.asarray(np.clip(_numbers(frame[column]), low, high), dtype=float)
        if kind == "bucket":
            column, edges = arg
            values = _numbers(frame[column])
            index = np.searchsorted(np.asarray(edges, dtype=float), values, side="right").astype(float)
            return np.where(np.isnan(values), np.nan, index)
        if kind == "date_part":
            column, name = arg
            return dates.part(dates.parse(frame[column]), name)
        if kind == "transformer":
            columns, _ = arg
            out = estimator.transform(frame[list(columns)])
            out = np.asarray(out.toarray() if hasattr(out, "toarray") else out, dtype=float)
            return np.asarray(out[:, 0] if out.ndim == 2 and out.shape[1] == 1 else out)
    raise ValueError(f"unknown derived feature kind {kind!r}")


def _numbers(series: pd.Series) -> np.ndarray:
    import numpy as np
    import pandas as pd

    return np.asarray(pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan), dtype=float)


def _finite(values: Any) -> np.ndarray:
    import numpy as np

    out = np.asarray(values, dtype=float)
    return np.where(np.isfinite(out), out, np.nan)


_BINARY = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "divide", "pow": "power"}
_UNARY = {"log": "log", "log1p": "log1p", "exp": "exp", "sqrt": "sqrt", "abs": "abs"}


def _evaluate(node: expr.Node, frame: pd.DataFrame, rows: int) -> Any:
    import numpy as np

    op = node[0]
    if op == "num":
        return np.full(rows, node[1], dtype=float)
    if op == "col":
        return _numbers(frame[str(node[1])])
    if op == "neg":
        return -_evaluate(node[1], frame, rows)  # type: ignore[arg-type]
    args = [_evaluate(a, frame, rows) for a in node[2 if op == "call" else 1:]]  # type: ignore[arg-type]
    if op in _BINARY:
        return getattr(np, _BINARY[op])(*args)
    name = str(node[1])
    if name in _UNARY:
        return getattr(np, _UNARY[name])(args[0])
    if name == "clip":
        return np.clip(args[0], args[1], args[2])
    if name in ("min", "max"):
        return (np.fmin if name == "min" else np.fmax)(args[0], args[1])
    raise ValueError(f"unknown operation {op!r}")
