"""Warnings about feature columns that will not help a model as they are typed: ids, dates typed as
categories, free text, and categorical columns with so many values that one-hot encoding them explodes.

Each warning names the column, the data source, where in the spec the column became a feature (its
``data.features`` entry, or the source when features are inferred) and the fix (``exclude: [col]``,
``datetime: [col]``). They are hints, not errors: the model still trains; the train stage logs them and keeps
them in the bundle's metadata (``warnings``) for reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlspec.runtime.features import looks_like_dates

if TYPE_CHECKING:
    import pandas as pd

    from mlspec.runtime.features import FeatureSet

MIN_ROWS = 20
"""Below this many rows, "unique per row" says nothing."""
MANY_CATEGORIES = 100
TEXT_LENGTH = 50
"""Mean characters per value above which a text column is free text rather than a category."""
UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class ColumnWarning:
    column: str
    message: str
    spec_path: tuple[str | int, ...]

    def as_json(self) -> dict[str, Any]:
        return {"column": self.column, "message": self.message, "spec_path": list(self.spec_path)}


def warnings(frame: pd.DataFrame, features: FeatureSet, source: str,
             declared: dict[str, tuple[str | int, ...]] | None = None) -> list[ColumnWarning]:
    """The warnings for ``features`` of ``frame``; ``declared`` maps a declared column to its spec path."""
    out = []
    for column in [*features.numeric, *features.categorical]:
        kind = "categorical" if column in features.categorical else "numeric"
        where = (declared or {}).get(column, ("data", "sources", source))
        problem = _problem(frame[column], kind)
        if problem is not None:
            out.append(ColumnWarning(column, f"column {column!r} of data source {source!r} {problem}", where))
    return out


def declared_paths(features: Any) -> dict[str, tuple[str | int, ...]]:
    """Column -> its ``data.features.<kind>[i]`` spec path, for a spec's declared features."""
    if features is None:
        return {}
    return {c: ("data", "features", kind, i) for kind in ("numeric", "categorical", "datetime")
            for i, c in enumerate(getattr(features, kind))}


def _problem(series: pd.Series, kind: str) -> str | None:
    import pandas as pd

    name = str(series.name)
    values = series.dropna()
    rows, distinct = len(values), int(values.nunique())
    integer = pd.api.types.is_integer_dtype(series.dtype)
    text = not pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
    exclude = f"add it to data.exclude (exclude: [{name}])"
    monotone = integer and (values.is_monotonic_increasing or values.is_monotonic_decreasing)
    # A numeric measurement may well be unique per row (incomes in cents); a sorted run of integers is not one.
    if rows >= MIN_ROWS and (monotone or ((text or integer) and kind == "categorical")) and distinct == rows:
        if monotone:
            why = "is a monotone integer unique per row"
        elif text and all(isinstance(v, str) and UUID.match(v) for v in values.iloc[:100]):
            why = "holds UUIDs"
        else:
            why = "is unique per row"
        return f"looks like an id ({why}): an id tells a model nothing about new rows; {exclude}"
    if kind != "categorical" or not text:
        return None
    if looks_like_dates(series):
        return (f"holds dates but is categorical, so each day becomes a category no future row has; declare it "
                f"with data.features.datetime: [{name}] (or {exclude})")
    lengths = values.astype(str).str.len()
    if rows and float(lengths.mean()) > TEXT_LENGTH:
        return (f"looks like free text (values of {float(lengths.mean()):.0f} characters on average, {distinct} "
                f"distinct): as a category it is useless; {exclude}, or derive features from it in a prepare step")
    if distinct > MANY_CATEGORIES:
        return (f"is categorical with {distinct} distinct values: one-hot encoding makes a column of each; "
                f"{exclude}, group rare values in a prepare step, or use preprocessing.categorical.encode: ordinal")
    return None
