"""The reference profile: what monitoring needs to know about a model's training data, without the data.

A ``train:<model>`` stage writes it into the bundle as ``reference.json``; it travels into the registry with
the model. Per feature:

* numeric: the row and null counts; the PSI bins (the reference's deciles, ``inverted_cdf`` so each edge is a
  value of the data, duplicates dropped) with the reference's count in each; and a quantile sketch for the KS
  test (:data:`SKETCH_POINTS` quantiles, or the sorted values themselves when there are fewer; see
  :mod:`mlspec.monitor.stats` for the error bound). Mean, standard deviation, min and max, for the report.
* categorical: the count of each category (at most :data:`MAX_CATEGORIES`, the rest counted together as
  ``other``, and the profile marked ``truncated``) and the nulls.

And the model's predictions on (up to :data:`PREDICTION_ROWS` rows of) the same data: predicted classes for a
classifier, predicted values for a regressor, profiled as a categorical or numeric feature.

Category values become strings one way everywhere (:func:`category_key`): ``1``, ``1.0`` and ``np.int64(1)``
are all ``"1"``, so a column that CSV parsing made float because of a null still matches its training codes.

The file is deterministic: sorted keys, fixed indentation, and floats either exactly as the data holds them
(edges, sketch) or rounded to :data:`SHOWN_DIGITS` significant digits (means and deviations, whose last bits
depend on the summation order): outputs are content-addressed (see :mod:`mlspec.runtime.context`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

FILE = "reference.json"
FORMAT = 1
PSI_QUANTILES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
SKETCH_POINTS = 1000
MAX_CATEGORIES = 1000
PREDICTION_ROWS = 100_000
SHOWN_DIGITS = 6
OTHER = "other"


def build(frame: pd.DataFrame, features: Sequence[tuple[str, str]], predictions: np.ndarray | None, task: str,
          source: str) -> dict[str, Any]:
    """The profile of ``frame``'s ``features`` (name, ``numeric`` or ``categorical``) and of the model's
    ``predictions`` on it (see :func:`predict_sample`)."""
    profile: dict[str, Any] = {
        "format": FORMAT,
        "source": source,
        "rows": len(frame),
        "features": {name: feature(frame[name], kind) for name, kind in features},
    }
    if predictions is not None:
        profile["prediction"] = prediction(predictions, task)
    return profile


def feature(series: pd.Series, kind: str) -> dict[str, Any]:
    if kind == "datetime":
        return {**dates(series), "dtype": str(series.dtype)}
    if kind == "numeric":
        values, _ = numeric_values(series)
        return {**numeric(values), "dtype": str(series.dtype)}
    counts, nulls = category_counts(series)
    return {**categorical(counts, nulls, len(series)), "dtype": str(series.dtype)}


def prediction(predictions: np.ndarray, task: str) -> dict[str, Any]:
    import pandas as pd

    if task == "regression":
        values, _ = numeric_values(pd.Series(predictions))
        return {"kind": "numeric", **numeric(values)}
    counts, nulls = category_counts(pd.Series(predictions))
    return {"kind": "categorical", **categorical(counts, nulls, len(predictions))}


def predict_sample(model: Any, frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """The model's predictions on ``frame``, or on a fixed random sample of :data:`PREDICTION_ROWS` of its
    rows (the same rows every time) when it is larger."""
    import numpy as np

    x = frame[list(columns)]
    if len(x) > PREDICTION_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(len(x), PREDICTION_ROWS, replace=False))
        x = x.iloc[rows]
    return np.asarray(model.predict(x))


# --- numeric ---------------------------------------------------------------------------------------------------


def numeric_values(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """The column as floats (non-finite values as NaN), and up to three values that are not numbers."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        bad: list[str] = []
    else:
        converted = pd.to_numeric(series, errors="coerce")
        failed = series[converted.isna() & series.notna()]
        bad = [str(v) for v in failed.unique()[:3]]
        values = converted.to_numpy(dtype=float, na_value=np.nan)
    # A new array, never a view of the frame's own; infinities count as missing, as they do for the model.
    return np.where(np.isfinite(values), values, np.nan), bad


def numeric(values: np.ndarray) -> dict[str, Any]:
    import numpy as np

    from mlspec.monitor.stats import bin_counts

    finite = values[~np.isnan(values)]
    n = len(finite)
    out: dict[str, Any] = {"kind": "numeric", "rows": len(values), "nulls": len(values) - n}
    if n == 0:
        return {**out, "edges": [], "counts": [], "sketch": [], "mean": None, "std": None, "min": None, "max": None}
    edges = np.unique(np.quantile(finite, PSI_QUANTILES, method="inverted_cdf"))
    m = min(n, SKETCH_POINTS)
    sketch = np.quantile(finite, (np.arange(m) + 0.5) / m, method="inverted_cdf")
    return {
        **out,
        "edges": [float(e) for e in edges],
        "counts": [int(c) for c in bin_counts(edges, finite)],
        "sketch": [float(q) for q in sketch],
        "mean": shown(float(np.mean(finite))),
        "std": shown(float(np.std(finite))),
        "min": float(np.min(finite)),
        "max": float(np.max(finite)),
    }


def shown(value: float) -> float | None:
    return float(f"{value:.{SHOWN_DIGITS}g}") if math.isfinite(value) else None


# --- datetime --------------------------------------------------------------------------------------------------


def dates(series: pd.Series) -> dict[str, Any]:
    """A datetime feature: its rows, nulls (and unparseable values) and range, for the report. It is left out of
    drift: time moves on, so recent dates always differ from the training ones; the model sees its parts, and
    drift in what they mean shows in the predictions' drift."""
    from mlspec.transform.dates import parse

    values = parse(series)
    present = values.dropna()
    span = [present.min().isoformat(), present.max().isoformat()] if len(present) else [None, None]
    return {"kind": "datetime", "rows": len(series), "nulls": int(values.isna().sum()), "min": span[0],
            "max": span[1]}


# --- categorical -----------------------------------------------------------------------------------------------


def category_key(value: Any) -> str:
    """One spelling per category value, whatever the column's dtype (see the module docstring)."""
    import numpy as np

    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 2**53 else repr(number)
    return str(value)


def category_counts(series: pd.Series) -> tuple[dict[str, int], int]:
    """Rows per category (by :func:`category_key`) and the number of nulls."""
    counts: dict[str, int] = {}
    # Counting raw values first and spelling only the distinct ones is what keeps this fast on big columns.
    for value, count in series.value_counts(dropna=True, sort=False).items():
        key = category_key(value)
        counts[key] = counts.get(key, 0) + int(count)
    return counts, int(series.isna().sum())


def categorical(counts: dict[str, int], nulls: int, rows: int) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "categorical", "rows": rows, "nulls": nulls, "truncated": False}
    if len(counts) > MAX_CATEGORIES:
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        kept = dict(ranked[:MAX_CATEGORIES])
        return {**out, "counts": kept, OTHER: sum(c for _, c in ranked[MAX_CATEGORIES:]), "truncated": True}
    return {**out, "counts": counts, OTHER: 0}


# --- the file --------------------------------------------------------------------------------------------------


def dumps(profile: dict[str, Any]) -> str:
    # allow_nan=False: a NaN that slipped through is a bug to hear about, not a file other tools cannot read.
    return json.dumps(profile, sort_keys=True, indent=1, allow_nan=False) + "\n"


def write(directory: Path, profile: dict[str, Any]) -> Path:
    path = directory / FILE
    path.write_text(dumps(profile), encoding="utf-8")
    return path


def read(path: Path) -> dict[str, Any]:
    from mlspec import jsonio
    from mlspec.errors import MlspecError

    try:
        data = jsonio.read(path)
    except FileNotFoundError:
        raise MlspecError(f"{path}: the model has no reference profile; it was trained by an mlspec that did not "
                          "save one: retrain it (`mlspec run --force train`) or set monitoring.reference") from None
    except (OSError, ValueError) as exc:
        raise MlspecError(f"{path}: unreadable reference profile ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise MlspecError(f"{path}: reference profile format {data.get('format') if isinstance(data, dict) else '?'}"
                          f" is not the one this mlspec reads ({FORMAT}); retrain the model")
    return data
